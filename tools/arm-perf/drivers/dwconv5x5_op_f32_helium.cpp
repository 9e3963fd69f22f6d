// arm-perf: targets=m55 loop-elements=1 unit=MAC
// Whole depthwise operator on helium, 5x5 layers (dwconv_op_common.hpp: TESSERA_PERF_LAYER=v|w,
// TESSERA_PERF_PATH=row|unipass; the M55 has no environment: copies of this driver redefine
// TESSERA_PERF_DEFAULT_LAYER "w" and/or TESSERA_PERF_DEFAULT_PATH "unipass"):
// 5x5 row kernel dwconv5x5_f32_4x4_helium_fma, unipass kernel dwconv_f32_2x8_helium_fma.
// Named outside dwconv.sh's drivers/dwconv_*.cpp glob: run it by name (icount.sh).
#include <tessera/kernels/dwconv/helium/dwconv_f32_2x8_helium_fma.hpp>
#include <tessera/kernels/dwconv/helium/dwconv3x3_f32_4x4_helium_fma.hpp>
#include <tessera/kernels/dwconv/helium/dwconv5x5_f32_4x4_helium_fma.hpp>
#define DW_TAG tessera::arch::helium
#define DW_UNIPASS tessera::kernels::dwconv_f32_2x8_helium_fma
#define DW_ROW tessera::kernels::dwconv3x3_f32_4x4_helium_fma
#define DW_ROW5 tessera::kernels::dwconv5x5_f32_4x4_helium_fma
#define DW_T float
#ifndef TESSERA_PERF_DEFAULT_LAYER
#define TESSERA_PERF_DEFAULT_LAYER "v"
#endif
#ifndef TESSERA_PERF_HW
#define TESSERA_PERF_HW 112
#endif
#include "dwconv_op_common.hpp"
