// Every requantization microkernel against the scalar oracle, bit for bit: random and edge inputs,
// every shift, tails of every length, strided rows, and canaries against out-of-bounds writes.
#include "test.hpp"

#include <algorithm>
#include <limits>
#include <tessera/tessera.hpp>
#include <tuple>
#include <vector>

using namespace tessera;
using tessera::kernels::requant_s32_scalar;
using tessera::kernels::requant_s64_scalar;

namespace {
template <class L> struct as_tuple;
template <class... T> struct as_tuple<arch::type_list<T...>> { using type = std::tuple<T...>; };

constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();
constexpr std::int32_t kCanary = 0x5A5A5A5A;

// Values that stress the edges: extremes, zero, powers of two and their neighbours.
std::int32_t edge_or_random(tt::rng& r) {
  static const std::int32_t edges[] = {kMin, kMin + 1, -1, 0, 1, kMax, kMax - 1, 1 << 30, -(1 << 30), (1 << 30) + 1,
                                       -(1 << 30) - 1, 1 << 15, -(1 << 15), 255, -256, 3, -3};
  const std::uint64_t k = r.next() % 8;
  if (k == 0) return edges[r.next() % (sizeof(edges) / sizeof(edges[0]))];
  if (k == 1) {  // +-2^b +- {0,1}
    const int b = static_cast<int>(r.next() % 31);
    const std::int32_t v = (1 << b) + static_cast<std::int32_t>(r.range(-1, 1));
    return (r.next() & 1) ? v : -v;
  }
  if (k == 2) return static_cast<std::int32_t>(r.range(-70000, 70000));
  return r.s32();
}
std::int32_t multiplier(tt::rng& r) {
  switch (r.next() % 4) {
    case 0: return r.s32();                                             // anything
    case 1: return edge_or_random(r);
    default: return static_cast<std::int32_t>(r.range(1 << 30, kMax));  // what QuantizeMultiplier makes
  }
}

// Runs `ref` and `dut` over the same inputs in chunks of every length 0..70 and compares.
template <class F, class G>
void compare_elementwise(std::size_t total, F&& make_inputs, G&& call_both) {
  std::size_t done = 0, n = 0;
  while (done < total) {
    make_inputs(n);
    call_both(n);
    done += n + 1;
    n = (n + 1) % 71;
  }
}
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("requant_s32 elementwise primitives match the oracle", K, requant_s32_elementwise) {
  TT_REQUIRE_RUNNABLE(K);
  tt::rng r(11);
  std::vector<std::int32_t> a(80), b(80), s(80), want(81), got(81);
  const std::size_t total = tt::scaled(2000000);

  SUBCASE("srdhm") {
    compare_elementwise(total, [&](std::size_t n) {
      for (std::size_t i = 0; i < n; ++i) { a[i] = edge_or_random(r); b[i] = multiplier(r); }
    }, [&](std::size_t n) {
      got[n] = kCanary;
      requant_s32_scalar::srdhm(n, a.data(), b.data(), want.data());
      K::srdhm(n, a.data(), b.data(), got.data());
      REQUIRE(std::equal(want.begin(), want.begin() + static_cast<std::ptrdiff_t>(n), got.begin()));
      REQUIRE(got[n] == kCanary);
    });
  }
  SUBCASE("rdpot") {
    compare_elementwise(total, [&](std::size_t n) {
      for (std::size_t i = 0; i < n; ++i) {
        s[i] = static_cast<std::int32_t>(r.range(0, 31));
        a[i] = edge_or_random(r);
        if (r.next() % 4 == 0 && s[i] > 0) {  // an exact tie, either sign
          const std::int64_t k = r.range(-(std::int64_t{1} << (31 - s[i])), (std::int64_t{1} << (31 - s[i])) - 2);
          a[i] = static_cast<std::int32_t>(k * (std::int64_t{1} << s[i]) + (std::int64_t{1} << (s[i] - 1)));
        }
      }
    }, [&](std::size_t n) {
      got[n] = kCanary;
      requant_s32_scalar::rdpot(n, a.data(), s.data(), want.data());
      K::rdpot(n, a.data(), s.data(), got.data());
      REQUIRE(std::equal(want.begin(), want.begin() + static_cast<std::ptrdiff_t>(n), got.begin()));
      REQUIRE(got[n] == kCanary);
    });
  }
  SUBCASE("mbqm32 over every shift") {
    compare_elementwise(total, [&](std::size_t n) {
      for (std::size_t i = 0; i < n; ++i) {
        a[i] = edge_or_random(r); b[i] = multiplier(r); s[i] = static_cast<std::int32_t>(r.range(-31, 30));
      }
    }, [&](std::size_t n) {
      got[n] = kCanary;
      requant_s32_scalar::mbqm(n, a.data(), b.data(), s.data(), want.data());
      K::mbqm(n, a.data(), b.data(), s.data(), got.data());
      for (std::size_t i = 0; i < n; ++i) {
        INFO("x=" << a[i] << " m=" << b[i] << " s=" << s[i]);
        REQUIRE(got[i] == want[i]);
      }
      REQUIRE(got[n] == kCanary);
    });
  }
}
TEST_CASE_TEMPLATE_APPLY(requant_s32_elementwise, as_tuple<kernels::requant_s32_registry>::type);

namespace {
// run<Out,Q> against the scalar kernel: rows x channels with padded strides; canaries everywhere
// outside the written elements.
template <class K, class Ref, class Acc, class Out, class Q>
void compare_output_stage(tt::rng& r, std::size_t rows, std::size_t channels, const output_stage<Q>& p,
                          const std::vector<Acc>& acc_pool) {
  const std::size_t acc_stride = channels + (r.next() % 3), out_stride = channels + (r.next() % 4);
  std::vector<Acc> acc(rows * acc_stride);
  for (std::size_t i = 0; i < acc.size(); ++i) acc[i] = acc_pool[r.next() % acc_pool.size()];
  const Out canary = static_cast<Out>(0x5B);
  std::vector<Out> want(rows * out_stride + 8, canary), got(rows * out_stride + 8, canary);
  Ref::template run<Out>(rows, channels, acc.data(), acc_stride, want.data(), out_stride, p);
  K::template run<Out>(rows, channels, acc.data(), acc_stride, got.data(), out_stride, p);
  INFO("rows=" << rows << " channels=" << channels << " zp=" << p.zero_point << " clamp=[" << p.act_min << ","
               << p.act_max << "]");
  REQUIRE(got == want);
}

template <class K, class Ref, class Acc, class Out>
void sweep_output_stage(std::uint64_t seed, int min_shift, int max_shift, bool nonneg_multiplier,
                        std::vector<Acc> pool) {
  tt::rng r(seed);
  constexpr std::int32_t lo = std::numeric_limits<Out>::min(), hi = std::numeric_limits<Out>::max();
  const std::size_t cases = tt::scaled(400);
  std::vector<std::int32_t> mult(200), shift(200);
  for (std::size_t t = 0; t < cases; ++t) {
    const std::size_t rows = 1 + r.next() % 5, channels = 1 + r.next() % 150;
    for (std::size_t c = 0; c < channels; ++c) {
      mult[c] = nonneg_multiplier ? static_cast<std::int32_t>(r.range(0, kMax)) : multiplier(r);
      if (r.next() % 2) mult[c] = static_cast<std::int32_t>(r.range(1 << 30, kMax));
      shift[c] = static_cast<std::int32_t>(r.range(min_shift, max_shift));
    }
    output_stage<requant::per_channel> pc;
    pc.q = {mult.data(), shift.data()};
    pc.zero_point = static_cast<std::int32_t>(r.range(lo, hi));
    pc.act_min = static_cast<std::int32_t>(r.range(lo, hi));
    pc.act_max = static_cast<std::int32_t>(r.range(pc.act_min, hi));
    if (t % 4 == 0) { pc.act_min = lo; pc.act_max = hi; }
    compare_output_stage<K, Ref, Acc, Out>(r, rows, channels, pc, pool);
    output_stage<requant::per_tensor> pt;
    pt.q = {mult[0], shift[0]};
    pt.zero_point = pc.zero_point;
    pt.act_min = pc.act_min;
    pt.act_max = pc.act_max;
    compare_output_stage<K, Ref, Acc, Out>(r, rows, channels, pt, pool);
  }
}

std::vector<std::int32_t> s32_pool() {
  tt::rng r(99);
  std::vector<std::int32_t> v(4096);
  for (auto& x : v) x = (r.next() % 2) ? edge_or_random(r) : static_cast<std::int32_t>(r.range(-100000, 100000));
  return v;
}
std::vector<std::int64_t> s64_pool() {
  tt::rng r(98);
  std::vector<std::int64_t> v(4096);
  for (auto& x : v) {
    switch (r.next() % 3) {
      case 0: x = r.range(-(std::int64_t{1} << 47), (std::int64_t{1} << 47) - 1); break;
      case 1: x = r.range(-(std::int64_t{1} << 24), std::int64_t{1} << 24); break;
      default: x = r.range(-70000, 70000); break;
    }
  }
  v[0] = -(std::int64_t{1} << 47);
  v[1] = (std::int64_t{1} << 47) - 1;
  v[2] = 0;
  return v;
}
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("requant_s32 output stage matches the oracle", K, requant_s32_stage) {
  TT_REQUIRE_RUNNABLE(K);
  const auto pool = s32_pool();
  sweep_output_stage<K, requant_s32_scalar, std::int32_t, std::int8_t>(21, -31, 30, false, pool);
  sweep_output_stage<K, requant_s32_scalar, std::int32_t, std::int16_t>(22, -31, 30, false, pool);
  // The shifts real models use, with multipliers from QuantizeMultiplier.
  sweep_output_stage<K, requant_s32_scalar, std::int32_t, std::int8_t>(23, -12, 2, true, pool);
}
TEST_CASE_TEMPLATE_APPLY(requant_s32_stage, as_tuple<kernels::requant_s32_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("requant_s64 (16x8) matches the oracle", K, requant_s64_all) {
  TT_REQUIRE_RUNNABLE(K);
  const auto pool = s64_pool();
  tt::rng r(31);
  std::vector<std::int64_t> x(80);
  std::vector<std::int32_t> m(80), s(80), want(81), got(81);
  compare_elementwise(tt::scaled(1000000), [&](std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = pool[r.next() % pool.size()];
      m[i] = static_cast<std::int32_t>(r.range(0, kMax));
      if (r.next() % 8 == 0) m[i] = static_cast<std::int32_t>(r.range(0x7FFF0000 - 2, kMax));
      s[i] = static_cast<std::int32_t>(r.range(-31, 7));
    }
  }, [&](std::size_t n) {
    got[n] = kCanary;
    requant_s64_scalar::mbqm(n, x.data(), m.data(), s.data(), want.data());
    K::mbqm(n, x.data(), m.data(), s.data(), got.data());
    REQUIRE(std::equal(want.begin(), want.begin() + static_cast<std::ptrdiff_t>(n), got.begin()));
    REQUIRE(got[n] == kCanary);
  });
  sweep_output_stage<K, requant_s64_scalar, std::int64_t, std::int16_t>(32, -31, 7, true, pool);
}
TEST_CASE_TEMPLATE_APPLY(requant_s64_all, as_tuple<kernels::requant_s64_registry>::type);

TEST_CASE("requantize<Tag> validates its parameters and agrees across tags") {
  std::vector<std::int32_t> acc(3 * 10);
  tt::rng r(41);
  for (auto& v : acc) v = static_cast<std::int32_t>(r.range(-50000, 50000));
  std::vector<std::int8_t> out(3 * 10), ref(3 * 10);
  output_stage<requant::per_tensor> p;
  p.q = {1 << 30, -6};
  p.zero_point = -3;
  p.act_min = -128;
  p.act_max = 127;
  REQUIRE(requantize<arch::scalar>(3, 10, acc.data(), 10, ref.data(), 10, p).ok());
  REQUIRE(requantize(3, 10, acc.data(), 10, out.data(), 10, p).ok());  // arch::native
  CHECK(out == ref);
  CHECK(ref[0] == std::clamp<std::int32_t>(fixedpoint::mbqm32(acc[0], 1 << 30, -6) - 3, -128, 127));

  auto bad = p;
  bad.act_max = 200;
  status st = requantize(3, 10, acc.data(), 10, out.data(), 10, bad);
  CHECK(st.code() == status_code::invalid_argument);
  CHECK(std::string(st.message()).find("clamp") != std::string::npos);
  bad = p;
  bad.act_min = 10;
  bad.act_max = 0;
  CHECK_FALSE(requantize(3, 10, acc.data(), 10, out.data(), 10, bad).ok());
  bad = p;
  bad.q.shift = 31;
  CHECK(requantize(3, 10, acc.data(), 10, out.data(), 10, bad).code() == status_code::invalid_argument);
  CHECK_FALSE(requantize(3, 10, acc.data(), 9, out.data(), 10, p).ok());
  CHECK_FALSE(requantize(3, 10, static_cast<const std::int32_t*>(nullptr), 10, out.data(), 10, p).ok());
  CHECK(requantize(0, 10, static_cast<const std::int32_t*>(nullptr), 10, out.data(), 10, p).ok());
  output_stage<requant::per_channel> pc;
  CHECK_FALSE(requantize(3, 10, acc.data(), 10, out.data(), 10, pc).ok());  // null arrays
  std::vector<std::int64_t> acc64(10, 5);
  std::vector<std::int16_t> out16(10);
  output_stage<requant::per_tensor> p16;
  p16.q = {-5, 0};
  p16.act_min = -32768;
  p16.act_max = 32767;
  CHECK(requantize(1, 10, acc64.data(), 10, out16.data(), 10, p16).code() == status_code::invalid_argument);
  p16.q = {1 << 30, 8};
  CHECK_FALSE(requantize(1, 10, acc64.data(), 10, out16.data(), 10, p16).ok());
  p16.q = {1 << 30, 7};
  CHECK(requantize(1, 10, acc64.data(), 10, out16.data(), 10, p16).ok());
}

#include "guard.hpp"

TEST_CASE_TEMPLATE_DEFINE("requant_s32 kernels stay inside their buffers (guard pages)", K, requant_guard) {
  TT_REQUIRE_RUNNABLE(K);
  tt::rng r(51);
  for (auto side : {tt::guard_side::after, tt::guard_side::before}) {
    for (std::size_t n : {1u, 3u, 4u, 5u, 15u, 16u, 17u, 33u, 64u, 67u}) {
      tt::guarded<std::int32_t> x(n, side), m(n, side), s(n, side), o(n, side);
      tt::guarded<std::int8_t> o8(n, side);
      tt::guarded<std::int16_t> o16(n, side);
      for (std::size_t i = 0; i < n; ++i) { x[i] = r.s32(); m[i] = r.s32(); s[i] = static_cast<std::int32_t>(r.range(-31, 30)); }
      K::srdhm(n, x.data(), m.data(), o.data());
      for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<std::int32_t>(r.range(0, 31));
      K::rdpot(n, x.data(), s.data(), o.data());
      for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<std::int32_t>(r.range(-31, 30));
      K::mbqm(n, x.data(), m.data(), s.data(), o.data());
      output_stage<requant::per_channel> pc{{m.data(), s.data()}, 3, -128, 127};
      K::template run<std::int8_t>(1, n, x.data(), n, o8.data(), n, pc);
      pc.act_min = -32768;
      pc.act_max = 32767;
      K::template run<std::int16_t>(1, n, x.data(), n, o16.data(), n, pc);
      std::vector<std::int16_t> want(n);
      kernels::requant_s32_scalar::run<std::int16_t>(1, n, x.data(), n, want.data(), n, pc);
      CHECK(std::equal(want.begin(), want.end(), o16.data()));
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(requant_guard, as_tuple<kernels::requant_s32_registry>::type);
