/// @file dwconv_qs16_common.hpp
/// Shared set-up and check of the 16x8 depthwise drivers (dwconv_qs16_neon.cpp,
/// dwconv_qs16_2x8_helium.cpp): the LCG they fill their data with, the indirection pointers of a
/// k x k stride-1 SAME window, and the bit-exact check against an int64 (or wrapping int32) sum +
/// tessera::requantize_one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/quant/requantize.hpp>

namespace tessera_perf {

inline std::uint32_t lcg(std::uint32_t& s) { return s = s * 1664525u + 1013904223u; }

/// ind[(y * hw + x) * k * k + t]: the input pixel under tap t of output (y, x) (stride 1, padding
/// k / 2), or `zero` (a row of `c` zeros) where the tap falls outside the hw x hw image.
inline void same_window_indirection(const std::int16_t** ind, const std::int16_t* input, const std::int16_t* zero,
                                    std::size_t hw, std::size_t c, std::size_t k) {
  const long r = static_cast<long>(k / 2), n = static_cast<long>(hw);
  for (std::size_t y = 0; y < hw; ++y)
    for (std::size_t x = 0; x < hw; ++x)
      for (std::size_t t = 0; t < k * k; ++t) {
        const long iy = static_cast<long>(y) + static_cast<long>(t / k) - r;
        const long ix = static_cast<long>(x) + static_cast<long>(t % k) - r;
        const bool in = iy >= 0 && ix >= 0 && iy < n && ix < n;
        ind[(y * hw + x) * k * k + t] =
            in ? input + (static_cast<std::size_t>(iy) * hw + static_cast<std::size_t>(ix)) * c : zero;
      }
}

/// 0 if every out[p][ch] equals requantize_one of bias + the sum of its ks taps (int64, or wrapped
/// to int32 for Acc = int32_t), else 1.
template <class Acc, class Q>
int check_dw_s16(std::size_t pix, std::size_t c, std::size_t ks, const std::int16_t* const* ind, const std::int8_t* w,
                 const std::int64_t* bias, const tessera::output_stage<Q>& stage, const std::int16_t* out) {
  for (std::size_t p = 0; p < pix; ++p)
    for (std::size_t ch = 0; ch < c; ++ch) {
      std::int64_t a = bias[ch];
      for (std::size_t t = 0; t < ks; ++t) a += std::int64_t{ind[p * ks + t][ch]} * w[t * c + ch];
      Acc acc;
      if constexpr (std::is_same_v<Acc, std::int32_t>) acc = static_cast<std::int32_t>(static_cast<std::uint32_t>(a));
      else acc = a;
      if (tessera::requantize_one<std::int16_t>(acc, stage, ch) != out[p * c + ch]) return 1;
    }
  return 0;
}

}  // namespace tessera_perf
