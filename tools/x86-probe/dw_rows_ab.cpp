// fp32 3x3 depthwise, interleaved in one process: the native operator (AVX-512 builds: the channel-group
// path and the pitched row kernel where they pay, its two-row entry where that pays) against the same
// operator with the pitched kernel's rows taken one by one (one-row) and depthwise_conv2d_f32<arch::simd>
// (the AVX2 row kernels), each with workspace_bytes or, with a trailing 'm' on the stride, min_workspace_bytes. SAME
// padding; 64-byte aligned input and outputs; GFLOP/s as the median of 15 alternating timings; checks
// the outputs are bit-identical. Ratios: native's speed over one-row's, over simd's.
// Build: clang++-16 (or g++) -std=c++20 -O3 -march=x86-64-v4 -mavx512vnni -DTESSERA_USE_XSIMD=1 -Iinclude
//          -Iarch -Ikernels -Itools/x86-probe tools/x86-probe/dw_rows_ab.cpp -o X
// Run:   X h w c s [h w c s ...]      e.g. X 112 112 32 1 112 112 64 2 28 28 256 1m
#include <tessera/tessera.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>
#include "probe_common.hpp"
using namespace tessera;
template <class Op> struct layer {
  std::vector<std::uint64_t> packed, ws;
  std::size_t ws_bytes;
  layer(const conv_geometry& g, const float* f, const float* b, bool min_ws)
      : packed(Op::packed_weights_bytes(g) / 8 + 1),
        ws_bytes(min_ws ? Op::min_workspace_bytes(g) : Op::workspace_bytes(g)) {
    ws.resize(ws_bytes / 8 + 1);
    if (!Op::pack_weights(g, f, b, packed.data(), packed.size() * 8).ok()) std::abort();
  }
  void run(const conv_geometry& g, const float* x, float* o) {
    if (!Op::run(g, x, packed.data(), o, f32_clamp{-INFINITY, INFINITY}, ws.data(), ws_bytes).ok()) std::abort();
  }
};
/// The native pitched kernel without its two-row entry: the operator then takes rows one by one.
template <class P> struct one_row {
  using arch = typename P::arch;
  static constexpr const char* name = P::name;
  static constexpr bool preferred = P::preferred;
  static std::size_t cr() noexcept { return P::cr(); }
  static std::size_t group_channels() noexcept { return P::group_channels(); }
  template <class... Args> static void run(Args... a) noexcept { P::run(a...); }
};
int main(int argc, char** argv) {
  using A = depthwise_conv2d_f32<>;
  using B = depthwise_conv2d_f32<arch::simd>;
  using N = arch::native;
  using C = depthwise_conv2d_f32<N, select_t<op::dwconv_f32, N>, select_t<op::dwconv3x3_f32, N>,
                                 select_t<op::dwconv5x5_f32, N>, one_row<select_t<op::dwconv3x3p_f32, N>>>;
  for (int q = 1; q + 3 < argc; q += 4) {
    conv_shape s;
    s.in_h = std::atoi(argv[q]), s.in_w = std::atoi(argv[q + 1]), s.in_c = s.out_c = std::atoi(argv[q + 2]);
    s.kernel_h = s.kernel_w = 3, s.stride_h = s.stride_w = std::atoi(argv[q + 3]);
    const bool min_ws = std::strchr(argv[q + 3], 'm') != nullptr;
    conv_geometry g;
    if (!make_conv_geometry(s, padding::same, g).ok()) std::abort();
    aligned_floats x(g.in_elems()), o1(g.out_elems()), o2(g.out_elems()), o3(g.out_elems());
    std::vector<float> f(9 * g.out_c), bias(g.out_c);
    std::srand(1);
    for (auto& v : x) v = (std::rand() % 129 - 64) / 32.f;
    for (auto& v : f) v = (std::rand() % 129 - 64) / 64.f;
    for (auto& v : bias) v = (std::rand() % 129 - 64) / 64.f;
    layer<A> a(g, f.data(), bias.data(), min_ws);
    layer<B> b(g, f.data(), bias.data(), min_ws);
    layer<C> c(g, f.data(), bias.data(), min_ws);
    const double macs = double(g.out_elems()) * 9;
    std::vector<double> ta, tb, tc;
    for (int r = 0; r < 15; ++r) {
      ta.push_back(time_it([&] { a.run(g, x.data(), o1.data()); }, macs, 1, 50e9));
      tb.push_back(time_it([&] { b.run(g, x.data(), o2.data()); }, macs, 1, 50e9));
      tc.push_back(time_it([&] { c.run(g, x.data(), o3.data()); }, macs, 1, 50e9));
    }
    const char* path = A::uses_groups(g) && !min_ws ? "groups"
                       : A::uses_paired_rows(g)       ? "paired rows"
                       : A::uses_pitched_rows(g)      ? "pitched rows"
                                                      : "rows";
    const bool same = !std::memcmp(o1.data(), o2.data(), o1.size() * 4) && !std::memcmp(o1.data(), o3.data(), o1.size() * 4);
    std::printf("%4dx%-4dx%-5d s%-3s native (%s) %5.1f  one-row %5.1f  simd %5.1f GFLOP/s  %.2fx %.2fx  %s\n",
                int(s.in_h), int(s.in_w), int(s.in_c), argv[q + 3], path, 2 * macs / 1e3 / median(ta),
                2 * macs / 1e3 / median(tc), 2 * macs / 1e3 / median(tb), median(tc) / median(ta),
                median(tb) / median(ta), same ? "same" : "DIFF");
  }
}
