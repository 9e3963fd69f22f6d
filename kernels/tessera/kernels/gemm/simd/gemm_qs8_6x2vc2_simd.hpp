/// @file gemm_qs8_6x2vc2_simd.hpp
/// int8 GEMM with fused requantization on xsimd (the `simd` tag): exact int8 products through
/// sign-extended int16 pairs (simd/dot.hpp).
///
/// Tile: 6 rows x 2v channels, v = int32 lanes of the xsimd arch (AVX2: 6x16 in 12 accumulators +
/// 2 weight batches + 1 broadcast = 15 of the 16 ymm registers; Neon64: 6x8). Packed weights
/// (op.hpp) with nr = 2v, kr = 2: per block int32 bias'[2v], then int8 w[ceil(K/2)][2v][2].
/// One k step takes a pair of depths: the 4v weight bytes widen into two int16 batches (channel j's
/// pair in int32 lane j), each row's (a[k], a[k+1]) is broadcast to every int32 lane, and madd_s8
/// (AVX2 VPMADDWD + VPADDD; Neon MUL + SADALP) accumulates 2 products per lane exactly.
/// Inner loop per k step on AVX2 (6 x 16 x 2 = 192 MACs): 2 VPMOVSXBW (weights), 6 VPBROADCASTD
/// (memory), 12 VPMADDWD + 12 VPADDD, 3 loop instructions.
/// Activations: a row tile's A is widened to int16 once (up to kw = 1024 depths; stack buffer) and
/// then applied to every block of a weight panel, so the widening costs nothing per block (longer K:
/// chunks of kw depths, re-widened per block).
/// Order, m >= 12 and K <= 512 (AVX2; 1024 on Neon): groups of blocks whose int16-widened weights
/// fit a 16 KiB stack buffer are widened once, and each group meets every row tile of A; the k loop
/// then loads the two int16 weight batches instead of widening them (no VPMOVSXBW: 24 vector ALU
/// ops per k step instead of 26, the 12 VPMADDWD bound), and the group's output stages are loaded
/// once. Otherwise the packed weights are walked in L2-sized panels of whole blocks; each panel
/// meets every row tile of A before the next panel. (Stack: about 33 KiB on AVX2.)
/// M = 1 (fully connected at batch 1) and a last single row take a GEMV path: the widened row
/// against 4 blocks at a time (8 accumulators, 64 channels of weights streamed in parallel on AVX2),
/// one broadcast per 8 VPMADDWD; the weights are read once, at cache/memory bandwidth.
/// Epilogue: the accumulators start at bias'; + row_offset (if any), MBQM (xsimd_bridge.hpp),
/// + zero point, then two rows at a time saturated to int8, clamped and stored (AVX2: VPACKSSDW,
/// VPACKSSWB, VPERMD, VPMAXSB/VPMINSB for 4 vectors). A block whose shifts are all <= 0 and whose
/// multipliers are all != INT32_MIN (TFLite's usual per-channel stage) skips the left shift and
/// SRDHM's saturation fix-up: both are identities there.
/// ISA: x86-64 AVX2+FMA (xsimd fma3<avx2>) or AArch64 Neon (xsimd neon64).
/// Tails: M by row clamping (a missing row's A pointer aliases the last valid row; missing rows
/// are never stored) and the GEMV path for a single last row; N by a bounce buffer for the last
/// block's stores and per-channel parameters (nothing read or written at or past channel n);
/// K by a zeroed bounce buffer for each row's last < 2v depths (A is never read past k elements;
/// the zero-padded weights are read only up to the padded depth).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SIMD
#error "gemm_qs8_6x2vc2_simd.hpp needs the simd tag (TESSERA_USE_XSIMD=1 and AVX2+FMA on x86-64 or Neon on AArch64)"
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <tessera/arch/simd/dot.hpp>
#include <tessera/arch/simd/xsimd_bridge.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct gemm_qs8_6x2vc2_simd {
  using arch = tessera::arch::simd;
  static constexpr const char* name = "gemm_qs8_6x2vc2_simd";

 private:
  using i32 = tessera::arch::simd_ops::i32;
  using i16 = tessera::arch::simd_ops::i16;
  static constexpr std::size_t L = i32::size;   // int32 lanes; channels per accumulator
  static constexpr std::size_t NR = 2 * L;      // channels per block
  static constexpr std::size_t KC = i16::size;  // depths widened per load (= 2L)
  static constexpr std::size_t MR = 6;          // rows per tile
  static constexpr std::size_t KW = 1024;       // depths widened per chunk (int32 pairs: KW / 2 per row)
  static constexpr std::size_t RS = KW / 2;     // int32 stride between widened rows
  /// Bytes of packed weights applied to all of A before moving on (an L2-sized panel).
  static constexpr std::size_t panel_bytes = 256 * 1024;
  /// int16 elements of the stack buffer holding a group of blocks' weights widened once (16 KiB).
  static constexpr std::size_t WE = 8 * 1024;
  static constexpr std::size_t GMAX = 16;  ///< most blocks per widened group
  static_assert(NR <= 16 && KC <= 16, "copy_short moves fewer than 16 bytes");
  static_assert(KW % KC == 0, "chunks are whole widening steps");

  /// Per-block output-stage parameters, in registers for the epilogue.
  struct stage_regs {
    i32 m0, m1, l0, l1, e0, e1, zp;  // multipliers, left shifts max(s, 0), right shifts max(-s, 0)
    std::int8_t lo, hi;
    bool plain;      // every left shift 0 and no multiplier INT32_MIN
    std::size_t nb;  // valid channels of the block (<= NR)
  };

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
    const auto* pw = static_cast<const std::uint8_t*>(packed_w);
    const std::size_t kpad = (k + 1) & ~std::size_t{1};
    const std::size_t block = NR * sizeof(std::int32_t) + NR * kpad;
    const std::size_t blocks = (n + NR - 1) / NR;
    const std::size_t panel = std::max<std::size_t>(1, panel_bytes / block);
    // Widened activations: MR rows of up to KW depths (one int16 pair per int32).
    alignas(64) std::int32_t ab[MR * RS];
    // Several row tiles and a group of blocks whose widened weights fit WE: widen the weights once
    // per group (the k loop then issues no VPMOVSXBW) and walk all of A per group.
    // The group's output stages are loaded once too.
    const std::size_t group = std::min(GMAX, WE / (kpad * KC));
    // Every row tile of A against blocks [j0, j1); Wide (a std::bool_constant): with the group's
    // widened weights wb and output stages st.
    auto row_tiles = [&](auto Wide, std::size_t j0, std::size_t j1, const std::int16_t* wb, const stage_regs* st) {
      for (std::size_t i = 0; i < m; i += MR) {
        const std::size_t rows = std::min(MR, m - i);
        const std::int8_t* ai = a + i * a_stride;
        const std::int32_t* ri = row_offset ? row_offset + i : nullptr;
        std::int8_t* ci = c + i * c_stride;
        if (rows == 1) {
          row1(n, k, ai, pw, block, j0, j1, ri, ci, p, ab);
        } else {
          tile<decltype(Wide)::value>(rows, n, k, ai, a_stride, pw, block, j0, j1, ri, ci, c_stride, p, ab, wb, st);
        }
      }
    };
    if (m >= 2 * MR && k <= KW && group > 0) {
      alignas(64) std::int16_t wb[WE];
      stage_regs st[GMAX];
      for (std::size_t j0 = 0; j0 < blocks; j0 += group) {
        const std::size_t j1 = std::min(blocks, j0 + group);
        widen_blocks(wb, pw, block, kpad, j0, j1);
        for (std::size_t j = j0; j < j1; ++j) st[j - j0] = load_stage(j * NR, std::min(NR, n - j * NR), p);
        row_tiles(std::true_type{}, j0, j1, wb, st);
      }
      return;
    }
    for (std::size_t j0 = 0; j0 < blocks; j0 += panel)
      row_tiles(std::false_type{}, j0, std::min(blocks, j0 + panel), nullptr, nullptr);
  }

 private:
  /// dst[0..n) = src[0..n) for n < 16, in fixed-size pieces (no library call while vectors are live).
  static void copy_short(std::int8_t* dst, const std::int8_t* src, std::size_t n) noexcept {
    if (n & 8) { std::memcpy(dst, src, 8); dst += 8, src += 8; }
    if (n & 4) { std::memcpy(dst, src, 4); dst += 4, src += 4; }
    if (n & 2) { std::memcpy(dst, src, 2); dst += 2, src += 2; }
    if (n & 1) *dst = *src;
  }

  /// dst[0..n) = src[0..n) for n <= NR.
  static void copy_upto(std::int8_t* dst, const std::int8_t* src, std::size_t n) noexcept {
    if constexpr (NR == 16) {
      if (n == 16) {
        std::memcpy(dst, src, 16);
        return;
      }
    }
    copy_short(dst, src, n);
  }

  /// Widens depths [k0, k0 + kc) of row a (kc <= KW) into d[0 .. ceil(kc / KC) * L): int32 d[j]
  /// holds the int16 pair (a[k0 + 2j], a[k0 + 2j + 1]); the last partial KC depths are zero padded.
  static void widen_row(std::int32_t* d, const std::int8_t* a, std::size_t kc) noexcept {
    namespace ops = tessera::arch::simd_ops;
    const std::size_t full = kc / KC * KC, rem = kc - full;
    for (std::size_t kk = 0; kk < full; kk += KC, d += L) ops::widen_store_s8(d, a + kk);
    if (rem != 0) {
      alignas(64) std::int8_t t[KC] = {};
      copy_short(t, a + full, rem);
      ops::widen_store_s8(d, t);
    }
  }

  /// The output stage of block j (channels n0 .. n0 + nb).
  template <class Q>
  static stage_regs load_stage(std::size_t n0, std::size_t nb, const output_stage<Q>& p) noexcept {
    stage_regs s;
    i32 sh0, sh1;
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      s.m0 = s.m1 = i32(p.q.multiplier);
      sh0 = sh1 = i32(p.q.shift);
    } else if (nb == NR) {
      s.m0 = i32::load_unaligned(p.q.multiplier + n0), s.m1 = i32::load_unaligned(p.q.multiplier + n0 + L);
      sh0 = i32::load_unaligned(p.q.shift + n0), sh1 = i32::load_unaligned(p.q.shift + n0 + L);
    } else {  // the arrays end at channel n - 1
      alignas(64) std::int32_t mb[NR] = {}, sb[NR] = {};
      std::memcpy(mb, p.q.multiplier + n0, nb * sizeof(std::int32_t));
      std::memcpy(sb, p.q.shift + n0, nb * sizeof(std::int32_t));
      s.m0 = i32::load_aligned(mb), s.m1 = i32::load_aligned(mb + L);
      sh0 = i32::load_aligned(sb), sh1 = i32::load_aligned(sb + L);
    }
    const i32 zero(0), min(std::numeric_limits<std::int32_t>::min());
    s.l0 = xsimd::max(sh0, zero), s.l1 = xsimd::max(sh1, zero);
    s.e0 = xsimd::max(zero - sh0, zero), s.e1 = xsimd::max(zero - sh1, zero);
    s.plain = !xsimd::any((s.l0 | s.l1) != zero) && !xsimd::any((s.m0 == min) | (s.m1 == min));
    s.zp = i32(p.zero_point);
    s.lo = static_cast<std::int8_t>(p.act_min), s.hi = static_cast<std::int8_t>(p.act_max);
    s.nb = nb;
    return s;
  }

  /// MBQM(x) + zero point of one vector (multiplier m, left shift l, right shift e).
  template <bool Plain>
  static i32 requant(i32 x, i32 m, i32 l, i32 e, i32 zp) noexcept {
    namespace ops = tessera::arch::simd_ops;
    if constexpr (Plain) {
      (void)l;
      return ops::rdpot(ops::srdhm_nosat(x, m), e) + zp;
    } else {
      return ops::rdpot(ops::srdhm(ops::shl_wrap(x, l), m), e) + zp;
    }
  }

  /// Requantizes rows [0, rows) of t (+ row offsets ro, if any) and stores s.nb channels of each.
  template <bool Plain>
  static void store_rows(std::size_t rows, const std::int32_t (*t)[NR], const std::int32_t* ro, std::int8_t* c,
                         std::size_t c_stride, const stage_regs& s) noexcept {
    namespace ops = tessera::arch::simd_ops;
    for (std::size_t r = 0; r < rows; r += 2, c += 2 * c_stride) {
      const bool two = r + 1 < rows;
      const std::size_t r1 = two ? r + 1 : r;  // an odd last row is requantized twice, stored once
      i32 x0 = i32::load_aligned(t[r]), x1 = i32::load_aligned(t[r] + L);
      i32 y0 = i32::load_aligned(t[r1]), y1 = i32::load_aligned(t[r1] + L);
      if (ro != nullptr) {
        const i32 rx(ro[r]), ry(ro[r1]);
        x0 += rx, x1 += rx, y0 += ry, y1 += ry;
      }
      x0 = requant<Plain>(x0, s.m0, s.l0, s.e0, s.zp), x1 = requant<Plain>(x1, s.m1, s.l1, s.e1, s.zp);
      y0 = requant<Plain>(y0, s.m0, s.l0, s.e0, s.zp), y1 = requant<Plain>(y1, s.m1, s.l1, s.e1, s.zp);
      if (two && s.nb == NR) {
        ops::store_s8x2_clamp(c, c + c_stride, x0, x1, y0, y1, s.lo, s.hi);
      } else {
        alignas(64) std::int8_t b[2][NR];
        ops::store_s8x2_clamp(b[0], b[1], x0, x1, y0, y1, s.lo, s.hi);
        copy_upto(c, b[0], s.nb);
        if (two) copy_upto(c + c_stride, b[1], s.nb);
      }
    }
  }

  /// Output stage of `rows` rows x one block from the int32 sums t[r][0..NR) (bias' included).
  /// Out of line on purpose: inlined, its hoisted constants (shuffle masks, rounding nudges) stay
  /// live across the k loop, and GCC 12 then spills accumulators of the 6x2v tile.
  /// `pre`: the block's stage if already loaded (else nullptr).
  template <class Q>
  [[gnu::noinline]] static void epilogue(std::size_t rows, const std::int32_t (*t)[NR], std::size_t n0,
                                         std::size_t nb, const std::int32_t* ro, std::int8_t* c,
                                         std::size_t c_stride, const output_stage<Q>& p,
                                         const stage_regs* pre = nullptr) noexcept {
    const stage_regs s = pre ? *pre : load_stage(n0, nb, p);
    if (s.plain) {
      store_rows<true>(rows, t, ro, c, c_stride, s);
    } else {
      store_rows<false>(rows, t, ro, c, c_stride, s);
    }
  }

  /// Widens the weights of blocks [j0, j1) into wb: per block and k step, the two int16 batches
  /// the k loop would widen (kpad * KC int16 per block).
  static void widen_blocks(std::int16_t* wb, const std::uint8_t* pw, std::size_t block, std::size_t kpad,
                           std::size_t j0, std::size_t j1) noexcept {
    namespace ops = tessera::arch::simd_ops;
    for (std::size_t j = j0; j < j1; ++j) {
      const auto* w = reinterpret_cast<const std::int8_t*>(pw + j * block + NR * sizeof(std::int32_t));
      for (std::size_t kk = 0; kk < kpad; kk += 2, w += 2 * NR, wb += 2 * KC) {
        ops::load_widen_s8(w).store_aligned(wb);
        ops::load_widen_s8(w + KC).store_aligned(wb + KC);
      }
    }
  }

  /// rows (2..6) x blocks [j0, j1) of the packed weights; Wide: their weights come widened from
  /// wide (widen_blocks of [j0, j1); needs k <= KW) and their output stages from stages.
  template <bool Wide, class Q>
  static void tile(std::size_t rows, std::size_t n, std::size_t k, const std::int8_t* a0, std::size_t a_stride,
                   const std::uint8_t* pw, std::size_t block, std::size_t j0, std::size_t j1,
                   const std::int32_t* ro, std::int8_t* c0, std::size_t c_stride, const output_stage<Q>& p,
                   std::int32_t* ab, const std::int16_t* wide, const stage_regs* stages) noexcept {
    namespace ops = tessera::arch::simd_ops;
    // Row clamping: a missing row reads the last valid row (and is never stored).
    const std::int8_t* ar[MR];
    ar[0] = a0;
    for (std::size_t r = 1; r < MR; ++r) ar[r] = r < rows ? ar[r - 1] + a_stride : ar[r - 1];
    auto widen = [&](std::size_t k0, std::size_t kc) noexcept {
      for (std::size_t r = 0; r < MR; ++r) widen_row(ab + r * RS, ar[r] + k0, kc);
    };
    const bool one_chunk = k <= KW;
    if (one_chunk) widen(0, k);

    for (std::size_t j = j0; j < j1; ++j) {
      const std::uint8_t* base = pw + j * block;
      const auto* w = reinterpret_cast<const std::int8_t*>(base + NR * sizeof(std::int32_t));
      const std::int16_t* ww = Wide ? wide + (j - j0) * ((k + 1) & ~std::size_t{1}) * KC : nullptr;
      const auto* bias = reinterpret_cast<const std::int32_t*>(base);
      i32 acc00 = i32::load_unaligned(bias), acc01 = i32::load_unaligned(bias + L);
      i32 acc10 = acc00, acc11 = acc01, acc20 = acc00, acc21 = acc01;
      i32 acc30 = acc00, acc31 = acc01, acc40 = acc00, acc41 = acc01, acc50 = acc00, acc51 = acc01;
      for (std::size_t k0 = 0; k0 < k; k0 += KW) {
        const std::size_t kc = std::min(KW, k - k0);
        if (!one_chunk) widen(k0, kc);
        const std::int32_t* x = ab;
        const std::int32_t* const xe = ab + (kc + 1) / 2;  // the packed weights end at kpad
        for (; x != xe; ++x, w += 2 * NR, ww += Wide ? 2 * KC : 0) {
          i16 w0, w1;
          if constexpr (Wide) {
            w0 = i16::load_aligned(ww), w1 = i16::load_aligned(ww + KC);
          } else {
            w0 = ops::load_widen_s8(w), w1 = ops::load_widen_s8(w + KC);
          }
          i16 b = ops::broadcast_pair(x);
          acc00 = ops::madd_s8(acc00, b, w0), acc01 = ops::madd_s8(acc01, b, w1);
          b = ops::broadcast_pair(x + RS);
          acc10 = ops::madd_s8(acc10, b, w0), acc11 = ops::madd_s8(acc11, b, w1);
          b = ops::broadcast_pair(x + 2 * RS);
          acc20 = ops::madd_s8(acc20, b, w0), acc21 = ops::madd_s8(acc21, b, w1);
          b = ops::broadcast_pair(x + 3 * RS);
          acc30 = ops::madd_s8(acc30, b, w0), acc31 = ops::madd_s8(acc31, b, w1);
          b = ops::broadcast_pair(x + 4 * RS);
          acc40 = ops::madd_s8(acc40, b, w0), acc41 = ops::madd_s8(acc41, b, w1);
          b = ops::broadcast_pair(x + 5 * RS);
          acc50 = ops::madd_s8(acc50, b, w0), acc51 = ops::madd_s8(acc51, b, w1);
        }
      }

      alignas(64) std::int32_t t[MR][NR];
      acc00.store_aligned(t[0]), acc01.store_aligned(t[0] + L), acc10.store_aligned(t[1]);
      acc11.store_aligned(t[1] + L), acc20.store_aligned(t[2]), acc21.store_aligned(t[2] + L);
      acc30.store_aligned(t[3]), acc31.store_aligned(t[3] + L), acc40.store_aligned(t[4]);
      acc41.store_aligned(t[4] + L), acc50.store_aligned(t[5]), acc51.store_aligned(t[5] + L);
      epilogue(rows, t, j * NR, std::min(NR, n - j * NR), ro, c0 + j * NR, c_stride, p,
               Wide ? stages + (j - j0) : nullptr);
    }
  }

  /// One row x blocks [j0, j1) (GEMV): B blocks at a time, 2B accumulators.
  template <std::size_t B, class Q>
  static std::size_t row1_blocks(std::size_t n, std::size_t k, const std::int8_t* a0, const std::uint8_t* pw,
                                 std::size_t block, std::size_t j, std::size_t j1, const std::int32_t* ro,
                                 std::int8_t* c0, const output_stage<Q>& p, std::int32_t* ab) noexcept {
    namespace ops = tessera::arch::simd_ops;
    const bool one_chunk = k <= KW;
    for (; j + B <= j1; j += B) {
      const std::uint8_t* base = pw + j * block;
      const std::int8_t* w[B];
      for (std::size_t b = 0; b < B; ++b)
        w[b] = reinterpret_cast<const std::int8_t*>(base + b * block + NR * sizeof(std::int32_t));
      i32 acc[2 * B];
      for (std::size_t b = 0; b < B; ++b) {
        const auto* bias = reinterpret_cast<const std::int32_t*>(base + b * block);
        acc[2 * b] = i32::load_unaligned(bias), acc[2 * b + 1] = i32::load_unaligned(bias + L);
      }
      for (std::size_t k0 = 0; k0 < k; k0 += KW) {
        const std::size_t kc = std::min(KW, k - k0);
        if (!one_chunk) widen_row(ab, a0 + k0, kc);
        const std::size_t steps = (kc + 1) / 2;  // the packed weights end at kpad
        for (std::size_t t = 0; t < steps; ++t) {
          const i16 x = ops::broadcast_pair(ab + t);
          for (std::size_t b = 0; b < B; ++b) {
            acc[2 * b] = ops::madd_s8(acc[2 * b], x, ops::load_widen_s8(w[b]));
            acc[2 * b + 1] = ops::madd_s8(acc[2 * b + 1], x, ops::load_widen_s8(w[b] + KC));
            w[b] += 2 * NR;
          }
        }
      }
      alignas(64) std::int32_t t[B][NR];
      for (std::size_t b = 0; b < B; ++b) acc[2 * b].store_aligned(t[b]), acc[2 * b + 1].store_aligned(t[b] + L);
      for (std::size_t b = 0; b < B; ++b) {
        const std::size_t n0 = (j + b) * NR;
        epilogue(1, t + b, n0, std::min(NR, n - n0), ro, c0 + n0, 0, p);
      }
    }
    return j;
  }

  /// One row x blocks [j0, j1).
  template <class Q>
  static void row1(std::size_t n, std::size_t k, const std::int8_t* a0, const std::uint8_t* pw, std::size_t block,
                   std::size_t j0, std::size_t j1, const std::int32_t* ro, std::int8_t* c0,
                   const output_stage<Q>& p, std::int32_t* ab) noexcept {
    if (k <= KW) widen_row(ab, a0, k);
    const std::size_t j = row1_blocks<4>(n, k, a0, pw, block, j0, j1, ro, c0, p, ab);
    row1_blocks<1>(n, k, a0, pw, block, j, j1, ro, c0, p, ab);
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::gemm_qs8, tessera::arch::simd> {
  using type = tessera::kernels::gemm_qs8_6x2vc2_simd;
};
