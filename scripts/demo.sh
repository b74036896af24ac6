#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The main job: installs what is missing, builds, and runs a loopback stream
# (sender with the built-in test pattern into the client) in a window where a
# display exists, with headless statistics where none does.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
if [ ! -x build/sender/bildfunk-send ] || [ ! -x build/client/bildfunk ]; then
  echo "demo: the sender and client are not built yet (issues #4 and #5);"
  echo "demo: running the transport core's FEC and reassembly benchmarks instead."
  build/bench/bildfunk-bench fec
  build/bench/bildfunk-bench reassembly
  exit 0
fi
# The normal path: a TLS control session with pairing, then a sealed stream.
# Both programs keep their identities and pins in a throwaway directory, and
# the demo plays both users: it types the code the client shows into the
# sender and the code the sender shows into the client.
secs=${BF_DEMO_SECONDS:-10}
demo=$(mktemp -d /tmp/bildfunk-demo.XXXXXX)
mkfifo "$demo/op"
exec 3<> "$demo/op"
build/sender/bildfunk-send --control 127.0.0.1:0 --listen 127.0.0.1:0 --config-dir "$demo/sender" \
  --source testsrc --duration "$secs" < "$demo/op" 2> >(tee "$demo/sender.err" >&2) &
sender=$!
trap 'kill $sender 2>/dev/null || true; rm -rf "$demo"' EXIT
cport=
for _ in $(seq 200); do
  cport=$(sed -n 's/.*control on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$demo/sender.err" | head -n 1)
  [ -n "$cport" ] && break
  sleep 0.05
done
[ -n "$cport" ] || { echo "demo: the sender did not start" >&2; exit 1; }
client=(build/client/bildfunk "127.0.0.1:$cport" --config-dir "$demo/client" --name demo)
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  client+=(--overlay normal)
else
  client+=(--headless --duration "$secs")
fi
mkfifo "$demo/cin"
"${client[@]}" < "$demo/cin" 2> >(tee "$demo/client.err" >&2) &
cl=$!
exec 4> "$demo/cin"
code= scode=
for _ in $(seq 200); do
  code=$(sed -n 's/.*code \([0-9]\{6\}\) (type it on the sender).*/\1/p' "$demo/client.err" | head -n 1)
  scode=$(sed -n "s/.*this sender's code: \([0-9]\{6\}\).*/\1/p" "$demo/sender.err" | head -n 1)
  [ -n "$code" ] && [ -n "$scode" ] && break
  sleep 0.05
done
if [ -n "$code" ] && [ -n "$scode" ]; then
  echo "demo: typing $code on the sender and $scode on the client, as their users would"
  echo "$code" >&3
  echo "$scode" >&4
fi
wait "$cl"
