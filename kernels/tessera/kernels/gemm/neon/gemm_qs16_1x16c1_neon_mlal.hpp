/// @file gemm_qs16_1x16c1_neon_mlal.hpp
/// 16x8 GEMM (int16 activations x int8 weights -> int16) with fused requantization for AArch64
/// Advanced SIMD: weights sign-extended to int16 (SXTL), SMLAL by lane into int32, widened into int64.
///
/// Tile: 1 row x 16 channels, kr = 1. Consumes the blocks of op_s16.hpp with nr = 16, kr = 1: per
/// block int64 bias[16], then int8 w[K][16] (one q register per depth). Per 4 depths x 16 channels
/// (64 MACs): 1 LDR d (activations), 4 LDR q + 8 SXTL (weights), 16 SMLAL/SMLAL2 by lane.
///
/// Exactness. |int16 * int8| <= 2^22, so an int32 lane holds any sum of 256 products (<= 2^30) exactly.
/// With an int64 bias (Acc = int64_t) the int32 partial sums are widened into int64 (SADDW/SADDW2)
/// every 256 depths, so the int64 total equals the scalar kernel's exact sum. With an int32 bias
/// (Acc = int32_t, TFLite's int32 AccumScalar) the int32 lanes simply keep accumulating: SMLAL wraps
/// modulo 2^32 exactly like the scalar kernel's wrapping sum. The epilogue (bias, MBQM64/MBQM32,
/// zero point, clamp) is the scalar `requantize_one` per output: one per K MACs, so it costs little
/// next to the loop for any real depth, and it is bit-exact by construction.
///
/// ISA: Armv8.0-A Advanced SIMD. Tails: M needs none. N: the last block computes 16 channels (its
/// padded weights and biases are 0) and stores only the n mod 16 real ones. K: depths run in steps
/// of 4 then 1, so A is never read past k elements; packed weights are read for exactly k depths.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_NEON
#error "gemm_qs16_1x16c1_neon_mlal.hpp needs AArch64 Advanced SIMD (TESSERA_HAS_NEON)"
#endif

#include <arm_neon.h>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op_s16.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct gemm_qs16_1x16c1_neon_mlal {
  using arch = tessera::arch::neon;
  static constexpr const char* name = "gemm_qs16_1x16c1_neon_mlal";
  static std::size_t nr() noexcept { return 16; }
  static std::size_t kr() noexcept { return 1; }

  /// C[m][n] = clamp(MBQM(sum_k A[m][k] W[n][k] + bias[n]) + zp), MBQM64 for Acc = int64_t,
  /// MBQM32 (int32 wrapping sum) for Acc = int32_t.
  /// @param[in]  a         m rows of k int16 activations, row stride a_stride (elements)
  /// @param[in]  blocks    qs16_blocks() of a buffer packed with nr = 16, kr = 1 (8-byte aligned)
  /// @param[out] c         m rows of n int16 outputs, row stride c_stride (elements)
  /// @param[in]  p         output stage; channel c uses multiplier/shift c (per_channel)
  template <class Acc, class Q>
  static void run(std::size_t m, std::size_t n, std::size_t k, const std::int16_t* a, std::size_t a_stride,
                  const void* blocks, std::int16_t* c, std::size_t c_stride, const output_stage<Q>& p) noexcept {
    static_assert(std::is_same_v<Acc, std::int64_t> || std::is_same_v<Acc, std::int32_t>,
                  "gemm_qs16: the accumulator is int64_t (int64 bias) or int32_t (int32 bias)");
    constexpr std::size_t NR = 16;
    // Depths per int32 partial sum before widening (256 * 2^22 = 2^30 < 2^31); a multiple of 4.
    constexpr std::size_t chunk = 256;
    const std::size_t block = packed_qs16_block_bytes(NR, k, 1);
    // A local copy: int16 stores may alias anything, so members of `p` would be reloaded.
    const output_stage<Q> stage = p;
    for (std::size_t n0 = 0; n0 < n; n0 += NR) {
      const auto* base = static_cast<const std::uint8_t*>(blocks) + (n0 / NR) * block;
      const auto* bias = reinterpret_cast<const std::int64_t*>(base);
      const auto* w = reinterpret_cast<const std::int8_t*>(base + NR * sizeof(std::int64_t));
      const std::size_t nb = n - n0 < NR ? n - n0 : NR;
      for (std::size_t i = 0; i < m; ++i) {
        const std::int16_t* ap = a + i * a_stride;
        std::int16_t* cp = c + i * c_stride + n0;
        if constexpr (std::is_same_v<Acc, std::int64_t>) {
          int64x2_t s[8];
          for (int j = 0; j < 8; ++j) s[j] = vld1q_s64(bias + 2 * j);
          for (std::size_t k0 = 0; k0 < k; k0 += chunk) {
            acc4 x = dot(ap, w, k0, k - k0 < chunk ? k : k0 + chunk);
            for (int j = 0; j < 4; ++j) {
              s[2 * j] = vaddw_s32(s[2 * j], vget_low_s32(x.v[j]));
              s[2 * j + 1] = vaddw_high_s32(s[2 * j + 1], x.v[j]);
            }
          }
          std::int64_t out[NR];
          for (int j = 0; j < 8; ++j) vst1q_s64(out + 2 * j, s[j]);
          for (std::size_t j = 0; j < nb; ++j) cp[j] = requantize_one<std::int16_t>(out[j], stage, n0 + j);
        } else {
          const acc4 x = dot(ap, w, 0, k);
          std::int32_t out[NR];
          for (int j = 0; j < 4; ++j) vst1q_s32(out + 4 * j, x.v[j]);
          for (std::size_t j = 0; j < nb; ++j) {
            const auto y = static_cast<std::int32_t>(static_cast<std::uint32_t>(out[j]) + static_cast<std::uint32_t>(bias[j]));
            cp[j] = requantize_one<std::int16_t>(y, stage, n0 + j);
          }
        }
      }
    }
  }

 private:
  struct acc4 {
    int32x4_t v[4];
  };
  /// x += a[d] * w[d][0..15] for one depth d, the activation in lane L of `av`.
  template <int L> static void step(acc4& x, const std::int8_t* wp, int16x4_t av) noexcept {
    const int8x16_t wv = vld1q_s8(wp);
    const int16x8_t wl = vmovl_s8(vget_low_s8(wv)), wh = vmovl_high_s8(wv);
    x.v[0] = vmlal_lane_s16(x.v[0], vget_low_s16(wl), av, L);
    x.v[1] = vmlal_high_lane_s16(x.v[1], wl, av, L);
    x.v[2] = vmlal_lane_s16(x.v[2], vget_low_s16(wh), av, L);
    x.v[3] = vmlal_high_lane_s16(x.v[3], wh, av, L);
  }
  /// int32 sums over depths [k0, k1) of one activation row against the 16 channels of a block.
  static acc4 dot(const std::int16_t* ap, const std::int8_t* w, std::size_t k0, std::size_t k1) noexcept {
    acc4 x{{vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)}};
    const std::int8_t* wp = w + k0 * 16;
    std::size_t d = k0;
    for (; d + 4 <= k1; d += 4, wp += 64) {
      const int16x4_t av = vld1_s16(ap + d);
      step<0>(x, wp, av);
      step<1>(x, wp + 16, av);
      step<2>(x, wp + 32, av);
      step<3>(x, wp + 48, av);
    }
    for (; d < k1; ++d, wp += 16) step<0>(x, wp, vdup_n_s16(ap[d]));
    return x;
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::gemm_qs16_qs8, tessera::arch::neon> {
  using type = tessera::kernels::gemm_qs16_1x16c1_neon_mlal;
};
