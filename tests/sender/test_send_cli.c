/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bildfunk-send command line: defaults, every option in both spellings, the
 * listen address forms, rates and frame rates, and a clear refusal of each
 * kind of bad input.
 */
#include "testutil.h"

#include "send_cli.h"

#include <bildfunk/inputlink.h>

#include <errno.h>
#include <string.h>

static char err[256];

static int parse(bf_send_options *o, int argc, const char **argv) {
  bf_send_options_default(o);
  err[0] = 0;
  return bf_send_options_parse(argc, (char **)argv, o, err, sizeof err);
}

/* parse(o, "--opt", "value", ...) with the program name in front */
#define ARGV(...) ((const char *[]){"bildfunk-send", __VA_ARGS__})
#define PARSE(o, ...)                                                                              \
  parse(o, (int)(sizeof ARGV(__VA_ARGS__) / sizeof(const char *)), ARGV(__VA_ARGS__))

static void test_defaults(void **state) {
  (void)state;
  bf_send_options o;
  const char *argv[] = {"bildfunk-send"};
  assert_int_equal(parse(&o, 1, argv), BF_CLI_RUN);
  assert_string_equal(o.listen, "0.0.0.0:47998");
  assert_int_equal(o.source, BF_SOURCE_TESTSRC);
  assert_int_equal(o.codec, BF_CODEC_H264);
  assert_int_equal(o.loop, 1);
  assert_int_equal(o.gso, 1);
  assert_int_equal(o.fec_percent, 10);
  assert_int_equal(o.fec_auto, 1);
  assert_int_equal(o.rate_control, 1);
  assert_int_equal(o.intra_refresh, 0);
  assert_int_equal(o.shard_bytes, 1408);
  assert_int_equal(o.max_k, 128);
  assert_int_equal(o.rate_cap_bps, 800000000ull);
  assert_int_equal(o.gop, 0);
  assert_int_equal(o.frames, 0);
  assert_int_equal(o.silence_ns, 10000000000ull);
  assert_null(o.encoder);
  assert_null(o.allow);
  assert_null(o.seal_key_file);
  /* control mode is the default */
  assert_int_equal(o.direct, 0);
  assert_string_equal(o.control, "0.0.0.0:47999");
  assert_null(o.config_dir);
  assert_int_equal(o.list_clients, 0);
  assert_null(o.revoke);
  assert_int_equal(o.no_pairing, 0);
  assert_int_equal(o.pair_timeout_ns, 60000000000ull);
}

static void test_control_options(void **state) {
  (void)state;
  bf_send_options o;
  assert_int_equal(PARSE(&o, "--control", "127.0.0.1:0", "--config-dir", "/tmp/cfg", "--no-pairing",
                         "--pair-timeout", "2.5"),
                   BF_CLI_RUN);
  assert_string_equal(o.control, "127.0.0.1:0");
  assert_string_equal(o.config_dir, "/tmp/cfg");
  assert_int_equal(o.no_pairing, 1);
  assert_int_equal(o.pair_timeout_ns, 2500000000ull);
  assert_int_equal(o.direct, 0);
  /* the same short forms as --listen */
  assert_int_equal(PARSE(&o, "--control", "5000"), BF_CLI_RUN);
  assert_string_equal(o.control, "0.0.0.0:5000");
  assert_int_equal(PARSE(&o, "--control=:6000"), BF_CLI_RUN);
  assert_string_equal(o.control, "0.0.0.0:6000");
  assert_int_equal(PARSE(&o, "--list-clients"), BF_CLI_RUN);
  assert_int_equal(o.list_clients, 1);
  assert_int_equal(PARSE(&o, "--revoke", "laptop", "--config-dir=d"), BF_CLI_RUN);
  assert_string_equal(o.revoke, "laptop");
  assert_string_equal(o.config_dir, "d");
  assert_int_equal(PARSE(&o, "--direct"), BF_CLI_RUN);
  assert_int_equal(o.direct, 1);
  assert_int_equal(o.no_publish, 0);
  assert_null(o.lan_name);
  assert_int_equal(PARSE(&o, "--no-publish"), BF_CLI_RUN);
  assert_int_equal(o.no_publish, 1);
  assert_int_equal(PARSE(&o, "--lan-name", "Wohnzimmer \xc3\xbc"), BF_CLI_RUN);
  assert_string_equal(o.lan_name, "Wohnzimmer \xc3\xbc");
  /* direct-mode options need --direct; control-mode ones refuse it */
  static const struct {
    const char *a, *b, *c, *want;
  } bad[] = {
      {"--seal-key-file", "k", "--listen=1", "--seal-key-file is for direct mode"},
      {"--allow", "10.0.0.1", "--listen=1", "--allow is for direct mode"},
      {"--control", "1234", "--direct", "--control and --direct exclude each other"},
      {"--direct", "--no-pairing", "--listen=1", "--no-pairing is for control mode"},
      {"--list-clients", "--revoke", "x", "one at a time"},
      {"--control", "1.2.3.4:70000", "--quiet", "--control: bad address"},
      {"--control", "", "--quiet", "--control: bad address"},
      {"--pair-timeout", "0", "--quiet", "--pair-timeout: bad seconds"},
      {"--pair-timeout", "7200", "--quiet", "--pair-timeout: bad seconds"},
      {"--config-dir", "", "--quiet", "--config-dir: empty path"},
      {"--revoke", "", "--quiet", "--revoke: empty name"},
      /* LAN discovery (issue #18) */
      {"--direct", "--no-publish", "--listen=1", "--no-publish and --lan-name are for control"},
      {"--direct", "--lan-name", "x", "--no-publish and --lan-name are for control"},
      {"--no-publish", "--lan-name", "x", "--no-publish and --lan-name contradict"},
      {"--lan-name", "", "--quiet", "--lan-name: 1..63 bytes"},
      {"--lan-name", "a\x1b[2J", "--quiet", "--lan-name: 1..63 bytes of printable UTF-8"},
      {"--lan-name", "0123456789012345678901234567890123456789012345678901234567890123", "--quiet",
       "--lan-name: 1..63"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char *argv[] = {"bildfunk-send", bad[i].a, bad[i].b, bad[i].c};
    assert_int_equal(parse(&o, 4, argv), -EINVAL);
    if (!strstr(err, bad[i].want)) fail_msg("%s %s %s: '%s'", bad[i].a, bad[i].b, bad[i].c, err);
  }
}

static void test_everything(void **state) {
  (void)state;
  bf_send_options o;
  assert_int_equal(PARSE(&o, "--listen", "127.0.0.1:5000", "--allow", "10.0.0.1", "--source",
                         "file:/tmp/a b.mp4", "--no-loop", "--codec", "av1", "--encoder",
                         "libsvtav1", "--preset", "10", "--size", "640x360", "--fps", "30000/1001",
                         "--bitrate", "2.5M", "--gop", "120", "--slices", "4", "--fec", "25",
                         "--shard", "1200", "--max-k", "64", "--rate-cap", "300M", "--pace-spread",
                         "50", "--burst", "16", "--no-gso", "--frames", "99", "--duration", "1.5",
                         "--silence", "3", "--stats-json", "s.json", "--dump-au", "d.obu",
                         "--quiet", "--verbose", "--intra-refresh", "--seal-key-file", "k.hex",
                         "--direct"),
                   BF_CLI_RUN);
  assert_string_equal(o.listen, "127.0.0.1:5000");
  assert_string_equal(o.allow, "10.0.0.1");
  assert_string_equal(o.seal_key_file, "k.hex");
  assert_int_equal(o.source, BF_SOURCE_FILE);
  assert_string_equal(o.source_arg, "/tmp/a b.mp4");
  assert_int_equal(o.loop, 0);
  assert_int_equal(o.codec, BF_CODEC_AV1);
  assert_string_equal(o.encoder, "libsvtav1");
  assert_string_equal(o.preset, "10");
  assert_int_equal(o.width, 640);
  assert_int_equal(o.height, 360);
  assert_int_equal(o.fps_num, 30000);
  assert_int_equal(o.fps_den, 1001);
  assert_int_equal(o.bitrate, 2500000);
  assert_int_equal(o.gop, 120);
  assert_int_equal(o.slices, 4);
  assert_int_equal(o.fec_percent, 25);
  assert_int_equal(o.fec_auto, 0); /* a number pins it */
  assert_int_equal(o.intra_refresh, 1);
  assert_int_equal(o.shard_bytes, 1200);
  assert_int_equal(o.max_k, 64);
  assert_int_equal(o.rate_cap_bps, 300000000ull);
  assert_int_equal(o.spread_permille, 500);
  assert_int_equal(o.burst, 16);
  assert_int_equal(o.gso, 0);
  assert_int_equal(o.frames, 99);
  assert_int_equal(o.duration_ns, 1500000000ull);
  assert_int_equal(o.silence_ns, 3000000000ull);
  assert_string_equal(o.stats_json, "s.json");
  assert_string_equal(o.dump_au, "d.obu");
  assert_true(o.quiet && o.verbose);
  /* --opt=value works too */
  assert_int_equal(PARSE(&o, "--codec=hevc", "--fps=59.94", "--source=x11::3"), BF_CLI_RUN);
  assert_int_equal(o.codec, BF_CODEC_HEVC);
  assert_int_equal(o.fps_num, 59940);
  assert_int_equal(o.fps_den, 1000);
  assert_int_equal(o.source, BF_SOURCE_X11);
  assert_string_equal(o.source_arg, ":3");
  assert_int_equal(PARSE(&o, "--source", "x11"), BF_CLI_RUN);
  assert_int_equal(o.source, BF_SOURCE_X11);
  assert_null(o.source_arg);
}

static void test_listen_forms(void **state) {
  (void)state;
  bf_send_options o;
  assert_int_equal(PARSE(&o, "--listen", "5000"), BF_CLI_RUN);
  assert_string_equal(o.listen, "0.0.0.0:5000");
  assert_int_equal(PARSE(&o, "--listen", ":6000"), BF_CLI_RUN);
  assert_string_equal(o.listen, "0.0.0.0:6000");
  assert_int_equal(PARSE(&o, "--listen", "[::1]:7000"), BF_CLI_RUN);
  assert_string_equal(o.listen, "[::1]:7000");
  assert_int_equal(PARSE(&o, "--listen", "70000"), -EINVAL);
  assert_non_null(strstr(err, "--listen"));
  assert_int_equal(PARSE(&o, "--listen", ":x"), -EINVAL);
}

static void test_rates(void **state) {
  (void)state;
  uint64_t v;
  assert_int_equal(bf_parse_bitrate("20M", &v), 0);
  assert_int_equal(v, 20000000);
  assert_int_equal(bf_parse_bitrate("8000k", &v), 0);
  assert_int_equal(v, 8000000);
  assert_int_equal(bf_parse_bitrate("1G", &v), 0);
  assert_int_equal(v, 1000000000);
  assert_int_equal(bf_parse_bitrate("123456", &v), 0);
  assert_int_equal(v, 123456);
  assert_int_equal(bf_parse_bitrate("0", &v), 0);
  assert_int_equal(bf_parse_bitrate("abc", &v), -EINVAL);
  assert_int_equal(bf_parse_bitrate("-5M", &v), -EINVAL);
  assert_int_equal(bf_parse_bitrate("5Mb", &v), -EINVAL);
  assert_int_equal(bf_parse_bitrate("", &v), -EINVAL);
  bf_send_options o;
  assert_int_equal(PARSE(&o, "--rate-cap", "0"), BF_CLI_RUN);
  assert_int_equal(o.rate_cap_bps, 0);
}

/* A bare number under 100000 is someone typing kbit/s (issue #17): refused
 * with the forms that work; with a unit, or from 100000 on, as before. */
static void test_bare_bitrate(void **state) {
  (void)state;
  bf_send_options o;
  assert_int_equal(PARSE(&o, "--bitrate", "20000"), -EINVAL);
  assert_non_null(strstr(err, "'20000' has no unit"));
  assert_non_null(strstr(err, "20000k"));
  assert_non_null(strstr(err, "e.g. 20M"));
  assert_int_equal(PARSE(&o, "--bitrate", "5000"), -EINVAL);
  assert_non_null(strstr(err, "has no unit"));
  assert_int_equal(PARSE(&o, "--bitrate", "20000k"), BF_CLI_RUN);
  assert_int_equal(o.bitrate, 20000000);
  assert_int_equal(PARSE(&o, "--bitrate", "100000"), BF_CLI_RUN);
  assert_int_equal(o.bitrate, 100000);
  assert_int_equal(PARSE(&o, "--bitrate", "50k"), BF_CLI_RUN);
  assert_int_equal(o.bitrate, 50000);
}

/* --fec auto (the default) against a pinned number: the last one wins. */
static void test_fec_auto(void **state) {
  (void)state;
  bf_send_options o;
  assert_int_equal(PARSE(&o, "--fec", "0", "--fec", "auto"), BF_CLI_RUN);
  assert_int_equal(o.fec_auto, 1);
  assert_int_equal(o.fec_percent, 10);
  assert_int_equal(PARSE(&o, "--fec", "auto", "--fec", "0"), BF_CLI_RUN);
  assert_int_equal(o.fec_auto, 0);
  assert_int_equal(o.fec_percent, 0);
  assert_int_equal(PARSE(&o, "--fec=auto"), BF_CLI_RUN);
  assert_int_equal(o.fec_auto, 1);
}

/* --test-encode-delay MS (a test option of the encoder guard's e2e cases). */
static void test_encode_delay(void **state) {
  (void)state;
  bf_send_options o;
  assert_int_equal(PARSE(&o, "--preset", "veryfast"), BF_CLI_RUN);
  assert_int_equal(o.test_encode_delay_ms, 0);
  assert_int_equal(PARSE(&o, "--test-encode-delay", "50"), BF_CLI_RUN);
  assert_int_equal(o.test_encode_delay_ms, 50);
  assert_int_equal(PARSE(&o, "--test-encode-delay", "10001"), -EINVAL);
  assert_non_null(strstr(err, "--test-encode-delay: bad value '10001'"));
  assert_int_equal(PARSE(&o, "--test-encode-delay", "x"), -EINVAL);
}

/* --rate-control on|off (default on), both spellings, the last one wins. */
static void test_rate_control(void **state) {
  (void)state;
  bf_send_options o;
  assert_int_equal(PARSE(&o, "--rate-control", "off"), BF_CLI_RUN);
  assert_int_equal(o.rate_control, 0);
  assert_int_equal(PARSE(&o, "--rate-control=off", "--rate-control", "on"), BF_CLI_RUN);
  assert_int_equal(o.rate_control, 1);
  assert_int_equal(PARSE(&o, "--rate-control=off"), BF_CLI_RUN);
  assert_int_equal(o.rate_control, 0);
}

/* Each bad input is refused with a message that names the option. */
static void test_errors(void **state) {
  (void)state;
  bf_send_options o;
  static const struct {
    const char *opt, *val, *want;
  } bad[] = {
      {"--codec", "vp9", "unknown codec 'vp9'"},
      {"--source", "camera", "unknown source 'camera'"},
      {"--source", "file:", "--source"},
      {"--size", "1920", "--size"},
      {"--size", "1921x1080", "--size"},
      {"--size", "32x32", "--size"},
      {"--fps", "0", "--fps"},
      {"--fps", "2000", "--fps"},
      {"--fps", "30/0", "--fps"},
      {"--bitrate", "5k", "--bitrate"},
      {"--fec", "91", "--fec"},
      {"--fec", "autox", "--fec"},
      {"--shard", "511", "--shard"},
      {"--shard", "1001", "--shard"},
      {"--shard", "9154", "--shard"},
      {"--max-k", "0", "--max-k"},
      {"--max-k", "254", "--max-k"},
      {"--rate-cap", "100k", "--rate-cap"},
      {"--pace-spread", "101", "--pace-spread"},
      {"--burst", "0", "--burst"},
      {"--frames", "0", "--frames"},
      {"--frames", "-1", "--frames"},
      {"--duration", "0", "--duration"},
      {"--duration", "x", "--duration"},
      {"--gop", "-3", "--gop"},
      {"--slices", "65", "--slices"},
      {"--encoder", "", "--encoder"},
      {"--stats-json", "", "--stats-json"},
      {"--rate-control", "yes", "--rate-control: bad value 'yes'"},
      {"--rate-control", "", "--rate-control"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char *argv[] = {"bildfunk-send", bad[i].opt, bad[i].val};
    assert_int_equal(parse(&o, 3, argv), -EINVAL);
    if (!strstr(err, bad[i].want)) fail_msg("%s %s: '%s'", bad[i].opt, bad[i].val, err);
  }
  assert_int_equal(PARSE(&o, "--frobnicate"), -EINVAL);
  assert_non_null(strstr(err, "unknown option '--frobnicate'"));
  assert_int_equal(PARSE(&o, "--frob=1"), -EINVAL);
  assert_non_null(strstr(err, "unknown option '--frob'"));
  assert_int_equal(PARSE(&o, "stray"), -EINVAL);
  assert_non_null(strstr(err, "unexpected argument 'stray'"));
  assert_int_equal(PARSE(&o, "--codec"), -EINVAL);
  assert_non_null(strstr(err, "--codec needs a value"));
}

static void test_input_options(void **state) {
  (void)state;
  bf_send_options o;
  assert_int_equal(PARSE(&o, "--quiet"), BF_CLI_RUN);
  assert_int_equal(o.input_classes, BF_INCLASS_ALL);
  assert_int_equal(o.input_backend, BF_INBACKEND_AUTO);
  assert_int_equal(PARSE(&o, "--input", "none", "--input-backend", "xtest"), BF_CLI_RUN);
  assert_int_equal(o.input_classes, 0);
  assert_int_equal(o.input_backend, BF_INBACKEND_XTEST);
  assert_int_equal(PARSE(&o, "--input=keyboard,gamepad", "--input-backend=uinput"), BF_CLI_RUN);
  assert_int_equal(o.input_classes, BF_INCLASS_KEYBOARD | BF_INCLASS_GAMEPAD);
  assert_int_equal(o.input_backend, BF_INBACKEND_UINPUT);
  assert_int_equal(PARSE(&o, "--input", "mouse"), BF_CLI_RUN);
  assert_int_equal(o.input_classes, BF_INCLASS_MOUSE);
  static const char *bad[] = {"", "keyboard,", ",mouse", "keys", "all,mouse", "Mouse"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(PARSE(&o, "--input", bad[i]), -EINVAL);
    assert_non_null(strstr(err, "--input"));
  }
  assert_int_equal(PARSE(&o, "--input-backend", "x11"), -EINVAL);
  assert_non_null(strstr(err, "xtest"));
}

static void test_help_version(void **state) {
  (void)state;
  bf_send_options o;
  assert_int_equal(PARSE(&o, "--fps", "30", "--help"), BF_CLI_HELP);
  assert_int_equal(PARSE(&o, "-h"), BF_CLI_HELP);
  assert_int_equal(PARSE(&o, "--version"), BF_CLI_VERSION);
  FILE *f = tmpfile();
  assert_non_null(f);
  bf_send_usage(f);
  long n = ftell(f);
  assert_true(n > 500);
  char buf[8192] = {0};
  rewind(f);
  assert_true(fread(buf, 1, sizeof buf - 1, f) > 0);
  assert_non_null(strstr(buf, "UNENCRYPTED"));
  assert_non_null(strstr(buf, "--dump-au"));
  static const char *const control_opts[] = {
      "--control",    "--direct",       "--config-dir", "--list-clients", "--revoke",
      "--no-pairing", "--pair-timeout", "47999",        "--no-publish",   "--lan-name"};
  for (size_t i = 0; i < sizeof control_opts / sizeof control_opts[0]; i++)
    if (!strstr(buf, control_opts[i])) fail_msg("help lacks %s", control_opts[i]);
  assert_non_null(strstr(buf, "--rate-control on|off"));
  fclose(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),        cmocka_unit_test(test_everything),
      cmocka_unit_test(test_listen_forms),    cmocka_unit_test(test_rates),
      cmocka_unit_test(test_bare_bitrate),    cmocka_unit_test(test_errors),
      cmocka_unit_test(test_help_version),    cmocka_unit_test(test_fec_auto),
      cmocka_unit_test(test_control_options), cmocka_unit_test(test_rate_control),
      cmocka_unit_test(test_input_options),   cmocka_unit_test(test_encode_delay),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
