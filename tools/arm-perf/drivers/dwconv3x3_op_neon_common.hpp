/// @file dwconv3x3_op_neon_common.hpp
/// Shared body of the dwconv3x3_op_{f32,qs8}_neon drivers: one whole depthwise_conv2d_{f32,s8}::run
/// (Neon tag) on a MobileNetV1 depthwise layer chosen by the environment variable TESSERA_PERF_LAYER
/// (qemu-aarch64 passes the environment through):
///   b  3x3 stride 1 SAME, 112x112x32 -> 112x112x32 (default)
///   d  3x3 stride 2 SAME, 112x112x64 -> 56x56x64
/// and TESSERA_PERF_PATH: `row` (default: the operator as shipped, interior pixels on the 3x3 row
/// kernel, edges on the unipass kernel) or `unipass` (the same operator with the row kernel switched
/// off through a channel tile that never matches: every pixel on the unipass kernel, the operator
/// before the row path). elements() counts MACs (out pixels x C x 9); check() compares every output
/// with a direct reference (f32: the fma chain in tap order, padding taps as fma(0, w, acc); s8:
/// TFLite semantics with tessera::requantize_one, per-channel stage).
/// A driver defines DW_F32 (1 or 0), DW_UNIPASS, DW_ROW (kernel types) and includes this file.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <tessera/ops/depthwise_conv2d.hpp>
#include "perf_harness.hpp"

namespace tessera_perf {
/// Row kernel R with a channel tile that never equals a unipass kernel's: the operator then runs
/// every pixel on its unipass kernel.
template <class R> struct no_row : R {
  static std::size_t cr() noexcept { return 0; }
};

#if DW_F32
using T = float;
using OpRow = tessera::depthwise_conv2d_f32<tessera::arch::neon, DW_UNIPASS, DW_ROW>;
using OpUni = tessera::depthwise_conv2d_f32<tessera::arch::neon, DW_UNIPASS, no_row<DW_ROW>>;
inline tessera::f32_clamp clamp{-6.0f, 6.0f};
#else
using T = std::int8_t;
using OpRow = tessera::depthwise_conv2d_s8<tessera::arch::neon, DW_UNIPASS, DW_ROW>;
using OpUni = tessera::depthwise_conv2d_s8<tessera::arch::neon, DW_UNIPASS, no_row<DW_ROW>>;
inline constexpr std::int32_t kInputZp = -3;
alignas(64) inline std::int32_t bias[64], mult[64], shift[64];
inline tessera::output_stage<tessera::requant::per_channel> stage;
#endif

inline tessera::conv_geometry geo;
alignas(64) inline T in[112 * 112 * 64];
alignas(64) inline T filt[9 * 64];
alignas(64) inline float fbias[64];
alignas(64) inline T out[112 * 112 * 32];
alignas(64) inline std::uint64_t packed[(64 + 16) * 10 * 8 / 8 + 64];
alignas(64) inline std::uint64_t workspace[(112 * 9 * 8 + 64 * 4 + 64) / 8];

inline const T* volatile v_in = in;
inline const void* volatile v_packed = packed;
inline T* volatile v_out = out;
inline void* volatile v_ws = workspace;
inline volatile std::size_t v_ws_bytes = 0;
inline volatile int v_unipass = 0;

inline std::uint32_t lcg(std::uint32_t& s) { return s = s * 1664525u + 1013904223u; }

void setup() {
  const char* layer = std::getenv("TESSERA_PERF_LAYER");
  const char* path = std::getenv("TESSERA_PERF_PATH");
  v_unipass = path && std::strcmp(path, "unipass") == 0;
  tessera::conv_shape s{.in_h = 112, .in_w = 112, .in_c = 32, .out_c = 32, .kernel_h = 3, .kernel_w = 3};
  if (layer && std::strcmp(layer, "d") == 0)
    s = {.in_h = 112, .in_w = 112, .in_c = 64, .out_c = 64, .kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2};
  if (!tessera::make_conv_geometry(s, tessera::padding::same, geo).ok()) std::abort();
  std::uint32_t r = 99;
  if (OpRow::packed_weights_bytes(geo) > sizeof(packed) || OpUni::packed_weights_bytes(geo) > sizeof(packed) ||
      OpRow::workspace_bytes(geo) > sizeof(workspace) || geo.out_elems() > sizeof(out) / sizeof(T))
    std::abort();
#if DW_F32
  auto f = [&] { return static_cast<float>(static_cast<std::int32_t>(lcg(r) >> 21) - 1024) / 512.0f; };
  for (std::size_t i = 0; i < geo.in_elems(); ++i) in[i] = f();
  for (std::size_t i = 0; i < 9 * geo.out_c; ++i) filt[i] = f();
  for (std::size_t o = 0; o < geo.out_c; ++o) fbias[o] = f();
  if (!OpRow::pack_weights(geo, filt, fbias, packed, sizeof(packed)).ok()) std::abort();
#else
  for (std::size_t i = 0; i < geo.in_elems(); ++i) in[i] = static_cast<std::int8_t>(lcg(r) >> 24);
  for (std::size_t i = 0; i < 9 * geo.out_c; ++i) filt[i] = static_cast<std::int8_t>(lcg(r) >> 24);
  for (std::size_t o = 0; o < geo.out_c; ++o) {
    bias[o] = static_cast<std::int32_t>(lcg(r) >> 16) - 32768;
    mult[o] = 0x40000000 + static_cast<std::int32_t>(lcg(r) >> 3);
    shift[o] = -9 - static_cast<std::int32_t>(lcg(r) >> 30);
  }
  stage = {{mult, shift}, 5, -128, 127};
  if (!OpRow::pack_weights(geo, filt, bias, kInputZp, packed, sizeof(packed)).ok()) std::abort();
#endif
  v_ws_bytes = OpRow::workspace_bytes(geo);
}

int check() {
  const auto& g = geo;
  for (std::size_t oy = 0; oy < g.out_h; ++oy)
    for (std::size_t ox = 0; ox < g.out_w; ++ox)
      for (std::size_t c = 0; c < g.out_c; ++c) {
#if DW_F32
        float acc = fbias[c];
#else
        std::int32_t acc = bias[c];
#endif
        for (std::size_t t = 0; t < 9; ++t) {
          const long iy = long(oy * g.stride_h + t / 3) - long(g.pad_top), ix = long(ox * g.stride_w + t % 3) - long(g.pad_left);
          const bool inside = iy >= 0 && ix >= 0 && iy < long(g.in_h) && ix < long(g.in_w);
          const T x = inside ? in[(std::size_t(iy) * g.in_w + std::size_t(ix)) * g.in_c + c] : T{0};
#if DW_F32
          acc = std::fma(x, filt[t * g.out_c + c], acc);
#else
          if (inside) acc += (x - kInputZp) * filt[t * g.out_c + c];
#endif
        }
        const T got = out[(oy * g.out_w + ox) * g.out_c + c];
#if DW_F32
        if (!(got == std::fmin(std::fmax(acc, clamp.min), clamp.max))) return 1;
#else
        if (got != tessera::requantize_one<std::int8_t>(acc, stage, c)) return 1;
#endif
      }
  return 0;
}
std::size_t elements() { return geo.out_pixels() * geo.out_c * 9; }
}  // namespace tessera_perf

namespace tessera_perf {
/// The operator call, kept out of the flattened wrapper (noinline stops `flatten`): compiled as in
/// any translation unit, where GCC keeps the row kernel's slice loops out of line. Flattened into
/// the wrapper, GCC 12 inlines them into one huge function and spills their 30 live q registers.
[[gnu::noinline]] void call_op() {
#if DW_F32
  if (v_unipass) OpUni::run(geo, v_in, v_packed, v_out, clamp, v_ws, v_ws_bytes);
  else OpRow::run(geo, v_in, v_packed, v_out, clamp, v_ws, v_ws_bytes);
#else
  if (v_unipass) OpUni::run(geo, v_in, v_packed, v_out, stage, kInputZp, v_ws, v_ws_bytes);
  else OpRow::run(geo, v_in, v_packed, v_out, stage, kInputZp, v_ws, v_ws_bytes);
#endif
}
}  // namespace tessera_perf

/// icount only (the loops are in call_op and below, not in the wrapper's body: use the
/// dwconv3x3_*_neon_* kernel drivers for llvm-mca).
TESSERA_PERF_KERNEL { tessera_perf::call_op(); }
