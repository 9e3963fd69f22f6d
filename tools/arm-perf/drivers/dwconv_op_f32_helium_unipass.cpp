// arm-perf: targets=m55 loop-elements=1 unit=MAC
// As dwconv_op_f32_helium.cpp with the row kernel switched off: every pixel on dwconv_f32_2x8_helium_fma.
#include <tessera/kernels/dwconv/helium/dwconv_f32_2x8_helium_fma.hpp>
#include <tessera/kernels/dwconv/helium/dwconv3x3_f32_4x4_helium_fma.hpp>
#define DW_T float
#define DW_OP tessera::depthwise_conv2d_f32<tessera::arch::helium, tessera::kernels::dwconv_f32_2x8_helium_fma, tessera_perf::unipass_only<tessera::kernels::dwconv3x3_f32_4x4_helium_fma>>
#define TESSERA_PERF_HW 28
#include "dwconv_op_common.hpp"
