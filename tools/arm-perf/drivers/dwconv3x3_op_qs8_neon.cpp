// arm-perf: targets=aarch64 loop-elements=1 march=armv8-a unit=MAC
// Whole depthwise operator on neon (dwconv_op_common.hpp: TESSERA_PERF_LAYER=b|d|m|n, TESSERA_PERF_PATH=row|unipass|portable|gemm):
// 3x3 row kernel dwconv3x3_qs8_2x16_neon_mlal, unipass kernel dwconv_qs8_16c_neon_mlal.
// Named outside dwconv.sh's drivers/dwconv_*.cpp glob: run it by name (icount.sh).
#include <tessera/kernels/dwconv/neon/dwconv_qs8_16c_neon_mlal.hpp>
#include <tessera/kernels/dwconv/neon/dwconv3x3_qs8_2x16_neon_mlal.hpp>
#define DW_TAG tessera::arch::neon
#define DW_UNIPASS tessera::kernels::dwconv_qs8_16c_neon_mlal
#define DW_ROW tessera::kernels::dwconv3x3_qs8_2x16_neon_mlal
#define DW_T std::int8_t
#define DW_GEMM tessera::select_t<tessera::op::gemm_qs8, DW_TAG>  // path gemm (layer n)
#include "dwconv_op_common.hpp"
