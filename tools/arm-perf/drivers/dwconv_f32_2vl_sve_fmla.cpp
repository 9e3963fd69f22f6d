// arm-perf: targets=aarch64 loop-elements=vl/16 march=armv8.2-a+sve unit=MAC
// SVE fp32 depthwise 3x3 (stride 1, padding 1, clamp [-6, 6]) of a 112 x 112 x 32 layer
// (TESSERA_PERF_HW / TESSERA_PERF_C override), one kernel call per output row, as an operator
// would make them. Checked bit for bit against dwconv_f32_scalar (same fused tap order). SVE1 only.
#define DW_KERNEL tessera::kernels::dwconv_f32_2vl_sve_fmla
#include <tessera/kernels/dwconv/sve/dwconv_f32_2vl_sve_fmla.hpp>
#define TESSERA_PERF_MAX_CR 128
#include "dwconv_f32_common.hpp"
