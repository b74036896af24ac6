#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Puts the licence line "SPDX-License-Identifier: GPL-3.0-or-later" into every
# source and build file of the tree that lacks one, or (--check) names those
# that lack one and fails. Idempotent: a file that has an SPDX line (any
# licence) in its first 5 lines is left alone.
#
#   scripts/spdx.sh           add the line where it is missing
#   scripts/spdx.sh --check   list the files without one; exit 1 if any
#
# Which files: those git tracks, and new ones it does not ignore yet (outside
# a git checkout: every file outside build*/ and .git/), that are C sources
# and headers (*.c, *.h), CMake (CMakeLists.txt, *.cmake), shell (*.sh, and
# any file whose first line is a sh/bash shebang), Lua (*.lua), Python
# (*.py) or YAML build manifests (*.yml). Fuzzer corpora are data and left
# out. Where the line goes: the first line, or the second after a shebang;
# in the file's comment syntax (/* */ for C, -- for Lua, # otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
id="SPDX-License-Identifier: GPL-3.0-or-later"
check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: scripts/spdx.sh [--check]" >&2; exit 2 ;;
esac

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  list() { git ls-files -z --cached --others --exclude-standard; }
else
  list() { find . \( -path ./.git -o -path './build*' \) -prune -o -type f -print0 | sed -z 's|^\./||'; }
fi

missing=()
added=0
others=()
# (bash builtins only per file: a few hundred files, no process each)
while IFS= read -r -d '' f; do
  [ -f "$f" ] || continue # deleted but still in the index
  case "$f" in fuzz/corpus/*) continue ;; esac
  head5=()
  mapfile -n 5 -t head5 <"$f" 2>/dev/null || true
  # the comment syntax of a source file; other files are left out
  case "${f##*/}" in
    *.c | *.h) kind=c ;;
    CMakeLists.txt | *.cmake | *.sh | *.py | *.yml) kind=hash ;;
    *.lua) kind=lua ;;
    *) [[ ${head5[0]:-} =~ ^\#!.*[/\ ](sh|bash)(\ |$) ]] && kind=hash || continue ;;
  esac
  first5=$(printf '%s\n' "${head5[@]}")
  if [[ $first5 == *"SPDX-License-Identifier:"* ]]; then
    [[ $first5 == *"$id"* ]] || others+=("$f: $(grep -o 'SPDX-License-Identifier: [^ *]*' <<<"$first5")")
    continue
  fi
  if [ $check = 1 ]; then
    missing+=("$f")
    continue
  fi
  case $kind in
    c) line="/* $id */" ;;
    lua) line="-- $id" ;;
    hash) line="# $id" ;;
  esac
  # sed -i keeps the file's mode (executable scripts stay executable).
  if [[ ${head5[0]:-} == '#!'* ]]; then
    sed -i "1a\\$line" "$f"
  elif [ -s "$f" ]; then
    sed -i "1i\\$line" "$f"
  else
    printf '%s\n' "$line" >"$f"
  fi
  added=$((added + 1))
done < <(list)

for o in "${others[@]}"; do echo "note: another licence: $o"; done
if [ $check = 1 ]; then
  if [ ${#missing[@]} -gt 0 ]; then
    echo "FAIL: ${#missing[@]} source files lack an SPDX-License-Identifier line (run scripts/spdx.sh):"
    printf '  %s\n' "${missing[@]}"
    exit 1
  fi
  echo "PASS: every source and build file has an SPDX-License-Identifier line"
else
  echo "spdx: added the line to $added files"
fi
