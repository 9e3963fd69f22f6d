/// @file dwconv_qs8_2v_simd.hpp
/// int8 depthwise convolution (unipass, indirection buffer) with fused TFLite requantization on
/// xsimd (the `simd` tag), exact and wrapping like the scalar kernel (integer sums in any order).
///
/// Channel tile cr = 2v, v = int32 lanes of the xsimd arch (AVX2: 16 channels; Neon64: 8): packed
/// blocks (dwconv/op.hpp) of int32 bias'[2v], then int8 w[ks][2v]. Blocks are the outer loop and
/// pixels the inner one, so each block's weights and requantization parameters are prepared once
/// per call and stay in registers (or on the stack) across the pixels.
///
/// x86-64 AVX2 (the tuned path): taps go in pairs (t, t+1) (an odd last tap pairs with zeros).
/// Per block, the pair's weights are sign-extended (VPMOVSXBW) and interleaved per channel
/// (VPUNPCKLWD/HWD) once: int16 lanes (w_t[c], w_t+1[c]), in two vectors of 8 channels, "lo" =
/// channels 0-3 and 8-11, "hi" = 4-7 and 12-15 (AVX2 unpacks work per 128-bit half). Per pixel and
/// pair: 2 tap-pointer loads, 2 VPMOVSXBW loads of 16 inputs, 2 unpacks (the same interleave),
/// 2 VPMADDWD (x_t w_t + x_t+1 w_t+1 per channel: 32 MACs, every int16 lane used) and 2 VPADDD.
/// Epilogue per pixel (shared with dwconv3x3_qs8_2v_simd), parameters permuted to the lo/hi channel
/// order once per block. When every channel's shift is in [-23, -1] and |zero point| <= 255 (real
/// TFLite layers), fast_requant_lo_hi: MBQM + zero point as one int64 rounding per lane (VPMULDQ,
/// VBLENDVPD-chosen constant, VSHUFPS of the high dwords, VPSRAVD; exactness argued at
/// fast_requant), saturating packs to int8, clamp in int8. Otherwise requant_lo_hi: MBQM
/// (xsimd_bridge.hpp), + zero point, clamp in int32; VPACKSSDW of lo and hi restores the channel
/// order, VPACKSSWB of the two 128-bit halves gives the 16 output bytes (already clamped: exact).
/// ks = 9 and ks = 25 are compile-time specialisations (pairs unrolled, ks = 9's 5 weight pairs in
/// registers); any other ks up to 2 * kMaxPairs taps a run-time loop over the stacked pairs; above
/// that, the weights are widened per pixel (slower, same result).
///
/// Other ISAs (AArch64 Neon64): the portable path, even/odd channel split. The 2v channels of a tap
/// widen into one int16 batch; madd_s8 (Neon MUL + SADALP) takes the weights twice, masked (odd
/// lanes zeroed: even channels; even lanes zeroed: odd channels), into two int32 accumulators;
/// the even and odd results are merged into one int32 lane per channel pair, (odd << 8) | (even &
/// 0xFF), whose low 16 bits store_narrow<int16_t> writes: the 2v output bytes in channel order.
/// ISA: x86-64 AVX2+FMA (xsimd fma3<avx2>) or AArch64 Neon (xsimd neon64).
/// Tails: the last block with nb < 2v channels reads each tap's nb inputs through a zeroed stack
/// bounce buffer and writes its nb outputs from one; per-channel parameters are read only for
/// channels < `channels`.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SIMD
#error "dwconv_qs8_2v_simd.hpp needs the simd tag (TESSERA_USE_XSIMD=1 and AVX2+FMA on x86-64 or Neon on AArch64)"
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <tessera/arch/simd/dot.hpp>
#include <tessera/arch/simd/xsimd_bridge.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct dwconv3x3_qs8_2v_simd;  // the 3x3 and 5x5 row kernels on these blocks share the helpers below (friends)
struct dwconv5x5_qs8_4x2v_simd;

struct dwconv_qs8_2v_simd {
  using arch = tessera::arch::simd;
  static constexpr const char* name = "dwconv_qs8_2v_simd";

 private:
  using i32 = tessera::arch::simd_ops::i32;
  using i16 = tessera::arch::simd_ops::i16;
  static constexpr std::size_t L = i32::size;   // int32 lanes = channel pairs per block
  static constexpr std::size_t CR = i16::size;  // channels per block (= 2L)

 public:
  /// Channels per packed block.
  static std::size_t cr() noexcept { return CR; }

  /// out[p][c] = requant(bias'[c] + sum_t in[p * in_step + t][c] * w[t][c]) (wrapping int32).
  /// @param[in]  in      pixels * in_step tap pointers (each to `channels` int8 values, or the zero row)
  /// @param[in]  packed  pack_dw<int32_t, int8_t>(channels, ks, cr(), ...) output, 4-byte aligned
  /// @param[out] out     pixel p's `channels` outputs at out + p * out_stride
  template <class Q>
  static void run(std::size_t channels, std::size_t pixels, std::size_t ks, const std::int8_t* const* in,
                  std::size_t in_step, const void* packed, std::int8_t* out, std::size_t out_stride,
                  const output_stage<Q>& p) noexcept {
    dispatch_taps(ks, [&](auto taps) { run_ks<decltype(taps)::value>(channels, pixels, ks, in, in_step, packed, out, out_stride, p); });
  }

 private:
  friend struct dwconv3x3_qs8_2v_simd;
  friend struct dwconv5x5_qs8_4x2v_simd;
#if defined(__x86_64__)
  static constexpr std::size_t kMaxPairs = 13;  // tap pairs kept on the stack per block (ks <= 26)

  /// Sign-extended weights of taps (t, t + 1) of the block at w (t + 1 == ks: zeros), interleaved
  /// per channel: lo = channels 0-3, 8-11, hi = 4-7, 12-15.
  static void weight_pair(const std::int8_t* w, std::size_t t, std::size_t ks, __m256i& lo, __m256i& hi) noexcept {
    const __m256i a = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + CR * t)));
    const __m256i b = t + 1 < ks ? _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + CR * (t + 1))))
                                 : _mm256_setzero_si256();
    lo = _mm256_unpacklo_epi16(a, b);
    hi = _mm256_unpackhi_epi16(a, b);
  }

  /// int32 v[0..7], v[8..15] in the lo / hi channel order.
  static void split_lo_hi(const std::int32_t* v, __m256i& lo, __m256i& hi) noexcept {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + 8));
    lo = _mm256_permute2x128_si256(a, b, 0x20);
    hi = _mm256_permute2x128_si256(a, b, 0x31);
  }

  /// The 16 int8 outputs, in channel order, of the lo / hi accumulators: MBQM per lane (parameters
  /// in the lo / hi order), + zero point, clamp in int32; VPACKSSDW of lo and hi restores the channel
  /// order, VPACKSSWB of the two 128-bit halves gives the bytes (already clamped: the packs are exact).
  static __m128i requant_lo_hi(__m256i a_lo, __m256i a_hi, i32 m_lo, i32 m_hi, i32 s_lo, i32 s_hi, i32 zp, i32 lo,
                               i32 hi) noexcept {
    namespace ops = tessera::arch::simd_ops;
    const i32 r_lo = xsimd::min(xsimd::max(ops::mbqm(i32(a_lo), m_lo, s_lo) + zp, lo), hi);
    const i32 r_hi = xsimd::min(xsimd::max(ops::mbqm(i32(a_hi), m_hi, s_hi) + zp, lo), hi);
    const __m256i h = _mm256_packs_epi32(r_lo, r_hi);  // int16, channels 0-7 | 8-15
    return _mm_packs_epi16(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  }

  static constexpr int kMinFastShift = -23;  // fast epilogue: shift in [-23, -1], |zp| <= 255 (no int64 overflow)

  /// The fast epilogue's per-block constants, per half h (lo, hi): multipliers of the even / odd
  /// lanes (low dwords), C for P >= 0 / P < 0 of the even and odd lanes (see fast_requant), and
  /// e - 1 in the VSHUFPS lane order (0, 2, 1, 3) of every 128 bits.
  struct fast_consts {
    __m256i m_e[2], m_o[2], cp_e[2], cn_e[2], cp_o[2], cn_o[2], sh[2];
  };

  /// Fills `k` from the lo / hi multipliers and shifts; false (k unset) unless every lane's shift is
  /// in [kMinFastShift, -1] and |zp| <= 255, where the fast epilogue is exact.
  static bool fast_prepare(const __m256i (&m)[2], const __m256i (&s)[2], std::int32_t zp, fast_consts& k) noexcept {
    const __m256i neg1 = _mm256_set1_epi32(-1), lim = _mm256_set1_epi32(kMinFastShift - 1);
    const __m256i ok = _mm256_and_si256(_mm256_and_si256(_mm256_cmpgt_epi32(neg1, s[0]), _mm256_cmpgt_epi32(s[0], lim)),
                                        _mm256_and_si256(_mm256_cmpgt_epi32(neg1, s[1]), _mm256_cmpgt_epi32(s[1], lim)));
    if (_mm256_movemask_epi8(ok) != -1 || zp < -255 || zp > 255) return false;
    // C = 2^30 + 2^(e+30) + zp 2^(31+e) = 2^30 + (2^30 + zp 2^31) << e; for P < 0, C - 2^31.
    const __m256i kk = _mm256_set1_epi64x((std::int64_t{1} << 30) + zp * (std::int64_t{1} << 31));
    const __m256i base = _mm256_set1_epi64x(std::int64_t{1} << 30), half = _mm256_set1_epi64x(std::int64_t{1} << 31);
    const __m256i lo32 = _mm256_set1_epi64x(0xFFFFFFFF);
    for (int h = 0; h < 2; ++h) {
      const __m256i e = _mm256_sub_epi32(_mm256_setzero_si256(), s[h]);  // 1..23
      k.m_e[h] = m[h];
      k.m_o[h] = _mm256_srli_epi64(m[h], 32);
      k.cp_e[h] = _mm256_add_epi64(base, _mm256_sllv_epi64(kk, _mm256_and_si256(e, lo32)));
      k.cn_e[h] = _mm256_sub_epi64(k.cp_e[h], half);
      k.cp_o[h] = _mm256_add_epi64(base, _mm256_sllv_epi64(kk, _mm256_srli_epi64(e, 32)));
      k.cn_o[h] = _mm256_sub_epi64(k.cp_o[h], half);
      k.sh[h] = _mm256_sub_epi32(_mm256_shuffle_epi32(e, _MM_SHUFFLE(3, 1, 2, 0)), _mm256_set1_epi32(1));
    }
    return true;
  }

  /// MBQM(a) + zp for the 8 lanes of half h, in the lane order (0, 2, 1, 3) per 128 bits.
  /// Why it is exact: with P = a m (int64, |P| <= 2^62), SRDHM is y = floor((P + 2^30) / 2^31)
  /// (its one saturating case, a = m = INT32_MIN, gives the same final result below for e >= 1) and
  /// RDPOT(y, e) = floor((y + 2^(e-1) - [y < 0]) / 2^e) (round half away from zero). Nested floors
  /// by powers of two merge: z = floor((P + 2^30 + (2^(e-1) - [y < 0]) 2^31) / 2^(31+e)), and
  /// z + zp adds zp 2^(31+e) to the numerator. [y < 0] = [P + 2^30 < 0] may be replaced by [P < 0]
  /// (VBLENDVPD on P's sign picks C): they differ only for P in [-2^30, 0), where y = 0 and z = 0,
  /// and there the numerator with [P < 0] = 1 lies in [2^(e+30) - 2^31, 2^(e+30) - 2^30), inside
  /// [0, 2^(31+e)) for e >= 1: also 0. |numerator| < 2^62 + 2^61 for e <= 23 and |zp| <= 255, so
  /// int64 never overflows; its floor division by 2^(31+e) is the high dword (VSHUFPS gathers them)
  /// shifted arithmetically by e - 1.
  static __m256i fast_requant(__m256i a, const fast_consts& k, int h) noexcept {
    const __m256i pe = _mm256_mul_epi32(a, k.m_e[h]);
    const __m256i po = _mm256_mul_epi32(_mm256_srli_epi64(a, 32), k.m_o[h]);
    auto pick = [](__m256i cp, __m256i cn, __m256i prod) {
      return _mm256_castpd_si256(
          _mm256_blendv_pd(_mm256_castsi256_pd(cp), _mm256_castsi256_pd(cn), _mm256_castsi256_pd(prod)));
    };
    const __m256i re = _mm256_add_epi64(pe, pick(k.cp_e[h], k.cn_e[h], pe));
    const __m256i ro = _mm256_add_epi64(po, pick(k.cp_o[h], k.cn_o[h], po));
    const __m256i hi = _mm256_castps_si256(
        _mm256_shuffle_ps(_mm256_castsi256_ps(re), _mm256_castsi256_ps(ro), _MM_SHUFFLE(3, 1, 3, 1)));
    return _mm256_srav_epi32(hi, k.sh[h]);
  }

  /// requant_lo_hi by fast_requant (exact where fast_prepare accepted the block): saturating packs
  /// to int8, the clamp in int8 (exact: the bounds are int8), VPSHUFB back to channel order.
  static __m128i fast_requant_lo_hi(__m256i a_lo, __m256i a_hi, const fast_consts& k, __m128i lo8, __m128i hi8) noexcept {
    const __m256i h = _mm256_packs_epi32(fast_requant(a_lo, k, 0), fast_requant(a_hi, k, 1));
    __m128i b = _mm_packs_epi16(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    b = _mm_min_epi8(_mm_max_epi8(b, lo8), hi8);
    return _mm_shuffle_epi8(b, _mm_setr_epi8(0, 2, 1, 3, 4, 6, 5, 7, 8, 10, 9, 11, 12, 14, 13, 15));
  }

  // ---- shared by the row kernels (direct addressing, one block of 16 channels at a time) ----

  /// A block's output stage for the row kernels: the fast epilogue's constants where it applies,
  /// else MBQM's multipliers and shifts, both in the lo / hi lane order.
  struct row_stage {
    fast_consts fast;
    i32 m[2], s[2];
  };

  /// Fills `k` for channels [c0, c0 + nb) of q; returns whether the fast epilogue applies.
  template <class Q>
  static bool prepare_row_stage(std::size_t c0, std::size_t nb, const Q& q, std::int32_t zp, row_stage& k) noexcept {
    __m256i m[2], s[2];
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      (void)c0, (void)nb;
      m[0] = m[1] = _mm256_set1_epi32(q.multiplier);
      s[0] = s[1] = _mm256_set1_epi32(q.shift);
    } else {
      alignas(32) std::int32_t mb[CR], sb[CR];
      const std::int32_t* mp = q.multiplier + c0;
      const std::int32_t* sp = q.shift + c0;
      if (nb < CR) {  // padded channels: multiplier 0, shift -1 (any value the fast path takes)
        for (std::size_t j = 0; j < CR; ++j) mb[j] = j < nb ? mp[j] : 0, sb[j] = j < nb ? sp[j] : -1;
        mp = mb, sp = sb;
      }
      split_lo_hi(mp, m[0], m[1]);
      split_lo_hi(sp, s[0], s[1]);
    }
    k.m[0] = m[0], k.m[1] = m[1], k.s[0] = s[0], k.s[1] = s[1];
    return fast_prepare(m, s, zp, k.fast);
  }

  /// The 16 int8 outputs of one pixel (channel order) from its lo / hi sums.
  template <bool Fast>
  [[gnu::always_inline]] static inline __m128i row_requant(__m256i a_lo, __m256i a_hi, const row_stage& k, i32 zp,
                                                           i32 lo, i32 hi, __m128i lo8, __m128i hi8) noexcept {
    if constexpr (Fast) return fast_requant_lo_hi(a_lo, a_hi, k.fast, lo8, hi8);
    else return requant_lo_hi(a_lo, a_hi, k.m[0], k.m[1], k.s[0], k.s[1], zp, lo, hi);
  }

  /// Widened int16 inputs of one column of 16 channels (Tail: the first nb through a zeroed buffer).
  template <bool Tail>
  [[gnu::always_inline]] static inline __m256i row_load(const std::int8_t* x, [[maybe_unused]] std::size_t nb) noexcept {
    if constexpr (Tail) {
      alignas(16) std::int8_t b[CR] = {};
      std::memcpy(b, x, nb);
      return _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(b)));
    } else {
      return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x)));
    }
  }

  /// Stores one pixel's 16 outputs (Tail: the first nb through a buffer).
  template <bool Tail>
  [[gnu::always_inline]] static inline void row_store(std::int8_t* o, __m128i v, [[maybe_unused]] std::size_t nb) noexcept {
    if constexpr (Tail) {
      alignas(16) std::int8_t b[CR];
      _mm_store_si128(reinterpret_cast<__m128i*>(b), v);
      std::memcpy(o, b, nb);
    } else {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o), v);
    }
  }

  template <std::size_t KS, class Q>
  static void run_ks(std::size_t channels, std::size_t pixels, std::size_t ks_rt, const std::int8_t* const* in,
                     std::size_t in_step, const void* packed, std::int8_t* out, std::size_t out_stride,
                     const output_stage<Q>& p) noexcept {
    constexpr bool per_tensor = std::is_same_v<Q, requant::per_tensor>;
    const std::size_t ks = KS != 0 ? KS : ks_rt;
    const std::size_t pairs = (ks + 1) / 2;
    const bool stacked = pairs <= kMaxPairs;
    const std::size_t block = packed_dw_block_bytes(CR, ks, sizeof(std::int32_t), sizeof(std::int8_t));
    // Parameters in locals: the int8 stores may alias anything, so p's members would be reloaded.
    const i32 zp(p.zero_point), lo(p.act_min), hi(p.act_max);
    const __m128i lo8 = _mm_set1_epi8(static_cast<char>(p.act_min)), hi8 = _mm_set1_epi8(static_cast<char>(p.act_max));
    const std::int32_t zps = p.zero_point;
    const auto q = p.q;
    const __m256i zero = _mm256_setzero_si256();

    const auto* blk = static_cast<const std::uint8_t*>(packed);
    for (std::size_t c0 = 0; c0 < channels; c0 += CR, blk += block) {
      const std::size_t nb = channels - c0 < CR ? channels - c0 : CR;
      const auto* w = reinterpret_cast<const std::int8_t*>(blk + CR * sizeof(std::int32_t));
      __m256i b_lo, b_hi;
      split_lo_hi(reinterpret_cast<const std::int32_t*>(blk), b_lo, b_hi);
      i32 m_lo, m_hi, s_lo, s_hi;
      if constexpr (per_tensor) {
        m_lo = m_hi = i32(q.multiplier);
        s_lo = s_hi = i32(q.shift);
      } else {
        alignas(32) std::int32_t mb[CR] = {}, sb[CR];
        const std::int32_t* mp = q.multiplier + c0;
        const std::int32_t* sp = q.shift + c0;
        if (nb < CR) {  // padded channels: multiplier 0, shift -1 (the fast epilogue takes it)
          for (std::size_t j = 0; j < CR; ++j) sb[j] = -1;
          for (std::size_t j = 0; j < nb; ++j) mb[j] = mp[j], sb[j] = sp[j];
          mp = mb, sp = sb;
        }
        __m256i t0, t1;
        split_lo_hi(mp, t0, t1), m_lo = t0, m_hi = t1;
        split_lo_hi(sp, t0, t1), s_lo = t0, s_hi = t1;
      }
      fast_consts fk;
      const bool fast = fast_prepare({m_lo, m_hi}, {s_lo, s_hi}, zps, fk);
      alignas(32) __m256i wl[kMaxPairs], wh[kMaxPairs];
      if (stacked) {
#pragma GCC unroll 13
        for (std::size_t k = 0; k < pairs; ++k) weight_pair(w, 2 * k, ks, wl[k], wh[k]);
      }
      for (std::size_t px = 0; px < pixels; ++px) {
        const std::int8_t* const* ip = in + px * in_step;
        __m256i a_lo = b_lo, a_hi = b_hi;
        alignas(16) std::int8_t xb[2][CR];
        auto load_x = [&](std::size_t t, int slot) noexcept {
          if (t >= ks) return zero;
          const std::int8_t* x = ip[t] + c0;
          if (nb < CR) {  // bounce the nb inputs through a zeroed buffer
            std::memset(xb[slot], 0, CR);
            std::memcpy(xb[slot], x, nb);
            x = xb[slot];
          }
          return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x)));
        };
#pragma GCC unroll 13
        for (std::size_t k = 0; k < pairs; ++k) {
          const __m256i xa = load_x(2 * k, 0), xc = load_x(2 * k + 1, 1);
          __m256i w_lo, w_hi;
          if (stacked) w_lo = wl[k], w_hi = wh[k];
          else weight_pair(w, 2 * k, ks, w_lo, w_hi);
          a_lo = _mm256_add_epi32(a_lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(xa, xc), w_lo));
          a_hi = _mm256_add_epi32(a_hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(xa, xc), w_hi));
        }
        const __m128i bytes = fast ? fast_requant_lo_hi(a_lo, a_hi, fk, lo8, hi8)
                                   : requant_lo_hi(a_lo, a_hi, m_lo, m_hi, s_lo, s_hi, zp, lo, hi);
        std::int8_t* o = out + px * out_stride + c0;
        if (nb == CR) {
          _mm_storeu_si128(reinterpret_cast<__m128i*>(o), bytes);
        } else {
          alignas(16) std::int8_t ob[CR];
          _mm_store_si128(reinterpret_cast<__m128i*>(ob), bytes);
          std::memcpy(o, ob, nb);
        }
      }
    }
  }
#else
  template <std::size_t KS, class Q>
  static void run_ks(std::size_t channels, std::size_t pixels, std::size_t ks_rt, const std::int8_t* const* in,
                     std::size_t in_step, const void* packed, std::int8_t* out, std::size_t out_stride,
                     const output_stage<Q>& p) noexcept {
    namespace ops = tessera::arch::simd_ops;
    constexpr bool per_tensor = std::is_same_v<Q, requant::per_tensor>;
    const std::size_t ks = KS != 0 ? KS : ks_rt;
    const std::size_t block = packed_dw_block_bytes(CR, ks, sizeof(std::int32_t), sizeof(std::int8_t));
    // Parameters in locals: the int8 stores may alias anything, so p's members would be reloaded.
    const i32 zp(p.zero_point), lo(p.act_min), hi(p.act_max), byte(0xFF);
    const auto q = p.q;
    alignas(64) std::int16_t mask_e[CR];
    for (std::size_t j = 0; j < CR; ++j) mask_e[j] = j % 2 == 0 ? std::int16_t{-1} : std::int16_t{0};
    const i16 me = i16::load_aligned(mask_e), mo = ~me;

    const auto* blk = static_cast<const std::uint8_t*>(packed);
    for (std::size_t c0 = 0; c0 < channels; c0 += CR, blk += block) {
      const std::size_t nb = channels - c0 < CR ? channels - c0 : CR;
      const auto* bias = reinterpret_cast<const std::int32_t*>(blk);
      const auto* w = reinterpret_cast<const std::int8_t*>(blk + CR * sizeof(std::int32_t));
      // Even / odd channel split of the block's parameters (padded channels: 0).
      alignas(64) std::int32_t pe[3][L] = {}, po[3][L] = {};
      for (std::size_t i = 0; i < L; ++i) {
        pe[0][i] = bias[2 * i], po[0][i] = bias[2 * i + 1];
        if constexpr (!per_tensor) {
          if (2 * i < nb) pe[1][i] = q.multiplier[c0 + 2 * i], pe[2][i] = q.shift[c0 + 2 * i];
          if (2 * i + 1 < nb) po[1][i] = q.multiplier[c0 + 2 * i + 1], po[2][i] = q.shift[c0 + 2 * i + 1];
        }
      }
      const i32 be = i32::load_aligned(pe[0]), bo = i32::load_aligned(po[0]);
      i32 mue, muo, she, sho;
      if constexpr (per_tensor) {
        mue = muo = i32(q.multiplier);
        she = sho = i32(q.shift);
      } else {
        mue = i32::load_aligned(pe[1]), muo = i32::load_aligned(po[1]);
        she = i32::load_aligned(pe[2]), sho = i32::load_aligned(po[2]);
      }
      for (std::size_t px = 0; px < pixels; ++px) {
        const std::int8_t* const* ip = in + px * in_step;
        std::int8_t* o = out + px * out_stride + c0;
        i32 ae = be, ao = bo;
        if (nb == CR) {
#pragma GCC unroll 32
          for (std::size_t t = 0; t < ks; ++t) {
            const i16 x = ops::load_widen_s8(ip[t] + c0), wv = ops::load_widen_s8(w + CR * t);
            ae = ops::madd_s8(ae, x, wv & me);
            ao = ops::madd_s8(ao, x, wv & mo);
          }
        } else {
          for (std::size_t t = 0; t < ks; ++t) {
            alignas(64) std::int8_t xb[CR] = {};
            std::memcpy(xb, ip[t] + c0, nb);
            const i16 x = ops::load_widen_s8(xb), wv = ops::load_widen_s8(w + CR * t);
            ae = ops::madd_s8(ae, x, wv & me);
            ao = ops::madd_s8(ao, x, wv & mo);
          }
        }
        ae = xsimd::min(xsimd::max(ops::mbqm(ae, mue, she) + zp, lo), hi);
        ao = xsimd::min(xsimd::max(ops::mbqm(ao, muo, sho) + zp, lo), hi);
        const i32 merged = (ao << 8) | (ae & byte);  // int16 lane i: bytes of channels 2i, 2i+1
        alignas(64) std::int16_t ob[L];
        ops::store_narrow(ob, merged);
        std::memcpy(o, ob, nb == CR ? CR : nb);
      }
    }
  }
#endif
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv_qs8, tessera::arch::simd> {
  using type = tessera::kernels::dwconv_qs8_2v_simd;
};
