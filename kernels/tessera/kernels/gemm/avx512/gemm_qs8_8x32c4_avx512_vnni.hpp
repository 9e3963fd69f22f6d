/// @file gemm_qs8_8x32c4_avx512_vnni.hpp
/// int8 GEMM with fused requantization on x86-64 AVX-512 + VNNI (VPDPBUSD: 4 int8 MACs per 32-bit
/// lane in one instruction, twice the MACs per instruction of AVX2's VPMADDUBSW chain).
///
/// Tile: MR = 8 rows x NR = 32 channels (2 zmm of 16 int32 lanes), kr = 4. Consumes op.hpp's packed
/// format with nr() = 32, kr() = 4: per block `int32 bias'[32]`, then `int8 w[ceil(K/4)][32][4]`,
/// so one k-group is 128 bytes = two zmm (channels 0-15, 16-31), 4 depths per lane.
/// Signedness: VPDPBUSD multiplies unsigned bytes by signed bytes. The weights are made unsigned
/// at run time (w ^ 0x80 = w + 128 as u8, one VPXORD per weight vector, shared by the 8 rows) and
/// the activations stay signed, so each lane sums (w + 128) * a = w * a + 128 * a; the kernel
/// subtracts 128 * sum_k a[m][k] per row (row sums by VPDPBUSD against ones, once per row tile).
/// All of it wraps in int32 (VPDPBUSD does not saturate), so the result equals TFLite's int32
/// accumulator bit for bit, as the other kernels' regrouping does (op.hpp).
/// Inner loop per k-group (8 x 32 x 4 = 1024 MACs): 2 weight loads + 2 VPXORD, 8 activation
/// broadcasts (4 bytes each), 16 VPDPBUSD into 16 named accumulators.
/// Epilogue (out of line, from a 1 KiB tile on the stack): MBQM on 16 lanes as in
/// simd/xsimd_bridge.hpp (VPMULDQ on even and odd lanes, blend, rounding shift with a mask add; a
/// block whose shifts are all <= 0 and whose multipliers are all != INT32_MIN skips the left
/// shift and the saturation fix-up), + zero point, VPMOVSDB (saturating narrow), clamp on bytes,
/// one 32-byte store per row.
/// M = 1 and a last single row take a GEMV path: one row against 4 blocks at a time (8
/// accumulators, 512 bytes of weights per k-group streamed in parallel).
/// Tails: M by row clamping (missing rows read the last valid row and are never stored); N by
/// masked loads of per-channel parameters and masked stores (nothing at or past channel n is read
/// or written; the packed weights are zero padded to the block); K by a masked load of the last
/// k-group's bytes (AVX-512 masked loads do not fault: A is never read past k elements).
/// ISA: x86-64 AVX-512 F/BW/VL + VNNI (Zen 4, Ice Lake and later): `-march=x86-64-v4
/// -mavx512vnni` or `-march=native` on such a machine.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_AVX512_VNNI
#error "gemm_qs8_8x32c4_avx512_vnni.hpp needs x86-64 AVX-512 F/BW/VL with VNNI (TESSERA_HAS_AVX512_VNNI; e.g. -march=x86-64-v4 -mavx512vnni)"
#endif

#include <immintrin.h>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op.hpp>
#include <tessera/quant/requantize.hpp>

// GCC 12.2's AVX-512 headers seed every unmasked intrinsic's pass-through with a self-initialized
// `__Y = __Y` (GCC PR 105593, fixed in 12.3), which -Wuninitialized reports inside the callers.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

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
    alignas(64) std::int32_t cb[PB * NR];  // the panel's biases' - 128 * column sums (row tiles)
    for (std::size_t j0 = 0; j0 < blocks; j0 += panel) {
      const std::size_t j1 = std::min(blocks, j0 + panel);
      if (m >= 2)
        for (std::size_t j = j0; j < j1; ++j) tile_bias(cb + (j - j0) * NR, pw + j * block, kpad);
      for (std::size_t i = 0; i < m; i += MR) {
        const std::size_t rows = std::min(MR, m - i);
        const std::int32_t* ri = row_offset ? row_offset + i : nullptr;
        if (rows == 1) row1(n, k, a + i * a_stride, pw, block, j0, j1, ri, c + i * c_stride, p);
        else tile(rows, n, k, a + i * a_stride, a_stride, pw, block, j0, j1, cb, ri, c + i * c_stride, c_stride, p);
      }
    }
  }

 private:
  static constexpr std::size_t L = 16;   ///< int32 lanes of a zmm
  static constexpr std::size_t NR = 2 * L;
  static constexpr std::size_t MR = 8;
  static constexpr std::size_t panel_bytes = 256 * 1024;
  static constexpr std::size_t PB = 32;    ///< most blocks per panel (stack: PB * NR corrected biases)
  static constexpr std::size_t KW = 2048;  ///< depths of a row tile flipped at a time (MR * KW bytes of stack)

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

  /// row_offset (or 0) - 128 * sum of the row's k activations, wrapping: what the row adds to
  /// every channel's VPDPBUSD sum to make it the signed dot product.
  static std::int32_t row_base(const std::int8_t* a, std::size_t k, const std::int32_t* ro) noexcept {
    const __m512i ones = _mm512_set1_epi8(1);
    __m512i s = _mm512_setzero_si512();
    std::size_t kk = 0;
    for (; kk + 64 <= k; kk += 64) s = _mm512_dpbusd_epi32(s, ones, _mm512_loadu_si512(a + kk));
    if (kk < k) s = _mm512_dpbusd_epi32(s, ones, _mm512_maskz_loadu_epi8(bytes_mask(k - kk), a + kk));
    alignas(64) std::uint32_t lanes[L];
    _mm512_store_si512(lanes, s);
    std::uint32_t sum = 0;
    for (std::uint32_t v : lanes) sum += v;
    return static_cast<std::int32_t>((ro ? static_cast<std::uint32_t>(*ro) : 0u) - 128u * sum);
  }

  /// One block's output stage in registers.
  struct stage_regs {
    __m512i me[2], mo[2];  ///< multipliers of the even lanes, and of the odd lanes moved to the even
    // Plain blocks, per half h and lane parity q (64-bit lanes: even or odd channels), e = -shift:
    __m512i cn[2][2];      ///< 2^30 + 2^(e - 1) * 2^31 (2^30 alone for e = 0)
    __m512i dn[2][2];      ///< 2^31 where e >= 1, else 0
    __m512i sr[2][2];      ///< 31 + e
    // Other blocks (the two-step form of xsimd_bridge.hpp):
    __m512i l[2], e[2];    ///< left shifts max(s, 0), right shifts max(-s, 0)
    __m512i em[2], th[2];  ///< 2^e - 1 and (2^e - 1) >> 1
    __m512i zp;
    __m128i lo, hi;
    __mmask32 store;       ///< the block's valid channels
    bool plain;            ///< every left shift 0 and no multiplier INT32_MIN
  };

  template <class Q>
  static stage_regs load_stage(std::size_t n0, std::size_t nb, const output_stage<Q>& p) noexcept {
    stage_regs s;
    __m512i mul[2], sh[2];
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      mul[0] = mul[1] = _mm512_set1_epi32(p.q.multiplier);
      sh[0] = sh[1] = _mm512_set1_epi32(p.q.shift);
    } else {
      for (std::size_t h = 0; h < 2; ++h) {
        const std::size_t c0 = h * L, v = nb > c0 ? std::min(L, nb - c0) : 0;
        const __mmask16 mk = static_cast<__mmask16>((1u << v) - 1);
        mul[h] = _mm512_maskz_loadu_epi32(mk, p.q.multiplier + n0 + c0);
        sh[h] = _mm512_maskz_loadu_epi32(mk, p.q.shift + n0 + c0);
      }
    }
    const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi32(1);
    const __m512i min = _mm512_set1_epi32(std::numeric_limits<std::int32_t>::min());
    bool plain = true;
    for (std::size_t h = 0; h < 2; ++h) {
      s.me[h] = mul[h];
      s.mo[h] = _mm512_srli_epi64(mul[h], 32);
      s.l[h] = _mm512_max_epi32(sh[h], zero);
      s.e[h] = _mm512_max_epi32(_mm512_sub_epi32(zero, sh[h]), zero);
      plain = plain && _mm512_test_epi32_mask(s.l[h], s.l[h]) == 0 && _mm512_cmpeq_epi32_mask(mul[h], min) == 0;
    }
    s.plain = plain;
    for (std::size_t h = 0; h < 2; ++h) {
      if (plain) {
        const __m512i one64 = _mm512_set1_epi64(1);
        for (std::size_t q = 0; q < 2; ++q) {
          const __m512i e = q == 0 ? _mm512_and_si512(s.e[h], _mm512_set1_epi64(0xFFFFFFFF)) : _mm512_srli_epi64(s.e[h], 32);
          const __m512i half = _mm512_srli_epi64(_mm512_sllv_epi64(one64, e), 1);  // 2^(e-1), 0 for e = 0
          s.cn[h][q] = _mm512_add_epi64(_mm512_set1_epi64(std::int64_t{1} << 30), _mm512_slli_epi64(half, 31));
          s.dn[h][q] = _mm512_maskz_mov_epi64(_mm512_cmpgt_epi64_mask(e, _mm512_setzero_si512()),
                                              _mm512_set1_epi64(std::int64_t{1} << 31));
          s.sr[h][q] = _mm512_add_epi64(e, _mm512_set1_epi64(31));
        }
      } else {
        s.em[h] = _mm512_sub_epi32(_mm512_sllv_epi32(one, s.e[h]), one);
        s.th[h] = _mm512_srli_epi32(s.em[h], 1);
      }
    }
    s.zp = _mm512_set1_epi32(p.zero_point);
    s.lo = _mm_set1_epi8(static_cast<char>(p.act_min));
    s.hi = _mm_set1_epi8(static_cast<char>(p.act_max));
    s.store = nb >= NR ? ~__mmask32{0} : static_cast<__mmask32>((std::uint32_t{1} << nb) - 1);
    return s;
  }

  /// MBQM(x) + zero point on 16 lanes, bit-exact with fixedpoint::mbqm32.
  /// Plain blocks (shift <= 0, multiplier != INT32_MIN) in one rounding step: with P = x * m + 2^30
  /// (64 bits), SRDHM is floor(P / 2^31) and RoundingDivideByPOT by e is
  /// floor((r + 2^(e-1) - [r < 0]) / 2^e) for e >= 1 (r itself for e = 0), and [r < 0] = [P < 0];
  /// floor(floor(y / a) / b) = floor(y / ab) makes that floor((P + 2^(e-1) * 2^31 - [P < 0] * 2^31)
  /// / 2^(31 + e)): VPMULDQ, VPCMPQ, VPADDQ, masked VPSUBQ, VPSRAVQ per 8 lanes (|P| < 2^63).
  /// Other blocks: the two-step form of simd/xsimd_bridge.hpp (left shift, saturating SRDHM, then
  /// the rounding shift).
  template <bool Plain>
  [[gnu::always_inline]] static inline __m512i requant(__m512i x, const stage_regs& s, std::size_t h) noexcept {
    if constexpr (Plain) {
      const __m512i lim = _mm512_set1_epi64(-(std::int64_t{1} << 30));  // P < 0 <=> x * m < -2^30
      __m512i pe = _mm512_mul_epi32(x, s.me[h]);
      __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), s.mo[h]);
      const __mmask8 ne = _mm512_cmplt_epi64_mask(pe, lim), no = _mm512_cmplt_epi64_mask(po, lim);
      pe = _mm512_add_epi64(pe, s.cn[h][0]);
      po = _mm512_add_epi64(po, s.cn[h][1]);
      pe = _mm512_srav_epi64(_mm512_mask_sub_epi64(pe, ne, pe, s.dn[h][0]), s.sr[h][0]);
      po = _mm512_srav_epi64(_mm512_mask_sub_epi64(po, no, po, s.dn[h][1]), s.sr[h][1]);
      // Odd lanes take the low half of po's 64-bit lanes.
      return _mm512_add_epi32(_mm512_mask_shuffle_epi32(pe, 0xAAAA, po, _MM_PERM_CCAA), s.zp);
    } else {
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
  }

  template <bool Plain>
  static void store_rows(std::size_t rows, const std::int32_t (*t)[NR], std::int8_t* c, std::size_t c_stride,
                         const stage_regs& s) noexcept {
    for (std::size_t r = 0; r < rows; ++r, c += c_stride) {
      __m128i b[2];
      for (std::size_t h = 0; h < 2; ++h) {
        const __m512i y = requant<Plain>(_mm512_load_si512(t[r] + h * L), s, h);
        b[h] = _mm_min_epi8(_mm_max_epi8(_mm512_cvtsepi32_epi8(y), s.lo), s.hi);
      }
      _mm256_mask_storeu_epi8(c, s.store, _mm256_inserti128_si256(_mm256_castsi128_si256(b[0]), b[1], 1));
    }
  }

  /// Output stage of `rows` rows x one block from the int32 sums t[r][0..NR). Out of line: its
  /// constants stay out of the k loop's registers.
  template <class Q>
  [[gnu::noinline]] static void epilogue(std::size_t rows, const std::int32_t (*t)[NR], std::size_t n0, std::size_t nb,
                                         std::int8_t* c, std::size_t c_stride, const output_stage<Q>& p) noexcept {
    const stage_regs s = load_stage(n0, nb, p);
    if (s.plain) store_rows<true>(rows, t, c, c_stride, s);
    else store_rows<false>(rows, t, c, c_stride, s);
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

  /// rows (2..8) x blocks [j0, j1); cb: tile_bias of each block of the panel.
  /// The activations are flipped to unsigned once per row tile (per KW chunk and block when
  /// k > KW) into a stack buffer; the weights stay signed and are used as loaded.
  template <class Q>
  static void tile(std::size_t rows, std::size_t n, std::size_t k, const std::int8_t* a0, std::size_t a_stride,
                   const std::uint8_t* pw, std::size_t block, std::size_t j0, std::size_t j1, const std::int32_t* cb,
                   const std::int32_t* ro, std::int8_t* c0, std::size_t c_stride, const output_stage<Q>& p) noexcept {
    // Row clamping: a missing row reads the last valid row (and is never stored).
    const std::int8_t* ar[MR];
    std::int32_t rb[MR];
    for (std::size_t r = 0; r < MR; ++r) {
      ar[r] = r < rows ? a0 + r * a_stride : ar[r - 1];
      rb[r] = ro ? ro[r < rows ? r : rows - 1] : 0;
    }
    alignas(64) std::uint8_t ab[MR * KW];
    auto flip = [&](std::size_t k0, std::size_t kc) noexcept {
      for (std::size_t r = 0; r < MR; ++r) flip_row(ab + r * KW, ar[r] + k0, kc);
    };
    const bool one_chunk = k <= KW;
    if (one_chunk) flip(0, k);
    for (std::size_t j = j0; j < j1; ++j) {
      const auto* w = reinterpret_cast<const std::int8_t*>(pw + j * block + NR * sizeof(std::int32_t));
      const __m512i b0 = _mm512_load_si512(cb + (j - j0) * NR), b1 = _mm512_load_si512(cb + (j - j0) * NR + L);
      __m512i c00 = _mm512_add_epi32(b0, _mm512_set1_epi32(rb[0])), c01 = _mm512_add_epi32(b1, _mm512_set1_epi32(rb[0]));
      __m512i c10 = _mm512_add_epi32(b0, _mm512_set1_epi32(rb[1])), c11 = _mm512_add_epi32(b1, _mm512_set1_epi32(rb[1]));
      __m512i c20 = _mm512_add_epi32(b0, _mm512_set1_epi32(rb[2])), c21 = _mm512_add_epi32(b1, _mm512_set1_epi32(rb[2]));
      __m512i c30 = _mm512_add_epi32(b0, _mm512_set1_epi32(rb[3])), c31 = _mm512_add_epi32(b1, _mm512_set1_epi32(rb[3]));
      __m512i c40 = _mm512_add_epi32(b0, _mm512_set1_epi32(rb[4])), c41 = _mm512_add_epi32(b1, _mm512_set1_epi32(rb[4]));
      __m512i c50 = _mm512_add_epi32(b0, _mm512_set1_epi32(rb[5])), c51 = _mm512_add_epi32(b1, _mm512_set1_epi32(rb[5]));
      __m512i c60 = _mm512_add_epi32(b0, _mm512_set1_epi32(rb[6])), c61 = _mm512_add_epi32(b1, _mm512_set1_epi32(rb[6]));
      __m512i c70 = _mm512_add_epi32(b0, _mm512_set1_epi32(rb[7])), c71 = _mm512_add_epi32(b1, _mm512_set1_epi32(rb[7]));
      for (std::size_t k0 = 0; k0 < k; k0 += KW) {
        const std::size_t kc = std::min(KW, k - k0);
        if (!one_chunk) flip(k0, kc);
        const std::uint8_t* x = ab;
        const std::uint8_t* const xe = ab + ((kc + 3) & ~std::size_t{3});  // the packed weights end at kpad
        for (; x != xe; x += 4, w += 4 * NR) {
          const __m512i w0 = _mm512_loadu_si512(w), w1 = _mm512_loadu_si512(w + 4 * L);
          dot2s(c00, c01, w0, w1, bcast4(x));
          dot2s(c10, c11, w0, w1, bcast4(x + KW));
          dot2s(c20, c21, w0, w1, bcast4(x + 2 * KW));
          dot2s(c30, c31, w0, w1, bcast4(x + 3 * KW));
          dot2s(c40, c41, w0, w1, bcast4(x + 4 * KW));
          dot2s(c50, c51, w0, w1, bcast4(x + 5 * KW));
          dot2s(c60, c61, w0, w1, bcast4(x + 6 * KW));
          dot2s(c70, c71, w0, w1, bcast4(x + 7 * KW));
        }
      }
      alignas(64) std::int32_t t[MR][NR];
      _mm512_store_si512(t[0], c00), _mm512_store_si512(t[0] + L, c01);
      _mm512_store_si512(t[1], c10), _mm512_store_si512(t[1] + L, c11);
      _mm512_store_si512(t[2], c20), _mm512_store_si512(t[2] + L, c21);
      _mm512_store_si512(t[3], c30), _mm512_store_si512(t[3] + L, c31);
      _mm512_store_si512(t[4], c40), _mm512_store_si512(t[4] + L, c41);
      _mm512_store_si512(t[5], c50), _mm512_store_si512(t[5] + L, c51);
      _mm512_store_si512(t[6], c60), _mm512_store_si512(t[6] + L, c61);
      _mm512_store_si512(t[7], c70), _mm512_store_si512(t[7] + L, c71);
      epilogue(rows, t, j * NR, std::min(NR, n - j * NR), c0 + j * NR, c_stride, p);
    }
  }

  /// One row x blocks [j, j1), B blocks at a time (2B accumulators); returns the first block left.
  template <std::size_t B, class Q>
  static std::size_t row1_blocks(std::size_t n, std::size_t k, const std::int8_t* a0, const std::uint8_t* pw,
                                 std::size_t block, std::size_t j, std::size_t j1, std::int32_t rb,
                                 std::int8_t* c0, const output_stage<Q>& p) noexcept {
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
        epilogue(1, t + b, n0, std::min(NR, n - n0), c0 + n0, 0, p);
      }
    }
    return j;
  }

  /// One row x blocks [j0, j1) (GEMV).
  template <class Q>
  static void row1(std::size_t n, std::size_t k, const std::int8_t* a0, const std::uint8_t* pw, std::size_t block,
                   std::size_t j0, std::size_t j1, const std::int32_t* ro, std::int8_t* c0,
                   const output_stage<Q>& p) noexcept {
    const std::int32_t rb = row_base(a0, k, ro);
    const std::size_t j = row1_blocks<4>(n, k, a0, pw, block, j0, j1, rb, c0, p);
    row1_blocks<1>(n, k, a0, pw, block, j, j1, rb, c0, p);
  }
};

}  // namespace tessera::kernels

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

template <> struct tessera::ukernel<tessera::op::gemm_qs8, tessera::arch::avx512_vnni> {
  using type = tessera::kernels::gemm_qs8_8x32c4_avx512_vnni;
};
