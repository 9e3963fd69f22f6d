// arm-perf: targets=aarch64 march=armv8-a unit=MAC
// Neon int8 3x3 depthwise ROW kernel dwconv3x3_qs8_2x16_neon_mlal with a per-channel output stage on
// the interior of a 112 x 112 x 32 layer, stride TESSERA_PERF_STRIDE (environment, 1 or 2; default
// 1), checked bit for bit against dwconv_qs8_scalar (dwconv3x3_row_common.hpp). elements() counts
// MACs (pixels x C x 9). Not matched by dwconv.sh's drivers/dwconv_*.cpp glob: run it by name.
#include <tessera/kernels/dwconv/neon/dwconv3x3_qs8_2x16_neon_mlal.hpp>
#define DW_ROW tessera::kernels::dwconv3x3_qs8_2x16_neon_mlal
#define DW_T std::int8_t
#include "dwconv3x3_row_common.hpp"
