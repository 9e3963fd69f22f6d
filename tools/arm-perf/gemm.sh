#!/bin/sh
# Regenerates tools/arm-perf/results-gemm.md: for every GEMM driver (tools/arm-perf/drivers/gemm_*.cpp)
# llvm-mca-16 cycles per hot-loop iteration on cortex-a55, cortex-a76, neoverse-n1, neoverse-v1
# (AArch64) and cortex-m55 (Helium), the loop's MACs, the core's MAC limit for the loop's own MAC
# instruction mix (llvm-mca's resource bound of those instructions alone), the percentage of that
# limit, and QEMU's exact instructions per MAC (SVE at 128/256/512 bits). Also the per-core
# throughput of each MAC instruction as llvm-mca's models see it (loops of only that instruction).
#   tools/arm-perf/gemm.sh                 GCC 12 (the project's compiler)
#   tools/arm-perf/gemm.sh --clang         + clang-16 rows (a failing clang build is reported, not fatal)
#   tools/arm-perf/gemm.sh --out FILE      write elsewhere (default tools/arm-perf/results-gemm.md)
#   tools/arm-perf/gemm.sh --out FILE D.cpp...  only these drivers (FILE then holds only their rows: use a
#                                          scratch FILE and copy the rows into results-gemm.md)
#   tools/arm-perf/gemm.sh --family dwconv the depthwise drivers (drivers/dwconv_*.cpp) into results-dwconv.md,
#                                          with a load limit next to the MAC limit (tools/arm-perf/dwconv.sh)
# Build products: $TESSERA_PERF_BUILD (default build/arm-perf)/<driver>.<target>-<compiler>/
# (kernel.s, region.s = the analysed loop, mac.s = its MAC instructions alone, prog.elf).
"$(dirname "$0")/../../scripts/install-deps" perf || exit 1
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 - "$here" "$@" <<'PYEOF'
import argparse, datetime, os, re, subprocess, sys, tempfile
here = sys.argv[1]
sys.path.insert(0, here)
import armperf as ap

opt = argparse.ArgumentParser(prog="gemm.sh")
opt.add_argument("--clang", action="store_true", help="add clang-16 rows")
opt.add_argument("--family", choices=["gemm", "dwconv"], default="gemm",
                 help="drivers/<family>_*.cpp; dwconv adds the load limit and writes results-dwconv.md")
opt.add_argument("--out", default=None, help="default: tools/arm-perf/results-<family>.md")
opt.add_argument("--vl", default="128,256,512")
opt.add_argument("drivers", nargs="*", help="default: tools/arm-perf/drivers/gemm_*.cpp")
args = opt.parse_args(sys.argv[2:])
args.out = args.out or os.path.join(here, f"results-{args.family}.md")
DW = args.family == "dwconv"
root = ap.ROOT
os.chdir(root)
CPUS = {"aarch64": ["cortex-a55", "cortex-a76", "neoverse-n1", "neoverse-v1"], "m55": ["cortex-m55"]}
MCA_VL = 128  # SVE loops are analysed at VL=128 (the N2 model's vector width)

# ------------------------------------------------------------ MAC instructions
def lanes(op, vl):
    """Lanes of a destination register: v0.4s -> 4, z0.s -> VL/32."""
    m = re.match(r"v\d+\.(\d+)([bhsd])", op)
    if m:
        return int(m.group(1))
    m = re.match(r"z\d+\.([bhsd])", op)
    if m:
        return vl // {"b": 8, "h": 16, "s": 32, "d": 64}[m.group(1)]
    return None

MVE_LANES = {"8": 16, "16": 8, "32": 4}

def mac_info(insn, vl=MCA_VL):
    """(mnemonic class, MACs) if the instruction is part of the loop's MAC mix, else None.
    The mix: the multiply(-accumulate) instructions plus SADALP, the accumulate step of the
    SMULL/SMLSL2 scheme (0 MACs itself). Loads, ZIP/EXT, SXTL, EOR, address updates are overhead."""
    p = insn.split(None, 1)
    mn, ops = p[0].lower(), (p[1] if len(p) > 1 else "")
    first = ops.split(",")[0].strip()
    n = lanes(first, vl)
    if mn in ("fmla", "fmls") and n:
        return ("FMLA" + ("" if "[" not in ops else " (by element)") + (" SVE" if first.startswith("z") else ""), n)
    if mn in ("fmad", "fmsb") and n:  # SVE destructive forms (the addend is the last operand)
        return (mn.upper() + " SVE", n)
    if mn in ("mad", "msb") and n:
        return (mn.upper() + " SVE", n)
    if mn in ("sdot", "udot", "usdot", "sudot") and n:
        return (mn.upper() + (" SVE" if first.startswith("z") else ""), 4 * n)
    if mn in ("smmla", "ummla", "usmmla") and n:
        return (mn.upper() + (" SVE" if first.startswith("z") else ""), 8 * n)
    if DW and re.fullmatch(r"(s|u)(mull|mlal|mlsl)2?", mn) and first.endswith(".2d"):
        return None  # depthwise 16x8: the 32x32->64 SMLAL of the int64 requantization, not a MAC
    if re.fullmatch(r"(s|u)(mull|mlal|mlsl)2?", mn) and n:
        return (mn.upper() + (" (by element)" if "[" in ops else ""), n)
    if mn in ("sadalp", "uadalp"):
        return (mn.upper(), 0)
    if DW and re.fullmatch(r"(s|u)addw2?", mn):  # depthwise: the accumulate step of SMLAL/SMULL into int16
        return (mn.upper(), 0)
    if mn in ("mla", "mls") and n:
        return (mn.upper() + (" SVE" if DW and first.startswith("z") else ""), n)
    m = re.fullmatch(r"(vmladava|vmladav|vmlava|vmlav)(x)?\.([su])(8|16|32)", mn)
    if m:
        return ("VMLADAVA." + m.group(3).upper() + m.group(4), MVE_LANES[m.group(4)])
    m = re.fullmatch(r"vmull([bt])\.([su])(8|16|32)", mn)
    if m:  # widening multiply of the bottom/top halves: products are twice as wide as the inputs
        return ("VMULL" + m.group(1).upper() + "." + m.group(2).upper() + m.group(3), MVE_LANES[m.group(3)] // 2)
    m = re.fullmatch(r"(vfma|vmla)\.(f32|f16|i8|i16|i32|s8|s16|s32)", mn)
    if m:
        return (m.group(1).upper() + "." + m.group(2).upper(), MVE_LANES[re.sub(r"\D", "", m.group(2))])
    return None

def load_info(insn, target):
    """The instruction as a load for the load-only block (None if not a load). Helium VPT-block
    predication is dropped (vldrbt.s32 -> vldrb.s32: same pipe, and valid without its VPST)."""
    mn = insn.split(None, 1)[0].lower()
    if target == "m55":
        if not re.match(r"(vld|ldr|ldm)", mn):
            return None
        m = re.fullmatch(r"(vldr[bhw]|vld[24][0-3])([te])(\..*)?", mn)
        return insn.replace(mn, m.group(1) + (m.group(3) or ""), 1) if m else insn
    return insn if mn.startswith("ld") else None

def mac_list(insns):
    """mac_info of each instruction; for depthwise also the Helium accumulate step: a VADD.I32 that
    reads a register last written by a VMULLB/VMULLT (0 MACs itself; epilogue VADDs are not in it)."""
    out, mull = [], set()
    for s in insns:
        mi = mac_info(s)
        p = s.split(None, 1)
        mn, ops = p[0].lower(), [o.strip() for o in (p[1] if len(p) > 1 else "").split(",")]
        if mi is None and DW and mn == "vadd.i32" and any(o in mull for o in ops[1:]):
            mi = ("VADD.I32 (accumulate)", 0)
        if mn.startswith("vmull"):
            mull.add(ops[0])
        elif ops and ops[0]:
            mull.discard(ops[0])
        out.append(mi)
    return out

def region_insns(path, target):
    """Instructions of a region.s (labels and directives dropped)."""
    out = []
    for line in open(path):
        s = line.split("@" if target == "m55" else "//", 1)[0].strip()
        if not s or s.endswith(":") or s.startswith("."):
            continue
        out.append(s)
    return out

def mca_stats(text, target, cpu, tag):
    """llvm-mca on a piece of assembly: armperf's result dict plus the per-iteration pressure on
    each resource (name -> cycles)."""
    d = os.path.join(ap.BUILD, f"{args.family}-pipes")
    os.makedirs(d, exist_ok=True)
    f = os.path.join(d, f"{tag}.{cpu}.s")
    with open(f, "w") as fh:
        if target == "m55":
            fh.write("\t.syntax unified\n\t.thumb\n")
        fh.write(text)
    r = ap.mca_one(f, cpu, 1000)
    r["file"] = f
    if "output" in r:
        r["pressure"] = pressure(r["output"])
    return r

def pressure(out):
    names = dict(re.findall(r"^\[([\d.]+)\]\s+-\s+(\S+)", out, re.M))
    m = re.search(r"^Resource pressure per iteration:\n(.*)\n(.*)\n", out, re.M)
    if not m:
        return {}
    heads = re.findall(r"\[([\d.]+)\]", m.group(1))
    vals = m.group(2).split()
    return {names.get(h, h): float(v) for h, v in zip(heads, vals) if v not in ("-",) and float(v) > 0}

def short_pipes(pr, model):
    """'V0 0.50, V1 0.50' from a pressure dict (the model prefix stripped)."""
    pre = {"Neoverse-N2": "N2Unit", "Cortex-A57": "A57Unit", "Cortex-A55": "CortexA55Unit",
           "Cortex-M55": "M55Unit"}.get(model.replace(" model", ""), "")
    return ", ".join(f"{k[len(pre):] if pre and k.startswith(pre) else k} {v:g}" for k, v in pr.items())

# ------------------------------------------------------------ per-instruction throughput (pipes table)
FORMS = {  # name -> (target, instruction with {d} for the destination / accumulator number)
    "FMLA v.4s (vector)": ("aarch64", "fmla v{d}.4s, v24.4s, v25.4s"),
    "FMLA v.4s (by element)": ("aarch64", "fmla v{d}.4s, v24.4s, v5.s[1]"),
    "SDOT v.4s (by element)": ("aarch64", "sdot v{d}.4s, v24.16b, v5.4b[1]"),
    "SMMLA v.4s": ("aarch64", "smmla v{d}.4s, v24.16b, v25.16b"),
    "SMULL v.8h": ("aarch64", "smull v{d}.8h, v24.8b, v25.8b"),
    "SMLSL2 v.8h": ("aarch64", "smlsl2 v{d}.8h, v24.16b, v25.16b"),
    "SADALP v.4s": ("aarch64", "sadalp v{d}.4s, v24.8h"),
    "SMLAL v.4s (by element)": ("aarch64", "smlal v{d}.4s, v24.4h, v5.h[1]"),
    "SMLAL2 v.4s (by element)": ("aarch64", "smlal2 v{d}.4s, v24.8h, v5.h[1]"),
    "SXTL v.8h (overhead)": ("aarch64", "sxtl v{d}.8h, v24.8b"),
    "ZIP1 v.2d (overhead)": ("aarch64", "zip1 v{d}.2d, v24.2d, v25.2d"),
    "FMLA z.s (by element) SVE": ("aarch64", "fmla z{d}.s, z24.s, z5.s[1]"),
    "SDOT z.s (by element) SVE": ("aarch64", "sdot z{d}.s, z24.b, z5.b[1]"),
    "VMLADAVA.S8": ("m55", "vmladava.s8 r{d}, q6, q7"),
    "VFMA.F32": ("m55", "vfma.f32 q{d}, q6, q7"),
}
PIPE_MARCH = "+sve,+i8mm,+dotprod"

def pipes_table():
    rows = []
    for name, (target, tmpl) in FORMS.items():
        if target == "m55":  # VMLADAVA: even GPRs only (r0..r10 here); VFMA: q0..q5
            regs = [0, 2, 4, 6, 8, 10] if "VMLADAVA" in name else list(range(6))
        else:
            regs = list(range(8, 24))  # the operands: v24/v25 and v5/z5 (indexed: v0-v15, z0-z7)
        text = "".join("\t" + tmpl.format(d=r) + "\n" for r in regs)
        cells = {}
        for cpu in CPUS[target]:
            r = mca_stats(text, target, cpu, "form-" + re.sub(r"\W+", "_", name))
            if "error" in r:
                why = re.search(r"requires: ([\w ]+)", r["error"])
                cells[cpu] = f"n/a (needs {why.group(1)})" if why else "n/a: " + r["error"][:60]
            else:
                per_cyc = len(regs) / r["cyc_per_iter"]
                cells[cpu] = f"{per_cyc:.2f} ({short_pipes(r['pressure'], r['model_used'])})"
        rows.append((name, target, cells))
    return rows

# ------------------------------------------------------------ kernels
def ns_for(compiler):
    return argparse.Namespace(target=None, compiler=compiler, march=None, json=True, verbose=False,
                              cpu=None, iterations=1000, mca_vl=MCA_VL, mca_args=None, loop=None,
                              static=False, list_loops=False, show_asm=False, full=False,
                              vl=args.vl, method="plugin", all_vl=False)

def kernel_rows(driver, target, compiler):
    ns = ns_for(compiler)
    ns.cpu = ",".join(CPUS[target])
    mca = ap.do_mca(ns, driver, target)
    ic = ap.do_icount(ns, driver, target)
    any_r = mca[0]
    region = any_r["region"]
    insns = region_insns(region, target)
    mix, macs = {}, 0
    mis = mac_list(insns)
    for mi in mis:
        if mi:
            mix[mi[0]] = mix.get(mi[0], 0) + 1
            macs += mi[1]
    mac_text = "".join("\t" + s + "\n" for s, mi in zip(insns, mis) if mi)
    with open(os.path.join(os.path.dirname(region), "mac.s"), "w") as fh:
        fh.write(mac_text)
    loads = [load_info(s, target) for s in insns if load_info(s, target)]
    load_text = "".join("\t" + s + "\n" for s in loads)
    if DW:
        with open(os.path.join(os.path.dirname(region), "loads.s"), "w") as fh:
            fh.write(load_text)
    per_cpu = {}
    for r in mca:
        cpu = r["cpu"]
        if "error" in r:
            why = re.search(r"requires: ([\w ]+)", r["error"])
            per_cpu[cpu] = {"na": f"n/a (needs {why.group(1)})" if why else "n/a"}
            continue
        lim = mca_stats(mac_text, target, cpu, os.path.basename(os.path.dirname(region)) + ".mac")
        full_pr = pressure(r["output"])
        # The limit: the busiest pipe when llvm-mca runs the MAC instructions alone. Block RThroughput
        # alone is not enough: llvm-mca 16 under-counts instructions that may use either of two pipes
        # next to ones bound to one of them (N2: SMULL on V0|V1, SMLSL2 on V0, SADALP on V1 gives
        # RThroughput 32 for a 48-cycle mix), so the larger of the two is taken.
        limit = max([lim.get("rthroughput", 0)] + list(lim.get("pressure", {}).values())) or None
        per_cpu[cpu] = {"cyc": r["cyc_per_iter"], "rthru": r["rthroughput"], "limit": limit,
                        "model": r["model_used"], "pressure": short_pipes(full_pr, r["model_used"]),
                        "mac_pressure": short_pipes(lim.get("pressure", {}), r["model_used"]),
                        "busiest": short_pipes(dict([max(full_pr.items(), key=lambda kv: kv[1])]), r["model_used"])
                        if full_pr else ""}
        if DW and loads:  # the same method on the loop's loads alone
            ll = mca_stats(load_text, target, cpu, os.path.basename(os.path.dirname(region)) + ".loads")
            if "error" in ll:
                raise RuntimeError(f"llvm-mca on the loads of {region} ({cpu}): {ll['error'][:200]}")
            per_cpu[cpu]["load_limit"] = max([ll.get("rthroughput", 0)] + list(ll.get("pressure", {}).values())) or None
            per_cpu[cpu]["load_pressure"] = short_pipes(ll.get("pressure", {}), r["model_used"])
    cover = re.search(r"the loop is ([\d.]+%)", any_r["elements_src"])
    return {"driver": driver, "name": os.path.splitext(os.path.basename(driver))[0], "target": target,
            "compiler": compiler, "loop_insns": any_r["loop_insns"], "mix": mix, "macs": macs,
            "sve": any_r.get("loop_sve"), "avg_elems": any_r["elements_per_iter"],
            "cover": cover.group(1) if cover else "?", "notes": any_r["notes"], "cpus": per_cpu, "ic": ic,
            "loads": loads}

drivers = args.drivers or sorted(os.path.join("tools/arm-perf/drivers", f)
                                 for f in os.listdir(os.path.join(here, "drivers"))
                                 if f.startswith(args.family + "_") and f.endswith(".cpp"))
compilers = ["gcc"] + (["clang"] if args.clang else [])
rows, failures = [], []
for d in drivers:
    meta = ap.driver_meta(d)
    for t in meta["targets"]:
        for comp in compilers:
            print(f"gemm.sh: {os.path.basename(d)} [{t}, {comp}]", file=sys.stderr)
            try:
                rows.append(kernel_rows(d, t, comp))
            except (RuntimeError, SystemExit) as e:
                if comp == "gcc":
                    raise
                failures.append(f"{os.path.basename(d)} [{t}, {comp}]: {str(e).splitlines()[0][:160]}")
pipes = pipes_table() if not DW else []

# ------------------------------------------------------------ markdown
def mix_text(mix):
    return " + ".join(f"{n} {k}" for k, n in sorted(mix.items(), key=lambda kv: -kv[1]))

def cell(r, cpu):
    c = r["cpus"].get(cpu)
    if c is None:
        return ""
    if "na" in c:
        return c["na"]
    lim = c["limit"]
    return f"{c['cyc']:.1f} / {lim:.1f} = **{100 * lim / c['cyc']:.0f}%**" if lim else f"{c['cyc']:.1f} / ?"

def icount_text(r):
    ic = r["ic"]
    if len(ic) == 1:
        return f"{ic[0]['per_elem']:.3f}"
    return " / ".join(f"{x['per_elem']:.3f}" for x in ic) + " (VL " + "/".join(str(x["vl"]) for x in ic) + ")"

all_cpus = CPUS["aarch64"] + CPUS["m55"]
models = {}
for r in rows:
    for cpu, c in r["cpus"].items():
        if "model" in c:
            models.setdefault(cpu, c["model"].replace(" model", ""))
rev = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip() or "unknown"
dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--", "kernels/tessera/kernels/gemm", "arch",
                        "include/tessera/quant", "tools/arm-perf/drivers/gemm_*", "tools/arm-perf/drivers/perf_harness.hpp"], capture_output=True, text=True).stdout.split("\n")
dirty = " ".join(l[3:] for l in dirty if l.strip())
if DW:
    dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--", "kernels/tessera/kernels/dwconv", "arch",
                            "include/tessera/quant", "tools/arm-perf/drivers/dwconv_*", "tools/arm-perf/drivers/perf_harness.hpp"],
                           capture_output=True, text=True).stdout.split("\n")
    dirty = " ".join(l[3:] for l in dirty if l.strip())
    cmd = "tools/arm-perf/dwconv.sh" + (" --clang" if args.clang else "")

    def dw_cell(r, cpu):
        c = r["cpus"].get(cpu)
        if c is None:
            return ""
        if "na" in c:
            return c["na"]
        m, l = c["limit"] or 0, c.get("load_limit") or 0
        binds = "MAC" if m > l else "load" if l > m else "MAC = load"
        other = f" (busiest pipe of the loop: {c['busiest']})" if max(m, l) < 0.9 * c["cyc"] and c["busiest"] else ""
        return f"{c['cyc']:.1f} / M {m:.1f} / L {l:.1f} = **{100 * max(m, l) / c['cyc']:.0f}%**, {binds}{other}"

    def layer(r):
        m = re.search(r"(\d+) x (\d+) x (\d+) layer", open(r["driver"]).read())
        return (f"{m.group(1)}x{m.group(2)}x{m.group(3)}, " if m else "") + f"{r['ic'][0]['elements']:,}"

    L = []
    L.append("# Depthwise convolution microkernels on Arm: llvm-mca cycles against the MAC and load limits, "
             "exact QEMU instructions per MAC")
    L.append("")
    L.append(f"Generated by `{cmd}` on {datetime.date.today():%Y-%m-%d} at commit {rev}"
             + (f" plus uncommitted changes to: {dirty}" if dirty else "") + " (llvm-mca-16, GCC 12.2"
             + (", clang-16" if args.clang else "") + ", QEMU 7.2).")
    L.append("Call measured: 3x3 depthwise, stride 1, padding 1, over the layer in the row (H x W x C), as each "
             "driver `tools/arm-perf/drivers/dwconv_*.cpp` describes (Neon: one `K::run` over all pixels through the "
             "indirection buffer; SVE/Helium: one call per output row), checked bit for bit after the measured call.")
    L.append("")
    L.append("| kernel | target, compiler | layer, MACs per call | hot loop: instructions, MAC mix, loads | MACs/iter | "
             + " | ".join(f"`{c}` ({models.get(c, '?')} model)" for c in all_cpus)
             + " | QEMU instructions/MAC (exact) |")
    L.append("|---|---|---|---|---|" + "---|" * len(all_cpus) + "---|")
    for r in rows:
        loop = f"{r['loop_insns']}: {mix_text(r['mix'])}; {len(r['loads'])} loads"
        macs = f"{r['macs']:g}" + (" (VL128)" if r["sve"] else "")
        L.append(f"| {r['name']} | {r['target']}, {r['compiler']} | {layer(r)} | {loop} | {macs} | "
                 + " | ".join(dw_cell(r, c) if c in CPUS[r["target"]] else "" for c in all_cpus)
                 + f" | {icount_text(r)} |")
    L.append("")
    L.append("Core cells: llvm-mca cycles per hot-loop iteration / M = the core's MAC limit for the loop's MAC mix / "
             "L = its load limit for the loop's loads = **the larger limit as a percentage of the cycles**, and "
             "which limit binds (the larger one); below 90% the busiest pipe of the whole loop is named (llvm-mca "
             "resource cycles per iteration: vector ALU work of the epilogue, ZIP, SXTL, UADDW, or dependency chains "
             "when it too is below the cycles). n/a (needs X): the core lacks the instruction (llvm-mca rejects it).")
    L.append("")
    L.append("- cycles/iter: llvm-mca's Total Cycles / Iterations (1000 iterations) of the innermost loop that executes "
             "the most instructions under QEMU (`armperf.py mca`), `region.s` in the build directory.")
    L.append("- MAC limit (M): llvm-mca on the loop's MAC instructions alone (`mac.s`, same operands), the busiest "
             "pipe's cycles per iteration (or Block RThroughput if larger), as in `results-gemm.md`. The MAC mix: "
             "FMLA/FMAD, SMLAL(2)/SMULL(2), SDOT, MLA/MAD, VMULLB/VMULLT, VFMA, and the int32 accumulate steps UADDW/SADDW(2) "
             "(of the int16 SMLAL/SMULL products) and Helium VADD.I32 of a VMULLB/T product (0 MACs themselves).")
    L.append("- Load limit (L): the same method on the loop's load instructions alone (`loads.s`: LDR/LDP/LD1*, "
             "VLDR*; Helium VPT predication dropped), which includes the integer-pipe cost of post-increment "
             "writeback where the model charges it. Depthwise loads one weight vector and one input vector per "
             "MAC vector unless weights stay in registers, so L is the expected bound.")
    L.append("- MACs/iter: from the loop's instructions (FMLA .4s / FMAD z.s = 4, SMLAL/SMULL .8h = 8, .4s = 4, "
             "SDOT z.s = 16, MLA/MAD z.s = 4, VMULLB/VMULLT.S16 = 4, VFMA.F32 = 4; SVE at VL=128).")
    L.append("- `cortex-a76` and `neoverse-n1` use llvm-mca 16's **Cortex-A57** model, `neoverse-v1` its **Neoverse-N2** "
             "model (128-bit pipes; V1's 2x256-bit SVE pipes are not modelled). A55 numbers are an "
             "in-order model. llvm-mca has no caches: every load hits L1.")
    L.append(f"- instructions/MAC: exact dynamic count of the whole call (QEMU insn plugin) / the MACs per call; SVE "
             f"at VL {args.vl.replace(',', '/')} bits.")
    L.append("")
    L.append("Hot loop details (share of the kernel's dynamic instructions; llvm-mca resource pressure per iteration "
             "of the whole loop, of the MAC mix alone and of the loads alone, on each model):")
    L.append("")
    for r in rows:
        extra = f"; average MACs per loop-header execution {r['avg_elems']:.1f} (MACs outside the loop: " \
                "channel/row remainders)" if abs(r["avg_elems"] - r["macs"]) > 0.5 else ""
        lm = {}
        for ld in r["loads"]:
            k = ld.split(None, 1)[0].lower()
            lm[k] = lm.get(k, 0) + 1
        cov = (f"the loop is {r['cover']} of the call's instructions" if r["cover"] != "?" else
               "the loop's share not measured (armperf counted 0 executions of its header label; "
               "`mca.sh DRIVER --list-loops` shows its executed instructions)")
        L.append(f"- {r['name']} [{r['target']}, {r['compiler']}]: {cov}"
                 f"{extra}; loads: " + ", ".join(f"{n} {k.upper()}" for k, n in lm.items()) + ".")
        seen = {}
        for cpu, c in r["cpus"].items():
            if "pressure" in c:
                seen.setdefault((c["model"], c["pressure"], c["mac_pressure"], c.get("load_pressure", "")), []).append(cpu)
        for (model, pr, mpr, lpr), cpus in seen.items():
            L.append(f"  - {', '.join(cpus)} ({model}): loop {pr}; MAC mix alone {mpr}; loads alone {lpr}")
        for n in r["notes"]:
            if "loop-elements=" not in n:
                L.append(f"  - note: {n}")
    for f in failures:
        L.append(f"- not measured: {f}")
    L.append("")
    L.append(f"Command: `{cmd}`. Every driver: `tools/arm-perf/mca.sh DRIVER --cpu cortex-a55,cortex-a76,neoverse-n1,"
             "neoverse-v1 --full` and `tools/arm-perf/icount.sh DRIVER` show the same figures with llvm-mca's whole "
             "report; `mac.s` and `loads.s` next to `region.s` are the blocks behind M and L.")
    open(args.out, "w").write("\n".join(L) + "\n")
    print("\n".join(L))
    sys.exit(0)
cmd = "tools/arm-perf/gemm.sh" + (" --clang" if args.clang else "")
L = []
L.append("# GEMM microkernels on Arm: llvm-mca cycles against the MAC limit, exact QEMU instructions per MAC")
L.append("")
L.append(f"Generated by `{cmd}` on {datetime.date.today():%Y-%m-%d} at commit {rev}"
         + (f" plus uncommitted changes to: {dirty}" if dirty else "") + " (llvm-mca-16, GCC 12.2"
         + (", clang-16" if args.clang else "") + ", QEMU 7.2).")
L.append("Call measured: one `K::run` at (M, N, K) = (196, 128, 128) = 3,211,264 MACs, per-channel output stage "
         "(int8: input zero point -5; 16x8: int64 bias and accumulator), checked against a plain reference loop "
         "(`drivers/gemm_qs8_common.hpp`, `drivers/gemm_f32_common.hpp`).")
L.append("")
L.append("| kernel | target, compiler | hot loop: instructions, MAC mix | MACs/iter | "
         + " | ".join(f"`{c}` ({models.get(c, '?')} model)" for c in all_cpus)
         + " | QEMU instructions/MAC (exact) |")
L.append("|---|---|---|---|" + "---|" * len(all_cpus) + "---|")
for r in rows:
    loop = f"{r['loop_insns']}: {mix_text(r['mix'])}"
    macs = f"{r['macs']:g}" + (" (VL128)" if r["sve"] else "")
    L.append(f"| {r['name']} | {r['target']}, {r['compiler']} | {loop} | {macs} | "
             + " | ".join(cell(r, c) if c in CPUS[r["target"]] else "" for c in all_cpus) + f" | {icount_text(r)} |")
L.append("")
L.append("Core cells: llvm-mca cycles per hot-loop iteration / the core's MAC limit for the loop's MAC mix = "
         "**percentage of the limit**. n/a (needs X): the core lacks the instruction (llvm-mca rejects it).")
L.append("")
L.append("- cycles/iter: llvm-mca's Total Cycles / Iterations (1000 iterations) of the innermost loop that executes "
         "the most instructions under QEMU (`armperf.py mca`), `region.s` in the build directory.")
L.append("- MAC limit: the cycles the core needs just to issue the loop's MAC instructions on its pipes: llvm-mca "
         "on those instructions alone (`mac.s`, same operands), the busiest pipe's cycles per iteration (or Block "
         "RThroughput if larger; RThroughput alone under-counts mixes of one-pipe and either-pipe instructions). "
         "The MAC mix: FMLA, SDOT, SMMLA, SMULL/SMLSL2/SMLAL(2), VMLADAVA, VFMA, and SADALP (the accumulate step of "
         "the SMULL/SMLSL2 scheme, 0 MACs itself). Not in the mix: loads, ZIP, SXTL, EOR, pointer and loop updates.")
L.append("- MACs/iter: from the loop's instructions (SDOT .4s = 16, SMMLA = 32, FMLA .4s = 4, SMULL/SMLSL2 .8h = 8, "
         "SMLAL .4s = 4, VMLADAVA.S8 = 16, VFMA.F32 = 4; SVE at VL=128).")
L.append("- `cortex-a76` and `neoverse-n1` use llvm-mca 16's **Cortex-A57** model, `neoverse-v1` its **Neoverse-N2** "
         "model (128-bit pipes; V1's 2x256-bit SVE pipes are not modelled). A55 numbers are an in-order model: "
         "they include dependency and dual-issue stalls.")
L.append(f"- instructions/MAC: exact dynamic count of the whole call (QEMU insn plugin) / 3,211,264; SVE at VL "
         f"{args.vl.replace(',', '/')} bits.")
L.append("")
L.append("Hot loop details (share of the kernel's dynamic instructions; llvm-mca resource pressure per iteration "
         "of the whole loop on each model):")
L.append("")
for r in rows:
    extra = f"; average MACs per loop-header execution {r['avg_elems']:.1f} (MACs outside the loop: peeled first "\
            "group, K/M/N remainders)" if abs(r["avg_elems"] - r["macs"]) > 0.5 else ""
    L.append(f"- {r['name']} [{r['target']}, {r['compiler']}]: the loop is {r['cover']} of the call's instructions{extra}.")
    seen = {}
    for cpu, c in r["cpus"].items():
        if "pressure" in c:
            seen.setdefault((c["model"], c["pressure"], c["mac_pressure"]), []).append(cpu)
    for (model, pr, mpr), cpus in seen.items():
        L.append(f"  - {', '.join(cpus)} ({model}): loop {pr}; MAC mix alone {mpr}")
    for n in r["notes"]:
        if "loop-elements=" not in n:
            L.append(f"  - note: {n}")
for f in failures:
    L.append(f"- not measured: {f}")
L.append("")
L.append("## Per-core MAC instruction throughput, as llvm-mca 16's models see them")
L.append("")
L.append("Instructions per cycle from llvm-mca on a loop of only that instruction (16 independent accumulators v8-v23 on "
         "AArch64, 6 on the M55; `-iterations=1000`), and the pipes the model puts it on (cycles of each "
         "resource per iteration of the 16/6-instruction block). Files: `$TESSERA_PERF_BUILD/gemm-pipes/`.")
L.append("")
L.append("| instruction | " + " | ".join(f"`{c}` ({models.get(c, '?')} model)" for c in all_cpus) + " |")
L.append("|---|" + "---|" * len(all_cpus))
for name, target, cells in pipes:
    L.append(f"| {name} | " + " | ".join(cells.get(c, "") for c in all_cpus) + " |")
L.append("")
L.append(f"Command: `{cmd}`. Every driver: `tools/arm-perf/mca.sh DRIVER --cpu cortex-a55,cortex-a76,neoverse-n1,"
         "neoverse-v1 --full` and `tools/arm-perf/icount.sh DRIVER` show the same figures with llvm-mca's whole report.")
open(args.out, "w").write("\n".join(L) + "\n")
print("\n".join(L))
PYEOF
