/// @file dwconv_qs8_scalar.hpp
/// Portable int8 depthwise convolution microkernel (channel multiplier 1) with fused TFLite
/// requantization, over an indirection buffer: the oracle for every vector int8 depthwise variant.
/// Contract and packed format: op.hpp.
///
/// Tile: cr = 4 channels; packed blocks `int32 bias'[4]; int8 w[ks][4]` (padded to 4 bytes), with
/// bias' = bias - input_zp * sum_t w[t]. acc = bias' + sum_t in[t][c] * w[t][c] in wrapping int32
/// (computed in uint32), then tessera::requantize_one<int8_t> (MBQM32). ks = 9 and ks = 25 are
/// compile-time specialisations of the general loop (integer: identical by construction). ISA: none.
#pragma once
#include <cstddef>
#include <cstdint>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct dwconv_qs8_scalar {
  using arch = tessera::arch::scalar;
  static constexpr const char* name = "dwconv_qs8_scalar";
  static constexpr std::size_t tile = 4;
  /// Channel tile of the packed weights.
  static std::size_t cr() noexcept { return tile; }

  /// out[p][c] = requant(bias'[c] + sum_t in[p * in_step + t][c] * w[t][c]) for p < pixels, c < channels.
  /// @param in       pixels * in_step tap pointers (in_step >= ks), each to `channels` int8 values
  /// @param packed   op.hpp s8 blocks packed with cr = 4 (4-byte aligned)
  /// @param out      output pixel p at out + p * out_stride (`channels` values written)
  /// @param p        output stage; channel c uses multiplier/shift c when per-channel
  template <class Q>
  static void run(std::size_t channels, std::size_t pixels, std::size_t ks, const std::int8_t* const* in,
                  std::size_t in_step, const void* packed, std::int8_t* out, std::size_t out_stride,
                  const output_stage<Q>& p) noexcept {
    dispatch_taps(ks, [&](auto taps) { run_ks<decltype(taps)::value>(channels, pixels, ks, in, in_step, packed, out, out_stride, p); });
  }

 private:
  /// KS > 0: the tap count is a compile-time constant; KS = 0: it is `ks_rt`.
  template <std::size_t KS, class Q>
  static void run_ks(std::size_t channels, std::size_t pixels, std::size_t ks_rt, const std::int8_t* const* in,
                     std::size_t in_step, const void* packed, std::int8_t* out, std::size_t out_stride,
                     const output_stage<Q>& p) noexcept {
    constexpr std::size_t CR = tile;
    const std::size_t ks = KS != 0 ? KS : ks_rt;
    const std::size_t block = packed_dw_block_bytes(CR, ks, sizeof(std::int32_t), sizeof(std::int8_t));
    for (std::size_t px = 0; px < pixels; ++px, in += in_step, out += out_stride) {
      const auto* blk = static_cast<const std::uint8_t*>(packed);
      for (std::size_t c0 = 0; c0 < channels; c0 += CR, blk += block) {
        const std::size_t nb = channels - c0 < CR ? channels - c0 : CR;
        const auto* bias = reinterpret_cast<const std::int32_t*>(blk);
        const auto* w = reinterpret_cast<const std::int8_t*>(blk + CR * sizeof(std::int32_t));
        std::uint32_t acc[CR];
        for (std::size_t j = 0; j < CR; ++j) acc[j] = static_cast<std::uint32_t>(bias[j]);
        for (std::size_t t = 0; t < ks; ++t, w += CR) {
          const std::int8_t* x = in[t] + c0;
          for (std::size_t j = 0; j < nb; ++j)
            acc[j] += static_cast<std::uint32_t>(std::int32_t{x[j]} * std::int32_t{w[j]});
        }
        for (std::size_t j = 0; j < nb; ++j)
          out[c0 + j] = requantize_one<std::int8_t>(static_cast<std::int32_t>(acc[j]), p, c0 + j);
      }
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv_qs8, tessera::arch::scalar> {
  using type = tessera::kernels::dwconv_qs8_scalar;
};
