// arm-perf: targets=aarch64 loop-elements=1 march=armv8-a unit=MAC
// conv2d_s8 (gather + GEMM + requant) on gemm_qs8_1x16c16_neon_mlal; layer from TESSERA_PERF_LAYER (conv2d_s8_common.hpp).
#include <tessera/kernels/gemm/neon/gemm_qs8_1x16c16_neon_mlal.hpp>
#include "conv2d_s8_common.hpp"
using conv = tessera::conv2d_s8<tessera::arch::neon, tessera::kernels::gemm_qs8_1x16c16_neon_mlal>;
TESSERA_PERF_KERNEL { TESSERA_PERF_CONV2D_S8(conv); }
namespace tessera_perf {
void setup() { setup_conv<conv>(); }
}  // namespace tessera_perf
