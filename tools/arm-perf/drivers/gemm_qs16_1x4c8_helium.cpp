// arm-perf: targets=m55 loop-elements=32 unit=MAC
// Helium (MVE) 16x8 GEMM 1x4c8 (VLDRB.S16 + VMLALDAVA.S16; int16 activations, int8 weights, int64
// bias and accumulator) at (M, N, K) = (196, 128, 128) (TESSERA_PERF_M/N/K override), per-channel stage.
#define TESSERA_PERF_QS16 1
#include <tessera/kernels/gemm/helium/gemm_qs16_1x4c8_helium.hpp>
#include "gemm_qs8_common.hpp"
TESSERA_PERF_KERNEL { TESSERA_PERF_GEMM_QS16(tessera::kernels::gemm_qs16_1x4c8_helium); }
namespace tessera_perf {
void setup() { setup_gemm(tessera::kernels::gemm_qs16_1x4c8_helium::nr(), tessera::kernels::gemm_qs16_1x4c8_helium::kr()); }
}  // namespace tessera_perf
