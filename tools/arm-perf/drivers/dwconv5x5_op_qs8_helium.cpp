// arm-perf: targets=m55 loop-elements=1 unit=MAC
// Whole depthwise operator on helium, int8 5x5 layers (dwconv_op_common.hpp: TESSERA_PERF_LAYER=v|w,
// TESSERA_PERF_PATH=row|unipass; the M55 has no environment: copies of this driver redefine
// TESSERA_PERF_DEFAULT_LAYER "w" and/or TESSERA_PERF_DEFAULT_PATH "unipass", and TESSERA_PERF_HW):
// 5x5 row kernel dwconv5x5_qs8_2x8_helium, 3x3 row kernel dwconv3x3_qs8_2x8_helium, unipass kernel
// dwconv_qs8_2x8_helium.
// Named outside dwconv.sh's drivers/dwconv_*.cpp glob: run it by name (icount.sh).
#include <tessera/kernels/dwconv/helium/dwconv_qs8_2x8_helium.hpp>
#include <tessera/kernels/dwconv/helium/dwconv3x3_qs8_2x8_helium.hpp>
#include <tessera/kernels/dwconv/helium/dwconv5x5_qs8_2x8_helium.hpp>
#define DW_TAG tessera::arch::helium
#define DW_UNIPASS tessera::kernels::dwconv_qs8_2x8_helium
#define DW_ROW tessera::kernels::dwconv3x3_qs8_2x8_helium
#define DW_ROW5 tessera::kernels::dwconv5x5_qs8_2x8_helium
#define DW_T std::int8_t
#ifndef TESSERA_PERF_DEFAULT_LAYER
#define TESSERA_PERF_DEFAULT_LAYER "v"
#endif
#ifndef TESSERA_PERF_HW
#define TESSERA_PERF_HW 112
#endif
#include "dwconv_op_common.hpp"
