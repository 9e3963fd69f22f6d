// fp32 GEMM: every microkernel against an fp64 reference with a rigorous rounding bound, against
// Eigen where it is available (host and AArch64), and against the scalar kernel; edge shapes
// (1, tails, odd sizes, a few tiles plus one, large K), strides, batches, clamps, guard pages.
#include "test.hpp"
#include "guard.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <limits>
#include <tessera/tessera.hpp>
#include <tuple>
#include <vector>

#if TESSERA_TEST_HAS_EIGEN
#include <Eigen/Core>
#endif

using namespace tessera;

namespace {
template <class L> struct as_tuple;
template <class... T> struct as_tuple<arch::type_list<T...>> { using type = std::tuple<T...>; };

float frand(tt::rng& r) { return static_cast<float>(static_cast<std::int64_t>(r.next() % 2001) - 1000) / 500.0f; }

// Checks C against sum_k A B + bias in fp64: |c - ref| <= 2 (k+2) u sum |a||b| + |bias| u, then clamped.
void check_close(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t lda, const float* b,
                 std::size_t ldb, const float* bias, const float* c, std::size_t ldc, const f32_clamp& cl) {
  const double u = std::ldexp(1.0, -24);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double ref = bias ? bias[j] : 0.0, mag = bias ? std::fabs(bias[j]) : 0.0;
      for (std::size_t kk = 0; kk < k; ++kk) {
        ref += static_cast<double>(a[i * lda + kk]) * b[kk * ldb + j];
        mag += std::fabs(static_cast<double>(a[i * lda + kk]) * b[kk * ldb + j]);
      }
      ref = std::min(std::max(ref, static_cast<double>(cl.min)), static_cast<double>(cl.max));
      const double tol = 2.0 * static_cast<double>(k + 2) * u * mag + 1e-30;
      if (!(std::fabs(c[i * ldc + j] - ref) <= tol)) {
        FAIL_CHECK("C[" << i << "][" << j << "] = " << c[i * ldc + j] << ", reference " << ref << " (tol " << tol
                        << ", m=" << m << " n=" << n << " k=" << k << ")");
        return;
      }
    }
}
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("gemm_f32 kernels match the fp64 reference on edge shapes", K, f32_shapes) {
  TT_REQUIRE_RUNNABLE(K);
  using g = gemm_f32<typename K::arch, K>;
  tt::rng r(5);
  const std::size_t nr = K::nr();
  std::vector<std::size_t> ms = {1, 2, 3, 4, 5, 7, 8, 9, 13, 17}, ns = {1, 2, 3, nr - 1, nr, nr + 1, 2 * nr + 1, 3 * nr + 3},
                           ks = {1, 2, 3, 8, 17, 64, 300};
  for (std::size_t m : ms)
    for (std::size_t n : ns) {
      if (n == 0) continue;
      for (std::size_t k : ks) {
        const std::size_t lda = k + (r.next() % 3), ldb = n + (r.next() % 3), ldc = n + (r.next() % 3);
        std::vector<float> a(m * lda), b(k * ldb), bias(n), c(m * ldc + 8, -7.0f);
        for (auto& v : a) v = frand(r);
        for (auto& v : b) v = frand(r);
        for (auto& v : bias) v = frand(r);
        std::vector<float> packed(g::packed_b_bytes(n, k) / sizeof(float));
        REQUIRE(g::pack_b(k, n, b.data(), ldb, bias.data(), packed.data(), packed.size() * sizeof(float)).ok());
        const f32_clamp cl = (k % 2) ? f32_clamp{} : f32_clamp{-3.0f, 4.0f};
        REQUIRE(g::run(m, n, k, a.data(), lda, packed.data(), c.data(), ldc, cl).ok());
        check_close(m, n, k, a.data(), lda, b.data(), ldb, bias.data(), c.data(), ldc, cl);
        // Nothing written outside the M x N window.
        for (std::size_t i = 0; i < m; ++i)
          for (std::size_t j = n; j < ldc && i * ldc + j < c.size(); ++j) REQUIRE(c[i * ldc + j] == -7.0f);
        for (std::size_t t = m * ldc; t < c.size(); ++t) REQUIRE(c[t] == -7.0f);
      }
    }
}
TEST_CASE_TEMPLATE_APPLY(f32_shapes, as_tuple<kernels::gemm_f32_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("gemm_f32 FC weights, batches and guard pages", K, f32_fc) {
  TT_REQUIRE_RUNNABLE(K);
  using g = gemm_f32<typename K::arch, K>;
  tt::rng r(6);
  for (auto side : {tt::guard_side::after, tt::guard_side::before}) {
    for (std::size_t t = 0; t < 12; ++t) {
      const std::size_t batch = 1 + t % 3, m = 1 + r.next() % 9, n = 1 + r.next() % 40, k = 1 + r.next() % 70;
      tt::guarded<float> a(batch * m * k, side), w(n * k, side), c(batch * m * n, side);
      for (std::size_t i = 0; i < a.size(); ++i) a[i] = frand(r);
      for (std::size_t i = 0; i < w.size(); ++i) w[i] = frand(r);
      const std::size_t bytes = g::packed_b_bytes(n, k);
      tt::guarded<float> packed(bytes / sizeof(float), side);
      REQUIRE(g::pack_weights(n, k, w.data(), k, nullptr, packed.data(), bytes).ok());
      REQUIRE(g::run_batched(batch, m, n, k, a.data(), k, m * k, packed.data(), c.data(), n, m * n, {0.0f, 6.0f}).ok());
      std::vector<float> wt(k * n);  // W^T as a K x N matrix for the reference
      for (std::size_t j = 0; j < n; ++j)
        for (std::size_t kk = 0; kk < k; ++kk) wt[kk * n + j] = w[j * k + kk];
      for (std::size_t i = 0; i < batch; ++i)
        check_close(m, n, k, a.data() + i * m * k, k, wt.data(), n, nullptr, c.data() + i * m * n, n, {0.0f, 6.0f});
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(f32_fc, as_tuple<kernels::gemm_f32_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("gemm_f32 indirect entry equals run on the rows its pointers describe", K, f32_indirect) {
  TT_REQUIRE_RUNNABLE(K);
  if constexpr (!kernels::has_indirect_f32<K>) {
    MESSAGE(std::string(K::name) << " has no indirect entry (conv2d gathers panels for it)");
  } else {
    using g = gemm_f32<typename K::arch, K>;
    tt::rng r(9);
    const std::size_t mr = K::mr(), nr = K::nr();
    for (auto side : {tt::guard_side::after, tt::guard_side::before}) {
      for (std::size_t t = 0; t < 40; ++t) {
        const std::size_t m = 1 + r.next() % (3 * mr + 2), n = 1 + r.next() % (3 * nr + 1);
        const std::size_t ks = 1 + r.next() % 9, kc = 1 + r.next() % (t % 4 == 0 ? 70 : 9), k = ks * kc;
        // Segments: 5 distinct blocks of kc floats (the last one against the guard page, or the first).
        tt::guarded<float> src(5 * kc, side), c(m * n, side);
        for (std::size_t i = 0; i < src.size(); ++i) src[i] = frand(r);
        const std::size_t tiles = (m + mr - 1) / mr;
        std::vector<const float*> ind(tiles * ks * mr, nullptr);  // rows >= m stay null: never read
        std::vector<float> a(m * k);                              // the same rows, gathered
        for (std::size_t i = 0; i < m; ++i)
          for (std::size_t s = 0; s < ks; ++s) {
            const float* seg = src.data() + (r.next() % 5) * kc;
            ind[(i / mr) * ks * mr + s * mr + i % mr] = seg;
            std::copy(seg, seg + kc, a.begin() + static_cast<std::ptrdiff_t>(i * k + s * kc));
          }
        std::vector<float> b(k * n), bias(n), want(m * n);
        for (auto& v : b) v = frand(r);
        for (auto& v : bias) v = frand(r);
        tt::guarded<float> packed(g::packed_b_bytes(n, k) / sizeof(float), side);
        REQUIRE(g::pack_b(k, n, b.data(), n, bias.data(), packed.data(), packed.size() * sizeof(float)).ok());
        const f32_clamp cl = t % 2 ? f32_clamp{} : f32_clamp{-2.0f, 3.0f};
        K::run(m, n, k, a.data(), k, packed.data(), want.data(), n, cl);
        K::run_indirect(m, n, ks, kc, ind.data(), packed.data(), c.data(), n, cl);
        INFO("m=" << m << " n=" << n << " ks=" << ks << " kc=" << kc);
        // Bit for bit, but for a last tile of one row (where `run` may take a GEMV order).
        const std::size_t exact_rows = m % mr == 1 ? m - 1 : m;
        for (std::size_t i = 0; i < exact_rows * n; ++i) REQUIRE(c[i] == want[i]);
        check_close(m, n, k, a.data(), k, b.data(), n, bias.data(), c.data(), n, cl);
      }
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(f32_indirect, as_tuple<kernels::gemm_f32_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("gemm_f32 strided entry equals the indirect entry on the rows it describes", K, f32_strided) {
  TT_REQUIRE_RUNNABLE(K);
  if constexpr (!kernels::has_strided_f32<K>) {
    MESSAGE(std::string(K::name) << " has no strided entry (conv2d gathers panels or uses tap pointers for it)");
  } else {
    using g = gemm_f32<typename K::arch, K>;
    tt::rng r(10);
    const std::size_t mr = K::mr(), nr = K::nr();
    for (auto side : {tt::guard_side::after, tt::guard_side::before}) {
      for (std::size_t t = 0; t < 60; ++t) {
        // m covers every row tail (1..8 rows in the last tile); ks = 3, kc = 9 (layer a: 3x3 windows
        // of 3 channels) every third case; a_stride below, at and above kc (overlapping or gapped rows).
        const std::size_t m = 1 + t % (3 * mr + 2), n = 1 + r.next() % (3 * nr + 1);
        const bool rgb = t % 3 == 0;
        const std::size_t ks = rgb ? 3 : 1 + r.next() % 7, kc = rgb ? 9 : 1 + r.next() % (t % 4 == 1 ? 70 : 24);
        const std::size_t k = ks * kc, a_stride = 1 + r.next() % (kc + 3);
        // Segment t starts seg_gap floats after segment t - 1's last row: the last segment's last
        // row ends against the guard page (after), or the first segment's first row starts at it (before).
        const std::size_t span = (m - 1) * a_stride + kc, seg_gap = r.next() % 5;
        tt::guarded<float> src(ks * (span + seg_gap), side), c(m * n, side);
        for (std::size_t i = 0; i < src.size(); ++i) src[i] = frand(r);
        std::vector<const float*> seg(ks);
        for (std::size_t s = 0; s < ks; ++s)
          seg[s] = src.data() + (side == tt::guard_side::after ? seg_gap + s * (span + seg_gap) : s * (span + seg_gap));
        const std::size_t tiles = (m + mr - 1) / mr;
        std::vector<const float*> ind(tiles * ks * mr, nullptr);
        std::vector<float> a(m * k);  // the same rows, gathered
        for (std::size_t i = 0; i < m; ++i)
          for (std::size_t s = 0; s < ks; ++s) {
            ind[(i / mr) * ks * mr + s * mr + i % mr] = seg[s] + i * a_stride;
            std::copy(seg[s] + i * a_stride, seg[s] + i * a_stride + kc, a.begin() + static_cast<std::ptrdiff_t>(i * k + s * kc));
          }
        std::vector<float> b(k * n), bias(n), want(m * n);
        for (auto& v : b) v = frand(r);
        for (auto& v : bias) v = frand(r);
        tt::guarded<float> packed(g::packed_b_bytes(n, k) / sizeof(float), side);
        REQUIRE(g::pack_b(k, n, b.data(), n, bias.data(), packed.data(), packed.size() * sizeof(float)).ok());
        const f32_clamp cl = t % 2 ? f32_clamp{} : f32_clamp{-2.0f, 3.0f};
        K::run_indirect(m, n, ks, kc, ind.data(), packed.data(), want.data(), n, cl);
        K::run_strided(m, n, ks, kc, seg.data(), a_stride, packed.data(), c.data(), n, cl);
        INFO("m=" << m << " n=" << n << " ks=" << ks << " kc=" << kc << " a_stride=" << a_stride);
        // Bit for bit: the same tiles, the same FMA order per row (no GEMV path in either entry).
        for (std::size_t i = 0; i < m * n; ++i) REQUIRE(c[i] == want[i]);
        check_close(m, n, k, a.data(), k, b.data(), n, bias.data(), c.data(), n, cl);
      }
    }
    // A C row stride wider than n: nothing written between the rows.
    const std::size_t m = 11, n = 40, ks = 3, kc = 9, ldc = 3 * nr;
    std::vector<float> src(m * 6 + 3 * kc + 40), b(ks * kc * n), c(m * ldc, -7.0f), want(m * ldc, -7.0f);
    for (auto& v : src) v = frand(r);
    for (auto& v : b) v = frand(r);
    const float* seg[3] = {src.data(), src.data() + 13, src.data() + 29};
    std::vector<const float*> ind(2 * ks * mr, nullptr);
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t s = 0; s < ks; ++s) ind[(i / mr) * ks * mr + s * mr + i % mr] = seg[s] + i * 6;
    std::vector<float> packed(g::packed_b_bytes(n, ks * kc) / sizeof(float));
    REQUIRE(g::pack_b(ks * kc, n, b.data(), n, nullptr, packed.data(), packed.size() * sizeof(float)).ok());
    K::run_indirect(m, n, ks, kc, ind.data(), packed.data(), want.data(), ldc, f32_clamp{});
    K::run_strided(m, n, ks, kc, seg, 6, packed.data(), c.data(), ldc, f32_clamp{});
    CHECK(c == want);
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = n; j < ldc; ++j) REQUIRE(c[i * ldc + j] == -7.0f);
  }
}
TEST_CASE_TEMPLATE_APPLY(f32_strided, as_tuple<kernels::gemm_f32_registry>::type);

#if TESSERA_TEST_HAS_EIGEN
TEST_CASE_TEMPLATE_DEFINE("gemm_f32 kernels agree with Eigen", K, f32_eigen) {
  TT_REQUIRE_RUNNABLE(K);
  using g = gemm_f32<typename K::arch, K>;
  using mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  tt::rng r(8);
  for (auto [m, n, k] : {std::tuple<int, int, int>{1, 1000, 256}, {49, 64, 512}, {33, 17, 129}, {64, 64, 64}, {7, 3, 1025}}) {
    mat a(m, k), b(k, n);
    for (int i = 0; i < a.size(); ++i) a.data()[i] = frand(r);
    for (int i = 0; i < b.size(); ++i) b.data()[i] = frand(r);
    const mat want = a * b;
    std::vector<float> packed(g::packed_b_bytes(static_cast<std::size_t>(n), static_cast<std::size_t>(k)) / 4);
    REQUIRE(g::pack_b(static_cast<std::size_t>(k), static_cast<std::size_t>(n), b.data(), static_cast<std::size_t>(n),
                      nullptr, packed.data(), packed.size() * 4).ok());
    mat got(m, n);
    REQUIRE(g::run(static_cast<std::size_t>(m), static_cast<std::size_t>(n), static_cast<std::size_t>(k), a.data(),
                   static_cast<std::size_t>(k), packed.data(), got.data(), static_cast<std::size_t>(n)).ok());
    const float err = (got - want).cwiseAbs().maxCoeff();
    const float scale = (a.cwiseAbs() * b.cwiseAbs()).maxCoeff();
    INFO("m=" << m << " n=" << n << " k=" << k << " max error " << err << " vs scale " << scale);
    CHECK(err <= 4.0f * static_cast<float>(k) * std::numeric_limits<float>::epsilon() * scale);
  }
}
TEST_CASE_TEMPLATE_APPLY(f32_eigen, as_tuple<kernels::gemm_f32_registry>::type);
#endif

TEST_CASE("gemm_f32 size queries do not wrap a 32-bit size_t") {
  // 2^15 x 2^15 fp32 (4 GiB packed): inside the [1, 2^24] size range, past a 32-bit size_t.
  using g = gemm_f32<>;
  const std::size_t n = std::size_t{1} << 15, k = std::size_t{1} << 15;
  float w[1] = {0.0f};
  float packed[4] = {};
  tt::check_wide_size_query(g::packed_b_bytes(n, k), g::pack_weights(n, k, w, k, nullptr, packed, sizeof packed));
}

TEST_CASE("gemm_f32 rejects bad parameters with a message") {
  using g = gemm_f32<>;
  float b[6] = {1, 2, 3, 4, 5, 6}, a[3] = {1, 1, 1}, c[2];
  std::vector<float> packed(g::packed_b_bytes(2, 3) / 4);
  const std::size_t bytes = packed.size() * 4;
  CHECK(g::packed_b_bytes(0, 3) == 0);
  CHECK(g::pack_b(3, 2, b, 1, nullptr, packed.data(), bytes).code() == status_code::invalid_argument);
  CHECK(g::pack_b(3, 2, b, 2, nullptr, packed.data(), 8).code() == status_code::buffer_too_small);
  REQUIRE(g::pack_b(3, 2, b, 2, nullptr, packed.data(), bytes).ok());
  REQUIRE(g::run(1, 2, 3, a, 3, packed.data(), c, 2).ok());
  CHECK(c[0] == 9.0f);   // 1 + 3 + 5
  CHECK(c[1] == 12.0f);  // 2 + 4 + 6
  CHECK(g::run(1, 2, 3, a, 3, packed.data(), c, 2, {1.0f, 0.0f}).code() == status_code::invalid_argument);
  CHECK(g::run(1, 2, 3, a, 2, packed.data(), c, 2).code() == status_code::invalid_argument);
  CHECK(g::run(1, 2, 3, nullptr, 3, packed.data(), c, 2).code() == status_code::invalid_argument);
  CHECK(g::run(0, 2, 3, nullptr, 3, packed.data(), c, 2).ok());
}
