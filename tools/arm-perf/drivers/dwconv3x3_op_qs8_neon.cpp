// arm-perf: targets=aarch64 march=armv8-a unit=MAC
// Whole depthwise_conv2d_s8 (per-channel stage, input zero point -3) on Neon over MobileNetV1 layer b
// (TESSERA_PERF_LAYER=b, default: 3x3 s1 112x112x32) or d (=d: 3x3 s2 112x112x64): interior pixels on
// dwconv3x3_qs8_2x16_neon_mlal, edges on dwconv_qs8_16c_neon_mlal; TESSERA_PERF_PATH=unipass runs
// every pixel on the unipass kernel (the operator before the row path). See
// dwconv3x3_op_neon_common.hpp. Baseline Armv8-A.
#include <tessera/kernels/dwconv/neon/dwconv3x3_qs8_2x16_neon_mlal.hpp>
#include <tessera/kernels/dwconv/neon/dwconv_qs8_16c_neon_mlal.hpp>
#define DW_F32 0
#define DW_UNIPASS tessera::kernels::dwconv_qs8_16c_neon_mlal
#define DW_ROW tessera::kernels::dwconv3x3_qs8_2x16_neon_mlal
#include "dwconv3x3_op_neon_common.hpp"
