// arm-perf: targets=aarch64 loop-elements=1 march=armv8-a unit=MAC
// Whole depthwise operator on neon (dwconv_op_common.hpp: TESSERA_PERF_LAYER=b|d|m|n, TESSERA_PERF_PATH=row|unipass|portable|gemm):
// 3x3 row kernel dwconv3x3_f32_4x8_neon_fma, unipass kernel dwconv_f32_2x16_neon_fma.
// Named outside dwconv.sh's drivers/dwconv_*.cpp glob: run it by name (icount.sh).
#include <tessera/kernels/dwconv/neon/dwconv_f32_2x16_neon_fma.hpp>
#include <tessera/kernels/dwconv/neon/dwconv3x3_f32_4x8_neon_fma.hpp>
#define DW_TAG tessera::arch::neon
#define DW_UNIPASS tessera::kernels::dwconv_f32_2x16_neon_fma
#define DW_ROW tessera::kernels::dwconv3x3_f32_4x8_neon_fma
#define DW_T float
#define DW_GEMM tessera::select_t<tessera::op::gemm_f32, DW_TAG>  // path gemm (layer n)
#include "dwconv_op_common.hpp"
