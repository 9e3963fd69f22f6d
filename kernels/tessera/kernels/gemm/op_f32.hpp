/// @file op_f32.hpp
/// fp32 GEMM op descriptor and its packed-B format, shared by every f32 variant.
///
/// C[m][n] = clamp( sum_k A[m][k] * B[k][n] + bias[n], min, max )
///
/// A is row-major M x K (row stride in elements). B is packed once by `pack_f32_b` into blocks of
/// `nr` columns:
///
///     for each block of nr columns:  float bias[nr]          (0 for padded columns)
///                                    float b[K][nr]          (0 for padded columns)
///
/// The source of B is either a row-major K x N matrix (matmul) or N x K weights (fully connected),
/// read through an accessor, so one packer serves both.
#pragma once
#include <cstddef>
#include <limits>

namespace tessera::op {
/// fp32 x fp32 -> fp32 GEMM with a fused bias and clamp epilogue.
struct gemm_f32 {};
}  // namespace tessera::op

namespace tessera {
/// The fused fp32 epilogue: clamp to [min, max] after the bias (ReLU: min = 0; ReLU6: 0, 6).
struct f32_clamp {
  float min = -std::numeric_limits<float>::infinity();
  float max = std::numeric_limits<float>::infinity();
};
}  // namespace tessera

namespace tessera::kernels {

/// Bytes of packed B for N columns of depth K in blocks of `nr`.
constexpr std::size_t packed_f32_bytes(std::size_t n, std::size_t k, std::size_t nr) noexcept {
  return (n + nr - 1) / nr * nr * (k + 1) * sizeof(float);
}

/// Packs B (through `b_at(k, n)`) and bias[N] (nullable) into the format above.
template <class BAt>
void pack_f32_b(std::size_t n, std::size_t k, std::size_t nr, BAt&& b_at, const float* bias, float* packed) noexcept {
  for (std::size_t n0 = 0; n0 < n; n0 += nr) {
    for (std::size_t j = 0; j < nr; ++j) *packed++ = (n0 + j < n && bias != nullptr) ? bias[n0 + j] : 0.0f;
    for (std::size_t kk = 0; kk < k; ++kk)
      for (std::size_t j = 0; j < nr; ++j) *packed++ = n0 + j < n ? static_cast<float>(b_at(kk, n0 + j)) : 0.0f;
  }
}

}  // namespace tessera::kernels
