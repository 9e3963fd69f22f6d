// arm-perf: targets=aarch64 loop-elements=1 march=armv8.2-a+sve unit=MAC
// conv2d_f32 on gemm_f32_8x2vl_sve_fmla, panel or indirect path; layer and path from
// TESSERA_PERF_LAYER / TESSERA_PERF_PATH (conv2d_f32_common.hpp).
#include <tessera/kernels/gemm/sve/gemm_f32_8x2vl_sve_fmla.hpp>
#include "conv2d_f32_common.hpp"
using K = tessera::kernels::gemm_f32_8x2vl_sve_fmla;
TESSERA_PERF_KERNEL { tessera_perf::run_conv<K>(); }
namespace tessera_perf {
void setup() { setup_conv<K>(); }
}  // namespace tessera_perf
