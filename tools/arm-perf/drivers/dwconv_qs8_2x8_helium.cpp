// arm-perf: targets=m55 loop-elements=144 unit=MAC
// Helium int8 depthwise 3x3 (stride 1, padding 1, per-tensor requant) of a 28 x 28 x 32 layer
// (TESSERA_PERF_HW / TESSERA_PERF_C override), one kernel call per output row, as an operator
// would make them. Checked bit for bit against dwconv_qs8_scalar. Cortex-M55 (MVE integer).
#define DW_KERNEL tessera::kernels::dwconv_qs8_2x8_helium
#include <tessera/kernels/dwconv/helium/dwconv_qs8_2x8_helium.hpp>
#define TESSERA_PERF_MAX_CR 8
#define TESSERA_PERF_HW 28
#include "dwconv_qs8_common.hpp"
