/*
 * Bare-metal startup for Cortex-M55 test binaries under QEMU `-M mps3-an547`
 * with Arm semihosting (newlib rdimon, `--specs=rdimon.specs`).
 *
 * - Vector table in section `.vectors`, placed at 0x00000000 (ITCM) by
 *   mps3_an547.ld: word 0 = initial SP (`__stack`), word 1 = Reset_Handler.
 * - Reset_Handler enables CP10/CP11 (FPU and Helium/MVE) in CPACR, then jumps
 *   to newlib's `_start` (rdimon crt0: zeroes .bss, reads argv through
 *   SYS_GET_CMDLINE, runs static constructors, calls main, then exit()).
 * - _stack_init (called by crt0) undoes QEMU's SYS_HEAPINFO answer: SP back
 *   to __stack in DDR, heap limited by the stack reservation, MSPLIM armed.
 * - Every other exception (faults, and any unexpected interrupt) prints one
 *   line to the host's stderr via semihosting and ends QEMU with exit code 99
 *   (TESSERA_M55_FAULT_EXIT_CODE), so a crashing test fails loudly instead of
 *   hanging. All handlers are weak: a test may override e.g. SysTick_Handler.
 *   An MPU data access violation (a tt::guarded guard hit, see
 *   tests/support/guard.hpp) first prints "MPU fault at <address> (guard
 *   page hit ...)".
 *
 * This file must not use floating-point or MVE instructions outside main():
 * the reset handler runs before CP10/CP11 are enabled and a fault handler may
 * be entered because they are disabled. Hence the naked reset handler and the
 * `general-regs-only` attribute on the fault reporter.
 */
#include <stdint.h>

#define TESSERA_M55_FAULT_EXIT_CODE 99

extern uint32_t __stack;     /* initial stack pointer, from mps3_an547.ld */
extern void _start(void);    /* newlib rdimon crt0 entry */

/* One vector-table word: a handler address or (word 0) the initial SP. */
typedef union {
    void (*handler)(void);
    const void *sp;
} tessera_m55_vector;

void Reset_Handler(void);
void Default_Handler(void);
void _stack_init(void);      /* overrides newlib crt0's weak default */
void tessera_m55_fault_report(const uint32_t *frame, uint32_t exc_return,
                              uint32_t ipsr);
void NMI_Handler(void) __attribute__((weak, alias("Default_Handler")));
void HardFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void MemManage_Handler(void) __attribute__((weak, alias("Default_Handler")));
void BusFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void UsageFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SecureFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SVC_Handler(void) __attribute__((weak, alias("Default_Handler")));
void DebugMon_Handler(void) __attribute__((weak, alias("Default_Handler")));
void PendSV_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SysTick_Handler(void) __attribute__((weak, alias("Default_Handler")));

/* 16 system exceptions + 96 external interrupts (QEMU's AN547 has 96 IRQs).
 * `used` + KEEP() in the linker script keep it with --gc-sections. */
#define TESSERA_M55_D1  {.handler = Default_Handler}
#define TESSERA_M55_D8  TESSERA_M55_D1, TESSERA_M55_D1, TESSERA_M55_D1, TESSERA_M55_D1, \
                        TESSERA_M55_D1, TESSERA_M55_D1, TESSERA_M55_D1, TESSERA_M55_D1
#define TESSERA_M55_D32 TESSERA_M55_D8, TESSERA_M55_D8, TESSERA_M55_D8, TESSERA_M55_D8

__attribute__((used, section(".vectors")))
const tessera_m55_vector tessera_m55_vectors[16 + 96] = {
    {.sp = &__stack},                 /*  0 initial SP */
    {.handler = Reset_Handler},       /*  1 */
    {.handler = NMI_Handler},         /*  2 */
    {.handler = HardFault_Handler},   /*  3 */
    {.handler = MemManage_Handler},   /*  4 */
    {.handler = BusFault_Handler},    /*  5 */
    {.handler = UsageFault_Handler},  /*  6 */
    {.handler = SecureFault_Handler}, /*  7 */
    {0}, {0}, {0},                    /*  8-10 reserved */
    {.handler = SVC_Handler},         /* 11 */
    {.handler = DebugMon_Handler},    /* 12 */
    {0},                              /* 13 reserved */
    {.handler = PendSV_Handler},      /* 14 */
    {.handler = SysTick_Handler},     /* 15 */
    TESSERA_M55_D32, TESSERA_M55_D32, TESSERA_M55_D32, /* 16-111 IRQ0-95 */
};

__attribute__((naked, noreturn)) void Reset_Handler(void)
{
    __asm__ volatile(
        /* CPACR |= CP10 and CP11 full access (bits 20-23): FPU + MVE. */
        "movw r0, #0xED88\n\t"
        "movt r0, #0xE000\n\t"
        "ldr  r1, [r0]\n\t"
        "orr  r1, r1, #(0xF << 20)\n\t"
        "str  r1, [r0]\n\t"
        /* SHCSR: enable MemManage/BusFault/UsageFault/SecureFault so a
         * fault is reported under its own name (else: HardFault). */
        "movw r0, #0xED24\n\t"
        "movt r0, #0xE000\n\t"
        "ldr  r1, [r0]\n\t"
        "orr  r1, r1, #(0xF << 16)\n\t"
        "str  r1, [r0]\n\t"
        "dsb\n\t"
        "isb\n\t"
        /* Absolute jump: _start may be far from this code. */
        "movw r0, #:lower16:_start\n\t"
        "movt r0, #:upper16:_start\n\t"
        "bx   r0\n\t");
}

/*
 * newlib's rdimon crt0 asks the debugger for the memory layout
 * (SYS_HEAPINFO) and moves SP there. QEMU 7.2 on the AN547 (measured)
 * describes the 512 KiB ITCM, apparently the only plain RAM it sees (the DDR
 * sits behind a TrustZone MPC): "stack top 0x80000, heap limit 0x80000", so
 * the stack would end up in ITCM and every malloc() would fail (the heap
 * starts at `end` in DDR, above that limit). crt0 calls the weak _stack_init
 * right after setting SP (nothing pushed yet, r0-r3 free): override it to put
 * SP back at __stack, set newlib's __heap_limit to the bottom of the stack
 * reservation, and arm the Armv8-M stack limit (MSPLIM) so that a stack
 * overflow faults (exit 99) instead of silently overwriting the heap.
 */
__attribute__((naked)) void _stack_init(void)
{
    __asm__ volatile(
        "movw r0, #:lower16:__stack\n\t"
        "movt r0, #:upper16:__stack\n\t"
        "mov  sp, r0\n\t"
        "movw r1, #:lower16:__stack_limit\n\t"
        "movt r1, #:upper16:__stack_limit\n\t"
        "add  sl, r1, #256\n\t"
        "msr  msplim, r1\n\t"
        "movw r2, #:lower16:__heap_limit\n\t"
        "movt r2, #:upper16:__heap_limit\n\t"
        "str  r1, [r2]\n\t"
        "bx   lr\n\t");
}

/* ---- fault reporting (no newlib calls: its state may be broken) ---- */

/* Keep the reporter off FP/MVE registers (GCC); Default_Handler also
 * re-enables CP10/CP11 before calling it, which covers other compilers. */
#if defined(__GNUC__) && !defined(__clang__)
#define TESSERA_M55_NO_FP_ATTR target("general-regs-only"), optimize("no-tree-vectorize")
#else
#define TESSERA_M55_NO_FP_ATTR unused
#endif

#define SEMIHOST_SYS_WRITE0        0x04u
#define SEMIHOST_SYS_EXIT          0x18u
#define SEMIHOST_SYS_EXIT_EXTENDED 0x20u
#define ADP_Stopped_ApplicationExit 0x20026u

__attribute__((TESSERA_M55_NO_FP_ATTR, always_inline))
static inline uint32_t tessera_m55_semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

__attribute__((TESSERA_M55_NO_FP_ATTR, noinline))
static char *tessera_m55_put(char *p, const char *s)
{
    while (*s) *p++ = *s++;
    return p;
}

__attribute__((TESSERA_M55_NO_FP_ATTR, noinline))
static char *tessera_m55_hex(char *p, const char *label, uint32_t v)
{
    p = tessera_m55_put(p, label);
    *p++ = '0';
    *p++ = 'x';
    for (int shift = 28; shift >= 0; shift -= 4) {
        uint32_t d = (v >> shift) & 0xFu;
        *p++ = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    }
    return p;
}

/* Only dereference a stacked frame in RAM QEMU's AN547 really has. */
__attribute__((TESSERA_M55_NO_FP_ATTR))
static int tessera_m55_readable(uint32_t a)
{
    if (a & 3u) return 0;
    return a + 32u <= 0x00080000u                       /* ITCM 512 KiB */
        || (a >= 0x01000000u && a + 32u <= 0x01200000u) /* SRAM 2 MiB   */
        || (a >= 0x21000000u && a + 32u <= 0x21400000u) /* ISRAM 4 MiB  */
        || (a >= 0x60000000u && a + 32u <= 0xE0000000u);/* DDR 2 GiB    */
}

__attribute__((TESSERA_M55_NO_FP_ATTR, noreturn, used))
void tessera_m55_fault_report(const uint32_t *frame, uint32_t exc_return,
                              uint32_t ipsr)
{
    static const char *const names[16] = {
        "Thread", "Reset", "NMI", "HardFault", "MemManage", "BusFault",
        "UsageFault", "SecureFault", "Reserved", "Reserved", "Reserved",
        "SVCall", "DebugMonitor", "Reserved", "PendSV", "SysTick",
    };
    static char buf[448];
    volatile const uint32_t *scb = (volatile const uint32_t *)0xE000ED00u;
    uint32_t exc = ipsr & 0x1FFu;
    uint32_t cfsr = scb[0x28 / 4];
    char *p = buf;

    /* MMFSR DACCVIOL + MMARVALID: a data access the MPU refused. The only
     * MPU regions are tests/support/guard.hpp's (a background region plus
     * one overlapping region per guard), so this is an out-of-bounds access
     * next to a tt::guarded buffer; MMFAR is the exact faulting address. */
    if ((cfsr & 0x82u) == 0x82u) {
        p = tessera_m55_hex(p, "\ntessera-m55: MPU fault at ", scb[0x34 / 4]);
        p = tessera_m55_put(p, " (guard page hit: out-of-bounds read or write"
                               " next to a tt::guarded buffer)");
    }
    p = tessera_m55_put(p, "\ntessera-m55: unexpected exception ");
    if (exc < 16) {
        p = tessera_m55_put(p, names[exc]);
    } else {
        p = tessera_m55_hex(p, "IRQ ", exc - 16);
    }
    if (tessera_m55_readable((uint32_t)frame)) {
        p = tessera_m55_hex(p, " pc=", frame[6]);
        p = tessera_m55_hex(p, " lr=", frame[5]);
        p = tessera_m55_hex(p, " xpsr=", frame[7]);
    } else {
        p = tessera_m55_hex(p, " bad sp=", (uint32_t)frame);
    }
    p = tessera_m55_hex(p, " CFSR=", cfsr);
    p = tessera_m55_hex(p, " HFSR=", scb[0x2C / 4]);
    p = tessera_m55_hex(p, " MMFAR=", scb[0x34 / 4]);
    p = tessera_m55_hex(p, " BFAR=", scb[0x38 / 4]);
    p = tessera_m55_hex(p, " EXC_RETURN=", exc_return);
    p = tessera_m55_put(p, "\n");
    *p = '\0';
    tessera_m55_semihost(SEMIHOST_SYS_WRITE0, buf);

    /* SYS_EXIT_EXTENDED carries the exit code on AArch32 (QEMU >= 5.x). */
    static uint32_t block[2];
    block[0] = ADP_Stopped_ApplicationExit;
    block[1] = TESSERA_M55_FAULT_EXIT_CODE;
    tessera_m55_semihost(SEMIHOST_SYS_EXIT_EXTENDED, block);
    /* Fallback: plain SYS_EXIT with a non-"application exit" reason, which
     * QEMU reports as exit code 1 (still a failure). */
    tessera_m55_semihost(SEMIHOST_SYS_EXIT, (const void *)0x20023u);
    for (;;) {
        __asm__ volatile("bkpt 0");
    }
}

/* Pass the stacked frame (MSP or PSP, by EXC_RETURN.SPSEL), EXC_RETURN and
 * IPSR to the reporter. */
__attribute__((naked)) void Default_Handler(void)
{
    __asm__ volatile(
        /* Lift the stack limit first: after a stack overflow (STKOF) SP sits
         * at MSPLIM and any push would fault again and lock up the core. */
        "movs  r0, #0\n\t"
        "msr   msplim, r0\n\t"
        /* Re-enable CP10/CP11 (harmless if already on). */
        "movw  r2, #0xED88\n\t"
        "movt  r2, #0xE000\n\t"
        "ldr   r3, [r2]\n\t"
        "orr   r3, r3, #(0xF << 20)\n\t"
        "str   r3, [r2]\n\t"
        "dsb\n\t"
        "isb\n\t"
        "tst   lr, #4\n\t"
        "ite   eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "mov   r1, lr\n\t"
        "mrs   r2, ipsr\n\t"
        "b     tessera_m55_fault_report\n\t");
}
