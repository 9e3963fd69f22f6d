/// @file conv2d_s8_common.hpp
/// Shared setup for the conv2d_s8_* drivers: one whole `conv2d_s8<Tag, K>::run` (panel gather +
/// GEMM + requantization) on a MobileNetV1 layer chosen by the environment variable
/// TESSERA_PERF_LAYER (qemu-aarch64 passes the environment through; the M55 has none: then the
/// macro TESSERA_PERF_DEFAULT_LAYER, "1x1" unless a driver copy defines it before the include):
///   3x3s2  224x224x3 -> 112x112x32, 3x3 stride 2 SAME   (panel_gemm, K = 27)
///   1x1    56x56x128 -> 56x56x128                        (pointwise_gemm, default)
///   3x3    14x14x256 -> 14x14x256, 3x3 stride 1 SAME    (panel_gemm, K = 2304)
///   pd     96x96x1 -> 48x48x8, 3x3 stride 2 SAME       (person detection's first layer; panel_gemm, K = 9)
///   kws    49x10x1 -> 25x5x64, 10x4 stride 2 SAME     (keyword spotting DS-CNN's first layer; panel_gemm, K = 40)
///   t4x4s2 transposed 28x28x64 -> 56x56x32, 4x4 stride 2 SAME (TFLite TRANSPOSE_CONV; sub_pixel_gemm,
///          K = 256 per phase; before the sub-pixel split: panel_gemm over all 16 taps, K = 1024)
/// elements() counts MACs (out_pixels * out_c * kh*kw*in_c; for the transposed layer only the useful
/// ones: input pixel x tap pairs landing inside the output, x in_c x out_c); check() compares every
/// output with a direct TFLite-semantics reference (the transpose_conv scatter for t4x4s2).
/// Spatial scale: TESSERA_PERF_HW_DIV (default 1) divides every layer's input and output height
/// and width (channels and kernel shape kept; 3x3s2 at 2: 112x112x3 -> 56x56x32). Buffers: the
/// TESSERA_PERF_MAX_* macros (elements or bytes; defaults hold every layer at HW_DIV 1); setup
/// aborts if the layer does not fit.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <tessera/ops/conv2d.hpp>
#include "perf_harness.hpp"

#ifndef TESSERA_PERF_DEFAULT_LAYER  // without TESSERA_PERF_LAYER in the environment (the M55)
#define TESSERA_PERF_DEFAULT_LAYER "1x1"
#endif
#ifndef TESSERA_PERF_HW_DIV
#define TESSERA_PERF_HW_DIV 1
#endif
#ifndef TESSERA_PERF_MAX_IN  // input elements (1x1: 56x56x128; 3x3s2: 224x224x3)
#define TESSERA_PERF_MAX_IN (56 * 56 * 128 > 224 * 224 * 3 ? 56 * 56 * 128 : 224 * 224 * 3)
#endif
#ifndef TESSERA_PERF_MAX_OUT  // output elements (3x3s2: 112x112x32; 1x1: 56x56x128)
#define TESSERA_PERF_MAX_OUT (112 * 112 * 32 > 56 * 56 * 128 ? 112 * 112 * 32 : 56 * 56 * 128)
#endif
#ifndef TESSERA_PERF_MAX_FILT  // filter elements (3x3: 256 x 9 x 256)
#define TESSERA_PERF_MAX_FILT (256 * 9 * 256)
#endif
#ifndef TESSERA_PERF_MAX_PACKED  // packed filter bytes
#define TESSERA_PERF_MAX_PACKED (256 * (9 * 256 + 64 * 4) + 65536)
#endif
#ifndef TESSERA_PERF_MAX_WORKSPACE  // workspace bytes
#define TESSERA_PERF_MAX_WORKSPACE (1 << 17)
#endif

namespace tessera_perf {
inline constexpr std::size_t kHwDiv = TESSERA_PERF_HW_DIV;
inline tessera::conv_geometry geo;
alignas(64) inline std::int8_t in[TESSERA_PERF_MAX_IN];
alignas(64) inline std::int8_t filt[TESSERA_PERF_MAX_FILT];
alignas(64) inline std::int32_t bias[256], mult[256], shift[256];
alignas(64) inline std::int8_t out[TESSERA_PERF_MAX_OUT];
alignas(64) inline std::uint8_t packed[TESSERA_PERF_MAX_PACKED];
alignas(64) inline std::int8_t workspace[TESSERA_PERF_MAX_WORKSPACE];
inline tessera::output_stage<tessera::requant::per_channel> stage;

inline const std::int8_t* volatile v_in = in;
inline const void* volatile v_packed = packed;
inline std::int8_t* volatile v_out = out;
inline void* volatile v_ws = workspace;
inline volatile std::size_t v_ws_bytes = 0;

inline std::uint32_t lcg(std::uint32_t& s) { return s = s * 1664525u + 1013904223u; }
inline constexpr std::int32_t kInputZp = -3;

/// Geometry from TESSERA_PERF_LAYER, random data, packing with kernel K's tile.
template <class Conv> void setup_conv() {
  const char* env = std::getenv("TESSERA_PERF_LAYER");
  const char* layer = env != nullptr ? env : TESSERA_PERF_DEFAULT_LAYER;
  constexpr std::int64_t d = kHwDiv;
  tessera::conv_shape s{.in_h = 56 / d, .in_w = 56 / d, .in_c = 128, .out_c = 128};
  if (std::strcmp(layer, "t4x4s2") == 0) {
    if (!tessera::make_transpose_conv_geometry({.in_h = 28 / d, .in_w = 28 / d, .in_c = 64, .out_h = 56 / d, .out_w = 56 / d,
                                                .out_c = 32, .kernel_h = 4, .kernel_w = 4, .stride_h = 2, .stride_w = 2},
                                               tessera::padding::same, geo).ok())
      std::abort();
  } else if (std::strcmp(layer, "3x3s2") == 0)
    s = {.in_h = 224 / d, .in_w = 224 / d, .in_c = 3, .out_c = 32, .kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2};
  else if (std::strcmp(layer, "pd") == 0)
    s = {.in_h = 96 / d, .in_w = 96 / d, .in_c = 1, .out_c = 8, .kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2};
  else if (std::strcmp(layer, "kws") == 0)
    s = {.in_h = 49 / d, .in_w = 10 / d, .in_c = 1, .out_c = 64, .kernel_h = 10, .kernel_w = 4, .stride_h = 2, .stride_w = 2};
  else if (std::strcmp(layer, "3x3") == 0)
    s = {.in_h = 14 / d, .in_w = 14 / d, .in_c = 256, .out_c = 256, .kernel_h = 3, .kernel_w = 3};
  else if (std::strcmp(layer, "1x1") != 0)
    std::abort();  // unknown layer name
  if (!geo.transposed && !tessera::make_conv_geometry(s, tessera::padding::same, geo).ok()) std::abort();
  if (geo.in_elems() > sizeof(in) || geo.out_elems() > sizeof(out) || geo.out_c * geo.depth() > sizeof(filt) ||
      geo.out_c > 256)
    std::abort();  // more: build with larger TESSERA_PERF_MAX_* (or a larger TESSERA_PERF_HW_DIV)
  std::uint32_t r = 99;
  for (std::size_t i = 0; i < geo.in_elems(); ++i) in[i] = static_cast<std::int8_t>(lcg(r) >> 24);
  for (std::size_t i = 0; i < geo.out_c * geo.depth(); ++i) filt[i] = static_cast<std::int8_t>(lcg(r) >> 24);
  for (std::size_t o = 0; o < geo.out_c; ++o) {
    bias[o] = static_cast<std::int32_t>(lcg(r) >> 16) - 32768;
    mult[o] = 0x40000000 + static_cast<std::int32_t>(lcg(r) >> 3);
    shift[o] = -9 - static_cast<std::int32_t>(lcg(r) >> 30);
  }
  stage = {{mult, shift}, 5, -128, 127};
  if (Conv::packed_weights_bytes(geo) > sizeof(packed) || Conv::workspace_bytes(geo) > sizeof(workspace)) std::abort();
  if (!Conv::pack_weights(geo, filt, bias, kInputZp, packed, sizeof(packed)).ok()) std::abort();
  v_ws_bytes = Conv::workspace_bytes(geo);
}

/// TFLite's transpose_conv scatter: out_y = in_y * stride - pad + ky.
int check_transposed() {
  const auto& g = geo;
  static std::int32_t acc[(56 / TESSERA_PERF_HW_DIV) * (56 / TESSERA_PERF_HW_DIV) * 32];
  for (std::size_t i = 0; i < g.out_elems(); ++i) acc[i] = bias[i % g.out_c];
  for (std::size_t iy = 0; iy < g.in_h; ++iy)
    for (std::size_t ix = 0; ix < g.in_w; ++ix)
      for (std::size_t ky = 0; ky < g.kernel_h; ++ky)
        for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
          const long oy = long(iy * g.stride_h + ky) - long(g.pad_top), ox = long(ix * g.stride_w + kx) - long(g.pad_left);
          if (oy < 0 || ox < 0 || oy >= long(g.out_h) || ox >= long(g.out_w)) continue;
          for (std::size_t o = 0; o < g.out_c; ++o)
            for (std::size_t c = 0; c < g.in_c; ++c)
              acc[(std::size_t(oy) * g.out_w + std::size_t(ox)) * g.out_c + o] +=
                  (in[(iy * g.in_w + ix) * g.in_c + c] - kInputZp) * filt[((o * g.kernel_h + ky) * g.kernel_w + kx) * g.in_c + c];
        }
  for (std::size_t i = 0; i < g.out_elems(); ++i)
    if (out[i] != tessera::requantize_one<std::int8_t>(acc[i], stage, i % g.out_c)) return 1;
  return 0;
}

int check() {
  const auto& g = geo;
  if (g.transposed) return check_transposed();
  for (std::size_t oy = 0; oy < g.out_h; ++oy)
    for (std::size_t ox = 0; ox < g.out_w; ++ox)
      for (std::size_t o = 0; o < g.out_c; ++o) {
        std::int32_t acc = bias[o];
        for (std::size_t ky = 0; ky < g.kernel_h; ++ky)
          for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
            const long iy = long(oy * g.stride_h + ky) - long(g.pad_top), ix = long(ox * g.stride_w + kx) - long(g.pad_left);
            if (iy < 0 || ix < 0 || iy >= long(g.in_h) || ix >= long(g.in_w)) continue;
            for (std::size_t c = 0; c < g.in_c; ++c)
              acc += (in[(std::size_t(iy) * g.in_w + std::size_t(ix)) * g.in_c + c] - kInputZp) *
                     filt[((o * g.kernel_h + ky) * g.kernel_w + kx) * g.in_c + c];
          }
        if (out[(oy * g.out_w + ox) * g.out_c + o] != tessera::requantize_one<std::int8_t>(acc, stage, o)) return 1;
      }
  return 0;
}
/// Pairs (input i, tap k) of one axis of a transposed conv that land inside the output.
inline std::size_t landing(std::size_t in, std::size_t k, std::size_t stride, std::size_t pad, std::size_t out) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < in; ++i)
    for (std::size_t t = 0; t < k; ++t) n += i * stride + t >= pad && i * stride + t - pad < out;
  return n;
}
std::size_t elements() {
  const auto& g = geo;
  if (g.transposed)
    return landing(g.in_h, g.kernel_h, g.stride_h, g.pad_top, g.out_h) *
           landing(g.in_w, g.kernel_w, g.stride_w, g.pad_left, g.out_w) * g.in_c * g.out_c;
  return g.out_pixels() * g.out_c * g.depth();
}
}  // namespace tessera_perf

/// The body of the measured wrapper: one conv2d_s8::run call.
#define TESSERA_PERF_CONV2D_S8(Conv) \
  (void)Conv::run(tessera_perf::geo, tessera_perf::v_in, tessera_perf::v_packed, tessera_perf::v_out, tessera_perf::stage, \
                  tessera_perf::v_ws, tessera_perf::v_ws_bytes)
