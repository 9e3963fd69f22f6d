// Which algorithm for a general (non-1x1) convolution: conv2d's gathered panel against the
// indirect GEMM (XNNPACK's igemm: per tile of output pixels, one input pointer per row and tap,
// padding taps pointing at a zero row), fp32 on the simd tag, one thread. The issue asks for an
// indirect GEMM "or another scheme you show to be faster"; this program decides between the two
// (conv2d_f32::indirect_min_channels).
//   panel     conv2d_f32<arch::simd>::run(..., conv_algorithm::panel_gemm): detail::gather_panel
//             copies blocks of output pixels' windows into an L2-sized panel (workspace_bytes(g,
//             panel_gemm)), then gemm_f32_6x2v_simd_fma multiplies it by every packed block
//   indirect  the same with conv_algorithm::indirect_gemm, what conv2d_f32 runs for groups of >=
//             indirect_min_channels input channels: per block of 256 output pixels the pointers
//             are written, then every packed block is applied reading the input through them (no
//             copy); here for every layer, whatever the threshold
//   tessera   conv2d_f32<arch::simd> as a user calls it (the algorithm it picks)
// In an AVX-512 build (-march=x86-64-v4 -mavx512vnni) the same layers also run on
// conv2d_f32<arch::avx512_vnni> (gemm_f32_8x32_avx512_fma) as conv_algo_avx512/<layer>/..., with a
// fourth row for the forward layers:
//   strided   conv_algorithm::strided_gemm (detail/conv_strided.hpp): interior pixels read the input
//             in place through the kernel's strided-segments entry, edge columns small zero-padded
//             strips; what conv2d_f32 picks there for fewer than 32 input channels (out_w >= 8),
//             and from 32 where conv2d_f32::strided_over_indirect holds (few channels, rows
//             without a costly tail tile; layers m, h, n, p here; o, q, r stay indirect)
// Transposed layers (t..w) compare the sub-pixel split's two forms the same way: `panel` is
// sub_pixel_gemm (a phase row's windows gathered), `indirect` sub_pixel_indirect (tap pointers).
// All three use the same packed filter and the same tile code; outputs are compared with the
// panel's before timing (equal but for a last single-row tile, where the panel's GEMM takes its
// GEMV order).
// Layers (SAME padding, batch 1):
//   a  3x3 stride 2, 224x224x3 -> 32 (MobileNetV1's first layer)
//   j, k, l, m  3x3 stride 1, 56x56x{8, 16, 24, 32} -> 32 (where the choice flips)
//   f  3x3 stride 1, 56x56x64 -> 64         g  3x3 stride 1, 14x14x256 -> 256
//   h  5x5 stride 1, 28x28x32 -> 64         i  7x7 stride 2, 224x224x3 -> 64 (ResNet's first layer)
//   around conv2d_f32::strided_over_indirect (3x3):
//   n  stride 1, 56x56x64 -> 32 (64 channels x one 32-column block: its bound)
//   o  stride 1, 56x56x40 -> 64 (40 x two blocks: past it)
//   p  stride 1, 26x26x32 -> 64 (the interior, 24 columns, in whole 8-row tiles)
//   q  stride 1, 16x16x32 -> 64 (interior 14: a last tile of 6 rows, too narrow a row to hide it)
//   r  stride 2, 28x28x32 -> 64 (out_w 14)
//   transposed, stride 2, SAME, output 2x the input (segmentation-decoder upsampling):
//   t  4x4, 28x28x64 -> 32 (bench_conv's t)  u  3x3, 28x28x64 -> 32 (bench_conv's u)
//   v  4x4, 56x56x16 -> 16                   w  4x4, 14x14x256 -> 128
// Counters: GFLOP/s (2 flops per MAC, padding taps included as TFLite counts them; transposed:
// useful MACs only, conv_macs.hpp) and %peak (of PERF.md's 99.6 GFLOP/s).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <tessera/arch/features.hpp>
#include <tessera/ops/conv2d.hpp>
#include <vector>

#include "bench_support.hpp"
#include "conv_macs.hpp"

namespace {

namespace tb = tessera_bench;
using namespace tessera;

constexpr double kPeakGflops = 99.6;
struct layer {
  const char* name;
  std::int64_t in_hw, in_c, out_c, k, stride;
  bool transposed = false;
};
/// The algorithms compared: panel and indirect, of the forward or the sub-pixel kind (0, 1), and
/// strided_gemm (3, forward only).
conv_algorithm algo(const layer& l, int which) {
  if (which == 3) return conv_algorithm::strided_gemm;
  if (l.transposed) return which == 0 ? conv_algorithm::sub_pixel_gemm : conv_algorithm::sub_pixel_indirect;
  return which == 0 ? conv_algorithm::panel_gemm : conv_algorithm::indirect_gemm;
}
constexpr layer kLayers[] = {
    {"a_3x3s2_224x224x3_32", 224, 3, 32, 3, 2},    {"j_3x3s1_56x56x8_32", 56, 8, 32, 3, 1},
    {"k_3x3s1_56x56x16_32", 56, 16, 32, 3, 1},     {"l_3x3s1_56x56x24_32", 56, 24, 32, 3, 1},
    {"m_3x3s1_56x56x32_32", 56, 32, 32, 3, 1},     {"f_3x3s1_56x56x64_64", 56, 64, 64, 3, 1},
    {"g_3x3s1_14x14x256_256", 14, 256, 256, 3, 1}, {"h_5x5s1_28x28x32_64", 28, 32, 64, 5, 1},
    {"i_7x7s2_224x224x3_64", 224, 3, 64, 7, 2},
    {"n_3x3s1_56x56x64_32", 56, 64, 32, 3, 1},     {"o_3x3s1_56x56x40_64", 56, 40, 64, 3, 1},
    {"p_3x3s1_26x26x32_64", 26, 32, 64, 3, 1},     {"q_3x3s1_16x16x32_64", 16, 32, 64, 3, 1},
    {"r_3x3s2_28x28x32_64", 28, 32, 64, 3, 2},
    {"t_tconv4x4s2_28x28x64_32", 28, 64, 32, 4, 2, true},   {"u_tconv3x3s2_28x28x64_32", 28, 64, 32, 3, 2, true},
    {"v_tconv4x4s2_56x56x16_16", 56, 16, 16, 4, 2, true},   {"w_tconv4x4s2_14x14x256_128", 14, 256, 128, 4, 2, true},
};

struct setup {
  conv_geometry g;
  tb::buffer<float> x, packed;
  tb::buffer<std::uint64_t> ws;
};

template <class conv> setup make(const layer& l) {
  setup u;
  if (l.transposed) {
    transpose_conv_shape s;
    s.in_h = s.in_w = l.in_hw;
    s.out_h = s.out_w = l.in_hw * l.stride;
    s.in_c = l.in_c;
    s.out_c = l.out_c;
    s.kernel_h = s.kernel_w = l.k;
    s.stride_h = s.stride_w = l.stride;
    if (!make_transpose_conv_geometry(s, padding::same, u.g).ok()) std::abort();
  } else {
    conv_shape s;
    s.in_h = s.in_w = l.in_hw;
    s.in_c = l.in_c;
    s.out_c = l.out_c;
    s.kernel_h = s.kernel_w = l.k;
    s.stride_h = s.stride_w = l.stride;
    if (!make_conv_geometry(s, padding::same, u.g).ok()) std::abort();
  }
  tb::rng r(7);
  u.x = tb::buffer<float>(u.g.in_elems());
  for (std::size_t i = 0; i < u.g.in_elems(); ++i) u.x.data()[i] = static_cast<float>(r.range(-64, 64)) / 32.0f;
  std::vector<float> w(u.g.out_c * u.g.depth()), b(u.g.out_c);
  for (auto& v : w) v = static_cast<float>(r.range(-64, 64)) / 64.0f;
  for (auto& v : b) v = static_cast<float>(r.range(-8, 8));
  const std::size_t pb = conv::packed_weights_bytes(u.g);
  u.packed = tb::buffer<float>(pb / 4 + 1);
  if (!conv::pack_weights(u.g, w.data(), b.data(), u.packed.data(), pb).ok()) std::abort();
  std::size_t wsb = 0;
  for (int w : {0, 1, 3}) wsb = std::max(wsb, conv::workspace_bytes(u.g, algo(l, w)));
  u.ws = tb::buffer<std::uint64_t>(wsb / 8 + 1);
  return u;
}

template <class conv> void run(benchmark::State& state, const layer& l, int which) {
  static setup u;
  static const layer* cur = nullptr;
  if (cur != &l) u = make<conv>(l), cur = &l;
  const conv_geometry& g = u.g;
  tb::buffer<float> out(g.out_elems()), ref(g.out_elems());
  auto run_as = [&](float* o, conv_algorithm a) {
    if (!conv::run(g, u.x.data(), u.packed.data(), o, f32_clamp{}, u.ws.data(), conv::workspace_bytes(g, a), a).ok()) std::abort();
  };
  auto once = [&](float* o) { run_as(o, which != 2 ? algo(l, which) : conv::algorithm(g)); };
  run_as(ref.data(), algo(l, 0));
  once(out.data());
  for (std::size_t i = 0; i < g.out_elems(); ++i)
    if (std::fabs(out.data()[i] - ref.data()[i]) > 1e-3f * (1.0f + std::fabs(ref.data()[i]))) {
      tb::fail(state, "output differs from the panel path");
      return;
    }
  for (auto _ : state) {
    once(out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  const double macs = tb::macs(g);
  state.counters["GFLOP/s"] = benchmark::Counter(2 * macs, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  state.counters["%peak"] = benchmark::Counter(2 * macs / 1e9 * 100 / kPeakGflops, benchmark::Counter::kIsIterationInvariantRate);
  const conv_algorithm picked = conv::algorithm(g);
  state.SetLabel(picked == conv_algorithm::indirect_gemm || picked == conv_algorithm::sub_pixel_indirect
                     ? "conv2d_f32 picks indirect"
                     : picked == conv_algorithm::strided_gemm ? "conv2d_f32 picks strided" : "conv2d_f32 picks panel");
}

[[maybe_unused]] const bool registered = [] {
  const char* names[] = {"panel", "indirect", "tessera", "strided"};
  for (const layer& l : kLayers)
    for (int w = 0; w < 3; ++w)
      benchmark::RegisterBenchmark((std::string("conv_algo/") + l.name + "/" + names[w]).c_str(),
                                   [&l, w](benchmark::State& s) { run<conv2d_f32<arch::simd>>(s, l, w); })
          ->Unit(benchmark::kMicrosecond);
#if TESSERA_HAS_AVX512_VNNI
  // Registered only where the CPU runs AVX-512 (the setup runs the kernel).
  if (arch::available<arch::avx512_vnni>())
    for (const layer& l : kLayers)
      for (int w = 0; w < 4; ++w) {
        if (w == 3 && l.transposed) continue;
        benchmark::RegisterBenchmark((std::string("conv_algo_avx512/") + l.name + "/" + names[w]).c_str(),
                                     [&l, w](benchmark::State& s) { run<conv2d_f32<arch::avx512_vnni>>(s, l, w); })
            ->Unit(benchmark::kMicrosecond);
      }
#endif
  return true;
}();

}  // namespace
