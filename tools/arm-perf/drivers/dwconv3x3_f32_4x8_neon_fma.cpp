// arm-perf: targets=aarch64 march=armv8-a unit=MAC
// Neon fp32 3x3 depthwise ROW kernel dwconv3x3_f32_4x8_neon_fma on the interior of a 112 x 112 x 32
// layer, stride TESSERA_PERF_STRIDE (environment, 1 or 2; default 1), checked bit for bit against
// dwconv_f32_scalar (dwconv3x3_row_common.hpp). elements() counts MACs (pixels x C x 9).
// Not matched by dwconv.sh's drivers/dwconv_*.cpp glob: run it by name (see results-dwconv.md).
#include <tessera/kernels/dwconv/neon/dwconv3x3_f32_4x8_neon_fma.hpp>
#define DW_ROW tessera::kernels::dwconv3x3_f32_4x8_neon_fma
#define DW_T float
#include "dwconv3x3_row_common.hpp"
