/// @file gemm_qs8_8x32c4_avx512_vnni.hpp
/// int8 GEMM with fused requantization on x86-64 AVX-512 + VNNI (VPDPBUSD: 4 int8 MACs per 32-bit
/// lane in one instruction, twice the MACs per instruction of AVX2's VPMADDUBSW chain).
///
/// Tile: MR = 8 rows x NR = 32 channels (2 zmm of 16 int32 lanes), kr = 4. Consumes op.hpp's packed
/// format with nr() = 32, kr() = 4: per block `int32 bias'[32]`, then `int8 w[ceil(K/4)][32][4]`,
/// so one k-group is 128 bytes = two zmm (channels 0-15, 16-31), 4 depths per lane.
/// Signedness: VPDPBUSD multiplies unsigned bytes by signed bytes, so one operand is flipped
/// (x ^ 0x80 = x + 128 as u8) and the sums are corrected; everything wraps in int32 (VPDPBUSD does
/// not saturate), so the result equals TFLite's int32 accumulator bit for bit (as op.hpp's
/// regrouping does).
/// - Row tiles (2..8 rows): the activations are flipped once per row tile into a stack buffer
///   (A is never read past k; the padding meets zero-padded weights) and the weights are used as
///   loaded; each panel of blocks gets biases' - 128 * sum_k W[n][k] once (VPDPBUSD of 0x80 bytes
///   against the weights). Inner loop per k-group (8 x 32 x 4 = 1024 MACs): 2 weight loads, 8
///   4-byte broadcasts, 16 VPDPBUSD into 16 named accumulators.
/// - K <= 32 (at most 8 k-groups, e.g. a 3x3 convolution from 3 channels: K = 27), M >= 2
///   (`small_panel`): each block's 2G weight vectors stay in registers and the rows go two at a time
///   (4 accumulators, G VPDPBUSD deep); each row pair's fast-form stage, packing and stores run
///   inside the next pair's k loop, instruction by instruction (one `asm volatile` each, so the
///   compilers keep the order; they allocate the registers). Rows load their first 32 bytes
///   unmasked unless that would pass the end of A (Zen 4's masked loads across cache lines are slow).
///   Its fast stages take a second exact form where it applies (`small_stage`: 11 instructions per
///   16 lanes, 3 on the VPDPBUSD pipes). MobileNetV1 layer a: 1.26-1.33x faster.
/// - One row (M = 1, or a last single row; GEMV): the weights are flipped as loaded (one VPXORD per
///   64 bytes) and the row adds -128 * sum_k a[k]; 4 blocks at a time (8 accumulators, 512 bytes of
///   weights per k-group streamed in parallel), bandwidth-bound.
/// Epilogue (K > 32: from a 1 KiB tile on the stack), with each panel's output stages prepared once. From
/// K = 77 on (20 k-groups: a tile's 16 stage vectors and 4 row pairs), a tile's fast-form stage
/// runs inside the next block's k loop, one vector or row pair per k-group, where its instructions
/// share the core with the VPDPBUSDs (see `pending`; layer c, K = 128: 4-8% faster); otherwise out
/// of line after the tile.
/// Stages: the usual stages (every shift in [-23, -1], zero point within +-128, no INT32_MIN
/// multiplier) run MBQM + zero point as one 64-bit rounding (see `make_fast`: 12 instructions per 16
/// lanes); any other stage the general two-step form of simd/xsimd_bridge.hpp. Two rows are
/// narrowed together (VPACKSSDW, VPACKSSWB, VPERMD), clamped on bytes and stored 32 bytes per row.
/// Tails: M by row clamping (missing rows read the last valid row and are never stored); N by
/// masked loads of per-channel parameters and masked stores (nothing at or past channel n is read
/// or written; the packed weights are zero padded to the block); K by masked loads (AVX-512 masked
/// loads do not fault). Stack: about 31 KiB (flipped rows 16 KiB, panel stages 12 KiB).
/// ISA: x86-64 AVX-512 F/BW/VL + VNNI (Zen 4, Ice Lake and later): `-march=x86-64-v4
/// -mavx512vnni` or `-march=native` on such a machine.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_AVX512_VNNI
#error "gemm_qs8_8x32c4_avx512_vnni.hpp needs x86-64 AVX-512 F/BW/VL with VNNI (TESSERA_HAS_AVX512_VNNI; e.g. -march=x86-64-v4 -mavx512vnni)"
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op.hpp>
#include <tessera/quant/requantize.hpp>

#include <tessera/arch/avx512/intrinsics_begin.hpp>  // until intrinsics_end.hpp below

namespace tessera::kernels {

struct gemm_qs8_8x32c4_avx512_vnni {
  using arch = tessera::arch::avx512_vnni;
  static constexpr const char* name = "gemm_qs8_8x32c4_avx512_vnni";
  static std::size_t nr() noexcept { return NR; }
  static std::size_t kr() noexcept { return 4; }

  /// C[m][n] = clamp(MBQM(sum_k A[m][k] W[n][k] + bias'[n] + row_offset[m]) + zp), int32 wrapping.
  /// @param[in]  a           m rows of k int8 activations, row stride a_stride (elements)
  /// @param[in]  packed_w    pack_qs8_weights(n, k, nr(), kr(), ...) output, 4-byte aligned
  /// @param[in]  row_offset  m int32 values added to every channel of a row, or nullptr
  /// @param[out] c           m rows of n int8 outputs, row stride c_stride (elements)
  /// @param[in]  p           output stage; act_min/act_max within int8 (as validate<int8_t> ensures)
  template <class Q>
  static void run(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, std::size_t a_stride,
                  const void* packed_w, const std::int32_t* row_offset, std::int8_t* c, std::size_t c_stride,
                  const output_stage<Q>& p) noexcept {
    const auto* pw = static_cast<const std::uint8_t*>(packed_w);
    const std::size_t kpad = (k + 3) & ~std::size_t{3};
    const std::size_t block = NR * sizeof(std::int32_t) + NR * kpad;
    const std::size_t blocks = (n + NR - 1) / NR;
    // The packed weights are walked in L2-sized panels of whole blocks (at most PB); each panel
    // meets every row tile of A before the next one.
    const std::size_t panel = std::clamp<std::size_t>(panel_bytes / block, 1, PB);
    if (m >= 2 && k <= 4 * GS) return run_small(m, n, k, a, a_stride, pw, block, blocks, panel, row_offset, c, c_stride, p);
    alignas(64) std::int32_t cb[PB * NR];  // the panel's biases' - 128 * column sums (row tiles)
    alignas(64) fast_stage fs[PB];         // the panel's output stages, where the fast form applies
    bool fast[PB];
    alignas(64) std::int32_t tb[MR][NR];  // a row tile's sums waiting for their output stage
    // With fewer k-groups than a tile has stage vectors and row pairs (16 + 4), a stage cannot
    // hide in the next block's loop: it runs after each block, out of line (K = 27: 2-7% faster
    // so; K = 64: up to 6%).
    const bool pipelined = k <= KW && (k + 3) / 4 >= 2 * MR + MR / 2;
    pending pend{tb, 0, nullptr, nullptr, 0, nullptr, 0};  // drained before fs is rewritten
    for (std::size_t j0 = 0; j0 < blocks; j0 += panel) {
      const std::size_t j1 = std::min(blocks, j0 + panel);
      const panel_state ps = prepare_panel(j0, j1, n, pw, block, kpad, m >= 2, cb, fs, fast, p);
      for (std::size_t i = 0; i < m; i += MR) {
        const std::size_t rows = std::min(MR, m - i);
        const std::int32_t* ri = row_offset ? row_offset + i : nullptr;
        if (rows == 1) row1(n, k, a + i * a_stride, pw, block, ps, ri, c + i * c_stride, p);
        else if (pipelined) tile<true>(rows, n, k, a + i * a_stride, a_stride, pw, block, ps, ri, c + i * c_stride, c_stride, p, tb, pend);
        else tile<false>(rows, n, k, a + i * a_stride, a_stride, pw, block, ps, ri, c + i * c_stride, c_stride, p, tb, pend);
      }
      drain(pend, _mm512_set1_epi8(static_cast<char>(p.act_min)), _mm512_set1_epi8(static_cast<char>(p.act_max)));
    }
  }

 private:
  static constexpr std::size_t L = 16;   ///< int32 lanes of a zmm
  static constexpr std::size_t NR = 2 * L;
  static constexpr std::size_t MR = 8;
  static constexpr std::size_t panel_bytes = 256 * 1024;
  static constexpr std::size_t PB = 16;    ///< most blocks per panel (stack: PB stages and PB * NR biases)
  static constexpr std::size_t KW = 2048;  ///< depths of a row tile flipped at a time (MR * KW bytes of stack)
  static constexpr std::size_t GS = 8;     ///< most k-groups of small_panel's row tiles (K <= 32)
  static constexpr std::size_t XS = 32;    ///< small_panel's stack rows: bytes from one to the next

  /// Bytes 0..r-1 of a 64-byte vector (r <= 64).
  static __mmask64 bytes_mask(std::size_t r) noexcept {
    return r >= 64 ? ~__mmask64{0} : static_cast<__mmask64>((std::uint64_t{1} << r) - 1);
  }

  /// The 4 bytes at p (k-group of one row), in every lane.
  [[gnu::always_inline]] static inline __m512i bcast4(const void* p) noexcept {
    std::int32_t v;
    std::memcpy(&v, p, sizeof v);
    return _mm512_set1_epi32(v);
  }
  /// The last r < 4 bytes at p (zero filled), in every lane; nothing read past p + r.
  static inline __m512i bcast_tail(const std::int8_t* p, std::size_t r) noexcept {
    return _mm512_broadcastd_epi32(_mm_maskz_loadu_epi8(static_cast<__mmask16>((1u << r) - 1), p));
  }
  /// The weights of one k-group half (16 channels x 4 depths) as unsigned bytes w + 128.
  [[gnu::always_inline]] static inline __m512i wload(const std::int8_t* w) noexcept {
    return _mm512_xor_si512(_mm512_loadu_si512(w), _mm512_set1_epi8(static_cast<char>(0x80)));
  }
  /// x0 += dot4(u0, s), x1 += dot4(u1, s) per lane (VPDPBUSD: u unsigned bytes, s signed bytes).
  [[gnu::always_inline]] static inline void dot2(__m512i& x0, __m512i& x1, __m512i u0, __m512i u1, __m512i s) noexcept {
    x0 = _mm512_dpbusd_epi32(x0, u0, s);
    x1 = _mm512_dpbusd_epi32(x1, u1, s);
  }
  /// Same with the unsigned bytes broadcast and the signed ones in two vectors.
  [[gnu::always_inline]] static inline void dot2s(__m512i& x0, __m512i& x1, __m512i s0, __m512i s1, __m512i u) noexcept {
    x0 = _mm512_dpbusd_epi32(x0, u, s0);
    x1 = _mm512_dpbusd_epi32(x1, u, s1);
  }

  /// -128 * sum of the row's k activations, wrapping: what the GEMV path adds to every channel's
  /// VPDPBUSD sum (of flipped weights) to make it the signed dot product.
  static std::int32_t row_base(const std::int8_t* a, std::size_t k) noexcept {
    const __m512i ones = _mm512_set1_epi8(1);
    __m512i s = _mm512_setzero_si512();
    std::size_t kk = 0;
    for (; kk + 64 <= k; kk += 64) s = _mm512_dpbusd_epi32(s, ones, _mm512_loadu_si512(a + kk));
    if (kk < k) s = _mm512_dpbusd_epi32(s, ones, _mm512_maskz_loadu_epi8(bytes_mask(k - kk), a + kk));
    alignas(64) std::uint32_t lanes[L];
    _mm512_store_si512(lanes, s);
    std::uint32_t sum = 0;
    for (std::uint32_t v : lanes) sum += v;
    return static_cast<std::int32_t>(0u - 128u * sum);
  }

  /// A block's output stage in the fast form (see `make_fast`), 64-bit lanes per half h of the
  /// block and lane parity q (0: even channels, 1: odd channels).
  struct fast_stage {
    __m512i me[2], mo[2];  ///< multipliers of the even lanes, and of the odd lanes moved to the even
    __m512i cn[2][2];      ///< 2^30 + 2^(30 + e) + zero_point * 2^(31 + e), e = -shift
    __m512i sr[2][2];      ///< 31 + e
  };
  /// What a panel of blocks [j0, j1) shares: corrected biases and output stages.
  struct panel_state {
    std::size_t j0, j1;
    const std::int32_t* cb;  ///< tile_bias of each block (row tiles only)
    const fast_stage* fs;
    const bool* fast;        ///< fs[j - j0] applies; else the general form
    const fast_stage* stage(std::size_t j) const noexcept { return fast[j - j0] ? fs + (j - j0) : nullptr; }
  };

  /// Blocks [j0, j1) as one panel: each block's output stage (fast[j - j0]: the fast form in fs
  /// applies) and, when `tiles` (row tiles will run), its corrected biases in cb (`tile_bias`).
  template <class Q>
  [[gnu::always_inline]] static inline panel_state prepare_panel(std::size_t j0, std::size_t j1, std::size_t n,
                                                                 const std::uint8_t* pw, std::size_t block,
                                                                 std::size_t kpad, bool tiles, std::int32_t* cb,
                                                                 fast_stage* fs, bool* fast, const output_stage<Q>& p) noexcept {
    for (std::size_t j = j0; j < j1; ++j) fast[j - j0] = make_fast(fs[j - j0], j * NR, std::min(NR, n - j * NR), p);
    if (tiles)
      for (std::size_t j = j0; j < j1; ++j) tile_bias(cb + (j - j0) * NR, pw + j * block, kpad);
    return panel_state{j0, j1, cb, fs, fast};
  }

  /// The fast form of block [n0, n0 + nb)'s stage: MBQM + zero point in one rounding step. With
  /// P = x * m + 2^30 (64 bits), SRDHM is floor(P / 2^31), RoundingDivideByPOT by e >= 1 is
  /// floor((r + 2^(e-1) - [r < 0]) / 2^e) and [r < 0] = [P < 0]; since floor(floor(y / a) / b) =
  /// floor(y / ab), the whole is floor((P + 2^(30+e) - [P < 0] * 2^31 + zp * 2^(31+e)) / 2^(31+e))
  /// taken mod 2^32 (the zero point's int32 wrap). Applies (returns true) when every shift is in
  /// [-23, -1] (TFLite's usual per-channel and per-tensor range), no multiplier is INT32_MIN (no
  /// SRDHM saturation) and the zero point is in [-128, 128]: then |sum| < 2^62 + 2^61 + 2^54, no
  /// 64-bit overflow.
  template <class Q>
  static bool make_fast(fast_stage& f, std::size_t n0, std::size_t nb, const output_stage<Q>& p) noexcept {
    if (p.zero_point < -128 || p.zero_point > 128) return false;
    __m512i mul[2], sh[2];
    load_stage_arrays(mul, sh, n0, nb, p);
    const __m512i lo = _mm512_set1_epi32(-23), hi = _mm512_set1_epi32(-1);
    const __m512i min = _mm512_set1_epi32(std::numeric_limits<std::int32_t>::min());
    for (std::size_t h = 0; h < 2; ++h) {
      // Lanes past nb hold multiplier 0 and shift 0: give them shift -1 (their outputs are not stored).
      const __mmask16 valid = lane_mask(nb, h);
      sh[h] = _mm512_mask_mov_epi32(_mm512_set1_epi32(-1), valid, sh[h]);
      if ((_mm512_cmplt_epi32_mask(sh[h], lo) | _mm512_cmpgt_epi32_mask(sh[h], hi) | _mm512_cmpeq_epi32_mask(mul[h], min)) != 0)
        return false;
    }
    const __m512i zp = _mm512_set1_epi64(p.zero_point), one = _mm512_set1_epi64(1);
    for (std::size_t h = 0; h < 2; ++h) {
      f.me[h] = mul[h];
      f.mo[h] = _mm512_srli_epi64(mul[h], 32);
      const __m512i e32 = _mm512_sub_epi32(_mm512_setzero_si512(), sh[h]);
      for (std::size_t q = 0; q < 2; ++q) {
        const __m512i e = q == 0 ? _mm512_and_si512(e32, _mm512_set1_epi64(0xFFFFFFFF)) : _mm512_srli_epi64(e32, 32);
        const __m512i s31 = _mm512_add_epi64(e, _mm512_set1_epi64(31));
        f.cn[h][q] = _mm512_add_epi64(_mm512_add_epi64(_mm512_set1_epi64(std::int64_t{1} << 30),
                                                       _mm512_sllv_epi64(one, _mm512_add_epi64(e, _mm512_set1_epi64(30)))),
                                      _mm512_sllv_epi64(zp, s31));
        f.sr[h][q] = s31;
      }
    }
    return true;
  }

  /// Channels [0, nb) of a block.
  static __mmask32 block_mask(std::size_t nb) noexcept {
    return nb >= NR ? ~__mmask32{0} : static_cast<__mmask32>((std::uint32_t{1} << nb) - 1);
  }

  /// Lanes of half h (channels 16h .. 16h + 15) below nb.
  static __mmask16 lane_mask(std::size_t nb, std::size_t h) noexcept {
    const std::size_t c0 = h * L, v = nb > c0 ? std::min(L, nb - c0) : 0;
    return static_cast<__mmask16>((1u << v) - 1);
  }

  /// The multipliers and shifts of channels [n0, n0 + nb) (zero past nb; never read there).
  template <class Q>
  static void load_stage_arrays(__m512i (&mul)[2], __m512i (&sh)[2], std::size_t n0, std::size_t nb,
                                const output_stage<Q>& p) noexcept {
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      (void)n0, (void)nb;
      mul[0] = mul[1] = _mm512_set1_epi32(p.q.multiplier);
      sh[0] = sh[1] = _mm512_set1_epi32(p.q.shift);
    } else {
      for (std::size_t h = 0; h < 2; ++h) {
        mul[h] = _mm512_maskz_loadu_epi32(lane_mask(nb, h), p.q.multiplier + n0 + h * L);
        sh[h] = _mm512_maskz_loadu_epi32(lane_mask(nb, h), p.q.shift + n0 + h * L);
      }
    }
  }

  /// A block's output stage in the general form: any shift in [-31, 30], any multiplier.
  struct general_stage {
    __m512i me[2], mo[2];  ///< as fast_stage
    __m512i l[2], e[2];    ///< left shifts max(s, 0), right shifts max(-s, 0)
    __m512i em[2], th[2];  ///< 2^e - 1 and (2^e - 1) >> 1
    __m512i zp;
  };

  template <class Q>
  static general_stage load_general(std::size_t n0, std::size_t nb, const output_stage<Q>& p) noexcept {
    general_stage s;
    __m512i mul[2], sh[2];
    load_stage_arrays(mul, sh, n0, nb, p);
    const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi32(1);
    for (std::size_t h = 0; h < 2; ++h) {
      s.me[h] = mul[h];
      s.mo[h] = _mm512_srli_epi64(mul[h], 32);
      s.l[h] = _mm512_max_epi32(sh[h], zero);
      s.e[h] = _mm512_max_epi32(_mm512_sub_epi32(zero, sh[h]), zero);
      s.em[h] = _mm512_sub_epi32(_mm512_sllv_epi32(one, s.e[h]), one);
      s.th[h] = _mm512_srli_epi32(s.em[h], 1);
    }
    s.zp = _mm512_set1_epi32(p.zero_point);
    return s;
  }

  /// MBQM(x) + zero point of half h (16 lanes), bit-exact with fixedpoint::mbqm32, fast form:
  /// VPMULDQ, VPCMPQ, VPADDQ, masked VPSUBQ and VPSRAVQ per 8 lanes, one masked VPSHUFD to merge.
  [[gnu::always_inline]] static inline __m512i requant(__m512i x, const fast_stage& s, std::size_t h) noexcept {
    const __m512i lim = _mm512_set1_epi64(-(std::int64_t{1} << 30));  // P < 0 <=> x * m < -2^30
    const __m512i d = _mm512_set1_epi64(std::int64_t{1} << 31);
    __m512i pe = _mm512_mul_epi32(x, s.me[h]);
    __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), s.mo[h]);
    const __mmask8 ne = _mm512_cmplt_epi64_mask(pe, lim), no = _mm512_cmplt_epi64_mask(po, lim);
    pe = _mm512_add_epi64(pe, s.cn[h][0]);
    po = _mm512_add_epi64(po, s.cn[h][1]);
    pe = _mm512_srav_epi64(_mm512_mask_sub_epi64(pe, ne, pe, d), s.sr[h][0]);
    po = _mm512_srav_epi64(_mm512_mask_sub_epi64(po, no, po, d), s.sr[h][1]);
    return _mm512_mask_shuffle_epi32(pe, 0xAAAA, po, _MM_PERM_CCAA);  // odd lanes: po's low halves
  }
  /// The same in the general form (xsimd_bridge.hpp's two steps: left shift, saturating SRDHM,
  /// rounding shift; then + zero point).
  [[gnu::always_inline]] static inline __m512i requant(__m512i x, const general_stage& s, std::size_t h) noexcept {
    const __m512i nudge = _mm512_set1_epi64(std::int64_t{1} << 30);
    x = _mm512_sllv_epi32(x, s.l[h]);
    const __m512i pe = _mm512_add_epi64(_mm512_mul_epi32(x, s.me[h]), nudge);
    const __m512i po = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), s.mo[h]), nudge);
    __m512i r = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(pe, 31), _mm512_slli_epi64(po, 1));
    // Only INT32_MIN * INT32_MIN lands on INT32_MIN: it saturates.
    const __m512i min = _mm512_set1_epi32(std::numeric_limits<std::int32_t>::min());
    r = _mm512_mask_mov_epi32(r, _mm512_cmpeq_epi32_mask(r, min), _mm512_set1_epi32(std::numeric_limits<std::int32_t>::max()));
    // Rounding divide by 2^e, ties away from zero.
    const __m512i rem = _mm512_and_si512(r, s.em[h]);
    const __m512i thr = _mm512_sub_epi32(s.th[h], _mm512_srai_epi32(r, 31));
    const __m512i q = _mm512_srav_epi32(r, s.e[h]);
    return _mm512_add_epi32(_mm512_mask_add_epi32(q, _mm512_cmpgt_epi32_mask(rem, thr), q, _mm512_set1_epi32(1)), s.zp);
  }

  /// Rows r (x0, x1: channels 0-15, 16-31) and r1 (y0, y1) of requantized int32 sums: narrowed,
  /// clamped and stored to the valid channels (mask) of cr and, if r1 is another row, cr1.
  [[gnu::always_inline]] static inline void narrow_store(__m512i x0, __m512i x1, __m512i y0, __m512i y1, std::int8_t* cr,
                                                         std::int8_t* cr1, bool two, __mmask32 mask, __m512i lo,
                                                         __m512i hi) noexcept {
    // VPACKSSDW (row r, row r1), VPACKSSWB of the two leave 128-bit lane i holding channels
    // 4i..4i+3 and 16+4i..16+4i+3 of row r, then the same of row r1 (4 bytes each); one VPERMD
    // puts row r in the low 32 bytes and row r1 in the high 32. Saturating int32 -> int16 -> int8
    // equals saturating int32 -> int8.
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    __m512i b = _mm512_packs_epi16(_mm512_packs_epi32(x0, x1), _mm512_packs_epi32(y0, y1));
    b = _mm512_min_epi8(_mm512_max_epi8(_mm512_permutexvar_epi32(order, b), lo), hi);
    _mm256_mask_storeu_epi8(cr, mask, _mm512_castsi512_si256(b));
    if (two) _mm256_mask_storeu_epi8(cr1, mask, _mm512_extracti64x4_epi64(b, 1));
  }

  /// Requantizes rows [0, rows) of t, clamps and stores the valid channels (mask) of each.
  template <class Stage>
  static void store_rows(std::size_t rows, const std::int32_t (*t)[NR], const std::int32_t* ro, std::int8_t* c,
                         std::size_t c_stride, const Stage& s, __mmask32 mask, __m512i lo, __m512i hi) noexcept {
    for (std::size_t r = 0; r < rows; r += 2, c += 2 * c_stride) {
      const std::size_t r1 = r + 1 < rows ? r + 1 : r;  // an odd last row is requantized twice, stored once
      __m512i x0 = _mm512_load_si512(t[r]), x1 = _mm512_load_si512(t[r] + L);
      __m512i y0 = _mm512_load_si512(t[r1]), y1 = _mm512_load_si512(t[r1] + L);
      if (ro != nullptr) {  // the rows' offsets (weight zero point), in every channel
        const __m512i ox = _mm512_set1_epi32(ro[r]), oy = _mm512_set1_epi32(ro[r1]);
        x0 = _mm512_add_epi32(x0, ox), x1 = _mm512_add_epi32(x1, ox);
        y0 = _mm512_add_epi32(y0, oy), y1 = _mm512_add_epi32(y1, oy);
      }
      narrow_store(requant(x0, s, 0), requant(x1, s, 1), requant(y0, s, 0), requant(y1, s, 1), c, c + c_stride,
                   r1 != r, mask, lo, hi);
    }
  }

  /// A row tile x block whose int32 sums wait in t for their output stage (fast form only): the next
  /// block's k loop requantizes them in place one 16-lane vector after every k-group, then narrows
  /// and stores them one row pair per k-group, so the stage runs beside the VPDPBUSDs instead of
  /// after them (`tools/x86-probe/vnni_pipes.cpp`: on Zen 4 a burst of stages does not overlap).
  struct pending {
    std::int32_t (*t)[NR];
    std::size_t rows;  ///< 0: nothing waits
    const std::int32_t* ro;
    std::int8_t* c;
    std::size_t c_stride;
    const fast_stage* f;
    __mmask32 mask;
  };
  /// Vector v (row v / 2, half v % 2 = H) of p's tile, requantized in place.
  template <std::size_t H>
  [[gnu::always_inline]] static inline void stage_vec(const pending& p, std::size_t v) noexcept {
    std::int32_t* x = p.t[v / 2] + H * L;
    __m512i s = _mm512_load_si512(x);
    if (p.ro != nullptr) s = _mm512_add_epi32(s, _mm512_set1_epi32(p.ro[v / 2]));
    _mm512_store_si512(x, requant(s, *p.f, H));
  }
  /// Row pair q of p's requantized tile: narrowed, clamped, stored.
  [[gnu::always_inline]] static inline void narrow_pair(const pending& p, std::size_t q, __m512i lo, __m512i hi) noexcept {
    const std::size_t r = 2 * q, r1 = r + 1 < p.rows ? r + 1 : r;
    narrow_store(_mm512_load_si512(p.t[r]), _mm512_load_si512(p.t[r] + L), _mm512_load_si512(p.t[r1]),
                 _mm512_load_si512(p.t[r1] + L), p.c + r * p.c_stride, p.c + r1 * p.c_stride, r1 != r, p.mask, lo, hi);
  }
  /// p's whole output stage at once (the out-of-line epilogue's store_rows).
  static void drain(pending& p, __m512i lo, __m512i hi) noexcept {
    if (p.rows != 0) store_rows(p.rows, p.t, p.ro, p.c, p.c_stride, *p.f, p.mask, lo, hi);
    p.rows = 0;
  }

  /// Output stage of `rows` rows x one block from the int32 sums t[r][0..NR) plus the row offsets
  /// ro[r] (nullptr: none); f: the block's fast stage, or nullptr for the general form. Out of
  /// line: its constants stay out of the k loop's registers.
  template <class Q>
  [[gnu::noinline]] static void epilogue(std::size_t rows, const std::int32_t (*t)[NR], const std::int32_t* ro,
                                         std::size_t n0, std::size_t nb,
                                         std::int8_t* c, std::size_t c_stride, const output_stage<Q>& p,
                                         const fast_stage* f) noexcept {
    const __mmask32 mask = block_mask(nb);
    const __m512i lo = _mm512_set1_epi8(static_cast<char>(p.act_min)), hi = _mm512_set1_epi8(static_cast<char>(p.act_max));
    if (f != nullptr) store_rows(rows, t, ro, c, c_stride, *f, mask, lo, hi);
    else store_rows(rows, t, ro, c, c_stride, load_general(n0, nb, p), mask, lo, hi);
  }

  /// The block's bias' minus 128 * sum_k W[n][k] per channel: what a row tile's sums of
  /// (a + 128) * w need to become sums of a * w.
  static void tile_bias(std::int32_t* cb, const std::uint8_t* base, std::size_t kpad) noexcept {
    const auto* w = reinterpret_cast<const std::int8_t*>(base + NR * sizeof(std::int32_t));
    const __m512i c128 = _mm512_set1_epi8(static_cast<char>(0x80));
    __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
    for (std::size_t g = 0; g < kpad / 4; ++g, w += 4 * NR) {
      s0 = _mm512_dpbusd_epi32(s0, c128, _mm512_loadu_si512(w));
      s1 = _mm512_dpbusd_epi32(s1, c128, _mm512_loadu_si512(w + 4 * L));
    }
    const auto* bias = reinterpret_cast<const std::int32_t*>(base);
    _mm512_store_si512(cb, _mm512_sub_epi32(_mm512_loadu_si512(bias), s0));
    _mm512_store_si512(cb + L, _mm512_sub_epi32(_mm512_loadu_si512(bias + L), s1));
  }

  /// d[0 .. ceil(kc / 64) * 64) = a[0 .. kc) ^ 0x80 (a + 128 as unsigned bytes), then 0x80 padding
  /// (it meets the zero-padded weights); a is never read past kc.
  static void flip_row(std::uint8_t* d, const std::int8_t* a, std::size_t kc) noexcept {
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    for (std::size_t kk = 0; kk < kc; kk += 64)
      _mm512_store_si512(d + kk, _mm512_xor_si512(_mm512_maskz_loadu_epi8(bytes_mask(kc - kk), a + kk), flip));
  }

  /// rows (2..8) x the panel's blocks.
  /// The activations are flipped to unsigned once per row tile (per KW chunk and block when
  /// k > KW) into a stack buffer; the weights stay signed and are used as loaded. Pipelined: each
  /// block's sums wait in tb (pend) and the next block's k loop, in this row tile or the next,
  /// runs their fast-form stage; else each block's stage runs after its k loop.
  template <bool Pipelined, class Q>
  static void tile(std::size_t rows, std::size_t n, std::size_t k, const std::int8_t* a0, std::size_t a_stride,
                   const std::uint8_t* pw, std::size_t block, const panel_state& ps,
                   const std::int32_t* ro, std::int8_t* c0, std::size_t c_stride, const output_stage<Q>& p,
                   std::int32_t (*tb)[NR], pending& pend) noexcept {
    // Row clamping: a missing row reads the last valid row (and is never stored).
    const std::int8_t* ar[MR];
    for (std::size_t r = 0; r < MR; ++r) {
      ar[r] = r < rows ? a0 + r * a_stride : ar[r - 1];
    }
    alignas(64) std::uint8_t ab[MR * KW];
    auto flip = [&](std::size_t k0, std::size_t kc) noexcept {
      for (std::size_t r = 0; r < MR; ++r) flip_row(ab + r * KW, ar[r] + k0, kc);
    };
    const bool one_chunk = k <= KW;  // always, when Pipelined
    if (one_chunk) flip(0, k);
    for (std::size_t j = ps.j0; j < ps.j1; ++j) {
      const auto* w = reinterpret_cast<const std::int8_t*>(pw + j * block + NR * sizeof(std::int32_t));
      const std::int32_t* cb = ps.cb + (j - ps.j0) * NR;
      const __m512i b0 = _mm512_load_si512(cb), b1 = _mm512_load_si512(cb + L);
      __m512i c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
      __m512i c40 = b0, c41 = b1, c50 = b0, c51 = b1, c60 = b0, c61 = b1, c70 = b0, c71 = b1;
      const std::uint8_t* x = ab;
      auto group = [&]() __attribute__((always_inline)) {  // one k-group: 8 rows x 32 channels x 4 depths
        const __m512i w0 = _mm512_loadu_si512(w), w1 = _mm512_loadu_si512(w + 4 * L);
        dot2s(c00, c01, w0, w1, bcast4(x));
        dot2s(c10, c11, w0, w1, bcast4(x + KW));
        dot2s(c20, c21, w0, w1, bcast4(x + 2 * KW));
        dot2s(c30, c31, w0, w1, bcast4(x + 3 * KW));
        dot2s(c40, c41, w0, w1, bcast4(x + 4 * KW));
        dot2s(c50, c51, w0, w1, bcast4(x + 5 * KW));
        dot2s(c60, c61, w0, w1, bcast4(x + 6 * KW));
        dot2s(c70, c71, w0, w1, bcast4(x + 7 * KW));
        x += 4, w += 4 * NR;
      };
      if constexpr (Pipelined) {
        const __m512i lo = _mm512_set1_epi8(static_cast<char>(p.act_min)), hi = _mm512_set1_epi8(static_cast<char>(p.act_max));
        const pending pd = pend;  // locals: the stores into pd.t must not make the compiler reload them
        const std::size_t nv = 2 * pd.rows, np = (pd.rows + 1) / 2;
        std::size_t g = (k + 3) / 4, v = 0, q = 0;  // the packed weights end at kpad
        for (; v < nv && g >= 2; v += 2, g -= 2) {
          group(), stage_vec<0>(pd, v);
          group(), stage_vec<1>(pd, v + 1);
        }
        for (; v == nv && q < np && g >= 1; ++q, --g) group(), narrow_pair(pd, q, lo, hi);
        for (; g != 0; --g) group();
        for (; v < nv; v += 2) stage_vec<0>(pd, v), stage_vec<1>(pd, v + 1);  // never with >= 20 k-groups
        for (; q < np; ++q) narrow_pair(pd, q, lo, hi);
        pend.rows = 0;
      } else {  // nothing is pending
        for (std::size_t k0 = 0; k0 < k; k0 += KW) {
          const std::size_t kc = std::min(KW, k - k0);
          if (!one_chunk) flip(k0, kc);
          x = ab;
          const std::uint8_t* const xe = ab + ((kc + 3) & ~std::size_t{3});  // the packed weights end at kpad
          while (x != xe) group();
        }
      }
      std::int32_t(*t)[NR] = tb;  // the pending tile (if any) is stored by now
      _mm512_store_si512(t[0], c00), _mm512_store_si512(t[0] + L, c01);
      _mm512_store_si512(t[1], c10), _mm512_store_si512(t[1] + L, c11);
      _mm512_store_si512(t[2], c20), _mm512_store_si512(t[2] + L, c21);
      _mm512_store_si512(t[3], c30), _mm512_store_si512(t[3] + L, c31);
      _mm512_store_si512(t[4], c40), _mm512_store_si512(t[4] + L, c41);
      _mm512_store_si512(t[5], c50), _mm512_store_si512(t[5] + L, c51);
      _mm512_store_si512(t[6], c60), _mm512_store_si512(t[6] + L, c61);
      _mm512_store_si512(t[7], c70), _mm512_store_si512(t[7] + L, c71);
      const std::size_t nb = std::min(NR, n - j * NR);
      const fast_stage* f = ps.stage(j);
      if (Pipelined && f != nullptr) pend = pending{t, rows, ro, c0 + j * NR, c_stride, f, block_mask(nb)};
      else epilogue(rows, t, ro, j * NR, nb, c0 + j * NR, c_stride, p, f);
    }
  }

  // ---- K <= 32 (at most GS k-groups): small_panel ----
  // Each block's 2G weight vectors stay in registers and a row tile's rows go two at a time: 4
  // accumulators, G VPDPBUSD deep. The pair before (its int32 sums in 4 registers) runs its output
  // stage and narrowing inside the pair's k loop, the two streams interleaved instruction by
  // instruction. Every instruction of that loop body is its own `asm volatile`, so the compiler
  // allocates the registers but keeps the order (the compilers otherwise schedule the stage as a
  // burst after the VPDPBUSDs, which the core does not overlap: tools/x86-probe/vnni_pipes.cpp).

  /// Embedded-broadcast constants of the fast stage: P < 0 <=> x * m < lim; d = 2^31.
  static constexpr std::int64_t small_lim = -(std::int64_t{1} << 30), small_d = std::int64_t{1} << 31;
  static constexpr std::int32_t small_one = 1;

  /// A block's fast stage in a second form (small_make): MBQM's rounding split at 2^31. With Y = P +
  /// 2^(30+e) + zp 2^(31+e) (fast_stage's sum), Q = floor(Y / 2^31) = SRDHM + 2^(e-1) + zp 2^e, and
  /// the result is floor((Q - [P < 0]) / 2^e): two immediate shifts and a blend put Q in 32-bit
  /// lanes, [P < 0] is one 32-bit compare x <= t (t = floor((-2^30 - 1) / m), m > 0), then one masked
  /// VPSUBD and one VPSRAVD: 11 instructions per 16 lanes, 3 of them (2 VPMULDQ, 1 compare) on the
  /// VPDPBUSD pipes instead of 4. Applies when every multiplier is positive and Q fits 32 bits:
  /// |x| < 2^29 + 2^28 + 2^20 (|bias'| < 2^29, |row offset| < 2^28, K <= 32 sums < 2^20) keeps
  /// |Q| < 2^31 - 1.
  struct small_stage {
    __m512i me[2], mo[2];  ///< as fast_stage
    __m512i cn[2][2];      ///< as fast_stage
    __m512i e[2];          ///< -shift, 32-bit lanes
    __m512i t[2];          ///< x <= t <=> x * m + 2^30 < 0, 32-bit lanes
  };

  /// The two row pairs in flight: the one whose int32 sums wait for their output stage (s, f), and
  /// the one before it, requantized and packed to bytes (b), waiting for its order, clamp and stores.
  template <class St>
  struct small_pair {
    __m512i s[4];  ///< row r channels 0-15, 16-31, then row r1
    const St* f;
    __m512i b;     ///< VPACKSSWB of the older pair
    std::int8_t* c0;
    std::int8_t* c1;
    __mmask32 m0, m1;  ///< store masks of the older pair's rows (0: nothing stored)
  };
  /// What the stage steps read besides the pairs.
  struct small_consts {
    const __m512i* lohi;  ///< act_min and act_max bytes
    __m512i order;        ///< VPERMD order of narrow_store
    __mmask16 odd;        ///< 0xAAAA
  };
  /// Temporaries of the stage of one pair; b the new packed bytes.
  struct small_tmp {
    __m512i pe[4], po[4];
    __mmask8 ke[4], ko[4];
    __mmask16 k16[4];
    __m512i b, b1, o;
  };
  static constexpr int small_steps = 6 + 4 * 12 + 3;

  /// Step S (0-5) of the older pair, either stage form: VPERMD, clamp, the two rows' stores.
  template <int S, class St>
  [[gnu::always_inline]] static inline void older_step(small_tmp& t, const small_pair<St>& q, const small_consts& k) noexcept {
    if constexpr (S == 0) asm volatile("vpermd %[b], %[i], %[o]" : [o] "=v"(t.o) : [b] "v"(q.b), [i] "v"(k.order));
    if constexpr (S == 1) asm volatile("vpmaxsb %[m], %[o], %[o]" : [o] "+v"(t.o) : [m] "m"(k.lohi[0]));
    if constexpr (S == 2) asm volatile("vpminsb %[m], %[o], %[o]" : [o] "+v"(t.o) : [m] "m"(k.lohi[1]));
    if constexpr (S == 3)
      asm volatile("vmovdqu8 %t[v], %[c]%{%[k]%}" : [c] "=m"(*reinterpret_cast<char(*)[32]>(q.c0)) : [v] "v"(t.o), [k] "Yk"(q.m0));
    if constexpr (S == 4) asm volatile("vextracti64x4 $1, %[v], %t[o]" : [o] "=v"(t.o) : [v] "v"(t.o));
    if constexpr (S == 5)
      asm volatile("vmovdqu8 %t[v], %[c]%{%[k]%}" : [c] "=m"(*reinterpret_cast<char(*)[32]>(q.c1)) : [v] "v"(t.o), [k] "Yk"(q.m1));
  }
  /// Instruction O (0-2) of vector V's 64-bit products, either stage form: the odd lanes moved
  /// down, then VPMULDQ of the even and of the odd lanes.
  template <int O, int V, class St>
  [[gnu::always_inline]] static inline void product_step(small_tmp& t, const small_pair<St>& q) noexcept {
    constexpr int h = V % 2;
    const St& f = *q.f;
    if constexpr (O == 0) asm volatile("vpsrlq $32, %[v], %[o]" : [o] "=v"(t.po[V]) : [v] "v"(q.s[V]));
    if constexpr (O == 1) asm volatile("vpmuldq %[m], %[v], %[o]" : [o] "=v"(t.pe[V]) : [v] "v"(q.s[V]), [m] "m"(f.me[h]));
    if constexpr (O == 2) asm volatile("vpmuldq %[m], %[o], %[o]" : [o] "+v"(t.po[V]) : [m] "m"(f.mo[h]));
  }
  /// Instruction I (0-2) of the newer pair's packing, either form: two VPACKSSDW, one VPACKSSWB into t.b.
  template <int I>
  [[gnu::always_inline]] static inline void pack_step(small_tmp& t) noexcept {
    if constexpr (I == 0) asm volatile("vpackssdw %[b], %[a], %[o]" : [o] "=v"(t.b) : [a] "v"(t.pe[0]), [b] "v"(t.pe[1]));
    if constexpr (I == 1) asm volatile("vpackssdw %[b], %[a], %[o]" : [o] "=v"(t.b1) : [a] "v"(t.pe[2]), [b] "v"(t.pe[3]));
    if constexpr (I == 2) asm volatile("vpacksswb %[b], %[o], %[o]" : [o] "+v"(t.b) : [b] "v"(t.b1));
  }

  /// Step S (0 .. small_steps - 1) of the pairs in flight: 0-5 the older pair's VPERMD, clamp and
  /// stores; then the 12 instructions of requant(fast) for each of the newer pair's 4 vectors; then
  /// its two VPACKSSDW and one VPACKSSWB into t.b.
  template <int S>
  [[gnu::always_inline]] static inline void small_step(small_tmp& t, const small_pair<fast_stage>& q, const small_consts& k) noexcept {
    if constexpr (S < 6) {
      older_step<S>(t, q, k);
    } else if constexpr (S < 54) {
      constexpr int v = (S - 6) / 12, o = (S - 6) % 12, h = v % 2;
      const fast_stage& f = *q.f;
      __m512i& pe = t.pe[v];
      __m512i& po = t.po[v];
      if constexpr (o < 3) product_step<o, v>(t, q);
      if constexpr (o == 3) asm volatile("vpcmpq $1, %[l]%{1to8%}, %[v], %[k]" : [k] "=Yk"(t.ke[v]) : [v] "v"(pe), [l] "m"(small_lim));
      if constexpr (o == 4) asm volatile("vpcmpq $1, %[l]%{1to8%}, %[v], %[k]" : [k] "=Yk"(t.ko[v]) : [v] "v"(po), [l] "m"(small_lim));
      if constexpr (o == 5) asm volatile("vpaddq %[m], %[o], %[o]" : [o] "+v"(pe) : [m] "m"(f.cn[h][0]));
      if constexpr (o == 6) asm volatile("vpaddq %[m], %[o], %[o]" : [o] "+v"(po) : [m] "m"(f.cn[h][1]));
      if constexpr (o == 7) asm volatile("vpsubq %[d]%{1to8%}, %[o], %[o]%{%[k]%}" : [o] "+v"(pe) : [k] "Yk"(t.ke[v]), [d] "m"(small_d));
      if constexpr (o == 8) asm volatile("vpsubq %[d]%{1to8%}, %[o], %[o]%{%[k]%}" : [o] "+v"(po) : [k] "Yk"(t.ko[v]), [d] "m"(small_d));
      if constexpr (o == 9) asm volatile("vpsravq %[m], %[o], %[o]" : [o] "+v"(pe) : [m] "m"(f.sr[h][0]));
      if constexpr (o == 10) asm volatile("vpsravq %[m], %[o], %[o]" : [o] "+v"(po) : [m] "m"(f.sr[h][1]));
      if constexpr (o == 11) asm volatile("vpshufd $0xA0, %[p], %[o]%{%[k]%}" : [o] "+v"(pe) : [p] "v"(po), [k] "Yk"(k.odd));
    } else {
      pack_step<S - 54>(t);
    }
  }
  /// The same with small_stage: steps 0-5 as above, then 11 instructions per vector, then the packs.
  template <int S>
  [[gnu::always_inline]] static inline void small_step(small_tmp& t, const small_pair<small_stage>& q, const small_consts& k) noexcept {
    if constexpr (S < 6) {
      older_step<S>(t, q, k);
    } else if constexpr (S < 50) {
      constexpr int v = (S - 6) / 11, o = (S - 6) % 11, h = v % 2;
      const small_stage& f = *q.f;
      __m512i& pe = t.pe[v];
      __m512i& po = t.po[v];
      if constexpr (o < 3) product_step<o, v>(t, q);
      if constexpr (o == 3) asm volatile("vpcmpd $2, %[m], %[v], %[k]" : [k] "=Yk"(t.k16[v]) : [v] "v"(q.s[v]), [m] "m"(f.t[h]));
      if constexpr (o == 4) asm volatile("vpaddq %[m], %[o], %[o]" : [o] "+v"(pe) : [m] "m"(f.cn[h][0]));
      if constexpr (o == 5) asm volatile("vpaddq %[m], %[o], %[o]" : [o] "+v"(po) : [m] "m"(f.cn[h][1]));
      if constexpr (o == 6) asm volatile("vpsrlq $31, %[o], %[o]" : [o] "+v"(pe));
      if constexpr (o == 7) asm volatile("vpsllq $1, %[o], %[o]" : [o] "+v"(po));
      if constexpr (o == 8) asm volatile("vpblendmd %[p], %[o], %[o]%{%[k]%}" : [o] "+v"(pe) : [p] "v"(po), [k] "Yk"(k.odd));
      if constexpr (o == 9) asm volatile("vpsubd %[d]%{1to16%}, %[o], %[o]%{%[k]%}" : [o] "+v"(pe) : [k] "Yk"(t.k16[v]), [d] "m"(small_one));
      if constexpr (o == 10) asm volatile("vpsravd %[m], %[o], %[o]" : [o] "+v"(pe) : [m] "m"(f.e[h]));
    } else {
      pack_step<S - 50>(t);
    }
  }
  template <class St>
  static constexpr int small_nsteps = std::is_same_v<St, fast_stage> ? small_steps : 6 + 4 * 11 + 3;

  /// Steps [B, E) of the pairs in flight.
  template <int B, int E, class St>
  [[gnu::always_inline]] static inline void small_steps_range(small_tmp& t, const small_pair<St>& q, const small_consts& k) noexcept {
    [&]<int... I>(std::integer_sequence<int, I...>) __attribute__((always_inline)) {
      (small_step<B + I>(t, q, k), ...);
    }(std::make_integer_sequence<int, E - B>{});
  }

  /// k-group g of the row pair at x (rows x and x + XS of the stack rows) into acc, then steps
  /// [S g / G, S (g + 1) / G) of the pairs in flight q (S = small_steps). One quarter of the steps
  /// after each VPDPBUSD measured the same within 1% (clang, layer a's GEMM); all of them before the
  /// VPDPBUSDs was slower (layer a 158 against 140 us, in a form that narrowed one pair later).
  template <std::size_t g, std::size_t G, class St>
  [[gnu::always_inline]] static inline void small_group(__m512i (&acc)[4], const __m512i (&wv)[G][2], const std::uint8_t* x,
                                                        small_tmp& t, const small_pair<St>& q, const small_consts& k) noexcept {
    constexpr int S = small_nsteps<St>;
    __m512i bx, by;
    asm volatile("vpbroadcastd %[m], %[o]" : [o] "=v"(bx) : [m] "m"(*reinterpret_cast<const std::uint32_t*>(x + 4 * g)));
    asm volatile("vpbroadcastd %[m], %[o]" : [o] "=v"(by) : [m] "m"(*reinterpret_cast<const std::uint32_t*>(x + XS + 4 * g)));
    asm volatile("vpdpbusd %[s], %[u], %[a]" : [a] "+v"(acc[0]) : [u] "v"(bx), [s] "v"(wv[g][0]));
    asm volatile("vpdpbusd %[s], %[u], %[a]" : [a] "+v"(acc[1]) : [u] "v"(bx), [s] "v"(wv[g][1]));
    asm volatile("vpdpbusd %[s], %[u], %[a]" : [a] "+v"(acc[2]) : [u] "v"(by), [s] "v"(wv[g][0]));
    asm volatile("vpdpbusd %[s], %[u], %[a]" : [a] "+v"(acc[3]) : [u] "v"(by), [s] "v"(wv[g][1]));
    small_steps_range<static_cast<int>(S * g / G), static_cast<int>(S * (g + 1) / G)>(t, q, k);
  }
  /// The sums of the row pair at x x the G weight-group pairs wv, from acc (the biases); pending
  /// pair q's whole output stage interleaved with them.
  template <std::size_t G, class St>
  [[gnu::always_inline]] static inline __m512i small_pair_sums(__m512i (&acc)[4], const __m512i (&wv)[G][2], const std::uint8_t* x,
                                                               const small_pair<St>& q, const small_consts& k) noexcept {
    small_tmp t;
    [&]<std::size_t... g>(std::index_sequence<g...>) __attribute__((always_inline)) {
      (small_group<g, G, St>(acc, wv, x, t, q, k), ...);
    }(std::make_index_sequence<G>{});
    return t.b;
  }

  /// m >= 2 rows x the panel's blocks, k <= 4 GS (G k-groups). Row tiles of MR rows are flipped
  /// into stack rows XS bytes apart (as `tile` does; missing rows copy the last one); fast-stage
  /// blocks run as above, the pending pair carried across blocks and row tiles and drained at the
  /// end; general-stage blocks run their k loop into tb and the out-of-line epilogue.
  template <std::size_t G, class St, class Q>
  static void small_panel_g(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, std::size_t a_stride,
                            const std::uint8_t* pw, std::size_t block, const panel_state& ps, const St* stages,
                            const std::int32_t* row_offset, std::int8_t* c, std::size_t c_stride,
                            const output_stage<Q>& p, std::int32_t (*tb)[NR]) noexcept {
    alignas(64) std::uint8_t ab[MR * XS];
    alignas(64) const __m512i lohi[2] = {_mm512_set1_epi8(static_cast<char>(p.act_min)),
                                        _mm512_set1_epi8(static_cast<char>(p.act_max))};
    const small_consts kc{lohi, _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), 0xAAAA};
    // Nothing in flight at first: masks 0 store nothing (the stage reads fs[0], stack memory).
    const __m512i z = _mm512_setzero_si512();
    small_pair<St> q{{z, z, z, z}, stages, z, c, c, 0, 0};
    std::int8_t *n0 = c, *n1 = c;  // the newer pair's rows and store masks (0: none yet)
    __mmask32 nm0 = 0, nm1 = 0;
    // Rows [0, whole) of A have 32 bytes from their start inside A (the rows after them follow):
    // those load unmasked (masked loads that cross a cache line are slow on Zen 4; bytes past k
    // meet zero weights or are never read).
    const std::size_t gap = k >= 32 ? 0 : (a_stride == 0 ? m : (32 - k + a_stride - 1) / a_stride);
    const std::size_t whole = m > gap ? m - gap : 0;
    for (std::size_t i = 0; i < m; i += MR) {
      const std::size_t rows = std::min(MR, m - i);
      const std::int8_t* ar = a + i * a_stride;
      for (std::size_t r = 0; r < MR; ++r) {
        const std::size_t ri = std::min(r, rows - 1);
        small_flip(ab + r * XS, ar + ri * a_stride, k, i + ri < whole);
      }
      const std::int32_t* ro = row_offset ? row_offset + i : nullptr;
      for (std::size_t j = ps.j0; j < ps.j1; ++j) {
        const auto* w = reinterpret_cast<const std::int8_t*>(pw + j * block + NR * sizeof(std::int32_t));
        const std::int32_t* cb = ps.cb + (j - ps.j0) * NR;
        const std::size_t nb = std::min(NR, n - j * NR);
        const St* f = ps.fast[j - ps.j0] ? stages + (j - ps.j0) : nullptr;
        std::int8_t* cj = c + i * c_stride + j * NR;
        if (f == nullptr) {
          small_general(rows, (k + 3) / 4, ab, w, cb, tb, ro, j * NR, nb, cj, c_stride, p);
          continue;
        }
        __m512i wv[G][2];
        for (std::size_t g = 0; g < G; ++g) {
          wv[g][0] = _mm512_loadu_si512(w + g * 4 * NR);
          wv[g][1] = _mm512_loadu_si512(w + g * 4 * NR + 4 * L);
        }
        const __m512i b0 = _mm512_load_si512(cb), b1 = _mm512_load_si512(cb + L);
        const __mmask32 mask = block_mask(nb);
        for (std::size_t r = 0; r < rows; r += 2) {
          __m512i acc[4] = {b0, b1, b0, b1};
          const __m512i b = small_pair_sums<G, St>(acc, wv, ab + r * XS, q, kc);
          const std::size_t r1 = r + 1 < rows ? r + 1 : r;
          if (ro != nullptr) {
            const __m512i ox = _mm512_set1_epi32(ro[r]), oy = _mm512_set1_epi32(ro[r1]);
            acc[0] = _mm512_add_epi32(acc[0], ox), acc[1] = _mm512_add_epi32(acc[1], ox);
            acc[2] = _mm512_add_epi32(acc[2], oy), acc[3] = _mm512_add_epi32(acc[3], oy);
          }
          q = small_pair<St>{{acc[0], acc[1], acc[2], acc[3]}, f, b, n0, n1, nm0, nm1};
          n0 = cj + r * c_stride, n1 = cj + r1 * c_stride, nm0 = mask, nm1 = r1 != r ? mask : __mmask32{0};
        }
      }
    }
    small_tmp t;  // drain: the last two pairs
    small_steps_range<0, small_nsteps<St>>(t, q, kc);
    q = small_pair<St>{{z, z, z, z}, q.f, t.b, n0, n1, nm0, nm1};
    small_steps_range<0, 6>(t, q, kc);
  }

  template <class St, class Q>
  static void small_panel_st(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, std::size_t a_stride,
                             const std::uint8_t* pw, std::size_t block, const panel_state& ps, const St* st,
                             const std::int32_t* row_offset, std::int8_t* c, std::size_t c_stride,
                             const output_stage<Q>& p, std::int32_t (*tb)[NR]) noexcept {
    switch ((k + 3) / 4) {
      case 1: return small_panel_g<1>(m, n, k, a, a_stride, pw, block, ps, st, row_offset, c, c_stride, p, tb);
      case 2: return small_panel_g<2>(m, n, k, a, a_stride, pw, block, ps, st, row_offset, c, c_stride, p, tb);
      case 3: return small_panel_g<3>(m, n, k, a, a_stride, pw, block, ps, st, row_offset, c, c_stride, p, tb);
      case 4: return small_panel_g<4>(m, n, k, a, a_stride, pw, block, ps, st, row_offset, c, c_stride, p, tb);
      case 5: return small_panel_g<5>(m, n, k, a, a_stride, pw, block, ps, st, row_offset, c, c_stride, p, tb);
      case 6: return small_panel_g<6>(m, n, k, a, a_stride, pw, block, ps, st, row_offset, c, c_stride, p, tb);
      case 7: return small_panel_g<7>(m, n, k, a, a_stride, pw, block, ps, st, row_offset, c, c_stride, p, tb);
      default: return small_panel_g<8>(m, n, k, a, a_stride, pw, block, ps, st, row_offset, c, c_stride, p, tb);
    }
  }
  /// The panel's fast stages in small_stage's form (fast blocks only); false when one does not
  /// apply (a multiplier <= 0, |bias'| >= 2^29, or a row offset with |offset| >= 2^28).
  template <class Q>
  static bool small_make(small_stage* ss, const panel_state& ps, std::size_t m, std::size_t n,
                         const std::int32_t* row_offset, const output_stage<Q>& p) noexcept {
    constexpr std::int64_t cb_lim = std::int64_t{1} << 29, ro_lim = std::int64_t{1} << 28;
    if (row_offset != nullptr)
      for (std::size_t i = 0; i < m; ++i)
        if (row_offset[i] <= -ro_lim || row_offset[i] >= ro_lim) return false;
    for (std::size_t j = ps.j0; j < ps.j1; ++j) {
      if (!ps.fast[j - ps.j0]) continue;
      const std::size_t n0 = j * NR, nb = std::min(NR, n - n0);
      const std::int32_t* cb = ps.cb + (j - ps.j0) * NR;
      for (std::size_t c = 0; c < nb; ++c)
        if (cb[c] <= -cb_lim || cb[c] >= cb_lim) return false;
      __m512i mul[2], sh[2];
      load_stage_arrays(mul, sh, n0, nb, p);
      alignas(64) std::int32_t mv[NR], tv[NR];
      _mm512_store_si512(mv, mul[0]), _mm512_store_si512(mv + L, mul[1]);
      for (std::size_t c = 0; c < NR; ++c) {
        if (c >= nb) { tv[c] = std::numeric_limits<std::int32_t>::min(); continue; }  // never stored
        if (mv[c] <= 0) return false;
        const std::int64_t num = -(std::int64_t{1} << 30) - 1;  // floor(num / m), m > 0
        std::int64_t q = num / mv[c];
        if (q * mv[c] != num) --q;
        tv[c] = static_cast<std::int32_t>(q);
      }
      const fast_stage& f = ps.fs[j - ps.j0];
      small_stage& s = ss[j - ps.j0];
      for (std::size_t h = 0; h < 2; ++h) {
        s.me[h] = f.me[h], s.mo[h] = f.mo[h];
        s.cn[h][0] = f.cn[h][0], s.cn[h][1] = f.cn[h][1];
        s.e[h] = _mm512_maskz_sub_epi32(lane_mask(nb, h), _mm512_setzero_si512(), sh[h]);
        s.t[h] = _mm512_load_si512(tv + h * L);
      }
    }
    return true;
  }
  /// `run` for m >= 2 and k <= 32 (its own function: g++ 12 allocated `tile`'s registers worse
  /// when `run` held this path's branch too).
  template <class Q>
  [[gnu::noinline]] static void run_small(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, std::size_t a_stride,
                                          const std::uint8_t* pw, std::size_t block, std::size_t blocks, std::size_t panel,
                                          const std::int32_t* row_offset, std::int8_t* c, std::size_t c_stride,
                                          const output_stage<Q>& p) noexcept {
    const std::size_t kpad = (k + 3) & ~std::size_t{3};
    alignas(64) std::int32_t cb[PB * NR];
    alignas(64) fast_stage fs[PB];
    bool fast[PB];
    alignas(64) std::int32_t tb[MR][NR];  // a general-form block's sums
    for (std::size_t j0 = 0; j0 < blocks; j0 += panel) {
      const std::size_t j1 = std::min(blocks, j0 + panel);
      small_panel(m, n, k, a, a_stride, pw, block, prepare_panel(j0, j1, n, pw, block, kpad, true, cb, fs, fast, p),
                  row_offset, c, c_stride, p, tb);
    }
  }
  template <class Q>
  static void small_panel(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, std::size_t a_stride,
                          const std::uint8_t* pw, std::size_t block, const panel_state& ps,
                          const std::int32_t* row_offset, std::int8_t* c, std::size_t c_stride,
                          const output_stage<Q>& p, std::int32_t (*tb)[NR]) noexcept {
    alignas(64) small_stage ss[PB];
    if (small_make(ss, ps, m, n, row_offset, p))
      small_panel_st(m, n, k, a, a_stride, pw, block, ps, ss, row_offset, c, c_stride, p, tb);
    else
      small_panel_st(m, n, k, a, a_stride, pw, block, ps, ps.fs, row_offset, c, c_stride, p, tb);
  }
  /// d[0 .. 32) = a[0 .. 32) ^ 0x80 (loaded unmasked: `whole`), else a[0 .. k) ^ 0x80 and 0x80 (k <= 32).
  static void small_flip(std::uint8_t* d, const std::int8_t* a, std::size_t k, bool whole) noexcept {
    const __m256i v = whole ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a))
                            : _mm256_maskz_loadu_epi8(static_cast<__mmask32>(bytes_mask(k)), a);
    _mm256_store_si256(reinterpret_cast<__m256i*>(d), _mm256_xor_si256(v, _mm256_set1_epi8(static_cast<char>(0x80))));
  }
  /// Rows [0, rows) of the stack rows ab (XS apart) x one block (groups k-groups) with the general
  /// form of the stage: the sums go through t and store_rows (not `epilogue`: a call from here
  /// with a constant stage made g++ 12 clone `epilogue` and allocate `tile`'s registers worse).
  template <class Q>
  [[gnu::noinline]] static void small_general(std::size_t rows, std::size_t groups, const std::uint8_t* ab, const std::int8_t* w,
                                              const std::int32_t* cb, std::int32_t (*t)[NR], const std::int32_t* ro,
                                              std::size_t n0, std::size_t nb, std::int8_t* c, std::size_t c_stride,
                                              const output_stage<Q>& p) noexcept {
    const __m512i b0 = _mm512_load_si512(cb), b1 = _mm512_load_si512(cb + L);
    for (std::size_t r = 0; r < rows; ++r) {
      __m512i x0 = b0, x1 = b1;
      for (std::size_t g = 0; g < groups; ++g)
        dot2s(x0, x1, _mm512_loadu_si512(w + g * 4 * NR), _mm512_loadu_si512(w + g * 4 * NR + 4 * L),
              bcast4(ab + r * XS + 4 * g));
      _mm512_store_si512(t[r], x0), _mm512_store_si512(t[r] + L, x1);
    }
    const __m512i lo = _mm512_set1_epi8(static_cast<char>(p.act_min)), hi = _mm512_set1_epi8(static_cast<char>(p.act_max));
    store_rows(rows, t, ro, c, c_stride, load_general(n0, nb, p), block_mask(nb), lo, hi);
  }

  /// One row x blocks [j, j1), B blocks at a time (2B accumulators); returns the first block left.
  template <std::size_t B, class Q>
  static std::size_t row1_blocks(std::size_t n, std::size_t k, const std::int8_t* a0, const std::uint8_t* pw,
                                 std::size_t block, std::size_t j, const panel_state& ps, std::int32_t rb,
                                 const std::int32_t* ro, std::int8_t* c0, const output_stage<Q>& p) noexcept {
    const std::size_t j1 = ps.j1;
    const std::size_t kg = k / 4, kt = k % 4;
    const __m512i base_row = _mm512_set1_epi32(rb);
    for (; j + B <= j1; j += B) {
      const std::int8_t* w[B];
      __m512i acc[2 * B];
#pragma GCC unroll 8
      for (std::size_t b = 0; b < B; ++b) {
        const std::uint8_t* base = pw + (j + b) * block;
        const auto* bias = reinterpret_cast<const std::int32_t*>(base);
        w[b] = reinterpret_cast<const std::int8_t*>(base + NR * sizeof(std::int32_t));
        acc[2 * b] = _mm512_add_epi32(_mm512_loadu_si512(bias), base_row);
        acc[2 * b + 1] = _mm512_add_epi32(_mm512_loadu_si512(bias + L), base_row);
      }
      for (std::size_t g = 0; g < kg; ++g) {
        const __m512i x = bcast4(a0 + 4 * g);
#pragma GCC unroll 8
        for (std::size_t b = 0; b < B; ++b) {
          dot2(acc[2 * b], acc[2 * b + 1], wload(w[b] + g * 4 * NR), wload(w[b] + g * 4 * NR + 4 * L), x);
        }
      }
      if (kt != 0) {
        const __m512i x = bcast_tail(a0 + 4 * kg, kt);
#pragma GCC unroll 8
        for (std::size_t b = 0; b < B; ++b) {
          dot2(acc[2 * b], acc[2 * b + 1], wload(w[b] + kg * 4 * NR), wload(w[b] + kg * 4 * NR + 4 * L), x);
        }
      }
      alignas(64) std::int32_t t[B][NR];
#pragma GCC unroll 8
      for (std::size_t b = 0; b < B; ++b) {
        _mm512_store_si512(t[b], acc[2 * b]);
        _mm512_store_si512(t[b] + L, acc[2 * b + 1]);
      }
      for (std::size_t b = 0; b < B; ++b) {
        const std::size_t n0 = (j + b) * NR;
        epilogue(1, t + b, ro, n0, std::min(NR, n - n0), c0 + n0, 0, p, ps.stage(j + b));
      }
    }
    return j;
  }

  /// One row x the panel's blocks (GEMV).
  template <class Q>
  static void row1(std::size_t n, std::size_t k, const std::int8_t* a0, const std::uint8_t* pw, std::size_t block,
                   const panel_state& ps, const std::int32_t* ro, std::int8_t* c0,
                   const output_stage<Q>& p) noexcept {
    const std::int32_t rb = row_base(a0, k);
    const std::size_t j = row1_blocks<4>(n, k, a0, pw, block, ps.j0, ps, rb, ro, c0, p);
    row1_blocks<1>(n, k, a0, pw, block, j, ps, rb, ro, c0, p);
  }
};

}  // namespace tessera::kernels

#include <tessera/arch/avx512/intrinsics_end.hpp>

template <> struct tessera::ukernel<tessera::op::gemm_qs8, tessera::arch::avx512_vnni> {
  using type = tessera::kernels::gemm_qs8_8x32c4_avx512_vnni;
};
