#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds and runs the whole test suite: the README's test command.
#   scripts/test.sh          normal build
#   scripts/test.sh asan     the same suite under ASan + UBSan
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
flavour=${1:-default}
bash scripts/build.sh "$flavour"
dir=build; [ "$flavour" = asan ] && dir=build-asan
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$dir" --output-on-failure -j "$(nproc)"
