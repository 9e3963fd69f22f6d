/// @file gemm_f32_4x4_scalar.hpp
/// Portable fp32 GEMM, 4 rows x 4 columns per tile, consuming op_f32.hpp's packed B (nr = 4).
/// The oracle for every vector variant (with Eigen as an independent float reference).
/// Interface shared by all `gemm_f32_*` variants:
///   nr(): column block of the packed B (may depend on the vector length at run time)
///   run(m, n, k, a, a_stride, packed_b, c, c_stride, clamp)
#pragma once
#include <algorithm>
#include <cstddef>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op_f32.hpp>

namespace tessera::kernels {

struct gemm_f32_4x4_scalar {
  using arch = tessera::arch::scalar;
  static constexpr const char* name = "gemm_f32_4x4_scalar";
  static std::size_t nr() noexcept { return 4; }

  /// C[m][n] = clamp(sum_k A[m][k] B[k][n] + bias[n]); M tails by row clamping, N tails by a
  /// partial store. Reads exactly M x K of A and writes exactly M x N of C.
  static void run(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t a_stride,
                  const void* packed_b, float* c, std::size_t c_stride, const f32_clamp& p) noexcept {
    constexpr std::size_t MR = 4, NR = 4;
    const float lo = p.min, hi = p.max;
    for (std::size_t n0 = 0; n0 < n; n0 += NR) {
      const float* blk = static_cast<const float*>(packed_b) + (n0 / NR) * NR * (k + 1);
      const std::size_t nb = std::min(NR, n - n0);
      for (std::size_t m0 = 0; m0 < m; m0 += MR) {
        const std::size_t mb = std::min(MR, m - m0);
        float acc[MR][NR];
        for (std::size_t i = 0; i < MR; ++i)
          for (std::size_t j = 0; j < NR; ++j) acc[i][j] = blk[j];
        const float* w = blk + NR;
        for (std::size_t kk = 0; kk < k; ++kk, w += NR)
          for (std::size_t i = 0; i < MR; ++i) {
            const float av = a[(m0 + std::min(i, mb - 1)) * a_stride + kk];  // row clamping
            for (std::size_t j = 0; j < NR; ++j) acc[i][j] += av * w[j];
          }
        for (std::size_t i = 0; i < mb; ++i)
          for (std::size_t j = 0; j < nb; ++j) c[(m0 + i) * c_stride + n0 + j] = std::clamp(acc[i][j], lo, hi);
      }
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::gemm_f32, tessera::arch::scalar> {
  using type = tessera::kernels::gemm_f32_4x4_scalar;
};
