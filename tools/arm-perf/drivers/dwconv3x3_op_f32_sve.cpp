// arm-perf: targets=aarch64 loop-elements=1 march=armv8.2-a+sve unit=MAC
// Whole depthwise_conv2d_f32 on SVE (3x3 stride 1 SAME, 112 x 112 x 32: MobileNetV1 layer b), dwconv3x3_f32_8xvl_sve_fmla serves the interior pixels, dwconv_f32_2vl_sve_fmla the edges (dwconv_op_common.hpp). SVE1 only.
// Named outside dwconv.sh's drivers/dwconv_*.cpp glob: run it by name (icount.sh / mca.sh).
#include <tessera/kernels/dwconv/sve/dwconv_f32_2vl_sve_fmla.hpp>
#include <tessera/kernels/dwconv/sve/dwconv3x3_f32_8xvl_sve_fmla.hpp>
#define DW_T float
#define DW_OP tessera::depthwise_conv2d_f32<tessera::arch::sve, tessera::kernels::dwconv_f32_2vl_sve_fmla, tessera::kernels::dwconv3x3_f32_8xvl_sve_fmla>
#include "dwconv_op_common.hpp"
