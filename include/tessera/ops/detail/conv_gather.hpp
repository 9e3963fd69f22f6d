/// @file conv_gather.hpp
/// The panel gather behind conv2d and transpose_conv2d: copies the receptive fields of a block of
/// output pixels into a row-major (pixels x kernel_h*kernel_w*channels) panel in the caller's
/// workspace, so that any GEMM microkernel computes the block. Taps outside the input are filled
/// with the input zero point (0 for f32/s16), which contributes nothing (see op.hpp's folding).
///
/// Panel or indirect GEMM: the panel is sized to stay in L1/L2 (the caller picks the workspace), so
/// each input row is copied once per block and then read from cache by the GEMM, and the GEMM
/// microkernels of every tag serve convolution unchanged (same packing, same tails, same bit-exact
/// epilogues). Where a tap carries few channels (the RGB first layer) it is also the faster of the
/// two; from 32 channels per group conv2d_f32 reads the input through tap pointers instead on
/// kernels that have an indirect entry (conv_indirect.hpp; docs/performance.md, bench_conv_algo).
///
/// `gather_phase_panel` is the transposed-convolution form: one phase of the sub-pixel split
/// (conv2d.hpp) is a dense stride-1 correlation, so its panel rows are the forward gather's with
/// stride 1, no dilation and a (signed) offset instead of padding.
#pragma once
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <tessera/arch/native.hpp>
#if TESSERA_HAS_AVX512_VBMI
#include <tessera/kernels/gather/avx512/gather_s8_kh4_avx512_vbmi.hpp>
#elif TESSERA_HAS_NEON
#include <tessera/kernels/gather/neon/gather_s8_kh4_neon_tbl.hpp>
#endif

namespace tessera::detail {

/// The byte-permute kernel of 1-byte interior rows (gather_plan, gather_panel), where the build
/// has one: AVX-512 VBMI permutes on x86-64, Neon TBL lookups on AArch64 (different ISAs, never
/// both). Both have the same make / run interface.
#if TESSERA_HAS_AVX512_VBMI
#define TESSERA_GATHER_BYTE_ROWS 1
using gather_byte_rows = kernels::gather_s8_kh4_avx512_vbmi;
#elif TESSERA_HAS_NEON
#define TESSERA_GATHER_BYTE_ROWS 1
using gather_byte_rows = kernels::gather_s8_kh4_neon_tbl;
#else
#define TESSERA_GATHER_BYTE_ROWS 0
#endif

/// Where tap `k` of output coordinate `o` reads along one spatial axis: the input coordinate, or
/// -1 when the tap falls in the padding (or, for a transposed conv, between input samples).
struct conv_axis {
  std::int64_t stride = 1, dilation = 1, pad = 0, in = 0;
  bool transposed = false;
  constexpr std::int64_t at(std::int64_t o, std::int64_t k) const noexcept {
    if (!transposed) {
      const std::int64_t i = o * stride - pad + k * dilation;
      return i >= 0 && i < in ? i : -1;
    }
    // transposed: o = i * stride - pad + k  =>  i = (o + pad - k) / stride when it divides exactly
    const std::int64_t num = o + pad - k;
    if (num < 0 || num % stride != 0) return -1;
    const std::int64_t i = num / stride;
    return i < in ? i : -1;
  }
  /// Output coordinates [lo, hi) of a forward axis whose windows of `taps` taps lie inside the
  /// input (the interior; lo == hi when none), of out coordinates in all.
  struct range {
    std::size_t lo, hi;
  };
  constexpr range interior(std::size_t taps, std::size_t out) const noexcept {
    const std::size_t lo = std::min(out, static_cast<std::size_t>((pad + stride - 1) / stride));
    const std::int64_t last = in - 1 - static_cast<std::int64_t>(taps - 1) * dilation + pad;  // o * stride <= last
    const std::size_t hi = last < 0 ? 0 : std::min(out, static_cast<std::size_t>(last / stride) + 1);
    return {lo, std::max(lo, hi)};
  }
};

/// `count` panel rows, `dst_step` / `src_step` elements apart, each made of `kh` runs of `Bytes`
/// bytes: run ky from src + ky * src_ky to the row's next Bytes. Fixed-size copies the compiler
/// inlines (a memcpy call per 9-27 element run cost more than the copy itself), each row written
/// once from front to back (the former order, tap row by tap row across all rows, gathered layer
/// (a) of bench_conv 1.06-1.37x slower with clang 16, the same with g++ 12). KH: kh fixed at compile
/// time (0: kh at run time; 3x3 windows get the unrolled copy, which clang needs).
template <std::size_t Bytes, std::size_t KH, class T>
void copy_rows_fixed(T* dst, std::size_t dst_step, const T* src, std::size_t src_step, std::size_t src_ky,
                     std::size_t kh, std::size_t count) noexcept {
  if constexpr (KH != 0) kh = KH;
  for (std::size_t i = 0; i < count; ++i, dst += dst_step, src += src_step) {
    auto* d = reinterpret_cast<unsigned char*>(dst);
    const T* s = src;
    for (std::size_t ky = 0; ky < kh; ++ky, d += Bytes, s += src_ky) std::memcpy(d, s, Bytes);
  }
}
template <std::size_t Bytes, class T>
void copy_rows(T* dst, std::size_t dst_step, const T* src, std::size_t src_step, std::size_t src_ky, std::size_t kh,
               std::size_t count) noexcept {
  if (kh == 3) return copy_rows_fixed<Bytes, 3>(dst, dst_step, src, src_step, src_ky, kh, count);
  copy_rows_fixed<Bytes, 0>(dst, dst_step, src, src_step, src_ky, kh, count);
}

/// d[0, b) = s[0, b) with piece size P, the one `with_piece` picks for b: for P <= b <= 2P two
/// fixed-size copies of P bytes (the second ending at b; they overlap unless b = 2P), a short run of
/// a length known only at run time without a library call per run; P = 0: memcpy (b > 64).
template <std::size_t P>
[[gnu::always_inline]] inline void copy_piece(unsigned char* d, const unsigned char* s, std::size_t b) noexcept {
  if constexpr (P == 0) {
    std::memcpy(d, s, b);
  } else {
    std::memcpy(d, s, P);
    std::memcpy(d + b - P, s + b - P, P);
  }
}
/// f(std::integral_constant<std::size_t, P>{}) with copy_piece's P for runs of b >= 1 bytes.
/// (Both always inlined: without it GCC 12 for the M55 inlines the edge copies differently, 2.5%
/// more instructions on the kws layer.)
template <class F>
[[gnu::always_inline]] inline void with_piece(std::size_t b, F&& f) noexcept {
  using piece = std::size_t;
  if (b > 64) f(std::integral_constant<piece, 0>{});
  else if (b > 32) f(std::integral_constant<piece, 32>{});
  else if (b > 16) f(std::integral_constant<piece, 16>{});
  else if (b > 8) f(std::integral_constant<piece, 8>{});
  else if (b > 4) f(std::integral_constant<piece, 4>{});
  else if (b > 1) f(std::integral_constant<piece, 2>{});
  else f(std::integral_constant<piece, 1>{});
}

/// d[0, n) = s[0, n) for a run whose length varies from call to call (the gather's edge pixels).
template <class T>
inline void copy_short(T* dst, const T* src, std::size_t n) noexcept {
  const std::size_t b = n * sizeof(T);
  auto* d = reinterpret_cast<unsigned char*>(dst);
  const auto* s = reinterpret_cast<const unsigned char*>(src);
  if (b > 1) with_piece(b, [&](auto piece) { copy_piece<decltype(piece)::value>(d, s, b); });
  else if (b == 1) *d = *s;
}

/// copy_rows for runs of `n` elements: the common first-layer sizes take a fixed-size path (1-byte
/// elements: 3x3 windows of 1, 2, 3, 4, 8 and 16 channels, 5x5 and 7x7 of 1 and 3; the 2- and
/// 4-byte sizes these give: 3x3 of 1-4 and 8 fp32 channels, 5x5/7x7 of 1 and 3); other runs of
/// up to 64 bytes two overlapping fixed-size copies (copy_piece), longer ones memcpy. The sizes
/// in the table are 1.2-2.2x faster per layer than copy_piece (tools/x86-probe/gather_runs.cpp).
template <class T>
void copy_rows(T* dst, std::size_t dst_step, const T* src, std::size_t src_step, std::size_t src_ky, std::size_t kh,
               std::size_t count, std::size_t n) noexcept {
  switch (n * sizeof(T)) {
    case 3: return copy_rows<3>(dst, dst_step, src, src_step, src_ky, kh, count);
    case 5: return copy_rows<5>(dst, dst_step, src, src_step, src_ky, kh, count);
    case 6: return copy_rows<6>(dst, dst_step, src, src_step, src_ky, kh, count);
    case 7: return copy_rows<7>(dst, dst_step, src, src_step, src_ky, kh, count);
    case 9: return copy_rows<9>(dst, dst_step, src, src_step, src_ky, kh, count);
    case 12: return copy_rows<12>(dst, dst_step, src, src_step, src_ky, kh, count);
    case 15: return copy_rows<15>(dst, dst_step, src, src_step, src_ky, kh, count);
    case 18: return copy_rows<18>(dst, dst_step, src, src_step, src_ky, kh, count);
    case 20: return copy_rows<20>(dst, dst_step, src, src_step, src_ky, kh, count);
    case 21: return copy_rows<21>(dst, dst_step, src, src_step, src_ky, kh, count);
    case 24: return copy_rows<24>(dst, dst_step, src, src_step, src_ky, kh, count);
    case 28: return copy_rows<28>(dst, dst_step, src, src_step, src_ky, kh, count);
    case 30: return copy_rows<30>(dst, dst_step, src, src_step, src_ky, kh, count);
    case 36: return copy_rows<36>(dst, dst_step, src, src_step, src_ky, kh, count);
    case 42: return copy_rows<42>(dst, dst_step, src, src_step, src_ky, kh, count);
    case 48: return copy_rows<48>(dst, dst_step, src, src_step, src_ky, kh, count);
    case 60: return copy_rows<60>(dst, dst_step, src, src_step, src_ky, kh, count);
    case 84: return copy_rows<84>(dst, dst_step, src, src_step, src_ky, kh, count);
    case 96: return copy_rows<96>(dst, dst_step, src, src_step, src_ky, kh, count);
    default: {
      const std::size_t b = n * sizeof(T);
      with_piece(b, [&](auto piece) {
        for (std::size_t i = 0; i < count; ++i, dst += dst_step, src += src_step) {
          auto* d = reinterpret_cast<unsigned char*>(dst);
          const auto* s = reinterpret_cast<const unsigned char*>(src);
          for (std::size_t ky = 0; ky < kh; ++ky, d += b, s += src_ky * sizeof(T))
            copy_piece<decltype(piece)::value>(d, s, b);
        }
      });
    }
  }
}

/// What the gather prepares once per convolution: on AVX-512 VBMI builds the byte-permute indices
/// of 1-byte rows (kernels/gather/avx512: first layers' short window runs; MobileNetV1's first
/// layer gathers 2.6x faster, the whole int8 layer runs 1.12x faster), on AArch64 the TBL indices
/// of the same rows (kernels/gather/neon); nothing elsewhere.
struct gather_plan {
#if TESSERA_GATHER_BYTE_ROWS
  gather_byte_rows::plan rows;
#endif
  /// For the panels of a convolution with these sizes and axes, groups of `cg` of `in_c` channels.
  template <class T>
  void prepare([[maybe_unused]] std::size_t in_c, [[maybe_unused]] std::size_t cg, [[maybe_unused]] std::size_t kh,
               [[maybe_unused]] std::size_t kw, [[maybe_unused]] const conv_axis& ay,
               [[maybe_unused]] const conv_axis& ax) noexcept {
#if TESSERA_GATHER_BYTE_ROWS
    rows.pixels = 0;
    if constexpr (sizeof(T) == 1)
      if (!ay.transposed && !ax.transposed && cg == in_c && ax.dilation == 1)
        gather_byte_rows::make(rows, kw * cg, ax.stride * in_c, kh);
#endif
  }
};

/// One panel: rows for output pixels [p0, p0 + rows) of an (batch, out_h, out_w) grid, each row
/// `kh * kw * cg` values in (ky, kx, c) order, read from channels [c0, c0 + cg) of the NHWC input
/// (`in_w` columns, `in_c` channels per pixel).
template <class T>
void gather_panel(T* panel, std::size_t p0, std::size_t rows, const T* in, std::size_t in_h, std::size_t in_w,
                  std::size_t in_c, std::size_t c0, std::size_t cg, std::size_t out_h, std::size_t out_w,
                  std::size_t kh, std::size_t kw, const conv_axis& ay, const conv_axis& ax, T fill,
                  [[maybe_unused]] const gather_plan* plan = nullptr) noexcept {
  const std::size_t row_len = kh * kw * cg;
  // Output coordinates advance incrementally (no division per row).
  std::size_t ox = p0 % out_w, oy = (p0 / out_w) % out_h, n = p0 / (out_w * out_h);
  const bool forward = !ay.transposed && !ax.transposed;
  // A run of kw taps (dilation 1, window inside the row) is one contiguous copy when the group
  // spans every channel.
  const bool whole_pixels = cg == in_c && ax.dilation == 1;
  const std::int64_t w_in = static_cast<std::int64_t>(in_w), h_in = static_cast<std::int64_t>(in_h);
  const std::int64_t x_span = static_cast<std::int64_t>(kw - 1) * ax.dilation;
  // Output columns whose window lies inside the input in x: [ox_lo, ox_hi).
  const conv_axis::range inside = forward ? ax.interior(kw, out_w) : conv_axis::range{0, 0};
  const std::size_t ox_lo = inside.lo, ox_hi = inside.hi;
  // Byte permutes (gather_plan) take the interior and also kernel rows in the padding and the
  // right edge: columns [ox_lo, ox_end), whose windows start inside the row.
  bool permute = false;
  std::size_t ox_end = ox_hi;
#if TESSERA_GATHER_BYTE_ROWS
  if constexpr (sizeof(T) == 1) {
    permute = forward && whole_pixels && plan != nullptr && plan->rows.pixels != 0;
    if (permute)
      ox_end = std::max(ox_hi, std::min(out_w, static_cast<std::size_t>((w_in + ax.pad + ax.stride - 1) / ax.stride)));
  }
#endif
  for (std::size_t r = 0; r < rows; ++r) {
    T* dst = panel + r * row_len;
    const T* image = in + n * in_h * in_w * in_c + c0;
    // A run of interior pixels of one output row, every tap row inside the input: each row is kh
    // contiguous runs of kw * cg values (the same run length each time).
    if (forward && whole_pixels && ox >= ox_lo && ox < ox_end) {
      const std::int64_t iy0 = static_cast<std::int64_t>(oy) * ay.stride - ay.pad;
      const std::int64_t iy_last = iy0 + static_cast<std::int64_t>(kh - 1) * ay.dilation;
      if (permute || (iy0 >= 0 && iy_last < h_in)) {
        const std::size_t run = std::min(rows - r, ox_end - ox);
        const std::size_t ix0 = ox * static_cast<std::size_t>(ax.stride) - static_cast<std::size_t>(ax.pad);
        const std::size_t src_ky = static_cast<std::size_t>(ay.dilation) * in_w * in_c;
#if TESSERA_GATHER_BYTE_ROWS
        if constexpr (sizeof(T) == 1) {
          if (permute) {
            const std::int8_t* src[4] = {};
            for (std::size_t ky = 0; ky < kh; ++ky) {
              const std::int64_t iy = iy0 + static_cast<std::int64_t>(ky) * ay.dilation;
              if (iy >= 0 && iy < h_in)
                src[ky] = reinterpret_cast<const std::int8_t*>(image + (static_cast<std::size_t>(iy) * in_w + ix0) * in_c);
            }
            gather_byte_rows::run(plan->rows, reinterpret_cast<std::int8_t*>(dst), src, static_cast<std::int8_t>(fill),
                                  run, (in_w - ix0) * in_c,
                                  reinterpret_cast<const std::int8_t*>(image + in_h * in_w * in_c));
          }
        }
        if (!permute)
#endif
          copy_rows(dst, row_len, image + (static_cast<std::size_t>(iy0) * in_w + ix0) * in_c, ax.stride * in_c, src_ky,
                    kh, run, kw * cg);
        r += run - 1;
        ox += run;
        if (ox == out_w) {
          ox = 0;
          if (++oy == out_h) {
            oy = 0;
            ++n;
          }
        }
        continue;
      }
    }
    if (forward) {
      const std::int64_t iy0 = static_cast<std::int64_t>(oy) * ay.stride - ay.pad;
      const std::int64_t ix0 = static_cast<std::int64_t>(ox) * ax.stride - ax.pad;
      const bool x_inside = ix0 >= 0 && ix0 + x_span < w_in;
      for (std::size_t ky = 0; ky < kh; ++ky) {
        const std::int64_t iy = iy0 + static_cast<std::int64_t>(ky) * ay.dilation;
        if (iy < 0 || iy >= h_in) {
          for (std::size_t i = 0; i < kw * cg; ++i) dst[i] = fill;
          dst += kw * cg;
          continue;
        }
        const T* row = image + static_cast<std::size_t>(iy) * in_w * in_c;
        if (x_inside && whole_pixels) {
          std::memcpy(dst, row + static_cast<std::size_t>(ix0) * in_c, kw * cg * sizeof(T));
          dst += kw * cg;
          continue;
        }
        if (whole_pixels) {  // dilation 1: taps [a, b) inside the row are one run, fill around it
          const std::int64_t end = ix0 + x_span + 1;  // past the window's last tap
          const std::int64_t a = std::min(std::max<std::int64_t>(ix0, 0), end), b = std::max(std::min(end, w_in), a);
          const std::size_t before = static_cast<std::size_t>(a - ix0) * cg, inside = static_cast<std::size_t>(b - a) * cg;
          std::fill(dst, dst + before, fill);
          if (inside != 0) copy_short(dst + before, row + static_cast<std::size_t>(a) * in_c, inside);
          std::fill(dst + before + inside, dst + kw * cg, fill);
          dst += kw * cg;
          continue;
        }
        for (std::size_t kx = 0; kx < kw; ++kx, dst += cg) {
          const std::int64_t ix = ix0 + static_cast<std::int64_t>(kx) * ax.dilation;
          if (ix < 0 || ix >= w_in) {
            for (std::size_t i = 0; i < cg; ++i) dst[i] = fill;
          } else {
            std::memcpy(dst, row + static_cast<std::size_t>(ix) * in_c, cg * sizeof(T));
          }
        }
      }
    } else {
      for (std::size_t ky = 0; ky < kh; ++ky) {
        const std::int64_t iy = ay.at(static_cast<std::int64_t>(oy), static_cast<std::int64_t>(ky));
        for (std::size_t kx = 0; kx < kw; ++kx, dst += cg) {
          const std::int64_t ix = iy < 0 ? -1 : ax.at(static_cast<std::int64_t>(ox), static_cast<std::int64_t>(kx));
          if (ix < 0) {
            for (std::size_t i = 0; i < cg; ++i) dst[i] = fill;
          } else {
            std::memcpy(dst, image + (static_cast<std::size_t>(iy) * in_w + static_cast<std::size_t>(ix)) * in_c,
                        cg * sizeof(T));
          }
        }
      }
    }
    if (++ox == out_w) {
      ox = 0;
      if (++oy == out_h) {
        oy = 0;
        ++n;
      }
    }
  }
}

/// One panel of a phase of a transposed convolution: rows for pixels [p0, p0 + rows) of the
/// phase's (batch, nh, nw) grid, each `th * tw * in_c` values in (a, b, c) order, where pixel
/// (n, r, c) reads input pixel (iy0 + r + a, ix0 + c + b) of image n for tap a < th, b < tw, and
/// `fill` where that lies outside the input. Interior pixels (every tap inside) are `th` contiguous
/// runs of tw * in_c values, copied as the forward gather's interior (copy_rows).
template <class T>
void gather_phase_panel(T* panel, std::size_t p0, std::size_t rows, const T* in, std::size_t in_h, std::size_t in_w,
                        std::size_t in_c, std::size_t nh, std::size_t nw, std::size_t th, std::size_t tw,
                        std::int64_t iy0, std::int64_t ix0, T fill) noexcept {
  const std::size_t run_len = tw * in_c, row_len = th * run_len;
  const std::int64_t h_in = static_cast<std::int64_t>(in_h), w_in = static_cast<std::int64_t>(in_w);
  const std::int64_t taps_h = static_cast<std::int64_t>(th), taps_w = static_cast<std::int64_t>(tw);
  // Phase columns whose tw taps lie inside the input: [c_lo, c_hi).
  const std::int64_t lo = ix0 < 0 ? -ix0 : 0, hi = w_in - taps_w + 1 - ix0;
  const std::size_t c_lo = static_cast<std::size_t>(std::min<std::int64_t>(lo, static_cast<std::int64_t>(nw)));
  const std::size_t c_hi = hi <= lo ? c_lo : static_cast<std::size_t>(std::min<std::int64_t>(hi, static_cast<std::int64_t>(nw)));
  // Any pixel: tap rows and columns checked one by one.
  auto edge = [&](T* dst, const T* image, std::int64_t iy, std::int64_t ix) {
    const bool x_inside = ix >= 0 && ix + taps_w <= w_in;
    for (std::int64_t a = 0; a < taps_h; ++a, ++iy) {
      if (iy < 0 || iy >= h_in) {
        for (std::size_t i = 0; i < run_len; ++i) dst[i] = fill;
        dst += run_len;
        continue;
      }
      const T* row = image + static_cast<std::size_t>(iy) * in_w * in_c;
      if (x_inside) {
        std::memcpy(dst, row + static_cast<std::size_t>(ix) * in_c, run_len * sizeof(T));
        dst += run_len;
        continue;
      }
      for (std::int64_t b = 0; b < taps_w; ++b, dst += in_c) {
        const std::int64_t x = ix + b;
        if (x < 0 || x >= w_in) {
          for (std::size_t i = 0; i < in_c; ++i) dst[i] = fill;
        } else {
          std::memcpy(dst, row + static_cast<std::size_t>(x) * in_c, in_c * sizeof(T));
        }
      }
    }
  };
  std::size_t c = p0 % nw, r = (p0 / nw) % nh, n = p0 / (nw * nh);
  for (std::size_t i = 0; i < rows;) {
    const T* image = in + n * in_h * in_w * in_c;
    const std::int64_t iy = iy0 + static_cast<std::int64_t>(r);
    const std::size_t end = c + std::min(rows - i, nw - c);  // this call's pixels of phase row r: [c, end)
    const bool rows_inside = iy >= 0 && iy + taps_h <= h_in;
    while (c < end) {
      T* dst = panel + i * row_len;
      if (rows_inside && c >= c_lo && c < c_hi) {
        const std::size_t run = std::min(end, c_hi) - c;
        const std::int64_t ix = ix0 + static_cast<std::int64_t>(c);
        copy_rows(dst, row_len, image + (static_cast<std::size_t>(iy) * in_w + static_cast<std::size_t>(ix)) * in_c, in_c,
                  in_w * in_c, th, run, run_len);
        c += run;
        i += run;
        continue;
      }
      edge(dst, image, iy, ix0 + static_cast<std::int64_t>(c));
      ++c;
      ++i;
    }
    if (c == nw) {
      c = 0;
      if (++r == nh) {
        r = 0;
        ++n;
      }
    }
  }
}

}  // namespace tessera::detail
