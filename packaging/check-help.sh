#!/usr/bin/env bash
# Checks that a man page and a bash completion agree with the program they
# describe, so neither can drift from its --help text:
#   - every option of `PROGRAM --help` is in the man page and is offered by
#     the completion, and the completion offers no option --help lacks;
#   - the man page carries the version `PROGRAM --version` prints;
#   - the man page renders without groff warnings (when groff is here);
#   - every option the hand-written part of the page (the help2man include
#     file, EXAMPLES and such) mentions is one --help lists.
#
#   check-help.sh PROGRAM MANPAGE COMPLETION [INCLUDE.h2m]
#
# The option list is read here independently of gen-completion.sh: every
# word that starts with a dash in the option column of an indented line.
set -euo pipefail
prog=$1
man=$2
comp=$3
include=${4:-}
name=$(basename "$prog")
fail=0
bad() { echo "FAIL: $*"; fail=1; }

help=$("$prog" --help)
version_line=$("$prog" --version | head -n1)

# Options of --help: indented lines that start with a dash; the option
# column, and groups after a semicolon in the description ("; -q, --quiet:").
mapfile -t help_opts < <(printf '%s\n' "$help" |
  awk 'function out(s,   w, k, i) {
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
       }' | sort -u)
[ ${#help_opts[@]} -gt 0 ] || bad "no options found in $name --help"

# The man page, as text: roff escapes for dashes undone.
man_text=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$man")
for o in "${help_opts[@]}"; do
  grep -qF -- "$o" <<<"$man_text" || bad "$o is in $name --help but not in $(basename "$man")"
done
version=$(grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' <<<"$version_line" | head -n1 || true)
[ -n "$version" ] || bad "no version number in '$version_line'"
th=$(grep -m1 '^\.TH ' "$man" || true)
[[ $th == *"$version"* ]] || bad "man page header '$th' lacks version $version"

if command -v groff >/dev/null; then
  warn=$(groff -man -Tutf8 -ww -z "$man" 2>&1 || true)
  [ -z "$warn" ] || bad "groff warnings for $(basename "$man"): $warn"
fi

if [ -n "$include" ]; then
  while IFS= read -r o; do
    printf '%s\n' "${help_opts[@]}" | grep -xF -- "$o" >/dev/null ||
      bad "$(basename "$include") mentions $o, which $name --help does not list"
  done < <(sed -e 's/\\-/-/g' "$include" | grep -oE -- '(^|[^-[:alnum:]])--?[[:alpha:]][-[:alnum:]]*' |
           sed -E 's/^[^-]//' | sort -u)
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
echo "PASS: $name: ${#help_opts[@]} options agree between --help, $(basename "$man") and the completion"
