#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the libFuzzer harnesses and runs each for N seconds (default 30; CI
# runs a short pass, `scripts/fuzz.sh 600` is the longer one on demand).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
bash scripts/build.sh fuzz
mkdir -p build-fuzz/corpus
status=0
for f in build-fuzz/fuzz/fuzz_*; do
  [ -x "$f" ] || continue
  name=$(basename "$f")
  corpus=build-fuzz/corpus/$name
  mkdir -p "$corpus"
  seeds=()
  [ -d "fuzz/corpus/$name" ] && seeds=("fuzz/corpus/$name")
  echo "fuzz: $name for ${secs}s"
  if ! "$f" -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=2048 \
        "$corpus" "${seeds[@]}" > "build-fuzz/$name.log" 2>&1; then
    echo "fuzz: $name FAILED"; tail -40 "build-fuzz/$name.log"; status=1
  else
    grep -E '^stat::number_of_executed_units' "build-fuzz/$name.log" || true
  fi
done
exit $status
