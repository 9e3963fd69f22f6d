// arm-perf: targets=aarch64 loop-elements=1 march=armv8.2-a+sve unit=MAC
// Whole depthwise operator on sve, 5x5 layers (dwconv_op_common.hpp: TESSERA_PERF_LAYER=v|w,
// TESSERA_PERF_PATH=row|unipass): 5x5 row kernel dwconv5x5_f32_16xvl_sve_fmla, unipass kernel
// dwconv_f32_2vl_sve_fmla (path unipass: every pixel on it, the operator before the row kernel).
// Named outside dwconv.sh's drivers/dwconv_*.cpp glob: run it by name (icount.sh), with --all-vl
// --vl 128,256,384,512,2048 (the measured wrapper holds no SVE instruction itself).
// GCC 12, instructions (v 112x112x32 s1 / w s2), unipass -> row: VL 128 18.02 M -> 5.18 M / 4.52 M -> 1.47 M,
// VL 256 10.14 M -> 2.71 M / 2.54 M -> 0.78 M, VL 512 6.19 M -> 1.48 M / 1.56 M -> 0.43 M.
#include <tessera/kernels/dwconv/sve/dwconv_f32_2vl_sve_fmla.hpp>
#include <tessera/kernels/dwconv/sve/dwconv3x3_f32_8xvl_sve_fmla.hpp>
#include <tessera/kernels/dwconv/sve/dwconv5x5_f32_16xvl_sve_fmla.hpp>
#define DW_TAG tessera::arch::sve
#define DW_UNIPASS tessera::kernels::dwconv_f32_2vl_sve_fmla
#define DW_ROW tessera::kernels::dwconv3x3_f32_8xvl_sve_fmla
#define DW_ROW5 tessera::kernels::dwconv5x5_f32_16xvl_sve_fmla
#define DW_T float
#define TESSERA_PERF_DEFAULT_LAYER "v"
#include "dwconv_op_common.hpp"
