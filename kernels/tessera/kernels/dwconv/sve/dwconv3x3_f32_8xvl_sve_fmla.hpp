/// @file dwconv3x3_f32_8xvl_sve_fmla.hpp
/// fp32 3x3 depthwise row kernel (op.hpp's row contract: windows inside the input, stride 1 or 2
/// along x, direct addressing) on SVE with FMLA, vector-length agnostic.
///
/// Tile: 8 neighbouring output pixels x one fp32 vector of channels (svcntw()). cr() = 2 * svcntw(),
/// the packed blocks of dwconv_f32_2vl_sve_fmla (`float bias[cr]; float w[9][cr]`), run as two
/// one-vector halves. Per half the 9 weight vectors stay in registers for the whole row (with the 8
/// accumulators, the clamp bounds and the input columns: about 22 of the 32 z registers), and each
/// tap row's inputs are loaded once per group of 8 outputs: column i serves the outputs j with
/// kx = i - S * j in 0..2. Stride 1: 10 LD1W per tap row for 24 FMLA (30 per 72), stride 2: 17 per
/// row (51 per 72); the unipass kernel loads a pointer and an input vector per 2 FMLA. Loop order:
/// channel half outer, groups of 8 pixels inner; 1..7 remaining pixels take the same code with a
/// smaller tile. Accumulation order is the scalar kernel's (bias, then one fused multiply-add per
/// tap in ky, kx order), so results equal dwconv_f32_scalar's and dwconv_f32_2vl_sve_fmla's bit for
/// bit at every vector length.
/// Tails: channels by one svwhilelt_b32 predicate per half on the input loads (zeroing) and the
/// stores, a half with no channel is skipped; nothing outside the rows' windows or the output pixels
/// is accessed (weights and bias are read from whole zero-padded blocks).
/// ISA: Armv8.2-A SVE (SVE1 instructions only).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SVE
#error "dwconv3x3_f32_8xvl_sve_fmla.hpp needs SVE (TESSERA_HAS_SVE)"
#endif

#include <arm_sve.h>
#include <cstddef>
#include <cstdint>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/kernels/dwconv/sve/dwconv_f32_2vl_sve_fmla.hpp>

namespace tessera::kernels {

struct dwconv3x3_f32_8xvl_sve_fmla {
  using arch = tessera::arch::sve;
  static constexpr const char* name = "dwconv3x3_f32_8xvl_sve_fmla";
  /// Channel tile of the packed weights (dwconv_f32_2vl_sve_fmla's: two fp32 vectors).
  static std::size_t cr() noexcept { return dwconv_f32_2vl_sve_fmla::cr(); }

  /// `pixels` outputs of one row, windows inside the input, stride 1 or 2 along x (op.hpp).
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const float* r0, const float* r1,
                  const float* r2, const void* packed, float* out, const f32_clamp& clamp) noexcept {
    if (stride == 1) run_s<1>(channels, pixels, r0, r1, r2, packed, out, clamp);
    else run_s<2>(channels, pixels, r0, r1, r2, packed, out, clamp);
  }

 private:
  static constexpr std::size_t NP = 8;  // pixels per group

  /// Element offsets k * ch (k = 1..9) of the neighbouring pixels, made opaque once per row so that
  /// every load and store addresses [base, offset, LSL #2] instead of recomputing pointers.
  struct offsets {
    std::size_t o[10];
    explicit offsets(std::size_t ch) noexcept {
      o[0] = 0;
#pragma GCC unroll 9
      for (std::size_t k = 1; k < 10; ++k) o[k] = k * ch;
      hide();
    }
    /// Called once per group too, so that no scaled copy (k * ch * 4) is hoisted out of the loop.
    [[gnu::always_inline]] inline void hide() noexcept {
#pragma GCC unroll 9
      for (std::size_t k = 1; k < 10; ++k) __asm__("" : "+r"(o[k]));
    }
  };

  /// p += n, opaque to the optimiser (one running pointer per row, no derived induction variables).
  [[gnu::always_inline]] static inline void advance(const float*& p, std::size_t n) noexcept {
    p += n;
    __asm__("" : "+r"(p));
  }

  /// Address of pixel I (0..18) from x: x + I * ch, from x9 = x + 9 * ch for I >= 9.
  template <std::size_t I, class T>
  [[gnu::always_inline]] static inline T* at(T* x, T* x9, const offsets& off) noexcept {
    if constexpr (I < 10) return x + off.o[I];
    else return x9 + off.o[I - 9];
  }

  /// a += x * w for output J of the group if column I of the tap row is one of its taps (kx = I - S*J).
  template <std::size_t S, std::size_t N, std::size_t I, std::size_t J>
  [[gnu::always_inline]] static inline void tap(svfloat32_t& a, svfloat32_t x, svfloat32_t w0, svfloat32_t w1,
                                                svfloat32_t w2) noexcept {
    if constexpr (J < N && I >= S * J && I - S * J <= 2) {
      constexpr std::size_t kx = I - S * J;
      a = svmla_f32_m(svptrue_b32(), a, x, kx == 0 ? w0 : kx == 1 ? w1 : w2);  // _m: FMLA into a (no MOVPRFX)
    }
  }

  /// The column's FMLAs complete here (no instruction): keeps each accumulator in one register
  /// (no MOVPRFX copies) and the loads from being hoisted ahead of the group.
  template <std::size_t N>
  [[gnu::always_inline]] static inline void pin(svfloat32_t& a0, svfloat32_t& a1, svfloat32_t& a2, svfloat32_t& a3,
                                                svfloat32_t& a4, svfloat32_t& a5, svfloat32_t& a6,
                                                svfloat32_t& a7) noexcept {
    __asm__("" : "+w"(a0));
    if constexpr (N > 1) __asm__("" : "+w"(a1));
    if constexpr (N > 2) __asm__("" : "+w"(a2));
    if constexpr (N > 3) __asm__("" : "+w"(a3));
    if constexpr (N > 4) __asm__("" : "+w"(a4));
    if constexpr (N > 5) __asm__("" : "+w"(a5));
    if constexpr (N > 6) __asm__("" : "+w"(a6));
    if constexpr (N > 7) __asm__("" : "+w"(a7));
  }

  /// Columns I.. of one tap row (x: its first window's input, pitch ch), into the N accumulators.
  template <std::size_t S, std::size_t N, std::size_t I>
  [[gnu::always_inline]] static inline void columns(const float* x, const float* x9, const offsets& off, svbool_t pg, svfloat32_t& a0,
                                                    svfloat32_t& a1, svfloat32_t& a2, svfloat32_t& a3,
                                                    svfloat32_t& a4, svfloat32_t& a5, svfloat32_t& a6,
                                                    svfloat32_t& a7, svfloat32_t w0, svfloat32_t w1,
                                                    svfloat32_t w2) noexcept {
    if constexpr (I < (N - 1) * S + 3) {
      const svfloat32_t v = svld1_f32(pg, at<I>(x, x9, off));
      tap<S, N, I, 0>(a0, v, w0, w1, w2);
      tap<S, N, I, 1>(a1, v, w0, w1, w2);
      tap<S, N, I, 2>(a2, v, w0, w1, w2);
      tap<S, N, I, 3>(a3, v, w0, w1, w2);
      tap<S, N, I, 4>(a4, v, w0, w1, w2);
      tap<S, N, I, 5>(a5, v, w0, w1, w2);
      tap<S, N, I, 6>(a6, v, w0, w1, w2);
      tap<S, N, I, 7>(a7, v, w0, w1, w2);
      columns<S, N, I + 1>(x, x9, off, pg, a0, a1, a2, a3, a4, a5, a6, a7, w0, w1, w2);
    }
  }

  /// Clamps and stores output J of the group (if J < N).
  template <std::size_t N, std::size_t J>
  [[gnu::always_inline]] static inline void store(float* o, const offsets& off, svbool_t pg, svfloat32_t a,
                                                  svfloat32_t lo, svfloat32_t hi) noexcept {
    if constexpr (J < N) {
      const svbool_t all = svptrue_b32();
      svst1_f32(pg, o + off.o[J], svmin_f32_x(all, svmax_f32_x(all, a, lo), hi));
    }
  }

  /// N (1..8) pixels of one channel vector: x0..x2 at their first window's input, o at the output.
  template <std::size_t S, std::size_t N>
  [[gnu::always_inline]] static inline void group(const float* x0, const float* x1, const float* x2, const offsets& off,
                                                  svbool_t pg, const float* bias, float* o, svfloat32_t w0,
                                                  svfloat32_t w1, svfloat32_t w2, svfloat32_t w3, svfloat32_t w4,
                                                  svfloat32_t w5, svfloat32_t w6, svfloat32_t w7, svfloat32_t w8,
                                                  svfloat32_t lo, svfloat32_t hi) noexcept {
    const svfloat32_t b = svld1_f32(svptrue_b32(), bias);
    svfloat32_t a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b;
    columns<S, N, 0>(x0, x0 + off.o[9], off, pg, a0, a1, a2, a3, a4, a5, a6, a7, w0, w1, w2);
    columns<S, N, 0>(x1, x1 + off.o[9], off, pg, a0, a1, a2, a3, a4, a5, a6, a7, w3, w4, w5);
    columns<S, N, 0>(x2, x2 + off.o[9], off, pg, a0, a1, a2, a3, a4, a5, a6, a7, w6, w7, w8);
    store<N, 0>(o, off, pg, a0, lo, hi);
    store<N, 1>(o, off, pg, a1, lo, hi);
    store<N, 2>(o, off, pg, a2, lo, hi);
    store<N, 3>(o, off, pg, a3, lo, hi);
    store<N, 4>(o, off, pg, a4, lo, hi);
    store<N, 5>(o, off, pg, a5, lo, hi);
    store<N, 6>(o, off, pg, a6, lo, hi);
    store<N, 7>(o, off, pg, a7, lo, hi);
  }

  /// Every pixel of the channel vector at c (predicate pg); w: its lanes of the block's tap 0.
  template <std::size_t S>
  static void half(std::size_t ch, std::size_t pixels, const float* x0, const float* x1, const float* x2,
                   const float* bias, const float* w, std::size_t crn, svbool_t pg, float* o,
                   const f32_clamp& clamp) noexcept {
    const svbool_t all = svptrue_b32();
    const svfloat32_t w0 = svld1_f32(all, w), w1 = svld1_f32(all, w + crn), w2 = svld1_f32(all, w + 2 * crn);
    const svfloat32_t w3 = svld1_f32(all, w + 3 * crn), w4 = svld1_f32(all, w + 4 * crn);
    const svfloat32_t w5 = svld1_f32(all, w + 5 * crn), w6 = svld1_f32(all, w + 6 * crn);
    const svfloat32_t w7 = svld1_f32(all, w + 7 * crn), w8 = svld1_f32(all, w + 8 * crn);
    const svfloat32_t lo = svdup_n_f32(clamp.min), hi = svdup_n_f32(clamp.max);
    offsets off(ch);
    const std::size_t step = NP * S * ch;
    std::size_t px = pixels;
    for (; px >= NP; px -= NP, o += off.o[NP]) {
      off.hide();
      group<S, NP>(x0, x1, x2, off, pg, bias, o, w0, w1, w2, w3, w4, w5, w6, w7, w8, lo, hi);
      advance(x0, step), advance(x1, step), advance(x2, step);
    }
    switch (px) {
      case 7: group<S, 7>(x0, x1, x2, off, pg, bias, o, w0, w1, w2, w3, w4, w5, w6, w7, w8, lo, hi); break;
      case 6: group<S, 6>(x0, x1, x2, off, pg, bias, o, w0, w1, w2, w3, w4, w5, w6, w7, w8, lo, hi); break;
      case 5: group<S, 5>(x0, x1, x2, off, pg, bias, o, w0, w1, w2, w3, w4, w5, w6, w7, w8, lo, hi); break;
      case 4: group<S, 4>(x0, x1, x2, off, pg, bias, o, w0, w1, w2, w3, w4, w5, w6, w7, w8, lo, hi); break;
      case 3: group<S, 3>(x0, x1, x2, off, pg, bias, o, w0, w1, w2, w3, w4, w5, w6, w7, w8, lo, hi); break;
      case 2: group<S, 2>(x0, x1, x2, off, pg, bias, o, w0, w1, w2, w3, w4, w5, w6, w7, w8, lo, hi); break;
      case 1: group<S, 1>(x0, x1, x2, off, pg, bias, o, w0, w1, w2, w3, w4, w5, w6, w7, w8, lo, hi); break;
      default: break;
    }
  }

  template <std::size_t S>
  static void run_s(std::size_t ch, std::size_t pixels, const float* r0, const float* r1, const float* r2,
                    const void* packed, float* out, const f32_clamp& clamp) noexcept {
    const std::uint64_t vl = svcntw(), crn = 2 * vl;
    const float* blk = static_cast<const float*>(packed);  // blocks of 10 * crn floats (no padding)
    for (std::uint64_t c0 = 0; c0 < ch; c0 += crn, blk += 10 * crn)
      for (std::uint64_t c = c0; c < c0 + crn && c < ch; c += vl)
        half<S>(ch, pixels, r0 + c, r1 + c, r2 + c, blk + (c - c0), blk + crn + (c - c0), crn,
                svwhilelt_b32_u64(c, ch), out + c, clamp);
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv3x3_f32, tessera::arch::sve> {
  using type = tessera::kernels::dwconv3x3_f32_8xvl_sve_fmla;
};
