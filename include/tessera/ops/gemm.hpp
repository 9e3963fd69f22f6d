/// @file gemm.hpp
/// fp32 matrix multiply / fully connected: C = clamp(A * B + bias, min, max), B packed once.
///
///   gemm_f32<> g;                                              // kernel for arch::native
///   std::vector<std::byte> packed(g.packed_b_bytes(n, k));     // caller-owned, size queried
///   g.pack_b(k, n, b, n, bias, packed.data(), packed.size());  // row-major K x N (matmul)
///   g.run(m, n, k, a, k, packed.data(), c, n, {0.0f, 6.0f});   // ReLU6 fused
///
/// `pack_weights` takes fully-connected weights [N][K] instead. `run_batched` multiplies a batch of
/// A matrices by the same packed B (batch matmul with shared weights).
#pragma once
#include <cstddef>
#include <cstdint>
#include <tessera/core/status.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/registry.hpp>

namespace tessera {

/// fp32 GEMM with a packed B, using microkernel `Kernel` (by default the one selected for `Tag`).
template <class Tag = arch::native, class Kernel = select_t<op::gemm_f32, Tag>>
struct gemm_f32 {
  using kernel = Kernel;

  /// Bytes of packed B (with bias) for N columns of depth K; 0 when a size is out of [1, 2^24] or
  /// the total would overflow size_t (possible on 32-bit targets).
  static std::size_t packed_b_bytes(std::size_t n, std::size_t k) noexcept {
    if (n == 0 || k == 0 || n > max_dim || k > max_dim) return 0;
    return kernels::packed_f32_bytes(n, k, Kernel::nr());
  }
  /// Packs a row-major K x N matrix `b` (row stride `b_stride` >= n) and `bias[n]` (nullable).
  static status pack_b(std::size_t k, std::size_t n, const float* b, std::size_t b_stride, const float* bias,
                       void* packed, std::size_t packed_bytes) noexcept {
    TESSERA_TRY(check_pack(n, k, b, b_stride < n, packed, packed_bytes));
    kernels::pack_f32_b(n, k, Kernel::nr(), [&](std::size_t kk, std::size_t j) { return b[kk * b_stride + j]; }, bias,
                        static_cast<float*>(packed));
    return status::success();
  }
  /// Packs fully-connected weights `w[n][k]` (row stride `w_stride` >= k) and `bias[n]` (nullable).
  static status pack_weights(std::size_t n, std::size_t k, const float* w, std::size_t w_stride, const float* bias,
                             void* packed, std::size_t packed_bytes) noexcept {
    TESSERA_TRY(check_pack(n, k, w, w_stride < k, packed, packed_bytes));
    kernels::pack_f32_b(n, k, Kernel::nr(), [&](std::size_t kk, std::size_t j) { return w[j * w_stride + kk]; }, bias,
                        static_cast<float*>(packed));
    return status::success();
  }
  /// C[m][n] = clamp(A[m][:] . B[:][n] + bias[n]). Strides in elements.
  static status run(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t a_stride,
                    const void* packed, float* c, std::size_t c_stride, const f32_clamp& clamp = {}) noexcept {
    return run_batched(1, m, n, k, a, a_stride, 0, packed, c, c_stride, 0, clamp);
  }
  /// `batch` independent products sharing the packed B: A_i = a + i * a_batch_stride, likewise C.
  static status run_batched(std::size_t batch, std::size_t m, std::size_t n, std::size_t k, const float* a,
                            std::size_t a_stride, std::size_t a_batch_stride, const void* packed, float* c,
                            std::size_t c_stride, std::size_t c_batch_stride, const f32_clamp& clamp = {}) noexcept {
    if (batch == 0 || m == 0) return status::success();
    if (n == 0 || k == 0 || n > max_dim || k > max_dim || m > max_dim || batch > max_dim)
      return {status_code::invalid_argument, "gemm_f32: sizes must be in [1, 2^24]"};
    if (a == nullptr || packed == nullptr || c == nullptr) return {status_code::invalid_argument, "gemm_f32: null buffer"};
    if (a_stride < k || c_stride < n)
      return {status_code::invalid_argument, "gemm_f32: a row stride is smaller than its row"};
    if (!(clamp.min <= clamp.max)) return {status_code::invalid_argument, "gemm_f32: clamp min > max (or NaN)"};
    if (reinterpret_cast<std::uintptr_t>(packed) % alignof(float) != 0)
      return {status_code::invalid_argument, "gemm_f32: packed B must be float-aligned"};
    for (std::size_t i = 0; i < batch; ++i)
      Kernel::run(m, n, k, a + i * a_batch_stride, a_stride, packed, c + i * c_batch_stride, c_stride, clamp);
    return status::success();
  }

 private:
  static constexpr std::size_t max_dim = std::size_t{1} << 24;
  static status check_pack(std::size_t n, std::size_t k, const float* src, bool bad_stride, void* packed,
                           std::size_t packed_bytes) noexcept {
    if (n == 0 || k == 0 || n > max_dim || k > max_dim)
      return {status_code::invalid_argument, "gemm_f32: sizes must be in [1, 2^24]"};
    if (src == nullptr || packed == nullptr) return {status_code::invalid_argument, "gemm_f32: null buffer"};
    if (bad_stride) return {status_code::invalid_argument, "gemm_f32: source row stride is smaller than its row"};
    if (reinterpret_cast<std::uintptr_t>(packed) % alignof(float) != 0)
      return {status_code::invalid_argument, "gemm_f32: packed B must be float-aligned"};
    const std::size_t need = packed_b_bytes(n, k);
    if (need == 0) return {status_code::overflow, "gemm_f32: packed size overflows size_t"};
    if (packed_bytes < need)
      return {status_code::buffer_too_small, "gemm_f32: packed buffer smaller than packed_b_bytes()"};
    return status::success();
  }
};

/// fp32 fully connected: the same operator; pack with `pack_weights` ([N][K] weights).
template <class Tag = arch::native, class Kernel = select_t<op::gemm_f32, Tag>>
using fully_connected_f32 = gemm_f32<Tag, Kernel>;

}  // namespace tessera
