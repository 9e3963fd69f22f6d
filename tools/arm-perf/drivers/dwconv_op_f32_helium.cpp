// arm-perf: targets=m55 loop-elements=1 unit=MAC
// Whole depthwise_conv2d_f32 on Helium (3x3 stride 1 SAME, 28 x 28 x 32): dwconv3x3_f32_4x4_helium_fma
// serves the interior pixels, dwconv_f32_2x8_helium_fma the edges (dwconv_op_common.hpp).
#include <tessera/kernels/dwconv/helium/dwconv_f32_2x8_helium_fma.hpp>
#include <tessera/kernels/dwconv/helium/dwconv3x3_f32_4x4_helium_fma.hpp>
#define DW_T float
#define DW_OP tessera::depthwise_conv2d_f32<tessera::arch::helium, tessera::kernels::dwconv_f32_2x8_helium_fma, tessera::kernels::dwconv3x3_f32_4x4_helium_fma>
#define TESSERA_PERF_HW 28
#include "dwconv_op_common.hpp"
