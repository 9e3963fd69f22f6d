// int8 fully connected: every GEMM microkernel on the conformance vectors (bit-exact against
// TFLite), against the scalar kernel on random shapes (tails, odd sizes, strides, weight zero
// points), and the operator's parameter validation.
#include "test.hpp"
#include "nnconf.hpp"

#include <tessera/tessera.hpp>
#include <tuple>
#include <limits>
#include <string>
#include <vector>

using namespace tessera;

namespace {
template <class L> struct as_tuple;
template <class... T> struct as_tuple<arch::type_list<T...>> { using type = std::tuple<T...>; };

// Packed buffers are int32-aligned storage.
std::vector<std::int32_t> words(std::size_t bytes) { return std::vector<std::int32_t>((bytes + 3) / 4 + 1); }

template <class K>
bool run_conformance_case(const nnconf::case_file& f) {
  using fc = fully_connected_s8<typename K::arch, K>;
  const std::size_t batches = static_cast<std::size_t>(f.integer("batches", 1));
  const std::size_t k = static_cast<std::size_t>(f.integer("input_c"));
  const std::size_t n = static_cast<std::size_t>(f.integer("output_c"));
  const auto zin = static_cast<std::int32_t>(f.integer("input_zero_point"));
  const auto zw = static_cast<std::int32_t>(f.integer("weight_zero_point"));
  std::vector<std::int8_t> in, w;
  for (auto v : f.arr("input").values) in.push_back(static_cast<std::int8_t>(v));
  for (auto v : f.arr("filter").values) w.push_back(static_cast<std::int8_t>(v));
  std::vector<std::int32_t> bias, mult, shift;
  for (auto v : f.arr("bias").values) bias.push_back(static_cast<std::int32_t>(v));
  for (auto v : f.arr("output_multiplier").values) mult.push_back(static_cast<std::int32_t>(v));
  for (auto v : f.arr("output_shift").values) shift.push_back(static_cast<std::int32_t>(v));
  const std::size_t bytes = fc::packed_weights_bytes(n, k);
  REQUIRE(bytes > 0);
  auto packed = words(bytes);
  if (f.word("weight_dtype") == "s4") {
    std::vector<std::uint8_t> w4(storage_bytes<s4>(w.size()));
    pack_s4(w.size(), w.data(), w4.data());
    REQUIRE(fc::pack_weights_s4(n, k, w4.data(), bias.empty() ? nullptr : bias.data(), zin, packed.data(), bytes).ok());
  } else {
    REQUIRE(fc::pack_weights(n, k, w.data(), bias.empty() ? nullptr : bias.data(), zin, zw, packed.data(), bytes).ok());
  }
  std::vector<std::int8_t> out(batches * n);
  std::vector<std::int32_t> ws(batches + 1);
  const auto zp = static_cast<std::int32_t>(f.integer("output_zero_point"));
  const auto lo = static_cast<std::int32_t>(f.integer("activation_min")), hi = static_cast<std::int32_t>(f.integer("activation_max"));
  status st;
  if (mult.size() == 1) {
    output_stage<requant::per_tensor> p{{mult[0], shift[0]}, zp, lo, hi};
    st = fc::run(batches, k, n, in.data(), k, packed.data(), out.data(), n, p, zw, ws.data(), ws.size() * 4);
  } else {
    output_stage<requant::per_channel> p{{mult.data(), shift.data()}, zp, lo, hi};
    st = fc::run(batches, k, n, in.data(), k, packed.data(), out.data(), n, p, zw, ws.data(), ws.size() * 4);
  }
  REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
  const auto& want = f.arr("output").values;
  REQUIRE(want.size() == out.size());
  for (std::size_t i = 0; i < out.size(); ++i)
    if (out[i] != want[i]) {
      FAIL_CHECK(f.path << ": element " << i << " is " << int{out[i]} << ", TFLite says " << want[i]);
      return false;
    }
  return true;
}
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("fully_connected s8/s4 conformance vectors, bit-exact", K, fc_conformance) {
  TT_REQUIRE_RUNNABLE(K);
  int checked = 0;
  for (const char* dir : {"fully_connected_s8/", "fully_connected_s4/"})
    for (const auto& path : nnconf::list(tt::conformance_dir(), dir)) {
      nnconf::case_file f;
      std::string err;
      REQUIRE_MESSAGE(nnconf::load(path, f, err), err);
      CHECK_MESSAGE(run_conformance_case<K>(f), path);
      ++checked;
    }
  CHECK(checked == 13);  // 7 s8 + 6 s4 cases
}
TEST_CASE_TEMPLATE_APPLY(fc_conformance, as_tuple<kernels::gemm_qs8_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("gemm_qs8 kernels equal the scalar kernel on random shapes", K, fc_random) {
  TT_REQUIRE_RUNNABLE(K);
  using ref = fully_connected_s8<arch::scalar, kernels::gemm_qs8_1x4c1_scalar>;
  using dut = fully_connected_s8<typename K::arch, K>;
  tt::rng r(7);
  const std::size_t cases = tt::scaled(300);
  for (std::size_t t = 0; t < cases; ++t) {
    const std::size_t m = 1 + r.next() % 9, n = 1 + r.next() % 70;
    const std::size_t k = (t % 5 == 0) ? 1 + r.next() % 2000 : 1 + r.next() % 90;
    const std::size_t in_stride = k + r.next() % 5, out_stride = n + r.next() % 5;
    const auto zin = static_cast<std::int32_t>(r.range(-128, 127));
    const auto zw = (t % 3 == 0) ? static_cast<std::int32_t>(r.range(-127, 127)) : 0;
    std::vector<std::int8_t> in(m * in_stride), w(n * k);
    for (auto& v : in) v = static_cast<std::int8_t>(r.range(-128, 127));
    for (auto& v : w) v = static_cast<std::int8_t>(r.range(-128, 127));
    std::vector<std::int32_t> bias(n), mult(n), shift(n);
    for (std::size_t i = 0; i < n; ++i) {
      bias[i] = static_cast<std::int32_t>(r.range(-100000, 100000));
      mult[i] = static_cast<std::int32_t>(r.range(1 << 30, 0x7FFFFFFF));
      shift[i] = static_cast<std::int32_t>(r.range(-14, 1));
    }
    output_stage<requant::per_channel> pc{{mult.data(), shift.data()}, static_cast<std::int32_t>(r.range(-128, 127)),
                                         static_cast<std::int32_t>(r.range(-128, 0)), static_cast<std::int32_t>(r.range(0, 127))};
    auto pr = words(ref::packed_weights_bytes(n, k)), pd = words(dut::packed_weights_bytes(n, k));
    REQUIRE(ref::pack_weights(n, k, w.data(), bias.data(), zin, zw, pr.data(), pr.size() * 4).ok());
    REQUIRE(dut::pack_weights(n, k, w.data(), bias.data(), zin, zw, pd.data(), pd.size() * 4).ok());
    std::vector<std::int8_t> want(m * out_stride + 16, 0x33), got(m * out_stride + 16, 0x33);
    std::vector<std::int32_t> ws(m);
    REQUIRE(ref::run(m, k, n, in.data(), in_stride, pr.data(), want.data(), out_stride, pc, zw, ws.data(), ws.size() * 4).ok());
    REQUIRE(dut::run(m, k, n, in.data(), in_stride, pd.data(), got.data(), out_stride, pc, zw, ws.data(), ws.size() * 4).ok());
    INFO("m=" << m << " n=" << n << " k=" << k << " zw=" << zw);
    REQUIRE(got == want);
    output_stage<requant::per_tensor> pt{{mult[0], shift[0]}, pc.zero_point, pc.act_min, pc.act_max};
    REQUIRE(ref::run(m, k, n, in.data(), in_stride, pr.data(), want.data(), out_stride, pt, zw, ws.data(), ws.size() * 4).ok());
    REQUIRE(dut::run(m, k, n, in.data(), in_stride, pd.data(), got.data(), out_stride, pt, zw, ws.data(), ws.size() * 4).ok());
    REQUIRE(got == want);
  }
}
TEST_CASE_TEMPLATE_APPLY(fc_random, as_tuple<kernels::gemm_qs8_registry>::type);

TEST_CASE("fully_connected_s8 size queries do not wrap a 32-bit size_t") {
  // 2^16 x 2^16 int8 weights (4 GiB): inside the [1, 2^24] size range, past a 32-bit size_t.
  using fc = fully_connected_s8<>;
  const std::size_t n = std::size_t{1} << 16, k = std::size_t{1} << 16;
  // One weight element: pack_weights must refuse before reading any. The pointer is opaque to the
  // compiler: GCC 12 -O3 for armv8.6-a+sve2 otherwise flags the (unreached) packing loop's reads
  // past w_one with -Warray-bounds, an error under -Werror.
  std::int8_t w_one[1] = {0};
  const std::int8_t* w = w_one;
  __asm__("" : "+r"(w));
  std::uint32_t packed[4] = {};
  tt::check_wide_size_query(fc::packed_weights_bytes(n, k), fc::pack_weights(n, k, w, nullptr, 0, 0, packed, sizeof packed));
}

TEST_CASE("fully_connected_s8 rejects bad parameters with a message") {
  using fc = fully_connected_s8<>;
  std::int8_t w[6] = {1, 2, 3, 4, 5, 6}, in[3] = {1, 1, 1}, out[2];
  auto packed = words(fc::packed_weights_bytes(2, 3));
  const std::size_t bytes = packed.size() * 4;
  CHECK(fc::packed_weights_bytes(0, 3) == 0);
  CHECK(fc::pack_weights(0, 3, w, nullptr, 0, 0, packed.data(), bytes).code() == status_code::invalid_argument);
  CHECK(fc::pack_weights(2, 3, w, nullptr, 0, 0, packed.data(), 4).code() == status_code::buffer_too_small);
  CHECK(fc::pack_weights(2, 3, w, nullptr, 200, 0, packed.data(), bytes).code() == status_code::invalid_argument);
  CHECK(fc::pack_weights(2, 3, nullptr, nullptr, 0, 0, packed.data(), bytes).code() == status_code::invalid_argument);
  CHECK(fc::pack_weights(2, 3, w, nullptr, 0, 0, reinterpret_cast<std::uint8_t*>(packed.data()) + 1, bytes - 4).code() ==
        status_code::invalid_argument);
  REQUIRE(fc::pack_weights(2, 3, w, nullptr, 0, 0, packed.data(), bytes).ok());
  output_stage<requant::per_tensor> p{{1 << 30, 0}, 0, -128, 127};
  CHECK(fc::run(1, 3, 2, in, 3, packed.data(), out, 2, p).ok());
  CHECK(out[0] == 3);   // (1+2+3) * 0.5
  CHECK(out[1] == 8);   // (4+5+6) * 0.5 = 7.5 -> 8
  CHECK(fc::run(1, 3, 2, in, 2, packed.data(), out, 2, p).code() == status_code::invalid_argument);
  CHECK(fc::run(1, 3, 2, in, 3, packed.data(), out, 2, p, 3).code() == status_code::buffer_too_small);
  auto bad = p;
  bad.act_max = 300;
  status st = fc::run(1, 3, 2, in, 3, packed.data(), out, 2, bad);
  CHECK(st.code() == status_code::invalid_argument);
  MESSAGE(std::string(st.message()));
  CHECK(fc::run(std::size_t{1} << 30, 3, 2, in, 3, packed.data(), out, 2, p).code() == status_code::invalid_argument);
  CHECK(fc::run(0, 3, 2, in, 3, packed.data(), out, 2, p).ok());
}

#include "guard.hpp"

namespace {
/// An m x k by n x k problem in buffers with a guard page on `side`: random int8 activations and
/// weights; bias, multiplier, shift, the m-int32 workspace and the m x n output left to the test.
struct guarded_fc {
  tt::guarded<std::int8_t> in, w, out;
  tt::guarded<std::int32_t> bias, mult, shift, ws;
  guarded_fc(std::size_t m, std::size_t n, std::size_t k, tt::guard_side side, tt::rng& r)
      : in(m * k, side), w(n * k, side), out(m * n, side), bias(n, side), mult(n, side), shift(n, side), ws(m, side) {
    if (!in.ok() || !w.ok()) return;  // the test's REQUIRE reports it
    for (std::size_t i = 0; i < m * k; ++i) in[i] = static_cast<std::int8_t>(r.range(-128, 127));
    for (std::size_t i = 0; i < n * k; ++i) w[i] = static_cast<std::int8_t>(r.range(-128, 127));
  }
};
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("gemm_qs8 kernels stay inside their buffers (guard pages)", K, fc_guard) {
  TT_REQUIRE_RUNNABLE(K);
  using dut = fully_connected_s8<typename K::arch, K>;
  using ref = fully_connected_s8<arch::scalar, kernels::gemm_qs8_1x4c1_scalar>;
  tt::rng r(17);
  const std::size_t shapes[][3] = {{1, 1, 1}, {1, 17, 3}, {5, 3, 31}, {3, 33, 17}, {7, 20, 64}, {4, 16, 16}, {9, 1, 130}, {2, 70, 5}};
  for (auto side : {tt::guard_side::after, tt::guard_side::before}) {
    for (const auto& s : shapes) {
      const std::size_t m = s[0], n = s[1], k = s[2];
      guarded_fc g(m, n, k, side, r);
      auto& [in, w, out, bias, mult, shift, ws] = g;
      REQUIRE((in.ok() && w.ok()));
      for (std::size_t i = 0; i < n; ++i) {
        bias[i] = static_cast<std::int32_t>(r.range(-5000, 5000));
        mult[i] = 1 << 30;
        shift[i] = -6;
      }
      const std::size_t bytes = dut::packed_weights_bytes(n, k);
      tt::guarded<std::int32_t> packed(bytes / 4, side);
      REQUIRE(bytes % 4 == 0);
      REQUIRE(dut::pack_weights(n, k, w.data(), bias.data(), -3, 5, packed.data(), bytes).ok());
      output_stage<requant::per_channel> p{{mult.data(), shift.data()}, 1, -128, 127};
      REQUIRE(dut::run(m, k, n, in.data(), k, packed.data(), out.data(), n, p, 5, ws.data(), m * 4).ok());
      std::vector<std::int8_t> got(out.data(), out.data() + m * n), want(m * n);
      auto pr = words(ref::packed_weights_bytes(n, k));
      REQUIRE(ref::pack_weights(n, k, w.data(), bias.data(), -3, 5, pr.data(), pr.size() * 4).ok());
      std::vector<std::int32_t> ws2(m);
      REQUIRE(ref::run(m, k, n, in.data(), k, pr.data(), want.data(), n, p, 5, ws2.data(), m * 4).ok());
      CHECK(got == want);
    }
  }
  MESSAGE(std::string(K::name) << ": guard pages " << std::string(TT_HAS_GUARD_PAGES ? "on" : "unavailable (bare metal)"));
}
TEST_CASE_TEMPLATE_APPLY(fc_guard, as_tuple<kernels::gemm_qs8_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("gemm_qs8 kernels with many rows: every output stage kind, guard pages", K, fc_many_rows) {
  TT_REQUIRE_RUNNABLE(K);
  using dut = fully_connected_s8<typename K::arch, K>;
  using ref = fully_connected_s8<arch::scalar, kernels::gemm_qs8_1x4c1_scalar>;
  tt::rng r(29);
  // m >= 12 reaches the simd kernel's widened-weight groups (K <= 512 on AVX2, several groups for
  // n = 300) and, for K > 512, its panel path; odd m and n leave row and channel tails. The last
  // two split the AVX-512 kernel's weights into several panels (19 blocks of 32 > 16 per panel;
  // K = 9000: one block per panel, activations flipped in 2048-depth chunks).
  const std::size_t shapes[][3] = {{12, 16, 2}, {13, 33, 27}, {17, 128, 128}, {31, 70, 101},
                                   {25, 5, 513}, {19, 48, 600}, {12, 300, 9}, {10, 600, 40}, {9, 70, 9000}};
  for (auto side : {tt::guard_side::after, tt::guard_side::before}) {
    for (const auto& s : shapes) {
      for (int kind = 0; kind < 3; ++kind) {
        const std::size_t m = s[0], n = s[1], k = s[2];
        guarded_fc g(m, n, k, side, r);
        auto& [in, w, out, bias, mult, shift, ws] = g;
        REQUIRE((in.ok() && w.ok()));
        // kind 0: TFLite's usual stage (multiplier in [2^30, 2^31), shift <= 0); kind 1: left
        // shifts too; kind 2: negative and INT32_MIN multipliers (SRDHM's saturating case).
        for (std::size_t i = 0; i < n; ++i) {
          bias[i] = static_cast<std::int32_t>(r.range(-100000, 100000));
          mult[i] = static_cast<std::int32_t>(r.range(1 << 30, 0x7FFFFFFF));
          shift[i] = static_cast<std::int32_t>(kind == 1 ? r.range(-10, 6) : r.range(-14, 0));
          if (kind == 2) mult[i] = i % 3 == 0 ? std::numeric_limits<std::int32_t>::min() : -mult[i];
        }
        const std::int32_t zw = kind == 1 ? 3 : 0;
        const std::size_t bytes = dut::packed_weights_bytes(n, k);
        tt::guarded<std::int32_t> packed(bytes / 4, side);
        REQUIRE(bytes % 4 == 0);
        REQUIRE(dut::pack_weights(n, k, w.data(), bias.data(), -128, zw, packed.data(), bytes).ok());
        output_stage<requant::per_channel> p{{mult.data(), shift.data()}, static_cast<std::int32_t>(r.range(-128, 127)),
                                             static_cast<std::int32_t>(r.range(-128, -1)),
                                             static_cast<std::int32_t>(r.range(0, 127))};
        REQUIRE(dut::run(m, k, n, in.data(), k, packed.data(), out.data(), n, p, zw, ws.data(), m * 4).ok());
        std::vector<std::int8_t> got(out.data(), out.data() + m * n), want(m * n);
        auto pr = words(ref::packed_weights_bytes(n, k));
        REQUIRE(ref::pack_weights(n, k, w.data(), bias.data(), -128, zw, pr.data(), pr.size() * 4).ok());
        std::vector<std::int32_t> ws2(m);
        REQUIRE(ref::run(m, k, n, in.data(), k, pr.data(), want.data(), n, p, zw, ws2.data(), m * 4).ok());
        INFO("m=" << m << " n=" << n << " k=" << k << " kind=" << kind);
        CHECK(got == want);
        output_stage<requant::per_tensor> pt{{mult[n - 1], shift[n - 1]}, p.zero_point, p.act_min, p.act_max};
        REQUIRE(dut::run(m, k, n, in.data(), k, packed.data(), out.data(), n, pt, zw, ws.data(), m * 4).ok());
        got.assign(out.data(), out.data() + m * n);
        REQUIRE(ref::run(m, k, n, in.data(), k, pr.data(), want.data(), n, pt, zw, ws2.data(), m * 4).ok());
        CHECK(got == want);
      }
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(fc_many_rows, as_tuple<kernels::gemm_qs8_registry>::type);

/// One FC's weights packed for the scalar kernel (the reference) and for kernel K, both run on the
/// same activations and stage: `run` fills want (scalar) and got (K).
template <class K> struct fc_pair {
  using ref = fully_connected_s8<arch::scalar, kernels::gemm_qs8_1x4c1_scalar>;
  using dut = fully_connected_s8<typename K::arch, K>;
  std::size_t n, k;
  std::vector<std::int32_t> pr, pd;
  fc_pair(std::size_t n_, std::size_t k_, const std::int8_t* w, const std::int32_t* bias, std::int32_t zin)
      : n(n_), k(k_), pr(words(ref::packed_weights_bytes(n_, k_))), pd(words(dut::packed_weights_bytes(n_, k_))) {
    REQUIRE(ref::pack_weights(n, k, w, bias, zin, 0, pr.data(), pr.size() * 4).ok());
    REQUIRE(dut::pack_weights(n, k, w, bias, zin, 0, pd.data(), pd.size() * 4).ok());
  }
  template <class Q>
  void run(std::size_t m, const std::int8_t* in, std::vector<std::int8_t>& want, std::vector<std::int8_t>& got,
           const output_stage<Q>& p) {
    want.assign(m * n, 0), got.assign(m * n, 0);
    REQUIRE(ref::run(m, k, n, in, k, pr.data(), want.data(), n, p).ok());
    REQUIRE(dut::run(m, k, n, in, k, pd.data(), got.data(), n, p).ok());
  }
};

TEST_CASE_TEMPLATE_DEFINE("gemm_qs8 kernels are exact at the int8 extremes (-128 x -128, long K)", K, fc_extremes) {
  TT_REQUIRE_RUNNABLE(K);
  tt::rng r(23);
  // Products of -128 * -128 summed in pairs overflow int16 (2 * 16384 = 32768): kernels that widen
  // through int16 must still be exact. The bias cancels most of the sum so the output shows errors.
  for (std::size_t k : {1u, 2u, 15u, 16u, 17u, 127u, 128u, 129u, 255u, 256u, 257u, 1023u, 4111u}) {
    for (int pattern = 0; pattern < 3; ++pattern) {
      const std::size_t m = 1 + k % 5, n = 1 + (k * 7) % 37;
      std::vector<std::int8_t> in(m * k), w(n * k);
      auto pick = [&](std::size_t i) -> std::int8_t {
        if (pattern == 0) return -128;
        if (pattern == 1) return (i % 3 == 0) ? std::int8_t{127} : std::int8_t{-128};
        return (r.next() & 1) ? std::int8_t{-128} : std::int8_t{127};
      };
      for (std::size_t i = 0; i < in.size(); ++i) in[i] = pick(i);
      for (std::size_t i = 0; i < w.size(); ++i) w[i] = pick(i + 1);
      std::vector<std::int32_t> bias(n), mult(n, 1 << 30), shift(n, 0);
      for (std::size_t j = 0; j < n; ++j) {
        std::int64_t s = 0;
        for (std::size_t kk = 0; kk < k; ++kk) s += std::int64_t{in[kk]} * w[j * k + kk];
        bias[j] = static_cast<std::int32_t>(-s + static_cast<std::int64_t>(j % 50) - 25);  // small results
      }
      output_stage<requant::per_channel> p{{mult.data(), shift.data()}, 0, -128, 127};
      std::vector<std::int8_t> want, got;
      fc_pair<K>(n, k, w.data(), bias.data(), 0).run(m, in.data(), want, got, p);
      INFO("k=" << k << " pattern=" << pattern);
      for (std::size_t i = 0; i < m; ++i)  // the oracle itself, against int64 arithmetic
        for (std::size_t j = 0; j < n; ++j) {
          std::int64_t s = bias[j];
          for (std::size_t kk = 0; kk < k; ++kk) s += std::int64_t{in[i * k + kk]} * w[j * k + kk];
          REQUIRE(want[i * n + j] == requantize_one<std::int8_t>(static_cast<std::int32_t>(s), p, j));
        }
      REQUIRE(got == want);
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(fc_extremes, as_tuple<kernels::gemm_qs8_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("gemm_qs8 kernels saturate MBQM's one overflow (INT32_MIN x INT32_MIN)", K, fc_srdhm_sat) {
  TT_REQUIRE_RUNNABLE(K);
  tt::rng r(31);
  // Zero weights leave every accumulator at its bias: INT32_MIN on every third channel, whose
  // multiplier is INT32_MIN with shift 0, so SRDHM meets its single saturating input (-> INT32_MAX,
  // output 127; without the fix-up INT32_MIN, output -128). Other channels: ordinary stages.
  for (std::size_t m : {1u, 2u, 9u, 17u}) {
    const std::size_t n = 37, k = 5;
    std::vector<std::int8_t> in(m * k), w(n * k, 0);
    for (auto& v : in) v = static_cast<std::int8_t>(r.range(-128, 127));
    std::vector<std::int32_t> bias(n), mult(n), shift(n);
    for (std::size_t j = 0; j < n; ++j) {
      const bool sat = j % 3 == 0;
      bias[j] = sat ? std::numeric_limits<std::int32_t>::min() : static_cast<std::int32_t>(r.range(-100000, 100000));
      mult[j] = sat ? std::numeric_limits<std::int32_t>::min() : static_cast<std::int32_t>(r.range(1 << 30, 0x7FFFFFFF));
      shift[j] = sat ? 0 : static_cast<std::int32_t>(r.range(-12, 0));
    }
    output_stage<requant::per_channel> p{{mult.data(), shift.data()}, 0, -128, 127};
    std::vector<std::int8_t> want, got;
    fc_pair<K>(n, k, w.data(), bias.data(), 0).run(m, in.data(), want, got, p);
    INFO("m=" << m);
    CHECK(want[0] == 127);  // the oracle saturates
    CHECK(got == want);
  }
}
TEST_CASE_TEMPLATE_APPLY(fc_srdhm_sat, as_tuple<kernels::gemm_qs8_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("gemm_qs8 kernels with zero points and shifts at validate's limits", K, fc_stage_limits) {
  TT_REQUIRE_RUNNABLE(K);
  tt::rng r(37);
  // Output zero points far outside int8 (validate allows [-65536, 65536]) with large right shifts,
  // and shifts at both ends of [-31, 30]: kernels that fold the zero point or the rounding into
  // wider arithmetic must fall back where that would overflow. Large biases keep outputs unclamped
  // often enough to show errors.
  const std::int32_t zps[] = {-65536, 65536, -3000, 300, -128, 127, 128};
  const std::int32_t shift_ranges[][2] = {{-31, -20}, {-23, -18}, {-3, 0}, {0, 30}};
  for (std::int32_t zp : zps)
    for (const auto& sr : shift_ranges) {
      const std::size_t m = 9, n = 45, k = 19;
      std::vector<std::int8_t> in(m * k), w(n * k);
      for (auto& v : in) v = static_cast<std::int8_t>(r.range(-128, 127));
      for (auto& v : w) v = static_cast<std::int8_t>(r.range(-128, 127));
      std::vector<std::int32_t> bias(n), mult(n), shift(n);
      for (std::size_t j = 0; j < n; ++j) {
        bias[j] = static_cast<std::int32_t>(r.range(-2000000000, 2000000000));
        mult[j] = static_cast<std::int32_t>(r.range(1 << 30, 0x7FFFFFFF));
        shift[j] = static_cast<std::int32_t>(r.range(sr[0], sr[1]));
      }
      output_stage<requant::per_channel> p{{mult.data(), shift.data()}, zp, -128, 127};
      REQUIRE(validate<std::int8_t>(p, n, -31, 30).ok());
      fc_pair<K> fc(n, k, w.data(), bias.data(), -7);
      std::vector<std::int8_t> want, got;
      fc.run(m, in.data(), want, got, p);
      INFO("zp=" << zp << " shifts " << sr[0] << ".." << sr[1]);
      CHECK(got == want);
      fc.run(m, in.data(), want, got, output_stage<requant::per_tensor>{{mult[0], shift[0]}, zp, -128, 127});
      CHECK(got == want);
    }
}
TEST_CASE_TEMPLATE_APPLY(fc_stage_limits, as_tuple<kernels::gemm_qs8_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("gemm_qs8 kernels with fast and general output stages in neighbouring blocks", K, fc_mixed_stages) {
  TT_REQUIRE_RUNNABLE(K);
  tt::rng r(41);
  // n = 100: blocks of 32, 32, 32 and a 4-channel tail on 32-channel kernels. A left shift in a
  // block sends that block to the general requantization form, the others stay on the fast one
  // (the AVX-512 kernel runs a fast block's stage inside the next block's k loop, from K = 77 on,
  // across row tiles too; a general block runs at once). Row offsets (weight zero point) on half
  // of the cases; odd m leaves row tiles of 1 to 7 rows.
  const unsigned general_blocks[] = {0b0000, 0b0001, 0b0010, 0b0101, 0b1010, 0b0110, 0b1111, 0b1001};
  for (std::size_t k : {64u, 77u, 130u})
    for (std::size_t m : {2u, 9u, 17u, 23u})
      for (unsigned gb : general_blocks) {
        const std::size_t n = 100;
        const std::int32_t zw = gb % 2 == 0 ? 0 : 5;
        std::vector<std::int8_t> in(m * k), w(n * k);
        for (auto& v : in) v = static_cast<std::int8_t>(r.range(-128, 127));
        for (auto& v : w) v = static_cast<std::int8_t>(r.range(-128, 127));
        std::vector<std::int32_t> bias(n), mult(n), shift(n);
        for (std::size_t j = 0; j < n; ++j) {
          bias[j] = static_cast<std::int32_t>(r.range(-100000, 100000));
          mult[j] = static_cast<std::int32_t>(r.range(1 << 30, 0x7FFFFFFF));
          shift[j] = static_cast<std::int32_t>(r.range(-14, -6));
        }
        for (std::size_t b = 0; b < 4; ++b)
          if ((gb >> b) & 1u) shift[std::min(n - 1, b * 32 + 3)] = 1;
        using ref = fully_connected_s8<arch::scalar, kernels::gemm_qs8_1x4c1_scalar>;
        using dut = fully_connected_s8<typename K::arch, K>;
        auto pr = words(ref::packed_weights_bytes(n, k)), pd = words(dut::packed_weights_bytes(n, k));
        REQUIRE(ref::pack_weights(n, k, w.data(), bias.data(), -9, zw, pr.data(), pr.size() * 4).ok());
        REQUIRE(dut::pack_weights(n, k, w.data(), bias.data(), -9, zw, pd.data(), pd.size() * 4).ok());
        output_stage<requant::per_channel> p{{mult.data(), shift.data()}, static_cast<std::int32_t>(r.range(-20, 20)), -128, 127};
        std::vector<std::int8_t> want(m * n), got(m * n, 0x55);
        std::vector<std::int32_t> ws(m);
        REQUIRE(ref::run(m, k, n, in.data(), k, pr.data(), want.data(), n, p, zw, ws.data(), ws.size() * 4).ok());
        REQUIRE(dut::run(m, k, n, in.data(), k, pd.data(), got.data(), n, p, zw, ws.data(), ws.size() * 4).ok());
        INFO("m=" << m << " k=" << k << " general blocks=" << gb << " zw=" << zw);
        CHECK(got == want);
      }
}
TEST_CASE_TEMPLATE_APPLY(fc_mixed_stages, as_tuple<kernels::gemm_qs8_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("gemm_qs8 kernels with one non-right shift among right shifts, at any channel", K,
                          fc_one_general_shift) {
  TT_REQUIRE_RUNNABLE(K);
  tt::rng r(43);
  // Kernels that pick a right-shift-only stage by checking the call's (or a block's) shifts must
  // see every channel's: one shift of 0 or 1 at the first, a middle or the last channel (the
  // last is in a channel tail for n % 4 != 0), else shifts in [-31, -1] with both ends present.
  // Small activations and weights keep outputs inside the clamp, so a wrong rounding shows
  // (shift 0 given the right-shift fixup moves negative sums down by one). Per-tensor shifts
  // -31, -1, 0 and 1 too. K = 9, 19 and 40: one k-group, two, and the long-K path.
  for (std::size_t k : {9u, 19u, 40u})
    for (std::size_t n : {5u, 13u, 26u, 45u})
      for (std::size_t m : {1u, 2u, 5u}) {
        std::vector<std::int8_t> in(m * k), w(n * k);
        for (auto& v : in) v = static_cast<std::int8_t>(r.range(-4, 4));
        for (auto& v : w) v = static_cast<std::int8_t>(r.range(-4, 4));
        std::vector<std::int32_t> bias(n), mult(n), shift(n);
        for (std::size_t j = 0; j < n; ++j) {
          bias[j] = static_cast<std::int32_t>(r.range(-200, 200));
          mult[j] = static_cast<std::int32_t>(r.range(1 << 30, 0x7FFFFFFF));
        }
        fc_pair<K> fc(n, k, w.data(), bias.data(), 0);
        std::vector<std::int8_t> want, got;
        for (std::size_t at : {std::size_t{0}, n / 2, n - 1})
          for (std::int32_t s : {0, 1}) {
            for (std::size_t j = 0; j < n; ++j) shift[j] = static_cast<std::int32_t>(r.range(-3, -1));
            shift[(at + 1) % n] = -31;
            shift[(at + 2) % n] = -1;
            shift[at] = s;
            const auto zp = static_cast<std::int32_t>(r.range(-20, 20));
            const output_stage<requant::per_channel> p{{mult.data(), shift.data()}, zp, -128, 127};
            fc.run(m, in.data(), want, got, p);
            INFO("m=" << m << " n=" << n << " k=" << k << " shift " << s << " at channel " << at);
            CHECK(got == want);
          }
        for (std::int32_t s : {-31, -1, 0, 1}) {
          fc.run(m, in.data(), want, got, output_stage<requant::per_tensor>{{mult[0], s}, 3, -128, 127});
          INFO("m=" << m << " n=" << n << " k=" << k << " per-tensor shift " << s);
          CHECK(got == want);
        }
      }
}
TEST_CASE_TEMPLATE_APPLY(fc_one_general_shift, as_tuple<kernels::gemm_qs8_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("gemm_qs8 kernels with K <= 32: every K, row tiles ending mid-tile, guard pages", K, fc_small_k) {
  TT_REQUIRE_RUNNABLE(K);
  using dut = fully_connected_s8<typename K::arch, K>;
  using ref = fully_connected_s8<arch::scalar, kernels::gemm_qs8_1x4c1_scalar>;
  tt::rng r(47);
  // The AVX-512 kernel runs K <= 32 (at most 8 k-groups) with its weights in registers and each row
  // pair's output stage inside the next pair's k loop, carried across blocks, row tiles and fast /
  // general blocks; rows load their first 32 bytes unmasked unless that would pass the end of A.
  // Tight input stride (k) against a guard page on either side; n = 600 is two panels of blocks.
  // Per case: per-channel stage with a left shift in some blocks (general form) or none, clamps,
  // a weight zero point (row offsets) on half; then per-tensor. Its fast stages take a second form
  // where every multiplier is positive and |bias'| < 2^29: every fourth case has one negative
  // multiplier, every fourth one bias past 2^29, every fourth biases just inside.
  const std::size_t ms[] = {2, 3, 5, 8, 9, 16, 17, 23, 40};
  const std::size_t ns[] = {1, 17, 32, 33, 100, 600};
  std::size_t cases = 0;
  for (std::size_t k = 1; k <= 33; ++k)
    for (auto side : {tt::guard_side::after, tt::guard_side::before}) {
      const std::size_t m = ms[(k + (side == tt::guard_side::after ? 0 : 4)) % 9];
      const std::size_t n = ns[(k / 2 + (side == tt::guard_side::after ? 0 : 3)) % 6];
      guarded_fc g(m, n, k, side, r);
      auto& [in, w, out, bias, mult, shift, ws] = g;
      REQUIRE((in.ok() && w.ok()));
      const unsigned general = static_cast<unsigned>(r.next() % 4 == 0 ? r.next() : 0);  // blocks with a left shift
      for (std::size_t i = 0; i < n; ++i) {
        bias[i] = static_cast<std::int32_t>(r.range(-30000, 30000));
        mult[i] = static_cast<std::int32_t>(r.range(1 << 30, 0x7FFFFFFF));
        shift[i] = static_cast<std::int32_t>(r.range(-12, -1));
      }
      const std::size_t at = r.next() % n;
      if (k % 4 == 1) mult[at] = -mult[at];
      std::int32_t zp = static_cast<std::int32_t>(r.range(-128, 127));
      if (k % 4 == 2) {  // past the second form's range; a wrong form would wrap (shift -23, zero point +-128)
        bias[at] = (at % 2 ? 1 : -1) * static_cast<std::int32_t>(r.range(0x60000000, 0x7FE00000));
        mult[at] = 0x7FFF0000;
        for (std::size_t i = 0; i < n; ++i) shift[i] = static_cast<std::int32_t>(r.range(-23, -20));
        shift[at] = -23;
        zp = at % 2 ? 127 : -128;
      }
      for (std::size_t b = 0; b * 32 < n; ++b)
        if ((general >> (b % 32)) & 1u) shift[std::min(n - 1, b * 32 + 5)] = 1;
      if (k % 4 == 3)
        for (std::size_t i = 0; i < n; ++i) bias[i] = (i % 2 ? 1 : -1) * static_cast<std::int32_t>(r.range((1 << 29) - (1 << 22), (1 << 29) - (1 << 21)));
      const std::int32_t zw = k % 2 == 0 ? 0 : static_cast<std::int32_t>(r.range(-3, 3));
      const std::int32_t zin = static_cast<std::int32_t>(r.range(-128, 127));
      const std::size_t bytes = dut::packed_weights_bytes(n, k);
      tt::guarded<std::int32_t> packed(bytes / 4, side);
      REQUIRE(dut::pack_weights(n, k, w.data(), bias.data(), zin, zw, packed.data(), bytes).ok());
      auto pr = words(ref::packed_weights_bytes(n, k));
      REQUIRE(ref::pack_weights(n, k, w.data(), bias.data(), zin, zw, pr.data(), pr.size() * 4).ok());
      const std::int32_t lo = k % 3 == 0 ? -128 : static_cast<std::int32_t>(r.range(-128, -20));
      const std::int32_t hi = k % 3 == 0 ? 127 : static_cast<std::int32_t>(r.range(20, 127));
      output_stage<requant::per_channel> p{{mult.data(), shift.data()}, zp, lo, hi};
      std::vector<std::int8_t> want(m * n);
      std::vector<std::int32_t> ws2(m);
      INFO("m=" << m << " n=" << n << " k=" << k << " zw=" << zw << " general blocks=" << general);
      REQUIRE(dut::run(m, k, n, in.data(), k, packed.data(), out.data(), n, p, zw, ws.data(), m * 4).ok());
      REQUIRE(ref::run(m, k, n, in.data(), k, pr.data(), want.data(), n, p, zw, ws2.data(), m * 4).ok());
      CHECK(std::vector<std::int8_t>(out.data(), out.data() + m * n) == want);
      output_stage<requant::per_tensor> pt{{mult[0], shift[0] > 0 ? -3 : shift[0]}, p.zero_point, lo, hi};
      REQUIRE(dut::run(m, k, n, in.data(), k, packed.data(), out.data(), n, pt, zw, ws.data(), m * 4).ok());
      REQUIRE(ref::run(m, k, n, in.data(), k, pr.data(), want.data(), n, pt, zw, ws2.data(), m * 4).ok());
      CHECK(std::vector<std::int8_t>(out.data(), out.data() + m * n) == want);
      ++cases;
    }
  CHECK(cases == 66);
  // Row strides past k (rows not contiguous) and every m from 2 to 19, K = 27 (MobileNetV1 layer a).
  for (std::size_t m = 2; m <= 19; ++m) {
    const std::size_t k = 27, n = 70, stride = k + m % 5;
    std::vector<std::int8_t> in(m * stride), w(n * k);
    for (auto& v : in) v = static_cast<std::int8_t>(r.range(-128, 127));
    for (auto& v : w) v = static_cast<std::int8_t>(r.range(-128, 127));
    std::vector<std::int32_t> bias(n), mult(n), shift(n);
    for (std::size_t j = 0; j < n; ++j) {
      bias[j] = static_cast<std::int32_t>(r.range(-30000, 30000));
      mult[j] = static_cast<std::int32_t>(r.range(1 << 30, 0x7FFFFFFF));
      shift[j] = static_cast<std::int32_t>(r.range(-10, -1));
    }
    auto pr = words(ref::packed_weights_bytes(n, k)), pd = words(dut::packed_weights_bytes(n, k));
    REQUIRE(ref::pack_weights(n, k, w.data(), bias.data(), 4, 0, pr.data(), pr.size() * 4).ok());
    REQUIRE(dut::pack_weights(n, k, w.data(), bias.data(), 4, 0, pd.data(), pd.size() * 4).ok());
    output_stage<requant::per_channel> p{{mult.data(), shift.data()}, -5, -128, 127};
    std::vector<std::int8_t> want(m * n + 7, 0x11), got(m * n + 7, 0x11);
    REQUIRE(ref::run(m, k, n, in.data(), stride, pr.data(), want.data(), n, p).ok());
    REQUIRE(dut::run(m, k, n, in.data(), stride, pd.data(), got.data(), n, p).ok());
    INFO("m=" << m << " stride=" << stride);
    CHECK(got == want);
  }
}
TEST_CASE_TEMPLATE_APPLY(fc_small_k, as_tuple<kernels::gemm_qs8_registry>::type);
