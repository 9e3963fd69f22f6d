// arm-perf: targets=aarch64 loop-elements=16
#include <tessera/kernels/requant/neon/requant_s32_neon.hpp>
#include "requant_common.hpp"
TESSERA_PERF_KERNEL { TESSERA_PERF_REQUANT(tessera::kernels::requant_s32_neon); }
