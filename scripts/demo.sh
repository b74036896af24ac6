#!/usr/bin/env bash
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
port=${BF_DEMO_PORT:-47998}
build/sender/bildfunk-send --direct --listen "127.0.0.1:$port" --source testsrc \
  --duration "${BF_DEMO_SECONDS:-10}" &
sender=$!
trap 'kill $sender 2>/dev/null || true' EXIT
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  build/client/bildfunk --direct "127.0.0.1:$port" --overlay normal
else
  build/client/bildfunk --direct "127.0.0.1:$port" --headless --duration "${BF_DEMO_SECONDS:-10}"
fi
