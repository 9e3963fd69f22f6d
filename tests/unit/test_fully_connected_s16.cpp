// 16x8 fully connected (int16 activations x int8 weights -> int16): every gemm_qs16 microkernel on
// the conformance vectors (bit-exact against TFLite), against a direct TFLite-style reference on
// random shapes (int64 and int32 bias, tails, strides, extreme values), inside guard pages, and
// the operator's parameter validation.
#include "test.hpp"
#include "nnconf.hpp"

#include <tessera/ops/fully_connected_s16.hpp>
#include <tessera/quant/fixedpoint.hpp>
#include <tuple>
#include <vector>

using namespace tessera;

namespace {
template <class L> struct as_tuple;
template <class... T> struct as_tuple<arch::type_list<T...>> { using type = std::tuple<T...>; };

// Packed buffers are int64-aligned storage.
std::vector<std::int64_t> words8(std::size_t bytes) { return std::vector<std::int64_t>((bytes + 7) / 8 + 1); }

// TFLite reference_integer_ops::FullyConnected<AccumScalar> for int16 input, written out directly:
// AccumScalar = int64 (int64 bias, MBQM64) or int32 (int32 bias, wrapping sum, MBQM32).
template <class Acc, class Q>
void reference(std::size_t m, std::size_t n, std::size_t k, const std::int16_t* in, std::size_t in_stride,
               const std::int8_t* w, const std::int64_t* bias, std::int16_t* out, std::size_t out_stride,
               const output_stage<Q>& p) {
  for (std::size_t b = 0; b < m; ++b)
    for (std::size_t o = 0; o < n; ++o) {
      const quantized_multiplier q = channel_multiplier(p, o);
      std::int32_t y;
      if constexpr (std::is_same_v<Acc, std::int64_t>) {
        std::int64_t acc = 0;
        for (std::size_t d = 0; d < k; ++d) acc += std::int64_t{in[b * in_stride + d]} * w[o * k + d];
        acc += bias ? bias[o] : 0;
        y = fixedpoint::mbqm64(acc, q.multiplier, q.shift);
      } else {
        std::uint32_t acc = 0;  // int32 arithmetic that wraps instead of being undefined
        for (std::size_t d = 0; d < k; ++d)
          acc += static_cast<std::uint32_t>(std::int32_t{in[b * in_stride + d]} * std::int32_t{w[o * k + d]});
        acc += static_cast<std::uint32_t>(bias ? bias[o] : 0);
        y = fixedpoint::mbqm32(static_cast<std::int32_t>(acc), q.multiplier, q.shift);
      }
      y = fixedpoint::add_wrap(y, p.zero_point);
      y = y < p.act_min ? p.act_min : (y > p.act_max ? p.act_max : y);
      out[b * out_stride + o] = static_cast<std::int16_t>(y);
    }
}

template <class K>
bool run_conformance_case(const nnconf::case_file& f) {
  using fc = fully_connected_s16<typename K::arch, K>;
  const std::size_t batches = static_cast<std::size_t>(f.integer("batches", 1));
  const std::size_t k = static_cast<std::size_t>(f.integer("input_c"));
  const std::size_t n = static_cast<std::size_t>(f.integer("output_c"));
  REQUIRE(f.integer("input_zero_point") == 0);
  REQUIRE(f.integer("weight_zero_point") == 0);
  std::vector<std::int16_t> in;
  std::vector<std::int8_t> w;
  for (auto v : f.arr("input").values) in.push_back(static_cast<std::int16_t>(v));
  for (auto v : f.arr("filter").values) w.push_back(static_cast<std::int8_t>(v));
  std::vector<std::int32_t> mult, shift;
  for (auto v : f.arr("output_multiplier").values) mult.push_back(static_cast<std::int32_t>(v));
  for (auto v : f.arr("output_shift").values) shift.push_back(static_cast<std::int32_t>(v));
  const std::size_t bytes = fc::packed_weights_bytes(n, k);
  REQUIRE(bytes > 0);
  auto packed = words8(bytes);
  const auto& bias = f.arr("bias").values;
  if (f.word("bias_dtype") == "s32") {
    std::vector<std::int32_t> b32;
    for (auto v : bias) b32.push_back(static_cast<std::int32_t>(v));
    REQUIRE(fc::pack_weights(n, k, w.data(), b32.empty() ? nullptr : b32.data(), packed.data(), bytes).ok());
    CHECK(fc::accumulator_bits(packed.data()) == 32);
  } else {
    std::vector<std::int64_t> b64(bias.begin(), bias.end());
    REQUIRE(fc::pack_weights(n, k, w.data(), b64.empty() ? nullptr : b64.data(), packed.data(), bytes).ok());
    CHECK(fc::accumulator_bits(packed.data()) == 64);
  }
  std::vector<std::int16_t> out(batches * n);
  const auto zp = static_cast<std::int32_t>(f.integer("output_zero_point"));
  const auto lo = static_cast<std::int32_t>(f.integer("activation_min")), hi = static_cast<std::int32_t>(f.integer("activation_max"));
  status st;
  if (mult.size() == 1) {
    output_stage<requant::per_tensor> p{{mult[0], shift[0]}, zp, lo, hi};
    st = fc::run(batches, k, n, in.data(), k, packed.data(), out.data(), n, p);
  } else {
    output_stage<requant::per_channel> p{{mult.data(), shift.data()}, zp, lo, hi};
    st = fc::run(batches, k, n, in.data(), k, packed.data(), out.data(), n, p);
  }
  REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
  const auto& want = f.arr("output").values;
  REQUIRE(want.size() == out.size());
  for (std::size_t i = 0; i < out.size(); ++i)
    if (out[i] != want[i]) {
      FAIL_CHECK(f.path << ": element " << i << " is " << out[i] << ", TFLite says " << want[i]);
      return false;
    }
  return true;
}
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("fully_connected s16 conformance vectors, bit-exact", K, fc16_conformance) {
  TT_REQUIRE_RUNNABLE(K);
  int checked = 0;
  for (const auto& path : nnconf::list(tt::conformance_dir(), "fully_connected_s16/")) {
    nnconf::case_file f;
    std::string err;
    REQUIRE_MESSAGE(nnconf::load(path, f, err), err);
    CHECK_MESSAGE(run_conformance_case<K>(f), path);
    ++checked;
  }
  CHECK(checked == 3);
}
TEST_CASE_TEMPLATE_APPLY(fc16_conformance, as_tuple<kernels::gemm_qs16_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("gemm_qs16 kernels equal the TFLite reference on random shapes", K, fc16_random) {
  TT_REQUIRE_RUNNABLE(K);
  using fc = fully_connected_s16<typename K::arch, K>;
  tt::rng r(16);
  const std::size_t cases = tt::scaled(300);
  for (std::size_t t = 0; t < cases; ++t) {
    const bool acc64 = t % 2 == 0;
    const std::size_t m = 1 + r.next() % 9, n = 1 + r.next() % 70;
    const std::size_t k = (t % 5 == 0) ? 1 + r.next() % 2000 : 1 + r.next() % 90;
    const std::size_t in_stride = k + r.next() % 5, out_stride = n + r.next() % 5;
    std::vector<std::int16_t> in(m * in_stride);
    std::vector<std::int8_t> w(n * k);
    // Every few cases use only the extremes, so the largest products and sums are exercised.
    const bool extremes = t % 7 == 3;
    for (auto& v : in) v = static_cast<std::int16_t>(extremes ? (r.next() % 2 ? 32767 : -32768) : r.range(-32768, 32767));
    for (auto& v : w) v = static_cast<std::int8_t>(extremes ? (r.next() % 2 ? 127 : -128) : r.range(-128, 127));
    std::vector<std::int64_t> bias(n);
    std::vector<std::int32_t> bias32(n), mult(n), shift(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (acc64) {
        bias[i] = t % 11 == 5 ? (r.next() % 2 ? fc::max_abs_bias64 : -fc::max_abs_bias64) : r.range(-(std::int64_t{1} << 40), std::int64_t{1} << 40);
        mult[i] = static_cast<std::int32_t>(i % 9 == 4 ? r.range(0x7FFF0000, 0x7FFFFFFF) : r.range(0, 0x7FFFFFFF));
        shift[i] = static_cast<std::int32_t>(r.range(-31, 7));
      } else {
        bias32[i] = r.s32();
        bias[i] = bias32[i];
        mult[i] = static_cast<std::int32_t>(r.range(1 << 30, 0x7FFFFFFF));
        shift[i] = static_cast<std::int32_t>(r.range(-31, 30));
      }
    }
    const bool with_bias = t % 13 != 6;
    const auto zp = static_cast<std::int32_t>(t % 4 == 1 ? r.range(-100, 100) : 0);
    output_stage<requant::per_channel> pc{{mult.data(), shift.data()}, zp, static_cast<std::int32_t>(r.range(-32768, 0)),
                                          static_cast<std::int32_t>(r.range(0, 32767))};
    output_stage<requant::per_tensor> pt{{mult[0], shift[0]}, pc.zero_point, pc.act_min, pc.act_max};
    auto packed = words8(fc::packed_weights_bytes(n, k));
    const std::size_t bytes = packed.size() * 8;
    if (acc64) REQUIRE(fc::pack_weights(n, k, w.data(), with_bias ? bias.data() : nullptr, packed.data(), bytes).ok());
    else REQUIRE(fc::pack_weights(n, k, w.data(), with_bias ? bias32.data() : nullptr, packed.data(), bytes).ok());
    const std::int64_t* b = with_bias ? bias.data() : nullptr;
    std::vector<std::int16_t> want(m * out_stride + 16, 0x3333), got(m * out_stride + 16, 0x3333);
    INFO("t=" << t << " m=" << m << " n=" << n << " k=" << k << " acc" << (acc64 ? 64 : 32) << " bias=" << with_bias);
    if (acc64) reference<std::int64_t>(m, n, k, in.data(), in_stride, w.data(), b, want.data(), out_stride, pc);
    else reference<std::int32_t>(m, n, k, in.data(), in_stride, w.data(), b, want.data(), out_stride, pc);
    REQUIRE(fc::run(m, k, n, in.data(), in_stride, packed.data(), got.data(), out_stride, pc).ok());
    REQUIRE(got == want);
    if (acc64) reference<std::int64_t>(m, n, k, in.data(), in_stride, w.data(), b, want.data(), out_stride, pt);
    else reference<std::int32_t>(m, n, k, in.data(), in_stride, w.data(), b, want.data(), out_stride, pt);
    REQUIRE(fc::run(m, k, n, in.data(), in_stride, packed.data(), got.data(), out_stride, pt).ok());
    REQUIRE(got == want);
  }
}
TEST_CASE_TEMPLATE_APPLY(fc16_random, as_tuple<kernels::gemm_qs16_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("gemm_qs16 kernels are exact on the largest sums", K, fc16_extreme) {
  TT_REQUIRE_RUNNABLE(K);
  using fc = fully_connected_s16<typename K::arch, K>;
  // (-32768)(-128) = 2^22 is the largest product: depths around the kernels' widening points and
  // long runs of it, with the int64 sum past 2^32 (int64 bias) or wrapping (int32 bias). Shapes: two
  // rows, and one row / seven rows x 70 channels, which reach single-row (GEMV) paths and their
  // several-blocks-at-once loops (the simd kernel widens its int32 sums there separately).
  const std::size_t shapes[][2] = {{2, 19}, {1, 70}, {7, 70}};
  for (const auto& shape : shapes) {
    const std::size_t m = shape[0], n = shape[1];
    for (std::size_t k : {1u, 3u, 4u, 255u, 256u, 257u, 511u, 512u, 513u, 1024u, 1027u, 4099u}) {
      for (std::int16_t av : {std::int16_t{-32768}, std::int16_t{32767}}) {
        std::vector<std::int16_t> in(m * k, av);
        std::vector<std::int8_t> w(n * k, -128);
        for (std::size_t i = 0; i < k; ++i) w[5 * k + i] = 127;  // one channel of the other sign
        std::vector<std::int64_t> bias(n, -(std::int64_t{1} << 40));
        std::vector<std::int32_t> bias32(n, 123456789);
        output_stage<requant::per_tensor> p64{{1 << 30, -28}, 0, -32768, 32767}, p32{{1 << 30, -17}, 0, -32768, 32767};
        auto packed = words8(fc::packed_weights_bytes(n, k));
        std::vector<std::int16_t> got(m * n), want(m * n);
        INFO("m=" << m << " n=" << n << " k=" << k << " a=" << av);
        REQUIRE(fc::pack_weights(n, k, w.data(), bias.data(), packed.data(), packed.size() * 8).ok());
        REQUIRE(fc::run(m, k, n, in.data(), k, packed.data(), got.data(), n, p64).ok());
        reference<std::int64_t>(m, n, k, in.data(), k, w.data(), bias.data(), want.data(), n, p64);
        CHECK(got == want);
        std::vector<std::int64_t> b32(bias32.begin(), bias32.end());
        REQUIRE(fc::pack_weights(n, k, w.data(), bias32.data(), packed.data(), packed.size() * 8).ok());
        REQUIRE(fc::run(m, k, n, in.data(), k, packed.data(), got.data(), n, p32).ok());
        reference<std::int32_t>(m, n, k, in.data(), k, w.data(), b32.data(), want.data(), n, p32);
        CHECK(got == want);
      }
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(fc16_extreme, as_tuple<kernels::gemm_qs16_registry>::type);

TEST_CASE("fully_connected_s16: int32 bias means an int32 accumulator that wraps, as in TFLite") {
  using fc = fully_connected_s16<arch::scalar>;
  // 70000 * 32767 * 127 ~ 2^38: the int32 sum wraps, the int64 one does not; the results differ.
  const std::size_t k = 70000;
  std::vector<std::int16_t> in(k, 32767);
  std::vector<std::int8_t> w(k, 127);
  const std::int32_t b32 = 5;
  const std::int64_t b64 = 5;
  output_stage<requant::per_tensor> p{{1 << 30, -20}, 0, -32768, 32767};
  auto p32 = words8(fc::packed_weights_bytes(1, k)), p64 = words8(fc::packed_weights_bytes(1, k));
  REQUIRE(fc::pack_weights(1, k, w.data(), &b32, p32.data(), p32.size() * 8).ok());
  REQUIRE(fc::pack_weights(1, k, w.data(), &b64, p64.data(), p64.size() * 8).ok());
  std::int16_t o32 = 0, o64 = 0, want32 = 0, want64 = 0;
  REQUIRE(fc::run(1, k, 1, in.data(), k, p32.data(), &o32, 1, p).ok());
  REQUIRE(fc::run(1, k, 1, in.data(), k, p64.data(), &o64, 1, p).ok());
  reference<std::int32_t>(1, 1, k, in.data(), k, w.data(), &b64, &want32, 1, p);
  reference<std::int64_t>(1, 1, k, in.data(), k, w.data(), &b64, &want64, 1, p);
  const std::uint32_t wrapped = static_cast<std::uint32_t>(std::uint64_t{70000} * 32767u * 127u + 5u);
  CHECK(want32 == static_cast<std::int16_t>(fixedpoint::mbqm32(static_cast<std::int32_t>(wrapped), 1 << 30, -20)));
  CHECK(o32 == want32);
  CHECK(o64 == want64);
  CHECK(o64 == 32767);  // 2^38 * 2^-21 saturates
  CHECK(o32 != o64);
}

#include "guard.hpp"

TEST_CASE_TEMPLATE_DEFINE("gemm_qs16 kernels stay inside their buffers (guard pages)", K, fc16_guard) {
  TT_REQUIRE_RUNNABLE(K);
  using fc = fully_connected_s16<typename K::arch, K>;
  tt::rng r(23);
  const std::size_t shapes[][3] = {{1, 1, 1}, {1, 17, 3}, {5, 3, 31}, {3, 33, 17}, {7, 20, 64}, {4, 16, 16}, {9, 1, 130}, {2, 70, 5}};
  for (auto side : {tt::guard_side::after, tt::guard_side::before}) {
    for (const auto& s : shapes) {
      for (bool acc64 : {true, false}) {
        const std::size_t m = s[0], n = s[1], k = s[2];
        tt::guarded<std::int16_t> in(m * k, side), out(m * n, side);
        tt::guarded<std::int8_t> w(n * k, side);
        tt::guarded<std::int64_t> bias(n, side);
        tt::guarded<std::int32_t> bias32(n, side), mult(n, side), shift(n, side);
        REQUIRE(in.ok());
        for (std::size_t i = 0; i < m * k; ++i) in[i] = static_cast<std::int16_t>(r.range(-32768, 32767));
        for (std::size_t i = 0; i < n * k; ++i) w[i] = static_cast<std::int8_t>(r.range(-128, 127));
        for (std::size_t i = 0; i < n; ++i) {
          bias32[i] = static_cast<std::int32_t>(r.range(-500000, 500000));
          bias[i] = bias32[i];
          mult[i] = 1 << 30;
          shift[i] = -10;
        }
        const std::size_t bytes = fc::packed_weights_bytes(n, k);
        REQUIRE(bytes % 8 == 0);
        tt::guarded<std::int64_t> packed(bytes / 8, side);
        if (acc64) REQUIRE(fc::pack_weights(n, k, w.data(), bias.data(), packed.data(), bytes).ok());
        else REQUIRE(fc::pack_weights(n, k, w.data(), bias32.data(), packed.data(), bytes).ok());
        output_stage<requant::per_channel> p{{mult.data(), shift.data()}, 0, -32768, 32767};
        REQUIRE(fc::run(m, k, n, in.data(), k, packed.data(), out.data(), n, p).ok());
        std::vector<std::int16_t> got(out.data(), out.data() + m * n), want(m * n);
        if (acc64) reference<std::int64_t>(m, n, k, in.data(), k, w.data(), bias.data(), want.data(), n, p);
        else reference<std::int32_t>(m, n, k, in.data(), k, w.data(), bias.data(), want.data(), n, p);
        CHECK(got == want);
      }
    }
  }
  const std::string note = std::string(K::name) + ": guard pages " + (TT_HAS_GUARD_PAGES ? "on" : "unavailable (bare metal)");
  MESSAGE(note);
}
TEST_CASE_TEMPLATE_APPLY(fc16_guard, as_tuple<kernels::gemm_qs16_registry>::type);

TEST_CASE("fully_connected_s16 size queries do not wrap a 32-bit size_t") {
  // 2^16 x 2^16 int8 weights (4 GiB): inside the [1, 2^24] size range, past a 32-bit size_t.
  using fc = fully_connected_s16<>;
  const std::size_t n = std::size_t{1} << 16, k = std::size_t{1} << 16;
  std::int8_t w[1] = {0};
  std::uint64_t packed[4] = {};
  tt::check_wide_size_query(fc::packed_weights_bytes(n, k), fc::pack_weights(n, k, w, nullptr, packed, sizeof packed));
}

TEST_CASE("fully_connected_s16 rejects bad parameters with a message") {
  using fc = fully_connected_s16<>;
  std::int8_t w[6] = {1, 2, 3, 4, 5, 6};
  std::int16_t in[3] = {1000, 1000, 1000}, out[2] = {};
  auto packed = words8(fc::packed_weights_bytes(2, 3));
  const std::size_t bytes = packed.size() * 8;
  const std::int64_t b64[2] = {0, 0}, huge[2] = {0, (std::int64_t{1} << 46) + 1};
  const std::int32_t b32[2] = {0, 0};
  auto says = [](status st, status_code code) {
    MESSAGE(std::string(st.message()));
    return st.code() == code;
  };
  CHECK(fc::packed_weights_bytes(0, 3) == 0);
  CHECK(fc::packed_weights_bytes(2, std::size_t{1} << 25) == 0);
  CHECK(says(fc::pack_weights(0, 3, w, b64, packed.data(), bytes), status_code::invalid_argument));
  CHECK(says(fc::pack_weights(2, 3, w, b64, packed.data(), 8), status_code::buffer_too_small));
  CHECK(says(fc::pack_weights(2, 3, nullptr, b64, packed.data(), bytes), status_code::invalid_argument));
  CHECK(says(fc::pack_weights(2, 3, w, b64, reinterpret_cast<std::uint8_t*>(packed.data()) + 4, bytes - 8),
             status_code::invalid_argument));
  CHECK(says(fc::pack_weights(2, 3, w, huge, packed.data(), bytes), status_code::invalid_argument));
  CHECK(fc::accumulator_bits(packed.data()) == 0);  // nothing was packed yet

  // No bias: TFLite's int64 default.
  REQUIRE(fc::pack_weights(2, 3, w, nullptr, packed.data(), bytes).ok());
  CHECK(fc::accumulator_bits(packed.data()) == 64);
  output_stage<requant::per_tensor> p{{1 << 30, 0}, 0, -32768, 32767};
  CHECK(fc::run(1, 3, 2, in, 3, packed.data(), out, 2, p).ok());
  CHECK(out[0] == 3000);  // (1+2+3) * 1000 * 0.5
  CHECK(out[1] == 7500);
  CHECK(says(fc::run(1, 3, 2, in, 2, packed.data(), out, 2, p), status_code::invalid_argument));
  CHECK(says(fc::run(1, 3, 2, nullptr, 3, packed.data(), out, 2, p), status_code::invalid_argument));
  CHECK(says(fc::run(std::size_t{1} << 30, 3, 2, in, 3, packed.data(), out, 2, p), status_code::invalid_argument));
  CHECK(fc::run(0, 3, 2, in, 3, packed.data(), out, 2, p).ok());
  // A buffer packed for other sizes, or not packed at all.
  CHECK(says(fc::run(1, 3, 1, in, 3, packed.data(), out, 2, p), status_code::shape_mismatch));
  std::vector<std::int64_t> garbage(packed.size(), 0x0102030405060708);
  CHECK(says(fc::run(1, 3, 2, in, 3, garbage.data(), out, 2, p), status_code::invalid_argument));
  CHECK(says(fc::run(1, 3, 2, in, 3, reinterpret_cast<std::uint8_t*>(packed.data()) + 4, out, 2, p),
             status_code::invalid_argument));
  // MBQM64's domain: shift in [-31, 7], multiplier >= 0.
  auto bad = p;
  bad.q.shift = 8;
  CHECK(says(fc::run(1, 3, 2, in, 3, packed.data(), out, 2, bad), status_code::invalid_argument));
  bad.q.shift = -32;
  CHECK(says(fc::run(1, 3, 2, in, 3, packed.data(), out, 2, bad), status_code::invalid_argument));
  bad = p;
  bad.q.multiplier = -1;
  CHECK(says(fc::run(1, 3, 2, in, 3, packed.data(), out, 2, bad), status_code::invalid_argument));
  std::int32_t mults[2] = {1 << 30, -5}, shifts[2] = {0, 0};
  output_stage<requant::per_channel> pc{{mults, shifts}, 0, -32768, 32767};
  CHECK(says(fc::run(1, 3, 2, in, 3, packed.data(), out, 2, pc), status_code::invalid_argument));
  output_stage<requant::per_channel> null_pc{{nullptr, nullptr}, 0, -32768, 32767};
  CHECK(says(fc::run(1, 3, 2, in, 3, packed.data(), out, 2, null_pc), status_code::invalid_argument));
  bad = p;
  bad.act_max = 40000;
  CHECK(says(fc::run(1, 3, 2, in, 3, packed.data(), out, 2, bad), status_code::invalid_argument));

  // int32 bias: MBQM32, whose shifts reach 30.
  REQUIRE(fc::pack_weights(2, 3, w, b32, packed.data(), bytes).ok());
  CHECK(fc::accumulator_bits(packed.data()) == 32);
  bad = p;
  bad.q.shift = 8;
  CHECK(fc::run(1, 3, 2, in, 3, packed.data(), out, 2, bad).ok());
  bad.q.shift = 31;
  CHECK(says(fc::run(1, 3, 2, in, 3, packed.data(), out, 2, bad), status_code::invalid_argument));

  // A header that names another packing block.
  REQUIRE(fc::pack_weights(2, 3, w, b64, packed.data(), bytes).ok());
  reinterpret_cast<kernels::qs16_packed_header*>(packed.data())->nr += 1;
  CHECK(says(fc::run(1, 3, 2, in, 3, packed.data(), out, 2, p), status_code::invalid_argument));
}
