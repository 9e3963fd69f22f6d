// Which AVX-512 instructions share the VPDPBUSD pipes on this x86-64 core, and how much of the int8
// GEMM's exact output stage (gemm_qs8_8x32c4_avx512_vnni::requant) can run beside the VPDPBUSDs.
// Standalone (not part of the Meson build); numbers and reading in docs/performance.md, section
// "int8 output stage beside the VPDPBUSDs". Needs AVX-512 F/BW/VL + VNNI:
//
//   g++ -O2 -march=native -o /tmp/vnni_pipes tools/x86-probe/vnni_pipes.cpp && /tmp/vnni_pipes
//
// Every loop iteration issues 16 independent VPDPBUSD zmm (accumulators zmm0-15) plus the listed
// instructions on other registers; the output is the iteration's time in units of the 16-VPDPBUSD
// loop's own time / 16 (one VPDPBUSD zmm per cycle on Zen 4, so "cycles").
#include <chrono>
#include <cstdio>

#define DP(r) "vpdpbusd %%zmm30, %%zmm31, %%zmm" #r "\n\t"
#define DP16 DP(0) DP(1) DP(2) DP(3) DP(4) DP(5) DP(6) DP(7) DP(8) DP(9) DP(10) DP(11) DP(12) DP(13) DP(14) DP(15)
#define X4(op) op(16) op(17) op(18) op(19)
#define OP2(ins, r) ins " %%zmm29, %%zmm" #r ", %%zmm" #r "\n\t"
#define ADDQ(r) OP2("vpaddq", r)
#define SRAVQ(r) OP2("vpsravq", r)
#define MULDQ(r) OP2("vpmuldq", r)
#define PACKSSDW(r) OP2("vpackssdw", r)
#define MAXSB(r) OP2("vpmaxsb", r)
#define PERMD(r) "vpermd %%zmm29, %%zmm28, %%zmm" #r "\n\t"
#define PERMT2D(r) "vpermt2d %%zmm29, %%zmm28, %%zmm" #r "\n\t"
#define CMPGTQ(r) "vpcmpgtq %%zmm29, %%zmm" #r ", %%k2\n\t"
#define SRAQ(r) "vpsraq $63, %%zmm" #r ", %%zmm" #r "\n\t"
#define MADDQ(r) "vpaddq %%zmm29, %%zmm" #r ", %%zmm" #r "%{%%k1%}\n\t"
#define SHUFD(r) "vpshufd $0xA0, %%zmm29, %%zmm" #r "%{%%k1%}\n\t"
#define BLENDD(r) "vpblendmd %%zmm29, %%zmm" #r ", %%zmm" #r "%{%%k1%}\n\t"

// The kernel's fast output stage for 16 lanes (x = zmm16 -> zmm18), as committed: two VPMULDQ, two
// compares into masks, two masked adds, two VPSRAVQ, one masked shuffle (plus two adds, a shift).
#define RQ_CMP                                                                                          \
  "vpmuldq %%zmm24, %%zmm16, %%zmm18\n\t" "vpsrlq $32, %%zmm16, %%zmm19\n\t"                            \
  "vpmuldq %%zmm25, %%zmm19, %%zmm19\n\t" "vpcmpgtq %%zmm18, %%zmm26, %%k2\n\t"                         \
  "vpcmpgtq %%zmm19, %%zmm26, %%k3\n\t" "vpaddq %%zmm27, %%zmm18, %%zmm18\n\t"                          \
  "vpaddq %%zmm28, %%zmm19, %%zmm19\n\t" "vpaddq %%zmm26, %%zmm18, %%zmm18%{%%k2%}\n\t"                 \
  "vpaddq %%zmm26, %%zmm19, %%zmm19%{%%k3%}\n\t" "vpsravq %%zmm29, %%zmm18, %%zmm18\n\t"                \
  "vpsravq %%zmm29, %%zmm19, %%zmm19\n\t" "vpshufd $0xA0, %%zmm19, %%zmm18%{%%k1%}\n\t"
// The same result with the sign test done by shifts instead of compares (16 instructions, only the
// two VPMULDQ on the multiply pipes).
#define RQ_SHIFT                                                                                        \
  "vpmuldq %%zmm24, %%zmm16, %%zmm18\n\t" "vpsrlq $32, %%zmm16, %%zmm19\n\t"                            \
  "vpmuldq %%zmm25, %%zmm19, %%zmm19\n\t" "vpaddq %%zmm26, %%zmm18, %%zmm20\n\t"                        \
  "vpaddq %%zmm26, %%zmm19, %%zmm21\n\t" "vpsraq $63, %%zmm20, %%zmm20\n\t"                             \
  "vpsraq $63, %%zmm21, %%zmm21\n\t" "vpsllq $31, %%zmm20, %%zmm20\n\t" "vpsllq $31, %%zmm21, %%zmm21\n\t" \
  "vpaddq %%zmm27, %%zmm18, %%zmm18\n\t" "vpaddq %%zmm28, %%zmm19, %%zmm19\n\t"                         \
  "vpaddq %%zmm20, %%zmm18, %%zmm18\n\t" "vpaddq %%zmm21, %%zmm19, %%zmm19\n\t"                         \
  "vpsravq %%zmm29, %%zmm18, %%zmm18\n\t" "vpsravq %%zmm29, %%zmm19, %%zmm19\n\t"                       \
  "vpblendmd %%zmm19, %%zmm18, %%zmm18%{%%k1%}\n\t"
#define DP128 DP16 DP16 DP16 DP16 DP16 DP16 DP16 DP16
#define RQ_CMP8 RQ_CMP RQ_CMP RQ_CMP RQ_CMP RQ_CMP RQ_CMP RQ_CMP RQ_CMP

#define T(name, ops)                                                                          \
  test {                                                                                      \
    name, [](long n) {                                                                        \
      const auto t0 = std::chrono::steady_clock::now();                                       \
      for (long i = 0; i < n; ++i) asm volatile(ops ::: "memory");                            \
      return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / n; \
    }                                                                                         \
  }
struct test {
  const char* name;
  double (*f)(long);
};

int main() {
  const test tests[] = {
      T("16 vpdpbusd", DP16),
      T("+ 4 vpaddq", DP16 X4(ADDQ)), T("+ 4 masked vpaddq", DP16 X4(MADDQ)), T("+ 4 vpsravq", DP16 X4(SRAVQ)),
      T("+ 4 vpsraq imm", DP16 X4(SRAQ)), T("+ 4 vpackssdw", DP16 X4(PACKSSDW)), T("+ 4 vpmaxsb", DP16 X4(MAXSB)),
      T("+ 4 vpermd", DP16 X4(PERMD)), T("+ 4 masked vpshufd", DP16 X4(SHUFD)), T("+ 4 vpblendmd", DP16 X4(BLENDD)),
      T("+ 8 vpaddq", DP16 X4(ADDQ) X4(ADDQ)), T("+ 16 vpaddq", DP16 X4(ADDQ) X4(ADDQ) X4(ADDQ) X4(ADDQ)),
      T("+ 4 vpermt2d", DP16 X4(PERMT2D)), T("+ 4 vpmuldq", DP16 X4(MULDQ)), T("+ 4 vpcmpgtq -> k", DP16 X4(CMPGTQ)),
      T("stage (compares) alone", RQ_CMP), T("stage (shifts) alone", RQ_SHIFT),
      T("16 vpdpbusd + 1 stage (compares)", DP16 RQ_CMP), T("16 vpdpbusd + 1 stage (shifts)", DP16 RQ_SHIFT),
      T("16 vpdpbusd + 2 stages (compares)", DP16 RQ_CMP RQ_CMP), T("16 vpdpbusd + 2 stages (shifts)", DP16 RQ_SHIFT RQ_SHIFT),
      T("128 vpdpbusd, then 8 stages (compares)", DP128 RQ_CMP8),
  };
  const long n = 10000000;
  double unit = 1;
  for (int rep = 0; rep < 2; ++rep) {  // the first pass warms up the clock
    for (const auto& t : tests) {
      const double ns = t.f(n);
      if (&t == tests) unit = ns / 16;
      if (rep == 1) std::printf("%-40s %7.1f cycles\n", t.name, ns / unit);
    }
  }
}
