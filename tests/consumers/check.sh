#!/bin/sh
# tessera used two ways, each built and run for real:
#   1. as a Meson subproject: dependency('tessera') resolved through meson.override_dependency;
#   2. installed with `meson install`, found by pkg-config (tessera.pc), compiled by hand.
# usage: check.sh SOURCE_ROOT CXX
set -eu
src=$1
cxx=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== subproject"
cp -r "$src/tests/consumers/subproject" "$work/app"
mkdir -p "$work/app/subprojects"
ln -s "$src" "$work/app/subprojects/tessera"
CXX="$cxx" meson setup "$work/app-build" "$work/app" >"$work/log1" 2>&1 || { cat "$work/log1"; exit 1; }
meson compile -C "$work/app-build" >"$work/log2" 2>&1 || { cat "$work/log2"; exit 1; }
"$work/app-build/app" | tee "$work/out1"
grep -q "requantized: 2 -1 -128 127" "$work/out1"

echo "== installed + pkg-config"
CXX="$cxx" meson setup "$work/lib-build" "$src" --prefix="$work/prefix" -Dtests=disabled -Dbench=disabled \
  -Dexamples=false >"$work/log3" 2>&1 || { cat "$work/log3"; exit 1; }
meson install -C "$work/lib-build" >"$work/log4" 2>&1 || { cat "$work/log4"; exit 1; }
pc=$(dirname "$(find "$work/prefix" -name tessera.pc | head -n 1)")
test -f "$work/prefix/include/tessera/tessera.hpp"
test -f "$work/prefix/include/tessera/arch/tags.hpp"
test -f "$work/prefix/include/tessera/kernels/requant/registry.hpp"
flags=$(PKG_CONFIG_PATH="$pc" pkg-config --cflags tessera)
echo "pkg-config --cflags tessera: $flags"
# shellcheck disable=SC2086
"$cxx" -std=c++20 -O2 $flags "$src/tests/consumers/subproject/main.cpp" -o "$work/app2"
"$work/app2" | tee "$work/out2"
grep -q "requantized: 2 -1 -128 127" "$work/out2"
echo "consumers: ok"
