// arm-perf: targets=m55 loop-elements=144 unit=MAC
// Helium fp32 depthwise 3x3 (stride 1, padding 1, clamp [-6, 6]) of a 28 x 28 x 32 layer
// (TESSERA_PERF_HW / TESSERA_PERF_C override), one kernel call per output row, as an operator
// would make them. Checked bit for bit against dwconv_f32_scalar (same fused tap order). Cortex-M55 (MVE-F).
#define DW_KERNEL tessera::kernels::dwconv_f32_2x8_helium_fma
#include <tessera/kernels/dwconv/helium/dwconv_f32_2x8_helium_fma.hpp>
#define TESSERA_PERF_MAX_CR 8
#define TESSERA_PERF_HW 28
#include "dwconv_f32_common.hpp"
