/// @file dwconv_qs16_scalar.hpp
/// Portable 16x8 depthwise convolution microkernel (int16 activations x int8 weights -> int16,
/// channel multiplier 1) with fused TFLite requantization, over an indirection buffer: the oracle
/// for every vector 16x8 depthwise variant. Contract and packed format: op.hpp.
///
/// Tile: cr = 4 channels; packed blocks `int64 bias[4]; int8 w[ks][4]` (padded to 8 bytes).
/// Acc = int64_t: acc = bias + sum_t in * w exactly in int64, MBQM64 (TFLite's int64 bias path).
/// Acc = int32_t: the bias truncated to int32, the sum wrapping in int32 (computed in uint32), MBQM32
/// (TFLite's AccumScalar = int32 path). s16 zero points are 0, so padding taps read 0. ks = 9 and
/// ks = 25 are compile-time specialisations of the general loop. ISA: none.
#pragma once
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct dwconv_qs16_scalar {
  using arch = tessera::arch::scalar;
  static constexpr const char* name = "dwconv_qs16_scalar";
  static constexpr std::size_t tile = 4;
  /// Channel tile of the packed weights.
  static std::size_t cr() noexcept { return tile; }

  /// out[p][c] = requant(bias[c] + sum_t in[p * in_step + t][c] * w[t][c]) for p < pixels, c < channels.
  /// @tparam Acc     int64_t (MBQM64) or int32_t (wrapping int32 sum, MBQM32)
  /// @param in       pixels * in_step tap pointers (in_step >= ks), each to `channels` int16 values
  /// @param packed   op.hpp s16 blocks packed with cr = 4 (8-byte aligned)
  /// @param out      output pixel p at out + p * out_stride (`channels` values written)
  /// @param p        output stage; channel c uses multiplier/shift c when per-channel
  template <class Acc, class Q>
  static void run(std::size_t channels, std::size_t pixels, std::size_t ks, const std::int16_t* const* in,
                  std::size_t in_step, const void* packed, std::int16_t* out, std::size_t out_stride,
                  const output_stage<Q>& p) noexcept {
    static_assert(std::is_same_v<Acc, std::int64_t> || std::is_same_v<Acc, std::int32_t>,
                  "dwconv_qs16: the accumulator is int64_t or int32_t");
    dispatch_taps(ks, [&](auto taps) { run_ks<decltype(taps)::value, Acc>(channels, pixels, ks, in, in_step, packed, out, out_stride, p); });
  }

 private:
  /// KS > 0: the tap count is a compile-time constant; KS = 0: it is `ks_rt`.
  template <std::size_t KS, class Acc, class Q>
  static void run_ks(std::size_t channels, std::size_t pixels, std::size_t ks_rt, const std::int16_t* const* in,
                     std::size_t in_step, const void* packed, std::int16_t* out, std::size_t out_stride,
                     const output_stage<Q>& p) noexcept {
    constexpr std::size_t CR = tile;
    // int64 accumulators are exact (|in * w| <= 2^22, ks <= 2^24); int32 ones wrap like TFLite's.
    using Sum = std::conditional_t<std::is_same_v<Acc, std::int64_t>, std::int64_t, std::uint32_t>;
    const std::size_t ks = KS != 0 ? KS : ks_rt;
    const std::size_t block = packed_dw_block_bytes(CR, ks, sizeof(std::int64_t), sizeof(std::int8_t));
    for (std::size_t px = 0; px < pixels; ++px, in += in_step, out += out_stride) {
      const auto* blk = static_cast<const std::uint8_t*>(packed);
      for (std::size_t c0 = 0; c0 < channels; c0 += CR, blk += block) {
        const std::size_t nb = channels - c0 < CR ? channels - c0 : CR;
        const auto* bias = reinterpret_cast<const std::int64_t*>(blk);
        const auto* w = reinterpret_cast<const std::int8_t*>(blk + CR * sizeof(std::int64_t));
        Sum acc[CR];
        for (std::size_t j = 0; j < CR; ++j) acc[j] = static_cast<Sum>(bias[j]);
        for (std::size_t t = 0; t < ks; ++t, w += CR) {
          const std::int16_t* x = in[t] + c0;
          for (std::size_t j = 0; j < nb; ++j) acc[j] += static_cast<Sum>(std::int32_t{x[j]} * std::int32_t{w[j]});
        }
        for (std::size_t j = 0; j < nb; ++j)
          out[c0 + j] = requantize_one<std::int16_t>(static_cast<Acc>(acc[j]), p, c0 + j);
      }
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv_qs16, tessera::arch::scalar> {
  using type = tessera::kernels::dwconv_qs16_scalar;
};
