/// @file gather_s8_kh4_avx512_vbmi.hpp
/// The conv panel gather's interior rows for 1-byte elements, by byte permutes (AVX-512 VBMI).
///
/// conv_gather.hpp's interior case writes `count` panel rows of K = kh * L bytes, row i made of
/// kh runs of L bytes: run ky from src + ky * src_ky + i * S (S = stride_w * in_c, L = kw * in_c).
/// With small L and S (first layers: 3x3 stride 2 on RGB has L = 9, S = 6, K = 27) copying run by
/// run costs about 6 cycles per row (three 9-byte copies). Here P consecutive rows (a group) take
/// their bytes from kh 64-byte windows, one per kernel row, starting at the group's first pixel:
/// each 64-byte vector of the group's P * K output bytes is one VPERMT2B over rows 0 and 1 and, for
/// kh 3-4, one more over rows 2 and 3 merged by a byte mask. The indices depend only on (L, S, kh)
/// and are built once per panel (`plan`).
///
/// Applies when kh <= 4 and P >= 2 windows fit one 64-byte load (S * (P - 1) + L <= 64).
/// Reads: each kernel row's 64-byte window, unmasked when it ends at or before `limit` (the end of
/// the image), masked to the bytes the group uses otherwise; nothing before `src`. Writes: exactly
/// count * K bytes at dst (the last vector of a group is stored whole only when the rows after it
/// in this call overwrite the excess). Stateless, noexcept, no allocation; the plan is the
/// caller's (about 1.1 KiB).
/// ISA: AVX-512 F/BW + VBMI (Zen 4, Ice Lake and later; not Skylake-X or Cascade Lake).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_AVX512_VBMI
#error "gather_s8_kh4_avx512_vbmi.hpp needs x86-64 AVX-512 with VBMI (TESSERA_HAS_AVX512_VBMI; e.g. -march=x86-64-v4 -mavx512vnni -mavx512vbmi)"
#endif

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <utility>

#include <tessera/arch/avx512/intrinsics_begin.hpp>

namespace tessera::kernels {

struct gather_s8_kh4_avx512_vbmi {
  static constexpr const char* name = "gather_s8_kh4_avx512_vbmi";
  static constexpr std::size_t max_vectors = 8;  ///< output vectors per group (P * K <= 512 bytes)

  /// Permute indices for one (L, S, kh): built by `make`; `pixels == 0` when it does not apply.
  struct plan {
    unsigned pixels = 0;   ///< P: panel rows per group
    unsigned vectors = 0;  ///< ceil(P * K / 64)
    unsigned kh = 0;
    std::size_t step = 0, run = 0, row = 0;  ///< S, L and K in bytes
    alignas(64) std::uint8_t lo[max_vectors][64];  ///< VPERMT2B indices over kernel rows 0 | 1
    alignas(64) std::uint8_t hi[max_vectors][64];  ///< over kernel rows 2 | 3
    std::uint64_t take_hi[max_vectors];            ///< bytes taken from rows 2-3
  };

  /// The plan for runs of `run` bytes, `step` bytes apart, `kh` runs per row. Picks P (2 up to the
  /// most windows one load holds) for the fewest loads, permutes and stores per row.
  static void make(plan& p, std::size_t run, std::size_t step, std::size_t kh) noexcept {
    p.pixels = 0;
    if (kh == 0 || kh > 4 || run == 0 || run > 64 || step == 0) return;
    const std::size_t row = kh * run, most = (64 - run) / step + 1;
    const std::size_t perms = kh > 2 ? 2 : 1;
    std::size_t best = 0, best_cost = 0;  // cost per row, x 1024
    for (std::size_t n = 2; n <= most && n * row <= 64 * max_vectors; ++n) {
      const std::size_t v = (n * row + 63) / 64, cost = (kh + v * (perms + 1)) * 1024 / n;
      if (best == 0 || cost < best_cost) best = n, best_cost = cost;
    }
    if (best == 0) return;
    p.pixels = static_cast<unsigned>(best);
    p.vectors = static_cast<unsigned>((best * row + 63) / 64);
    p.kh = static_cast<unsigned>(kh);
    p.step = step, p.run = run, p.row = row;
    for (unsigned v = 0; v < p.vectors; ++v) {
      p.take_hi[v] = 0;
      for (unsigned b = 0; b < 64; ++b) p.lo[v][b] = p.hi[v][b] = 0;
    }
    std::size_t t = 0;  // output byte within the group
    for (std::size_t i = 0; i < best; ++i)
      for (std::size_t ky = 0; ky < kh; ++ky)
        for (std::size_t x = 0; x < run; ++x, ++t) {
          const std::size_t v = t / 64, b = t % 64, s = i * step + x;  // s < 64
          if (ky < 2) {
            p.lo[v][b] = static_cast<std::uint8_t>(ky * 64 + s);
          } else {
            p.hi[v][b] = static_cast<std::uint8_t>((ky - 2) * 64 + s);
            p.take_hi[v] |= std::uint64_t{1} << b;
          }
        }
  }

  /// `count` panel rows at dst (K bytes apart). Kernel row ky of row i reads src[ky] + i * S, or is
  /// `fill` throughout when src[ky] is null (a kernel row in the padding). `avail`: bytes from each
  /// window start to the end of its input row; bytes past it read as `fill` (right padding).
  /// `limit`: the end of the image; no byte at or past it is read.
  static void run(const plan& p, std::int8_t* dst, const std::int8_t* const* src, std::int8_t fill, std::size_t count,
                  std::size_t avail, const std::int8_t* limit) noexcept {
    switch (p.kh) {
      case 1: return by_vectors<1>(p, dst, src, fill, count, avail, limit, std::make_integer_sequence<unsigned, max_vectors>{});
      case 2: return by_vectors<2>(p, dst, src, fill, count, avail, limit, std::make_integer_sequence<unsigned, max_vectors>{});
      case 3: return by_vectors<3>(p, dst, src, fill, count, avail, limit, std::make_integer_sequence<unsigned, max_vectors>{});
      default: return by_vectors<4>(p, dst, src, fill, count, avail, limit, std::make_integer_sequence<unsigned, max_vectors>{});
    }
  }

 private:
  static __mmask64 first(std::size_t n) noexcept { return n >= 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1; }

  template <unsigned KH, unsigned... NV>
  static void by_vectors(const plan& p, std::int8_t* dst, const std::int8_t* const* src, std::int8_t fill,
                         std::size_t count, std::size_t avail, const std::int8_t* limit,
                         std::integer_sequence<unsigned, NV...>) noexcept {
    using fn = void (*)(const plan&, std::int8_t*, const std::int8_t* const*, std::int8_t, std::size_t, std::size_t,
                        const std::int8_t*);
    static constexpr fn table[] = {&rows<KH, NV + 1>...};
    table[p.vectors - 1](p, dst, src, fill, count, avail, limit);
  }

  /// A kernel row's window of a group whose rows use `span` bytes of it, `avail` of them inside
  /// the input row (the rest is fill): a full load (fill blended in past `avail`) when the 64 bytes
  /// lie before `limit`, else a masked load.
  static __m512i window(const std::int8_t* s, std::size_t span, std::size_t avail, const std::int8_t* limit,
                        __m512i fill) noexcept {
    if (s == nullptr) return fill;
    const std::size_t valid = span < avail ? span : avail;
    if (limit - s >= 64) {
      const __m512i x = _mm512_loadu_si512(s);
      return avail >= 64 ? x : _mm512_mask_blend_epi8(first(avail), fill, x);
    }
    return _mm512_mask_loadu_epi8(fill, first(valid), s);
  }

  /// One output vector from the kernel rows' windows: VPERMT2B over rows 0 | 1, and for kh 3-4 the
  /// bytes of rows 2 | 3 merged by mask.
  template <unsigned KH>
  static __m512i merge(__m512i lo, __m512i hi, __mmask64 take_hi, __m512i r0, __m512i r1, __m512i r2,
                       __m512i r3) noexcept {
    __m512i x = _mm512_permutex2var_epi8(r0, lo, r1);
    if constexpr (KH == 3) x = _mm512_mask_permutexvar_epi8(x, take_hi, hi, r2);
    if constexpr (KH == 4) x = _mm512_mask_mov_epi8(x, take_hi, _mm512_permutex2var_epi8(r2, hi, r3));
    return x;
  }

  /// kh = KH, NV vectors per group: the plan's indices stay in registers. Whole groups first (full
  /// loads, whole stores; a kernel row in the padding reads a row of fill bytes), then the rest
  /// with masked loads and stores where they must be.
  template <unsigned KH, unsigned NV>
  static void rows(const plan& p, std::int8_t* dst, const std::int8_t* const* src, std::int8_t fill_value,
                   std::size_t count, std::size_t avail, const std::int8_t* limit) noexcept {
    __m512i lo[NV], hi[NV];
    __mmask64 take[NV];
    for (unsigned v = 0; v < NV; ++v) {
      lo[v] = _mm512_load_si512(p.lo[v]);
      hi[v] = KH > 2 ? _mm512_load_si512(p.hi[v]) : lo[v];
      take[v] = p.take_hi[v];
    }
    const std::size_t P = p.pixels, group_in = P * p.step, group_out = P * p.row;
    const __m512i fill = _mm512_set1_epi8(fill_value);
    alignas(64) std::int8_t fill_row[64];
    _mm512_store_si512(fill_row, fill);
    const std::int8_t* s[4] = {};
    std::size_t step[4] = {};
    std::size_t inside = avail;  // bytes the full loads may cover: to the row end and the image end
    for (unsigned ky = 0; ky < KH; ++ky) {
      s[ky] = src[ky] ? src[ky] : fill_row;
      step[ky] = src[ky] ? group_in : 0;
      if (src[ky] && static_cast<std::size_t>(limit - src[ky]) < inside) inside = static_cast<std::size_t>(limit - src[ky]);
    }
    // Whole groups: group g's windows end inside (64 + g * group_in <= inside) and the rows after
    // it in this call cover its last vector's excess.
    std::size_t groups = 0;
    if (count >= P && inside >= 64 && count * p.row >= std::size_t{NV} * 64)
      groups = std::min({count / P, (inside - 64) / group_in + 1, (count * p.row - std::size_t{NV} * 64) / group_out + 1});
    {
      const std::int8_t *s0 = s[0], *s1 = s[1], *s2 = s[2], *s3 = s[3];  // rows past kh: null, step 0, never loaded
      const std::size_t a0 = step[0], a1 = step[1], a2 = step[2], a3 = step[3];
      std::int8_t* d = dst;
      for (std::size_t g = 0; g < groups; ++g, d += group_out) {
        const __m512i r0 = _mm512_loadu_si512(s0);
        const __m512i r1 = KH > 1 ? _mm512_loadu_si512(s1) : r0;
        const __m512i r2 = KH > 2 ? _mm512_loadu_si512(s2) : r0;
        const __m512i r3 = KH > 3 ? _mm512_loadu_si512(s3) : r2;
        for (unsigned v = 0; v < NV; ++v) _mm512_storeu_si512(d + 64 * v, merge<KH>(lo[v], hi[v], take[v], r0, r1, r2, r3));
        s0 += a0, s1 += a1, s2 += a2, s3 += a3;
      }
    }
    dst += groups * group_out;
    avail -= groups * group_in;
    count -= groups * P;
    for (unsigned ky = 0; ky < KH; ++ky) s[ky] = src[ky] ? src[ky] + groups * group_in : nullptr;
    // The rest: a group that reaches the row's end or the image's, or the call's last rows.
    while (count != 0) {
      const std::size_t n = count < P ? count : P;
      const std::size_t span = (n - 1) * p.step + p.run, bytes = n * p.row, room = count * p.row;
      const __m512i r0 = window(s[0], span, avail, limit, fill);
      const __m512i r1 = KH > 1 ? window(s[1], span, avail, limit, fill) : r0;
      const __m512i r2 = KH > 2 ? window(s[2], span, avail, limit, fill) : r0;
      const __m512i r3 = KH > 3 ? window(s[3], span, avail, limit, fill) : r2;
      for (unsigned v = 0; v < NV; ++v) {
        const std::size_t at = std::size_t{v} * 64;
        if (at >= bytes) break;
        const __m512i x = merge<KH>(lo[v], hi[v], take[v], r0, r1, r2, r3);
        if (room - at >= 64) _mm512_storeu_si512(dst + at, x);
        else _mm512_mask_storeu_epi8(dst + at, first(room - at), x);
      }
      dst += bytes;
      count -= n;
      if (count == 0) break;
      avail -= group_in;
      for (unsigned ky = 0; ky < KH; ++ky)
        if (s[ky]) s[ky] += group_in;
    }
  }
};

}  // namespace tessera::kernels

#include <tessera/arch/avx512/intrinsics_end.hpp>
