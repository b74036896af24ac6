#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Tests the man page / bash completion pipeline on a stand-in program
# (fakeprog) whose --help exercises every form gen-completion.sh reads and
# every shape man/gen-man.sh puts into help2man's terms (a lower-case usage
# block of two forms, `commands` in backticks, option groups without an
# "Options:" line, a group heading wrapped over two lines, a later group
# called "Options:", an "exit status:" paragraph): gen-man.sh and
# gen-completion.sh must produce files that check-help.sh accepts, the page
# must have the sections that shape calls for, the completion must offer the
# right words, and check-help.sh must fail when the man page or the
# completion is older than the program, when the page is raw help2man output
# (usage in DESCRIPTION, backticks, options outside OPTIONS) and when the
# hand-written part lacks a section.
#
#   test-help-pipeline.sh PACKAGING_DIR
set -euo pipefail
pkg=$1
fake=$pkg/tests/fakeprog
skip() {
  echo "SKIP: $*"
  if [ "${BF_REQUIRE_ALL:-0}" = 1 ]; then echo "BF_REQUIRE_ALL=1: failing instead of skipping"; exit 1; fi
  exit 77
}
command -v help2man >/dev/null || skip "help2man is not installed"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# The real pipeline, as packaging/CMakeLists.txt runs it.
h2m=$pkg/tests/fakeprog.h2m
bash "$pkg/man/gen-man.sh" "$fake" "$h2m" "$tmp/fakeprog.1"
bash "$pkg/gen-completion.sh" fakeprog "$fake" >"$tmp/fakeprog.bash"
bash "$pkg/check-help.sh" "$fake" "$tmp/fakeprog.1" "$tmp/fakeprog.bash" "$h2m" ||
  fail "check-help.sh rejects a freshly generated man page and completion"
grep -q 'stand-in program for the packaging tests' "$tmp/fakeprog.1" ||
  fail "help2man did not use the include file's NAME"
# What gen-man.sh made of the --help text's shapes.
page=$(cat "$tmp/fakeprog.1")
[ "$(sed -n '/^\.SH SYNOPSIS/,/^\.SH /p' "$tmp/fakeprog.1" | grep -c '^\.B fakeprog$')" = 2 ] ||
  fail "SYNOPSIS does not have the two usage forms"
grep -qF '.SS "connection:"' <<<"$page" || fail "the first option group is not a subsection"
grep -qF '.SS "display (a group heading that is wrapped over two lines):"' <<<"$page" ||
  fail "the wrapped group heading was not joined"
grep -qF '.SS "Other options:"' <<<"$page" || fail "the group called Options: was not renamed"
sed -n '/^\.SH "EXIT STATUS"/,/^\.SH /p' "$tmp/fakeprog.1" | grep -qF '0 when done, 2 on a usage error.' ||
  fail "no EXIT STATUS section with the exit status paragraph"
grep -qF '\fBfakeprog list\fR prints' <<<"$page" || fail "the backticked command is not in bold"
grep -qF '\fB\-\-direct\fP HOST' <<<"$page" || fail "the option in SYNOPSIS is not in bold"

# What the completion offers, word by word.
complete_words() { # LINE...: the words of a command line, the last is completed
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
           _bf_complete_fakeprog; [ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"' _ "$tmp/fakeprog.bash" "$@"
}
expect() { # WANT LINE...
  local want=$1; shift
  local got
  got=$(complete_words "$@" | sort | tr '\n' ' ')
  [ "$got" = "$want" ] || fail "completing '$*': got '$got', want '$want'"
}
expect "--overlay " fakeprog --ov
expect "full normal off " fakeprog --overlay ""
expect "normal " fakeprog --overlay no
expect "" fakeprog --direct ""
expect "" fakeprog --direct -
expect "--verbose --version " fakeprog --direct h --ver
mkdir "$tmp/d" && touch "$tmp/d/conf.ini"
expect "$tmp/d/conf.ini " fakeprog -c "$tmp/d/co"
expect "$tmp/d " fakeprog --log-dir "$tmp/"
expect "--fec " fakeprog --fec "--f"

# Drift: a man page or completion made from an older program must fail.
FAKEPROG_DROP=--headless bash "$pkg/gen-completion.sh" fakeprog "$fake" >"$tmp/old.bash"
if bash "$pkg/check-help.sh" "$fake" "$tmp/fakeprog.1" "$tmp/old.bash" >"$tmp/out" 2>&1; then
  fail "check-help.sh accepted a completion that lacks --headless"
fi
grep -q -- "--headless" "$tmp/out" || fail "check-help.sh did not name the missing option"
FAKEPROG_DROP=--log-dir bash "$pkg/man/gen-man.sh" "$fake" "$h2m" "$tmp/old.1"
if bash "$pkg/check-help.sh" "$fake" "$tmp/old.1" "$tmp/fakeprog.bash" >"$tmp/out" 2>&1; then
  fail "check-help.sh accepted a man page that lacks --log-dir"
fi
grep -q -- "--log-dir is in fakeprog --help but not in the OPTIONS section" "$tmp/out" ||
  { cat "$tmp/out"; fail "check-help.sh did not name the option the man page lacks"; }
# Raw help2man output: the second usage form in DESCRIPTION, backticks, the
# first option groups outside OPTIONS.
help2man --no-info --include="$h2m" --output="$tmp/raw.1" "$fake"
if bash "$pkg/check-help.sh" "$fake" "$tmp/raw.1" "$tmp/fakeprog.bash" "$h2m" >"$tmp/out" 2>&1; then
  fail "check-help.sh accepted raw help2man output"
fi
for want in "usage 'fakeprog list \[--config-dir DIR\]' runs into DESCRIPTION" "literal backticks" \
            "--direct is in fakeprog --help but not in the OPTIONS section" "starts with sections"; do
  grep -q -- "$want" "$tmp/out" || { cat "$tmp/out"; fail "raw help2man output: no complaint '$want'"; }
done
# A hand-written part without FILES (the program has --config-dir) or EXAMPLES.
grep -v -e '^\[FILES\]' -e '^\[EXAMPLES\]' -e '^\.TP' -e '^\.I ' -e 'defaults to' -e '^\.B fakeprog' "$h2m" \
  >"$tmp/short.h2m"
bash "$pkg/man/gen-man.sh" "$fake" "$tmp/short.h2m" "$tmp/short.1"
if bash "$pkg/check-help.sh" "$fake" "$tmp/short.1" "$tmp/fakeprog.bash" "$tmp/short.h2m" >"$tmp/out" 2>&1; then
  fail "check-help.sh accepted a man page without FILES and EXAMPLES"
fi
grep -q "has no FILES section" "$tmp/out" && grep -q "has no EXAMPLES section" "$tmp/out" ||
  { cat "$tmp/out"; fail "check-help.sh did not name the missing sections"; }
# The exit status said in --help and again by hand.
{ cat "$h2m"; printf '\n[EXIT STATUS]\n0 always.\n'; } >"$tmp/twice.h2m"
bash "$pkg/man/gen-man.sh" "$fake" "$tmp/twice.h2m" "$tmp/twice.1"
if bash "$pkg/check-help.sh" "$fake" "$tmp/twice.1" "$tmp/fakeprog.bash" "$tmp/twice.h2m" >"$tmp/out" 2>&1; then
  fail "check-help.sh accepted an include file that says the exit status again"
fi
grep -q "drop \[EXIT STATUS\] from twice.h2m" "$tmp/out" || { cat "$tmp/out"; fail "wrong complaint (exit status twice)"; }
# An example command line of another bildfunk program is checked against
# that program's --help (here: fakeprog itself standing in for it).
printf '[EXAMPLES]\n.B bildfunk\-other \-\-overlay full \-\-no\-such\-option\n' >"$tmp/other.h2m"
mkdir "$tmp/bin" && printf '#!/bin/sh\nexec "%s" "$@"\n' "$(cd "$(dirname "$fake")" && pwd)/fakeprog" \
  >"$tmp/bin/bildfunk-other" && chmod +x "$tmp/bin/bildfunk-other"
if bash "$pkg/check-help.sh" "$fake" "$tmp/fakeprog.1" "$tmp/fakeprog.bash" "$tmp/other.h2m" \
   "$tmp/bin/bildfunk-other" >"$tmp/out" 2>&1; then
  fail "check-help.sh accepted an example of another program with an option it lacks"
fi
grep -q "mentions --no-such-option, which bildfunk-other --help does not list" "$tmp/out" ||
  { cat "$tmp/out"; fail "wrong complaint about the other program's example"; }
grep -q "mentions --overlay" "$tmp/out" && { cat "$tmp/out"; fail "--overlay of the other program was refused"; }
# A completion that offers an option the program no longer has.
if FAKEPROG_DROP=--verbose bash "$pkg/check-help.sh" "$fake" "$tmp/fakeprog.1" "$tmp/fakeprog.bash" \
   >"$tmp/out" 2>&1; then
  fail "check-help.sh accepted a completion that offers a removed option"
fi
# A hand-written example that uses an option the program no longer has.
if FAKEPROG_DROP=--overlay bash "$pkg/check-help.sh" "$fake" "$tmp/fakeprog.1" "$tmp/fakeprog.bash" \
   "$h2m" >"$tmp/out" 2>&1; then
  fail "check-help.sh accepted an include file that mentions a removed option"
fi
grep -q "fakeprog.h2m mentions --overlay" "$tmp/out" || { cat "$tmp/out"; fail "wrong complaint"; }
echo "PASS: man page and completion pipeline"
