#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The AppStream screenshots can be made again: packaging/screenshots.sh runs
# the real sender and client under Xvfb into a scratch folder (it checks what
# each picture shows), and the pictures it makes are the ones committed in
# assets/screenshots/: the same files, the same sizes. (The metainfo's side,
# that it names exactly those files with their sizes, is packaging_desktop's.)
#
#   test-screenshots.sh ASSETS_DIR   (BF_CLIENT, BF_SENDER, BF_SHOTCHECK set)
set -uo pipefail
assets=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash "$here/../screenshots.sh" "$tmp/shots"
rc=$?
[ $rc = 0 ] || exit $rc # 77: skipped (Xvfb or a program missing), a failure under BF_REQUIRE_ALL=1
fail=0
size() { od -An -tu1 -j16 -N8 "$1" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4 "x" $5*16777216 + $6*65536 + $7*256 + $8}'; }
made=$(cd "$tmp/shots" && ls ./*.png | sort | tr '\n' ' ')
kept=$(cd "$assets/screenshots" && ls ./*.png | sort | tr '\n' ' ')
[ "$made" = "$kept" ] || { echo "FAIL: screenshots.sh makes $made, assets/screenshots holds $kept"; fail=1; }
for f in "$tmp"/shots/*.png; do
  k=$assets/screenshots/$(basename "$f")
  [ -f "$k" ] || continue
  [ "$(size "$f")" = "$(size "$k")" ] ||
    { echo "FAIL: $(basename "$f") is made $(size "$f"), committed $(size "$k")"; fail=1; }
done
[ $fail = 0 ] || exit 1
echo "PASS: the screenshots ($made) are made again under Xvfb, as committed"
