#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Configures and builds one flavour of the tree.
#   scripts/build.sh            -> build/        (RelWithDebInfo)
#   scripts/build.sh asan       -> build-asan/   (ASan + UBSan, clang)
#   scripts/build.sh fuzz       -> build-fuzz/   (libFuzzer harnesses, clang)
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-default}
case "$flavour" in
  default) dir=build; args=() ;;
  asan) dir=build-asan; args=(-DBF_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DBF_BUILD_BENCH=OFF)
        export CC=${CC:-clang} ;;
  fuzz) dir=build-fuzz; args=(-DBF_FUZZ=ON -DBF_BUILD_TESTS=OFF -DBF_BUILD_BENCH=OFF
                              -DBF_BUILD_CLIENT=OFF -DBF_BUILD_SENDER=OFF)
        export CC=clang ;;
  *) echo "build.sh: unknown flavour '$flavour' (default, asan, fuzz)" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -G Ninja -DBF_WERROR=ON "${args[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)"
