/// @file requantize.hpp
/// Requantization parameters: float scale -> (multiplier, shift), per-tensor and per-channel
/// output stages (multiplier, shift, output zero point, activation clamp).
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <tessera/core/status.hpp>
#include <tessera/quant/fixedpoint.hpp>

namespace tessera {

/// A real factor r ~= multiplier * 2^(shift - 31), multiplier in [2^30, 2^31) (or 0).
struct quantized_multiplier {
  std::int32_t multiplier = 0;
  std::int32_t shift = 0;  ///< > 0: left shift
};

/// TFLite's QuantizeMultiplier: `q,e = frexp(r); qf = round_half_away(q*2^31); if qf == 2^31
/// {qf /= 2; e++}; if e < -31 {e = 0; qf = 0}`. Rejects non-finite, negative and too-large factors
/// (shift > 30, which MultiplyByQuantizedMultiplier cannot apply).
inline status quantize_multiplier(double real, quantized_multiplier& out) noexcept {
  if (!std::isfinite(real) || real < 0.0)
    return {status_code::invalid_argument, "quantize_multiplier: the factor must be finite and >= 0"};
  out = {};
  if (real == 0.0) return status::success();
  int e = 0;
  const double q = std::frexp(real, &e);
  auto qf = static_cast<std::int64_t>(std::round(q * static_cast<double>(std::int64_t{1} << 31)));
  if (qf == (std::int64_t{1} << 31)) { qf /= 2; ++e; }
  if (e < -31) { e = 0; qf = 0; }
  if (e > 30)
    return {status_code::invalid_argument, "quantize_multiplier: factor >= 2^30 cannot be represented"};
  out.multiplier = static_cast<std::int32_t>(qf);
  out.shift = e;
  return status::success();
}

/// The conv/FC factor `in_scale * filter_scale / out_scale`, widened to double as TFLite does.
inline status quantize_conv_multiplier(float in_scale, float filter_scale, float out_scale,
                                       quantized_multiplier& out) noexcept {
  if (!(out_scale > 0.0f))
    return {status_code::invalid_argument, "quantize_conv_multiplier: output scale must be > 0"};
  return quantize_multiplier(static_cast<double>(in_scale) * static_cast<double>(filter_scale) /
                                 static_cast<double>(out_scale), out);
}

namespace requant {
/// One multiplier and shift for every channel.
struct per_tensor {
  std::int32_t multiplier = 0;
  std::int32_t shift = 0;
};
/// One multiplier and shift per output channel (caller-owned arrays of `channels` entries).
struct per_channel {
  const std::int32_t* multiplier = nullptr;
  const std::int32_t* shift = nullptr;
};
}  // namespace requant

/// The quantized output stage fused into every int8/int16 kernel:
/// `y = clamp(MBQM(acc, multiplier[c], shift[c]) + zero_point, act_min, act_max)`.
template <class Q> struct output_stage {
  Q q{};
  std::int32_t zero_point = 0;
  std::int32_t act_min = std::numeric_limits<std::int32_t>::min();
  std::int32_t act_max = std::numeric_limits<std::int32_t>::max();
};

/// Multiplier and shift of channel `c` (the single pair for per-tensor stages).
template <class Q> constexpr quantized_multiplier channel_multiplier(const output_stage<Q>& p, std::size_t c) noexcept {
  if constexpr (std::is_same_v<Q, requant::per_tensor>) {
    (void)c;
    return {p.q.multiplier, p.q.shift};
  } else {
    return {p.q.multiplier[c], p.q.shift[c]};
  }
}

/// One accumulator of channel `c` through the whole stage: MBQM (32-bit for int32 accumulators,
/// the 16x8 64-bit form for int64), + zero point (wrapping), clamp, narrow. The scalar reference,
/// and the remainder loop of every vector kernel that has one.
template <class Out, class Acc, class Q>
constexpr Out requantize_one(Acc acc, const output_stage<Q>& p, std::size_t c) noexcept {
  static_assert(std::is_same_v<Acc, std::int32_t> || std::is_same_v<Acc, std::int64_t>,
                "tessera::requantize_one: accumulators are int32 or int64");
  const quantized_multiplier q = channel_multiplier(p, c);
  std::int32_t y;
  if constexpr (std::is_same_v<Acc, std::int32_t>) y = fixedpoint::mbqm32(acc, q.multiplier, q.shift);
  else y = fixedpoint::mbqm64(acc, q.multiplier, q.shift);
  y = fixedpoint::add_wrap(y, p.zero_point);
  return static_cast<Out>(y < p.act_min ? p.act_min : (y > p.act_max ? p.act_max : y));
}

/// Checks an output stage for output type `Out` over `channels` channels: clamp inside Out's
/// range and ordered, zero point representable, shifts within MBQM's domain.
template <class Out, class Q>
status validate(const output_stage<Q>& p, std::size_t channels, int min_shift, int max_shift) noexcept {
  constexpr std::int32_t lo = std::numeric_limits<Out>::min(), hi = std::numeric_limits<Out>::max();
  if (p.act_min < lo || p.act_max > hi)
    return {status_code::invalid_argument, "output_stage: activation clamp outside the output type's range"};
  if (p.act_min > p.act_max)
    return {status_code::invalid_argument, "output_stage: act_min > act_max"};
  // TFLite adds the zero point in int32 and clamps, so it accepts zero points just outside the output
  // type (CMSIS-NN's fully_connected_int4_6 uses 128 for int8). Accept what such models use; reject
  // values no quantizer produces.
  if (p.zero_point < -65536 || p.zero_point > 65536)
    return {status_code::invalid_argument, "output_stage: zero point outside [-65536, 65536]"};
  auto shift_ok = [&](std::int32_t s) { return s >= min_shift && s <= max_shift; };
  if constexpr (std::is_same_v<Q, requant::per_tensor>) {
    if (!shift_ok(p.q.shift)) return {status_code::invalid_argument, "output_stage: shift out of range"};
  } else {
    if (channels != 0 && (p.q.multiplier == nullptr || p.q.shift == nullptr))
      return {status_code::invalid_argument, "output_stage: per-channel arrays are null"};
    for (std::size_t c = 0; c < channels; ++c)
      if (!shift_ok(p.q.shift[c])) return {status_code::invalid_argument, "output_stage: a channel's shift is out of range"};
  }
  return status::success();
}

}  // namespace tessera
