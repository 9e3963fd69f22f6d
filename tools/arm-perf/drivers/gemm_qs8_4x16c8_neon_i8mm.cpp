// arm-perf: targets=aarch64 loop-elements=2048 march=armv8.2-a+dotprod+i8mm unit=MAC
// Neon int8 GEMM 4x16c8 (SMMLA, A pre-interleaved per row tile) at (M, N, K) = (196, 128, 128)
// (TESSERA_PERF_M/N/K override), per-channel output stage; Armv8.2-A + dotprod + i8mm (no SVE).
#include <tessera/kernels/gemm/neon/gemm_qs8_4x16c8_neon_i8mm.hpp>
#include "gemm_qs8_common.hpp"
TESSERA_PERF_KERNEL { TESSERA_PERF_GEMM_QS8(tessera::kernels::gemm_qs8_4x16c8_neon_i8mm); }
namespace tessera_perf {
void setup() { setup_gemm(tessera::kernels::gemm_qs8_4x16c8_neon_i8mm::nr(), tessera::kernels::gemm_qs8_4x16c8_neon_i8mm::kr()); }
}  // namespace tessera_perf
