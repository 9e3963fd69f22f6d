/// @file gemm_qs16_1x4c1_scalar.hpp
/// Portable 16x8 GEMM (int16 activations x int8 weights -> int16) with fused requantization: the
/// oracle for every vector variant.
///
/// Tile: 1 row x 4 channels, kr = 1. Consumes the blocks of op_s16.hpp with nr = 4, kr = 1: per
/// block int64 bias[4], int8 w[K][4], zero padding to 8 bytes. ISA: none (C++).
/// Interface shared by all `gemm_qs16_*` variants:
///   nr(), kr(): packing block
///   run<Acc, Q>(m, n, k, a, a_stride, blocks, c, c_stride, stage), Acc = int64_t or int32_t
///
/// Accumulation is TFLite's AccumScalar: int64 (exact: |product| <= 2^22, so K <= 2^24 products plus
/// a bias within +-2^46 stay inside MBQM64's domain) or int32, wrapping in two's complement like
/// TFLite's int32 sum on every real compiler (the bias, added last there, commutes with wrapping).
#pragma once
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op_s16.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct gemm_qs16_1x4c1_scalar {
  using arch = tessera::arch::scalar;
  static constexpr const char* name = "gemm_qs16_1x4c1_scalar";
  static std::size_t nr() noexcept { return 4; }
  static std::size_t kr() noexcept { return 1; }

  /// C[m][n] = clamp(MBQM(sum_k A[m][k] W[n][k] + bias[n]) + zp), MBQM64 for Acc = int64_t,
  /// MBQM32 (int32 wrapping sum) for Acc = int32_t.
  /// @param[in]  a         m rows of k int16 activations, row stride a_stride (elements)
  /// @param[in]  blocks    qs16_blocks() of a buffer packed with nr = 4, kr = 1 (8-byte aligned)
  /// @param[out] c         m rows of n int16 outputs, row stride c_stride (elements)
  /// @param[in]  p         output stage; channel c uses multiplier/shift c (per_channel)
  template <class Acc, class Q>
  static void run(std::size_t m, std::size_t n, std::size_t k, const std::int16_t* a, std::size_t a_stride,
                  const void* blocks, std::int16_t* c, std::size_t c_stride, const output_stage<Q>& p) noexcept {
    static_assert(std::is_same_v<Acc, std::int64_t> || std::is_same_v<Acc, std::int32_t>,
                  "gemm_qs16: the accumulator is int64_t (int64 bias) or int32_t (int32 bias)");
    constexpr std::size_t NR = 4;
    const std::size_t block = packed_qs16_block_bytes(NR, k, 1);
    for (std::size_t n0 = 0; n0 < n; n0 += NR) {
      const auto* base = static_cast<const std::uint8_t*>(blocks) + (n0 / NR) * block;
      const auto* bias = reinterpret_cast<const std::int64_t*>(base);
      const auto* w = reinterpret_cast<const std::int8_t*>(base + NR * sizeof(std::int64_t));
      const std::size_t nb = n - n0 < NR ? n - n0 : NR;
      for (std::size_t i = 0; i < m; ++i) {
        const std::int16_t* ar = a + i * a_stride;
        if constexpr (std::is_same_v<Acc, std::int64_t>) {
          std::int64_t acc[NR];
          for (std::size_t j = 0; j < NR; ++j) acc[j] = bias[j];
          for (std::size_t kk = 0; kk < k; ++kk)
            for (std::size_t j = 0; j < NR; ++j) acc[j] += std::int32_t{ar[kk]} * std::int32_t{w[kk * NR + j]};
          for (std::size_t j = 0; j < nb; ++j) c[i * c_stride + n0 + j] = requantize_one<std::int16_t>(acc[j], p, n0 + j);
        } else {
          std::uint32_t acc[NR];
          for (std::size_t j = 0; j < NR; ++j) acc[j] = static_cast<std::uint32_t>(bias[j]);
          for (std::size_t kk = 0; kk < k; ++kk)
            for (std::size_t j = 0; j < NR; ++j)
              acc[j] += static_cast<std::uint32_t>(std::int32_t{ar[kk]} * std::int32_t{w[kk * NR + j]});
          for (std::size_t j = 0; j < nb; ++j)
            c[i * c_stride + n0 + j] = requantize_one<std::int16_t>(static_cast<std::int32_t>(acc[j]), p, n0 + j);
        }
      }
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::gemm_qs16_qs8, tessera::arch::scalar> {
  using type = tessera::kernels::gemm_qs16_1x4c1_scalar;
};
