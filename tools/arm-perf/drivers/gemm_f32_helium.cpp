// arm-perf: targets=m55 loop-elements=24 unit=MAC
// Helium (MVE.F) fp32 GEMM 3x8 at (M, N, K) = (196, 128, 128) (TESSERA_PERF_M/N/K override).
#include <tessera/kernels/gemm/helium/gemm_f32_3x8_helium_fma.hpp>
#include "gemm_f32_common.hpp"
TESSERA_PERF_KERNEL { TESSERA_PERF_GEMM_F32(tessera::kernels::gemm_f32_3x8_helium_fma); }
namespace tessera_perf {
void setup() { setup_gemm(tessera::kernels::gemm_f32_3x8_helium_fma::nr()); }
}  // namespace tessera_perf
