/// @file dwconv_f32_scalar.hpp
/// Portable fp32 depthwise convolution microkernel (channel multiplier 1) over an indirection
/// buffer: the oracle for every vector f32 depthwise variant. Contract and packed format: op.hpp.
///
/// Tile: cr = 4 channels; packed blocks `float bias[4]; float w[ks][4]`. ks = 9 (3x3) and ks = 25
/// (5x5) are compile-time specialisations of the general loop; all three accumulate in the same
/// order with explicit fused multiply-adds (std::fma), so they agree bit for bit whatever the
/// compiler's -ffp-contract setting. ISA: none (C++).
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>

namespace tessera::kernels {

struct dwconv_f32_scalar {
  using arch = tessera::arch::scalar;
  static constexpr const char* name = "dwconv_f32_scalar";
  static constexpr std::size_t tile = 4;
  /// Channel tile of the packed weights.
  static std::size_t cr() noexcept { return tile; }

  /// out[p][c] = clamp(bias[c] + sum_t in[p * in_step + t][c] * w[t][c]) for p < pixels, c < channels.
  /// @param in       pixels * in_step tap pointers (in_step >= ks), each to `channels` floats
  /// @param packed   op.hpp f32 blocks packed with cr = 4 (4-byte aligned)
  /// @param out      output pixel p at out + p * out_stride (`channels` floats written)
  static void run(std::size_t channels, std::size_t pixels, std::size_t ks, const float* const* in,
                  std::size_t in_step, const void* packed, float* out, std::size_t out_stride,
                  const f32_clamp& clamp) noexcept {
    dispatch_taps(ks, [&](auto taps) { run_ks<decltype(taps)::value>(channels, pixels, ks, in, in_step, packed, out, out_stride, clamp); });
  }

 private:
  /// KS > 0: the tap count is a compile-time constant; KS = 0: it is `ks_rt`.
  template <std::size_t KS>
  static void run_ks(std::size_t channels, std::size_t pixels, std::size_t ks_rt, const float* const* in,
                     std::size_t in_step, const void* packed, float* out, std::size_t out_stride,
                     const f32_clamp& clamp) noexcept {
    constexpr std::size_t CR = tile;
    const std::size_t ks = KS != 0 ? KS : ks_rt;
    const std::size_t block = packed_dw_block_bytes(CR, ks, sizeof(float), sizeof(float));
    for (std::size_t px = 0; px < pixels; ++px, in += in_step, out += out_stride) {
      const auto* blk = static_cast<const std::uint8_t*>(packed);
      for (std::size_t c0 = 0; c0 < channels; c0 += CR, blk += block) {
        const std::size_t nb = channels - c0 < CR ? channels - c0 : CR;
        const auto* bias = reinterpret_cast<const float*>(blk);
        const float* w = bias + CR;
        float acc[CR];
        for (std::size_t j = 0; j < CR; ++j) acc[j] = bias[j];
        for (std::size_t t = 0; t < ks; ++t, w += CR) {
          const float* x = in[t] + c0;
          for (std::size_t j = 0; j < nb; ++j) acc[j] = std::fma(x[j], w[j], acc[j]);
        }
        for (std::size_t j = 0; j < nb; ++j) {
          const float v = acc[j] < clamp.min ? clamp.min : acc[j];
          out[c0 + j] = v > clamp.max ? clamp.max : v;
        }
      }
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv_f32, tessera::arch::scalar> {
  using type = tessera::kernels::dwconv_f32_scalar;
};
