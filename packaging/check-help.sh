#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Checks that a man page and a bash completion agree with the program they
# describe, so neither can drift from its --help text, and that the page has
# the shape of a man page:
#   - every option of `PROGRAM --help` is in the page's OPTIONS section and
#     is offered by the completion, and the completion offers no option
#     --help lacks;
#   - the page has NAME, SYNOPSIS, DESCRIPTION and OPTIONS in that order, and
#     EXAMPLES and SEE ALSO; FILES when the program has --config-dir; EXIT
#     STATUS when --help describes one;
#   - every usage form of --help (the "Usage:" line and the indented lines
#     under it) is an entry of SYNOPSIS, and none is left in DESCRIPTION;
#   - no literal backtick (a quote in --help, not in roff);
#   - the page carries the version `PROGRAM --version` prints;
#   - the page renders without groff warnings (when groff is here);
#   - every option the hand-written part of the page (the help2man include
#     file: EXAMPLES and such) mentions is one --help lists; on an example
#     command line (".B NAME ...") of another program given as OTHER, one
#     that program's --help lists (a program not given is not checked, a
#     failure under BF_REQUIRE_ALL=1).
#
#   check-help.sh PROGRAM MANPAGE COMPLETION [INCLUDE.h2m [OTHER...]]
#
# The option list is read here independently of gen-completion.sh and
# man/gen-man.sh: every word that starts with a dash in the option column of
# an indented line.
set -euo pipefail
prog=$1
man=$2
comp=$3
include=${4:-}
others=("${@:5}")
name=$(basename "$prog")
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# Options of a program's --help: indented lines that start with a dash; the
# option column, and groups after a semicolon in the description ("; -q,
# --quiet:").
options_of() {
  "$1" --help | awk '
    function out(s,   w, k, i) {
      k = split(s, w, /[ ,=[]+/)
      for (i = 1; i <= k; i++) if (w[i] ~ /^--?[A-Za-z0-9]/) print w[i]
    }
    /^[ \t]+-/ {
      sub(/^[ \t]+/, ""); col = $0; sub(/  .*/, "", col); out(col)
      n = split(substr($0, length(col) + 1), seg, ";")
      for (i = 2; i <= n; i++) {
        s = seg[i]; sub(/^[ \t]+/, "", s)
        if (s ~ /^-/) { sub(/:.*/, "", s); out(s) }
      }
    }' | sort -u
}
help=$("$prog" --help)
version_line=$("$prog" --version | head -n1)
mapfile -t help_opts < <(options_of "$prog")
[ ${#help_opts[@]} -gt 0 ] || bad "no options found in $name --help"

# Roff to text: font changes, zero-width escapes and \- undone.
deroff() { sed -e 's/\\f[BIRP]//g' -e 's/\\[,/&]//g' -e 's/\\-/-/g' -e 's/\\(co/(c)/g'; }
# section NAME: the section's roff lines (without its .SH line)
section() {
  awk -v want="$1" '/^\.SH / { s = substr($0, 5); gsub(/"/, "", s); on = (s == want); next } on' "$man"
}
mapfile -t sections < <(sed -n 's/^\.SH //p' "$man" | tr -d '"')
man_text=$(deroff <"$man")
opt_text=$(section OPTIONS | deroff)
for o in "${help_opts[@]}"; do
  grep -qF -- "$o" <<<"$opt_text" || bad "$o is in $name --help but not in the OPTIONS section of $(basename "$man")"
done

# The sections: the first four in order, the others present, none twice.
[ "${sections[*]:0:4}" = "NAME SYNOPSIS DESCRIPTION OPTIONS" ] ||
  bad "$(basename "$man") starts with sections '${sections[*]:0:4}', not NAME SYNOPSIS DESCRIPTION OPTIONS"
want_sections=(EXAMPLES "SEE ALSO")
printf '%s\n' "${help_opts[@]}" | grep -qx -- --config-dir && want_sections+=(FILES)
if grep -qiE '^exit status:' <<<"$help"; then
  want_sections+=("EXIT STATUS")
  # Said twice, the two would drift apart: --help's wins.
  [ -z "$include" ] || ! grep -q '^\[[<=>]\?EXIT STATUS\]' "$include" ||
    bad "$name --help describes the exit status: drop [EXIT STATUS] from $(basename "$include")"
fi
for s in "${want_sections[@]}"; do
  printf '%s\n' "${sections[@]}" | grep -qxF -- "$s" || bad "$(basename "$man") has no $s section"
done
dup=$(printf '%s\n' "${sections[@]}" | sort | uniq -d | tr '\n' ' ')
[ -z "$dup" ] || bad "$(basename "$man") has these sections twice: $dup"

# SYNOPSIS: one entry (".B NAME" and its arguments) per usage form of
# --help, and no usage form left in DESCRIPTION.
norm() { tr -s ' \t' ' ' | sed -e 's/^ //' -e 's/ $//'; }
mapfile -t forms < <(printf '%s\n' "$help" | awk '
  /^[Uu]sage:/ { on = 1; sub(/^[Uu]sage:[ \t]*/, ""); print; next }
  on && /^[ \t]+[^ \t]/ { sub(/^[ \t]+/, ""); print; next }
  { on = 0 }' | norm)
[ ${#forms[@]} -gt 0 ] || bad "no usage line in $name --help"
mapfile -t synopsis < <(section SYNOPSIS | awk '/^\.B / { if (e != "") print e; e = substr($0, 4); next }
                                               /^\.br/ { next } { e = e " " $0 } END { if (e != "") print e }' |
                        deroff | norm)
[ ${#synopsis[@]} -eq ${#forms[@]} ] ||
  bad "SYNOPSIS of $(basename "$man") has ${#synopsis[@]} entries, $name --help ${#forms[@]} usage forms"
description=$(section DESCRIPTION | grep -v '^\.' | deroff | norm)
for f in "${forms[@]}"; do
  printf '%s\n' "${synopsis[@]}" | grep -qxF -- "$f" || bad "usage '$f' is not an entry of SYNOPSIS"
  grep -qF -- "$f" <<<"$description" && bad "usage '$f' runs into DESCRIPTION"
done
grep -qi 'usage:' <<<"$description" && bad "DESCRIPTION of $(basename "$man") holds a usage line"

ticks=$(grep -v '^\.\\"' "$man" | grep -n '`' || true)
[ -z "$ticks" ] || bad "literal backticks in $(basename "$man"): $ticks"

version=$(grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' <<<"$version_line" | head -n1 || true)
[ -n "$version" ] || bad "no version number in '$version_line'"
th=$(grep -m1 '^\.TH ' "$man" || true)
[[ $th == *"$version"* ]] || bad "man page header '$th' lacks version $version"

if command -v groff >/dev/null; then
  warn=$(groff -man -Tutf8 -ww -z "$man" 2>&1 || true)
  [ -z "$warn" ] || bad "groff warnings for $(basename "$man"): $warn"
fi

if [ -n "$include" ]; then
  # OPTS LINE...: the options the lines mention, one per line
  mentioned() { grep -oE -- '(^|[^-[:alnum:]])--?[[:alpha:]][-[:alnum:]]*' | sed -E 's/^[^-]//' | sort -u; }
  declare -A other_opts=()
  for p in "${others[@]}"; do other_opts[$(basename "$p")]=$(options_of "$p"); done
  lineno=0
  while IFS= read -r l; do
    lineno=$((lineno + 1))
    cmd=$(sed -nE 's/^\.B +([^ ]+).*/\1/p' <<<"$l")
    if [ -n "$cmd" ] && [ "$cmd" != "$name" ] && [[ $cmd =~ ^bildfunk(-[a-z]+)?$ ]]; then
      if [ -z "${other_opts[$cmd]+x}" ]; then
        # A build without that program (BF_BUILD_CLIENT=OFF ...) cannot check it;
        # CI builds everything and must.
        if [ "${BF_REQUIRE_ALL:-0}" = 1 ]; then
          bad "$(basename "$include"):$lineno is a $cmd command line, but $cmd was not given to check it"
        else
          echo "note: $(basename "$include"):$lineno: $cmd is not in this build, its options are not checked"
        fi
        continue
      fi
      known=${other_opts[$cmd]}
      whose=$cmd
    else
      known=$(printf '%s\n' "${help_opts[@]}")
      whose=$name
    fi
    while IFS= read -r o; do
      [ -n "$o" ] || continue
      grep -qxF -- "$o" <<<"$known" ||
        bad "$(basename "$include") mentions $o, which $whose --help does not list (line $lineno)"
    done < <(mentioned <<<"$l")
  done < <(sed -e 's/\\-/-/g' "$include")
fi

# What the completion offers after a lone dash, and after "--".
mapfile -t comp_opts < <(bash -c '
  source "$1" || exit 1
  fn=$(complete -p "$2" | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
  for cur in - --; do
    COMP_WORDS=("$2" "$cur"); COMP_CWORD=1; COMPREPLY=()
    "$fn"
    [ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"
  done' _ "$comp" "$name" | sort -u)
for o in "${help_opts[@]}"; do
  printf '%s\n' "${comp_opts[@]}" | grep -xF -- "$o" >/dev/null ||
    bad "$o is in $name --help but not offered by the completion"
done
for o in "${comp_opts[@]}"; do
  printf '%s\n' "${help_opts[@]}" | grep -xF -- "$o" >/dev/null ||
    bad "the completion offers $o, which $name --help does not list"
done

[ $fail = 0 ] || exit 1
echo "PASS: $name: ${#help_opts[@]} options and ${#forms[@]} usage forms agree between --help," \
  "$(basename "$man") (sections ${sections[*]}) and the completion"
