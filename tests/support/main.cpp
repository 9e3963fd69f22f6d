// doctest's main for every suite: strips tessera's own options, prints what this binary can run,
// runs doctest, and prints the tags whose kernels really ran.
#define DOCTEST_CONFIG_IMPLEMENT
#include "test.hpp"

#include <cstdio>
#include <cstring>
#include <set>
#include <vector>

#if TESSERA_HAS_SVE
#include <arm_sve.h>
#endif

namespace {
const char* g_conformance_dir = "tests/conformance";
std::set<std::string>& ran() {
  static std::set<std::string> s;
  return s;
}
}  // namespace

namespace tt {
const char* conformance_dir() noexcept { return g_conformance_dir; }
void note_tag_ran(const char* tag_name) noexcept { ran().insert(tag_name); }
std::string tags_ran() {
  std::string out;
  for (const auto& t : ran()) {
    if (!out.empty()) out += ' ';
    out += t;
  }
  return out;
}
}  // namespace tt

int main(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    constexpr const char opt[] = "--conformance-dir=";
    if (std::strncmp(argv[i], opt, sizeof(opt) - 1) == 0) g_conformance_dir = argv[i] + sizeof(opt) - 1;
    else args.push_back(argv[i]);
  }
  std::printf("[tessera] native tag: %s, best available at run time: %s", tessera::arch::native::name,
              tessera::arch::best_available_tag_name());
#if TESSERA_HAS_SVE
  if (tessera::arch::cpu().sve) std::printf(", SVE %u bits", static_cast<unsigned>(svcntb() * 8));
#endif
  std::printf("\n");
  doctest::Context ctx(static_cast<int>(args.size()), args.data());
  const int rc = ctx.run();
  std::printf("[tessera] kernels ran for tags: %s\n", tt::tags_ran().c_str());
  return rc;
}
