/// @file dwconv_f32_3x2v_avx512_fma.hpp
/// fp32 depthwise convolution (unipass, indirection buffer; contract in dwconv/op.hpp) on x86-64
/// AVX-512F (the `avx512_vnni` tag; only F is used) with FMA.
///
/// Channel tile cr = 2v = 32 (v = 16 fp32 lanes of a zmm): packed blocks of float bias[32], then
/// float w[ks][32], two cache lines per tap. Register tile: NP output pixels x 32 channels (2 NP
/// accumulators). Per tap of a pass over a block: 2 weight loads, NP tap-pointer loads and 2 NP
/// FMAs with the input as memory operand. Pixels p..p+NP-1 form a group and the blocks are the
/// inner loop (each tap pointer's channels are read in address order); 1..NP-1 remaining pixels
/// take the same code with a smaller tile. ks = 9 and ks = 25 are compile-time specialisations
/// (taps unrolled); any other ks runs the same code with a run-time tap loop.
/// Results: every accumulator starts at the bias and takes the taps t = 0..ks-1 in order, one FMA
/// each: the scalar kernel's chain (std::fma), identical bit for bit to dwconv_f32_scalar, except
/// that the clamp uses max/min, which may return +0.0 where the scalar's comparisons keep -0.0.
/// Tails: the last block's channels % 32 run the same tile with masked input loads and stores
/// (AVX-512 masked loads do not touch masked-off lanes): nothing at or past `channels` is read or
/// written; the packed block is read whole (padded channels are zero).
/// ISA: x86-64 AVX-512F (`-march=x86-64-v4 -mavx512vnni`, the avx512_vnni tag's flags).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_AVX512_VNNI
#error "dwconv_f32_3x2v_avx512_fma.hpp needs x86-64 AVX-512 (TESSERA_HAS_AVX512_VNNI; e.g. -march=x86-64-v4 -mavx512vnni)"
#endif

#include <cstddef>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>

#include <tessera/arch/avx512/intrinsics_begin.hpp>  // until intrinsics_end.hpp below

namespace tessera::kernels {

struct dwconv_f32_3x2v_avx512_fma {
  using arch = tessera::arch::avx512_vnni;
  static constexpr const char* name = "dwconv_f32_3x2v_avx512_fma";

 private:
  static constexpr std::size_t L = 16;      ///< fp32 lanes of a zmm
  static constexpr std::size_t CR = 2 * L;  ///< channels per packed block
  static constexpr std::size_t NP = 3;      ///< pixels per register tile

 public:
  /// Channels per packed block.
  static std::size_t cr() noexcept { return CR; }

  /// out[p][c] = clamp(bias[c] + sum_t in[p * in_step + t][c] * w[t][c], clamp.min, clamp.max).
  /// @param[in]  in      pixels * in_step tap pointers (each to `channels` floats, or the zero row)
  /// @param[in]  packed  pack_dw<float, float>(channels, ks, cr(), ...) output
  /// @param[out] out     pixel p's `channels` outputs at out + p * out_stride
  static void run(std::size_t channels, std::size_t pixels, std::size_t ks, const float* const* in,
                  std::size_t in_step, const void* packed, float* out, std::size_t out_stride,
                  const f32_clamp& clamp) noexcept {
    dispatch_taps(ks, [&](auto taps) {
      constexpr std::size_t KS = decltype(taps)::value;
      const tail t{channels};
      const __m512 lo = _mm512_set1_ps(clamp.min), hi = _mm512_set1_ps(clamp.max);
      const float* w = static_cast<const float*>(packed);
      std::size_t p = 0;
      for (; p + NP <= pixels; p += NP) group<KS, NP>(t, ks, in + p * in_step, in_step, w, out + p * out_stride, out_stride, lo, hi);
      if (p + 2 <= pixels) {
        group<KS, 2>(t, ks, in + p * in_step, in_step, w, out + p * out_stride, out_stride, lo, hi);
        p += 2;
      }
      if (p < pixels) group<KS, 1>(t, ks, in + p * in_step, in_step, w, out + p * out_stride, out_stride, lo, hi);
    });
  }

 private:
  /// The channel split: full blocks below `cfull`, then masks m0 / m1 for the two vectors of the
  /// last, partial block (m1 = 0 when it holds at most 16 channels).
  struct tail {
    std::size_t cfull;
    __mmask16 m0, m1;
    explicit tail(std::size_t channels) noexcept : cfull(channels / CR * CR) {
      const std::size_t r = channels - cfull;
      m0 = static_cast<__mmask16>(r >= L ? 0xFFFFu : (1u << r) - 1);
      m1 = static_cast<__mmask16>(r > L ? (1u << (r - L)) - 1 : 0u);
    }
  };

  /// N pixels, every channel: the full blocks, then the partial one (masked).
  template <std::size_t KS, std::size_t N>
  static void group(const tail& t, std::size_t ks, const float* const* in, std::size_t in_step, const float* w,
                    float* out, std::size_t out_stride, const __m512 lo, const __m512 hi) noexcept {
    const std::size_t block = CR * ((KS != 0 ? KS : ks) + 1);
    std::size_t c = 0;
    for (; c < t.cfull; c += CR, w += block) tile<KS, N, false>(c, ks, in, in_step, w, out, out_stride, lo, hi, 0, 0);
    if (t.m0 != 0) tile<KS, N, true>(c, ks, in, in_step, w, out, out_stride, lo, hi, t.m0, t.m1);
  }

  template <bool Masked> [[gnu::always_inline]] static __m512 load(const float* p, __mmask16 m) noexcept {
    if constexpr (Masked) return _mm512_maskz_loadu_ps(m, p);
    else return _mm512_loadu_ps(p);
  }
  template <bool Masked> [[gnu::always_inline]] static void store(float* p, __mmask16 m, __m512 v) noexcept {
    if constexpr (Masked) _mm512_mask_storeu_ps(p, m, v);
    else _mm512_storeu_ps(p, v);
  }

  /// Channels c..c+31 (block at w) of N pixels (in[j * in_step + t], out + j * out_stride, j < N).
  template <std::size_t KS, std::size_t N, bool Masked>
  [[gnu::always_inline]] static inline void tile(std::size_t c, std::size_t ks_rt, const float* const* in,
                                                 std::size_t in_step, const float* w, float* out,
                                                 std::size_t out_stride, const __m512 lo, const __m512 hi,
                                                 __mmask16 m0, __mmask16 m1) noexcept {
    const std::size_t ks = KS != 0 ? KS : ks_rt;
    const __m512 b0 = _mm512_loadu_ps(w), b1 = _mm512_loadu_ps(w + L);
    __m512 a0[N], a1[N];
#pragma GCC unroll 8
    for (std::size_t j = 0; j < N; ++j) a0[j] = b0, a1[j] = b1;
    const float* wt = w + CR;
#pragma GCC unroll 32
    for (std::size_t t = 0; t < ks; ++t, wt += CR) {
      const __m512 w0 = _mm512_loadu_ps(wt), w1 = _mm512_loadu_ps(wt + L);
#pragma GCC unroll 8
      for (std::size_t j = 0; j < N; ++j) {
        const float* x = in[j * in_step + t] + c;
        a0[j] = _mm512_fmadd_ps(load<Masked>(x, m0), w0, a0[j]);
        a1[j] = _mm512_fmadd_ps(load<Masked>(x + L, m1), w1, a1[j]);
      }
    }
#pragma GCC unroll 8
    for (std::size_t j = 0; j < N; ++j) {
      store<Masked>(out + j * out_stride + c, m0, _mm512_min_ps(_mm512_max_ps(a0[j], lo), hi));
      store<Masked>(out + j * out_stride + c + L, m1, _mm512_min_ps(_mm512_max_ps(a1[j], lo), hi));
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv_f32, tessera::arch::avx512_vnni> {
  using type = tessera::kernels::dwconv_f32_3x2v_avx512_fma;
};

#include <tessera/arch/avx512/intrinsics_end.hpp>
