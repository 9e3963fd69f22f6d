/// @file conv2d_f32_common.hpp
/// Shared setup for the conv2d_f32_* drivers: one whole `conv2d_f32<Tag, K>::run` on a layer
/// chosen by TESSERA_PERF_LAYER, through the algorithm chosen by TESSERA_PERF_PATH (qemu-aarch64
/// passes the environment through; the M55 has none: then the macros TESSERA_PERF_DEFAULT_LAYER,
/// "3x3", and TESSERA_PERF_DEFAULT_PATH, "" = the operator's pick, unless a driver copy defines them):
///   3x3     14x14x256 -> 14x14x256, 3x3 stride 1 SAME (default)
///   3x3c64  28x28x64 -> 28x28x64, 3x3 stride 1 SAME
///   3x3c16  28x28x16 -> 28x28x32, 3x3 stride 1 SAME
///   3x3s2   224x224x3 -> 112x112x32, 3x3 stride 2 SAME
///   t4x4s2  transposed 28x28x64 -> 56x56x32, 4x4 stride 2 SAME (bench_conv's layer t)
///   path    `panel` or `indirect`: conv2d_f32's run with conv_algorithm::panel_gemm (gather +
///           GEMM) or indirect_gemm (K's indirect entry, whatever the channel count); for the
///           transposed layer sub_pixel_gemm or sub_pixel_indirect; unset: what
///           conv2d_f32<Tag, K> picks.
/// elements() counts MACs (out_pixels * out_c * kh*kw*in_c; transposed: the useful ones, input
/// pixel x tap pairs landing inside the output); check() compares every output with an fp64
/// direct (transposed: scatter) convolution within the fp32 dot-product bound.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <tessera/ops/conv2d.hpp>
#include "perf_harness.hpp"

#ifndef TESSERA_PERF_DEFAULT_LAYER
#define TESSERA_PERF_DEFAULT_LAYER "3x3"
#endif
#ifndef TESSERA_PERF_DEFAULT_PATH
#define TESSERA_PERF_DEFAULT_PATH ""
#endif

namespace tessera_perf {

inline tessera::conv_geometry geo;
alignas(64) inline float in[224 * 224 * 3];
alignas(64) inline float filt[256 * 9 * 256];
alignas(64) inline float bias[256];
alignas(64) inline float out[112 * 112 * 32];
alignas(64) inline float packed[(256 + 192) * (9 * 256 + 1) + 64];  // nr up to 192 (SVE 2048)
alignas(64) inline std::uint64_t workspace[1 << 15];
inline const float* volatile v_in = in;
inline const void* volatile v_packed = packed;
inline float* volatile v_out = out;
inline void* volatile v_ws = workspace;
inline volatile std::size_t v_ws_bytes = 0;
inline tessera::conv_algorithm algo;  // set in setup: the operator's pick or the path asked for

inline std::uint32_t lcg(std::uint32_t& s) { return s = s * 1664525u + 1013904223u; }
inline float frand(std::uint32_t& s) { return static_cast<float>(static_cast<std::int32_t>(lcg(s) >> 21) - 1024) / 512.0f; }

/// Geometry and path from the environment, random data, packing with kernel K's tile.
template <class K> void setup_conv() {
  using conv = tessera::conv2d_f32<typename K::arch, K>;
  const char* layer_env = std::getenv("TESSERA_PERF_LAYER");
  const char* path_env = std::getenv("TESSERA_PERF_PATH");
  const char* layer = layer_env != nullptr ? layer_env : TESSERA_PERF_DEFAULT_LAYER;
  const char* path = path_env != nullptr ? path_env : TESSERA_PERF_DEFAULT_PATH;
  tessera::conv_shape s{.in_h = 14, .in_w = 14, .in_c = 256, .out_c = 256, .kernel_h = 3, .kernel_w = 3};
  if (layer && std::strcmp(layer, "3x3c64") == 0) s = {.in_h = 28, .in_w = 28, .in_c = 64, .out_c = 64, .kernel_h = 3, .kernel_w = 3};
  if (layer && std::strcmp(layer, "3x3c16") == 0) s = {.in_h = 28, .in_w = 28, .in_c = 16, .out_c = 32, .kernel_h = 3, .kernel_w = 3};
  if (layer && std::strcmp(layer, "3x3s2") == 0)
    s = {.in_h = 224, .in_w = 224, .in_c = 3, .out_c = 32, .kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2};
  if (layer && std::strcmp(layer, "t4x4s2") == 0) {
    const tessera::transpose_conv_shape t{.in_h = 28, .in_w = 28, .in_c = 64, .out_h = 56, .out_w = 56, .out_c = 32,
                                          .kernel_h = 4, .kernel_w = 4, .stride_h = 2, .stride_w = 2};
    if (!tessera::make_transpose_conv_geometry(t, tessera::padding::same, geo).ok()) std::abort();
  } else if (!tessera::make_conv_geometry(s, tessera::padding::same, geo).ok()) {
    std::abort();
  }
  using A = tessera::conv_algorithm;
  algo = path && std::strcmp(path, "panel") == 0      ? (geo.transposed ? A::sub_pixel_gemm : A::panel_gemm)
         : path && std::strcmp(path, "indirect") == 0 ? (geo.transposed ? A::sub_pixel_indirect : A::indirect_gemm)
                                                       : conv::algorithm(geo);
  std::uint32_t r = 99;
  for (std::size_t i = 0; i < geo.in_elems(); ++i) in[i] = frand(r);
  for (std::size_t i = 0; i < geo.out_c * geo.depth(); ++i) filt[i] = frand(r);
  for (std::size_t o = 0; o < geo.out_c; ++o) bias[o] = frand(r);
  if (conv::packed_weights_bytes(geo) > sizeof(packed)) std::abort();
  if (!conv::pack_weights(geo, filt, bias, packed, sizeof(packed)).ok()) std::abort();
  const std::size_t ws = conv::workspace_bytes(geo, algo);
  if (ws == 0 || ws > sizeof(workspace)) std::abort();
  v_ws_bytes = ws;
}

/// One conv2d_f32 run on the path chosen in setup.
template <class K> void run_conv() {
  using conv = tessera::conv2d_f32<typename K::arch, K>;
  if (!conv::run(geo, v_in, v_packed, v_out, {}, v_ws, v_ws_bytes, algo).ok()) std::abort();
}

/// Input coordinate of output coordinate o and tap k along one axis, or -1 outside the input
/// (transposed: o = i * stride - pad + k, only where the stride divides).
inline long tap_at(const tessera::conv_geometry& g, long o, long k, long stride, long pad, long n) {
  if (!g.transposed) {
    const long i = o * stride + k - pad;
    return i >= 0 && i < n ? i : -1;
  }
  const long num = o + pad - k;
  return num >= 0 && num % stride == 0 && num / stride < n ? num / stride : -1;
}

int check() {
  const auto& g = geo;
  for (std::size_t oy = 0; oy < g.out_h; ++oy)
    for (std::size_t ox = 0; ox < g.out_w; ++ox)
      for (std::size_t o = 0; o < g.out_c; ++o) {
        double acc = bias[o], mag = std::fabs(bias[o]);
        for (std::size_t ky = 0; ky < g.kernel_h; ++ky)
          for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
            const long iy = tap_at(g, long(oy), long(ky), long(g.stride_h), long(g.pad_top), long(g.in_h));
            const long ix = tap_at(g, long(ox), long(kx), long(g.stride_w), long(g.pad_left), long(g.in_w));
            if (iy < 0 || ix < 0) continue;
            for (std::size_t c = 0; c < g.in_c; ++c) {
              const double t = static_cast<double>(in[(std::size_t(iy) * g.in_w + std::size_t(ix)) * g.in_c + c]) *
                               filt[((o * g.kernel_h + ky) * g.kernel_w + kx) * g.in_c + c];
              acc += t, mag += std::fabs(t);
            }
          }
        const double tol = 2.0 * static_cast<double>(g.depth() + 2) * std::ldexp(1.0, -24) * mag + 1e-30;
        if (!(std::fabs(out[(oy * g.out_w + ox) * g.out_c + o] - acc) <= tol)) return 1;
      }
  return 0;
}
std::size_t elements() {
  const auto& g = geo;
  if (!g.transposed) return g.out_pixels() * g.out_c * g.depth();
  std::size_t pairs = 0;  // (output pixel, tap) pairs reading an input pixel
  for (std::size_t oy = 0; oy < g.out_h; ++oy)
    for (std::size_t ox = 0; ox < g.out_w; ++ox)
      for (std::size_t ky = 0; ky < g.kernel_h; ++ky)
        for (std::size_t kx = 0; kx < g.kernel_w; ++kx)
          pairs += tap_at(g, long(oy), long(ky), long(g.stride_h), long(g.pad_top), long(g.in_h)) >= 0 &&
                   tap_at(g, long(ox), long(kx), long(g.stride_w), long(g.pad_left), long(g.in_w)) >= 0;
  return pairs * g.in_c * g.out_c;
}
}  // namespace tessera_perf
