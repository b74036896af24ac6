#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Packaging check for CI (issue #8): builds the Debian package, runs lintian
# on it (an error or a warning fails), installs it on this machine with
# apt-get, checks what it installed and streams for two seconds between the
# installed sender and a headless installed client over loopback, then
# removes the package again (also when a check fails).
#
#   scripts/package-test.sh
#
# Runs as root without prompts (CI), or through sudo. Uses build/ (the
# default flavour of scripts/build.sh), or the build directory named by
# BF_PACKAGE_BUILD_DIR. A bildfunk package installed before is replaced and
# removed. With BF_REQUIRE_ALL=1 the sender and the client must both be in
# the package.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
id=io.github.bildfunk.Bildfunk
step() { echo "--- $*"; }
fail() { echo "package-test: FAIL: $*"; exit 1; }

bash scripts/deps.sh
build=${BF_PACKAGE_BUILD_DIR:-build}
if [ "$build" = build ]; then
  bash scripts/build.sh
else
  cmake -S . -B "$build" -G Ninja -DBF_WERROR=ON >/dev/null
  cmake --build "$build" -j "$(nproc)"
fi
step "building the package"
rm -f "$build"/bildfunk_*.deb
cmake --build "$build" --target package >"$build/package.log" 2>&1 ||
  { cat "$build/package.log"; fail "cpack"; }
debs=("$build"/bildfunk_*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "expected one $build/bildfunk_*.deb"
deb=$(cd "$(dirname "${debs[0]}")" && pwd)/$(basename "${debs[0]}")
echo "$(basename "$deb"): $(stat -c %s "$deb") bytes"
dpkg-deb -f "$deb" Package Version Architecture Depends
step "lintian (errors and warnings fail)"
bash packaging/tests/lintian.sh "$deb" || fail "lintian"

tmp=$(mktemp -d)
send_pid=
remove() {
  [ -z "$send_pid" ] || kill "$send_pid" 2>/dev/null || true
  if dpkg-query -W -f='${Status}' bildfunk 2>/dev/null | grep "install ok installed" >/dev/null; then
    step "removing the package"
    $sudo apt-get remove --purge -y -qq bildfunk >/dev/null
  fi
  rm -rf "$tmp"
}
trap remove EXIT

step "installing with apt-get"
$sudo apt-get install -y -qq --no-install-recommends "$deb" >"$tmp/apt.log" 2>&1 ||
  { cat "$tmp/apt.log"; fail "apt-get install"; }
dpkg-query -W -f='${Package} ${Version} ${Status}\n' bildfunk

# Everything below runs outside the tree, from the installed files only.
cd "$tmp"
programs=()
for p in bildfunk bildfunk-send bildfunk-netsim; do
  [ -x /usr/bin/$p ] && programs+=("$p")
done
echo "installed programs: ${programs[*]:-none}"
[ ${#programs[@]} -gt 0 ] || fail "the package installed no program"
for p in "${programs[@]}"; do
  [ "$(command -v "$p")" = /usr/bin/$p ] || fail "$p resolves to $(command -v "$p"), not /usr/bin/$p"
  v=$("$p" --version) || fail "$p --version exited non-zero"
  echo "$p --version: $v"
  grep -q "$(dpkg-query -W -f='${Version}' bildfunk)" <<<"$v" || fail "$p --version does not say the package version"
  if grep -rqs 'path-exclude=/usr/share/man' /etc/dpkg/dpkg.cfg.d/; then
    echo "note: dpkg is set to leave out man pages on this machine"
  else
    gzip -dc /usr/share/man/man1/$p.1.gz | grep '^\.TH' >/dev/null || fail "no man page /usr/share/man/man1/$p.1.gz"
  fi
  bash -c "source /usr/share/bash-completion/completions/$p && complete -p $p" >/dev/null ||
    fail "the bash completion of $p does not load"
done
if [ -x /usr/bin/bildfunk ]; then
  desktop-file-validate /usr/share/applications/$id.desktop || fail "installed desktop entry"
  appstreamcli validate --no-net /usr/share/metainfo/$id.metainfo.xml >/dev/null ||
    fail "installed AppStream metainfo"
fi
[ -f /usr/share/icons/hicolor/256x256/apps/$id.png ] || fail "no 256x256 icon installed"
if command -v tshark >/dev/null; then
  tshark -G protocols 2>/dev/null | awk -F'\t' '$3 == "bildfunk" {f = 1} END {exit !f}' ||
    fail "tshark does not load the installed bildfunk dissector"
  echo "tshark loads the installed dissector"
fi

if [ -x /usr/bin/bildfunk ] && [ -x /usr/bin/bildfunk-send ]; then
  step "2-second headless loopback stream from the installed programs"
  port=$((41000 + RANDOM % 1000))
  bildfunk-send --direct --listen "127.0.0.1:$port" --duration 2 --quiet --stats-json sender.json \
    >sender.log 2>&1 &
  send_pid=$!
  sleep 0.3
  set +e
  timeout 30 bildfunk --direct "127.0.0.1:$port" --headless --duration 10 --quiet \
    --stats-json client.json >client.log 2>&1
  crc=$?
  timeout 10 tail --pid="$send_pid" -f /dev/null
  wait "$send_pid"
  src=$?
  set -e
  send_pid=
  [ $crc -eq 0 ] || { cat client.log; fail "installed bildfunk exited $crc"; }
  [ $src -eq 0 ] || { cat sender.log; fail "installed bildfunk-send exited $src"; }
  jnum() { tr -d '\n' <"$1" | grep -oE "\"$2\": *[0-9.]+" | head -n1 | grep -oE '[0-9.]+$' || true; }
  sent=$(jnum sender.json frames_sent)
  shown=$(jnum client.json frames_presented)
  lost=$(jnum client.json frames_lost)
  end=$(tr -d '\n' <client.json | grep -oE '"end": *"[a-z_]+"' | head -n1 || true)
  echo "sender: $sent frames sent; client: $shown presented, $lost lost, $end"
  [ "${shown:-0}" -ge 60 ] || fail "only ${shown:-0} pictures presented in a 2-second stream"
  [ "$end" = '"end": "bye"' ] || fail "the client did not end on the sender's BYE ($end)"
elif [ "${BF_REQUIRE_ALL:-0}" = 1 ]; then
  fail "the package lacks bildfunk or bildfunk-send (BF_REQUIRE_ALL=1)"
else
  echo "package-test: sender or client not packaged: no stream test"
fi

cd "$repo"
remove
trap - EXIT
dpkg-query -W -f='${Status}' bildfunk 2>/dev/null | grep "install ok installed" >/dev/null &&
  fail "bildfunk is still installed after removal"
for p in "${programs[@]}"; do [ ! -e /usr/bin/$p ] || fail "/usr/bin/$p left behind"; done
echo "package-test: PASS ($(basename "$deb") built, installed, run and removed)"
