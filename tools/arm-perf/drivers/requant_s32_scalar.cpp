// arm-perf: targets=aarch64,m55 loop-elements=1
#include "requant_common.hpp"
TESSERA_PERF_KERNEL { TESSERA_PERF_REQUANT(tessera::kernels::requant_s32_scalar); }
