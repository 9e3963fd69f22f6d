// arm-perf: targets=m55 loop-elements=96 unit=MAC
// Helium (MVE) int8 GEMM 2x3c16 (VMLADAVA) at (M, N, K) = (196, 128, 128) (TESSERA_PERF_M/N/K
// override), per-channel output stage.
#include <tessera/kernels/gemm/helium/gemm_qs8_2x3c16_helium.hpp>
#include "gemm_qs8_common.hpp"
TESSERA_PERF_KERNEL { TESSERA_PERF_GEMM_QS8(tessera::kernels::gemm_qs8_2x3c16_helium); }
namespace tessera_perf {
void setup() { setup_gemm(tessera::kernels::gemm_qs8_2x3c16_helium::nr(), tessera::kernels::gemm_qs8_2x3c16_helium::kr()); }
}  // namespace tessera_perf
