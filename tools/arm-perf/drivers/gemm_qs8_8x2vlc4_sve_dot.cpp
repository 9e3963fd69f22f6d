// arm-perf: targets=aarch64 march=armv8.2-a+sve unit=MAC
// SVE int8 GEMM 8x2vlc4 (indexed SDOT) at (M, N, K) = (196, 128, 128) (TESSERA_PERF_M/N/K
// override), per-channel output stage; SVE1 only (runs on Neoverse V1). nr() grows with the VL.
#include <tessera/kernels/gemm/sve/gemm_qs8_8x2vlc4_sve_dot.hpp>
#include "gemm_qs8_common.hpp"
TESSERA_PERF_KERNEL { TESSERA_PERF_GEMM_QS8(tessera::kernels::gemm_qs8_8x2vlc4_sve_dot); }
namespace tessera_perf {
void setup() { setup_gemm(tessera::kernels::gemm_qs8_8x2vlc4_sve_dot::nr(), tessera::kernels::gemm_qs8_8x2vlc4_sve_dot::kr()); }
}  // namespace tessera_perf
