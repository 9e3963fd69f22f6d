// arm-perf: targets=m55 loop-elements=1 unit=MAC
// conv2d_f32 on Helium: select_t<op::gemm_f32, arch::helium> = gemm_f32_3x8_helium_fma, the path
// conv2d_f32 picks. The M55 has no environment: layer and path are TESSERA_PERF_DEFAULT_LAYER /
// TESSERA_PERF_DEFAULT_PATH (3x3 and the operator's pick unless a copy of this driver defines them
// before including it; conv2d_f32_common.hpp). Called through a noinline function, as an ordinary
// translation unit would call the operator (see conv2d_s8_helium.cpp).
#include <type_traits>
#include <tessera/kernels/gemm/helium/gemm_f32_3x8_helium_fma.hpp>
#include "conv2d_f32_common.hpp"
using K = tessera::select_t<tessera::op::gemm_f32, tessera::arch::helium>;
static_assert(std::is_same_v<K, tessera::kernels::gemm_f32_3x8_helium_fma>);
namespace tessera_perf {
[[gnu::noinline]] void run_helium() { run_conv<K>(); }
void setup() { setup_conv<K>(); }
}  // namespace tessera_perf
TESSERA_PERF_KERNEL { tessera_perf::run_helium(); }
