#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs lintian on a built .deb at its default level and fails on every error
# and warning it reports (informational tags are shown, not counted). There
# are no overrides: a tag that had to be overridden would be listed, with the
# reason, in packaging/debian/lintian-overrides and installed by
# packaging/CMakeLists.txt.
#
#   lintian.sh DEB
set -euo pipefail
deb=$1
[ -f "$deb" ] || { echo "FAIL: no package $deb"; exit 1; }
if ! command -v lintian >/dev/null; then
  echo "SKIP: lintian is not installed (scripts/deps.sh installs it)"
  if [ "${BF_REQUIRE_ALL:-0}" = 1 ]; then echo "BF_REQUIRE_ALL=1: failing instead of skipping"; exit 1; fi
  exit 77
fi
# lintian warns on stderr when run as root (CI is); that line is not a finding.
rc=0
out=$(lintian --info "$deb" 2>&1) || rc=$?
out=$(grep -v 'running with root privileges' <<<"$out" || true)
[ -z "$out" ] || printf '%s\n' "$out"
# lintian exits 2 when it found errors (counted below), 1 when it could not run.
[ "$rc" -ne 1 ] || { echo "FAIL: lintian could not check $deb"; exit 1; }
bad=$(grep -cE '^[EW]: ' <<<"$out" || true)
if [ "$bad" -gt 0 ]; then
  echo "FAIL: lintian reports $bad errors and warnings on $(basename "$deb")"
  exit 1
fi
echo "lintian: no errors or warnings on $(basename "$deb")"
