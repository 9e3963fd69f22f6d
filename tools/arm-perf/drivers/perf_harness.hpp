/// @file perf_harness.hpp
/// Harness for tools/arm-perf drivers (mca.sh, icount.sh). A driver:
///   - includes the kernel header(s) and then this file,
///   - defines the measured wrapper with `TESSERA_PERF_KERNEL { ... }` (extern "C", noinline,
///     noipa, no arguments: it reads everything from `volatile` globals so the compiler knows no
///     sizes, alignments or aliasing that a real caller would not give it; `flatten` inlines the
///     kernel into it, so the loop is found in its -S body and its nm range holds all of it),
///   - defines `void tessera_perf::setup()` (fill inputs) and `int tessera_perf::check()`
///     (0 = the measured call produced the right result) and `std::size_t tessera_perf::elements()`.
/// main() calls: setup; begin; end (baseline pair); begin; kernel; end (measured pair); check.
/// The two marker functions execute one distinctive no-op instruction each, which the QEMU insn
/// plugin matches (`match=`): instructions(kernel) = delta(measured) - delta(baseline) - 1 (the BL).
/// A `// arm-perf:` comment line in the driver gives tool metadata (targets, loop-elements).
#pragma once
#include <cstddef>
#include <cstdio>

#if defined(__aarch64__)
#define TESSERA_PERF_MARK_INSN "hint #0x2a"  // unallocated hint = NOP; disassembles as "hint #0x2a"
#elif defined(__thumb__)
#define TESSERA_PERF_MARK_INSN "mov r8, r8"  // 16-bit NOP-like move, never emitted by compilers
#else
#error "perf_harness.hpp: AArch64 or Thumb (Cortex-M) only"
#endif

extern "C" __attribute__((noinline, noipa, used)) void tessera_perf_begin() {
  __asm__ volatile(TESSERA_PERF_MARK_INSN ::: "memory");
}
extern "C" __attribute__((noinline, noipa, used)) void tessera_perf_end() {
  __asm__ volatile(TESSERA_PERF_MARK_INSN ::: "memory");
}

/// The measured function: exactly one call of it is counted.
#define TESSERA_PERF_KERNEL extern "C" __attribute__((noinline, noipa, used, flatten)) void tessera_perf_kernel()
extern "C" void tessera_perf_kernel();

namespace tessera_perf {
void setup();
int check();
std::size_t elements();
}  // namespace tessera_perf

int main() {
  tessera_perf::setup();
  tessera_perf_begin();
  tessera_perf_end();
  tessera_perf_begin();
  tessera_perf_kernel();
  tessera_perf_end();
  const int bad = tessera_perf::check();
  std::printf("arm-perf: elements=%lu check=%s\n", static_cast<unsigned long>(tessera_perf::elements()), bad ? "FAILED" : "ok");
  return bad ? 1 : 0;
}
