// arm-perf: targets=aarch64 loop-elements=1 march=armv8-a unit=MAC
// Whole depthwise operator on neon, 5x5 layers (dwconv_op_common.hpp: TESSERA_PERF_LAYER=v|w, TESSERA_PERF_PATH=row|unipass):
// 5x5 row kernel dwconv5x5_f32_8x8_neon_fma, 3x3 row kernel dwconv3x3_f32_4x8_neon_fma, unipass kernel dwconv_f32_2x16_neon_fma.
// Named outside dwconv.sh's drivers/dwconv_*.cpp glob: run it by name (icount.sh).
#include <tessera/kernels/dwconv/neon/dwconv_f32_2x16_neon_fma.hpp>
#include <tessera/kernels/dwconv/neon/dwconv3x3_f32_4x8_neon_fma.hpp>
#include <tessera/kernels/dwconv/neon/dwconv5x5_f32_8x8_neon_fma.hpp>
#define DW_TAG tessera::arch::neon
#define DW_UNIPASS tessera::kernels::dwconv_f32_2x16_neon_fma
#define DW_ROW tessera::kernels::dwconv3x3_f32_4x8_neon_fma
#define DW_ROW5 tessera::kernels::dwconv5x5_f32_8x8_neon_fma
#define DW_T float
#define TESSERA_PERF_DEFAULT_LAYER "v"
#include "dwconv_op_common.hpp"
