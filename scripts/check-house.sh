#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The house rules of docs/architecture.md, checked: no product source file
# (client/ sender/ transport/ netsim/ media/) over 800 lines, no function over
# 120 lines, no two product files with the same name. Prints every breach
# and exits 1 if there is one; ctest runs it as house_limits.
#   scripts/check-house.sh [MAX_FILE_LINES] [MAX_FUNCTION_LINES]
set -euo pipefail
cd "$(dirname "$0")/.."
max_file=${1:-800}
max_fn=${2:-120}
dirs=(client sender transport netsim media)
status=0
mapfile -t files < <(find "${dirs[@]}" -name '*.[ch]' | sort)
for f in "${files[@]}"; do
  n=$(wc -l < "$f")
  if [ "$n" -gt "$max_file" ]; then
    echo "house: $f has $n lines (at most $max_file)"
    status=1
  fi
done
# A function: a line at column 0 that opens a definition (it has a '(' and
# the definition's '{' ends a line before any ';'), up to the '}' at column 0.
for f in "${files[@]}"; do
  case $f in *.c) ;; *) continue ;; esac
  awk -v max="$max_fn" -v file="$f" '
    function report() {
      if (end - start + 1 > max) { printf "house: %s:%d: %s is %d lines (at most %d)\n", file, start, name, end - start + 1, max; bad = 1 }
    }
    /^[A-Za-z_].*\(/ && !in_fn && !/;[[:space:]]*$/ && !/^(typedef|struct|enum|union|static const|const)[^(]*=/ {
      cand = NR; cname = $0; sub(/\(.*/, "", cname); n = split(cname, w, /[ *]+/); cname = w[n]
    }
    cand && !in_fn && /\{[[:space:]]*$/ { in_fn = 1; start = cand; name = cname; cand = 0; next }
    cand && !in_fn && /;[[:space:]]*$/ { cand = 0 }
    in_fn && /^\}/ { end = NR; report(); in_fn = 0 }
    END { exit bad }' "$f" || status=1
done
dup=$(printf '%s\n' "${files[@]}" | xargs -n1 basename | sort | uniq -d)
if [ -n "$dup" ]; then
  for d in $dup; do
    echo "house: the name $d is used by $(printf '%s\n' "${files[@]}" | grep "/$d\$" | tr '\n' ' ')"
  done
  status=1
fi
[ "$status" = 0 ] && echo "house: ${#files[@]} product files, none over $max_file lines, no function over $max_fn lines, no name twice"
exit $status
