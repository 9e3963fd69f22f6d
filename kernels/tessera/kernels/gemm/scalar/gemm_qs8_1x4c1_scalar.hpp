/// @file gemm_qs8_1x4c1_scalar.hpp
/// Portable int8 GEMM with fused requantization: the oracle for every vector variant.
/// Tile: 1 row x 4 channels, kr = 1 (packed weights w[K][4]). Interface shared by all
/// `gemm_qs8_*` variants:
///   nr(), kr(): packing block (nr may depend on the vector length at run time)
///   run<Q>(m, n, k, a, a_stride, packed_w, row_offset, c, c_stride, stage)
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op.hpp>
#include <tessera/quant/fixedpoint.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct gemm_qs8_1x4c1_scalar {
  using arch = tessera::arch::scalar;
  static constexpr const char* name = "gemm_qs8_1x4c1_scalar";
  static std::size_t nr() noexcept { return 4; }
  static std::size_t kr() noexcept { return 1; }

  /// C[m][n] = clamp(MBQM(sum_k A[m][k] W[n][k] + bias'[n] + row_offset[m]) + zp).
  /// @param row_offset  m int32 values added to every channel of a row, or nullptr
  template <class Q>
  static void run(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, std::size_t a_stride,
                  const void* packed_w, const std::int32_t* row_offset, std::int8_t* c, std::size_t c_stride,
                  const output_stage<Q>& p) noexcept {
    constexpr std::size_t NR = 4;
    const std::size_t block = NR * sizeof(std::int32_t) + NR * k;
    for (std::size_t n0 = 0; n0 < n; n0 += NR) {
      const auto* base = static_cast<const std::uint8_t*>(packed_w) + (n0 / NR) * block;
      const auto* bias = reinterpret_cast<const std::int32_t*>(base);
      const auto* w = reinterpret_cast<const std::int8_t*>(base + NR * sizeof(std::int32_t));
      const std::size_t nb = std::min(NR, n - n0);
      for (std::size_t i = 0; i < m; ++i) {
        const std::int8_t* ar = a + i * a_stride;
        std::uint32_t acc[NR];
        for (std::size_t j = 0; j < NR; ++j)
          acc[j] = static_cast<std::uint32_t>(bias[j]) + static_cast<std::uint32_t>(row_offset ? row_offset[i] : 0);
        for (std::size_t kk = 0; kk < k; ++kk)
          for (std::size_t j = 0; j < NR; ++j)
            acc[j] += static_cast<std::uint32_t>(std::int32_t{ar[kk]} * std::int32_t{w[kk * NR + j]});
        for (std::size_t j = 0; j < nb; ++j)
          c[i * c_stride + n0 + j] = requantize_one<std::int8_t>(static_cast<std::int32_t>(acc[j]), p, n0 + j);
      }
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::gemm_qs8, tessera::arch::scalar> {
  using type = tessera::kernels::gemm_qs8_1x4c1_scalar;
};
