#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Generates a bash completion script for one program from its --help text, so
# the completion follows the program's options instead of a hand-kept list.
#
#   gen-completion.sh NAME PROGRAM > completion   (runs PROGRAM --help)
#   gen-completion.sh NAME - < help.txt > completion
#
# What it understands in the help text: option lines that start (after
# indentation) with "-x", "--long" or "-x, --long", optionally followed by an
# argument written as "=ARG", " ARG", " <arg>" or "[=ARG]" (optional, so
# the next word is not taken as its argument); several options in one
# column ("--a X --b Y"); and more options after a semicolon in the
# description ("more output; -q, --quiet: errors only").
# An argument named like FILE, PATH or DIR completes file names; one written
# as a list of choices "a|b|c" (optionally in braces or parentheses)
# completes those words; any other argument completes nothing, so the word
# after such an option is never offered an option by mistake. Words that are
# not options or their arguments complete nothing either.
set -euo pipefail
name=$1
prog=$2
if [ "$prog" = - ]; then help=$(cat); else help=$("$prog" --help); fi

opts=()      # every option word
file_opts=() # options whose argument is a file
dir_opts=()  # ... a directory
arg_opts=()  # ... something we cannot list
choice_opts=() choice_words=()

# Adds the option names and argument of one group: "-x, --long ARG",
# "--long=ARG", "--a X --b Y" (several options in one column).
add_group() {
  local group=$1 tok n names=() arg=""
  flush() { # records the option names collected so far and their argument
    [ ${#names[@]} -gt 0 ] || return 0
    opts+=("${names[@]}")
    if [ -n "$arg" ]; then
      if [[ $arg =~ ^[{(]?([a-z0-9][-a-z0-9.]*(\|[a-z0-9][-a-z0-9.]*)+)[})]?$ ]]; then
        for n in "${names[@]}"; do
          choice_opts+=("$n")
          choice_words+=("${BASH_REMATCH[1]//|/ }")
        done
      elif [[ $arg =~ (FILE|PATH|file|path) ]]; then
        file_opts+=("${names[@]}")
      elif [[ $arg =~ (DIR|dir) ]]; then
        dir_opts+=("${names[@]}")
      else
        arg_opts+=("${names[@]}")
      fi
    fi
    names=()
    arg=""
  }
  local toks
  read -ra toks <<<"${group//,/ }"
  for tok in "${toks[@]}"; do
    if [[ $tok =~ ^(-{1,2}[a-zA-Z0-9][-a-zA-Z0-9]*)(\[?=)?(.*)$ ]]; then
      local m=("${BASH_REMATCH[@]}")
      # A new option after one that took an argument starts a new group.
      if [ -n "$arg" ]; then flush; fi
      names+=("${m[1]}")
      # An optional argument ("--fec[=N]") must be attached, so the next
      # word is not the option's.
      if [ "${m[2]}" = "=" ]; then arg=${m[3]}; fi
    elif [ ${#names[@]} -gt 0 ] && [ -z "$arg" ]; then
      arg=$tok
    fi
  done
  flush
}

while IFS= read -r line; do
  # Option lines start with a dash after indentation.
  [[ $line =~ ^[[:space:]]+-[-a-zA-Z0-9] ]] || continue
  line=${line#"${line%%[![:space:]]*}"}
  # The option column ends at two spaces (the description follows).
  add_group "${line%%  *}"
  # More options may follow in the description after a semicolon:
  # "more log lines; -q, --quiet: errors only".
  rest=${line#"${line%%  *}"}
  while [[ $rest =~ \;[[:space:]]+(-[^:;]*)(.*)$ ]]; do
    add_group "${BASH_REMATCH[1]}"
    rest=${BASH_REMATCH[2]}
  done
done <<<"$help"

if [ ${#opts[@]} -eq 0 ]; then
  echo "gen-completion.sh: no options found in the --help text of $name" >&2
  exit 1
fi

fn="_bf_complete_${name//[^a-zA-Z0-9]/_}"
join() { local IFS='|'; echo "$*"; }

cat <<EOF
# bash completion for $name -*- shell-script -*-
# Generated from \`$name --help\` by packaging/gen-completion.sh; do not edit.
$fn() {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  local prev=
  [ "\$COMP_CWORD" -gt 0 ] && prev=\${COMP_WORDS[COMP_CWORD-1]}
  COMPREPLY=()
  case \$prev in
EOF
for i in "${!choice_opts[@]}"; do
  printf '    %s) COMPREPLY=($(compgen -W "%s" -- "$cur")); return 0 ;;\n' \
    "${choice_opts[$i]}" "${choice_words[$i]}"
done
[ ${#file_opts[@]} -gt 0 ] &&
  printf '    %s) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;\n' "$(join "${file_opts[@]}")"
[ ${#dir_opts[@]} -gt 0 ] &&
  printf '    %s) COMPREPLY=($(compgen -d -- "$cur")); return 0 ;;\n' "$(join "${dir_opts[@]}")"
[ ${#arg_opts[@]} -gt 0 ] &&
  printf '    %s) return 0 ;;\n' "$(join "${arg_opts[@]}")"
cat <<EOF
  esac
  if [[ \$cur == -* ]]; then
    COMPREPLY=(\$(compgen -W "${opts[*]}" -- "\$cur"))
  fi
  return 0
}
complete -F $fn $name
EOF
