// Which algorithm for a general (non-1x1) convolution: conv2d's gathered panel against an indirect
// GEMM (XNNPACK's igemm: per tile of output pixels, one input pointer per row and tap, padding taps
// pointing at a zero row), fp32 on the simd tag, one thread. The issue asks for an indirect GEMM
// "or another scheme you show to be faster"; this program is that comparison.
//   panel        conv2d_f32<arch::simd>::run, workspace_bytes(g) of workspace (the library path:
//                detail::gather_panel copies blocks of output pixels' windows into an L2-sized panel,
//                then gemm_f32_6x2v_simd_fma multiplies it by every packed block of the filter)
//   igemm        an indirect variant of the same 6x2v tile (below): per 6-pixel tile the 6 x KH*KW
//                pointers are computed, then every packed block of the filter is applied reading
//                the input through them (no copy, no workspace)
//   igemm_pre    the same kernel on an indirection buffer built once outside the timed loop
//                (XNNPACK's setup-time buffer: out_pixels x KH*KW pointers, valid while the input
//                pointer does not change): the kernel's own speed
// The three use the same packed filter (conv2d_f32's pack_weights) and the same fma order, so the
// outputs are compared bit for bit before timing.
// Layers (SAME padding, batch 1):
//   a  3x3 stride 2, 224x224x3 -> 32 (MobileNetV1's first layer)
//   f  3x3 stride 1, 56x56x64 -> 64        g  3x3 stride 1, 14x14x256 -> 256
//   h  5x5 stride 1, 28x28x32 -> 64        i  7x7 stride 2, 224x224x3 -> 64 (ResNet's first layer)
// Counters: GFLOP/s (2 flops per MAC, padding taps included as TFLite counts them) and %peak (of
// PERF.md's 99.6 GFLOP/s).
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <tessera/ops/conv2d.hpp>
#include <vector>

#include "bench_support.hpp"

namespace {

namespace tb = tessera_bench;
using namespace tessera;

constexpr double kPeakGflops = 99.6;
using conv = conv2d_f32<arch::simd>;
using f32 = xsimd::batch<float, tessera::arch::simd_arch>;
constexpr std::size_t V = f32::size, NR = 2 * V, MR = 6;

/// One tile of `rows` (1..6) output pixels x one packed block (bias[NR], b[K][NR]) with K =
/// ks * c: tap t of row i reads c floats at ind[t * MR + i] (a missing row repeats the last one).
[[gnu::noinline]] void igemm_tile(std::size_t rows, std::size_t ks, std::size_t c, const float* const* ind,
                                  const float* w, float* c0, std::size_t ldc, const f32_clamp& p) {
  f32 acc00 = f32::load_unaligned(w), acc01 = f32::load_unaligned(w + V);
  f32 acc10 = acc00, acc11 = acc01, acc20 = acc00, acc21 = acc01;
  f32 acc30 = acc00, acc31 = acc01, acc40 = acc00, acc41 = acc01, acc50 = acc00, acc51 = acc01;
  w += NR;
  for (std::size_t t = 0; t < ks; ++t, ind += MR) {
    const float *a0 = ind[0], *a1 = ind[1], *a2 = ind[2], *a3 = ind[3], *a4 = ind[4], *a5 = ind[5];
    for (std::size_t kk = 0; kk < c; ++kk, w += NR) {
      const f32 b0 = f32::load_unaligned(w), b1 = f32::load_unaligned(w + V);
      f32 x(a0[kk]);
      acc00 = xsimd::fma(x, b0, acc00), acc01 = xsimd::fma(x, b1, acc01);
      x = f32(a1[kk]);
      acc10 = xsimd::fma(x, b0, acc10), acc11 = xsimd::fma(x, b1, acc11);
      x = f32(a2[kk]);
      acc20 = xsimd::fma(x, b0, acc20), acc21 = xsimd::fma(x, b1, acc21);
      x = f32(a3[kk]);
      acc30 = xsimd::fma(x, b0, acc30), acc31 = xsimd::fma(x, b1, acc31);
      x = f32(a4[kk]);
      acc40 = xsimd::fma(x, b0, acc40), acc41 = xsimd::fma(x, b1, acc41);
      x = f32(a5[kk]);
      acc50 = xsimd::fma(x, b0, acc50), acc51 = xsimd::fma(x, b1, acc51);
    }
  }
  const f32 lo(p.min), hi(p.max);
  auto st = [&](std::size_t r, f32 x0, f32 x1) {
    if (r >= rows) return;
    xsimd::min(xsimd::max(x0, lo), hi).store_unaligned(c0 + r * ldc);
    xsimd::min(xsimd::max(x1, lo), hi).store_unaligned(c0 + r * ldc + V);
  };
  st(0, acc00, acc01), st(1, acc10, acc11), st(2, acc20, acc21);
  st(3, acc30, acc31), st(4, acc40, acc41), st(5, acc50, acc51);
}

/// The MR x taps pointers of the tile starting at output pixel p (rows repeat the last valid one).
void tile_pointers(const conv_geometry& g, const float* in, const float* zero, std::size_t p, const float** ind) {
  const std::size_t rows = std::min(MR, g.out_pixels() - p);
  for (std::size_t i = 0; i < MR; ++i) {
    const std::size_t q = p + std::min(i, rows - 1), oy = q / g.out_w, ox = q % g.out_w;
    for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
      const std::int64_t iy = static_cast<std::int64_t>(oy * g.stride_h + ky * g.dilation_h) - static_cast<std::int64_t>(g.pad_top);
      for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
        const std::int64_t ix = static_cast<std::int64_t>(ox * g.stride_w + kx * g.dilation_w) - static_cast<std::int64_t>(g.pad_left);
        const bool inside = iy >= 0 && iy < static_cast<std::int64_t>(g.in_h) && ix >= 0 && ix < static_cast<std::int64_t>(g.in_w);
        ind[(ky * g.kernel_w + kx) * MR + i] =
            inside ? in + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c : zero;
      }
    }
  }
}

/// Indirect conv: per tile, pointers (from `pre` when given, else computed) then every block.
void igemm_conv(const conv_geometry& g, const float* in, const float* zero, const void* packed, float* out,
                const float* const* pre) {
  const std::size_t m = g.out_pixels(), ks = g.taps(), k = g.depth(), oc = g.out_c;
  const auto* blocks = reinterpret_cast<const float*>(static_cast<const std::uint8_t*>(packed) + 64);
  const std::size_t block = NR * (k + 1);
  const float* local[MR * 49];
  for (std::size_t p = 0; p < m; p += MR) {
    const float* const* ind = pre != nullptr ? pre + p / MR * MR * ks : local;
    if (pre == nullptr) tile_pointers(g, in, zero, p, local);
    const std::size_t rows = std::min(MR, m - p);
    for (std::size_t j = 0; j * NR < oc; ++j)
      igemm_tile(rows, ks, g.in_c, ind, blocks + j * block, out + p * oc + j * NR, oc, f32_clamp{});
  }
}

struct layer {
  const char* name;
  std::int64_t in_hw, in_c, out_c, k, stride;
};
constexpr layer kLayers[] = {
    {"a_3x3s2_224x224x3_32", 224, 3, 32, 3, 2},  {"f_3x3s1_56x56x64_64", 56, 64, 64, 3, 1},
    {"g_3x3s1_14x14x256_256", 14, 256, 256, 3, 1}, {"h_5x5s1_28x28x32_64", 28, 32, 64, 5, 1},
    {"i_7x7s2_224x224x3_64", 224, 3, 64, 7, 2},
};

struct setup {
  conv_geometry g;
  tb::buffer<float> x, packed, ws, zero;
  std::vector<const float*> pre;
};

setup make(const layer& l) {
  conv_shape s;
  s.in_h = s.in_w = l.in_hw;
  s.in_c = l.in_c;
  s.out_c = l.out_c;
  s.kernel_h = s.kernel_w = l.k;
  s.stride_h = s.stride_w = l.stride;
  setup u;
  if (!make_conv_geometry(s, padding::same, u.g).ok() || u.g.out_c % NR != 0 || u.g.taps() > 49) std::abort();
  tb::rng r(7);
  u.x = tb::buffer<float>(u.g.in_elems());
  for (std::size_t i = 0; i < u.g.in_elems(); ++i) u.x.data()[i] = static_cast<float>(r.range(-64, 64)) / 32.0f;
  std::vector<float> w(u.g.out_c * u.g.depth()), b(u.g.out_c);
  for (auto& v : w) v = static_cast<float>(r.range(-64, 64)) / 64.0f;
  for (auto& v : b) v = static_cast<float>(r.range(-8, 8));
  u.packed = tb::buffer<float>(conv::packed_weights_bytes(u.g) / 4 + 1);
  if (!conv::pack_weights(u.g, w.data(), b.data(), u.packed.data(), conv::packed_weights_bytes(u.g)).ok()) std::abort();
  u.ws = tb::buffer<float>(conv::workspace_bytes(u.g) / 4 + 1);
  u.zero = tb::buffer<float>(u.g.in_c);
  const std::size_t tiles = (u.g.out_pixels() + MR - 1) / MR;
  u.pre.resize(tiles * MR * u.g.taps());
  for (std::size_t t = 0; t < tiles; ++t) tile_pointers(u.g, u.x.data(), u.zero.data(), t * MR, u.pre.data() + t * MR * u.g.taps());
  return u;
}

void run(benchmark::State& state, const layer& l, int which) {
  static setup u;
  static const layer* cur = nullptr;
  if (cur != &l) u = make(l), cur = &l;
  const conv_geometry& g = u.g;
  tb::buffer<float> out(g.out_elems()), ref(g.out_elems());
  auto once = [&](float* o) {
    if (which == 0) {
      if (!conv::run(g, u.x.data(), u.packed.data(), o, f32_clamp{}, u.ws.data(), conv::workspace_bytes(g)).ok()) std::abort();
    } else {
      igemm_conv(g, u.x.data(), u.zero.data(), u.packed.data(), o, which == 2 ? u.pre.data() : nullptr);
    }
  };
  // Bit-for-bit check against the library path (same packed blocks, same fma order).
  if (!conv::run(g, u.x.data(), u.packed.data(), ref.data(), f32_clamp{}, u.ws.data(), conv::workspace_bytes(g)).ok()) std::abort();
  once(out.data());
  if (std::memcmp(out.data(), ref.data(), g.out_elems() * sizeof(float)) != 0) {
    tb::fail(state, "output differs from conv2d_f32");
    return;
  }
  for (auto _ : state) {
    once(out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  const double macs = static_cast<double>(g.out_pixels()) * g.out_c * g.depth();
  state.counters["GFLOP/s"] = benchmark::Counter(2 * macs, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  state.counters["%peak"] = benchmark::Counter(2 * macs / 1e9 * 100 / kPeakGflops, benchmark::Counter::kIsIterationInvariantRate);
}

[[maybe_unused]] const bool registered = [] {
  const char* names[] = {"panel", "igemm", "igemm_pre"};
  for (const layer& l : kLayers)
    for (int w = 0; w < 3; ++w)
      benchmark::RegisterBenchmark((std::string("conv_algo/") + l.name + "/" + names[w]).c_str(),
                                   [&l, w](benchmark::State& s) { run(s, l, w); })
          ->Unit(benchmark::kMicrosecond);
  return true;
}();

}  // namespace
