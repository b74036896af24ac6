#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The one list of Debian 12 packages bildfunk needs to build, test, fuzz and
# benchmark. Used by the README quick start, by .ci/run and by developers.
# Installs only what is missing; needs root (or sudo) only when it installs.
set -euo pipefail

packages=(
  # toolchain and build
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  # transport core
  libisal-dev libssl-dev
  # tests
  libcmocka-dev
  # client and sender
  libsdl2-dev libsdl2-ttf-dev libfontconfig-dev fonts-dejavu-core
  libavcodec-dev libavutil-dev libavformat-dev libavdevice-dev libswscale-dev
  # sound: Opus both ways, the file's sound resampled to 48 kHz, PulseAudio capture
  libopus-dev libswresample-dev libpulse-dev
  # input injection on the sender: XTest into the X display (libxtst), uinput
  # devices (libevdev)
  libxtst-dev libevdev-dev
  # real components the tests start: clips, displays, networks, peers, a TURN
  # relay (coturn's turnserver, started by tests/turn/turn_e2e.c itself)
  ffmpeg xvfb x11-apps iproute2 nftables iperf3 tshark jq coturn
  # LAN discovery (issue #18): the programs link libavahi-client; tests/lan
  # starts an avahi-daemon and a private dbus-daemon per namespace, and
  # captures the Wake-on-LAN magic packet with tcpdump
  libavahi-client-dev avahi-daemon dbus tcpdump
  # the input tests type and click into the client's window, and find the
  # root window to take its focus away (tests/input)
  xdotool x11-utils
  # the sound tests (tests/audio): a user PulseAudio with a null sink, paplay
  # and pactl to feed and steer it, sox to make the known sound
  pulseaudio pulseaudio-utils sox
  # packaging: icons, man pages, desktop and AppStream validation (tshark above),
  # Debian policy checks of the .deb (lintian: packaging_deb, scripts/package-test.sh)
  librsvg2-bin help2man desktop-file-utils appstream lintian
  # Windows cross-build of the transport, run under wine
  gcc-mingw-w64-x86-64 wine64
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "install ok installed" >/dev/null; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

# Debian's coturn enables coturn.service, and on a machine that runs systemd
# starts it: a TURN server on port 3478 of every interface with the stock
# /etc/turnserver.conf. The tests start their own on free loopback ports and
# need none; one installed here is stopped and disabled so it is not left
# running unasked (one that was there before is not touched).
if [[ " ${missing[*]} " == *" coturn "* ]] && [ -d /run/systemd/system ]; then
  $sudo systemctl disable --now coturn.service >/dev/null 2>&1 || true
  echo "deps: coturn.service stopped and disabled (the tests start their own turnserver)"
fi
# Likewise avahi-daemon (avahi-daemon.service and its socket): the tests
# start their own in namespaces (tests/lan); one left running would publish
# every sender the other tests start on the machine's LAN.
if [[ " ${missing[*]} " == *" avahi-daemon "* ]] && [ -d /run/systemd/system ]; then
  $sudo systemctl disable --now avahi-daemon.service avahi-daemon.socket >/dev/null 2>&1 || true
  echo "deps: avahi-daemon stopped and disabled (the tests start their own)"
fi
