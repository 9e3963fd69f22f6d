// arm-perf: targets=m55 unit=MAC
// Helium int8 3x3 depthwise ROW kernel dwconv3x3_qs8_2x8_helium with a per-channel output stage on
// the interior of a 28 x 28 x 32 layer (M55 memory), stride TESSERA_PERF_STRIDE (environment, which
// the M55 does not have: a copy of this driver defining TESSERA_PERF_DEFAULT_STRIDE 2 measures
// stride 2), checked bit for bit against dwconv_qs8_scalar (dwconv3x3_row_common.hpp). elements()
// counts MACs (pixels x C x 9). Not matched by dwconv.sh's drivers/dwconv_*.cpp glob: run it by name.
#include <tessera/kernels/dwconv/helium/dwconv3x3_qs8_2x8_helium.hpp>
#define DW_ROW tessera::kernels::dwconv3x3_qs8_2x8_helium
#define DW_T std::int8_t
#define TESSERA_PERF_HW 28
#include "dwconv3x3_row_common.hpp"
