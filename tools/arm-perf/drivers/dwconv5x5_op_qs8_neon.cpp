// arm-perf: targets=aarch64 loop-elements=1 march=armv8-a unit=MAC
// Whole depthwise operator on neon, int8 5x5 layers (dwconv_op_common.hpp: TESSERA_PERF_LAYER=v|w, TESSERA_PERF_PATH=row|unipass):
// 5x5 row kernel dwconv5x5_qs8_2x16_neon_mlal, 3x3 row kernel dwconv3x3_qs8_2x16_neon_mlal, unipass kernel dwconv_qs8_16c_neon_mlal.
// Named outside dwconv.sh's drivers/dwconv_*.cpp glob: run it by name (icount.sh).
// Measured (GCC 12, per-channel stage), unipass -> row instructions: v 112x112x32 8970437 -> 4862645 (0.894 -> 0.485
// per MAC), w 2251039 -> 1361066 (0.897 -> 0.543); v at TESSERA_PERF_HW 28: 573797 -> 316973 (0.915 -> 0.505), at 14:
// 148477 -> 84753 (0.947 -> 0.541).
#include <tessera/kernels/dwconv/neon/dwconv_qs8_16c_neon_mlal.hpp>
#include <tessera/kernels/dwconv/neon/dwconv3x3_qs8_2x16_neon_mlal.hpp>
#include <tessera/kernels/dwconv/neon/dwconv5x5_qs8_2x16_neon_mlal.hpp>
#define DW_TAG tessera::arch::neon
#define DW_UNIPASS tessera::kernels::dwconv_qs8_16c_neon_mlal
#define DW_ROW tessera::kernels::dwconv3x3_qs8_2x16_neon_mlal
#define DW_ROW5 tessera::kernels::dwconv5x5_qs8_2x16_neon_mlal
#define DW_T std::int8_t
#define TESSERA_PERF_DEFAULT_LAYER "v"
#include "dwconv_op_common.hpp"
