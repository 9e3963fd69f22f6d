// arm-perf: targets=aarch64 loop-elements=vl/32 march=armv8.2-a+sve
// SVE1 kernel, compiled for SVE1 only (its ISA): with +sve2 GCC 12 puts the SVE2 instruction USRA
// into its loop, which an SVE-only core (Neoverse V1) cannot run. `--march armv8.6-a+sve2` shows that.
#include <tessera/kernels/requant/sve/requant_s32_sve.hpp>
#include "requant_common.hpp"
TESSERA_PERF_KERNEL { TESSERA_PERF_REQUANT(tessera::kernels::requant_s32_sve); }
