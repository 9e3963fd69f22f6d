// Core vocabulary: extents, layouts, tensor views, dtypes, status.
#include "test.hpp"

#include <tessera/tessera.hpp>
#include <vector>

using namespace tessera;

TEST_CASE("static extents are empty and constant") {
  using E = extents<c<2>, c<3>, c<4>>;
  static_assert(E::rank() == 3 && E::rank_dynamic() == 0 && E::is_static);
  static_assert(E::static_size() == 24);
  static_assert(std::is_empty_v<E>);
  constexpr E e{};
  static_assert(e.size() == 24 && e.extent(1) == 3 && e.get<2>() == 4);
  CHECK(e[0] == 2);
}

TEST_CASE("mixed extents store only the dynamic dimensions") {
  auto e = make_extents(std::size_t{5}, c<3>{}, 7);
  using E = decltype(e);
  static_assert(E::rank_dynamic() == 2);
  static_assert(E::static_extent(1) == 3 && E::static_extent(0) == dynamic_extent);
  CHECK(sizeof(E) == 2 * sizeof(std::size_t));
  CHECK(e.size() == 105);
  CHECK(e.extent(2) == 7);
  CHECK(e == make_extents(5, c<3>{}, 7));
  CHECK_FALSE(e == make_extents(5, c<3>{}, 8));
}

TEST_CASE("a static view costs one pointer") {
  using V = tensor_view<float, extents<c<4>, c<8>>>;
  static_assert(sizeof(V) == sizeof(float*));
  using Vq = tensor_view<std::int8_t, extents<c<1>, c<8>, c<8>, c<16>>, layout::nhwc, quant::per_tensor_symmetric>;
  CHECK(sizeof(Vq) == 2 * sizeof(void*));  // pointer + float scale, padded; no extents stored
  using Vd = tensor_view<float, extents<std::size_t, c<8>>>;
  CHECK(sizeof(Vd) == sizeof(float*) + sizeof(std::size_t));
}

TEST_CASE("row-major, NHWC and OHWI address the same way as TFLite") {
  std::vector<float> buf(2 * 3 * 4 * 5);
  for (std::size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<float>(i);
  auto v = make_view<layout::nhwc>(buf.data(), make_extents(2, 3, 4, c<5>{}), quant::none{});
  CHECK(v.map.n() == 2);
  CHECK(v.map.h() == 3);
  CHECK(v.map.w() == 4);
  CHECK(v.map.c() == 5);
  CHECK(v(1, 2, 3, 4) == static_cast<float>(((1 * 3 + 2) * 4 + 3) * 5 + 4));
  CHECK(v.stride(0) == 60);
  CHECK(v.stride(3) == 1);
  auto w = make_view<layout::ohwi>(buf.data(), make_extents(c<8>{}, c<3>{}, c<3>{}, 5));
  CHECK(w.map.kh() == 3);
  CHECK(w.map.i() == 5);
  CHECK(&w(7, 2, 2, 4) == &buf[7 * 45 + 2 * 15 + 2 * 5 + 4]);
}

TEST_CASE("strided views address padded rows") {
  std::vector<int> buf(4 * 10, -1);
  using E = extents<std::size_t, std::size_t>;
  tensor_view<int, E, layout::strided> v{buf.data(), {E(4, 7), {10, 1}}, {}};
  for (std::size_t r = 0; r < 4; ++r)
    for (std::size_t col = 0; col < 7; ++col) v(r, col) = static_cast<int>(r * 100 + col);
  CHECK(buf[3 * 10 + 6] == 306);
  CHECK(buf[3 * 10 + 7] == -1);
  CHECK(v.map.required_span() == 37);
}

TEST_CASE("s4 packing: element 2i in the low nibble, sign-extended, odd tails") {
  for (std::size_t n : {1u, 2u, 7u, 16u, 33u}) {
    std::vector<std::int8_t> v(n), back(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::int8_t>(static_cast<int>(i * 5 % 16) - 8);
    std::vector<std::uint8_t> p(storage_bytes<s4>(n), 0xAA);
    CHECK(p.size() == (n + 1) / 2);
    pack_s4(n, v.data(), p.data());
    unpack_s4(n, p.data(), back.data());
    CHECK(back == v);
  }
  const std::int8_t two[2] = {-8, 7};
  std::uint8_t b = 0;
  pack_s4(2, two, &b);
  CHECK(b == 0x78);
}

TEST_CASE("status carries a code and a message, without exceptions") {
  constexpr status ok = status::success();
  static_assert(ok.ok());
  status bad{status_code::invalid_argument, "x must be positive"};
  CHECK_FALSE(bad);
  CHECK(bad.code() == status_code::invalid_argument);
  CHECK(std::string(bad.message()) == "x must be positive");
  CHECK(std::string(to_string(status_code::overflow)) == "overflow");
  auto f = [](bool fail) -> status {
    TESSERA_TRY(fail ? status{status_code::unsupported, "nope"} : status::success());
    return status::success();
  };
  CHECK(f(false).ok());
  CHECK(f(true).code() == status_code::unsupported);
}

#ifdef TESSERA_INJECT_FAILURE
// Only with `scripts/test --inject-failure`: proves a failing test fails the test command.
TEST_CASE("deliberately failing test (--inject-failure)") { CHECK(1 + 1 == 3); }
#endif

#if TESSERA_HAS_F16
TEST_CASE("f16 is a 2-byte IEEE half that round-trips exact values") {
  static_assert(sizeof(f16) == 2);
  const f16 h = static_cast<f16>(1.5f);
  CHECK(static_cast<float>(h) == 1.5f);
  CHECK(static_cast<float>(static_cast<f16>(65504.0f)) == 65504.0f);
  CHECK(std::string(dtype_traits<f16>::name) == "f16");
}
#endif
