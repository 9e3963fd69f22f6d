// arm-perf: targets=aarch64 loop-elements=vl/32 march=armv8.2-a+sve unit=MAC
// SVE int8 depthwise 3x3 (stride 1, padding 1, per-tensor requant) of a 112 x 112 x 32 layer
// (TESSERA_PERF_HW / TESSERA_PERF_C override), one kernel call per output row, as an operator
// would make them. Checked bit for bit against dwconv_qs8_scalar. SVE1 only.
#define DW_KERNEL tessera::kernels::dwconv_qs8_4vl_sve
#include <tessera/kernels/dwconv/sve/dwconv_qs8_4vl_sve.hpp>
#define TESSERA_PERF_MAX_CR 256
#include "dwconv_qs8_common.hpp"
