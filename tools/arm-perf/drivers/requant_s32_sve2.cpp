// arm-perf: targets=aarch64 loop-elements=vl/32
#include <tessera/kernels/requant/sve2/requant_s32_sve2.hpp>
#include "requant_common.hpp"
TESSERA_PERF_KERNEL { TESSERA_PERF_REQUANT(tessera::kernels::requant_s32_sve2); }
