/// @file op_s16.hpp
/// The 16x8 quantized GEMM op (int16 activations x int8 weights -> int16, TFLite's "16x8"
/// fully connected) and its packed-weight format.
///
/// C[m][n] = requant( sum_k A[m][k] * W[n][k] + bias[n] )
///
/// The accumulator follows TFLite's `AccumScalar`, chosen by the bias type:
///   * int64 bias (and no bias): int64 accumulator, MultiplyByQuantizedMultiplier for int64 (MBQM64);
///   * int32 bias: int32 accumulator (wrapping), MBQM32, exactly as the int8 kernels.
/// s16 zero points are 0 (TFLite requires it), so no zero-point folding is needed: the bias is the
/// bias. It is always stored as int64 (an int32 bias sign-extended); the header says which
/// accumulator the kernel must use.
///
/// Packed layout (8-byte aligned, `packed_qs16_bytes` bytes):
///
///     qs16_packed_header                                   (32 bytes: magic, acc bits, nr, kr, n, k)
///     for each block of nr channels:  int64 bias[nr]                      (0 for padded channels)
///                                     int8  w[ceil(K/kr)][nr][kr]          (0 for padding)
///                                     0..7 zero bytes, so the next block's bias stays 8-byte aligned
///
/// The weight part of a block is the int8 format of op.hpp (same nr/kr interleave), so vector
/// kernels load it the same way; only the bias block differs (int64 instead of folded int32).
/// Kernels receive the blocks (`qs16_blocks(packed)`), never the header; the operator reads it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>

namespace tessera::op {
/// int16 x int8 -> int16 GEMM (TFLite 16x8) with a fused output stage (per_tensor or per_channel);
/// int64 or int32 accumulator, see op_s16.hpp.
struct gemm_qs16_qs8 {};
}  // namespace tessera::op

namespace tessera::kernels {

/// Leading record of a 16x8 packed-weight buffer: lets `run` check the buffer and pick the accumulator.
struct qs16_packed_header {
  static constexpr std::uint32_t magic_value = 0x38783631u;  ///< "16x8" in little-endian bytes
  std::uint32_t magic = magic_value;
  std::uint32_t acc_bits = 64;  ///< 64: int64 accumulator + MBQM64; 32: int32 accumulator + MBQM32
  std::uint32_t nr = 0, kr = 0;  ///< the packing block the kernel was packed for
  std::uint32_t n = 0, k = 0;    ///< output channels and depth
  std::uint32_t reserved[2] = {0, 0};
};
static_assert(sizeof(qs16_packed_header) == 32, "the header keeps the blocks 8-byte aligned");

/// Bytes of one block of `nr` channels of depth `k` (int64 bias + weights, padded to 8 bytes).
constexpr std::size_t packed_qs16_block_bytes(std::size_t nr, std::size_t k, std::size_t kr) noexcept {
  const std::size_t kpad = (k + kr - 1) / kr * kr;
  return nr * sizeof(std::int64_t) + (nr * kpad + 7) / 8 * 8;
}

/// Bytes of a packed buffer (header included) for N channels of depth K in blocks of nr x kr;
/// 0 if the size does not fit in size_t.
constexpr std::size_t packed_qs16_bytes(std::size_t n, std::size_t k, std::size_t nr, std::size_t kr) noexcept {
  const std::uint64_t blocks = (n + nr - 1) / nr, kpad = (static_cast<std::uint64_t>(k) + kr - 1) / kr * kr;
  const std::uint64_t bytes = sizeof(qs16_packed_header) + blocks * (nr * 8 + (nr * kpad + 7) / 8 * 8);
  return bytes > std::numeric_limits<std::size_t>::max() ? 0 : static_cast<std::size_t>(bytes);
}

/// The blocks of a packed buffer (what kernels receive).
inline const void* qs16_blocks(const void* packed) noexcept {
  return static_cast<const std::uint8_t*>(packed) + sizeof(qs16_packed_header);
}

/// Packs W[N][K] and bias[N] into the format above. `weight_at(n, k)` returns int8, `bias_at(n)`
/// int64; `acc_bits` is 64 or 32. `packed` must be 8-byte aligned and `packed_qs16_bytes` long.
template <class WeightAt, class BiasAt>
void pack_qs16_weights(std::size_t n, std::size_t k, std::size_t nr, std::size_t kr, WeightAt&& weight_at,
                       BiasAt&& bias_at, std::uint32_t acc_bits, void* packed) noexcept {
  qs16_packed_header h;
  h.acc_bits = acc_bits;
  h.nr = static_cast<std::uint32_t>(nr);
  h.kr = static_cast<std::uint32_t>(kr);
  h.n = static_cast<std::uint32_t>(n);
  h.k = static_cast<std::uint32_t>(k);
  *static_cast<qs16_packed_header*>(packed) = h;
  auto* out = static_cast<std::uint8_t*>(packed) + sizeof(qs16_packed_header);
  const std::size_t kpad = (k + kr - 1) / kr * kr, block = packed_qs16_block_bytes(nr, k, kr);
  for (std::size_t n0 = 0; n0 < n; n0 += nr, out += block) {
    auto* b = reinterpret_cast<std::int64_t*>(out);
    for (std::size_t j = 0; j < nr; ++j) b[j] = n0 + j < n ? static_cast<std::int64_t>(bias_at(n0 + j)) : 0;
    auto* w = reinterpret_cast<std::int8_t*>(out + nr * sizeof(std::int64_t));
    for (std::size_t k0 = 0; k0 < kpad; k0 += kr)
      for (std::size_t j = 0; j < nr; ++j)
        for (std::size_t kk = 0; kk < kr; ++kk) {
          const std::size_t ch = n0 + j, d = k0 + kk;
          *w++ = (ch < n && d < k) ? static_cast<std::int8_t>(weight_at(ch, d)) : std::int8_t{0};
        }
    for (auto* end = out + block; reinterpret_cast<std::uint8_t*>(w) < end;) *w++ = 0;
  }
}

}  // namespace tessera::kernels
