/// @file op.hpp
/// Quantized GEMM op descriptor and its packed-weight format, shared by every variant.
///
/// C[m][n] = requant( sum_k A[m][k] * W[n][k] + bias'[n] + row_offset[m] )
///
/// A is int8 row-major (activations, M x K, row stride in elements). W is int8 [N][K] (TFLite's
/// fully-connected / OHWI weight order), packed once by `pack_qs8_weights` into blocks of `nr`
/// output channels:
///
///     for each block of nr channels:  int32 bias'[nr]                       (0 for padded channels)
///                                     int8  w[ceil(K/kr)][nr][kr]            (0 for padding)
///
/// with bias'[n] = bias[n] - input_zp * sum_k W[n][k] + K * input_zp * weight_zp, so the input zero
/// point costs nothing at run time; a weight zero point (per-tensor FC only) adds
/// row_offset[m] = -weight_zp * sum_k A[m][k], computed by the operator. int32 wraps consistently,
/// so this regrouping equals TFLite's sum of (a - zin) * (w - zw) bit for bit.
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>

namespace tessera::op {
/// int8 x int8 -> int8 GEMM with a fused output stage (requant::per_tensor or per_channel).
struct gemm_qs8 {};
}  // namespace tessera::op

namespace tessera::kernels {

/// Bytes of packed weights for N channels of depth K in blocks of `nr` x `kr`; 0 if the size does
/// not fit in size_t (a 32-bit target) or N or K exceeds 2^31.
constexpr std::size_t packed_qs8_bytes(std::size_t n, std::size_t k, std::size_t nr, std::size_t kr) noexcept {
  constexpr std::uint64_t max_dim = std::uint64_t{1} << 31;
  if (n > max_dim || k > max_dim) return 0;
  const std::uint64_t blocks = (n + nr - 1) / nr, kpad = (std::uint64_t{k} + kr - 1) / kr * kr;
  const std::uint64_t bytes = blocks * (nr * sizeof(std::int32_t) + nr * kpad);
  return bytes > std::numeric_limits<std::size_t>::max() ? 0 : static_cast<std::size_t>(bytes);
}

/// Packs W[N][K] (row stride `w_stride`) and bias[N] (nullable) into the format above.
/// `weight_at(n, k)` lets int4 sources share the code. `packed` must be 4-byte aligned.
template <class WeightAt>
void pack_qs8_weights(std::size_t n, std::size_t k, std::size_t nr, std::size_t kr, WeightAt&& weight_at,
                      const std::int32_t* bias, std::int32_t input_zp, std::int32_t weight_zp, void* packed) noexcept {
  auto* out = static_cast<std::uint8_t*>(packed);
  const std::size_t kpad = (k + kr - 1) / kr * kr;
  for (std::size_t n0 = 0; n0 < n; n0 += nr) {
    auto* b = reinterpret_cast<std::int32_t*>(out);
    for (std::size_t j = 0; j < nr; ++j) {
      const std::size_t ch = n0 + j;
      if (ch >= n) { b[j] = 0; continue; }
      std::uint32_t wsum = 0;
      for (std::size_t kk = 0; kk < k; ++kk) wsum += static_cast<std::uint32_t>(static_cast<std::int32_t>(weight_at(ch, kk)));
      // bias - zin * sum(w) + K * zin * zw, in wrapping int32 arithmetic.
      const std::uint32_t v = static_cast<std::uint32_t>(bias ? bias[ch] : 0) -
                              static_cast<std::uint32_t>(input_zp) * wsum +
                              static_cast<std::uint32_t>(k) * static_cast<std::uint32_t>(input_zp) *
                                  static_cast<std::uint32_t>(weight_zp);
      b[j] = static_cast<std::int32_t>(v);
    }
    auto* w = reinterpret_cast<std::int8_t*>(out + nr * sizeof(std::int32_t));
    for (std::size_t k0 = 0; k0 < kpad; k0 += kr)
      for (std::size_t j = 0; j < nr; ++j)
        for (std::size_t kk = 0; kk < kr; ++kk) {
          const std::size_t ch = n0 + j, d = k0 + kk;
          *w++ = (ch < n && d < k) ? static_cast<std::int8_t>(weight_at(ch, d)) : std::int8_t{0};
        }
    out += nr * sizeof(std::int32_t) + nr * kpad;
  }
}

}  // namespace tessera::kernels
