// fp32 GEMM: every kernel of tessera's gemm_f32_registry, through the `gemm_f32<Tag, K>` operator
// (B packed once, outside the timed loop), against peers in the same binary:
//   eigen     Eigen 3 (header-only, single thread): row-major Eigen::Map views of the same A, B
//             and C, `C.noalias() = A * B` (no bias: the peers do strictly less work)
//   openblas  cblas_sgemm (row-major, no transpose), one thread, when the build found OpenBLAS;
//             at M = 1 also cblas_sgemv (openblas_gemv), which sgemm 0.3.21 does not use there
//   onednn    oneDNN (2.6 in Debian 12) matmul primitive, when the build found it: created once per
//             benchmark run with weights in the layout oneDNN picks (format_tag::any, reordered once
//             outside the timed loop), src and dst row-major; one OpenMP thread (peers.hpp); the
//             implementation oneDNN chose is the benchmark's label
//   xnnpack   XNNPACK (Debian's 2022-02-16 snapshot) xnn_create_fully_connected_nc_f32, weights
//             given as K x N (XNN_FLAG_TRANSPOSE_WEIGHTS), no bias, no clamp, created once;
//             xnn_setup + xnn_run per call with a null threadpool (one thread)
// Shapes: square 64, 128, 256, 512, 1024; MobileNetV1's 1x1 layers as (M, N, K) = (pixels, out channels,
// in channels); fully connected at batch 1 (1, 1000, 1024).
// Benchmark names: gemm_f32/<M>x<N>x<K>/<contender>. Counters: GFLOP/s (2 M N K per call) and
// %peak (of the 99.6 GFLOP/s one-core fp32 FMA peak in shared/guides/PERF.md; a figure for that
// machine, quote ratios between contenders of one run). Every contender's output is checked once
// against an fp64 reference (with a rounding bound) before it is timed.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tessera/tessera.hpp>
#include <unordered_map>
#include <vector>

#include "bench_support.hpp"
#include "peers.hpp"

#if TESSERA_BENCH_HAS_EIGEN
#include <Eigen/Core>
#endif
#if TESSERA_BENCH_HAS_OPENBLAS
#include <cblas.h>
#endif

namespace {

namespace tb = tessera_bench;
using namespace tessera;

/// One core's fp32 FMA peak on the reference machine (PERF.md), GFLOP/s.
constexpr double kPeakGflops = 99.6;

struct shape {
  std::size_t m, n, k;
  std::string str() const { return std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k); }
  std::size_t key() const noexcept { return (m * 100003 + n) * 100003 + k; }
  double flops() const noexcept {
    return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  }
};

constexpr shape kShapes[] = {
    {64, 64, 64},     {128, 128, 128},  {256, 256, 256}, {512, 512, 512}, {1024, 1024, 1024},  // square
    {12544, 64, 32},  {3136, 128, 128}, {784, 256, 256}, {196, 512, 512}, {49, 1024, 1024},  // MobileNetV1 1x1
    {1, 1000, 1024},                                                                          // FC, batch 1
};

/// A (M x K), B (K x N, row-major), bias[N], values in [-1, 1]; the fp64 reference C = A B + bias
/// and each element's rounding scale sum_k |a| |b| + |bias|. Generated once per process.
struct inputs {
  tb::buffer<float> a, b, bias;
  std::vector<double> ref, scale;
};

const inputs& get_inputs(const shape& s) {
  static std::map<std::size_t, std::unique_ptr<inputs>> cache;
  auto& slot = cache[s.key()];
  if (!slot) {
    slot = std::make_unique<inputs>();
    tb::rng r(s.key());
    auto fill = [&](tb::buffer<float>& v, std::size_t count) {
      v = tb::buffer<float>(count);
      for (std::size_t i = 0; i < count; ++i) v[i] = static_cast<float>(r.range(-1000, 1000)) / 1000.0f;
    };
    fill(slot->a, s.m * s.k);
    fill(slot->b, s.k * s.n);
    fill(slot->bias, s.n);
    slot->ref.assign(s.m * s.n, 0.0);
    slot->scale.assign(s.m * s.n, 0.0);
    std::vector<double> row(s.n), mag(s.n);
    for (std::size_t i = 0; i < s.m; ++i) {
      std::fill(row.begin(), row.end(), 0.0);
      std::fill(mag.begin(), mag.end(), 0.0);
      for (std::size_t kk = 0; kk < s.k; ++kk) {
        const double av = slot->a[i * s.k + kk];
        const float* br = slot->b.data() + kk * s.n;
        for (std::size_t j = 0; j < s.n; ++j) {
          row[j] += av * br[j];
          mag[j] += std::fabs(av * br[j]);
        }
      }
      for (std::size_t j = 0; j < s.n; ++j) {
        slot->ref[i * s.n + j] = row[j];  // without bias: the peers compute A B only
        slot->scale[i * s.n + j] = mag[j];
      }
    }
  }
  return *slot;
}

/// The output buffer of a shape, shared by its contenders.
tb::buffer<float>& get_output(const shape& s) {
  static std::map<std::size_t, tb::buffer<float>> cache;
  auto& b = cache[s.key()];
  if (b.size() != s.m * s.n) b = tb::buffer<float>(s.m * s.n);
  return b;
}

/// Compares C with the fp64 reference (+ bias when `with_bias`): |c - ref| <= 4 (k + 2) 2^-24 scale.
bool check(benchmark::State& state, const shape& s, const float* c, bool with_bias, const std::string& who) {
  const auto& in = get_inputs(s);
  const double u = std::ldexp(1.0, -24);
  for (std::size_t i = 0; i < s.m; ++i)
    for (std::size_t j = 0; j < s.n; ++j) {
      const double bias = with_bias ? static_cast<double>(in.bias[j]) : 0.0;
      const double want = in.ref[i * s.n + j] + bias;
      const double tol = 4.0 * static_cast<double>(s.k + 2) * u * (in.scale[i * s.n + j] + std::fabs(bias)) + 1e-30;
      const double got = c[i * s.n + j];
      if (!(std::fabs(got - want) <= tol)) {
        tb::fail(state, who + " " + s.str() + ": C[" + std::to_string(i) + "][" + std::to_string(j) +
                            "] = " + std::to_string(got) + ", reference " + std::to_string(want));
        return false;
      }
    }
  return true;
}

void set_counters(benchmark::State& state, const shape& s) {
  const double gflop = s.flops() * 1e-9;
  state.counters["GFLOP/s"] = benchmark::Counter(gflop, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["%peak"] =
      benchmark::Counter(gflop * 100.0 / kPeakGflops, benchmark::Counter::kIsIterationInvariantRate);
}

// ---- contenders ----------------------------------------------------------------------------------
/// A tessera kernel through the operator; `checked` is shared by the benchmark's repetitions.
template <class K> void bm_tessera(benchmark::State& state, shape s, std::shared_ptr<bool> checked) {
  if (tb::skip_if_unavailable<K>(state)) return;
  using g = gemm_f32<typename K::arch, K>;
  const auto& in = get_inputs(s);
  auto& c = get_output(s);
  const std::size_t bytes = g::packed_b_bytes(s.n, s.k);
  tb::buffer<float> packed((bytes + sizeof(float) - 1) / sizeof(float));
  if (!g::pack_b(s.k, s.n, in.b.data(), s.n, in.bias.data(), packed.data(), bytes).ok()) {
    tb::fail(state, std::string(K::name) + ": pack_b failed");
    return;
  }
  auto call = [&] { return g::run(s.m, s.n, s.k, in.a.data(), s.k, packed.data(), c.data(), s.n); };
  if (!*checked) {
    if (!call().ok()) {
      tb::fail(state, std::string(K::name) + ": run failed");
      return;
    }
    if (!check(state, s, c.data(), true, K::name)) return;
    *checked = true;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(call());
    benchmark::ClobberMemory();
  }
  set_counters(state, s);
}

#if TESSERA_BENCH_HAS_EIGEN
void bm_eigen(benchmark::State& state, shape s, std::shared_ptr<bool> checked) {
  using mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const auto& in = get_inputs(s);
  auto& cb = get_output(s);
  const auto m = static_cast<Eigen::Index>(s.m), n = static_cast<Eigen::Index>(s.n), k = static_cast<Eigen::Index>(s.k);
  Eigen::Map<const mat> a(in.a.data(), m, k), b(in.b.data(), k, n);
  Eigen::Map<mat> c(cb.data(), m, n);
  if (!*checked) {
    c.noalias() = a * b;
    if (!check(state, s, cb.data(), false, "eigen")) return;
    *checked = true;
  }
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(cb.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, s);
}
#endif

#if TESSERA_BENCH_HAS_OPENBLAS
void bm_openblas(benchmark::State& state, shape s, bool gemv, std::shared_ptr<bool> checked) {
  const auto& in = get_inputs(s);
  auto& c = get_output(s);
  const int m = static_cast<int>(s.m), n = static_cast<int>(s.n), k = static_cast<int>(s.k);
  auto call = [&] {
    if (gemv)  // y = B^T a: OpenBLAS 0.3.21's sgemm does not forward M = 1 to its GEMV
      cblas_sgemv(CblasRowMajor, CblasTrans, k, n, 1.0f, in.b.data(), n, in.a.data(), 1, 0.0f, c.data(), 1);
    else
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, in.a.data(), k, in.b.data(), n, 0.0f,
                  c.data(), n);
  };
  if (!*checked) {
    call();
    if (!check(state, s, c.data(), false, gemv ? "openblas_gemv" : "openblas")) return;
    *checked = true;
  }
  for (auto _ : state) {
    call();
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, s);
}
#endif

#if TESSERA_BENCH_HAS_ONEDNN
void bm_onednn(benchmark::State& state, shape s, std::shared_ptr<bool> checked) {
  const auto& in = get_inputs(s);
  auto& c = get_output(s);
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  const auto m = static_cast<dnnl::memory::dim>(s.m), n = static_cast<dnnl::memory::dim>(s.n),
             k = static_cast<dnnl::memory::dim>(s.k);
  try {
    dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    dnnl::stream strm(eng);
    const dnnl::memory::desc a_md({m, k}, dt::f32, tag::ab), b_any({k, n}, dt::f32, tag::any),
        c_md({m, n}, dt::f32, tag::ab);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_any, c_md), eng);
    dnnl::memory b_user({{k, n}, dt::f32, tag::ab}, eng, const_cast<float*>(in.b.data()));
    dnnl::memory b_mem(pd.weights_desc(), eng);
    dnnl::reorder(b_user, b_mem).execute(strm, b_user, b_mem);
    dnnl::memory a_mem(a_md, eng, const_cast<float*>(in.a.data())), c_mem(c_md, eng, c.data());
    const dnnl::matmul prim(pd);
    const std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}};
    auto call = [&] {
      prim.execute(strm, args);
      strm.wait();
    };
    state.SetLabel(tb::onednn_impl(pd));
    if (!*checked) {
      call();
      if (!check(state, s, c.data(), false, "onednn")) return;
      *checked = true;
    }
    for (auto _ : state) {
      call();
      benchmark::DoNotOptimize(c.data());
      benchmark::ClobberMemory();
    }
  } catch (const dnnl::error& e) {
    tb::fail(state, std::string("onednn: ") + e.what());
    return;
  }
  set_counters(state, s);
}
#endif

#if TESSERA_BENCH_HAS_XNNPACK
void bm_xnnpack(benchmark::State& state, shape s, std::shared_ptr<bool> checked) {
  if (!tb::xnnpack_ready()) {
    state.SkipWithError("skipped: xnn_initialize failed (CPU not supported)");
    return;
  }
  const auto& in = get_inputs(s);
  auto& c = get_output(s);
  xnn_operator_t op = nullptr;
  if (xnn_create_fully_connected_nc_f32(s.k, s.n, s.k, s.n, in.b.data(), nullptr, -INFINITY, INFINITY,
                                        XNN_FLAG_TRANSPOSE_WEIGHTS, &op) != xnn_status_success) {
    tb::fail(state, "xnnpack: xnn_create_fully_connected_nc_f32 failed");
    return;
  }
  std::unique_ptr<xnn_operator, decltype(&xnn_delete_operator)> owner(op, &xnn_delete_operator);
  auto call = [&] {
    const bool ok = xnn_setup_fully_connected_nc_f32(op, s.m, in.a.data(), c.data(), nullptr) == xnn_status_success &&
                    xnn_run_operator(op, nullptr) == xnn_status_success;
    return ok;
  };
  if (!*checked) {
    if (!call()) {
      tb::fail(state, "xnnpack: setup or run failed");
      return;
    }
    if (!check(state, s, c.data(), false, "xnnpack")) return;
    *checked = true;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(call());
    benchmark::ClobberMemory();
  }
  set_counters(state, s);
}
#endif

// ---- registration: every kernel of the registry and every peer, on every shape --------------------
[[maybe_unused]] const bool registered = [] {
#if TESSERA_BENCH_HAS_OPENBLAS
  openblas_set_num_threads(1);  // one core, like every other contender
  benchmark::AddCustomContext("openblas_core", openblas_get_corename());
#endif
#if TESSERA_BENCH_HAS_ONEDNN
  benchmark::AddCustomContext("onednn_omp_threads", std::to_string(tb::onednn_one_thread()));
#endif
  for (const shape& s : kShapes) {
    const std::string prefix = "gemm_f32/" + s.str() + "/";
    tb::for_each_type(kernels::gemm_f32_registry{}, [&](auto kt) {
      using K = typename decltype(kt)::type;
      benchmark::RegisterBenchmark((prefix + K::name).c_str(), bm_tessera<K>, s, std::make_shared<bool>(false))
          ->Unit(benchmark::kMicrosecond);
    });
#if TESSERA_BENCH_HAS_EIGEN
    benchmark::RegisterBenchmark((prefix + "eigen").c_str(), bm_eigen, s, std::make_shared<bool>(false))
        ->Unit(benchmark::kMicrosecond);
#endif
#if TESSERA_BENCH_HAS_OPENBLAS
    benchmark::RegisterBenchmark((prefix + "openblas").c_str(), bm_openblas, s, false, std::make_shared<bool>(false))
        ->Unit(benchmark::kMicrosecond);
    if (s.m == 1)
      benchmark::RegisterBenchmark((prefix + "openblas_gemv").c_str(), bm_openblas, s, true,
                                   std::make_shared<bool>(false))
          ->Unit(benchmark::kMicrosecond);
#endif
#if TESSERA_BENCH_HAS_ONEDNN
    benchmark::RegisterBenchmark((prefix + "onednn").c_str(), bm_onednn, s, std::make_shared<bool>(false))
        ->Unit(benchmark::kMicrosecond);
#endif
#if TESSERA_BENCH_HAS_XNNPACK
    benchmark::RegisterBenchmark((prefix + "xnnpack").c_str(), bm_xnnpack, s, std::make_shared<bool>(false))
        ->Unit(benchmark::kMicrosecond);
#endif
  }
  return true;
}();

}  // namespace
