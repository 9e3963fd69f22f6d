/// @file fully_connected.hpp
/// int8 fully connected (TFLite FULLY_CONNECTED with int8 activations): s8 or s4 weights,
/// per-channel or per-tensor requantization, optional weight zero point, int32 bias.
///
///   out[b][o] = clamp(MBQM(sum_k (in[b][k] - input_zp) * (w[o][k] - weight_zp) + bias[o]) + out_zp)
///
/// Pack the weights once (the caller owns the buffer, sized by `packed_weights_bytes`), then `run`
/// as often as needed. A non-zero weight zero point needs `workspace_bytes(batches, weight_zp)` of
/// caller-owned scratch.
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>
#include <tessera/core/dtype.hpp>
#include <tessera/core/status.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/registry.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera {

/// int8 fully connected layer using the GEMM microkernel `Kernel` (by default the one selected for `Tag`).
template <class Tag = arch::native, class Kernel = select_t<op::gemm_qs8, Tag>>
struct fully_connected_s8 {
  using kernel = Kernel;

  /// Bytes of packed weights (and folded biases) for `output_c` x `input_c`; 0 if a size is out of
  /// [1, 2^24] or the total would overflow size_t (possible on 32-bit targets).
  static std::size_t packed_weights_bytes(std::size_t output_c, std::size_t input_c) noexcept {
    if (output_c == 0 || input_c == 0 || input_c > max_dim || output_c > max_dim) return 0;
    return kernels::packed_qs8_bytes(output_c, input_c, Kernel::nr(), Kernel::kr());
  }
  /// Scratch bytes `run` needs: one int32 per batch row when the weight zero point is not 0.
  static constexpr std::size_t workspace_bytes(std::size_t batches, std::int32_t weight_zp) noexcept {
    return weight_zp != 0 ? batches * sizeof(std::int32_t) : 0;
  }

  /// Packs int8 weights `w[output_c][input_c]` and `bias[output_c]` (nullable).
  static status pack_weights(std::size_t output_c, std::size_t input_c, const std::int8_t* w, const std::int32_t* bias,
                             std::int32_t input_zp, std::int32_t weight_zp, void* packed,
                             std::size_t packed_bytes) noexcept {
    TESSERA_TRY(check_pack(output_c, input_c, w, input_zp, weight_zp, packed, packed_bytes));
    kernels::pack_qs8_weights(output_c, input_c, Kernel::nr(), Kernel::kr(),
                              [&](std::size_t o, std::size_t k) { return w[o * input_c + k]; }, bias, input_zp,
                              weight_zp, packed);
    return status::success();
  }
  /// Packs int4 weights, two per byte over the flattened [output_c][input_c] index (element 2i in
  /// the low nibble, CMSIS-NN order; see dtype.hpp).
  static status pack_weights_s4(std::size_t output_c, std::size_t input_c, const std::uint8_t* w_s4,
                                const std::int32_t* bias, std::int32_t input_zp, void* packed,
                                std::size_t packed_bytes) noexcept {
    TESSERA_TRY(check_pack(output_c, input_c, w_s4, input_zp, 0, packed, packed_bytes));
    kernels::pack_qs8_weights(output_c, input_c, Kernel::nr(), Kernel::kr(),
                              [&](std::size_t o, std::size_t k) { return s4_at(w_s4, o * input_c + k); }, bias,
                              input_zp, 0, packed);
    return status::success();
  }

  /// Runs the layer on `batches` rows of `input_c` int8 values (row stride `in_stride`, >= input_c),
  /// writing `output_c` values per row (row stride `out_stride`).
  template <class Q>
  static status run(std::size_t batches, std::size_t input_c, std::size_t output_c, const std::int8_t* in,
                    std::size_t in_stride, const void* packed, std::int8_t* out, std::size_t out_stride,
                    const output_stage<Q>& stage, std::int32_t weight_zp = 0, void* workspace = nullptr,
                    std::size_t workspace_size = 0) noexcept {
    if (batches == 0) return status::success();
    if (input_c == 0 || output_c == 0 || input_c > max_dim || output_c > max_dim || batches > max_dim)
      return {status_code::invalid_argument, "fully_connected_s8: sizes must be in [1, 2^24]"};
    if (in == nullptr || packed == nullptr || out == nullptr)
      return {status_code::invalid_argument, "fully_connected_s8: null buffer"};
    if (in_stride < input_c || out_stride < output_c)
      return {status_code::invalid_argument, "fully_connected_s8: a row stride is smaller than its row"};
    if (weight_zp < -127 || weight_zp > 127)
      return {status_code::invalid_argument, "fully_connected_s8: weight zero point outside int8"};
    TESSERA_TRY(validate<std::int8_t>(stage, std::is_same_v<Q, requant::per_tensor> ? 1 : output_c, -31, 30));
    std::int32_t* row_offset = nullptr;
    if (weight_zp != 0) {
      if (workspace == nullptr || workspace_size < workspace_bytes(batches, weight_zp))
        return {status_code::buffer_too_small, "fully_connected_s8: workspace smaller than workspace_bytes()"};
      row_offset = static_cast<std::int32_t*>(workspace);
      for (std::size_t b = 0; b < batches; ++b) {
        std::uint32_t s = 0;
        for (std::size_t k = 0; k < input_c; ++k) s += static_cast<std::uint32_t>(std::int32_t{in[b * in_stride + k]});
        row_offset[b] = static_cast<std::int32_t>(0u - static_cast<std::uint32_t>(weight_zp) * s);
      }
    }
    Kernel::run(batches, output_c, input_c, in, in_stride, packed, row_offset, out, out_stride, stage);
    return status::success();
  }

 private:
  static constexpr std::size_t max_dim = std::size_t{1} << 24;
  static status check_pack(std::size_t output_c, std::size_t input_c, const void* w, std::int32_t input_zp,
                           std::int32_t weight_zp, void* packed, std::size_t packed_bytes) noexcept {
    if (output_c == 0 || input_c == 0 || input_c > max_dim || output_c > max_dim)
      return {status_code::invalid_argument, "fully_connected_s8: sizes must be in [1, 2^24]"};
    if (w == nullptr || packed == nullptr) return {status_code::invalid_argument, "fully_connected_s8: null buffer"};
    if (reinterpret_cast<std::uintptr_t>(packed) % alignof(std::int32_t) != 0)
      return {status_code::invalid_argument, "fully_connected_s8: packed buffer must be 4-byte aligned"};
    const std::size_t need = packed_weights_bytes(output_c, input_c);
    if (need == 0) return {status_code::overflow, "fully_connected_s8: packed size overflows size_t"};
    if (packed_bytes < need)
      return {status_code::buffer_too_small, "fully_connected_s8: packed buffer smaller than packed_weights_bytes()"};
    if (input_zp < -128 || input_zp > 127 || weight_zp < -127 || weight_zp > 127)
      return {status_code::invalid_argument, "fully_connected_s8: zero point outside int8"};
    return status::success();
  }
};

}  // namespace tessera
