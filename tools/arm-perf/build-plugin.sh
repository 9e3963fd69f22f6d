#!/bin/sh
# Build QEMU 7.2's TCG instruction-counting plugin (tests/plugin/insn.c -> libinsn.so) from
# Debian's qemu source package, without touching /etc/apt: a private sources list with deb-src
# lines, private apt lists/cache, `apt-get source --download-only`, then one gcc call.
#
#   tools/arm-perf/build-plugin.sh            # prints the path of libinsn.so (cached)
#
# Cache: $TESSERA_PERF_CACHE (default ~/.cache/tessera-arm-perf). Never commit the .so.
# Needs: dpkg-dev (dpkg-source), libglib2.0-dev (glib pkg-config), gcc, network access to the
# Debian archive for the first build only.
set -eu
cache=${TESSERA_PERF_CACHE:-$HOME/.cache/tessera-arm-perf}
so=$cache/libinsn.so
if [ -s "$so" ]; then echo "$so"; exit 0; fi
mkdir -p "$cache"
cd "$cache"
src=$(ls -d qemu-7.2*/ 2>/dev/null | head -n 1 || true)
if [ -z "$src" ]; then
  apt=$cache/apt
  mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$apt/dl"
  # Same archive as the installed QEMU (Debian 12 bookworm + security), source packages only.
  cat > "$apt/sources.list" <<'SRC'
deb-src http://deb.debian.org/debian bookworm main
deb-src http://deb.debian.org/debian bookworm-updates main
deb-src http://deb.debian.org/debian-security bookworm-security main
SRC
  opts="-o Dir::Etc::SourceList=$apt/sources.list -o Dir::Etc::SourceParts=/dev/null
        -o Dir::State::Lists=$apt/lists -o Dir::Cache=$apt -o Dir::Cache::archives=$apt/archives
        -o APT::Get::List-Cleanup=0"
  # shellcheck disable=SC2086
  apt-get $opts update >&2
  # Pin to the installed version when the archive still carries it (else the newest 7.2 source).
  ver=$(dpkg-query -W -f='${source:Version}' qemu-user 2>/dev/null || true)
  cd "$apt/dl"
  # shellcheck disable=SC2086
  apt-get $opts source --download-only "qemu${ver:+=$ver}" >&2 || apt-get $opts source --download-only qemu >&2
  dsc=$(ls qemu_*.dsc | head -n 1)
  # Only the two files we need are extracted from the upstream tarball (the full tree is ~1 GB).
  orig=$(ls qemu_*.orig.tar.* | head -n 1)
  top=$(tar -tf "$orig" | head -n 1 | cut -d/ -f1)
  tar -xf "$orig" -C "$cache" "$top/include/qemu/qemu-plugin.h" "$top/tests/plugin/insn.c"
  src=$top/
  echo "source: $dsc ($orig)" > "$cache/SOURCE"
fi
cd "$cache"
# shellcheck disable=SC2046
gcc -O2 -shared -fPIC -o "$so.tmp" "${src}tests/plugin/insn.c" -I"${src}include/qemu" \
    $(pkg-config --cflags --libs glib-2.0)
mv "$so.tmp" "$so"
echo "$so"
