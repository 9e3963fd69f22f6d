// arm-perf: targets=aarch64 march=armv8-a unit=MAC
// Whole depthwise_conv2d_f32 on Neon over MobileNetV1 layer b (TESSERA_PERF_LAYER=b, default: 3x3 s1
// 112x112x32) or d (=d: 3x3 s2 112x112x64): interior pixels on dwconv3x3_f32_4x8_neon_fma, edges on
// dwconv_f32_2x16_neon_fma; TESSERA_PERF_PATH=unipass runs every pixel on the unipass kernel (the
// operator before the row path). See dwconv3x3_op_neon_common.hpp. Baseline Armv8-A.
#include <tessera/kernels/dwconv/neon/dwconv3x3_f32_4x8_neon_fma.hpp>
#include <tessera/kernels/dwconv/neon/dwconv_f32_2x16_neon_fma.hpp>
#define DW_F32 1
#define DW_UNIPASS tessera::kernels::dwconv_f32_2x16_neon_fma
#define DW_ROW tessera::kernels::dwconv3x3_f32_4x8_neon_fma
#include "dwconv3x3_op_neon_common.hpp"
