// Google Benchmark's main for every tessera bench program: prints (to stderr, so that
// `--benchmark_format=json` keeps stdout a JSON document) the tag this binary was compiled for and
// the best tag the CPU can run, records both and the compiler in the report's context, runs the
// benchmarks the program's other sources registered, and exits non-zero when a self-check failed.
#include <cstdio>

#include "bench_support.hpp"

namespace {
const char* compiler() noexcept {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "g++ " __VERSION__;
#else
  return "unknown";
#endif
}
}  // namespace

int main(int argc, char** argv) {
  std::fprintf(stderr, "[tessera] native tag: %s, best available at run time: %s, compiler: %s\n",
               tessera::arch::native::name, tessera::arch::best_available_tag_name(), compiler());
  benchmark::AddCustomContext("tessera_native_tag", tessera::arch::native::name);
  benchmark::AddCustomContext("tessera_best_available", tessera::arch::best_available_tag_name());
  benchmark::AddCustomContext("tessera_compiler", compiler());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (tessera_bench::failures() != 0) {
    std::fprintf(stderr, "[tessera] %d benchmark self-check(s) FAILED\n", tessera_bench::failures());
    return 1;
  }
  return 0;
}
