// arm-perf: targets=m55 loop-elements=1 unit=MAC
// Whole depthwise operator on helium (dwconv_op_common.hpp: TESSERA_PERF_LAYER=b|d|m|n, TESSERA_PERF_PATH=row|unipass|portable|gemm):
// 3x3 row kernel dwconv3x3_f32_4x4_helium_fma, unipass kernel dwconv_f32_2x8_helium_fma.
// Named outside dwconv.sh's drivers/dwconv_*.cpp glob: run it by name (icount.sh).
#include <tessera/kernels/dwconv/helium/dwconv_f32_2x8_helium_fma.hpp>
#include <tessera/kernels/dwconv/helium/dwconv3x3_f32_4x4_helium_fma.hpp>
#define DW_TAG tessera::arch::helium
#define DW_UNIPASS tessera::kernels::dwconv_f32_2x8_helium_fma
#define DW_ROW tessera::kernels::dwconv3x3_f32_4x4_helium_fma
#define DW_T float
#define DW_GEMM tessera::select_t<tessera::op::gemm_f32, DW_TAG>  // path gemm (layer n)
#define TESSERA_PERF_HW 28
#include "dwconv_op_common.hpp"
