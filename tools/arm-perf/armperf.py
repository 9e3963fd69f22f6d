#!/usr/bin/python3
"""Deterministic Arm performance measures without Arm hardware (see tools/arm-perf/README.md).

  armperf.py mca    DRIVER.cpp [--target aarch64|m55] [--cpu ...] [--loop N] [--list-loops] ...
  armperf.py icount DRIVER.cpp [--target aarch64|m55] [--vl 128,256,512] [--method plugin|log|both]
  armperf.py table  DRIVER.cpp... [--cpu ...] [--vl ...]      markdown rows of both measures

A driver is a small .cpp using drivers/perf_harness.hpp: it defines the measured wrapper
`tessera_perf_kernel()` and carries a `// arm-perf: targets=... [loop-elements=...] [march=...]
[cflags=...] [unit=...]` line.

mca:    compile to assembly (-S), build the control-flow graph of tessera_perf_kernel, find its
        innermost natural loops, profile them under QEMU (exact executions of every instruction of
        the kernel) and take the loop that executes the most instructions (or --loop N, or the
        region between `LLVM-MCA-BEGIN`/`END` markers); elements/iteration = elements / executions
        of the loop header. Run llvm-mca-16 per -mcpu: cycles/iteration and cycles/element.
icount: the same static (-no-pie) binary under qemu-aarch64 (per SVE vector length) or
        qemu-system-arm: QEMU's insn plugin (built by build-plugin.sh) matching the marker instruction
        of the two marker functions, or the `-singlestep -d nochain,exec` log streamed through a FIFO
        into awk counting PCs inside tessera_perf_kernel's nm range. Exact, run-to-run identical.
"""
import argparse
import functools
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BUILD = os.environ.get("TESSERA_PERF_BUILD", os.path.join(ROOT, "build", "arm-perf"))
LLVM_MCA = os.environ.get("LLVM_MCA", "llvm-mca-16")
FUNC = "tessera_perf_kernel"

# -mcpu name -> (triple, extra -mattr, note). The scheduling model llvm-mca 16 really uses is read
# from its report (resource-name prefix, MODEL_PREFIX); checked: cortex-a76, cortex-a78, cortex-x1
# and neoverse-n1 -> Cortex-A57 model; neoverse-v1/v2, cortex-x2, cortex-a710 -> Neoverse-N2 model;
# cortex-a510 -> Cortex-A55 model; cortex-m85 -> Cortex-M7 model (rejects MVE).
MCA_CPUS = {
    "cortex-a55": ("aarch64", None, "in-order, dual-issue; no SVE"),
    "cortex-a510": ("aarch64", None, "A510 is NOT modelled (A55 model; no SVE)"),
    "cortex-a76": ("aarch64", None, "A76 is NOT modelled: 1 128-bit FMLA/cycle instead of 2"),
    "cortex-a78": ("aarch64", None, "A78 is NOT modelled"),
    "neoverse-n1": ("aarch64", None, "N1 is NOT modelled: 1 128-bit FMLA/cycle instead of 2"),
    "cortex-x1": ("aarch64", None, "X1 is NOT modelled"),
    "cortex-a710": ("aarch64", None, ""),
    "neoverse-n2": ("aarch64", None, "128-bit SVE2, two vector pipes V0/V1"),
    "neoverse-v1": ("aarch64", None, "V1's own 256-bit SVE pipes are NOT modelled; V1 has SVE but no SVE2"),
    "neoverse-v2": ("aarch64", None, "V2 is NOT modelled"),
    "cortex-x2": ("aarch64", None, "X2 is NOT modelled"),
    "cortex-m55": ("thumbv8.1m.main-none-eabi", "+mve,+mve.fp", "in-order, Helium in beats"),
    "cortex-m85": ("thumbv8.1m.main-none-eabi", None, "M85 is NOT modelled (M7 model rejects MVE)"),
}
MODEL_PREFIX = {"CortexA55": "Cortex-A55", "A57": "Cortex-A57", "N2": "Neoverse-N2", "M55": "Cortex-M55",
                "M7": "Cortex-M7", "A64FX": "A64FX", "CortexA510": "Cortex-A510", "A53": "Cortex-A53"}
DEFAULT_CPUS = {"aarch64": ["cortex-a55", "neoverse-n2", "neoverse-v1"], "m55": ["cortex-m55"]}
MARK = {"aarch64": "hint #0x2a", "m55": "mov r8, r8"}  # as QEMU's disassemblers print them


def die(msg):
    sys.exit(f"armperf: {msg}")


def run(cmd, check_ok=False, **kw):
    """Run a command (list), echoing it under --verbose; raise with its stderr on failure
    (unless check_ok: then the caller looks at returncode)."""
    if VERBOSE:
        print("+ " + " ".join(shlex.quote(c) for c in cmd), file=sys.stderr)
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0 and not check_ok:
        raise RuntimeError(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout}{r.stderr}")
    return r


VERBOSE = False


# ---------------------------------------------------------------- driver metadata and builds
def driver_meta(path):
    meta = {"targets": "aarch64", "cflags": "", "unit": "element"}
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*//\s*arm-perf:\s*(.*)", line)
            if m:
                for tok in shlex.split(m.group(1)):
                    k, _, v = tok.partition("=")
                    meta[k] = v
    meta["targets"] = meta["targets"].split(",")
    return meta


def loop_elements(meta, vl_bits):
    """Elements one loop iteration handles: an integer or `vl/N` (VL bits / N, for SVE)."""
    le = meta.get("loop-elements", "1")
    m = re.fullmatch(r"vl/(\d+)", le)
    return vl_bits / int(m.group(1)) if m else float(le)


def m55_cxx_system_includes():
    """arm-none-eabi-g++'s C++/newlib include dirs for the M55 multilib (clang needs them)."""
    r = run(["arm-none-eabi-g++", "-mcpu=cortex-m55", "-mfloat-abi=hard", "-mthumb", "-xc++", "-E", "-v",
             os.devnull])
    inc, on = [], False
    for line in r.stderr.splitlines():
        if line.startswith("#include <...>"):
            on = True
        elif line.startswith("End of search list"):
            on = False
        elif on:
            d = os.path.normpath(line.strip())
            if "/lib/gcc/" not in d:  # skip GCC's own builtin headers (clang has its own)
                inc.append(d)
    return inc


DEFAULT_MARCH = "armv8.6-a+sve2"


def compiler_cmd(target, compiler, meta, march):
    """Compiler driver + target flags (used to compile to -S and to assemble that .s)."""
    if target == "aarch64":
        arch = [f"-march={march or meta.get('march') or DEFAULT_MARCH}"]
        cxx = ["aarch64-linux-gnu-g++"] if compiler == "gcc" else ["clang++-16", "--target=aarch64-linux-gnu"]
    elif target == "m55":
        arch = ["-mcpu=cortex-m55", "-mfloat-abi=hard", "-mthumb", "-fno-exceptions", "-fno-rtti"]
        if compiler == "gcc":
            cxx = ["arm-none-eabi-g++"]
        else:  # clang-16 with GCC's newlib/libstdc++ headers; -fshort-enums to link with GCC's newlib
            cxx = ["clang++-16", "--target=arm-none-eabi", "-fshort-enums", "-nostdinc++"]
            for d in m55_cxx_system_includes():
                cxx += ["-isystem", d]
    else:
        die(f"unknown target {target}")
    if compiler not in ("gcc", "clang"):
        die(f"unknown compiler {compiler} (gcc or clang)")
    return cxx + arch


def build_dir(driver, target, compiler, march):
    name = os.path.splitext(os.path.basename(driver))[0]
    tag = f"{target}-{compiler}" + (f"-{march}" if march else "")
    d = os.path.join(BUILD, f"{name}.{tag}")
    os.makedirs(d, exist_ok=True)
    return d


def drop_fpu_directive(asm):
    """clang-16 writes `.fpu fpv5-d16` after `.cpu cortex-m55`, and that directive leaves its own
    assembler without MVE's floating-point instructions, so its -S output with VMAXNM.F32 / VFMA.F32
    on Q registers fails to assemble ("instruction requires: mve.fp"; `.arch_extension mve.fp` is
    not accepted). `.cpu cortex-m55` alone enables the core's whole FPU and MVE: comment the
    `.fpu` lines out."""
    with open(asm) as f:
        text = f.read()
    fixed = re.sub(r"^(\s*)(\.fpu\s+\S+)$", r"\1@ \2 (armperf: dropped, see drop_fpu_directive)", text, flags=re.M)
    if fixed != text:
        with open(asm, "w") as f:
            f.write(fixed)


def build(driver, target, compiler, meta, march=None):
    """driver.cpp -> kernel.s (-O2) -> kernel.o (assembled from that very .s, keeping local labels
    with -Wa,-L so that loop labels have addresses) -> static, non-PIE prog.elf.
    Returns (asm path, exe path, commands)."""
    d = build_dir(driver, target, compiler, march)
    asm, obj, exe = (os.path.join(d, f) for f in ("kernel.s", "kernel.o", "prog.elf"))
    cxx = compiler_cmd(target, compiler, meta, march)
    incs = ["-I", os.path.join(ROOT, "include"), "-I", os.path.join(ROOT, "arch"),
            "-I", os.path.join(ROOT, "kernels")]
    cmds = [cxx + ["-std=c++20", "-O2"] + incs + shlex.split(meta.get("cflags", "")) + ["-S", driver, "-o", asm],
            cxx + ["-c", "-Wa,-L", asm, "-o", obj]]
    if target == "aarch64":
        cmds.append(["aarch64-linux-gnu-g++", "-static", "-no-pie", "-Wl,--discard-none", obj, "-o", exe])
    else:
        cpu = ["-mcpu=cortex-m55", "-mfloat-abi=hard", "-mthumb"]
        start = os.path.join(d, "startup.o")
        cmds.append(["arm-none-eabi-gcc"] + cpu + ["-O2", "-c", os.path.join(ROOT, "cross", "m55", "startup.c"),
                                                   "-o", start])
        cmds.append(["arm-none-eabi-g++"] + cpu + [obj, start, "--specs=rdimon.specs",
                     "-T", os.path.join(ROOT, "cross", "m55", "mps3_an547.ld"), "-Wl,--gc-sections", "-Wl,--discard-none", "-o", exe])
    for i, c in enumerate(cmds):
        run(c)
        if i == 0 and target != "aarch64" and compiler == "clang":
            drop_fpu_directive(asm)
    symbol_table.cache_clear()
    nm_range.cache_clear()
    return asm, exe, cmds


# ---------------------------------------------------------------- loop extraction from -S
COND = "eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le|al"
BRANCH_RE = re.compile(rf"^(b|b\.?({COND})|cbn?z|tbn?z|le|letp|wls|wlstp)(\.[nw])?$", re.I)
VEC_RE = re.compile(r"\b(v\d+\.\d*[bhsdq]|[qz]\d+\b|z\d+\.[bhsdq]|p\d+(/[mz]|\.[bhsd])?)\b", re.I)


def function_body(asm_text, func, target):
    """Entries of `func` in layout order: ('label', name), ('insn', text) or ('mark', BEGIN|END, name)
    for `LLVM-MCA-BEGIN/END` comments. Directives and comments are dropped."""
    lines = asm_text.splitlines()
    start = None
    for i, l in enumerate(lines):
        if re.match(rf"^{re.escape(func)}:", l):
            start = i + 1
            break
    if start is None:
        die(f"{func}: not found in the assembly")
    comment = "@" if target == "m55" else "//"
    body = []
    for l in lines[start:]:
        s = l.strip()
        if re.match(rf"\.size\s+{re.escape(func)}\b", s) or s.startswith(".Lfunc_end"):
            break
        m = re.search(r"LLVM-MCA-(BEGIN|END)\s*(\S*)", s)
        if m:
            body.append(("mark", m.group(1), m.group(2)))
            continue
        s = s.split(comment, 1)[0].strip()
        if not s:
            continue
        m = re.match(r"^([A-Za-z_.$][\w.$]*):\s*(.*)$", s)
        if m:
            body.append(("label", m.group(1)))
            s = m.group(2).strip()
            if not s:
                continue
        if s.startswith(".") or s.startswith("#") or s.startswith(";"):  # directive (.p2align, .word, ...)
            continue
        body.append(("insn", s))
    return body


def branch_target(insn, labels):
    """The local label a branch instruction jumps to, else None."""
    parts = insn.split(None, 1)
    if not BRANCH_RE.match(parts[0]) or len(parts) < 2:
        return None
    tgt = parts[1].split(",")[-1].strip()
    return tgt if tgt in labels else None


def is_return(insn):
    """Instructions after which control never falls through (returns, tail calls, indirect jumps)."""
    p = insn.split(None, 1)
    mn, ops = p[0].lower(), (p[1].lower() if len(p) > 1 else "")
    if mn in ("ret", "br", "bx", "retaa", "retab", "udf", "brk"):
        return True
    if mn.startswith("pop") or mn.startswith("ldm") or mn.startswith("ldr"):
        return bool(re.search(r"\bpc\b", ops.split(",")[0] if mn.startswith("ldr") else ops))
    return False


def build_cfg(body):
    """Basic blocks (lists of entry indices) and successor lists."""
    labels = {e[1] for e in body if e[0] == "label"}
    blocks, cur = [], []
    for i, e in enumerate(body):
        if e[0] == "label" and any(body[k][0] == "insn" for k in cur):
            blocks.append(cur)
            cur = []
        cur.append(i)
        if e[0] == "insn" and (branch_target(e[1], labels) is not None or is_return(e[1])
                               or BRANCH_RE.match(e[1].split()[0])):
            blocks.append(cur)
            cur = []
    if cur:
        blocks.append(cur)
    block_of = {}
    for b, blk in enumerate(blocks):
        for i in blk:
            if body[i][0] == "label":
                block_of[body[i][1]] = b
    succ = []
    for b, blk in enumerate(blocks):
        insns = [body[i][1] for i in blk if body[i][0] == "insn"]
        last = insns[-1] if insns else ""
        out = []
        if last:
            t = branch_target(last, labels)
            mn = last.split()[0].lower()
            uncond = mn in ("b", "b.n", "b.w")
            if t is not None:
                out.append(block_of[t])
            if not (is_return(last) or uncond):  # `b` to a non-local symbol is a tail call
                out.append(b + 1)
        else:
            out.append(b + 1)
        succ.append([x for x in out if x < len(blocks)])
    return blocks, succ


def natural_loops(blocks, succ):
    """{header block: set of blocks} of the natural loops (back edge = edge to a dominator)."""
    n = len(blocks)
    pred = [[] for _ in range(n)]
    for u in range(n):
        for v in succ[u]:
            pred[v].append(u)
    reach, stack = {0}, [0]
    while stack:
        u = stack.pop()
        for v in succ[u]:
            if v not in reach:
                reach.add(v)
                stack.append(v)
    dom = {u: set(reach) for u in reach}
    dom[0] = {0}
    changed = True
    while changed:
        changed = False
        for u in sorted(reach - {0}):
            ps = [dom[p] for p in pred[u] if p in reach]
            new = set.intersection(*ps) | {u} if ps else {u}
            if new != dom[u]:
                dom[u], changed = new, True
    per_edge = []  # (header, natural loop of one back edge)
    for u in sorted(reach):
        for h in succ[u]:
            if h in dom[u]:  # back edge u -> h
                body, stack = {h, u}, [u]
                while stack:
                    x = stack.pop()
                    if x == h:
                        continue
                    for p in pred[x]:
                        if p in reach and p not in body:
                            body.add(p)
                            stack.append(p)
                per_edge.append((h, body))
    headers = {h for h, _ in per_edge}
    # Back edges to one header form one loop (a `continue`), unless their union would swallow another
    # loop's header: GCC rotates outer loops so that the outer latch also jumps to the inner header.
    loops = {}
    for h, body in sorted(per_edge, key=lambda hb: len(hb[1])):
        if h not in loops:
            loops[h] = set(body)
        elif not ((loops[h] | body) & (headers - {h})):
            loops[h] |= body
    return loops


def find_loops(body):
    """Innermost natural loops, each as (sorted entry indices, blocks, header), in layout order."""
    blocks, succ = build_cfg(body)
    loops = natural_loops(blocks, succ)
    inner = [h for h, bs in loops.items() if not any(h2 != h and h2 in bs for h2 in loops)]
    out = []
    for h in sorted(inner):
        bs = sorted(loops[h])
        head = next((body[i][1] for i in blocks[h] if body[i][0] == "label"), None)
        out.append(([i for b in bs for i in blocks[b]], bs, head))
    return out, loops


def region_text(body, idx, target, blocks_sorted=None):
    """Self-contained assembly for llvm-mca: the region's labels and instructions; branches to
    labels outside the region are pointed at the region's first label (llvm-mca ignores control
    flow: it repeats the block as straight-line code). Returns (text, warnings)."""
    inside = {body[i][1] for i in idx if body[i][0] == "label"}
    head = next((body[i][1] for i in idx if body[i][0] == "label"), None)
    out, warn = [], []
    if head is None:
        head = ".Larmperf_head"
        out.append(f"{head}:")
    labels_all = {x[1] for x in body if x[0] == "label"}
    if target == "m55":
        out = ["\t.syntax unified", "\t.thumb"] + out
    if blocks_sorted and any(b2 != b1 + 1 for b1, b2 in zip(blocks_sorted, blocks_sorted[1:])):
        warn.append("the loop body is not contiguous: its blocks are concatenated in layout order")
    for i in idx:
        ent = body[i]
        if ent[0] == "label":
            out.append(f"{ent[1]}:")
        elif ent[0] == "insn":
            insn = ent[1]
            if target == "m55" and insn.split()[0].lower() in ("le", "letp"):
                # llvm-mca 16 rejects the low-overhead-loop end ("unsupported instruction"); on the
                # M55 the loop-branch cache makes LE/LETP free after the first iteration.
                warn.append(f"dropped `{insn}` (low-overhead loop end: free after the first iteration)")
                continue
            t = branch_target(insn, labels_all)
            if t is not None and t not in inside:
                insn = insn[: insn.rfind(t)] + head
            out.append("\t" + insn)
    nbr = sum(1 for i in idx if body[i][0] == "insn" and branch_target(body[i][1], labels_all) is not None)
    if nbr > 1:
        warn.append(f"{nbr - 1} branch(es) inside the loop besides the back-branch: llvm-mca executes "
                    "every block of the region once per iteration (check that this is the hot path)")
    return "\n".join(out) + "\n", warn


def external_calls(body):
    """Symbols the function calls or tail-calls (the kernel was not inlined into the wrapper)."""
    labels = {e[1] for e in body if e[0] == "label"}
    out = set()
    for e in body:
        if e[0] == "insn":
            p = e[1].split()
            if len(p) == 2 and p[0].lower() in ("bl", "blx", "b", "b.w") and p[1] not in labels \
                    and not re.match(r"^[a-z]+\d*$", p[1].lower()):
                out.add(p[1])
    return out


SVE_RE = re.compile(r"\bz\d+\.[bhsdq]\b|\bp\d+/[zm]\b|^(whilel[et]|whilel[os]|ptrue|cnt[bhwd]|inc[bhwd]|dec[bhwd])\b")


def uses_sve(body):
    """Whether the function has SVE instructions (its count then depends on the vector length)."""
    return any(e[0] == "insn" and SVE_RE.search(e[1]) for e in body)


def count_insns(body, idx):
    return sum(1 for i in idx if body[i][0] == "insn")


def count_vec(body, idx):
    return sum(1 for i in idx if body[i][0] == "insn" and VEC_RE.search(body[i][1]))


def mca_markers(body):
    """Entry indices between `LLVM-MCA-BEGIN` and `LLVM-MCA-END` comments, else None."""
    marks = [i for i, e in enumerate(body) if e[0] == "mark"]
    if not marks:
        return None
    b = next(i for i in marks if body[i][1] == "BEGIN")
    en = next(i for i in marks if i > b and body[i][1] == "END")
    return list(range(b + 1, en)), f"LLVM-MCA markers {body[b][2] or ''}".strip()


# ---------------------------------------------------------------- llvm-mca
def mca_one(region_file, cpu, iterations=1000, extra=None):
    triple, mattr, _ = MCA_CPUS.get(cpu, ("aarch64", None, "?"))
    cmd = [LLVM_MCA, f"-mtriple={triple}", f"-mcpu={cpu}", f"-iterations={iterations}"]
    if mattr:
        cmd.append(f"-mattr={mattr}")
    cmd += (extra or []) + [region_file]
    r = run(cmd, check_ok=True)
    # llvm-mca 16 reports an instruction the -mcpu lacks ("instruction requires: sve2") as an error
    # but drops it and exits 0 with a report on the rest: treat every "error:" as a failure.
    if r.returncode != 0 or "error:" in r.stderr:
        err = r.stderr.strip().splitlines() or ["?"]
        first = next((l for l in err if "error" in l), err[0])
        first = re.sub(r"^.*?error:\s*", "", first).strip()
        if first.startswith("instruction requires"):
            first = f"{cpu} lacks it ({first})"
        return {"cpu": cpu, "error": first, "cmd": cmd}
    res = {"cpu": cpu, "cmd": cmd, "output": r.stdout}
    m = re.search(r"^Resources:\n\[[\d.]+\]\s+-\s+([A-Za-z0-9]+?)Unit", r.stdout, re.M)
    res["model_used"] = MODEL_PREFIX.get(m.group(1), m.group(1)) + " model" if m else "?"
    for key, name in (("Iterations", "iterations"), ("Instructions", "instructions"),
                      ("Total Cycles", "cycles"), ("Block RThroughput", "rthroughput"), ("IPC", "ipc")):
        m = re.search(rf"^{key}:\s+([\d.]+)", r.stdout, re.M)
        if m:
            res[name] = float(m.group(1))
    res["cyc_per_iter"] = res["cycles"] / res["iterations"]
    res["insn_per_iter"] = res["instructions"] / res["iterations"]
    return res


@functools.lru_cache(maxsize=None)
def symbol_table(target, exe):
    """{name: address} of every symbol (local loop labels included, thanks to -Wa,-L)."""
    nm = "aarch64-linux-gnu-nm" if target == "aarch64" else "arm-none-eabi-nm"
    out = {}
    for line in run([nm, exe]).stdout.splitlines():
        p = line.split()
        if len(p) == 3:
            out.setdefault(p[2], int(p[0], 16) & ~1)  # Thumb function symbols carry bit 0
    return out


def do_mca(args, driver, target):
    meta = driver_meta(driver)
    asm, exe, cmds = build(driver, target, args.compiler, meta, args.march)
    with open(asm) as f:
        body = function_body(f.read(), FUNC, target)
    inner, loops = find_loops(body)
    vl = args.mca_vl if target == "aarch64" else None
    calls = external_calls(body)
    notes = []
    if calls:
        notes.append(f"{FUNC} calls {', '.join(sorted(calls))}: not inlined, the loop may be elsewhere")
    # Dynamic profile (exact): per loop, iterations (header executions) and executed instructions.
    hits, dyn, total, elements = None, None, None, None
    if not args.static and inner:
        total, hist, elements, _ = exec_log(target, exe, vl, histogram=True)
        addr = entry_addresses(target, exe, body)
        if addr is None:
            notes.append("could not map the assembly to addresses: no dynamic profile")
        else:
            syms = symbol_table(target, exe)
            hits = [hist.get(syms.get(h), 0) for _, _, h in inner]
            dyn = [sum(hist.get(addr.get(i), 0) for i in idx if body[i][0] == "insn") for idx, _, _ in inner]
    if args.list_loops:
        print(f"{driver} [{target}, {args.compiler}]: {len(loops)} loops, {len(inner)} innermost:")
        for k, (idx, _, h) in enumerate(inner):
            dyn_s = f", {hits[k]} iterations, {dyn[k]} of the kernel's {total} executed instructions" \
                if hits else ""
            print(f"  --loop {k} ({h}): {count_insns(body, idx)} instructions, {count_vec(body, idx)} vector{dyn_s}")
            for i in idx:
                print(("  " if body[i][0] == "insn" else "") + "    " + body[i][1])
        return []
    k = None
    marked = mca_markers(body) if args.loop is None else None
    if marked:
        idx, how = marked
        blks = None
    else:
        if not inner:
            die(f"no loop found in {FUNC}" + (f": it calls {', '.join(sorted(calls))} (not inlined; use "
                                              "`flatten` and call the kernel directly in the wrapper)" if calls else
                                              " (straight-line kernel? add LLVM-MCA-BEGIN/END markers)"))
        if args.loop is not None:
            if not 0 <= args.loop < len(inner):
                die(f"--loop {args.loop}: only {len(inner)} innermost loops (see --list-loops)")
            k, how = args.loop, f"innermost loop #{args.loop} (--loop)"
        elif hits:
            k = max(range(len(inner)), key=lambda j: dyn[j])
            how = f"innermost loop #{k} of {len(inner)} (most executed instructions)"
        else:
            k = max(range(len(inner)), key=lambda j: (count_vec(body, inner[j][0]), count_insns(body, inner[j][0])))
            how = f"innermost loop #{k} of {len(inner)} (most vector instructions; static guess)"
        idx, blks, _ = inner[k]
    text, warns = region_text(body, idx, target, blks)
    notes += warns
    region = os.path.join(os.path.dirname(asm), "region.s")
    with open(region, "w") as f:
        f.write(text)
    n_insns = count_insns(body, idx)
    meta_elems = loop_elements(meta, vl or 128) if "loop-elements" in meta else None
    if k is not None and hits and hits[k]:
        elems = elements / hits[k]
        src = f"measured: {elements} elements / {hits[k]} iterations"
        cover = dyn[k] / total
        src += f"; the loop is {cover:.1%} of the kernel's {total} dynamic instructions"
        if cover < 0.5:
            notes.append(f"the analysed loop executes only {cover:.1%} of the kernel's instructions")
        if meta_elems and abs(meta_elems - elems) > 1e-9:
            notes.append(f"loop-elements={meta['loop-elements']} in the driver, but {elems:g} measured "
                         "(auto-vectorized? remainder loop?)")
    elif meta_elems:
        elems, src = meta_elems, f"from the driver's loop-elements={meta['loop-elements']}"
    else:
        elems, src = 1.0, "unknown: assumed 1"
    cpus = args.cpu.split(",") if args.cpu else DEFAULT_CPUS[target]
    cpus = [c for c in cpus if (MCA_CPUS.get(c, ("aarch64",))[0] == "aarch64") == (target == "aarch64")]
    cpus = cpus or DEFAULT_CPUS[target]  # e.g. --cpu names only AArch64 cores but the target is m55
    results = []
    for cpu in cpus:
        r = mca_one(region, cpu, args.iterations, shlex.split(args.mca_args or ""))
        r.update(driver=os.path.basename(driver), target=target, compiler=args.compiler,
                 note=MCA_CPUS.get(cpu, (None, None, ""))[2], elements_per_iter=elems, elements_src=src,
                 vl=vl, region=region, how=how, build=cmds, loop_insns=n_insns, notes=notes,
                 loop_sve=uses_sve([body[i] for i in idx]))
        if "cyc_per_iter" in r:
            r["cyc_per_elem"] = r["cyc_per_iter"] / elems
        results.append(r)
    if args.json:
        return results
    name = os.path.basename(driver)
    print(f"== {name} [{target}, {args.compiler}] {how}: {n_insns} instructions, {elems:g} {meta['unit']}s/iteration"
          + (f" at VL={vl}" if vl and uses_sve([body[i] for i in idx]) else ""))
    print(f"   elements/iteration {src}")
    print(f"   compile: {' '.join(shlex.quote(c) for c in cmds[0])}")
    print(f"   region:  {region}")
    for w in notes:
        print(f"   NOTE: {w}")
    if args.show_asm:
        print(text)
    print(f"   {'-mcpu':<12} {'cyc/iter':>9} {'RThru':>7} {'insn/iter':>9} {'IPC':>5} {'cyc/' + meta['unit'][:4]:>9}  model")
    for r in results:
        if "error" in r:
            print(f"   {r['cpu']:<12} n/a: {r['error']}")
            continue
        note = f" ({r['note']})" if r["note"] else ""
        print(f"   {r['cpu']:<12} {r['cyc_per_iter']:9.2f} {r['rthroughput']:7.2f} {r['insn_per_iter']:9.1f} "
              f"{r['ipc']:5.2f} {r['cyc_per_elem']:9.3f}  {r['model_used']}{note}")
        if args.full:
            print(r["output"])
    return results


# ---------------------------------------------------------------- QEMU instruction counts
@functools.lru_cache(maxsize=None)
def plugin_path():
    so = os.environ.get("TESSERA_QEMU_INSN_PLUGIN")
    if so:
        return so
    r = run(["sh", os.path.join(HERE, "build-plugin.sh")])
    return r.stdout.strip().splitlines()[-1]


def qemu_cmd(target, exe, vl_bits, extra):
    if target == "aarch64":
        cpu = "max" + (f",sve-default-vector-length={vl_bits // 8}" if vl_bits else "")
        return ["qemu-aarch64", "-cpu", cpu] + extra + [exe]
    return ["qemu-system-arm", "-M", "mps3-an547", "-nographic", "-serial", "null", "-monitor", "none",
            "-semihosting-config", "enable=on,target=native", "-kernel", exe] + extra


def check_program_output(out, cmd):
    m = re.search(r"arm-perf: elements=(\d+) check=(\w+)", out)
    if not m:
        raise RuntimeError(f"no 'arm-perf:' line from {' '.join(cmd)}:\n{out}")
    if m.group(2) != "ok":
        raise RuntimeError(f"the kernel's result is WRONG (check={m.group(2)}): {' '.join(cmd)}")
    return int(m.group(1))


def icount_plugin(target, exe, vl_bits):
    so = plugin_path()
    mark = MARK[target].replace(",", ",,")  # QEMU option syntax: ',,' is a literal comma
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "plugin.log")
        cmd = qemu_cmd(target, exe, vl_bits, ["-plugin", f"{so},match={mark}", "-d", "plugin", "-D", log])
        r = run(cmd)
        elements = check_program_output(r.stdout, cmd)
        with open(log) as f:
            deltas = [int(m.group(1)) for line in f if f"'{MARK[target]}'" in line
                      for m in [re.search(r"\u0394\+(\d+) since last match", line)] if m]
    if len(deltas) != 4:
        raise RuntimeError(f"expected 4 marker hits, got {len(deltas)}: {' '.join(cmd)}")
    # hits: begin, end (baseline pair), begin, end (measured pair); minus 1 for the BL to the kernel
    return deltas[3] - deltas[1] - 1, elements, cmd


@functools.lru_cache(maxsize=None)
def nm_range(target, exe, func):
    nm = "aarch64-linux-gnu-nm" if target == "aarch64" else "arm-none-eabi-nm"
    r = run([nm, "-S", exe])
    for line in r.stdout.splitlines():
        p = line.split()
        if len(p) == 4 and p[3] == func:
            lo = int(p[0], 16) & ~1  # Thumb symbols carry bit 0
            return lo, lo + int(p[1], 16)
    die(f"{func} not in {exe}")


AWK_EXEC = r"""
/^Trace/ {
  s = $0; sub(/^[^[]*\[[^\/]*\//, "", s); sub(/\/.*/, "", s)   # PC = 2nd field inside [...]
  if (s >= lo && s < hi) { total++; if (hist) h[s]++ }
}
END { print "total", total + 0; for (p in h) print p, h[p] }
"""


def exec_log(target, exe, vl_bits, histogram=False):
    """`-singlestep -d nochain,exec` prints one Trace line per executed instruction; the log is
    streamed through a FIFO into awk, which counts the PCs inside FUNC's nm range (and, with
    histogram, how often each PC ran). PCs are zero-padded hex of a fixed width, so string
    comparison is numeric comparison (works with mawk: no strtonum).
    Returns (count, {pc: executions}, elements, command)."""
    lo, hi = nm_range(target, exe, FUNC)
    width = 16 if target == "aarch64" else 8
    with tempfile.TemporaryDirectory() as tmp:
        fifo = os.path.join(tmp, "exec.fifo")
        os.mkfifo(fifo)
        awk = subprocess.Popen(["awk", "-v", f"lo={lo:0{width}x}", "-v", f"hi={hi:0{width}x}",
                                "-v", f"hist={int(histogram)}", AWK_EXEC, fifo],
                               stdout=subprocess.PIPE, text=True)
        cmd = qemu_cmd(target, exe, vl_bits, ["-singlestep", "-d", "nochain,exec", "-D", fifo])
        try:
            r = run(cmd)
        finally:
            out, _ = awk.communicate(timeout=600)
        elements = check_program_output(r.stdout, cmd)
    res = dict(line.split() for line in out.strip().splitlines())
    total = int(res.pop("total"))
    return total, {int(k, 16): int(v) for k, v in res.items()}, elements, cmd


def icount_log(target, exe, vl_bits):
    n, _, elements, cmd = exec_log(target, exe, vl_bits)
    return n, elements, cmd


def entry_addresses(target, exe, body):
    """Address of every ('insn') entry of FUNC's body: objdump's instruction list of the function,
    re-synchronised at each label (alignment padding and literal pools sit before labels).
    Returns {entry index: address}, or None if the two listings do not line up."""
    lo, hi = nm_range(target, exe, FUNC)
    od = "aarch64-linux-gnu-objdump" if target == "aarch64" else "arm-none-eabi-objdump"
    r = run([od, "-d", f"--start-address={lo:#x}", f"--stop-address={hi:#x}", exe])
    insns = []
    for line in r.stdout.splitlines():
        m = re.match(r"^\s*([0-9a-f]+):\s+(?:[0-9a-f]{2,8}\s)+\s*(\S+)", line)
        if m and not m.group(2).startswith("."):
            insns.append(int(m.group(1), 16))
    pos = {a: i for i, a in enumerate(insns)}
    syms = symbol_table(target, exe)
    out, ptr = {}, 0
    for i, e in enumerate(body):
        if e[0] == "label":
            a = syms.get(e[1])
            if a is None or a < lo or a >= hi:
                continue
            j = pos.get(a)
            if j is None:
                j = next((k for k, x in enumerate(insns) if x >= a), len(insns))
            if j < ptr:
                return None  # we ran past a label: the listings disagree
            ptr = j
        elif e[0] == "insn":
            if ptr >= len(insns):
                return None
            out[i] = insns[ptr]
            ptr += 1
    return out


def do_icount(args, driver, target):
    meta = driver_meta(driver)
    asm, exe, bcmds = build(driver, target, args.compiler, meta, args.march)
    vls = [int(v) for v in args.vl.split(",")] if (target == "aarch64" and args.vl) else [None]
    with open(asm) as f:
        sve = target == "aarch64" and uses_sve(function_body(f.read(), FUNC, target))
    if not sve and not args.all_vl:
        vls = vls[:1]  # no SVE instruction in the kernel: one VL is enough (use --all-vl to check)
    results = []
    for vl in vls:
        res = {"driver": os.path.basename(driver), "target": target, "compiler": args.compiler, "vl": vl,
               "build": bcmds}
        if args.method in ("plugin", "both"):
            n, el, cmd = icount_plugin(target, exe, vl)
            res.update(plugin=n, elements=el, plugin_cmd=cmd)
        if args.method in ("log", "both"):
            n, el, cmd = icount_log(target, exe, vl)
            res.update(log=n, elements=el, log_cmd=cmd)
        if args.method == "both" and res["plugin"] != res["log"]:
            print(f"WARNING: plugin {res['plugin']} != log {res['log']} for {driver} VL={vl}", file=sys.stderr)
        res["insns"] = res.get("plugin", res.get("log"))
        res["per_elem"] = res["insns"] / res["elements"]
        results.append(res)
    if args.json:
        return results
    name = os.path.basename(driver)
    print(f"== {name} [{target}, {args.compiler}] {exe}")
    for r in results:
        vl = f"VL={r['vl']:>4}" if r["vl"] else "        "
        both = f" (plugin {r['plugin']}, log {r['log']})" if args.method == "both" else ""
        print(f"   {vl}  {r['insns']:>9} instructions / {r['elements']} {meta['unit']}s = "
              f"{r['per_elem']:.3f} per {meta['unit']}{both}")
        if VERBOSE:
            for k in ("plugin_cmd", "log_cmd"):
                if k in r:
                    print("   " + " ".join(shlex.quote(c) for c in r[k]))
    return results


# ---------------------------------------------------------------- table
def do_table(args):
    """One markdown row per driver x target x compiler: llvm-mca cycles/element per core model and
    QEMU's exact instructions/element (per SVE vector length for vl/N drivers)."""
    cpus = args.cpu.split(",") if args.cpu else DEFAULT_CPUS["aarch64"] + DEFAULT_CPUS["m55"]
    rows = []
    for spec in args.drivers:
        driver, _, tgts = spec.partition(":")
        meta = driver_meta(driver)
        for target in (tgts.split(",") if tgts else meta["targets"]):
            for compiler in args.compiler.split(","):
                ns = argparse.Namespace(**vars(args))
                ns.json, ns.list_loops, ns.show_asm, ns.full, ns.loop, ns.all_vl = True, False, False, False, None, False
                ns.static = False
                ns.compiler = compiler
                ns.cpu = ",".join(cpus)
                mca = {r["cpu"]: r for r in do_mca(ns, driver, target)}
                ic = do_icount(ns, driver, target)
                rows.append((driver, target, compiler, mca, ic))
    used = {}
    for *_, mca, _ in rows:
        for c, m in mca.items():
            if m.get("model_used"):
                used.setdefault(c, m["model_used"].replace(" model", ""))
    heads = [f"`{c}` ({used.get(c, '?')} model)" for c in cpus]
    print("| kernel | target, compiler | hot loop: instructions / elements per iteration | "
          + " | ".join(f"{h} cycles/elem" for h in heads) + " | QEMU instructions/elem (exact) |")
    print("|---|---|---|" + "---|" * len(cpus) + "---|")
    for driver, target, compiler, mca, ic in rows:
        anym = next(iter(mca.values()), None)
        loop = f"{anym['loop_insns']} / {anym['elements_per_iter']:g}" if anym and "loop_insns" in anym else "-"
        if anym and anym.get("loop_sve"):
            loop += f" (VL{anym['vl']})"
        cells = []
        for c in cpus:
            m = mca.get(c)
            if m is None:
                cells.append("")
            elif "error" in m:
                why = re.search(r"requires: (\w+)", m["error"])
                cells.append(f"n/a (no {why.group(1).upper()})" if why else "n/a")
            else:
                cells.append(f"{m['cyc_per_elem']:.2f}")
        icount = " / ".join(f"{r['per_elem']:.3f}" for r in ic)
        if len(ic) > 1 and len({r["insns"] for r in ic}) == 1:
            icount = f"{ic[0]['per_elem']:.3f} (same at VL " + "/".join(str(r["vl"]) for r in ic) + ")"
        elif len(ic) > 1:
            icount += " (VL " + "/".join(str(r["vl"]) for r in ic) + ")"
        name = os.path.splitext(os.path.basename(driver))[0]
        print(f"| {name} | {target}, {compiler} | {loop} | " + " | ".join(cells) + f" | {icount} |")


def main():
    global VERBOSE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p):
        p.add_argument("--target", choices=["aarch64", "m55"], help="default: every target the driver lists")
        p.add_argument("--compiler", default="gcc", help="gcc or clang (table: a comma list, e.g. gcc,clang)")
        p.add_argument("--march", help="AArch64 -march (default armv8.6-a+sve2)")
        p.add_argument("--json", action="store_true")
        p.add_argument("-v", "--verbose", action="store_true")

    def mca_opts(p):
        p.add_argument("--cpu", help="comma list of llvm-mca -mcpu names (default: a55,n2,v1 / m55)")
        p.add_argument("--iterations", type=int, default=1000)
        p.add_argument("--mca-vl", type=int, default=128, help="VL in bits for vl/N loop-elements (default 128)")
        p.add_argument("--mca-args", help="extra llvm-mca arguments, e.g. '--bottleneck-analysis'")

    def ic_opts(p):
        p.add_argument("--vl", default="128,256,512", help="SVE vector lengths in bits (AArch64)")
        p.add_argument("--method", choices=["plugin", "log", "both"], default="plugin")

    p = sub.add_parser("mca", help="llvm-mca on the innermost loop")
    p.add_argument("drivers", nargs="+")
    common(p)
    mca_opts(p)
    p.add_argument("--loop", type=int, help="pick innermost loop N (see --list-loops)")
    p.add_argument("--static", action="store_true",
                   help="no QEMU profile: guess the hot loop statically, elements/iteration from the driver")
    p.add_argument("--list-loops", action="store_true")
    p.add_argument("--show-asm", action="store_true", help="print the analysed region")
    p.add_argument("--full", action="store_true", help="print llvm-mca's whole report")
    p = sub.add_parser("icount", help="exact dynamic instruction count of one kernel call")
    p.add_argument("drivers", nargs="+")
    common(p)
    ic_opts(p)
    p.add_argument("--all-vl", action="store_true", help="run every --vl even for non-SVE drivers")
    p = sub.add_parser("table", help="markdown rows: llvm-mca cycles/element + QEMU instructions/element")
    p.add_argument("drivers", nargs="+", help="DRIVER.cpp or DRIVER.cpp:target[,target]")
    common(p)
    mca_opts(p)
    ic_opts(p)
    a = ap.parse_args()
    VERBOSE = a.verbose
    try:
        if a.cmd == "table":
            do_table(a)
            return
        allres = []
        for d in a.drivers:
            for t in ([a.target] if a.target else driver_meta(d)["targets"]):
                allres += (do_mca if a.cmd == "mca" else do_icount)(a, d, t)
        if a.json:
            for r in allres:
                r.pop("output", None)
            print(json.dumps(allres, indent=1))
    except RuntimeError as e:
        die(str(e))


if __name__ == "__main__":
    main()
