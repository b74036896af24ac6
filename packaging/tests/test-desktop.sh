#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Desktop integration: the desktop entry passes desktop-file-validate with no
# error or warning, the AppStream metainfo passes `appstreamcli validate`
# (which fails on warnings too), both name the same application id, icon and
# program, and every rendered icon PNG has the size its folder says. The
# metainfo names the licence and a home page; its screenshots are exactly the
# PNGs in assets/screenshots/ (made by packaging/screenshots.sh), under the
# home page's URL, with their real width and height, one of them the default.
#
#   test-desktop.sh ASSETS_DIR [ICONS_DIR]   (ICONS_DIR: the build's rendered PNGs)
set -euo pipefail
assets=$1
icons=${2:-}
id=io.github.bildfunk.Bildfunk
skip() {
  echo "SKIP: $*"
  if [ "${BF_REQUIRE_ALL:-0}" = 1 ]; then echo "BF_REQUIRE_ALL=1: failing instead of skipping"; exit 1; fi
  exit 77
}
command -v desktop-file-validate >/dev/null || skip "desktop-file-validate (desktop-file-utils) missing"
command -v appstreamcli >/dev/null || skip "appstreamcli (appstream) missing"
fail=0
bad() { echo "FAIL: $*"; fail=1; }

desktop=$assets/$id.desktop
metainfo=$assets/$id.metainfo.xml
out=$(desktop-file-validate "$desktop" 2>&1) || bad "desktop-file-validate: $out"
grep -qE 'error|warning' <<<"$out" && bad "desktop-file-validate: $out"
appstreamcli validate --no-net --explain "$metainfo" || bad "appstreamcli validate failed"

# The pieces must name each other.
grep -qx "Icon=$id" "$desktop" || bad "desktop entry Icon is not $id"
exe=$(sed -n 's/^Exec=\([^ ]*\).*/\1/p' "$desktop")
[ "$exe" = bildfunk ] || bad "desktop entry runs '$exe', not bildfunk"
grep -q "<id>$id</id>" "$metainfo" || bad "metainfo id is not $id"
grep -q "<launchable type=\"desktop-id\">$id.desktop</launchable>" "$metainfo" ||
  bad "metainfo does not launch $id.desktop"
grep -q "<binary>$exe</binary>" "$metainfo" || bad "metainfo does not provide $exe"
[ -f "$assets/$id.svg" ] || bad "no $id.svg icon"

# Licence, home page, screenshots.
grep -q '<project_license>GPL-3.0-or-later</project_license>' "$metainfo" ||
  bad "metainfo project_license is not GPL-3.0-or-later"
grep -q '<metadata_license>CC0-1.0</metadata_license>' "$metainfo" || bad "metainfo metadata_license is not CC0-1.0"
home=$(sed -n 's|.*<url type="homepage">\([^<]*\)</url>.*|\1|p' "$metainfo")
[[ $home == https://*/ ]] || bad "metainfo has no https home page ending in / ('$home')"
png_size() { # FILE: WxH of a PNG (big-endian u32 width and height at bytes 16..23)
  [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || { echo "not-a-png"; return; }
  echo "$(od -An -tu1 -j16 -N4 "$1" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')x$(
    od -An -tu1 -j20 -N4 "$1" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')"
}
shots=$assets/screenshots
[ "$(grep -c '<screenshot type="default">' "$metainfo")" = 1 ] || bad "metainfo needs exactly one default screenshot"
n=0
while read -r w h url; do
  n=$((n + 1))
  f=${url##*/}
  [ "$url" = "${home}assets/screenshots/$f" ] || bad "screenshot $url is not under ${home}assets/screenshots/"
  [ -f "$shots/$f" ] || { bad "screenshot $f is not in $shots"; continue; }
  [ "$(png_size "$shots/$f")" = "${w}x$h" ] || bad "$f is $(png_size "$shots/$f"), the metainfo says ${w}x$h"
done < <(sed -n 's|.*<image type="source" width="\([0-9]*\)" height="\([0-9]*\)">\([^<]*\)</image>.*|\1 \2 \3|p' "$metainfo")
[ "$n" = "$(grep -c '<image' "$metainfo")" ] || bad "every screenshot image needs type=\"source\", width and height"
for f in "$shots"/*.png; do
  [ -f "$f" ] || continue
  grep -q "/assets/screenshots/$(basename "$f")<" "$metainfo" || bad "$(basename "$f") is not in the metainfo"
done
[ "$n" -ge 2 ] || bad "only $n screenshots in the metainfo"
echo "metainfo: GPL-3.0-or-later, home $home, $n screenshots"

# Rendered icons: a PNG's width and height are big-endian u32 at bytes 16..23.
if [ -n "$icons" ] && [ ! -d "$icons" ]; then
  if [ "${BF_REQUIRE_ALL:-0}" = 1 ]; then
    bad "no rendered icons in $icons (is rsvg-convert installed? librsvg2-bin)"
  else
    echo "note: no rendered icons in $icons (rsvg-convert missing?): sizes not checked"
  fi
elif [ -n "$icons" ]; then
  n=0
  for png in "$icons"/*x*/"$id".png; do
    [ -f "$png" ] || continue
    size=$(basename "$(dirname "$png")")
    w=$(od -An -tu1 -j16 -N4 "$png" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')
    h=$(od -An -tu1 -j20 -N4 "$png" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')
    [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || bad "$png is not a PNG"
    [ "${w}x${h}" = "$size" ] || bad "$png is ${w}x${h}, not $size"
    n=$((n + 1))
  done
  [ $n -ge 9 ] || bad "only $n rendered icon sizes in $icons"
  echo "icons: $n sizes checked"
fi
[ $fail = 0 ] || exit 1
echo "PASS: desktop entry, AppStream metainfo and icons"
