// The output stage of every fully-connected conformance vector (TFLite reference outputs), on every
// requant microkernel: accumulators are computed here naively, the kernels requantize them, and the
// result must equal TFLite's output bit for bit.
#include "test.hpp"
#include "nnconf.hpp"

#include <tessera/tessera.hpp>
#include <tuple>
#include <vector>

using namespace tessera;

namespace {
template <class L> struct as_tuple;
template <class... T> struct as_tuple<arch::type_list<T...>> { using type = std::tuple<T...>; };

// acc[b][o] = sum_k (in - zp_in) * (w - zp_w) + bias[o], in Acc arithmetic.
template <class Acc>
std::vector<Acc> fc_accumulators(const nnconf::case_file& f) {
  const auto& in = f.arr("input");
  const auto& w = f.arr("filter");
  const auto& bias = f.arr("bias");
  const std::size_t batches = static_cast<std::size_t>(f.integer("batches", 1));
  const std::size_t k = static_cast<std::size_t>(f.integer("input_c"));
  const std::size_t oc = static_cast<std::size_t>(f.integer("output_c"));
  const Acc zin = static_cast<Acc>(f.integer("input_zero_point")), zw = static_cast<Acc>(f.integer("weight_zero_point"));
  std::vector<Acc> acc(batches * oc);
  for (std::size_t b = 0; b < batches; ++b)
    for (std::size_t o = 0; o < oc; ++o) {
      Acc s = bias.values.empty() ? 0 : static_cast<Acc>(bias.values[o]);
      for (std::size_t i = 0; i < k; ++i)
        s += (static_cast<Acc>(in.values[b * k + i]) - zin) * (static_cast<Acc>(w.values[o * k + i]) - zw);
      acc[b * oc + o] = s;
    }
  return acc;
}

template <class K, class Acc, class Out>
bool run_case(const nnconf::case_file& f) {
  const std::size_t batches = static_cast<std::size_t>(f.integer("batches", 1));
  const std::size_t oc = static_cast<std::size_t>(f.integer("output_c"));
  const auto acc = fc_accumulators<Acc>(f);
  std::vector<std::int32_t> mult, shift;
  for (auto v : f.arr("output_multiplier").values) mult.push_back(static_cast<std::int32_t>(v));
  for (auto v : f.arr("output_shift").values) shift.push_back(static_cast<std::int32_t>(v));
  std::vector<Out> got(batches * oc);
  const auto zp = static_cast<std::int32_t>(f.integer("output_zero_point"));
  const auto lo = static_cast<std::int32_t>(f.integer("activation_min")), hi = static_cast<std::int32_t>(f.integer("activation_max"));
  if (mult.size() == 1) {
    output_stage<requant::per_tensor> p{{mult[0], shift[0]}, zp, lo, hi};
    K::template run<Out>(batches, oc, acc.data(), oc, got.data(), oc, p);
  } else {
    REQUIRE(mult.size() == oc);
    output_stage<requant::per_channel> p{{mult.data(), shift.data()}, zp, lo, hi};
    K::template run<Out>(batches, oc, acc.data(), oc, got.data(), oc, p);
  }
  const auto& want = f.arr("output").values;
  REQUIRE(want.size() == got.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO(f.path << " element " << i);
    CHECK(static_cast<std::int64_t>(got[i]) == want[i]);
    if (static_cast<std::int64_t>(got[i]) != want[i]) return false;
  }
  return true;
}

// Runs every FC case whose accumulator width is Acc through kernel K; returns cases checked.
template <class K, class Acc>
int run_all() {
  int checked = 0;
  for (const auto& path : nnconf::list(tt::conformance_dir(), "fully_connected")) {
    nnconf::case_file f;
    std::string err;
    REQUIRE_MESSAGE(nnconf::load(path, f, err), err);
    const bool s16 = f.word("input_dtype") == "s16";
    const bool wide = f.word("bias_dtype") == "s64";
    if (wide != std::is_same_v<Acc, std::int64_t>) continue;
    const bool ok = s16 ? run_case<K, Acc, std::int16_t>(f) : run_case<K, Acc, std::int8_t>(f);
    CHECK_MESSAGE(ok, path);
    ++checked;
  }
  return checked;
}
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("FC conformance output stage (int32 accumulators)", K, conf_s32) {
  TT_REQUIRE_RUNNABLE(K);
  const int n = run_all<K, std::int32_t>();
  MESSAGE(std::string(K::name) << ": " << n << " cases");
  CHECK(n == 13);  // 7 s8 and 6 s4 FC cases: a missing or partial data directory must fail
}
TEST_CASE_TEMPLATE_APPLY(conf_s32, as_tuple<kernels::requant_s32_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("FC conformance output stage (int64 accumulators, 16x8)", K, conf_s64) {
  TT_REQUIRE_RUNNABLE(K);
  const int n = run_all<K, std::int64_t>();
  MESSAGE(std::string(K::name) << ": " << n << " cases");
  CHECK(n == 3);  // the three s16 FC cases (s64 bias)
}
TEST_CASE_TEMPLATE_APPLY(conf_s64, as_tuple<kernels::requant_s64_registry>::type);
