// arm-perf: targets=aarch64 loop-elements=512 march=armv8-a unit=MAC
// Neon int8 GEMM 1x16c16 (SMULL + SMLSL2 + SADALP, no dotprod) at (M, N, K) = (196, 128, 128)
// (TESSERA_PERF_M/N/K override), per-channel output stage; baseline Armv8-A.
#include <tessera/kernels/gemm/neon/gemm_qs8_1x16c16_neon_mlal.hpp>
#include "gemm_qs8_common.hpp"
TESSERA_PERF_KERNEL { TESSERA_PERF_GEMM_QS8(tessera::kernels::gemm_qs8_1x16c16_neon_mlal); }
namespace tessera_perf {
void setup() { setup_gemm(tessera::kernels::gemm_qs8_1x16c16_neon_mlal::nr(), tessera::kernels::gemm_qs8_1x16c16_neon_mlal::kr()); }
}  // namespace tessera_perf
