/// @file dwconv3x3_row_common.hpp
/// Shared body of the 3x3 depthwise ROW kernel drivers (op.hpp's row contract): the interior of a
/// 112 x 112 x 32 layer (TESSERA_PERF_HW, TESSERA_PERF_C override), stride TESSERA_PERF_STRIDE
/// (environment, 1 or 2; without one, as on the M55: TESSERA_PERF_DEFAULT_STRIDE, else 1) along x
/// and y: one DW_ROW::run per output row over every output pixel whose 3x3 window lies inside the
/// input (stride 1: 110 rows of 110 pixels; stride 2: 55 x 55), as the depthwise operators make
/// them. DW_T float: clamp [-6, 6], checked against dwconv_f32_scalar (same fused tap order); DW_T
/// int8_t: per-channel output stage, checked against dwconv_qs8_scalar. Both bit for bit after the
/// measured call, on tap pointers. elements() counts MACs (pixels x C x 9). A driver includes its
/// kernel, defines DW_ROW and DW_T, then includes this.
/// (dwconv_f32_common.hpp / dwconv_qs8_common.hpp are the unipass kernels' padded-layer bodies.)
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <tessera/kernels/dwconv/scalar/dwconv_f32_scalar.hpp>
#include <tessera/kernels/dwconv/scalar/dwconv_qs8_scalar.hpp>
#include "perf_harness.hpp"

#ifndef TESSERA_PERF_HW
#define TESSERA_PERF_HW 112
#endif
#ifndef TESSERA_PERF_C
#define TESSERA_PERF_C 32
#endif
#ifndef TESSERA_PERF_DEFAULT_STRIDE
#define TESSERA_PERF_DEFAULT_STRIDE 1
#endif

namespace tessera_perf {
using K = DW_ROW;
using T = DW_T;
inline constexpr bool kF32 = std::is_same_v<T, float>;
using B = std::conditional_t<kF32, float, std::int32_t>;  // bias (and packed block) element
using stage_t = std::conditional_t<kF32, tessera::f32_clamp, tessera::output_stage<tessera::requant::per_channel>>;
using ref_kernel = std::conditional_t<kF32, tessera::kernels::dwconv_f32_scalar, tessera::kernels::dwconv_qs8_scalar>;

inline constexpr std::size_t kHW = TESSERA_PERF_HW, kC = TESSERA_PERF_C, kKs = 9;
alignas(64) inline T input[kHW * kHW * kC];
alignas(64) inline T weights[kKs * kC];
alignas(64) inline B bias[kC];
alignas(64) inline std::int32_t mult[kC], shift[kC];  // int8's per-channel stage
alignas(64) inline T out[kHW * kHW * kC];
alignas(64) inline T ref[kHW * kHW * kC];
alignas(64) inline B packed[tessera::kernels::packed_dw_bytes(kC, kKs, 16, 4, sizeof(T)) / 4];
alignas(64) inline B packed_ref[tessera::kernels::packed_dw_bytes(kC, kKs, 4, 4, sizeof(T)) / 4];
inline stage_t stage;
inline std::size_t stride = 1, out_hw = kHW - 2;

inline volatile std::size_t v_c = kC, v_stride = 1, v_ohw = kHW - 2;
inline const T* volatile v_in = input;
inline const void* volatile v_packed = packed;
inline T* volatile v_out = out;
inline const stage_t* volatile v_stage = &stage;

inline std::uint32_t lcg(std::uint32_t& s) { return s = s * 1664525u + 1013904223u; }
inline T rand_t(std::uint32_t& s) {
  if constexpr (kF32) return static_cast<float>(static_cast<std::int32_t>(lcg(s) >> 21) - 1024) / 512.0f;
  else return static_cast<std::int8_t>(lcg(s) >> 24);
}

/// fp32: clamp [-6, 6]; int8: the per-channel stage of mult, shift, zero point 3.
template <class S = stage_t> S make_stage() {
  if constexpr (kF32) return {-6.0f, 6.0f};
  else return {{mult, shift}, 3, -128, 127};
}

void setup() {
  const char* s_env = std::getenv("TESSERA_PERF_STRIDE");
  stride = s_env ? (std::strcmp(s_env, "2") == 0 ? 2 : 1) : TESSERA_PERF_DEFAULT_STRIDE;
  out_hw = (kHW - 3) / stride + 1;
  v_stride = stride;
  v_ohw = out_hw;
  std::uint32_t s = kF32 ? 4242 : 777;
  for (auto& v : input) v = rand_t(s);
  for (auto& v : weights) v = rand_t(s);
  for (std::size_t c = 0; c < kC; ++c) {
    if constexpr (kF32) {
      bias[c] = rand_t(s);
    } else {
      bias[c] = static_cast<std::int32_t>(lcg(s) >> 20) - 2048;
      mult[c] = static_cast<std::int32_t>((1u << 30) + (lcg(s) >> 2));
      shift[c] = -static_cast<std::int32_t>(6 + lcg(s) % 4);
    }
  }
  stage = make_stage();
  auto w_at = [](std::size_t t, std::size_t c) { return weights[t * kC + c]; };
  auto b_at = [](std::size_t c) { return bias[c]; };
  tessera::kernels::pack_dw<B, T>(kC, kKs, K::cr(), w_at, b_at, packed);
  tessera::kernels::pack_dw<B, T>(kC, kKs, 4, w_at, b_at, packed_ref);
}

int check() {
  const T* ptrs[kKs];
  for (std::size_t y = 0; y < out_hw; ++y)
    for (std::size_t x = 0; x < out_hw; ++x) {
      for (std::size_t t = 0; t < kKs; ++t) ptrs[t] = input + ((y * stride + t / 3) * kHW + x * stride + t % 3) * kC;
      ref_kernel::run(kC, 1, kKs, ptrs, kKs, packed_ref, ref + (y * out_hw + x) * kC, kC, stage);
    }
  return std::memcmp(out, ref, out_hw * out_hw * kC * sizeof(T)) != 0;
}

std::size_t elements() { return out_hw * out_hw * kC * kKs; }
}  // namespace tessera_perf

TESSERA_PERF_KERNEL {
  const std::size_t c = tessera_perf::v_c, s = tessera_perf::v_stride, n = tessera_perf::v_ohw;
  const tessera_perf::T* in = tessera_perf::v_in;
  const void* packed = tessera_perf::v_packed;
  tessera_perf::T* o = tessera_perf::v_out;
  const auto& st = *tessera_perf::v_stage;
  const std::size_t pitch = tessera_perf::kHW * c;
  for (std::size_t y = 0; y < n; ++y) {
    const tessera_perf::T* r0 = in + y * s * pitch;
    tessera_perf::K::run(c, n, s, r0, r0 + pitch, r0 + 2 * pitch, packed, o + y * n * c, st);
  }
}
