// arm-perf: targets=aarch64 loop-elements=1 march=armv8.2-a+dotprod unit=MAC
// conv2d_s8 (gather + GEMM + requant) on gemm_qs8_4x16c4_neon_dot; layer from TESSERA_PERF_LAYER (conv2d_s8_common.hpp).
#include <tessera/kernels/gemm/neon/gemm_qs8_4x16c4_neon_dot.hpp>
#include "conv2d_s8_common.hpp"
using conv = tessera::conv2d_s8<tessera::arch::neon_dot, tessera::kernels::gemm_qs8_4x16c4_neon_dot>;
TESSERA_PERF_KERNEL { TESSERA_PERF_CONV2D_S8(conv); }
namespace tessera_perf {
void setup() { setup_conv<conv>(); }
}  // namespace tessera_perf
