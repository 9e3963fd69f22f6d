// arm-perf: targets=aarch64 loop-elements=4 cflags=-DTESSERA_USE_XSIMD=1
#include <tessera/kernels/requant/simd/requant_s32_simd.hpp>
#include "requant_common.hpp"
TESSERA_PERF_KERNEL { TESSERA_PERF_REQUANT(tessera::kernels::requant_s32_simd); }
