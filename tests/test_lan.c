/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The LAN codecs (bildfunk/lan.h): the TXT record's exact bytes and round
 * trip, what the parser takes from other publishers (case, order, repeats,
 * unknown keys, booleans) and every malformed field with its name; the
 * magic packet's bytes and the MAC text helpers.
 */
#include "testutil.h"

#include <bildfunk/lan.h>

#include <errno.h>
#include <string.h>

static void test_txt_roundtrip(void **state) {
  (void)state;
  bf_lan_txt t = {.version = 1, .data_port = 47998}, out;
  strcpy(t.name, "Wohnzimmer-PC \xc3\xbc");
  strcpy(t.fp, "0123456789abcdef");
  uint8_t b[BF_LAN_TXT_MAX];
  const int n = bf_lan_txt_encode(&t, b, sizeof b);
  const char want[] = "\x03v=1\x08"
                      "dp=47998\x15name=Wohnzimmer-PC \xc3\xbc\x13"
                      "fp=0123456789abcdef";
  assert_int_equal(n, (int)sizeof want - 1);
  assert_memory_equal(b, want, sizeof want - 1);
  assert_int_equal(bf_lan_txt_parse(b, (size_t)n, &out, NULL), 0);
  assert_memory_equal(&out, &t, sizeof t);
  /* the longest record fits BF_LAN_TXT_MAX */
  memset(t.name, 'n', BF_LAN_MAX_NAME);
  t.name[BF_LAN_MAX_NAME] = 0;
  t.version = 65535;
  t.data_port = 65535;
  assert_true(bf_lan_txt_encode(&t, b, sizeof b) > 0);
  assert_int_equal(bf_lan_txt_encode(&t, b, 40), -ENOSPC);
  /* no fp, empty name */
  t.fp[0] = 0;
  t.name[0] = 0;
  assert_int_equal(bf_lan_txt_encode(&t, b, sizeof b), 8 + 9 + 6);
  assert_int_equal(bf_lan_txt_parse(b, 23, &out, NULL), 0);
  assert_string_equal(out.fp, "");
}

static void test_txt_encode_rejects(void **state) {
  (void)state;
  bf_lan_txt t = {.version = 1, .data_port = 1};
  uint8_t b[BF_LAN_TXT_MAX];
  t.version = 0;
  assert_int_equal(bf_lan_txt_encode(&t, b, sizeof b), -EINVAL);
  t.version = 1;
  t.data_port = 0;
  assert_int_equal(bf_lan_txt_encode(&t, b, sizeof b), -EINVAL);
  t.data_port = 5;
  strcpy(t.name, "bell\a");
  assert_int_equal(bf_lan_txt_encode(&t, b, sizeof b), -EINVAL);
  strcpy(t.name, "ok");
  strcpy(t.fp, "0123456"); /* 7 digits */
  assert_int_equal(bf_lan_txt_encode(&t, b, sizeof b), -EINVAL);
  strcpy(t.fp, "0123456g");
  assert_int_equal(bf_lan_txt_encode(&t, b, sizeof b), -EINVAL);
  strcpy(t.fp, "0123ABCD");
  assert_true(bf_lan_txt_encode(&t, b, sizeof b) > 0);
}

/* Parses |s| (|n| bytes): |rc| and, for errors, |why|. */
static void parse_is(const char *s, size_t n, int rc, const char *want_why, bf_lan_txt *t) {
  const char *why = NULL;
  assert_int_equal(bf_lan_txt_parse((const uint8_t *)s, n, t, &why), rc);
  assert_string_equal(why, want_why);
}
#define PARSE(lit, rc, why, t) parse_is(lit, sizeof lit - 1, rc, why, t)

static void test_txt_lenient(void **state) {
  (void)state;
  bf_lan_txt t;
  /* keys in any case and order, the first of a key counts, unknown keys,
   * booleans and empty strings are ignored, fp lower-cased */
  PARSE("\x04"
        "DP=9\x00\x05"
        "debug\x03V=1\x04"
        "dp=7\x0b"
        "FP=ABCDEF01\x05x=y=z\x05name=",
        0, "", &t);
  assert_int_equal(t.version, 1);
  assert_int_equal(t.data_port, 9);
  assert_string_equal(t.fp, "abcdef01");
  assert_string_equal(t.name, "");
  /* a later version's record: kept as it says (the caller decides) */
  PARSE("\x03v=2\x04"
        "dp=1",
        0, "", &t);
  assert_int_equal(t.version, 2);
  /* a bad value of a repeated key after the first is not looked at */
  PARSE("\x03v=1\x04"
        "dp=1\x04"
        "dp=x",
        0, "", &t);
}

static void test_txt_malformed(void **state) {
  (void)state;
  bf_lan_txt t;
  PARSE("", -EBADMSG, "txt: no v=", &t);
  PARSE("\x04"
        "dp=1",
        -EBADMSG, "txt: no v=", &t);
  PARSE("\x03v=1", -EBADMSG, "txt: no dp=", &t);
  PARSE("\x03v=1\x09"
        "dp=1",
        -EBADMSG, "txt: string runs past the record", &t);
  PARSE("\x03v=0", -EBADMSG, "txt: v= not 1..65535", &t);
  PARSE("\x02v=", -EBADMSG, "txt: v= not 1..65535", &t);
  PARSE("\x07v=65536", -EBADMSG, "txt: v= not 1..65535", &t);
  PARSE("\x0dv=99999999999", -EBADMSG, "txt: v= not 1..65535", &t);
  PARSE("\x03v=1\x04"
        "dp=-",
        -EBADMSG, "txt: dp= not 1..65535", &t);
  PARSE("\x03v=1\x04"
        "dp=0",
        -EBADMSG, "txt: dp= not 1..65535", &t);
  PARSE("\x03v=1\x0aname=a\x1b[2J", -EBADMSG, "txt: name= not printable UTF-8", &t);
  PARSE("\x03v=1\x07name=\xc2\x9b", -EBADMSG, "txt: name= not printable UTF-8", &t); /* C1 CSI */
  PARSE("\x03v=1\x06name=\xff", -EBADMSG, "txt: name= not printable UTF-8", &t);
  PARSE("\x03v=1\x09"
        "fp=abcdef",
        -EBADMSG, "txt: fp= not 8..16 hex digits", &t);
  PARSE("\x03v=1\x0b"
        "fp=abcdefgh",
        -EBADMSG, "txt: fp= not 8..16 hex digits", &t);
  char big[80] = "\x03v=1\x45name=";
  memset(big + 10, 'a', 64);
  parse_is(big, 74, -EBADMSG, "txt: name= longer than 63 bytes", &t);
  /* a NUL inside the name is not printable */
  PARSE("\x03v=1\x04"
        "dp=1\x06name=\x00",
        -EBADMSG, "txt: name= not printable UTF-8", &t);
  assert_int_equal(bf_lan_txt_parse(NULL, 3, &t, NULL), -EINVAL);
}

static void test_wake_packet(void **state) {
  (void)state;
  const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  uint8_t p[BF_WAKE_PACKET_BYTES];
  memset(p, 0x77, sizeof p);
  bf_wake_packet(mac, p);
  for (size_t i = 0; i < 6; i++)
    assert_int_equal(p[i], 0xff);
  for (size_t k = 0; k < 16; k++)
    assert_memory_equal(p + 6 + 6 * k, mac, 6);
  assert_true(bf_mac_usable(mac));
  const uint8_t zero[6] = {0}, group[6] = {0x01, 0, 0x5e, 0, 0, 1},
                bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  assert_false(bf_mac_usable(zero));
  assert_false(bf_mac_usable(group));
  assert_false(bf_mac_usable(bcast));
}

static void test_mac_text(void **state) {
  (void)state;
  uint8_t m[6];
  char s[BF_MAC_TEXT];
  assert_int_equal(bf_mac_parse("52:54:00:Ab:cD:ef", m), 0);
  bf_mac_format(m, s);
  assert_string_equal(s, "52:54:00:ab:cd:ef");
  assert_int_equal(bf_mac_parse("52-54-00-ab-cd-ef", m), 0);
  assert_int_equal(m[5], 0xef);
  assert_int_equal(bf_mac_parse("52:54-00:ab:cd:ef", m), -EINVAL);
  assert_int_equal(bf_mac_parse("52:54:00:ab:cd:e", m), -EINVAL);
  assert_int_equal(bf_mac_parse("52:54:00:ab:cd:eff", m), -EINVAL);
  assert_int_equal(bf_mac_parse("52:54:00:ab:cd:eg", m), -EINVAL);
  assert_int_equal(bf_mac_parse("525400abcdef", m), -EINVAL);
  assert_int_equal(bf_mac_parse(NULL, m), -EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_txt_roundtrip), cmocka_unit_test(test_txt_encode_rejects),
      cmocka_unit_test(test_txt_lenient),   cmocka_unit_test(test_txt_malformed),
      cmocka_unit_test(test_wake_packet),   cmocka_unit_test(test_mac_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
