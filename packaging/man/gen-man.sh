#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Makes a program's man page from its own --help and --version output and the
# hand-written parts in packaging/man/PROGRAM.h2m, through help2man. The one
# way the build (packaging/CMakeLists.txt) and the pipeline test
# (tests/test-help-pipeline.sh) make man pages; check-help.sh checks them.
#
#   gen-man.sh PROGRAM INCLUDE.h2m OUTPUT.1
#
# help2man is run on the --help text put into the shape it understands, with
# nothing added or left out (the words are the program's):
#   - the usage block (the first line "Usage:" or "usage:" and the indented
#     lines under it, up to a blank line) becomes SYNOPSIS: "Usage: FIRST",
#     then "  or: NEXT" per further form, instead of running into DESCRIPTION;
#   - an "Options:" line goes before the first option group heading (a line
#     in column 0 ending in ':' followed by an indented line), so the option
#     groups land in OPTIONS, not in DESCRIPTION; a later group that is
#     itself called "Options:" is renamed "Other options:";
#   - a group heading wrapped over two lines is joined into one;
#   - a paragraph starting "exit status:" becomes the section EXIT STATUS.
# Afterwards the options in SYNOPSIS are set in bold, and `text` in backticks (a command quoted in --help) is set in bold:
# a literal backtick is not a quote in a man page. The page must have none
# left, else this fails.
set -euo pipefail
prog=$1
include=$2
out=$3
name=$(basename "$prog")
command -v help2man >/dev/null || { echo "gen-man.sh: help2man is not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$prog" --help >"$tmp/help.raw"
"$prog" --version >"$tmp/version.txt"

awk '
  { line[NR] = $0 }
  function indented(s) { return s ~ /^[ \t]+[^ \t]/ }
  function heading(i) {       # a group heading: column 0, ends in ":", indented line next
    return line[i] ~ /^[^ \t].*:[ \t]*$/ && indented(line[i + 1])
  }
  END {
    i = 1
    # the usage block
    while (i <= NR && line[i] !~ /^[Uu]sage:/) print line[i++]
    if (i <= NR) {
      s = line[i++]; sub(/^[Uu]sage:[ \t]*/, "", s); print "Usage: " s
      while (i <= NR && indented(line[i])) { s = line[i++]; sub(/^[ \t]+/, "", s); print "  or: " s }
    }
    opts = 0
    for (; i <= NR; i++) {
      s = line[i]
      # a heading wrapped over two lines ("Words (more words" / "still more):"),
      # where a heading can start: after a blank line or an option line
      if (s ~ /^[^ \t]/ && s !~ /:[ \t]*$/ && heading(i + 1) &&
          (i == 1 || line[i - 1] == "" || indented(line[i - 1]))) {
        s = s " " line[++i]
      }
      if (s ~ /^[^ \t].*:[ \t]*$/ && indented(line[i + 1])) {
        if (s ~ /^Options:[ \t]*$/) {
          if (opts) s = "Other options:"
        } else if (!opts) {
          print "Options:"; print ""
        }
        opts = 1
      }
      if (s ~ /^[Ee]xit status:/) {
        print "*Exit status*"; print ""
        sub(/^[Ee]xit status:[ \t]*/, "", s)
        if (s == "") continue
      }
      print s
    }
  }' "$tmp/help.raw" >"$tmp/help.txt"

mkdir "$tmp/bin"
cat >"$tmp/bin/$name" <<EOF
#!/bin/sh
case "\$1" in
  --help) cat "$tmp/help.txt" ;;
  --version) cat "$tmp/version.txt" ;;
  *) exit 2 ;;
esac
EOF
chmod +x "$tmp/bin/$name"

# The footer names the package and its version ("bildfunk 0.1.0"), not the
# whole --version line (which adds library versions and gets cut off there).
version=$(head -n1 "$tmp/version.txt" | grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' | head -n1 || true)
[ -n "$version" ] || { echo "gen-man.sh: no version number in $name --version" >&2; exit 1; }
package=${name%%-*}
help2man --no-info --source="$package $version" --include="$include" --output="$tmp/page.1" \
  "$tmp/bin/$name"
# Options in SYNOPSIS in bold, as in the rest of the page (help2man sets all
# of a usage line in italics, with bare hyphens).
perl -pi -e 'if (/^\.SH /) { $syn = /^\.SH SYNOPSIS/ }
             elsif ($syn && !/^\./) {
               s/(?<![\w\\])(--?[A-Za-z][-A-Za-z0-9]*)/my $o = $1; $o =~ s,-,\\-,g; "\\fB$o\\fP"/ge
             }' "$tmp/page.1"
# `quoted commands` in bold (also across a line break); no backtick may remain.
perl -0pi -e 's/`([^`\n]*(?:\n[^`\n.][^`\n]*)?)`/\\fB$1\\fR/g' "$tmp/page.1"
if grep -n '`' "$tmp/page.1" >"$tmp/ticks"; then
  echo "gen-man.sh: $name: backticks left in the man page:" >&2
  cat "$tmp/ticks" >&2
  exit 1
fi
mv "$tmp/page.1" "$out"
