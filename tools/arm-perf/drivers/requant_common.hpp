/// @file requant_common.hpp
/// Shared setup for the requant_s32_* drivers: K::run<int8_t>(rows, channels, ...) with a
/// per-channel output_stage, TESSERA_PERF_ROWS x TESSERA_PERF_CHANNELS (default 4 x 512), checked
/// against requant_s32_scalar (the oracle) after the measured call.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tessera/kernels/requant/scalar/requant_s32_scalar.hpp>
#include <tessera/quant/requantize.hpp>
#include "perf_harness.hpp"

#ifndef TESSERA_PERF_ROWS
#define TESSERA_PERF_ROWS 4
#endif
#ifndef TESSERA_PERF_CHANNELS
#define TESSERA_PERF_CHANNELS 512
#endif

namespace tessera_perf {
inline constexpr std::size_t kRows = TESSERA_PERF_ROWS, kChannels = TESSERA_PERF_CHANNELS;
using stage_t = tessera::output_stage<tessera::requant::per_channel>;

alignas(64) inline std::int32_t acc[kRows * kChannels];
alignas(64) inline std::int8_t out[kRows * kChannels];
alignas(64) inline std::int8_t ref[kRows * kChannels];
alignas(64) inline std::int32_t mult[kChannels];
alignas(64) inline std::int32_t shift[kChannels];
inline stage_t stage;

// Everything the wrapper sees goes through volatile globals: runtime sizes, unknown pointers.
inline volatile std::size_t v_rows = kRows, v_channels = kChannels;
inline const std::int32_t* volatile v_acc = acc;
inline std::int8_t* volatile v_out = out;
inline const stage_t* volatile v_stage = &stage;

}  // namespace tessera_perf

/// The body of the measured wrapper: one K::run<int8_t> call, written directly in the wrapper
/// (clang's `flatten` only inlines the wrapper's direct callees, not a helper template's).
#define TESSERA_PERF_REQUANT(K)                                                              \
  do {                                                                                       \
    const std::size_t rows_ = tessera_perf::v_rows, channels_ = tessera_perf::v_channels;    \
    K::template run<std::int8_t>(rows_, channels_, tessera_perf::v_acc, channels_,           \
                                 tessera_perf::v_out, channels_, *tessera_perf::v_stage);    \
  } while (0)

namespace tessera_perf {

inline std::uint32_t lcg(std::uint32_t& s) { return s = s * 1664525u + 1013904223u; }

void setup() {
  std::uint32_t s = 12345;
  for (std::size_t c = 0; c < kChannels; ++c) {
    mult[c] = static_cast<std::int32_t>((1u << 30) | (lcg(s) >> 2));  // [2^30, 2^31)
    shift[c] = -static_cast<std::int32_t>(lcg(s) >> 29) + 1;          // [-6, 1]: typical conv/FC
  }
  for (auto& a : acc) a = static_cast<std::int32_t>(lcg(s)) >> 12;     // about +-2^19
  stage.q = {mult, shift};
  stage.zero_point = -3;
  stage.act_min = -128;
  stage.act_max = 127;
}

int check() {
  tessera::kernels::requant_s32_scalar::run<std::int8_t>(kRows, kChannels, acc, kChannels, ref, kChannels, stage);
  return std::memcmp(out, ref, sizeof out) != 0;
}

std::size_t elements() { return kRows * kChannels; }
}  // namespace tessera_perf
