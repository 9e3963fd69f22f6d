// arm-perf: targets=aarch64 loop-elements=384 march=armv8.2-a+sve unit=MAC
// SVE fp32 GEMM 8x2vl at (M, N, K) = (196, 128, 128) (TESSERA_PERF_M/N/K override); SVE1 only,
// so the object runs on an SVE-only core (Neoverse V1). nr() grows with the vector length.
#include <tessera/kernels/gemm/sve/gemm_f32_8x2vl_sve_fmla.hpp>
#include "gemm_f32_common.hpp"
TESSERA_PERF_KERNEL { TESSERA_PERF_GEMM_F32(tessera::kernels::gemm_f32_8x2vl_sve_fmla); }
namespace tessera_perf {
void setup() { setup_gemm(tessera::kernels::gemm_f32_8x2vl_sve_fmla::nr()); }
}  // namespace tessera_perf
