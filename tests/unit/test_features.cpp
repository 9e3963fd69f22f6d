// Run-time CPU feature detection agrees with what the emulator was told to be.
#include "test.hpp"

#include <cstdlib>
#include <cstring>
#include <string>
#include <tessera/tessera.hpp>

#if TESSERA_HAS_SVE
#include <arm_sve.h>
#endif

using namespace tessera;

namespace {
std::string detected_list() {
  const auto& f = arch::cpu();
  std::string s;
  auto add = [&](bool b, const char* n) {
    if (!b) return;
    if (!s.empty()) s += ' ';
    s += n;
  };
  add(f.neon, "neon"); add(f.dotprod, "dotprod"); add(f.i8mm, "i8mm"); add(f.sve, "sve"); add(f.sve2, "sve2");
  return s;
}
}  // namespace

TEST_CASE("detected features match the test setup's expectation") {
  MESSAGE("detected: " << detected_list());
#if defined(__aarch64__) && defined(__linux__)
  const char* expect = std::getenv("TESSERA_EXPECT_FEATURES");
  if (expect != nullptr) CHECK(detected_list() == std::string(expect));
  CHECK(arch::cpu().neon);  // every AArch64 Linux CPU has Advanced SIMD
#elif defined(__x86_64__)
  CHECK_FALSE(arch::cpu().neon);
#if TESSERA_HAS_SIMD
  // The simd build needs AVX2+FMA; running it here means the CPU has them.
  CHECK(arch::cpu().avx2_fma);
#endif
#elif TESSERA_HAS_HELIUM
  CHECK(arch::cpu().mve);
  CHECK(arch::available<arch::helium>());
#endif
  CHECK(arch::available<arch::native>() == arch::supported_by_cpu<arch::native>());
}

TEST_CASE("the SVE vector length is the one the setup asked for") {
#if TESSERA_HAS_SVE
  const char* bits = std::getenv("TESSERA_EXPECT_SVE_BITS");
  if (arch::cpu().sve) {
    const unsigned vl = static_cast<unsigned>(svcntb() * 8);
    MESSAGE("SVE vector length: " << vl << " bits");
    if (bits != nullptr) CHECK(vl == static_cast<unsigned>(std::atoi(bits)));
  } else {
    CHECK(bits == nullptr);
  }
#else
  CHECK(true);
#endif
}
