/// @file conv_macs.hpp
/// The MAC count the convolution benchmarks report: as TFLite counts a conv (padding taps
/// included), and for a transposed conv only the useful ones (input pixel x tap pairs that land
/// inside the output), so the taps between input samples a naive transposed conv would
/// multiply are not credited.
#pragma once
#include <cstddef>
#include <cstdint>
#include <tessera/ops/conv_geometry.hpp>

namespace tessera_bench {

/// Taps of one axis of a transposed conv that land inside the output: pairs (input i, tap k) with
/// 0 <= i*stride - pad + k < out.
inline double landing_pairs(std::size_t in, std::size_t k, std::size_t stride, std::size_t pad, std::size_t out) {
  double n = 0;
  for (std::size_t i = 0; i < in; ++i)
    for (std::size_t t = 0; t < k; ++t) {
      const std::int64_t o = static_cast<std::int64_t>(i * stride + t) - static_cast<std::int64_t>(pad);
      n += o >= 0 && o < static_cast<std::int64_t>(out);
    }
  return n;
}
/// MACs of a layer: as TFLite counts a conv (padding taps included), useful ones for a transposed conv.
inline double macs(const tessera::conv_geometry& g) {
  if (g.transposed)
    return static_cast<double>(g.batch) * landing_pairs(g.in_h, g.kernel_h, g.stride_h, g.pad_top, g.out_h) *
           landing_pairs(g.in_w, g.kernel_w, g.stride_w, g.pad_left, g.out_w) * static_cast<double>(g.in_c) *
           static_cast<double>(g.out_c);
  return static_cast<double>(g.out_pixels()) * static_cast<double>(g.out_c) * static_cast<double>(g.depth());
}
}  // namespace tessera_bench
