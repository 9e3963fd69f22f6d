// arm-perf: targets=aarch64 loop-elements=1024 march=armv8.2-a+dotprod unit=MAC
// Neon int8 GEMM 4x16c4 (SDOT by element) at (M, N, K) = (196, 128, 128) (TESSERA_PERF_M/N/K
// override), per-channel output stage; Armv8.2-A + dotprod, so no SVE can creep in.
#include <tessera/kernels/gemm/neon/gemm_qs8_4x16c4_neon_dot.hpp>
#include "gemm_qs8_common.hpp"
TESSERA_PERF_KERNEL { TESSERA_PERF_GEMM_QS8(tessera::kernels::gemm_qs8_4x16c4_neon_dot); }
namespace tessera_perf {
void setup() { setup_gemm(tessera::kernels::gemm_qs8_4x16c4_neon_dot::nr(), tessera::kernels::gemm_qs8_4x16c4_neon_dot::kr()); }
}  // namespace tessera_perf
