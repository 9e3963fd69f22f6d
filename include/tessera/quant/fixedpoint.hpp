/// @file fixedpoint.hpp
/// TFLite's integer requantization primitives, scalar and constexpr, exactly as
/// tests/conformance/README.md (TFLite `common.h`, gemmlowp `fixedpoint.h`) defines them.
/// These are the oracle: every vector version (kernels/tessera/kernels/requant/) matches them bit
/// for bit on every input of their documented domain.
#pragma once
#include <cstdint>
#include <limits>

namespace tessera::fixedpoint {

/// SaturatingRoundingDoublingHighMul: round((a*b) / 2^31), ties toward +infinity, the single
/// overflow case a == b == INT32_MIN saturating to INT32_MAX. (Equals Arm's SQRDMULH.)
constexpr std::int32_t srdhm(std::int32_t a, std::int32_t b) noexcept {
  if (a == b && a == std::numeric_limits<std::int32_t>::min()) return std::numeric_limits<std::int32_t>::max();
  const std::int64_t ab = static_cast<std::int64_t>(a) * static_cast<std::int64_t>(b);
  const std::int64_t nudge = ab >= 0 ? (std::int64_t{1} << 30) : (1 - (std::int64_t{1} << 30));
  return static_cast<std::int32_t>((ab + nudge) / (std::int64_t{1} << 31));
}

/// RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero. exponent in [0, 31].
constexpr std::int32_t rdpot(std::int32_t x, int exponent) noexcept {
  const std::int32_t mask = static_cast<std::int32_t>((std::int64_t{1} << exponent) - 1);
  const std::int32_t remainder = x & mask;
  const std::int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/// Shift `x` left by `s` bits in two's complement (wraps like the hardware shifts every vector
/// path uses, and like TFLite's `x * (1 << s)` on every real compiler; no undefined behaviour).
constexpr std::int32_t shl_wrap(std::int32_t x, int s) noexcept {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(x) << s);
}

/// `a + b` in two's complement (wraps instead of overflowing; vector adds wrap the same way).
constexpr std::int32_t add_wrap(std::int32_t a, std::int32_t b) noexcept {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}

/// MultiplyByQuantizedMultiplier (int32): `RDPOT(SRDHM(x * 2^max(s,0), m), max(-s,0))`.
/// Domain: shift in [-31, 30]; multiplier any int32 (QuantizeMultiplier gives [2^30, 2^31) or 0).
constexpr std::int32_t mbqm32(std::int32_t x, std::int32_t multiplier, int shift) noexcept {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  return rdpot(srdhm(shl_wrap(x, left), multiplier), right);
}

/// MultiplyByQuantizedMultiplier (int64 accumulator, 16x8 kernels with int64 bias):
/// `rm = m < 0x7FFF0000 ? (m + 2^15) >> 16 : 0x7FFF; t = 15 - s; (int32)((x*rm + 2^(t-1)) >> t)`.
/// Domain (TFLite's checks): x in [-2^47, 2^47), multiplier >= 0, shift in [-31, 7].
/// The final narrowing to int32 wraps (two's complement), as on every vector path.
constexpr std::int32_t mbqm64(std::int64_t x, std::int32_t multiplier, int shift) noexcept {
  const std::int32_t rm = multiplier < 0x7FFF0000 ? ((multiplier + (1 << 15)) >> 16) : 0x7FFF;
  const int t = 15 - shift;
  const std::int64_t r = (x * rm + (std::int64_t{1} << (t - 1))) >> t;
  return static_cast<std::int32_t>(r);
}

}  // namespace tessera::fixedpoint
