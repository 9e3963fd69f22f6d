#!/bin/sh
# Regenerates tools/arm-perf/results-dwconv.md: for every depthwise driver (tools/arm-perf/drivers/dwconv_*.cpp)
# the hot loop (instructions, MAC mix, loads, MACs per iteration), llvm-mca-16 cycles per iteration on
# cortex-a55, cortex-a76, neoverse-n1, neoverse-v1 (AArch64) and cortex-m55 (Helium) against the MAC limit
# and the load limit (llvm-mca on the loop's MAC instructions alone and on its loads alone), which of the
# two binds, and QEMU's exact instructions per MAC (SVE at 128/256/512 bits). gemm.sh --family dwconv.
#   tools/arm-perf/dwconv.sh [--clang] [--out FILE] [D.cpp...]
# Build products: $TESSERA_PERF_BUILD (default build/arm-perf)/<driver>.<target>-<compiler>/
# (kernel.s, region.s = the analysed loop, mac.s = its MAC instructions, loads.s = its loads, prog.elf).
exec "$(dirname "$0")/gemm.sh" --family dwconv "$@"
