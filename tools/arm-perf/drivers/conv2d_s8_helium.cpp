// arm-perf: targets=m55 loop-elements=1 unit=MAC
// conv2d_s8 (gather + GEMM + requant) on Helium: select_t<op::gemm_qs8, arch::helium> =
// gemm_qs8_2x3c16_helium. The M55 has no environment: the layer is TESSERA_PERF_DEFAULT_LAYER
// (1x1 unless a copy of this driver defines it before including it; conv2d_s8_common.hpp).
// The operator is called through a noinline function, as an ordinary translation unit would call
// it: under the harness's `flatten`, GCC 12 inlines both GEMM call sites into one function and
// spills three of the pointwise tile's six accumulators (23 instead of 12 instructions per k-group;
// 1x1 0.372 instead of 0.239 instructions/MAC), a cost of the harness, not of the operator.
// (The flattened form is not uniformly worse: 3x3s2 0.762 flattened, 0.807 called; GCC 12 on the
// M55's few registers schedules the same tile differently in each context.)
#include <type_traits>
#include <tessera/kernels/gemm/helium/gemm_qs8_2x3c16_helium.hpp>
#include "conv2d_s8_common.hpp"
using conv = tessera::conv2d_s8<tessera::arch::helium>;
static_assert(std::is_same_v<conv::kernel, tessera::kernels::gemm_qs8_2x3c16_helium>);
namespace tessera_perf {
[[gnu::noinline]] void run_conv() {
  if (!conv::run(geo, v_in, v_packed, v_out, stage, v_ws, v_ws_bytes).ok()) std::abort();
}
void setup() { setup_conv<conv>(); }
}  // namespace tessera_perf
TESSERA_PERF_KERNEL { tessera_perf::run_conv(); }
