// arm-perf: targets=aarch64 loop-elements=64 march=armv8-a unit=MAC
// Neon 16x8 GEMM 1x16c1 (SXTL + SMLAL by lane; int16 activations, int8 weights, int64 bias and
// accumulator) at (M, N, K) = (196, 128, 128) (TESSERA_PERF_M/N/K override), per-channel stage.
#define TESSERA_PERF_QS16 1
#include <tessera/kernels/gemm/neon/gemm_qs16_1x16c1_neon_mlal.hpp>
#include "gemm_qs8_common.hpp"
TESSERA_PERF_KERNEL { TESSERA_PERF_GEMM_QS16(tessera::kernels::gemm_qs16_1x16c1_neon_mlal); }
namespace tessera_perf {
void setup() { setup_gemm(tessera::kernels::gemm_qs16_1x16c1_neon_mlal::nr(), tessera::kernels::gemm_qs16_1x16c1_neon_mlal::kr()); }
}  // namespace tessera_perf
