// arm-perf: targets=m55 loop-elements=144 unit=MAC
// Helium 16x8 depthwise 3x3 (int16 activations, int8 weights), stride 1, padding 1, on a 28 x 28 x 32
// layer (TESSERA_PERF_HW, TESSERA_PERF_C override; TESSERA_PERF_K 5: 5x5, padding 2) with a
// per-channel output stage and Acc = int32_t (int32 bias, MBQM32: the vector epilogue), one
// dwconv_qs16_2x8_helium::run per output row as depthwise_conv2d_s16 makes them (in_step = K * K
// pointers per pixel, padding taps at a zero row). -DTESSERA_PERF_PER_TENSOR=1: per-tensor stage;
// -DTESSERA_PERF_ACC64=1: Acc = int64_t (int64 bias beyond int32, scalar MBQM64 epilogue). The M55
// has no environment: variants are copies of this file defining these macros. 15% of the outputs
// (3x3, per-channel) reach a clamp (act_min -32000, act_max 32000), nearly all of them from past
// int16. Checked bit for bit after the measured call against an int64 (or wrapping int32) sum +
// tessera::requantize_one. elements() counts MACs (pixels * channels * K * K).
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/kernels/dwconv/helium/dwconv_qs16_2x8_helium.hpp>
#include <tessera/quant/requantize.hpp>
#include "dwconv_qs16_common.hpp"
#include "perf_harness.hpp"

#ifndef TESSERA_PERF_HW
#define TESSERA_PERF_HW 28
#endif
#ifndef TESSERA_PERF_C
#define TESSERA_PERF_C 32
#endif
#ifndef TESSERA_PERF_K
#define TESSERA_PERF_K 3
#endif

using K = tessera::kernels::dwconv_qs16_2x8_helium;

namespace tessera_perf {
inline constexpr std::size_t kHW = TESSERA_PERF_HW, kC = TESSERA_PERF_C, kK = TESSERA_PERF_K, kKS = kK * kK, kPix = kHW * kHW;
#if TESSERA_PERF_PER_TENSOR
using Q = tessera::requant::per_tensor;
#else
using Q = tessera::requant::per_channel;
#endif
#if TESSERA_PERF_ACC64
using Acc = std::int64_t;
#else
using Acc = std::int32_t;
#endif
alignas(64) inline std::int16_t input[kPix * kC];
alignas(64) inline std::int16_t zero[kC];
alignas(64) inline std::int8_t w[kKS * kC];
alignas(64) inline std::int64_t bias[kC];
alignas(64) inline std::int32_t mult[kC];
alignas(64) inline std::int32_t shift[kC];
alignas(64) inline std::int16_t out[kPix * kC];
alignas(64) inline std::int64_t packed[tessera::kernels::packed_dw_bytes(kC, kKS, 8, 8, 1) / 8 + 8];
inline const std::int16_t* ind[kPix * kKS];
inline tessera::output_stage<Q> stage;

inline volatile std::size_t v_c = kC, v_hw = kHW;
inline const std::int16_t* const* volatile v_ind = ind;
inline const void* volatile v_packed = packed;
inline std::int16_t* volatile v_out = out;
inline const tessera::output_stage<Q>* volatile v_stage = &stage;

void setup() {
  std::uint32_t s = 777;
  for (auto& v : input) v = static_cast<std::int16_t>(lcg(s) >> 16);
  for (auto& v : zero) v = 0;
  for (auto& v : w) v = static_cast<std::int8_t>(lcg(s) >> 24);
  for (std::size_t c = 0; c < kC; ++c) {
    if constexpr (std::is_same_v<Acc, std::int64_t>)  // beyond int32 (|bias| < 2^36): the int64 path
      bias[c] = static_cast<std::int64_t>(lcg(s)) * 16 - (std::int64_t{1} << 35);
    else  // an int32 bias (|bias| < 2^21), as depthwise_conv2d_s16 packs it for MBQM32
      bias[c] = static_cast<std::int32_t>(lcg(s) >> 10) - (1 << 21);
    mult[c] = static_cast<std::int32_t>((1u << 30) + (lcg(s) >> 2));
    // Shifts -6 to -11: outputs reach past +-32000 and past int16, so both clamps and the
    // saturating narrow are exercised.
    shift[c] = -static_cast<std::int32_t>(6 + lcg(s) % 6);
  }
#if TESSERA_PERF_PER_TENSOR
  stage.q = {mult[0], shift[0]};
#else
  stage.q = {mult, shift};
#endif
  stage.zero_point = 3, stage.act_min = -32000, stage.act_max = 32000;
  same_window_indirection(ind, input, zero, kHW, kC, kK);
  tessera::kernels::pack_dw<std::int64_t, std::int8_t>(
      kC, kKS, K::cr(), [](std::size_t t, std::size_t c) { return w[t * kC + c]; },
      [](std::size_t c) { return bias[c]; }, packed);
}

int check() { return check_dw_s16<Acc>(kPix, kC, kKS, ind, w, bias, stage, out); }

std::size_t elements() { return kPix * kC * kKS; }
}  // namespace tessera_perf

TESSERA_PERF_KERNEL {
  const std::size_t c = tessera_perf::v_c, hw = tessera_perf::v_hw, ks = tessera_perf::kKS;
  const std::int16_t* const* ind = tessera_perf::v_ind;
  const void* packed = tessera_perf::v_packed;
  std::int16_t* o = tessera_perf::v_out;
  const auto& st = *tessera_perf::v_stage;
  for (std::size_t y = 0; y < hw; ++y)
    K::run<tessera_perf::Acc>(c, hw, ks, ind + y * hw * ks, ks, packed, o + y * hw * c, c, st);
}
