// arm-perf: targets=m55 loop-elements=1 unit=MAC
// Whole depthwise operator on helium (dwconv_op_common.hpp: TESSERA_PERF_LAYER=b|d|m|n, TESSERA_PERF_PATH=row|unipass|portable|gemm):
// 3x3 row kernel dwconv3x3_qs8_2x8_helium (select_t), unipass kernel dwconv_qs8_2x8_helium.
// Named outside dwconv.sh's drivers/dwconv_*.cpp glob: run it by name (icount.sh).
#include <tessera/kernels/dwconv/helium/dwconv_qs8_2x8_helium.hpp>
#include <tessera/kernels/dwconv/registry.hpp>
#define DW_TAG tessera::arch::helium
#define DW_UNIPASS tessera::kernels::dwconv_qs8_2x8_helium
#define DW_ROW tessera::select_t<tessera::op::dwconv3x3_qs8, tessera::arch::helium>
#define DW_T std::int8_t
#define DW_GEMM tessera::select_t<tessera::op::gemm_qs8, DW_TAG>  // path gemm (layer n)
#define TESSERA_PERF_HW 28
#include "dwconv_op_common.hpp"
