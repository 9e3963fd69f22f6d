/// @file peers.hpp
/// Set-up shared by the GEMM benchmarks' optional peers: oneDNN on one thread and XNNPACK's
/// one-time initialization. Each part compiles only when meson found the library
/// (TESSERA_BENCH_HAS_ONEDNN / TESSERA_BENCH_HAS_XNNPACK).
#pragma once
#include <cstdio>

#if TESSERA_BENCH_HAS_ONEDNN
#include <dlfcn.h>

#include <oneapi/dnnl/dnnl.hpp>
#endif
#if TESSERA_BENCH_HAS_XNNPACK
#include <xnnpack.h>
#endif

namespace tessera_bench {

#if TESSERA_BENCH_HAS_ONEDNN
/// Debian's oneDNN 2.6 is built with DNNL_CPU_RUNTIME = OMP (libgomp): it parallelizes with
/// `#pragma omp parallel`, which follows the calling thread's OpenMP thread count. libgomp reads
/// OMP_NUM_THREADS when it is loaded, before any static initializer of ours could set it, so the
/// count is set through the API instead: omp_set_num_threads(1), looked up at run time in the
/// libgomp that libdnnl.so loaded (no OpenMP flag or library for our own compiler, so g++ and
/// clang++ builds work alike). Returns omp_get_max_threads() afterwards (1 when it worked, -1 when
/// libgomp was not found). Call from the thread that runs the benchmarks.
inline int onednn_one_thread() noexcept {
  using set_fn = void (*)(int);
  using get_fn = int (*)();
  auto set = reinterpret_cast<set_fn>(::dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  auto get = reinterpret_cast<get_fn>(::dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
  if (set == nullptr || get == nullptr) {
    std::fprintf(stderr, "[tessera] oneDNN: omp_set_num_threads not found, oneDNN may use every core\n");
    return -1;
  }
  set(1);
  return get();
}

/// The implementation oneDNN picked for a primitive (e.g. "brg:avx2", "gemm:jit"), for the label.
template <class PD> const char* onednn_impl(const PD& pd) { return pd.impl_info_str(); }
#endif

#if TESSERA_BENCH_HAS_XNNPACK
/// xnn_initialize once per process; true when XNNPACK can run on this CPU.
inline bool xnnpack_ready() noexcept {
  static const bool ok = xnn_initialize(nullptr) == xnn_status_success;
  return ok;
}
#endif

}  // namespace tessera_bench
