// Compile-time microkernel selection along the tag chains.
#include "test.hpp"

#include <tessera/tessera.hpp>

using namespace tessera;

namespace {
// A toy op with kernels at scalar, neon and helium only.
struct toy_op {};
struct toy_scalar {};
struct toy_neon {};
struct toy_helium {};
// An op implemented only for neon_dot and sve2 (no scalar fallback at all).
struct dot_only_op {};
struct dot_kernel {};
struct sve2_kernel {};
}  // namespace

template <> struct tessera::ukernel<toy_op, arch::scalar> { using type = toy_scalar; };
template <> struct tessera::ukernel<toy_op, arch::neon> { using type = toy_neon; };
template <> struct tessera::ukernel<toy_op, arch::helium> { using type = toy_helium; };
template <> struct tessera::ukernel<dot_only_op, arch::neon_dot> { using type = dot_kernel; };
template <> struct tessera::ukernel<dot_only_op, arch::sve2> { using type = sve2_kernel; };

TEST_CASE("selection walks the parent chain to the nearest kernel") {
  static_assert(std::is_same_v<select_t<toy_op, arch::scalar>, toy_scalar>);
  static_assert(std::is_same_v<select_t<toy_op, arch::simd>, toy_scalar>);
  static_assert(std::is_same_v<select_t<toy_op, arch::neon>, toy_neon>);
  static_assert(std::is_same_v<select_t<toy_op, arch::neon_i8mm>, toy_neon>);
  static_assert(std::is_same_v<select_t<toy_op, arch::sve2>, toy_neon>);
  static_assert(std::is_same_v<select_t<toy_op, arch::helium>, toy_helium>);
  static_assert(std::is_same_v<selected_tag_t<toy_op, arch::sve>, arch::neon>);
  static_assert(std::is_same_v<select_t<dot_only_op, arch::neon_i8mm>, dot_kernel>);
  static_assert(std::is_same_v<select_t<dot_only_op, arch::sve2>, sve2_kernel>);
  CHECK(true);
}

TEST_CASE("the tag chains are the designed ones") {
  static_assert(std::is_same_v<arch::neon_i8mm::parent, arch::neon_dot>);
  static_assert(std::is_same_v<arch::neon_dot::parent, arch::neon>);
  static_assert(std::is_same_v<arch::sve2::parent, arch::sve>);
  static_assert(std::is_same_v<arch::sve::parent, arch::neon>);
  static_assert(std::is_same_v<arch::neon::parent, arch::simd>);
  static_assert(std::is_same_v<arch::simd::parent, arch::scalar>);
  static_assert(std::is_same_v<arch::avx512_vnni::parent, arch::simd>);
  static_assert(!arch::derives_from<arch::neon, arch::avx512_vnni>);
  static_assert(std::is_same_v<arch::helium::parent, arch::scalar>);
  static_assert(arch::derives_from<arch::sve2, arch::neon>);
  static_assert(!arch::derives_from<arch::helium, arch::simd>);
  CHECK(true);
}

TEST_CASE("native is the most specific compiled tag") {
  static_assert(arch::compiled<arch::native>);
  static_assert(arch::compiled<arch::scalar>);
#if TESSERA_HAS_SVE2
  static_assert(std::is_same_v<arch::native, arch::sve2>);
#elif TESSERA_HAS_SVE
  static_assert(std::is_same_v<arch::native, arch::sve>);
#elif TESSERA_HAS_NEON_I8MM
  static_assert(std::is_same_v<arch::native, arch::neon_i8mm>);
#elif TESSERA_HAS_NEON_DOT
  static_assert(std::is_same_v<arch::native, arch::neon_dot>);
#elif TESSERA_HAS_NEON
  static_assert(std::is_same_v<arch::native, arch::neon>);
#elif TESSERA_HAS_AVX512_VNNI
  static_assert(std::is_same_v<arch::native, arch::avx512_vnni>);
#elif TESSERA_HAS_SIMD
  static_assert(std::is_same_v<arch::native, arch::simd>);
#elif TESSERA_HAS_HELIUM
  static_assert(std::is_same_v<arch::native, arch::helium>);
#else
  static_assert(std::is_same_v<arch::native, arch::scalar>);
#endif
  // Every tag on native's chain is compiled too.
  static_assert(arch::compiled<arch::native::parent> || std::is_same_v<arch::native, arch::scalar>);
  MESSAGE("native tag: " << std::string(arch::native::name));
  CHECK(arch::available<arch::scalar>());
}

TEST_CASE("the runtime walker picks the best available tag of a list") {
  const char* picked = nullptr;
  const bool any = arch::dispatch<arch::all_tags>([&](auto tag) { picked = decltype(tag)::name; });
  REQUIRE(any);
  CHECK(std::string(picked) == arch::best_available_tag_name());
  bool none = arch::dispatch<arch::type_list<>>([](auto) {});
  CHECK_FALSE(none);
}
