/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The TURN relay's settings (bildfunk/turn_conf.h): turn:HOST[:PORT] URLs,
 * --relay's words, the config directory's "turn" file (comments, blanks,
 * what the command line set first stays, unknown keys and long values
 * named by line), the completeness check, and the relay messages'
 * addresses to and from socket addresses.
 */
#include "testutil.h"

#include <bildfunk/turn_conf.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_url(void **state) {
  (void)state;
  char host[64];
  uint16_t port = 0;
  assert_int_equal(bf_turn_url_parse("turn:relay.example.org", host, sizeof host, &port), 0);
  assert_string_equal(host, "relay.example.org");
  assert_int_equal(port, 3478);
  assert_int_equal(bf_turn_url_parse("turn:192.0.2.1:5349", host, sizeof host, &port), 0);
  assert_string_equal(host, "192.0.2.1");
  assert_int_equal(port, 5349);
  assert_int_equal(bf_turn_url_parse("turn:[2001:db8::1]:3479", host, sizeof host, &port), 0);
  assert_string_equal(host, "2001:db8::1");
  assert_int_equal(port, 3479);
  assert_int_equal(bf_turn_url_parse("turn:[2001:db8::1]", host, sizeof host, &port), 0);
  assert_int_equal(port, 3478);
  static const char *const bad[] = {
      "relay.example.org",    "turns:h",    "turn:",   "turn:h:",   "turn:h:0",
      "turn:h:65536",         "turn:h:12x", "turn:[]", "turn:[::1", "turn:[::1]x",
      "turn:h?transport=udp", "stun:h",     "turn:h/x"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(bf_turn_url_parse(bad[i], host, sizeof host, &port), -EINVAL);
  assert_int_equal(bf_turn_url_parse("turn:a-much-too-long-name", host, 8, &port), -EINVAL);
}

static void test_mode(void **state) {
  (void)state;
  bf_relay_mode m;
  assert_int_equal(bf_relay_mode_parse("always", &m), 0);
  assert_int_equal(m, BF_RELAY_ALWAYS);
  assert_int_equal(bf_relay_mode_parse("never", &m), 0);
  assert_int_equal(m, BF_RELAY_NEVER);
  assert_int_equal(bf_relay_mode_parse("auto", &m), 0);
  assert_int_equal(m, BF_RELAY_AUTO);
  assert_int_equal(bf_relay_mode_parse("Always", &m), -EINVAL);
  assert_int_equal(bf_relay_mode_parse("", &m), -EINVAL);
  assert_string_equal(bf_relay_mode_name(BF_RELAY_NEVER), "never");
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void test_file(void **state) {
  (void)state;
  char dir[] = "/tmp/bf_turn_conf_XXXXXX", path[64], err[256];
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/turn", dir);
  bf_turn_conf c;
  /* the command line's values, one too long */
  char big[300];
  memset(big, 'y', sizeof big - 1);
  big[sizeof big - 1] = 0;
  assert_int_equal(bf_turn_conf_set(&c, NULL, NULL, big, NULL, err, sizeof err), -EINVAL);
  assert_non_null(strstr(err, "--turn-pass: longer than 255 bytes"));
  /* the command line set the user: the file's stays unused */
  assert_int_equal(bf_turn_conf_set(&c, NULL, "cli-user", NULL, NULL, err, sizeof err), 0);
  assert_int_equal(bf_turn_conf_read(path, &c, err, sizeof err), -ENOENT);
  write_file(path, "# relay\n\n  turn   turn:192.0.2.1  \nuser file-user\npass p w d\r\n");
  assert_int_equal(bf_turn_conf_read(path, &c, err, sizeof err), 0);
  assert_string_equal(c.server, "turn:192.0.2.1");
  assert_string_equal(c.user, "cli-user");
  assert_string_equal(c.pass, "p w d");
  assert_string_equal(c.secret, "");
  bf_channel_relay_config rc;
  char name[300];
  assert_int_equal(bf_turn_conf_resolve(&c, &rc, name, sizeof name, err, sizeof err), 0);
  assert_string_equal(name, "192.0.2.1:3478");
  assert_string_equal(rc.user, "cli-user");
  assert_null(rc.secret);
  /* a secret and a password contradict; a user without a password is not enough */
  snprintf(c.secret, sizeof c.secret, "s");
  assert_int_equal(bf_turn_conf_resolve(&c, &rc, name, sizeof name, err, sizeof err), -EINVAL);
  assert_non_null(strstr(err, "contradict"));
  memset(c.secret, 0, sizeof c.secret);
  memset(c.pass, 0, sizeof c.pass);
  assert_int_equal(bf_turn_conf_resolve(&c, &rc, name, sizeof name, err, sizeof err), -EINVAL);
  assert_non_null(strstr(err, "needs --turn-user and --turn-pass, or --turn-secret"));
  /* a REST secret alone */
  snprintf(c.secret, sizeof c.secret, "s");
  memset(c.user, 0, sizeof c.user);
  assert_int_equal(bf_turn_conf_resolve(&c, &rc, name, sizeof name, err, sizeof err), 0);
  assert_null(rc.user);
  assert_string_equal(rc.secret, "s");
  assert_true(rc.unix_time_s > 1600000000u);
  /* errors name the line */
  memset(&c, 0, sizeof c);
  write_file(path, "turn turn:h\nuser u\npassword x\n");
  assert_int_equal(bf_turn_conf_read(path, &c, err, sizeof err), -EINVAL);
  assert_non_null(strstr(err, "turn:3: unknown key 'password'"));
  write_file(path, "secret\n");
  assert_int_equal(bf_turn_conf_read(path, &c, err, sizeof err), -EINVAL);
  assert_non_null(strstr(err, "turn:1: secret without a value"));
  char longline[400];
  memset(longline, 'x', sizeof longline);
  memcpy(longline, "pass ", 5);
  longline[sizeof longline - 2] = '\n';
  longline[sizeof longline - 1] = 0;
  write_file(path, longline);
  assert_int_equal(bf_turn_conf_read(path, &c, err, sizeof err), -EINVAL);
  assert_non_null(strstr(err, "turn:1: pass longer than 255 bytes"));
  unlink(path);
  rmdir(dir);
}

static void test_addr(void **state) {
  (void)state;
  bf_addr a, b;
  bf_ctl_addr x;
  assert_int_equal(bf_addr_parse("192.0.2.7:49152", 0, &a), 0);
  bf_ctl_addr_from(&a, &x);
  assert_int_equal(x.family, 4);
  assert_int_equal(x.port, 49152);
  assert_memory_equal(x.ip, "\xc0\x00\x02\x07", 4);
  assert_int_equal(bf_ctl_addr_to(&x, &b), 0);
  assert_true(bf_addr_equal(&a, &b));
  assert_int_equal(bf_addr_parse("[2001:db8::5]:3478", 0, &a), 0);
  bf_ctl_addr_from(&a, &x);
  assert_int_equal(x.family, 6);
  assert_int_equal(bf_ctl_addr_to(&x, &b), 0);
  assert_true(bf_addr_equal(&a, &b));
  bf_ctl_addr_from(NULL, &x);
  assert_int_equal(x.family, 0);
  assert_int_equal(bf_ctl_addr_to(&x, &b), -EAFNOSUPPORT);
  x.family = 5;
  assert_int_equal(bf_ctl_addr_to(&x, &b), -EAFNOSUPPORT);
  /* a RelayOffer of a relay's status: encodes, decodes to the same */
  bf_channel_relay_status st;
  memset(&st, 0, sizeof st);
  assert_int_equal(bf_addr_parse("192.0.2.7:49152", 0, &st.relayed), 0);
  bf_ctl_msg m, back;
  bf_ctl_relay_offer(&m, &st, "relay.example.org:3478");
  assert_int_equal(m.type, BF_CTL_RELAY_OFFER);
  assert_int_equal(m.u.relay_offer.mapped.family, 0); /* not known: none */
  uint8_t buf[BF_CTL_MAX_ENCODED];
  int n = bf_ctl_encode(&m, buf, sizeof buf);
  assert_true(n > 0);
  assert_int_equal(bf_ctl_decode(buf[5], buf + 6, (size_t)n - 6, &back, NULL), 0);
  assert_int_equal(bf_ctl_addr_to(&back.u.relay_offer.relayed, &b), 0);
  assert_true(bf_addr_equal(&b, &st.relayed));
  assert_string_equal(back.u.relay_offer.server, "relay.example.org:3478");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_url),
      cmocka_unit_test(test_mode),
      cmocka_unit_test(test_file),
      cmocka_unit_test(test_addr),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
