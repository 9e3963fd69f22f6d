/// @file requantize.hpp
/// The quantized output stage as an operator: int32 (or int64) accumulators -> int8/int16 with
/// TFLite's MultiplyByQuantizedMultiplier, output zero point and activation clamp. Every int8/int16
/// operator fuses the same per-tag helpers into its own epilogue; this operator exposes them for
/// users who compute accumulators themselves, and is where the helpers are tested and benchmarked.
#pragma once
#include <cstddef>
#include <cstdint>
#include <tessera/core/status.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/requant/registry.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera {

/// Requantizes `rows` x `channels` accumulators (row stride `acc_stride` elements) into `out`
/// (row stride `out_stride`), channel `c` using multiplier/shift `c` (per-channel) or the single
/// pair (per-tensor). Acc = int32 uses MBQM32 (shift in [-31, 30]); Acc = int64 uses MBQM64 (the
/// 16x8 path: shift in [-31, 7], multiplier >= 0, |acc| < 2^47).
/// @param[in]  acc  accumulators, caller-owned
/// @param[out] out  results, caller-owned; must not overlap `acc`
/// @return invalid_argument with a message for bad parameters; nothing is written then.
template <class Tag = arch::native, class Acc, class Out, class Q>
status requantize(std::size_t rows, std::size_t channels, const Acc* acc, std::size_t acc_stride, Out* out,
                  std::size_t out_stride, const output_stage<Q>& p) noexcept {
  static_assert(std::is_same_v<Acc, std::int32_t> || std::is_same_v<Acc, std::int64_t>,
                "tessera::requantize: accumulators must be int32 or int64");
  static_assert(std::is_same_v<Out, std::int8_t> || std::is_same_v<Out, std::int16_t>,
                "tessera::requantize: output must be int8 or int16");
  static_assert(!std::is_same_v<Acc, std::int64_t> || std::is_same_v<Out, std::int16_t>,
                "tessera::requantize: int64 accumulators (16x8 kernels) produce int16");
  if (rows == 0 || channels == 0) return status::success();
  if (acc == nullptr || out == nullptr) return {status_code::invalid_argument, "requantize: null buffer"};
  if (acc_stride < channels || out_stride < channels)
    return {status_code::invalid_argument, "requantize: a row stride is smaller than the channel count"};
  constexpr bool wide = std::is_same_v<Acc, std::int64_t>;
  TESSERA_TRY((validate<Out>(p, std::is_same_v<Q, requant::per_tensor> ? 1 : channels, -31, wide ? 7 : 30)));
  if constexpr (wide) {
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      if (p.q.multiplier < 0) return {status_code::invalid_argument, "requantize: int64 path needs multiplier >= 0"};
    } else {
      for (std::size_t c = 0; c < channels; ++c)
        if (p.q.multiplier[c] < 0) return {status_code::invalid_argument, "requantize: int64 path needs multiplier >= 0"};
    }
  }
  using kernel = select_t<op::requantize<Acc, Out, Q>, Tag>;
  kernel::template run<Out>(rows, channels, acc, acc_stride, out, out_stride, p);
  return status::success();
}

}  // namespace tessera
