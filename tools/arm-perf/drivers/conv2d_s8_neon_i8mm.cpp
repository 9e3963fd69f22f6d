// arm-perf: targets=aarch64 loop-elements=1 march=armv8.6-a+i8mm unit=MAC
// conv2d_s8 (gather + GEMM + requant) on gemm_qs8_4x16c8_neon_i8mm; layer from TESSERA_PERF_LAYER (conv2d_s8_common.hpp).
#include <tessera/kernels/gemm/neon/gemm_qs8_4x16c8_neon_i8mm.hpp>
#include "conv2d_s8_common.hpp"
using conv = tessera::conv2d_s8<tessera::arch::neon_i8mm, tessera::kernels::gemm_qs8_4x16c8_neon_i8mm>;
TESSERA_PERF_KERNEL { TESSERA_PERF_CONV2D_S8(conv); }
namespace tessera_perf {
void setup() { setup_conv<conv>(); }
}  // namespace tessera_perf
