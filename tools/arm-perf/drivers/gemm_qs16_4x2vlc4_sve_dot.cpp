// arm-perf: targets=aarch64 march=armv8.2-a+sve unit=MAC
// SVE 16x8 GEMM 4x2vlc4 (int16 x int16 -> int64 indexed SDOT, weights sign-extended by LD1SB; int16
// activations, int8 weights, int64 bias and accumulator) at (M, N, K) = (196, 128, 128)
// (TESSERA_PERF_M/N/K override), per-channel stage; SVE1 only. nr() grows with the VL.
#define TESSERA_PERF_QS16 1
#include <tessera/kernels/gemm/sve/gemm_qs16_4x2vlc4_sve_dot.hpp>
#include "gemm_qs8_common.hpp"
TESSERA_PERF_KERNEL { TESSERA_PERF_GEMM_QS16(tessera::kernels::gemm_qs16_4x2vlc4_sve_dot); }
namespace tessera_perf {
void setup() { setup_gemm(tessera::kernels::gemm_qs16_4x2vlc4_sve_dot::nr(), tessera::kernels::gemm_qs16_4x2vlc4_sve_dot::kr()); }
}  // namespace tessera_perf
