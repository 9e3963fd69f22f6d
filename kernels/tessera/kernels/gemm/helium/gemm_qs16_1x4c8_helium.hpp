/// @file gemm_qs16_1x4c8_helium.hpp
/// 16x8 GEMM (int16 activations x int8 weights -> int16) with fused requantization on Cortex-M55/M85
/// Helium (MVE integer): VMLALDAVA.S16, 8 int16 x int16 products summed into a 64-bit accumulator.
///
/// Tile: 1 row x 4 channels, kr = 8. Consumes the blocks of op_s16.hpp with nr() = 4, kr() = 8: per
/// block int64 bias[4], then int8 w[ceil(K/8)][4][8] (zero padded), so one k-group is 32 bytes, 8
/// consecutive weights per channel. Why 1 x 4: VMLALDAVA accumulates into an even/odd GPR pair, so 4
/// accumulators take 8 of r0-r12; with A, W and the loop counter there is no room for more.
/// Inner loop (8 depths): one VLDRH.16 of A, four VLDRB.S16 (weights sign-extended to int16, one
/// per channel, post-indexed) and four VMLALDAVA.S16 (`vmlaldavaq_s16`).
///
/// Exactness. The int64 sum is exact (|product| <= 2^22), so Acc = int64_t needs no widening; for
/// Acc = int32_t (TFLite's wrapping int32 AccumScalar) the low 32 bits of the same int64 sum plus the
/// bias are the wrapped int32 result. Epilogue: the scalar `requantize_one` per output (MBQM64 or
/// MBQM32, zero point, clamp), one per K MACs, bit-exact by construction.
/// Tails: M needs none. N: the last block computes 4 channels (padded weights and biases are 0) and
/// stores only the real ones. K (k % 8): one more k-group whose A load is a VCTP16-predicated zeroing
/// load (`vldrhq_z_s16`: activations past k read as zero and never accessed); the zero-padded weight
/// group is read whole. ISA: Armv8.1-M MVE (integer).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_HELIUM
#error "gemm_qs16_1x4c8_helium.hpp needs Helium (MVE): compile for e.g. -mcpu=cortex-m55"
#endif

#include <arm_mve.h>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op_s16.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct gemm_qs16_1x4c8_helium {
  using arch = tessera::arch::helium;
  static constexpr const char* name = "gemm_qs16_1x4c8_helium";
  static std::size_t nr() noexcept { return 4; }
  static std::size_t kr() noexcept { return 8; }

  /// C[m][n] = clamp(MBQM(sum_k A[m][k] W[n][k] + bias[n]) + zp), MBQM64 for Acc = int64_t,
  /// MBQM32 (int32 wrapping sum) for Acc = int32_t.
  /// @param[in]  a         m rows of k int16 activations, row stride a_stride (elements)
  /// @param[in]  blocks    qs16_blocks() of a buffer packed with nr() = 4, kr() = 8 (8-byte aligned)
  /// @param[out] c         m rows of n int16 outputs, row stride c_stride (elements)
  /// @param[in]  p         output stage; channel c uses multiplier/shift c (per_channel)
  template <class Acc, class Q>
  static void run(std::size_t m, std::size_t n, std::size_t k, const std::int16_t* a, std::size_t a_stride,
                  const void* blocks, std::int16_t* c, std::size_t c_stride, const output_stage<Q>& p) noexcept {
    static_assert(std::is_same_v<Acc, std::int64_t> || std::is_same_v<Acc, std::int32_t>,
                  "gemm_qs16: the accumulator is int64_t (int64 bias) or int32_t (int32 bias)");
    constexpr std::size_t NR = 4, KR = 8;
    const std::size_t block = packed_qs16_block_bytes(NR, k, KR);
    const std::size_t k8 = k & ~(KR - 1), rest = k - k8;
    const mve_pred16_t pk = vctp16q(static_cast<std::uint32_t>(rest));
    // A local copy: int16 stores may alias anything, so members of `p` would be reloaded.
    const output_stage<Q> stage = p;
    for (std::size_t n0 = 0; n0 < n; n0 += NR) {
      const auto* base = static_cast<const std::uint8_t*>(blocks) + (n0 / NR) * block;
      const auto* bias = reinterpret_cast<const std::int64_t*>(base);
      const auto* w0 = reinterpret_cast<const std::int8_t*>(base + NR * sizeof(std::int64_t));
      const std::size_t nb = n - n0 < NR ? n - n0 : NR;
      for (std::size_t i = 0; i < m; ++i) {
        const std::int16_t* ap = a + i * a_stride;
        std::int16_t* cp = c + i * c_stride + n0;
        std::int64_t s0 = bias[0], s1 = bias[1], s2 = bias[2], s3 = bias[3];
        const std::int8_t* w = w0;
        std::size_t kk = 0;
        for (; kk < k8; kk += KR) {
          const int16x8_t av = vldrhq_s16(ap + kk);
          s0 = vmlaldavaq_s16(s0, av, ldw(w));
          s1 = vmlaldavaq_s16(s1, av, ldw(w));
          s2 = vmlaldavaq_s16(s2, av, ldw(w));
          s3 = vmlaldavaq_s16(s3, av, ldw(w));
        }
        if (rest != 0) {
          const int16x8_t av = vldrhq_z_s16(ap + kk, pk);
          s0 = vmlaldavaq_s16(s0, av, vldrbq_s16(w));
          s1 = vmlaldavaq_s16(s1, av, vldrbq_s16(w + 8));
          s2 = vmlaldavaq_s16(s2, av, vldrbq_s16(w + 16));
          s3 = vmlaldavaq_s16(s3, av, vldrbq_s16(w + 24));
        }
        const std::int64_t s[NR] = {s0, s1, s2, s3};
        for (std::size_t j = 0; j < nb; ++j) {
          if constexpr (std::is_same_v<Acc, std::int64_t>)
            cp[j] = requantize_one<std::int16_t>(s[j], stage, n0 + j);
          else
            cp[j] = requantize_one<std::int16_t>(static_cast<std::int32_t>(static_cast<std::uint32_t>(s[j])), stage,
                                                 n0 + j);
        }
      }
    }
  }

 private:
  /// Loads 8 int8 weights at `p` sign-extended to int16 and advances `p` past them (post-indexed
  /// VLDRB.S16); the opaque step keeps GCC 12 from turning the four loads into offsets + MOVs.
  [[gnu::always_inline]] static inline int16x8_t ldw(const std::int8_t*& p) noexcept {
    const int16x8_t v = vldrbq_s16(p);
    p += 8;
    __asm__("" : "+r"(p));
    return v;
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::gemm_qs16_qs8, tessera::arch::helium> {
  using type = tessera::kernels::gemm_qs16_1x4c8_helium;
};
