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
///
/// Indirect GEMM (optional, `has_indirect_f32<K>`): a kernel may also offer
///
///     static std::size_t mr() noexcept;   // rows per tile of the indirection buffer
///     static void run_indirect(m, n, ks, kc, const float* const* ind, packed_b, c, c_stride, clamp) noexcept;
///
/// where the depth K = ks * kc is read as ks segments of kc floats: segment t of row i is at
/// ind[(i / mr) * ks * mr + t * mr + i % mr] (tiles of mr rows, tap-major inside a tile; entries of
/// rows >= m are never read). conv2d points segment t at the input pixel under kernel tap t (or at
/// a zero row), so a convolution needs no gathered copy of its windows. Results equal `run` on the
/// rows those pointers describe, bit for bit, except in a last tile of one row (where `run` may
/// sum in another order: a GEMV path).
#pragma once
#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
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

/// Bytes of packed B for N columns of depth K in blocks of `nr`; 0 if the size does not fit in
/// size_t (a 32-bit target) or N or K exceeds 2^31.
constexpr std::size_t packed_f32_bytes(std::size_t n, std::size_t k, std::size_t nr) noexcept {
  constexpr std::uint64_t max_dim = std::uint64_t{1} << 31;
  if (n > max_dim || k > max_dim) return 0;
  const std::uint64_t bytes = (std::uint64_t{n} + nr - 1) / nr * nr * (std::uint64_t{k} + 1) * sizeof(float);
  return bytes > std::numeric_limits<std::size_t>::max() ? 0 : static_cast<std::size_t>(bytes);
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

/// True when kernel K offers the indirect entry point described above.
template <class K>
concept has_indirect_f32 = requires(const float* const* ind, const void* b, float* c, const f32_clamp& p) {
  { K::mr() } -> std::convertible_to<std::size_t>;
  K::run_indirect(std::size_t{}, std::size_t{}, std::size_t{}, std::size_t{}, ind, b, c, std::size_t{}, p);
};

/// The blocking of the fp32 kernels' run / run_indirect (simd, AVX-512): the packed B is walked in
/// panels of whole blocks (`block_floats` floats each) that fit `panel_bytes` (an L2-sized panel),
/// and each panel meets every row tile of `mr` rows of A before the next:
/// f(j0, j1, i, rows) for blocks [j0, j1) and rows [i, i + rows).
template <class F>
inline void for_each_panel_tile(std::size_t m, std::size_t n, std::size_t nr, std::size_t mr,
                                std::size_t block_floats, std::size_t panel_bytes, F&& f) noexcept {
  const std::size_t blocks = (n + nr - 1) / nr;
  const std::size_t panel = std::max<std::size_t>(1, panel_bytes / (block_floats * sizeof(float)));
  for (std::size_t j0 = 0; j0 < blocks; j0 += panel) {
    const std::size_t j1 = std::min(blocks, j0 + panel);
    for (std::size_t i = 0; i < m; i += mr) f(j0, j1, i, std::min(mr, m - i));
  }
}

}  // namespace tessera::kernels
