// arm-perf: targets=aarch64 loop-elements=1 march=armv8.2-a+sve unit=MAC
// Whole depthwise_conv2d_s8 on SVE (3x3 stride 2 SAME, 112 x 112 x 64 input: MobileNetV1 layer d), with the row kernel switched off: every pixel on dwconv_qs8_4vl_sve (the operator before the row path) (dwconv_op_common.hpp). SVE1 only.
// Named outside dwconv.sh's drivers/dwconv_*.cpp glob: run it by name (icount.sh / mca.sh).
#include <tessera/kernels/dwconv/sve/dwconv_qs8_4vl_sve.hpp>
#include <tessera/kernels/dwconv/sve/dwconv3x3_qs8_2vl_sve.hpp>
#define DW_T std::int8_t
#define DW_OP tessera::depthwise_conv2d_s8<tessera::arch::sve, tessera::kernels::dwconv_qs8_4vl_sve, tessera_perf::unipass_only<tessera::kernels::dwconv3x3_qs8_2vl_sve>>
#define TESSERA_PERF_C 64
#define TESSERA_PERF_STRIDE 2
#include "dwconv_op_common.hpp"
