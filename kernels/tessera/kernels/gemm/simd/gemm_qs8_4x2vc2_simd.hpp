/// @file gemm_qs8_4x2vc2_simd.hpp
/// int8 GEMM with fused requantization on xsimd (the `simd` tag): exact int8 products through
/// sign-extended int16 pairs (simd/dot.hpp).
///
/// Tile: 4 rows x 2v channels, v = int32 lanes of the xsimd arch (AVX2: 4x16; Neon64: 4x8).
/// Packed weights (op.hpp) with nr = 2v, kr = 2: per block int32 bias'[2v], then int8
/// w[ceil(K/2)][2v][2]. One k step takes a pair of depths: the 4v weight bytes widen into two int16
/// batches (channel j's pair in int32 lane j), each row's (a[k], a[k+1]) is broadcast to every
/// int32 lane, and madd_s8 (AVX2 VPMADDWD + VPADDD; Neon MUL + SADALP) accumulates 2 products per
/// lane exactly; 8 named int32 accumulators. Activations widen 2v depths (one int16 batch) per row
/// at a time into a small stack buffer, from which the pairs are broadcast by plain loads.
/// Inner loop per k step on AVX2 (4 x 16 x 2 = 128 MACs): 2 VPMOVSXBW (weights), 4 VPBROADCASTD
/// (memory), 8 VPMADDWD + 8 VPADDD, 3-4 loop instructions; per 16 depths, 4 VPMOVSXBW + 4 stores.
/// Epilogue in registers: + bias' + row_offset, MBQM (xsimd_bridge.hpp), + zero point, clamp,
/// narrow, store.
/// ISA: x86-64 AVX2+FMA (xsimd fma3<avx2>) or AArch64 Neon (xsimd neon64).
/// Tails: M by row clamping (a missing row aliases the last valid row: its A, row_offset and C
/// pointers, so it recomputes and rewrites that row's identical bytes); N by a bounce buffer for the
/// last block's stores and its per-channel parameters (nothing written at or past channel n);
/// K by a zeroed bounce buffer for each row's last < 2v depths (A is never read past k elements;
/// the zero-padded weights are read only up to the padded depth).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SIMD
#error "gemm_qs8_4x2vc2_simd.hpp needs the simd tag (TESSERA_USE_XSIMD=1 and AVX2+FMA on x86-64 or Neon on AArch64)"
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <tessera/arch/simd/dot.hpp>
#include <tessera/arch/simd/xsimd_bridge.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct gemm_qs8_4x2vc2_simd {
  using arch = tessera::arch::simd;
  static constexpr const char* name = "gemm_qs8_4x2vc2_simd";

 private:
  using i32 = tessera::arch::simd_ops::i32;
  using i16 = tessera::arch::simd_ops::i16;
  static constexpr std::size_t L = i32::size;   // int32 lanes; channels per accumulator
  static constexpr std::size_t NR = 2 * L;      // channels per block
  static constexpr std::size_t KC = i16::size;  // depths widened per row at a time (= 2L)
  static_assert(NR <= 16 && KC <= 16, "copy_short moves fewer than 16 bytes");

 public:
  static std::size_t nr() noexcept { return NR; }
  static std::size_t kr() noexcept { return 2; }

  /// C[m][n] = clamp(MBQM(sum_k A[m][k] W[n][k] + bias'[n] + row_offset[m]) + zp), int32 wrapping.
  /// @param[in]  a           m rows of k int8 activations, row stride a_stride (elements)
  /// @param[in]  packed_w    pack_qs8_weights(n, k, nr(), kr(), ...) output, 4-byte aligned
  /// @param[in]  row_offset  m int32 values added to every channel of a row, or nullptr
  /// @param[out] c           m rows of n int8 outputs, row stride c_stride (elements)
  template <class Q>
  static void run(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, std::size_t a_stride,
                  const void* packed_w, const std::int32_t* row_offset, std::int8_t* c, std::size_t c_stride,
                  const output_stage<Q>& p) noexcept {
    namespace ops = tessera::arch::simd_ops;
    constexpr bool per_tensor = std::is_same_v<Q, requant::per_tensor>;
    const std::size_t kpad = (k + 1) & ~std::size_t{1};
    const std::size_t block = NR * sizeof(std::int32_t) + NR * kpad;
    const std::size_t kfull = k / KC * KC, krem = k - kfull;
    // Parameters in locals: the int8 stores may alias anything, so p's members would be reloaded.
    const i32 zp(p.zero_point), lo(p.act_min), hi(p.act_max);
    const auto q = p.q;

    for (std::size_t n0 = 0; n0 < n; n0 += NR) {
      const auto* base = static_cast<const std::uint8_t*>(packed_w) + (n0 / NR) * block;
      const auto* bias = reinterpret_cast<const std::int32_t*>(base);
      const auto* w = reinterpret_cast<const std::int8_t*>(base + NR * sizeof(std::int32_t));
      const std::size_t nb = std::min(NR, n - n0);
      const i32 b0 = i32::load_unaligned(bias), b1 = i32::load_unaligned(bias + L);
      i32 m0, m1, s0, s1;
      if constexpr (per_tensor) {
        m0 = m1 = i32(q.multiplier);
        s0 = s1 = i32(q.shift);
      } else if (nb == NR) {
        m0 = i32::load_unaligned(q.multiplier + n0), m1 = i32::load_unaligned(q.multiplier + n0 + L);
        s0 = i32::load_unaligned(q.shift + n0), s1 = i32::load_unaligned(q.shift + n0 + L);
      } else {  // the arrays end at channel n - 1
        alignas(64) std::int32_t mb[NR] = {}, sb[NR] = {};
        std::memcpy(mb, q.multiplier + n0, nb * sizeof(std::int32_t));
        std::memcpy(sb, q.shift + n0, nb * sizeof(std::int32_t));
        m0 = i32::load_aligned(mb), m1 = i32::load_aligned(mb + L);
        s0 = i32::load_aligned(sb), s1 = i32::load_aligned(sb + L);
      }

      for (std::size_t i = 0; i < m; i += 4) {
        // Row clamping: missing rows alias the last valid one.
        const std::int8_t* a0 = a + i * a_stride;
        const std::int8_t* a1 = i + 1 < m ? a0 + a_stride : a0;
        const std::int8_t* a2 = i + 2 < m ? a1 + a_stride : a1;
        const std::int8_t* a3 = i + 3 < m ? a2 + a_stride : a2;
        std::int8_t* c0 = c + i * c_stride + n0;
        std::int8_t* c1 = i + 1 < m ? c0 + c_stride : c0;
        std::int8_t* c2 = i + 2 < m ? c1 + c_stride : c1;
        std::int8_t* c3 = i + 3 < m ? c2 + c_stride : c2;
        const std::int32_t* r0 = row_offset ? row_offset + i : nullptr;
        const std::int32_t* r1 = r0 && i + 1 < m ? r0 + 1 : r0;
        const std::int32_t* r2 = r1 && i + 2 < m ? r1 + 1 : r1;
        const std::int32_t* r3 = r2 && i + 3 < m ? r2 + 1 : r2;

        // The last krem (< KC) activations of each row, zero padded, copied while no accumulator
        // is live.
        alignas(64) std::int8_t tail[4][KC];
        if (krem != 0) {
          std::memset(tail, 0, sizeof tail);
          copy_short(tail[0], a0 + kfull, krem);
          copy_short(tail[1], a1 + kfull, krem);
          copy_short(tail[2], a2 + kfull, krem);
          copy_short(tail[3], a3 + kfull, krem);
        }

        i32 acc00(0), acc01(0), acc10(0), acc11(0), acc20(0), acc21(0), acc30(0), acc31(0);
        // Widened activations of the current KC depths, one int32 (= an int16 pair) per k step.
        alignas(64) std::int32_t ab[4][L];
        const std::int8_t* wp = w;
        // One k step (depths 2j, 2j+1 of the chunk in ab): two weight batches, four broadcasts.
        auto step = [&](std::size_t j) noexcept {
          const i16 w0 = ops::load_widen_s8(wp), w1 = ops::load_widen_s8(wp + KC);
          wp += 2 * NR;
          i16 x = ops::broadcast_pair(&ab[0][j]);
          acc00 = ops::madd_s8(acc00, x, w0), acc01 = ops::madd_s8(acc01, x, w1);
          x = ops::broadcast_pair(&ab[1][j]);
          acc10 = ops::madd_s8(acc10, x, w0), acc11 = ops::madd_s8(acc11, x, w1);
          x = ops::broadcast_pair(&ab[2][j]);
          acc20 = ops::madd_s8(acc20, x, w0), acc21 = ops::madd_s8(acc21, x, w1);
          x = ops::broadcast_pair(&ab[3][j]);
          acc30 = ops::madd_s8(acc30, x, w0), acc31 = ops::madd_s8(acc31, x, w1);
        };
        auto widen = [&](const std::int8_t* p0, const std::int8_t* p1, const std::int8_t* p2,
                         const std::int8_t* p3) noexcept {
          ops::widen_store_s8(ab[0], p0);
          ops::widen_store_s8(ab[1], p1);
          ops::widen_store_s8(ab[2], p2);
          ops::widen_store_s8(ab[3], p3);
        };
        // A run-time j loop (not unrolled): the broadcasts stay loads from ab, and GCC does not
        // reassociate the accumulator chains across steps (which spills).
        for (std::size_t kk = 0; kk < kfull; kk += KC) {
          widen(a0 + kk, a1 + kk, a2 + kk, a3 + kk);
          for (std::size_t j = 0; j < L; ++j) step(j);
        }
        if (krem != 0) {
          widen(tail[0], tail[1], tail[2], tail[3]);
          for (std::size_t j = 0; j < (krem + 1) / 2; ++j) step(j);  // the packed weights end at kpad
        }

        // Epilogue: rows 3..0 (an aliased row rewrites identical bytes).
        auto out = [&](i32 x0, i32 x1, const std::int32_t* r, std::int8_t* cr) noexcept {
          const i32 ro(r ? *r : 0);
          x0 = ops::mbqm(x0 + b0 + ro, m0, s0) + zp;
          x1 = ops::mbqm(x1 + b1 + ro, m1, s1) + zp;
          x0 = xsimd::min(xsimd::max(x0, lo), hi);
          x1 = xsimd::min(xsimd::max(x1, lo), hi);
          if (nb == NR) {
            ops::store_narrow(cr, x0);
            ops::store_narrow(cr + L, x1);
          } else {
            alignas(64) std::int8_t t[NR];
            ops::store_narrow(t, x0);
            ops::store_narrow(t + L, x1);
            copy_short(cr, t, nb);
          }
        };
        out(acc30, acc31, r3, c3);
        out(acc20, acc21, r2, c2);
        out(acc10, acc11, r1, c1);
        out(acc00, acc01, r0, c0);
      }
    }
  }

 private:
  /// dst[0..n) = src[0..n) for n < 16, in fixed-size pieces (no library call while vectors are live).
  static void copy_short(std::int8_t* dst, const std::int8_t* src, std::size_t n) noexcept {
    if (n & 8) { std::memcpy(dst, src, 8); dst += 8, src += 8; }
    if (n & 4) { std::memcpy(dst, src, 4); dst += 4, src += 4; }
    if (n & 2) { std::memcpy(dst, src, 2); dst += 2, src += 2; }
    if (n & 1) *dst = *src;
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::gemm_qs8, tessera::arch::simd> {
  using type = tessera::kernels::gemm_qs8_4x2vc2_simd;
};
