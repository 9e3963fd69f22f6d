// arm-perf: targets=aarch64 loop-elements=1 march=armv8.2-a+sve unit=MAC
// Whole depthwise operator on sve (dwconv_op_common.hpp: TESSERA_PERF_LAYER=b|d|m|n, TESSERA_PERF_PATH=row|unipass|portable|gemm):
// 3x3 row kernel dwconv3x3_f32_8xvl_sve_fmla, unipass kernel dwconv_f32_2vl_sve_fmla.
// Named outside dwconv.sh's drivers/dwconv_*.cpp glob: run it by name (icount.sh).
#include <tessera/kernels/dwconv/sve/dwconv_f32_2vl_sve_fmla.hpp>
#include <tessera/kernels/dwconv/sve/dwconv3x3_f32_8xvl_sve_fmla.hpp>
#define DW_TAG tessera::arch::sve
#define DW_UNIPASS tessera::kernels::dwconv_f32_2vl_sve_fmla
#define DW_ROW tessera::kernels::dwconv3x3_f32_8xvl_sve_fmla
#define DW_T float
#define DW_GEMM tessera::select_t<tessera::op::gemm_f32, DW_TAG>  // path gemm (layer n)
#include "dwconv_op_common.hpp"
