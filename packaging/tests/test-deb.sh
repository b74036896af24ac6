#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the Debian package of a build tree into a scratch folder (CPack, as
# `--target package` does) and checks what is in it: name, version and
# architecture; dependencies computed by dpkg-shlibdeps when there are
# programs; every program with its man page and completion; icons, desktop
# entry, metainfo, docs and the Wireshark dissector; and nothing else (no
# headers, static libraries or test programs leaking in); the fields and
# files Debian policy asks for (a Maintainer with an address, a section that
# fits, a DEP-5 copyright file, a changelog whose newest entry is this
# version); and lintian reports no error or warning (tests/lintian.sh).
#
#   test-deb.sh BUILD_DIR [PROGRAM...]   (the programs this build has)
set -euo pipefail
build=$1
shift
programs=("$@")
skip() {
  echo "SKIP: $*"
  if [ "${BF_REQUIRE_ALL:-0}" = 1 ]; then echo "BF_REQUIRE_ALL=1: failing instead of skipping"; exit 1; fi
  exit 77
}
command -v dpkg-deb >/dev/null || skip "dpkg-deb missing"
command -v dpkg-shlibdeps >/dev/null || skip "dpkg-shlibdeps (dpkg-dev) missing"
command -v lintian >/dev/null || skip "lintian missing"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

cpack --config "$build/CPackConfig.cmake" -B "$tmp" >"$tmp/cpack.log" 2>&1 ||
  { cat "$tmp/cpack.log"; echo "FAIL: cpack"; exit 1; }
debs=("$tmp"/*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || { echo "FAIL: expected one .deb in $tmp"; exit 1; }
deb=${debs[0]}
echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes"

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = bildfunk ] || bad "Package is '$(field Package)'"
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
[ -n "$version" ] && [ "$(field Version)" = "$version" ] || bad "Version '$(field Version)' != '$version'"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] || bad "Architecture '$(field Architecture)'"
[[ $(field Maintainer) =~ ^[^\<\>]+\ \<[^@\ ]+@[^@\ ]+\>$ ]] || bad "Maintainer '$(field Maintainer)' is not 'Name <address>'"
[ "$(field Section)" = video ] || bad "Section is '$(field Section)', not video"
depends=$(field Depends || true)
echo "Depends: $depends"
if [ ${#programs[@]} -gt 0 ]; then
  # shlibdeps ran: every program links the C library, and the transport ISA-L.
  grep -q 'libc6' <<<"$depends" || bad "Depends lacks libc6: dpkg-shlibdeps did not run"
  grep -q 'libisal' <<<"$depends" || bad "Depends lacks libisal (the transport links it)"
  # LAN discovery: both programs link libavahi-client when built with it
  if grep -q '^BF_AVAHI:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
    grep -q 'libavahi-client' <<<"$depends" || bad "Depends lacks libavahi-client (BF_AVAHI)"
  fi
fi

dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./||' | grep -v '/$' | sort >"$tmp/files"
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
id=io.github.bildfunk.Bildfunk
want=(usr/share/icons/hicolor/scalable/apps/$id.svg usr/share/icons/hicolor/16x16/apps/$id.png
      usr/share/icons/hicolor/512x512/apps/$id.png usr/share/doc/bildfunk/protocol.md
      usr/lib/$arch/wireshark/plugins/bildfunk.lua usr/share/doc/bildfunk/copyright
      usr/share/doc/bildfunk/changelog.gz)
docs=(README.md client.md sender.md security.md netsim.md protocol.md)
for d in "${docs[@]}"; do want+=(usr/share/doc/bildfunk/$d); done
for p in "${programs[@]}"; do
  want+=(usr/bin/$p usr/share/man/man1/$p.1.gz usr/share/bash-completion/completions/$p)
  [ "$p" = bildfunk ] && want+=(usr/share/applications/$id.desktop usr/share/metainfo/$id.metainfo.xml)
done
for f in "${want[@]}"; do
  grep -qxF "$f" "$tmp/files" || bad "$f is not in the package"
done
# Nothing outside the places above.
if grep -vE "^usr/(bin/bildfunk[-a-z]*|share/man/man1/bildfunk[-a-z]*\.1\.gz|share/bash-completion/completions/bildfunk[-a-z]*|share/icons/hicolor/[^/]+/apps/$id\.(png|svg)|share/applications/$id\.desktop|share/metainfo/$id\.metainfo\.xml|share/doc/bildfunk/[^/]+|lib/$arch/wireshark/plugins/bildfunk\.lua)$" \
    "$tmp/files" >"$tmp/extra"; then
  bad "unexpected files in the package: $(tr '\n' ' ' <"$tmp/extra")"
fi
# Man pages are gzip-compressed and readable.
for p in "${programs[@]}"; do
  dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/share/man/man1/$p.1.gz" | gzip -dc |
    grep -q '^\.TH' || bad "$p.1.gz is not a gzip-compressed man page"
done
# Debian policy: a DEP-5 copyright file naming the licence, and a changelog
# (native package: changelog.gz) whose newest entry is this version.
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/doc/bildfunk/copyright >"$tmp/copyright"
grep -qx 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' "$tmp/copyright" ||
  bad "the copyright file is not in the DEP-5 format"
grep -qx 'License: GPL-3.0-or-later' "$tmp/copyright" || bad "the copyright file does not name GPL-3.0-or-later"
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/doc/bildfunk/changelog.gz | gzip -dc >"$tmp/changelog" ||
  bad "changelog.gz is not gzip-compressed"
clv=$(dpkg-parsechangelog -l "$tmp/changelog" -S Version 2>&1) || bad "dpkg-parsechangelog: $clv"
[ "$clv" = "$(field Version)" ] || bad "the changelog's newest entry is $clv, the package is $(field Version)"
# The README and the man pages are for an installed system: every path under
# /usr they name is in the package (the licence texts: on every Debian
# system); the README's guides and man pages too, and it offers nothing of the
# source tree (scripts/...).
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/doc/bildfunk/README.md >"$tmp/README.md"
usr_paths() { # NAME FILE: every /usr path FILE names is in the package
  local p rel
  while IFS= read -r p; do
    p=${p%.}
    if [[ $p == /usr/share/common-licenses/* ]]; then
      [ -e "$p" ] || bad "$1 names $p, which this system lacks"
      continue
    fi
    rel=${p#/}; rel=${rel//<multiarch>/$arch}
    grep -qxF "$rel" "$tmp/files" || grep -qF "${rel%/}/" "$tmp/files" ||
      bad "$1 names $p, which is not in the package"
  done < <(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$2" | grep -oE '/usr/[^ `)|,;]*' | sort -u)
}
usr_paths README.md "$tmp/README.md"
for p in "${programs[@]}"; do
  dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/share/man/man1/$p.1.gz" | gzip -dc >"$tmp/$p.1"
  usr_paths "$p(1)" "$tmp/$p.1"
done
while IFS= read -r g; do
  grep -qxF "usr/share/doc/bildfunk/$g" "$tmp/files" || bad "README.md names the guide $g, which is not in the package"
done < <(grep -oE '`[a-z]+\.md`' "$tmp/README.md" | tr -d '`' | sort -u)
while IFS= read -r m; do
  grep -qxF "usr/share/man/man1/$m.1.gz" "$tmp/files" || bad "README.md names $m(1), which is not in the package"
done < <(grep -oE 'bildfunk[-a-z]*\(1\)' "$tmp/README.md" | sed 's/(1)//' | sort -u)
grep -n 'scripts/' "$tmp/README.md" && bad "README.md points at the source tree's scripts/"
echo "files: $(wc -l <"$tmp/files")"
here=$(dirname "$0")
bash "$here/lintian.sh" "$deb" || fail=1
[ $fail = 0 ] || exit 1
echo "PASS: the .deb holds ${#programs[@]} programs and everything that goes with them, nothing else"
