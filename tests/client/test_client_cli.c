/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bildfunk's command line: every option, both value spellings, defaults,
 * help/version, and the errors a user can make.
 */
#include "testutil.h"

#include "client_cli.h"

#include <errno.h>
#include <string.h>

static int parse(bf_cli *c, char *err, const char *a0, ...) {
  char *argv[32];
  int argc = 0;
  argv[argc++] = (char *)"bildfunk";
  va_list ap;
  va_start(ap, a0);
  for (const char *a = a0; a; a = va_arg(ap, const char *))
    argv[argc++] = (char *)a;
  va_end(ap);
  err[0] = 0;
  return bf_cli_parse(argc, argv, c, err, 256);
}

static void test_defaults_and_all_options(void **state) {
  (void)state;
  bf_cli c;
  char err[256];
  assert_int_equal(parse(&c, err, "--direct", "10.0.0.2", NULL), 0);
  assert_int_equal(c.action, BF_CLI_RUN);
  assert_string_equal(c.direct, "10.0.0.2");
  assert_int_equal(c.overlay, BF_OVERLAY_OFF);
  assert_int_equal(c.decoder, BF_HWDEC_AUTO);
  assert_int_equal(c.codec, BF_CODEC_UNKNOWN);
  assert_int_equal(c.max_k, 128);
  assert_true(c.timeout_s == 2.0);
  assert_int_equal(c.headless | c.vsync | c.fullscreen | c.wait, 0);

  assert_int_equal(parse(&c, err, "--direct=h:5000", "--bind", "0.0.0.0:6000", "--headless",
                         "--frames", "30", "--duration=2.5", "--stats-json", "s.json", "--framemd5",
                         "-", "--overlay=detailed", "--font", "builtin", "--codec", "h265",
                         "--decoder", "software", "--threads", "3", "--wait", "--timeout", "0.5",
                         "--max-k", "64", "--debug-decode-delay", "40", "-v", NULL),
                   0);
  assert_string_equal(c.direct, "h:5000");
  assert_string_equal(c.bind, "0.0.0.0:6000");
  assert_int_equal(c.headless, 1);
  assert_int_equal(c.frames, 30);
  assert_true(c.duration_s == 2.5);
  assert_string_equal(c.stats_json, "s.json");
  assert_string_equal(c.framemd5, "-");
  assert_int_equal(c.overlay, BF_OVERLAY_DETAILED);
  assert_int_equal(c.font, BF_FONT_BUILTIN);
  assert_int_equal(c.codec, BF_CODEC_HEVC);
  assert_int_equal(c.decoder, BF_HWDEC_SOFTWARE);
  assert_int_equal(c.threads, 3);
  assert_int_equal(c.wait, 1);
  assert_true(c.timeout_s == 0.5);
  assert_int_equal(c.max_k, 64);
  assert_int_equal(c.debug_decode_delay_ms, 40);
  assert_int_equal(c.verbose, 1);

  assert_int_equal(parse(&c, err, "--direct", "h", "--fullscreen", "--borderless", "--vsync",
                         "--size", "640x360", "--overlay", "compact", "--decoder", "vaapi",
                         "--codec", "av1", "-q", NULL),
                   0);
  assert_int_equal(c.fullscreen & c.borderless & c.vsync & c.quiet, 1);
  assert_int_equal(c.width, 640);
  assert_int_equal(c.height, 360);
  assert_int_equal(c.overlay, BF_OVERLAY_COMPACT);
  assert_int_equal(c.decoder, BF_HWDEC_VAAPI);
  assert_int_equal(c.codec, BF_CODEC_AV1);
  assert_null(c.report);
  assert_int_equal(c.wait, 0);

  /* --reconnect is --wait under the name; --report takes a file */
  assert_int_equal(parse(&c, err, "--direct", "h", "--reconnect", "--report", "r.html", NULL), 0);
  assert_int_equal(c.wait, 1);
  assert_string_equal(c.report, "r.html");
  assert_int_equal(parse(&c, err, "--direct", "h", "--report", NULL), -EINVAL);
}

/* issue #6: `bildfunk HOST`, `bildfunk pair HOST` and their options */
static void test_control_mode(void **state) {
  (void)state;
  bf_cli c;
  char err[256];
  assert_int_equal(parse(&c, err, "Box.lan", NULL), 0);
  assert_string_equal(c.target, "Box.lan");
  assert_null(c.direct);
  assert_int_equal(c.pair, 0);
  assert_null(c.config_dir);
  assert_null(c.name);
  assert_int_equal(c.max_width, 0);

  /* options before and after the host; IPv6 in brackets with a port */
  assert_int_equal(parse(&c, err, "--headless", "[::1]:48000", "--config-dir", "/tmp/cfg",
                         "--name=living room", "--max-size", "1920x1080", NULL),
                   0);
  assert_string_equal(c.target, "[::1]:48000");
  assert_string_equal(c.config_dir, "/tmp/cfg");
  assert_string_equal(c.name, "living room");
  assert_int_equal(c.max_width, 1920);
  assert_int_equal(c.max_height, 1080);
  assert_int_equal(c.headless, 1);

  /* the pair subcommand; a host called "pair" after it */
  assert_int_equal(parse(&c, err, "pair", "10.0.0.2:47999", NULL), 0);
  assert_int_equal(c.pair, 1);
  assert_string_equal(c.target, "10.0.0.2:47999");
  assert_int_equal(parse(&c, err, "--config-dir", "d", "pair", "pair", NULL), 0);
  assert_int_equal(c.pair, 1);
  assert_string_equal(c.target, "pair");
  /* "pair" after the host is a second host */
  assert_int_equal(parse(&c, err, "h", "pair", NULL), -EINVAL);

  /* a host longer than any option name (it was "unknown option" past 31) */
  const char *longhost = "gaming-desktop-in-the-living-room.home.example.net:47999";
  assert_int_equal(parse(&c, err, "--headless", longhost, NULL), 0);
  assert_string_equal(c.target, longhost);
  assert_int_equal(parse(&c, err, "pair", longhost, NULL), 0);
  assert_string_equal(c.target, longhost);
  /* while an unknown long option is still one */
  assert_int_equal(parse(&c, err, "--an-option-name-longer-than-the-buffer", "h", NULL), -EINVAL);
  assert_non_null(strstr(err, "unknown option"));

  /* --direct is unchanged */
  assert_int_equal(parse(&c, err, "--direct", "h:5000", NULL), 0);
  assert_null(c.target);
  assert_string_equal(c.direct, "h:5000");
}

/* --data-via HOST:PORT: the control session's data plane through a relay
 * (bildfunk-netsim); the form is checked, the name is not looked up here */
static void test_data_via(void **state) {
  (void)state;
  bf_cli c;
  char err[256];
  assert_int_equal(parse(&c, err, "h", NULL), 0);
  assert_null(c.data_via);
  assert_int_equal(parse(&c, err, "127.0.0.1:47999", "--data-via", "127.0.0.1:40000", NULL), 0);
  assert_string_equal(c.target, "127.0.0.1:47999");
  assert_string_equal(c.data_via, "127.0.0.1:40000");
  assert_null(c.direct);
  assert_int_equal(parse(&c, err, "--data-via=relay.lan:65535", "h", NULL), 0);
  assert_string_equal(c.data_via, "relay.lan:65535");
  assert_int_equal(parse(&c, err, "h", "--data-via", "[::1]:1", NULL), 0);
  assert_string_equal(c.data_via, "[::1]:1");

  /* a relay has its own port: no default; a bare IPv6 address is ambiguous */
  const char *bad[] = {"relay", "relay:", "relay:0", "relay:65536", ":5000", "relay:5x",
                       "relay:-1", "::1:5000", "[::1]", "[]:5000", "", NULL};
  for (int i = 0; bad[i]; i++) {
    assert_int_equal(parse(&c, err, "h", "--data-via", bad[i], NULL), -EINVAL);
    if (!strstr(err, "--data-via") || !strstr(err, "HOST:PORT"))
      fail_msg("'%s': error '%s'", bad[i], err);
  }
  /* direct mode takes the address it streams from: --direct RELAY */
  assert_int_equal(parse(&c, err, "--direct", "h:5000", "--data-via", "r:6000", NULL), -EINVAL);
  assert_non_null(strstr(err, "--data-via is for a control session"));
  assert_int_equal(parse(&c, err, "--data-via", "r:6000", "--direct", "h", NULL), -EINVAL);
  assert_non_null(strstr(err, "--data-via is for a control session"));
  /* pair does not stream */
  assert_int_equal(parse(&c, err, "pair", "h", "--data-via", "r:6000", NULL), -EINVAL);
  assert_non_null(strstr(err, "pair does not stream"));
  assert_int_equal(parse(&c, err, "h", "--data-via", NULL), -EINVAL);
  assert_non_null(strstr(err, "needs a value"));
}

static void test_help_version(void **state) {
  (void)state;
  bf_cli c;
  char err[256];
  assert_int_equal(parse(&c, err, "--help", NULL), 0);
  assert_int_equal(c.action, BF_CLI_HELP);
  assert_int_equal(parse(&c, err, "-V", NULL), 0);
  assert_int_equal(c.action, BF_CLI_VERSION);
  /* help wins even after other options, without --direct */
  assert_int_equal(parse(&c, err, "--frames", "3", "-h", NULL), 0);
  assert_int_equal(c.action, BF_CLI_HELP);
  FILE *f = tmpfile();
  assert_non_null(f);
  bf_cli_usage(f);
  assert_true(ftell(f) > 500);
  fclose(f);
}

/* No HOST and no --direct: the window asks for the sender (a missing
 * display is the usage error at run time); --headless cannot ask. */
static void test_ask_sender(void **state) {
  (void)state;
  bf_cli c;
  char err[256];
  assert_int_equal(parse(&c, err, NULL), 0);
  assert_int_equal(c.ask_sender, 1);
  assert_null(c.target);
  assert_null(c.direct);
  assert_int_equal(parse(&c, err, "--config-dir", "/tmp/x", "--no-wait-on-error", NULL), 0);
  assert_int_equal(c.ask_sender, 1);
  assert_int_equal(c.no_wait_on_error, 1);
  assert_string_equal(c.config_dir, "/tmp/x");
  assert_int_equal(parse(&c, err, "h", NULL), 0);
  assert_int_equal(c.ask_sender, 0);
  assert_int_equal(c.no_wait_on_error, 0);
  assert_int_equal(parse(&c, err, "--direct", "h", NULL), 0);
  assert_int_equal(c.ask_sender, 0);
  assert_int_equal(parse(&c, err, "--no-wait-on-error=1", "h", NULL), -EINVAL);
}

static void expect_error(const char *needle, const char *a0, ...) {
  char *argv[32];
  int argc = 0;
  argv[argc++] = (char *)"bildfunk";
  va_list ap;
  va_start(ap, a0);
  for (const char *a = a0; a; a = va_arg(ap, const char *))
    argv[argc++] = (char *)a;
  va_end(ap);
  bf_cli c;
  char err[256] = "";
  assert_int_equal(bf_cli_parse(argc, argv, &c, err, sizeof err), -EINVAL);
  if (!strstr(err, needle)) fail_msg("error '%s' does not mention '%s'", err, needle);
}

/* `bildfunk list` and `bildfunk unpair HOST` (issue #17): words before a
 * HOST, not host names; only --config-dir, -v and -q go with them. */
static void test_list_unpair(void **state) {
  (void)state;
  bf_cli c;
  char err[256];
  assert_int_equal(parse(&c, err, "list", NULL), 0);
  assert_int_equal(c.action, BF_CLI_LIST);
  assert_null(c.target);
  assert_int_equal(parse(&c, err, "list", "--config-dir", "/x", "-v", NULL), 0);
  assert_string_equal(c.config_dir, "/x");
  assert_int_equal(parse(&c, err, "unpair", "Box:5000", "--config-dir=/y", NULL), 0);
  assert_int_equal(c.action, BF_CLI_UNPAIR);
  assert_string_equal(c.target, "Box:5000");
  /* list:PORT, or list after a HOST, is a host */
  assert_int_equal(parse(&c, err, "list:47999", "--headless", NULL), 0);
  assert_int_equal(c.action, BF_CLI_RUN);
  assert_string_equal(c.target, "list:47999");
  assert_int_equal(parse(&c, err, "pair", "list", NULL), 0);
  assert_int_equal(c.action, BF_CLI_RUN);
  assert_string_equal(c.target, "list");
  assert_int_equal(parse(&c, err, "unpair", NULL), -EINVAL);
  assert_non_null(strstr(err, "bildfunk unpair HOST"));
  assert_int_equal(parse(&c, err, "list", "box", NULL), -EINVAL);
  assert_non_null(strstr(err, "list takes no HOST"));
  assert_int_equal(parse(&c, err, "list", "--overlay", "normal", NULL), -EINVAL);
  assert_non_null(strstr(err, "not --overlay"));
  assert_int_equal(parse(&c, err, "unpair", "box", "--direct", "h", NULL), -EINVAL);
  assert_int_equal(parse(&c, err, "list", "--help", NULL), 0);
  assert_int_equal(c.action, BF_CLI_HELP);
}

/* The LAN half of issue #18: `bildfunk wake HOST`, `bildfunk HOST --wake`,
 * `bildfunk list --browse S`. */
static void test_wake_browse(void **state) {
  (void)state;
  bf_cli c;
  char err[256];
  assert_int_equal(parse(&c, err, "list", NULL), 0);
  assert_true(c.browse_s == 2.0);
  assert_int_equal(parse(&c, err, "list", "--browse", "0", NULL), 0);
  assert_true(c.browse_s == 0.0);
  assert_int_equal(parse(&c, err, "list", "--browse=0.5", "--config-dir", "/x", NULL), 0);
  assert_true(c.browse_s == 0.5);
  assert_int_equal(parse(&c, err, "wake", "Box:5000", "--config-dir", "/y", NULL), 0);
  assert_int_equal(c.action, BF_CLI_WAKE);
  assert_string_equal(c.target, "Box:5000");
  assert_int_equal(parse(&c, err, "box", "--wake", "--headless", NULL), 0);
  assert_int_equal(c.action, BF_CLI_RUN);
  assert_true(c.wake);
  /* wake:PORT is a host */
  assert_int_equal(parse(&c, err, "wake:47999", "--headless", NULL), 0);
  assert_int_equal(c.action, BF_CLI_RUN);
  assert_int_equal(parse(&c, err, "wake", NULL), -EINVAL);
  assert_non_null(strstr(err, "bildfunk wake HOST"));
  assert_int_equal(parse(&c, err, "wake", "box", "--headless", NULL), -EINVAL);
  assert_non_null(strstr(err, "not --headless"));
  assert_int_equal(parse(&c, err, "wake", "box", "--browse", "1", NULL), -EINVAL);
  assert_non_null(strstr(err, "--browse is for list"));
  assert_int_equal(parse(&c, err, "box", "--browse", "1", NULL), -EINVAL);
  assert_non_null(strstr(err, "--browse is for bildfunk list"));
  assert_int_equal(parse(&c, err, "list", "--browse", "61", NULL), -EINVAL);
  assert_non_null(strstr(err, "0..60"));
  assert_int_equal(parse(&c, err, "list", "--browse", "-1", NULL), -EINVAL);
  assert_int_equal(parse(&c, err, "list", "--browse", "nan", NULL), -EINVAL);
  assert_int_equal(parse(&c, err, "list", "--wake", NULL), -EINVAL);
  assert_int_equal(parse(&c, err, "--direct", "h", "--wake", NULL), -EINVAL);
  assert_non_null(strstr(err, "--wake needs HOST"));
  assert_int_equal(parse(&c, err, "pair", "h", "--wake", NULL), -EINVAL);
}

static void test_errors(void **state) {
  (void)state;
  expect_error("--direct", "--headless", NULL);
  expect_error("--direct", "--headless", "--config-dir", "d", NULL);
  expect_error("--seal-key-file is for --direct", "--seal-key-file", "k", NULL);
  expect_error("only one sender", "somehost", "otherhost", NULL);
  expect_error("not both", "somehost", "--direct", "h", NULL);
  expect_error("bildfunk pair HOST", "pair", NULL);
  expect_error("not --direct", "pair", "--direct", "h", NULL);
  expect_error("--max-size", "h", "--max-size", "7680", NULL);
  expect_error("--max-size", "h", "--max-size", "99999x100", NULL);
  expect_error("--name", "h", "--name", "", NULL);
  expect_error("--name", "h", "--name", "a\tb", NULL);
  /* the wire takes printable UTF-8 only: Latin-1, a C1 control, a cut sequence */
  expect_error("--name", "h", "--name", "caf\xe9", NULL);
  expect_error("--name", "h", "--name", "a\xc2\x9b[1m", NULL);
  expect_error("--name", "h", "--name", "ab\xe2\x82", NULL);
  expect_error("--name", "h", "--name",
               "12345678901234567890123456789012345678901234567890123456789012345", NULL);
  expect_error("control session", "--direct", "h", "--config-dir", "/tmp/x", NULL);
  expect_error("--seal-key-file is for --direct", "h", "--seal-key-file", "k", NULL);
  expect_error("an empty HOST", "", NULL);
  expect_error("unknown option '--bogus'", "--direct", "h", "--bogus", NULL);
  expect_error("needs a value", "--direct", NULL);
  expect_error("takes no value", "--direct", "h", "--headless=1", NULL);
  expect_error("--frames", "--direct", "h", "--frames", "0", NULL);
  expect_error("--frames", "--direct", "h", "--frames", "-3", NULL);
  expect_error("--frames", "--direct", "h", "--frames", "12x", NULL);
  expect_error("--duration", "--direct", "h", "--duration", "0", NULL);
  expect_error("--duration", "--direct", "h", "--duration", "nan", NULL);
  expect_error("--overlay", "--direct", "h", "--overlay", "max", NULL);
  expect_error("--codec", "--direct", "h", "--codec", "vp9", NULL);
  expect_error("--decoder", "--direct", "h", "--decoder", "gpu", NULL);
  expect_error("--threads", "--direct", "h", "--threads", "65", NULL);
  expect_error("--size", "--direct", "h", "--size", "640", NULL);
  expect_error("--size", "--direct", "h", "--size", "8x8", NULL);
  expect_error("--max-k", "--direct", "h", "--max-k", "254", NULL);
  expect_error("--font", "--direct", "h", "--font", "comic", NULL);
  expect_error("--headless", "--direct", "h", "--headless", "--vsync", NULL);
  expect_error("contradict", "--direct", "h", "-q", "-v", NULL);
  expect_error("--mouse", "h", "--mouse", "raw", NULL);
  expect_error("need input", "h", "--mouse", "relative", "--headless", NULL);
  expect_error("need input", "--direct", "h", "--capture-system-keys", NULL);
  expect_error("need input", "h", "--virtual-pad", "p.txt", "--no-input", NULL);
  expect_error("--virtual-pad", "h", "--virtual-pad", "", NULL);
}

static void test_input_options(void **state) {
  (void)state;
  bf_cli c;
  char err[256];
  assert_int_equal(parse(&c, err, "h", NULL), 0);
  assert_int_equal(c.mouse_relative | c.capture_system_keys | c.no_input, 0);
  assert_null(c.virtual_pad);
  assert_int_equal(parse(&c, err, "h", "--mouse", "relative", "--capture-system-keys",
                         "--virtual-pad=pad.txt", NULL),
                   0);
  assert_int_equal(c.mouse_relative, 1);
  assert_int_equal(c.capture_system_keys, 1);
  assert_string_equal(c.virtual_pad, "pad.txt");
  assert_int_equal(parse(&c, err, "h", "--mouse=absolute", "--no-input", NULL), 0);
  assert_int_equal(c.mouse_relative, 0);
  assert_int_equal(c.no_input, 1);
  /* --no-input with --headless or --direct: nothing to say against it */
  assert_int_equal(parse(&c, err, "--direct", "h", "--no-input", "--headless", NULL), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults_and_all_options),
      cmocka_unit_test(test_control_mode),
      cmocka_unit_test(test_data_via),
      cmocka_unit_test(test_help_version),
      cmocka_unit_test(test_ask_sender),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_list_unpair),
      cmocka_unit_test(test_wake_browse),
      cmocka_unit_test(test_input_options),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
