/// @file dwconv_qs8_common.hpp
/// Shared body of the dwconv_qs8_* drivers: a 3x3 stride-1 padding-1 depthwise layer of
/// TESSERA_PERF_HW x TESSERA_PERF_HW x TESSERA_PERF_C, one DW_KERNEL::run call per output row as an
/// operator makes them, checked bit for bit against the scalar kernel. A driver defines DW_KERNEL,
/// includes its kernel, sets TESSERA_PERF_MAX_CR (and optionally TESSERA_PERF_HW), then includes this.
#pragma once
#include <tessera/kernels/dwconv/scalar/dwconv_qs8_scalar.hpp>
#ifndef TESSERA_PERF_MAX_CR
#error "define TESSERA_PERF_MAX_CR (the largest cr() of DW_KERNEL) before including dwconv_qs8_common.hpp"
#endif
#include "perf_harness.hpp"

#ifndef TESSERA_PERF_HW
#define TESSERA_PERF_HW 112
#endif
#ifndef TESSERA_PERF_C
#define TESSERA_PERF_C 32
#endif

namespace tessera_perf {
inline constexpr std::size_t kH = TESSERA_PERF_HW, kW = TESSERA_PERF_HW, kC = TESSERA_PERF_C, kKs = 9;
inline constexpr std::size_t kMaxCr = TESSERA_PERF_MAX_CR;  // the largest cr() the driver may meet

alignas(64) inline std::int8_t input[kH * kW * kC];
alignas(64) inline std::int8_t zero_row[kC];
alignas(64) inline std::int8_t weights[kKs * kC];
alignas(64) inline std::int32_t bias[kC];
alignas(64) inline const std::int8_t* ind[kH * kW * kKs];
alignas(64) inline std::int8_t out[kH * kW * kC];
alignas(64) inline std::int8_t ref[kH * kW * kC];
alignas(64) inline std::uint8_t packed[tessera::kernels::packed_dw_bytes(kC, kKs, kMaxCr, 4, 1)];
alignas(64) inline std::uint8_t packed_ref[tessera::kernels::packed_dw_bytes(kC, kKs, 4, 4, 1)];
inline tessera::output_stage<tessera::requant::per_tensor> stage;

inline volatile std::size_t v_h = kH, v_w = kW, v_c = kC;
inline const std::int8_t* const* volatile v_ind = ind;
inline const void* volatile v_packed = packed;
inline std::int8_t* volatile v_out = out;
inline const tessera::output_stage<tessera::requant::per_tensor>* volatile v_stage = &stage;

inline std::uint32_t lcg(std::uint32_t& s) { return s = s * 1664525u + 1013904223u; }

void setup() {
  std::uint32_t s = 4242;
  const std::int32_t zin = -3;
  for (auto& v : input) v = static_cast<std::int8_t>(lcg(s) >> 24);
  for (auto& v : zero_row) v = static_cast<std::int8_t>(zin);
  for (auto& v : weights) v = static_cast<std::int8_t>(lcg(s) >> 24);
  for (auto& v : bias) v = static_cast<std::int32_t>(lcg(s) >> 16) - 32768;
  for (std::size_t y = 0; y < kH; ++y)
    for (std::size_t x = 0; x < kW; ++x)
      for (std::size_t t = 0; t < kKs; ++t) {
        const long iy = static_cast<long>(y) + static_cast<long>(t / 3) - 1, ix = static_cast<long>(x) + static_cast<long>(t % 3) - 1;
        const bool in = iy >= 0 && iy < static_cast<long>(kH) && ix >= 0 && ix < static_cast<long>(kW);
        ind[(y * kW + x) * kKs + t] = in ? input + (static_cast<std::size_t>(iy) * kW + static_cast<std::size_t>(ix)) * kC : zero_row;
      }
  auto w_at = [](std::size_t t, std::size_t c) { return weights[t * kC + c]; };
  auto b_at = [zin](std::size_t c) {
    std::int32_t sum = 0;
    for (std::size_t t = 0; t < kKs; ++t) sum += weights[t * kC + c];
    return bias[c] - zin * sum;
  };
  tessera::kernels::pack_dw<std::int32_t, std::int8_t>(kC, kKs, DW_KERNEL::cr(), w_at, b_at, packed);
  tessera::kernels::pack_dw<std::int32_t, std::int8_t>(kC, kKs, 4, w_at, b_at, packed_ref);
  stage.q = {1518500250, -9};  // ~0.7 * 2^-9
  stage.zero_point = 5;
  stage.act_min = -128;
  stage.act_max = 127;
}

int check() {
  for (std::size_t y = 0; y < kH; ++y)
    tessera::kernels::dwconv_qs8_scalar::run(kC, kW, kKs, ind + y * kW * kKs, kKs, packed_ref, ref + y * kW * kC, kC, stage);
  for (std::size_t i = 0; i < kH * kW * kC; ++i)
    if (out[i] != ref[i]) return 1;
  return 0;
}

std::size_t elements() { return kH * kW * kC * kKs; }
}  // namespace tessera_perf

TESSERA_PERF_KERNEL {
  const std::size_t h = tessera_perf::v_h, w = tessera_perf::v_w, c = tessera_perf::v_c;
  const std::int8_t* const* ind = tessera_perf::v_ind;
  const void* packed = tessera_perf::v_packed;
  std::int8_t* o = tessera_perf::v_out;
  const auto& st = *tessera_perf::v_stage;
  for (std::size_t y = 0; y < h; ++y) DW_KERNEL::run(c, w, 9, ind + y * w * 9, 9, packed, o + y * w * c, c, st);
}
