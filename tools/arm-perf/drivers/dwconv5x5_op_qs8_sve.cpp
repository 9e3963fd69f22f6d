// arm-perf: targets=aarch64 loop-elements=1 march=armv8.2-a+sve unit=MAC
// Whole depthwise operator on sve, int8 5x5 layers (dwconv_op_common.hpp: TESSERA_PERF_LAYER=v|w,
// TESSERA_PERF_PATH=row|unipass): 5x5 row kernel dwconv5x5_qs8_10xvl_sve, 3x3 row kernel
// dwconv3x3_qs8_2vl_sve, unipass kernel dwconv_qs8_4vl_sve (path unipass: every pixel on it, the
// operator before the row kernel).
// Named outside dwconv.sh's drivers/dwconv_*.cpp glob: run it by name (icount.sh), with --all-vl
// --vl 128,256,512 (the measured wrapper holds no SVE instruction itself).
// GCC 12, instructions (v 112x112x32 s1 / w s2), unipass -> row: VL 128 16.94 M -> 4.75 M / 4.25 M -> 1.69 M,
// VL 256 9.60 M -> 2.41 M / 2.41 M -> 0.89 M, VL 512 6.85 M -> 1.25 M / 1.72 M -> 0.50 M.
#include <tessera/kernels/dwconv/sve/dwconv_qs8_4vl_sve.hpp>
#include <tessera/kernels/dwconv/sve/dwconv3x3_qs8_2vl_sve.hpp>
#include <tessera/kernels/dwconv/sve/dwconv5x5_qs8_10xvl_sve.hpp>
#define DW_TAG tessera::arch::sve
#define DW_UNIPASS tessera::kernels::dwconv_qs8_4vl_sve
#define DW_ROW tessera::kernels::dwconv3x3_qs8_2vl_sve
#define DW_ROW5 tessera::kernels::dwconv5x5_qs8_10xvl_sve
#define DW_T std::int8_t
#define TESSERA_PERF_DEFAULT_LAYER "v"
#include "dwconv_op_common.hpp"
