/// @file dwconv5x5_f32_16xvl_sve_fmla.hpp
/// fp32 5x5 depthwise row kernel (op.hpp's 5x5 row contract: windows inside the input, stride 1 or
/// 2 along x, direct addressing) on SVE with FMLA, vector-length agnostic; the sve tag's 5x5 row
/// kernel.
///
/// cr() = 2 * svcntw(), the packed blocks of dwconv_f32_2vl_sve_fmla with ks = 25 (`float
/// bias[cr]; float w[25][cr]`), run as two one-vector halves.
/// Tile: N neighbouring output pixels x one fp32 vector of channels (svcntw()), N = 16 at stride 1
/// and 14 at stride 2 (16 would spill there). The N accumulators stay in registers for the whole
/// window; the 5 tap rows are the outer loop and each takes its 5 weight vectors into registers
/// (N + 5 + clamp bounds + input columns: at most 25 of the 32 z registers), then loads each of its
/// input columns once for the up to 5 outputs that use it: column i serves the outputs j with
/// kx = i - S * j in 0..4. Per tap row 5 weight LD1W and N + 4 input LD1W (stride 2: 2 N + 3) for
/// 5 N FMLA: stride 1 25 loads per 80 FMLA, stride 2 36 per 70, against 2 LD1W and half a pointer
/// load per FMLA in the unipass kernel. Loop order: channel half outer, groups of N pixels inner;
/// 1..N-1 remaining pixels take the same code with a smaller tile.
/// Accesses: input columns and outputs at [base, k * ch, LSL #2] (k < 9; bases x, x + 9 ch, ...;
/// the k * ch made opaque once per tap row so that no scaled copies are kept), weights at
/// [w, #imm, MUL VL] from a pointer at the tap row's centre tap; per tap row 7-8 scalar
/// instructions of loop and address overhead.
/// Results: every accumulator starts at the bias and takes the 25 taps in ky, kx order, one fused
/// multiply-add each (tap rows outer, columns in increasing kx), so results equal
/// dwconv_f32_scalar's and dwconv_f32_2vl_sve_fmla's bit for bit at every vector length.
/// Tails: channels by one svwhilelt_b32 predicate per half on the input loads (zeroing) and the
/// stores, a half with no channel is skipped; nothing outside the rows' windows or the output
/// pixels is accessed (weights and bias are read from whole zero-padded blocks).
/// ISA: Armv8.2-A SVE (SVE1 instructions only).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SVE
#error "dwconv5x5_f32_16xvl_sve_fmla.hpp needs SVE (TESSERA_HAS_SVE)"
#endif

#include <arm_sve.h>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/kernels/dwconv/sve/dwconv_f32_2vl_sve_fmla.hpp>

namespace tessera::kernels {

struct dwconv5x5_f32_16xvl_sve_fmla {
  using arch = tessera::arch::sve;
  static constexpr const char* name = "dwconv5x5_f32_16xvl_sve_fmla";
  /// Channel tile of the packed weights (dwconv_f32_2vl_sve_fmla's: two fp32 vectors).
  static std::size_t cr() noexcept { return dwconv_f32_2vl_sve_fmla::cr(); }

  /// `pixels` outputs of one row, 5x5 windows inside the input, stride 1 or 2 along x (op.hpp).
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const float* const* rows,
                  const void* packed, float* out, const f32_clamp& clamp) noexcept {
    if (stride == 1) run_s<1, N1>(channels, pixels, rows, packed, out, clamp);
    else run_s<2, N2>(channels, pixels, rows, packed, out, clamp);
  }

 private:
  /// Pixels per tile at stride 1 and 2 (stride 2 at 16 spills: 35 columns per tap row).
  static constexpr std::size_t N1 = 16, N2 = 14;
  static_assert(N1 >= 1 && N1 <= 16 && N2 >= 1 && N2 <= 16, "at most 16 accumulators");
  using vf = svfloat32_t;

  /// Element offsets k * ch (k = 0..9) of the neighbouring pixels, made opaque once per tap row so
  /// that every load and store addresses [base, offset, LSL #2] instead of recomputing pointers.
  struct offsets {
    std::size_t o[10];
    std::size_t o9;  ///< 9 * ch again, not hidden: the bases x9, x18, x27 are one ADD each
    explicit offsets(std::size_t ch) noexcept {
      o9 = 9 * ch;
      o[0] = 0;
#pragma GCC unroll 9
      for (std::size_t k = 1; k < 10; ++k) o[k] = k * ch;
      hide();
    }
    /// Called once per tap row and before the stores too, so that no scaled copy (k * ch * 4) is
    /// hoisted out of the loop (or kept live across it).
    [[gnu::always_inline]] inline void hide() noexcept {
#pragma GCC unroll 9
      for (std::size_t k = 1; k < 10; ++k) __asm__("" : "+r"(o[k]));
    }
  };

  /// Pixel I (0..34) of a tap row: from x, x9 = x + 9 ch, x18, x27 plus (I % 9) * ch.
  template <std::size_t I>
  [[gnu::always_inline]] static inline const float* at(const float* x, const float* x9, const float* x18,
                                                       const float* x27, const offsets& off) noexcept {
    if constexpr (I < 9) return x + off.o[I];
    else if constexpr (I < 18) return x9 + off.o[I - 9];
    else if constexpr (I < 27) return x18 + off.o[I - 18];
    else return x27 + off.o[I - 27];
  }

  /// a += x * w for output J of the tile if column I of the tap row is one of its taps (kx = I - S*J).
  template <std::size_t S, std::size_t N, std::size_t I, std::size_t J>
  [[gnu::always_inline]] static inline void tap(vf& a, vf x, vf w0, vf w1, vf w2, vf w3, vf w4) noexcept {
    if constexpr (J < N && I >= S * J && I - S * J <= 4) {
      constexpr std::size_t kx = I - S * J;
      const vf w = kx == 0 ? w0 : kx == 1 ? w1 : kx == 2 ? w2 : kx == 3 ? w3 : w4;
      a = svmla_f32_m(svptrue_b32(), a, x, w);  // _m: FMLA into a (no MOVPRFX)
    }
  }

  /// Column I of one tap row: one LD1W, then its FMLAs into the accumulators a (J = 0, 1, ...).
  template <std::size_t S, std::size_t N, std::size_t I, std::size_t... J, class... A>
  [[gnu::always_inline]] static inline void column(std::index_sequence<J...>, const float* x, const float* x9,
                                                   const float* x18, const float* x27, const offsets& off,
                                                   svbool_t pg, vf w0, vf w1, vf w2, vf w3, vf w4, A&... a) noexcept {
    const vf v = svld1_f32(pg, at<I>(x, x9, x18, x27, off));
    (tap<S, N, I, J>(a, v, w0, w1, w2, w3, w4), ...);
  }

  /// One tap row (x: its first window's input; wc: the row's centre tap, kx = 2) into the accumulators.
  template <std::size_t S, std::size_t N, std::size_t... I, class... A>
  [[gnu::always_inline]] static inline void tap_row(std::index_sequence<I...>, const float* x, const offsets& off,
                                                    svbool_t pg, const float* wc, A&... a) noexcept {
    const svbool_t all = svptrue_b32();
    const vf w0 = svld1_vnum_f32(all, wc, -4), w1 = svld1_vnum_f32(all, wc, -2), w2 = svld1_f32(all, wc);
    const vf w3 = svld1_vnum_f32(all, wc, 2), w4 = svld1_vnum_f32(all, wc, 4);
    const float* x9 = x + off.o9;
    const float* x18 = x9 + off.o9;
    const float* x27 = x18 + off.o9;
    (column<S, N, I>(std::index_sequence_for<A...>{}, x, x9, x18, x27, off, pg, w0, w1, w2, w3, w4, a...), ...);
    pin<N>(std::index_sequence_for<A...>{}, a...);
  }

  /// The tap row's FMLAs complete here (no instruction): keeps each accumulator in one register
  /// across the tap-row loop (no MOVPRFX copies).
  template <std::size_t N, std::size_t... J, class... A>
  [[gnu::always_inline]] static inline void pin(std::index_sequence<J...>, A&... a) noexcept {
    (pin1<(J < N)>(a), ...);
  }
  template <bool Used>
  [[gnu::always_inline]] static inline void pin1(vf& a) noexcept {
    if constexpr (Used) __asm__("" : "+w"(a));
  }

  /// Clamps and stores output J of the tile (if J < N).
  template <std::size_t N, std::size_t J>
  [[gnu::always_inline]] static inline void store(float* o, float* o9, const offsets& off, svbool_t pg, vf a, vf lo,
                                                  vf hi) noexcept {
    if constexpr (J < N) {
      const svbool_t all = svptrue_b32();
      svst1_f32(pg, J < 9 ? o + off.o[J] : o9 + off.o[J - 9], svmin_f32_x(all, svmax_f32_x(all, a, lo), hi));
    }
  }
  template <std::size_t N, std::size_t... J, class... A>
  [[gnu::always_inline]] static inline void stores(std::index_sequence<J...>, float* o, const offsets& off,
                                                   svbool_t pg, vf lo, vf hi, A&... a) noexcept {
    float* o9 = o + off.o[9];
    (store<N, J>(o, o9, off, pg, a, lo, hi), ...);
  }

  /// N (1..16) pixels of one channel vector: xr[ky] + q their tap rows, wc tap 2's weights, o the output.
  template <std::size_t S, std::size_t N>
  [[gnu::always_inline]] static inline void group(const float* const* xr, std::size_t q, offsets& off,
                                                  svbool_t pg, const float* bias, const float* wc, std::size_t wstep,
                                                  float* o, vf lo, vf hi) noexcept {
    const vf b = svld1_f32(svptrue_b32(), bias);
    vf a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b;
    vf a8 = b, a9 = b, a10 = b, a11 = b, a12 = b, a13 = b, a14 = b, a15 = b;
    constexpr auto cols = std::make_index_sequence<(N - 1) * S + 5>{};
#pragma GCC unroll 1
    for (const float* const* xp = xr; xp != xr + 5; ++xp, wc += wstep) {
      off.hide();
      tap_row<S, N>(cols, *xp + q, off, pg, wc, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14,
                    a15);
    }
    off.hide();
    stores<N>(std::make_index_sequence<16>{}, o, off, pg, lo, hi, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11,
              a12, a13, a14, a15);
  }

  /// The last 1..K pixels (px of them).
  template <std::size_t S, std::size_t K>
  [[gnu::always_inline]] static inline void tail(std::size_t px, const float* const* xr, std::size_t q,
                                                 offsets& off, svbool_t pg, const float* bias, const float* wc,
                                                 std::size_t wstep, float* o, vf lo, vf hi) noexcept {
    if constexpr (K > 0) {
      if (px == K) group<S, K>(xr, q, off, pg, bias, wc, wstep, o, lo, hi);
      else tail<S, K - 1>(px, xr, q, off, pg, bias, wc, wstep, o, lo, hi);
    }
  }

  /// Every pixel of the channel vector at c (predicate pg); rows[ky] + c its tap rows.
  template <std::size_t S, std::size_t N>
  static void half(std::size_t ch, std::size_t pixels, const float* const* rows, std::size_t c, const float* bias,
                   const float* wc, std::size_t wstep, float* o, const f32_clamp& clamp) noexcept {
    const svbool_t pg = svwhilelt_b32_u64(c, ch);
    const vf lo = svdup_n_f32(clamp.min), hi = svdup_n_f32(clamp.max);
    const float* xr[5] = {rows[0] + c, rows[1] + c, rows[2] + c, rows[3] + c, rows[4] + c};
    offsets off(ch);
    const std::size_t step = N * S * ch, ostep = N * ch;
    std::size_t q = 0, px = pixels;
    for (; px >= N; px -= N, q += step, o += ostep) {
      off.hide();
      group<S, N>(xr, q, off, pg, bias, wc, wstep, o, lo, hi);
    }
    tail<S, N - 1>(px, xr, q, off, pg, bias, wc, wstep, o, lo, hi);
  }

  template <std::size_t S, std::size_t N>
  static void run_s(std::size_t ch, std::size_t pixels, const float* const* rows, const void* packed, float* out,
                    const f32_clamp& clamp) noexcept {
    const std::uint64_t vl = svcntw(), crn = 2 * vl;
    const float* blk = static_cast<const float*>(packed);  // blocks of 26 * crn floats (no padding)
    for (std::uint64_t c0 = 0; c0 < ch; c0 += crn, blk += 26 * crn)
      for (std::uint64_t c = c0; c < c0 + crn && c < ch; c += vl)
        half<S, N>(ch, pixels, rows, c, blk + (c - c0), blk + 3 * crn + (c - c0), 5 * crn, out + c, clamp);
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv5x5_f32, tessera::arch::sve> {
  using type = tessera::kernels::dwconv5x5_f32_16xvl_sve_fmla;
};
