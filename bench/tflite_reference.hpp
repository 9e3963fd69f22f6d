/// @file tflite_reference.hpp
/// The baseline of the requantization benchmarks: TFLite's reference output stage, transcribed
/// (the code path TFLite Micro runs without CMSIS-NN). Default build, i.e. double rounding
/// (no TFLITE_SINGLE_ROUNDING), which is what tessera matches bit for bit:
///   gemmlowp/fixedpoint/fixedpoint.h   SaturatingRoundingDoublingHighMul (nudge, truncating
///                                      division), RoundingDivideByPOT (scalar int32 helpers inlined)
///   tensorflow/lite/kernels/internal/common.{h,cc}   MultiplyByQuantizedMultiplier (int32, int64)
///   reference_integer_ops FullyConnected / ConvPerChannel   the epilogue after the accumulation:
///                                      MBQM, + output_offset, max, min, cast
/// Two builds of MultiplyByQuantizedMultiplier: `inline_mbqm` (inline in the header, as TFLite had
/// it until 2022 and as an LTO build gets it: the compiler may vectorize the loop), and `call_mbqm`
/// (defined in tflite_common.cpp, a separate translation unit, as current TFLite/TFLM define it in
/// common.cc: one call per element without LTO).
#pragma once
#include <algorithm>
#include <cstdint>
#include <limits>

namespace tflite_ref {

inline std::int32_t SaturatingRoundingDoublingHighMul(std::int32_t a, std::int32_t b) {
  bool overflow = a == b && a == std::numeric_limits<std::int32_t>::min();
  std::int64_t a_64(a);
  std::int64_t b_64(b);
  std::int64_t ab_64 = a_64 * b_64;
  std::int32_t nudge = ab_64 >= 0 ? (1 << 30) : (1 - (1 << 30));
  std::int32_t ab_x2_high32 = static_cast<std::int32_t>((ab_64 + nudge) / (1ll << 31));
  return overflow ? std::numeric_limits<std::int32_t>::max() : ab_x2_high32;
}
inline std::int32_t MaskIfNonZero(std::int32_t a) { return a ? ~std::int32_t{0} : std::int32_t{0}; }
inline std::int32_t MaskIfLessThan(std::int32_t a, std::int32_t b) { return MaskIfNonZero(a < b); }
inline std::int32_t MaskIfGreaterThan(std::int32_t a, std::int32_t b) { return MaskIfNonZero(a > b); }
inline std::int32_t RoundingDivideByPOT(std::int32_t x, int exponent) {
  const std::int32_t mask = static_cast<std::int32_t>((1ll << exponent) - 1);
  const std::int32_t zero = 0;
  const std::int32_t one = 1;
  const std::int32_t remainder = x & mask;
  const std::int32_t threshold = (mask >> 1) + (MaskIfLessThan(x, zero) & one);
  return (x >> exponent) + (MaskIfGreaterThan(remainder, threshold) & one);
}

inline std::int32_t MultiplyByQuantizedMultiplier(std::int32_t x, std::int32_t quantized_multiplier, int shift) {
  int left_shift = shift > 0 ? shift : 0;
  int right_shift = shift > 0 ? 0 : -shift;
  return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x * (1 << left_shift), quantized_multiplier),
                             right_shift);
}
inline std::int32_t MultiplyByQuantizedMultiplier(std::int64_t x, std::int32_t quantized_multiplier, int shift) {
  std::int32_t reduced_multiplier =
      (quantized_multiplier < 0x7FFF0000) ? ((quantized_multiplier + (1 << 15)) >> 16) : 0x7FFF;
  int total_shift = 15 - shift;
  x = (x * static_cast<std::int64_t>(reduced_multiplier)) + (static_cast<std::int64_t>(1) << (total_shift - 1));
  std::int32_t result = static_cast<std::int32_t>(x >> total_shift);
  return result;
}

/// common.cc's out-of-line definitions (tflite_common.cpp).
std::int32_t MultiplyByQuantizedMultiplierCall(std::int32_t x, std::int32_t quantized_multiplier, int shift);
std::int32_t MultiplyByQuantizedMultiplierCall(std::int64_t x, std::int32_t quantized_multiplier, int shift);

struct inline_mbqm {
  static constexpr const char* name = "tflite_reference";
  template <class Acc> static std::int32_t apply(Acc x, std::int32_t m, int s) {
    return MultiplyByQuantizedMultiplier(x, m, s);
  }
};
struct call_mbqm {
  static constexpr const char* name = "tflite_ref_call";
  template <class Acc> static std::int32_t apply(Acc x, std::int32_t m, int s) {
    return MultiplyByQuantizedMultiplierCall(x, m, s);
  }
};

/// The epilogue of reference_integer_ops::FullyConnected (per-tensor parameters), batches x
/// output_depth accumulators.
template <class Mbqm, class Out>
void OutputStage(int batches, int output_depth, const std::int32_t* acc, std::int32_t output_multiplier,
                 int output_shift, std::int32_t output_offset, std::int32_t output_activation_min,
                 std::int32_t output_activation_max, Out* output_data) {
  for (int b = 0; b < batches; ++b) {
    for (int out_c = 0; out_c < output_depth; ++out_c) {
      std::int32_t a = acc[out_c + output_depth * b];
      a = Mbqm::apply(a, output_multiplier, output_shift);
      a += output_offset;
      a = std::max(a, output_activation_min);
      a = std::min(a, output_activation_max);
      output_data[out_c + output_depth * b] = static_cast<Out>(a);
    }
  }
}
/// The epilogue of reference_integer_ops::ConvPerChannel / per-channel FullyConnected.
template <class Mbqm, class Out>
void OutputStagePerChannel(int batches, int output_depth, const std::int32_t* acc,
                           const std::int32_t* output_multiplier, const std::int32_t* output_shift,
                           std::int32_t output_offset, std::int32_t output_activation_min,
                           std::int32_t output_activation_max, Out* output_data) {
  for (int b = 0; b < batches; ++b) {
    for (int out_c = 0; out_c < output_depth; ++out_c) {
      std::int32_t a = acc[out_c + output_depth * b];
      a = Mbqm::apply(a, output_multiplier[out_c], output_shift[out_c]);
      a += output_offset;
      a = std::max(a, output_activation_min);
      a = std::min(a, output_activation_max);
      output_data[out_c + output_depth * b] = static_cast<Out>(a);
    }
  }
}
/// The 16x8 epilogue (int64 accumulators, int16 output, no output offset: int16 is symmetric).
template <class Mbqm>
void OutputStagePerChannel16x8(int batches, int output_depth, const std::int64_t* acc,
                               const std::int32_t* output_multiplier, const std::int32_t* output_shift,
                               std::int32_t output_activation_min, std::int32_t output_activation_max,
                               std::int16_t* output_data) {
  for (int b = 0; b < batches; ++b) {
    for (int out_c = 0; out_c < output_depth; ++out_c) {
      const std::int64_t a = acc[out_c + output_depth * b];
      std::int32_t scaled_acc = Mbqm::apply(a, output_multiplier[out_c], output_shift[out_c]);
      scaled_acc = std::max(scaled_acc, output_activation_min);
      scaled_acc = std::min(scaled_acc, output_activation_max);
      output_data[out_c + output_depth * b] = static_cast<std::int16_t>(scaled_acc);
    }
  }
}

}  // namespace tflite_ref
