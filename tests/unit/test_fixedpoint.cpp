// The scalar requantization primitives against independent formulations and known TFLite values.
#include "test.hpp"

#include <cmath>
#include <limits>
#include <tessera/tessera.hpp>

using namespace tessera;
namespace fp = tessera::fixedpoint;
constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();

namespace {
// round(a*b / 2^31), ties toward +inf, as a floor of a shifted sum (not TFLite's nudge-and-truncate).
std::int32_t srdhm_ref(std::int32_t a, std::int32_t b) {
  if (a == kMin && b == kMin) return kMax;
  const std::int64_t ab = std::int64_t{a} * b;
  return static_cast<std::int32_t>((ab + (std::int64_t{1} << 30)) >> 31);
}
// x / 2^e rounded to nearest, ties away from zero, through the magnitude.
std::int32_t rdpot_ref(std::int32_t x, int e) {
  const std::int64_t mag = x < 0 ? -std::int64_t{x} : std::int64_t{x};
  const std::int64_t q = e == 0 ? mag : (mag + (std::int64_t{1} << (e - 1))) >> e;
  return static_cast<std::int32_t>(x < 0 ? -q : q);
}
}  // namespace

TEST_CASE("srdhm: TFLite's nudge-and-truncate equals round-half-up, saturating one case") {
  CHECK(fp::srdhm(kMin, kMin) == kMax);
  CHECK(fp::srdhm(1 << 30, 1 << 30) == 1 << 29);
  CHECK(fp::srdhm(1, 1 << 30) == 1);    // +0.5 rounds up
  CHECK(fp::srdhm(-1, 1 << 30) == 0);   // -0.5 rounds up too
  CHECK(fp::srdhm(kMax, kMax) == kMax - 1);
  CHECK(fp::srdhm(kMin, kMax) == -kMax);
  static_assert(fp::srdhm(kMin, 1 << 30) == -(1 << 30));
  tt::rng r(1);
  for (std::size_t i = 0; i < tt::scaled(200000); ++i) {
    const std::int32_t a = r.s32(), b = (i & 1) ? r.s32() : static_cast<std::int32_t>(r.range(-40, 40));
    REQUIRE(fp::srdhm(a, b) == srdhm_ref(a, b));
  }
}

TEST_CASE("rdpot: ties away from zero at every exponent") {
  CHECK(fp::rdpot(5, 1) == 3);
  CHECK(fp::rdpot(-5, 1) == -3);
  CHECK(fp::rdpot(-4, 1) == -2);
  CHECK(fp::rdpot(kMin, 31) == -1);
  CHECK(fp::rdpot(kMax, 31) == 1);
  CHECK(fp::rdpot(kMin, 0) == kMin);
  tt::rng r(2);
  for (int e = 0; e <= 31; ++e) {
    for (std::size_t i = 0; i < tt::scaled(5000); ++i) {
      std::int32_t x = r.s32();
      if (i % 4 == 0 && e > 0) x = static_cast<std::int32_t>(((x >> e) * (std::int64_t{1} << e)) + (std::int64_t{1} << (e - 1)));  // a tie
      REQUIRE(fp::rdpot(x, e) == rdpot_ref(x, e));
      REQUIRE(fp::rdpot(-x == kMin ? 0 : -x, e) == rdpot_ref(-x == kMin ? 0 : -x, e));
    }
  }
}

TEST_CASE("mbqm32 and mbqm64 on hand-checked values") {
  // 0.5 as multiplier 2^30 shift 0: 7 * 0.5 = 3.5 -> srdhm gives 4 (ties up), no rdpot.
  CHECK(fp::mbqm32(7, 1 << 30, 0) == 4);
  CHECK(fp::mbqm32(-7, 1 << 30, 0) == -3);
  // 0.25: multiplier 2^30, shift -1: srdhm(-7, 2^30) = -3, rdpot(-3, 1) = -2 (double rounding).
  CHECK(fp::mbqm32(-7, 1 << 30, -1) == -2);
  // Left shifts wrap in two's complement, as every vector path does.
  CHECK(fp::mbqm32(1 << 30, 1 << 30, 2) == fp::srdhm(0, 1 << 30));
  CHECK(fp::mbqm32(3, 1 << 30, 30) == fp::srdhm(fp::shl_wrap(3, 30), 1 << 30));
  // mbqm64: rm = (2^30 + 2^15) >> 16 = 16384; t = 15: x * 16384 / 32768 rounds half up.
  CHECK(fp::mbqm64(7, 1 << 30, 0) == 4);
  CHECK(fp::mbqm64(-7, 1 << 30, 0) == -3);
  CHECK(fp::mbqm64(1000, 0x7FFFFFFF, 0) == 1000);   // rm saturates at 0x7FFF: 1000*32767/32768
  CHECK(fp::mbqm64(std::int64_t{1} << 46, 1 << 30, -31) == 1 << 14);  // 2^46 * 0.5 * 2^-31
  CHECK(fp::mbqm64((std::int64_t{1} << 47) - 1, 0x7FFF0000, 7) == static_cast<std::int32_t>(
      (((std::int64_t{1} << 47) - 1) * 0x7FFF + (std::int64_t{1} << 7)) >> 8));
}

TEST_CASE("quantize_multiplier reproduces TFLite's multipliers") {
  quantized_multiplier q;
  REQUIRE(quantize_multiplier(1.0, q).ok());
  CHECK(q.multiplier == 1 << 30);
  CHECK(q.shift == 1);
  REQUIRE(quantize_multiplier(0.5, q).ok());
  CHECK(q.multiplier == 1 << 30);
  CHECK(q.shift == 0);
  REQUIRE(quantize_multiplier(0.75, q).ok());
  CHECK(q.multiplier == 1610612736);
  REQUIRE(quantize_multiplier(0.1, q).ok());
  CHECK(q.multiplier == 1717986918);
  CHECK(q.shift == -3);
  REQUIRE(quantize_multiplier(std::ldexp(1.0, -40), q).ok());
  CHECK(q.multiplier == 0);
  CHECK(q.shift == 0);
  // q*2^31 rounding up to 2^31 renormalizes.
  REQUIRE(quantize_multiplier(std::nextafter(1.0, 0.0), q).ok());
  CHECK(q.multiplier == 1 << 30);
  CHECK(q.shift == 1);
  REQUIRE(quantize_multiplier(0.0, q).ok());
  CHECK(q.multiplier == 0);
  CHECK(quantize_multiplier(-0.5, q).code() == status_code::invalid_argument);
  CHECK(quantize_multiplier(std::nan(""), q).code() == status_code::invalid_argument);
  CHECK(quantize_multiplier(std::ldexp(1.0, 31), q).code() == status_code::invalid_argument);
  CHECK_FALSE(quantize_conv_multiplier(0.5f, 0.5f, 0.0f, q).ok());
  tt::rng r(3);
  for (int i = 0; i < 2000; ++i) {
    const double real = std::ldexp(1.0 + static_cast<double>(r.next() % 1000000) / 1e6, static_cast<int>(r.range(-30, 20)));
    REQUIRE(quantize_multiplier(real, q).ok());
    REQUIRE(q.multiplier >= (1 << 30));
    const double back = std::ldexp(static_cast<double>(q.multiplier), q.shift - 31);
    REQUIRE(std::fabs(back - real) <= real * std::ldexp(1.0, -30));
  }
}
