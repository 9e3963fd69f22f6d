/// @file gather_s8_kh4_neon_tbl.hpp
/// The conv panel gather's interior rows for 1-byte elements, by byte table lookups (AArch64 Neon TBL).
///
/// conv_gather.hpp's interior case writes `count` panel rows of K = kh * L bytes, row i made of
/// kh runs of L bytes: run ky from src + ky * src_ky + i * S (S = stride_w * in_c, L = kw * in_c).
/// First layers have short runs (person detection's 3x3 stride 2 on one channel: L = 3, S = 2,
/// K = 9), so copying run by run costs several instructions per 3-9 bytes. Here P consecutive
/// rows (a group) take their bytes from kh windows of W = 16 * Q bytes, one per kernel row,
/// starting at the group's first pixel: the kh * Q window registers form one TBL table (at most
/// four registers: kh <= 4 with Q = 1, kh <= 2 with Q = 2, kh = 1 with Q = 4), and each 16-byte
/// vector of the group's P * K output bytes is one TBL (vqtbl1q..vqtbl4q_s8). The indices depend
/// only on (L, S, kh) and are built once per convolution (`plan`; make picks Q and P by a cost
/// model). Person detection: 7 rows (63 bytes) from 3 loads, 4 TBL3 and two STP of q-register
/// pairs, 16 instructions with the pointer steps and the loop; the layer's whole gather takes
/// 10.2 instructions per output pixel against 41.9 by run copies (QEMU counts, GCC 12).
///
/// Applies when kh <= 4 and P >= 2 windows of L bytes, S apart, fit one window
/// (S * (P - 1) + L <= W). Reads: only bytes in [src[ky], limit) (`limit`: the end of the image;
/// Neon has no masked loads, so windows that would pass it are copied into a stack buffer first),
/// nothing before src[ky]. Writes: exactly count * K bytes at dst (a group's stores pass its rows
/// only where the rows after it in this call overwrite the excess; the call's last vector is the
/// 16 bytes that end at its last byte, overlapping the one before, or, under 16 bytes in all,
/// stored in 8/4/2/1-byte pieces). Stateless, noexcept, no allocation; the plan is the caller's
/// (176 bytes).
/// ISA: AArch64 Advanced SIMD (every AArch64 core).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_NEON
#error "gather_s8_kh4_neon_tbl.hpp needs AArch64 Neon (TESSERA_HAS_NEON)"
#endif

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <algorithm>
#include <type_traits>
#include <utility>

namespace tessera::kernels {

struct gather_s8_kh4_neon_tbl {
  static constexpr const char* name = "gather_s8_kh4_neon_tbl";
  static constexpr std::size_t max_vectors = 8;  ///< output vectors per group (P * K <= 128 bytes)

  /// TBL indices for one (L, S, kh): built by `make`; `pixels == 0` when it does not apply.
  struct plan {
    unsigned pixels = 0;   ///< P: panel rows per group
    unsigned vectors = 0;  ///< ceil(P * K / 16)
    unsigned kh = 0;
    unsigned regs = 0;                       ///< Q: 16-byte registers per kernel row's window
    std::size_t step = 0, run = 0, row = 0;  ///< S, L and K in bytes
    /// TBL indices of the group's output bytes (16 per vector): kernel row ky, window byte s -> ky * 16Q + s.
    alignas(16) std::uint8_t idx[max_vectors * 16];
  };

  /// The plan for runs of `run` bytes, `step` bytes apart, `kh` runs per row. Picks Q (window
  /// registers per kernel row, kh * Q <= 4) and P (2 up to the most windows one window holds) for
  /// the fewest instructions per row: kh loads and pointer steps, one TBL per 16 output bytes, a
  /// store term of one per 64 bytes (the loop stores STP pairs, one per 32: the term only breaks
  /// near-ties), and the loop's compare and branch.
  static void make(plan& p, std::size_t run, std::size_t step, std::size_t kh) noexcept {
    p.pixels = 0;
    if (kh == 0 || kh > 4 || run == 0 || step == 0) return;
    const std::size_t row = kh * run;
    std::size_t best = 0, best_q = 0, best_cost = 0;  // cost per row, x 1024
    for (std::size_t q = 1; q * kh <= 4; q = q == 1 ? 2 : q + 2) {
      const std::size_t w = 16 * q;
      if (run > w) continue;
      const std::size_t most = (w - run) / step + 1;
      for (std::size_t n = 2; n <= most && n * row <= 16 * max_vectors; ++n) {
        const std::size_t v = (n * row + 15) / 16;
        const std::size_t cost = (2 * kh + v + (v + 3) / 4 + 3) * 1024 / n;
        if (best == 0 || cost < best_cost) best = n, best_q = q, best_cost = cost;
      }
    }
    if (best == 0) return;
    p.pixels = static_cast<unsigned>(best);
    p.vectors = static_cast<unsigned>((best * row + 15) / 16);
    p.kh = static_cast<unsigned>(kh);
    p.regs = static_cast<unsigned>(best_q);
    p.step = step, p.run = run, p.row = row;
    for (std::size_t b = 0; b < max_vectors * 16; ++b) p.idx[b] = 0;
    std::size_t t = 0;  // output byte within the group
    for (std::size_t i = 0; i < best; ++i)
      for (std::size_t ky = 0; ky < kh; ++ky)
        for (std::size_t x = 0; x < run; ++x, ++t)
          p.idx[t] = static_cast<std::uint8_t>(ky * 16 * best_q + i * step + x);
  }

  /// `count` panel rows at dst (K bytes apart). Kernel row ky of row i reads src[ky] + i * S, or is
  /// `fill` throughout when src[ky] is null (a kernel row in the padding). `avail`: bytes from each
  /// window start to the end of its input row; bytes past it read as `fill` (right padding).
  /// `limit`: the end of the image; no byte at or past it is read.
  static void run(const plan& p, std::int8_t* dst, const std::int8_t* const* src, std::int8_t fill, std::size_t count,
                  std::size_t avail, const std::int8_t* limit) noexcept {
    switch (p.kh * 4 + p.regs) {
      case 1 * 4 + 1: return by_vectors<1, 1>(p, dst, src, fill, count, avail, limit, seq{});
      case 1 * 4 + 2: return by_vectors<1, 2>(p, dst, src, fill, count, avail, limit, seq{});
      case 1 * 4 + 4: return by_vectors<1, 4>(p, dst, src, fill, count, avail, limit, seq{});
      case 2 * 4 + 1: return by_vectors<2, 1>(p, dst, src, fill, count, avail, limit, seq{});
      case 2 * 4 + 2: return by_vectors<2, 2>(p, dst, src, fill, count, avail, limit, seq{});
      case 3 * 4 + 1: return by_vectors<3, 1>(p, dst, src, fill, count, avail, limit, seq{});
      default: return by_vectors<4, 1>(p, dst, src, fill, count, avail, limit, seq{});
    }
  }

 private:
  using seq = std::make_integer_sequence<unsigned, max_vectors>;

  template <unsigned KH, unsigned Q, unsigned... NV>
  static void by_vectors(const plan& p, std::int8_t* dst, const std::int8_t* const* src, std::int8_t fill,
                         std::size_t count, std::size_t avail, const std::int8_t* limit,
                         std::integer_sequence<unsigned, NV...>) noexcept {
    using fn = void (*)(const plan&, std::int8_t*, const std::int8_t* const*, std::int8_t, std::size_t, std::size_t,
                        const std::int8_t*);
    static constexpr fn table[] = {&rows<KH, Q, NV + 1>...};
    table[p.vectors - 1](p, dst, src, fill, count, avail, limit);
  }

  /// A group's table (int8x16_t, int8x16x2/3/4_t): KH windows of Q registers at s0..s3 (W bytes
  /// readable at each), loaded straight into the one table value each TBL of the group takes.
  template <unsigned KH, unsigned Q>
  static auto load_table(const std::int8_t* s0, const std::int8_t* s1, const std::int8_t* s2,
                         const std::int8_t* s3) noexcept {
    if constexpr (KH * Q == 1) {
      return vld1q_s8(s0);
    } else if constexpr (Q == 4) {
      return vld1q_s8_x4(s0);
    } else if constexpr (Q == 2 && KH == 1) {
      return vld1q_s8_x2(s0);
    } else if constexpr (Q == 2) {
      const int8x16x2_t a = vld1q_s8_x2(s0), b = vld1q_s8_x2(s1);
      return int8x16x4_t{{a.val[0], a.val[1], b.val[0], b.val[1]}};
    } else if constexpr (KH == 2) {
      return int8x16x2_t{{vld1q_s8(s0), vld1q_s8(s1)}};
    } else if constexpr (KH == 3) {
      return int8x16x3_t{{vld1q_s8(s0), vld1q_s8(s1), vld1q_s8(s2)}};
    } else {
      return int8x16x4_t{{vld1q_s8(s0), vld1q_s8(s1), vld1q_s8(s2), vld1q_s8(s3)}};
    }
  }

  static int8x16_t tbl(int8x16_t t, uint8x16_t i) noexcept { return vqtbl1q_s8(t, i); }
  static int8x16_t tbl(int8x16x2_t t, uint8x16_t i) noexcept { return vqtbl2q_s8(t, i); }
  static int8x16_t tbl(int8x16x3_t t, uint8x16_t i) noexcept { return vqtbl3q_s8(t, i); }
  static int8x16_t tbl(int8x16x4_t t, uint8x16_t i) noexcept { return vqtbl4q_s8(t, i); }

  /// The first n < 16 bytes of x to d, in 8/4/2/1-byte pieces.
  static void store_first(std::int8_t* d, int8x16_t x, std::size_t n) noexcept {
    if (n & 8) {
      const std::uint64_t u = vgetq_lane_u64(vreinterpretq_u64_s8(x), 0);
      std::memcpy(d, &u, 8);
      x = vextq_s8(x, x, 8), d += 8;
    }
    if (n & 4) {
      const std::uint32_t u = vgetq_lane_u32(vreinterpretq_u32_s8(x), 0);
      std::memcpy(d, &u, 4);
      x = vextq_s8(x, x, 4), d += 4;
    }
    if (n & 2) {
      const std::uint16_t u = vgetq_lane_u16(vreinterpretq_u16_s8(x), 0);
      std::memcpy(d, &u, 2);
      x = vextq_s8(x, x, 2), d += 2;
    }
    if (n & 1) *d = vgetq_lane_s8(x, 0);
  }

  /// Bytes [n, 16 * Q) of every window register in t (kernel row ky's registers ky * Q + j cover
  /// window bytes [16 j, 16 j + 16)) become `fill`: the right padding past the input row's end.
  /// A kernel row in the padding is fill throughout and stays so.
  template <unsigned Q, class Table>
  static void fill_from(Table& t, std::size_t n, int8x16_t fill) noexcept {
    const uint8x16_t iota = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    uint8x16_t keep[Q];
    for (unsigned j = 0; j < Q; ++j) {
      const std::size_t a = n > 16 * j ? n - 16 * j : 0;
      keep[j] = vcltq_u8(iota, vdupq_n_u8(static_cast<std::uint8_t>(a < 16 ? a : 16)));
    }
    if constexpr (std::is_same_v<Table, int8x16_t>) {
      t = vbslq_s8(keep[0], t, fill);
    } else {
      constexpr unsigned T = sizeof(Table) / sizeof(int8x16_t);
      for (unsigned k = 0; k < T; ++k) t.val[k] = vbslq_s8(keep[k % Q], t.val[k], fill);
    }
  }

  /// The image's last bytes (a window whose W bytes would pass `limit`; Neon has no masked loads):
  /// `valid` bytes of each kernel row's window copied into buf (W bytes per row, fill elsewhere),
  /// s[ky] pointed at them. Rare: out of line.
  template <unsigned KH, std::size_t W>
  [[gnu::noinline]] static void copy_windows(const std::int8_t** s, std::int8_t (*buf)[W], std::size_t valid,
                                             std::int8_t fill) noexcept {
    for (unsigned ky = 0; ky < KH; ++ky) {
      for (std::size_t b = 0; b < W; ++b) buf[ky][b] = fill;
      if (s[ky] == nullptr) {
        s[ky] = buf[ky];
        continue;
      }
      for (std::size_t b = 0; b < valid; ++b) buf[ky][b] = s[ky][b];
      s[ky] = buf[ky];
    }
  }

  /// kh = KH, Q registers per window, NV vectors per group: the plan's indices stay in registers.
  /// Whole groups first (direct loads, whole stores; a kernel row in the padding reads a buffer of
  /// fill bytes), then the rest: fill blended past the row end, the image's last windows copied
  /// (copy_windows), stores that stop at the call's last byte.
  template <unsigned KH, unsigned Q, unsigned NV>
  static void rows(const plan& p, std::int8_t* dst, const std::int8_t* const* src, std::int8_t fill_value,
                   std::size_t count, std::size_t avail, const std::int8_t* limit) noexcept {
    constexpr std::size_t W = 16 * Q;
    const std::size_t P = p.pixels, group_in = P * p.step, group_out = P * p.row;
    const std::size_t span = (P - 1) * p.step + p.run;  // bytes of a window a whole group uses
    const int8x16_t fill = vdupq_n_s8(fill_value);
    alignas(16) std::int8_t fill_row[W];
    for (unsigned j = 0; j < Q; ++j) vst1q_s8(fill_row + 16 * j, fill);
    const std::int8_t* const b0 = src[0];  // kernel rows' window starts, null in the padding
    const std::int8_t* const b1 = KH > 1 ? src[KH > 1 ? 1 : 0] : nullptr;
    const std::int8_t* const b2 = KH > 2 ? src[KH > 2 ? 2 : 0] : nullptr;
    const std::int8_t* const b3 = KH > 3 ? src[KH > 3 ? 3 : 0] : nullptr;
    std::size_t readable = ~std::size_t{0};  // bytes from the window starts to the image end
    for (const std::int8_t* b : {b0, b1, b2, b3})
      if (b) readable = std::min(readable, static_cast<std::size_t>(limit - b));
    // Whole groups: group g's rows lie inside the input row (g * group_in + span <= avail), its
    // windows before the image end (g * group_in + W <= readable), and the rows after it in this
    // call cover its last vector's excess (g * group_out + 16 NV <= count * K).
    std::size_t groups = 0;
    if (count >= P && avail >= span && readable >= W && count * p.row >= std::size_t{NV} * 16)
      groups = std::min({count / P, (avail - span) / group_in + 1, (readable - W) / group_in + 1,
                         (count * p.row - std::size_t{NV} * 16) / group_out + 1});
    if (groups != 0) {
      // Named indices and pointers (an array of them stays on GCC 12's stack); a kernel row in
      // the padding reads fill_row throughout. The group's vectors are stored 16 bytes at a time,
      // which the compilers pair into STP (a 64-byte ST1 of four registers costs register moves
      // to make them consecutive).
      const uint8x16_t i0 = vld1q_u8(p.idx), i1 = vld1q_u8(p.idx + (NV > 1 ? 16 : 0));
      const uint8x16_t i2 = vld1q_u8(p.idx + (NV > 2 ? 32 : 0)), i3 = vld1q_u8(p.idx + (NV > 3 ? 48 : 0));
      const uint8x16_t i4 = vld1q_u8(p.idx + (NV > 4 ? 64 : 0)), i5 = vld1q_u8(p.idx + (NV > 5 ? 80 : 0));
      const uint8x16_t i6 = vld1q_u8(p.idx + (NV > 6 ? 96 : 0)), i7 = vld1q_u8(p.idx + (NV > 7 ? 112 : 0));
      const std::int8_t *s0 = b0 ? b0 : fill_row, *s1 = b1 ? b1 : fill_row, *s2 = b2 ? b2 : fill_row,
                        *s3 = b3 ? b3 : fill_row;
      const std::size_t a0 = b0 ? group_in : 0, a1 = b1 ? group_in : 0, a2 = b2 ? group_in : 0, a3 = b3 ? group_in : 0;
      std::int8_t* d = dst;
      for (std::size_t g = 0; g < groups; ++g, d += group_out) {
        const auto t = load_table<KH, Q>(s0, s1, s2, s3);
        vst1q_s8(d, tbl(t, i0));
        if constexpr (NV > 1) vst1q_s8(d + 16, tbl(t, i1));
        if constexpr (NV > 2) vst1q_s8(d + 32, tbl(t, i2));
        if constexpr (NV > 3) vst1q_s8(d + 48, tbl(t, i3));
        if constexpr (NV > 4) vst1q_s8(d + 64, tbl(t, i4));
        if constexpr (NV > 5) vst1q_s8(d + 80, tbl(t, i5));
        if constexpr (NV > 6) vst1q_s8(d + 96, tbl(t, i6));
        if constexpr (NV > 7) vst1q_s8(d + 112, tbl(t, i7));
        s0 += a0, s1 += a1, s2 += a2, s3 += a3;
      }
    }
    // The rest: a group that reaches the row's end or the image's, or the call's last rows.
    std::size_t done = groups * group_in;  // input bytes behind
    dst += groups * group_out;
    count -= groups * P;
    while (count != 0) {
      const std::size_t n = count < P ? count : P;
      const std::size_t used = (n - 1) * p.step + p.run, bytes = n * p.row, room = count * p.row;
      const std::size_t left = avail > done ? avail - done : 0;  // bytes to the input row's end
      const std::int8_t* s[4] = {b0 ? b0 + done : nullptr, b1 ? b1 + done : nullptr, b2 ? b2 + done : nullptr,
                                 b3 ? b3 + done : nullptr};
      bool inside = true;  // every window's W bytes lie before the image end
      for (unsigned ky = 0; ky < KH; ++ky)
        if (s[ky] != nullptr && static_cast<std::size_t>(limit - s[ky]) < W) inside = false;
      alignas(16) std::int8_t buf[KH][W];
      if (!inside) copy_windows<KH, W>(s, buf, used < left ? used : left, fill_value);
      for (unsigned ky = 0; ky < KH; ++ky)
        if (s[ky] == nullptr) s[ky] = fill_row;
      auto t = load_table<KH, Q>(s[0], s[KH > 1 ? 1 : 0], s[KH > 2 ? 2 : 0], s[KH > 3 ? 3 : 0]);
      if (inside && left < used) fill_from<Q>(t, left, fill);
      std::size_t at = 0;
      for (; at + 16 <= bytes; at += 16) vst1q_s8(dst + at, tbl(t, vld1q_u8(p.idx + at)));
      if (at < bytes) {  // the group's last partial vector
        if (room - at >= 16)  // the excess lands on the rows after it, written next
          vst1q_s8(dst + at, tbl(t, vld1q_u8(p.idx + at)));
        else if (bytes >= 16)  // the group's last 16 bytes, overlapping the vector before
          vst1q_s8(dst + bytes - 16, tbl(t, vld1q_u8(p.idx + bytes - 16)));
        else
          store_first(dst, tbl(t, vld1q_u8(p.idx)), bytes);
      }
      dst += bytes;
      count -= n;
      done += group_in;
    }
  }
};

}  // namespace tessera::kernels
