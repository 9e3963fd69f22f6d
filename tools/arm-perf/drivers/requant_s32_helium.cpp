// arm-perf: targets=m55 loop-elements=4
#include <tessera/kernels/requant/helium/requant_s32_helium.hpp>
#include "requant_common.hpp"
TESSERA_PERF_KERNEL { TESSERA_PERF_REQUANT(tessera::kernels::requant_s32_helium); }
