// arm-perf: targets=aarch64 loop-elements=384 march=armv8-a unit=MAC
// Neon fp32 GEMM 8x12 at (M, N, K) = (196, 128, 128) (TESSERA_PERF_M/N/K override); baseline
// Armv8-A, so the compilers cannot bring SVE into it. -DTESSERA_PERF_M=1 measures the GEMV path.
#include <tessera/kernels/gemm/neon/gemm_f32_8x12_neon_fma.hpp>
#include "gemm_f32_common.hpp"
TESSERA_PERF_KERNEL { TESSERA_PERF_GEMM_F32(tessera::kernels::gemm_f32_8x12_neon_fma); }
namespace tessera_perf {
void setup() { setup_gemm(tessera::kernels::gemm_f32_8x12_neon_fma::nr()); }
}  // namespace tessera_perf
