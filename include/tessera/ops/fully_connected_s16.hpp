/// @file fully_connected_s16.hpp
/// 16x8 fully connected (TFLite FULLY_CONNECTED with int16 activations and int8 weights): int16
/// output, per-channel or per-tensor requantization, int64 or int32 bias.
///
///   out[b][o] = clamp(MBQM(sum_k in[b][k] * w[o][k] + bias[o]) + out_zp)
///
/// As in TFLite, the bias type picks the accumulator (`AccumScalar`): an int64 bias (or none) sums in
/// int64 and requantizes with the 16x8 MultiplyByQuantizedMultiplier (MBQM64: shift in [-31, 7],
/// multiplier >= 0); an int32 bias sums in int32 (wrapping) and requantizes with MBQM32 like the
/// int8 layers. Input and weight zero points are 0 (TFLite requires it for int16 activations).
///
/// Pack the weights once (caller-owned, 8-byte aligned buffer of `packed_weights_bytes`); the
/// packed buffer remembers the bias type, so `run` needs no extra argument.
#pragma once
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/core/status.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/registry_s16.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera {

/// 16x8 fully connected layer using the GEMM microkernel `Kernel` (by default the one selected for `Tag`).
template <class Tag = arch::native, class Kernel = select_t<op::gemm_qs16_qs8, Tag>>
struct fully_connected_s16 {
  using kernel = Kernel;
  /// Largest int64 bias magnitude accepted: keeps the accumulator inside MBQM64's domain (+-2^47).
  static constexpr std::int64_t max_abs_bias64 = std::int64_t{1} << 46;

  /// Bytes of packed weights (header, int64 biases, weights) for `output_c` x `input_c`; 0 if
  /// a size is out of [1, 2^24] or the total would overflow size_t.
  static std::size_t packed_weights_bytes(std::size_t output_c, std::size_t input_c) noexcept {
    if (output_c == 0 || input_c == 0 || input_c > max_dim || output_c > max_dim) return 0;
    return kernels::packed_qs16_bytes(output_c, input_c, Kernel::nr(), Kernel::kr());
  }

  /// Packs int8 weights `w[output_c][input_c]` with an int64 bias (nullable): int64 accumulator, MBQM64.
  /// @param[in]  bias    output_c values in [-2^46, 2^46], or nullptr (zeros)
  /// @param[out] packed  8-byte aligned, at least packed_bytes >= packed_weights_bytes() bytes
  static status pack_weights(std::size_t output_c, std::size_t input_c, const std::int8_t* w, const std::int64_t* bias,
                             void* packed, std::size_t packed_bytes) noexcept {
    TESSERA_TRY(check_pack(output_c, input_c, w, packed, packed_bytes));
    if (bias != nullptr)
      for (std::size_t o = 0; o < output_c; ++o)
        if (bias[o] < -max_abs_bias64 || bias[o] > max_abs_bias64)
          return {status_code::invalid_argument, "fully_connected_s16: an int64 bias is outside [-2^46, 2^46]"};
    pack(output_c, input_c, w, [&](std::size_t o) { return bias ? bias[o] : std::int64_t{0}; }, 64, packed);
    return status::success();
  }
  /// Packs int8 weights with an int32 bias (nullable): int32 (wrapping) accumulator, MBQM32.
  static status pack_weights(std::size_t output_c, std::size_t input_c, const std::int8_t* w, const std::int32_t* bias,
                             void* packed, std::size_t packed_bytes) noexcept {
    TESSERA_TRY(check_pack(output_c, input_c, w, packed, packed_bytes));
    pack(output_c, input_c, w, [&](std::size_t o) { return std::int64_t{bias ? bias[o] : 0}; }, 32, packed);
    return status::success();
  }
  /// No bias: TFLite's default for 16x8 (int64 accumulator, MBQM64).
  static status pack_weights(std::size_t output_c, std::size_t input_c, const std::int8_t* w, std::nullptr_t,
                             void* packed, std::size_t packed_bytes) noexcept {
    return pack_weights(output_c, input_c, w, static_cast<const std::int64_t*>(nullptr), packed, packed_bytes);
  }

  /// Accumulator width a packed buffer was made for: 64, 32, or 0 if it is not a 16x8 packed buffer.
  static unsigned accumulator_bits(const void* packed) noexcept {
    if (packed == nullptr) return 0;
    const auto& h = *static_cast<const kernels::qs16_packed_header*>(packed);
    return h.magic == kernels::qs16_packed_header::magic_value ? h.acc_bits : 0;
  }

  /// Runs the layer on `batches` rows of `input_c` int16 values (row stride `in_stride` >= input_c,
  /// elements), writing `output_c` int16 values per row (row stride `out_stride`, elements).
  /// @param[in] packed  pack_weights() output for the same output_c x input_c and Kernel
  /// @param[in] stage   per_tensor or per_channel (output_c entries); int64 packing needs shifts in
  ///                    [-31, 7] and multipliers >= 0, int32 packing shifts in [-31, 30]
  template <class Q>
  static status run(std::size_t batches, std::size_t input_c, std::size_t output_c, const std::int16_t* in,
                    std::size_t in_stride, const void* packed, std::int16_t* out, std::size_t out_stride,
                    const output_stage<Q>& stage) noexcept {
    if (batches == 0) return status::success();
    if (input_c == 0 || output_c == 0 || input_c > max_dim || output_c > max_dim || batches > max_dim)
      return {status_code::invalid_argument, "fully_connected_s16: sizes must be in [1, 2^24]"};
    if (in == nullptr || packed == nullptr || out == nullptr)
      return {status_code::invalid_argument, "fully_connected_s16: null buffer"};
    if (in_stride < input_c || out_stride < output_c)
      return {status_code::invalid_argument, "fully_connected_s16: a row stride is smaller than its row"};
    if (reinterpret_cast<std::uintptr_t>(packed) % alignof(std::int64_t) != 0)
      return {status_code::invalid_argument, "fully_connected_s16: packed buffer must be 8-byte aligned"};
    const auto& h = *static_cast<const kernels::qs16_packed_header*>(packed);
    if (h.magic != kernels::qs16_packed_header::magic_value || (h.acc_bits != 32 && h.acc_bits != 64))
      return {status_code::invalid_argument, "fully_connected_s16: packed buffer was not made by pack_weights"};
    if (h.nr != Kernel::nr() || h.kr != Kernel::kr())
      return {status_code::invalid_argument, "fully_connected_s16: packed buffer was made for another kernel"};
    if (h.n != output_c || h.k != input_c)
      return {status_code::shape_mismatch, "fully_connected_s16: packed buffer was made for other sizes"};
    const std::size_t channels = std::is_same_v<Q, requant::per_tensor> ? 1 : output_c;
    const void* blocks = kernels::qs16_blocks(packed);
    if (h.acc_bits == 64) {
      TESSERA_TRY(validate<std::int16_t>(stage, channels, -31, 7));
      if (!multipliers_nonnegative(stage, channels))
        return {status_code::invalid_argument, "fully_connected_s16: an MBQM64 multiplier is negative"};
      Kernel::template run<std::int64_t>(batches, output_c, input_c, in, in_stride, blocks, out, out_stride, stage);
    } else {
      TESSERA_TRY(validate<std::int16_t>(stage, channels, -31, 30));
      Kernel::template run<std::int32_t>(batches, output_c, input_c, in, in_stride, blocks, out, out_stride, stage);
    }
    return status::success();
  }

 private:
  static constexpr std::size_t max_dim = std::size_t{1} << 24;
  template <class BiasAt>
  static void pack(std::size_t output_c, std::size_t input_c, const std::int8_t* w, BiasAt&& bias_at,
                   std::uint32_t acc_bits, void* packed) noexcept {
    kernels::pack_qs16_weights(output_c, input_c, Kernel::nr(), Kernel::kr(),
                               [&](std::size_t o, std::size_t k) { return w[o * input_c + k]; }, bias_at, acc_bits,
                               packed);
  }
  template <class Q>
  static bool multipliers_nonnegative(const output_stage<Q>& stage, std::size_t channels) noexcept {
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      (void)channels;
      return stage.q.multiplier >= 0;
    } else {
      if (stage.q.multiplier == nullptr) return false;  // validate() said so already; this tells the optimizer
      for (std::size_t c = 0; c < channels; ++c)
        if (stage.q.multiplier[c] < 0) return false;
      return true;
    }
  }
  static status check_pack(std::size_t output_c, std::size_t input_c, const void* w, void* packed,
                           std::size_t packed_bytes) noexcept {
    if (output_c == 0 || input_c == 0 || input_c > max_dim || output_c > max_dim)
      return {status_code::invalid_argument, "fully_connected_s16: sizes must be in [1, 2^24]"};
    if (w == nullptr || packed == nullptr) return {status_code::invalid_argument, "fully_connected_s16: null buffer"};
    if (reinterpret_cast<std::uintptr_t>(packed) % alignof(std::int64_t) != 0)
      return {status_code::invalid_argument, "fully_connected_s16: packed buffer must be 8-byte aligned"};
    const std::size_t need = packed_weights_bytes(output_c, input_c);
    if (need == 0) return {status_code::overflow, "fully_connected_s16: packed size overflows size_t"};
    if (packed_bytes < need)
      return {status_code::buffer_too_small, "fully_connected_s16: packed buffer smaller than packed_weights_bytes()"};
    return status::success();
  }
};

}  // namespace tessera
