/// @file dwconv_f32_2vl_sve_fmla.hpp
/// fp32 depthwise convolution (channel multiplier 1) over an indirection buffer on SVE, vector-length
/// agnostic. Contract and packed format: dwconv/op.hpp.
///
/// Tile: cr() = 2 * svcntw() channels (two fp32 vectors, known at run time only); packed blocks
/// `float bias[cr]; float w[ks][cr]`, so one tap of a block is two whole vectors (LD1W, vnum).
/// Loop order: channel block outer, pixels inner. For ks = 9 the block's 18 weight vectors stay in
/// registers across all pixels: per pixel and tap one pointer load, one ADD (+ c0), two LD1W of the
/// input and two FMLA (3 instructions per vector of MACs). ks = 25 and any other ks reload the weights per tap
/// (one pointer, 2 input + 2 weight LD1W, 2 FMLA per tap).
/// Accumulation order is the scalar kernel's: bias, then fused multiply-adds for t = 0..ks-1, so
/// results equal dwconv_f32_scalar's bit for bit (at every vector length).
/// Tails: channels by svwhilelt_b32 predicates on the input loads (zeroing; nothing at or past
/// `channels` is accessed) and the stores; weights and bias are read as whole (zero-padded) blocks.
/// ISA: Armv8.2-A SVE (SVE1 instructions only).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SVE
#error "dwconv_f32_2vl_sve_fmla.hpp needs SVE (TESSERA_HAS_SVE)"
#endif

#include <arm_sve.h>
#include <cstddef>
#include <cstdint>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>

namespace tessera::kernels {

struct dwconv_f32_2vl_sve_fmla {
  using arch = tessera::arch::sve;
  static constexpr const char* name = "dwconv_f32_2vl_sve_fmla";
  /// Channel tile of the packed weights: two fp32 vectors (vector-length dependent).
  static std::size_t cr() noexcept { return 2 * svcntw(); }

  /// out[p][c] = clamp(bias[c] + sum_t in[p * in_step + t][c] * w[t][c]) for p < pixels, c < channels.
  /// @param[in]  in       pixels * in_step tap pointers (in_step >= ks), each to `channels` floats
  /// @param[in]  packed   op.hpp f32 blocks packed with cr() (4-byte aligned)
  /// @param[out] out      output pixel p at out + p * out_stride (`channels` floats written)
  /// @param[in]  clamp    output bounds (min <= max)
  static void run(std::size_t channels, std::size_t pixels, std::size_t ks, const float* const* in,
                  std::size_t in_step, const void* packed, float* out, std::size_t out_stride,
                  const f32_clamp& clamp) noexcept {
    dispatch_taps(ks, [&](auto taps) { run_ks<decltype(taps)::value>(channels, pixels, ks, in, in_step, packed, out, out_stride, clamp); });
  }

 private:
  /// One tap of one pixel: a0 += x[0..vl) * w0, a1 += x[vl..2vl) * w1 (input loads predicated).
  [[gnu::always_inline]] static inline void tap(svfloat32_t& a0, svfloat32_t& a1, const float* x, svbool_t p0,
                                                svbool_t p1, svfloat32_t w0, svfloat32_t w1) noexcept {
    const svbool_t all = svptrue_b32();
    a0 = svmla_f32_x(all, a0, svld1_f32(p0, x), w0);
    a1 = svmla_f32_x(all, a1, svld1_vnum_f32(p1, x, 1), w1);
  }

  /// Clamps and stores the two vectors of one pixel under the channel predicates.
  [[gnu::always_inline]] static inline void store(float* o, svfloat32_t a0, svfloat32_t a1, svbool_t p0, svbool_t p1,
                                                  svfloat32_t lo, svfloat32_t hi) noexcept {
    const svbool_t all = svptrue_b32();
    svst1_f32(p0, o, svmin_f32_x(all, svmax_f32_x(all, a0, lo), hi));
    svst1_vnum_f32(p1, o, 1, svmin_f32_x(all, svmax_f32_x(all, a1, lo), hi));
  }

  /// KS > 0: the tap count is a compile-time constant; KS = 0: it is `ks_rt`.
  template <std::size_t KS>
  static void run_ks(std::size_t channels, std::size_t pixels, std::size_t ks_rt, const float* const* in,
                     std::size_t in_step, const void* packed, float* out, std::size_t out_stride,
                     const f32_clamp& clamp) noexcept {
    const std::size_t ks = KS != 0 ? KS : ks_rt;
    const svbool_t all = svptrue_b32();
    const std::uint64_t vl = svcntw(), crn = 2 * vl;
    const std::size_t block = packed_dw_block_bytes(crn, ks, sizeof(float), sizeof(float));
    const svfloat32_t lo = svdup_n_f32(clamp.min), hi = svdup_n_f32(clamp.max);
    const auto* blk = static_cast<const std::uint8_t*>(packed);
    for (std::uint64_t c0 = 0; c0 < channels; c0 += crn, blk += block) {
      const svbool_t p0 = svwhilelt_b32_u64(c0, channels), p1 = svwhilelt_b32_u64(c0 + vl, channels);
      const auto* bias = reinterpret_cast<const float*>(blk);
      const float* w = bias + crn;
      const svfloat32_t b0 = svld1_f32(all, bias), b1 = svld1_vnum_f32(all, bias, 1);
      const float* const* ip = in;
      float* o = out + c0;
      if constexpr (KS == 9) {
        // The block's 9 taps x 2 vectors of weights, in registers for every pixel.
        const svfloat32_t w00 = svld1_vnum_f32(all, w, 0), w01 = svld1_vnum_f32(all, w, 1);
        const svfloat32_t w10 = svld1_vnum_f32(all, w, 2), w11 = svld1_vnum_f32(all, w, 3);
        const svfloat32_t w20 = svld1_vnum_f32(all, w, 4), w21 = svld1_vnum_f32(all, w, 5);
        const svfloat32_t w30 = svld1_vnum_f32(all, w, 6), w31 = svld1_vnum_f32(all, w, 7);
        const svfloat32_t w40 = svld1_vnum_f32(all, w + 8 * vl, 0), w41 = svld1_vnum_f32(all, w + 8 * vl, 1);
        const svfloat32_t w50 = svld1_vnum_f32(all, w + 8 * vl, 2), w51 = svld1_vnum_f32(all, w + 8 * vl, 3);
        const svfloat32_t w60 = svld1_vnum_f32(all, w + 8 * vl, 4), w61 = svld1_vnum_f32(all, w + 8 * vl, 5);
        const svfloat32_t w70 = svld1_vnum_f32(all, w + 8 * vl, 6), w71 = svld1_vnum_f32(all, w + 8 * vl, 7);
        const svfloat32_t w80 = svld1_vnum_f32(all, w + 16 * vl, 0), w81 = svld1_vnum_f32(all, w + 16 * vl, 1);
        for (std::size_t px = pixels; px != 0; --px, ip += in_step, o += out_stride) {
          svfloat32_t a0 = b0, a1 = b1;
          tap(a0, a1, ip[0] + c0, p0, p1, w00, w01);
          tap(a0, a1, ip[1] + c0, p0, p1, w10, w11);
          tap(a0, a1, ip[2] + c0, p0, p1, w20, w21);
          tap(a0, a1, ip[3] + c0, p0, p1, w30, w31);
          tap(a0, a1, ip[4] + c0, p0, p1, w40, w41);
          tap(a0, a1, ip[5] + c0, p0, p1, w50, w51);
          tap(a0, a1, ip[6] + c0, p0, p1, w60, w61);
          tap(a0, a1, ip[7] + c0, p0, p1, w70, w71);
          tap(a0, a1, ip[8] + c0, p0, p1, w80, w81);
          store(o, a0, a1, p0, p1, lo, hi);
        }
      } else {
        for (std::size_t px = pixels; px != 0; --px, ip += in_step, o += out_stride) {
          svfloat32_t a0 = b0, a1 = b1;
          const float* wt = w;
          for (std::size_t t = 0; t < ks; ++t, wt += crn)
            tap(a0, a1, ip[t] + c0, p0, p1, svld1_f32(all, wt), svld1_vnum_f32(all, wt, 1));
          store(o, a0, a1, p0, p1, lo, hi);
        }
      }
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv_f32, tessera::arch::sve> {
  using type = tessera::kernels::dwconv_f32_2vl_sve_fmla;
};
