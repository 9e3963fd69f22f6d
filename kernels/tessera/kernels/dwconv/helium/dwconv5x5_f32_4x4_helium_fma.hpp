/// @file dwconv5x5_f32_4x4_helium_fma.hpp
/// fp32 5x5 depthwise row kernel (op.hpp's 5x5 row contract: windows inside the input, stride 1
/// or 2 along x, direct addressing) on Cortex-M55/M85 Helium (MVE with floating point).
///
/// Tile: N neighbouring output pixels x 4 channels (one float32x4 each), N = 4 at stride 1 and 3
/// at stride 2. cr() = 8: the packed blocks of dwconv_f32_2x8_helium_fma with ks = 25
/// (`float bias[8]; float w[25][8]`), run as two 4-lane halves. With 8 Q registers a tap row's 5
/// weights do not fit beside 4 accumulators and an input, so each tap row runs in two passes, taps
/// kx < KA then kx >= KA (KA = 3 at stride 1, 4 at stride 2), each over its input columns in
/// increasing order; a weight is loaded at the column that first uses it and dies after its last,
/// and the pass-1 columns that pass 2 reads again stay in registers where they fit (keep_mask:
/// stride 1 keeps columns 3-5, stride 2 column 6). Per tap row and 4 channels: stride 1, 5 weight
/// and 8 input VLDRW for 20 VFMA; stride 2, 5 weight and 10 input VLDRW for 15 VFMA (GCC 12: 45
/// and 43 instructions per tap row); each input column costs an ADD too (MVE's contiguous loads
/// take immediate offsets only, the pixel pitch is a run-time value). The unipass kernel loads a
/// weight and an input vector per VFMA, and a tap pointer per two.
/// Loop order: channel half outer, groups of N pixels inner, tap rows inside a group (the N
/// accumulators stay in registers for the whole window); 1..N-1 remaining pixels take the same code
/// with a smaller tile (1 or 2 pixels: one pass).
/// Accumulation order is the scalar kernel's (bias, then one fused multiply-add per tap in ky, kx
/// order), so results equal dwconv_f32_scalar's bit for bit (the clamp's max/min may turn -0.0 into
/// +0.0).
/// Tails: whole halves run unpredicated; the last 1..3 channels run VCTP32-predicated (zeroing
/// loads, predicated stores); nothing outside the rows' windows or the output pixels is accessed
/// (the packed block's lanes are read whole).
/// Scheduling: an empty asm after each input column pins the loads and materialises the
/// accumulators; without it GCC 12 moves loads and runs out of Q registers (whole operator
/// 112x112x32 5x5 stride 1: 0.812 instructions/MAC against 0.728), clang-16 likewise at stride 2
/// (1.029 against 0.936).
/// ISA: Armv8.1-M MVE with floating point (MVE-F).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_HELIUM_FP
#error "dwconv5x5_f32_4x4_helium_fma.hpp needs Helium with floating point (MVE-F): compile for e.g. -mcpu=cortex-m55"
#endif

#include <arm_mve.h>
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/helium/dwconv_f32_helium_rows.hpp>
#include <tessera/kernels/dwconv/op.hpp>


namespace tessera::kernels {

struct dwconv5x5_f32_4x4_helium_fma {
  using arch = tessera::arch::helium;
  static constexpr const char* name = "dwconv5x5_f32_4x4_helium_fma";
  /// Channel tile of the packed weights (dwconv_f32_2x8_helium_fma's).
  static std::size_t cr() noexcept { return CR; }

  /// `pixels` outputs of one row, 5x5 windows inside the input, stride 1 or 2 along x (op.hpp).
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const float* const* rows,
                  const void* packed, float* out, const f32_clamp& clamp) noexcept {
    if (stride == 1) run_row<1, 4, 3, 8>(channels, pixels, rows, packed, out, clamp);
    else run_row<2, 3, 4, 7>(channels, pixels, rows, packed, out, clamp);
  }

 private:
  static constexpr std::size_t CR = 8;
  static constexpr std::size_t BLOCK = CR * 26;  // floats per packed block: bias[8] + w[25][8]

  // dw_helium::load<Tail>() and dw_helium::schedule_fence<N>(): dwconv_f32_helium_rows.hpp.

  /// Whether output j of a tile with stride S reads input column i for a tap kx in [K0, K1).
  static constexpr bool reads(std::size_t S, std::size_t j, std::size_t i, std::size_t K0, std::size_t K1) noexcept {
    return i >= S * j + K0 && i - S * j < K1;
  }
  /// Q registers live beside the N accumulators at input column i of tap_row's pass 1 (pass2 false)
  /// or pass 2 with the pass-1 columns in `keep` (bit mask) held for pass 2: the passes' weights
  /// between their first and last use, the kept columns loaded and not yet consumed, the input.
  static constexpr std::size_t live(std::size_t S, std::size_t N, std::size_t KA, bool pass2, std::size_t i,
                                    std::uint32_t keep) noexcept {
    std::size_t n = 1;
    for (std::size_t k = pass2 ? KA : 0; k < (pass2 ? 5 : KA); ++k) n += k <= i && i <= k + S * (N - 1);
    for (std::size_t c = 0; c < 32; ++c) n += (keep >> c & 1) && (pass2 ? c > i : c < i);
    return n;
  }
  /// The pass-1 columns tap_row keeps in registers for pass 2 (bit i: column i): greedily from the
  /// last, each only if no column of either pass then needs more than max(Q, what it needs keeping
  /// nothing) Q registers (accumulators included).
  static constexpr std::uint32_t keep_mask(std::size_t S, std::size_t N, std::size_t KA, std::size_t Q) noexcept {
    const std::size_t L1 = (N - 1) * S + KA, L2 = (N - 1) * S + 5;
    std::uint32_t keep = 0;
    if (KA >= 5) return 0;
    for (std::size_t c = L1; c-- > KA;) {
      bool used = false;  // by pass 2
      for (std::size_t j = 0; j < N; ++j) used |= reads(S, j, c, KA, 5);
      if (!used) continue;
      const std::uint32_t k = keep | std::uint32_t{1} << c;
      bool fits = true;
      for (std::size_t i = 0; i < L2; ++i) {
        if (i < L1) fits &= live(S, N, KA, false, i, k) <= std::max(Q - N, live(S, N, KA, false, i, 0));
        if (i >= KA) fits &= live(S, N, KA, true, i, k) <= std::max(Q - N, live(S, N, KA, true, i, 0));
      }
      if (fits) keep = k;
    }
    return keep;
  }

  /// One tap row x (pixel pitch ch) of N outputs, weights of tap kx at w + kx * CR. Input column i
  /// serves outputs j with kx = i - S * j. Pass 1 takes the taps kx < KA, pass 2 those >= KA (none
  /// for KA = 5), each over its input columns in increasing order, so every output still takes its
  /// taps in kx order. A weight is loaded at the first column that uses it (it dies after its last),
  /// and the pass-1 columns in keep_mask(S, N, KA, Q) stay in registers for pass 2 instead of being
  /// loaded again.
  template <std::size_t S, std::size_t N, std::size_t KA, std::size_t Q, bool Tail>
  [[gnu::always_inline]] static inline void tap_row(float32x4_t (&acc)[N], const float* x, std::size_t ch,
                                                    const float* w, mve_pred16_t pr) noexcept {
    constexpr std::size_t L1 = (N - 1) * S + KA, L2 = (N - 1) * S + 5;  // pass 1: columns [0, L1), pass 2: [KA, L2)
    constexpr std::uint32_t KEEP = keep_mask(S, N, KA, Q);
    float32x4_t wv[5], keep[L1];
#pragma GCC unroll 20
    for (std::size_t i = 0; i < L1; ++i) {
      if (i < KA) wv[i] = vldrwq_f32(w + i * CR);
      const float32x4_t v = dw_helium::load<Tail>(x + i * ch, pr);
#pragma GCC unroll 5
      for (std::size_t j = 0; j < N; ++j)
        if (reads(S, j, i, 0, KA)) acc[j] = vfmaq_f32(acc[j], v, wv[i - S * j]);
      keep[i] = v;
      dw_helium::schedule_fence(acc);
    }
    if constexpr (KA < 5) {
#pragma GCC unroll 20
      for (std::size_t i = KA; i < L2; ++i) {
        bool used = false;
#pragma GCC unroll 5
        for (std::size_t j = 0; j < N; ++j) used |= reads(S, j, i, KA, 5);
        if (!used) continue;
        if (i < 5) wv[i] = vldrwq_f32(w + i * CR);
        const float32x4_t v = (KEEP >> i & 1) ? keep[i] : dw_helium::load<Tail>(x + i * ch, pr);
#pragma GCC unroll 5
        for (std::size_t j = 0; j < N; ++j)
          if (reads(S, j, i, KA, 5)) acc[j] = vfmaq_f32(acc[j], v, wv[i - S * j]);
        dw_helium::schedule_fence(acc);
      }
    }
  }

  /// N pixels x 4 channels at input column q of rows r[5] (pixel pitch `ch`), weights `w` (tap t's
  /// 4 lanes at w + t * CR), bias at `bias`, output at `o`.
  template <std::size_t S, std::size_t N, std::size_t KA, std::size_t Q, bool Tail>
  [[gnu::always_inline]] static inline void group(const float* const* r, std::size_t q, std::size_t ch, const float* w,
                                                  const float* bias, float* o, mve_pred16_t pr, float32x4_t lo,
                                                  float32x4_t hi) noexcept {
    float32x4_t acc[N];
#pragma GCC unroll 5
    for (std::size_t j = 0; j < N; ++j) acc[j] = vldrwq_f32(bias);
#pragma GCC unroll 1
    for (std::size_t ky = 0; ky < 5; ++ky) {
      const float* x = r[ky] + q;
      const float* wr = w + ky * 5 * CR;
      tap_row<S, N, KA, Q, Tail>(acc, x, ch, wr, pr);
    }
#pragma GCC unroll 5
    for (std::size_t j = 0; j < N; ++j) {
      const float32x4_t a = vminnmq_f32(vmaxnmq_f32(acc[j], lo), hi);
      if constexpr (Tail) vstrwq_p_f32(o + j * ch, a, pr);
      else vstrwq_f32(o + j * ch, a);
    }
  }

  /// Every pixel of the 4 channels at c (Tail: rem < 4 of them), block lanes at w (bias; taps after).
  template <std::size_t S, std::size_t N, std::size_t KA, std::size_t Q, bool Tail>
  static void half(std::size_t ch, std::size_t pixels, const float* const* rows, std::size_t c, const float* w,
                   float* out, std::size_t rem, float32x4_t lo, float32x4_t hi) noexcept {
    const mve_pred16_t pr = vctp32q(static_cast<std::uint32_t>(rem));
    const float* wt = w + CR;
    const float* r[5] = {rows[0] + c, rows[1] + c, rows[2] + c, rows[3] + c, rows[4] + c};
    std::size_t px = pixels, q = 0;
    for (; px >= N; px -= N, out += N * ch, q += N * S * ch) group<S, N, KA, Q, Tail>(r, q, ch, wt, w, out, pr, lo, hi);
    if (px == 0) return;
    auto rest = [&](auto n, std::size_t) {
      constexpr std::size_t M = decltype(n)::value;  // 1 or 2 pixels: one pass (at most 3 weights live)
      group<S, M, (M <= 2 ? 5 : KA), Q, Tail>(r, q, ch, wt, w, out, pr, lo, hi);
    };
    dw_detail::pixel_rest<N - 1>(px, 0, rest);
  }

  /// Stride S, tiles of N pixels, pass split KA, Q registers for keep_mask.
  template <std::size_t S, std::size_t N, std::size_t KA, std::size_t Q>
  static void run_row(std::size_t channels, std::size_t pixels, const float* const* rows, const void* packed,
                      float* out, const f32_clamp& clamp) noexcept {
    static_assert(keep_mask(1, 4, 3, 8) == 0x38 && keep_mask(2, 3, 4, 7) == 0x40, "the columns the doc comment names");
    const float32x4_t lo = vdupq_n_f32(clamp.min), hi = vdupq_n_f32(clamp.max);
    const float* blk = static_cast<const float*>(packed);
    for (std::size_t c = 0; c < channels; c += 4) {
      const float* w = blk + (c / CR) * BLOCK + c % CR;  // this half's lanes of bias and taps
      const std::size_t rem = channels - c;
      if (rem >= 4) half<S, N, KA, Q, false>(channels, pixels, rows, c, w, out + c, 4, lo, hi);
      else half<S, N, KA, Q, true>(channels, pixels, rows, c, w, out + c, rem, lo, hi);
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv5x5_f32, tessera::arch::helium> {
  using type = tessera::kernels::dwconv5x5_f32_4x4_helium_fma;
};
