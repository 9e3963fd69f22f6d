#!/usr/bin/python3
"""Markdown tables from Google Benchmark JSON reports of bench/bench_gemm_f32 and bench_gemm_qs8.

    bench/gemm_table.py REPORT.json [REPORT.json ...]

Benchmark names are gemm_<dtype>/<M>x<N>x<K>/<contender>[:<stage>]. For each shape: every
contender's median (the `median` aggregate, or the median of the runs) of GFLOP/s or Gop/s and
%peak, and tessera over that contender ("tessera/peer"), where tessera is the registry kernel whose
name does not end in `_scalar` and, for int8, has the same output stage (per_channel, per_tensor).
Ratios are taken inside one report only (one process, contenders interleaved). Exits 1 on a
benchmark error other than a skip. Standard library only.
"""
import json
import statistics
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
    runs = {}
    failed = []
    for b in report.get("benchmarks", []):
        name = b.get("run_name", b["name"])
        if b.get("error_occurred"):
            if not str(b.get("error_message", "")).startswith("skipped"):
                failed.append(f"{name}: {b.get('error_message')}")
            continue
        rate_key = "GFLOP/s" if "GFLOP/s" in b else "Gop/s"
        agg = b.get("aggregate_name")
        entry = runs.setdefault(name, {"median": None, "runs": [], "label": b.get("label", ""), "key": rate_key})
        if agg == "median":
            entry["median"] = (b[rate_key], b["%peak"])
        elif agg is None or b.get("run_type") == "iteration":
            entry["runs"].append((b[rate_key], b["%peak"]))
    out = {}
    for name, e in runs.items():
        if e["median"] is not None:
            rate, pct = e["median"]
        elif e["runs"]:
            rate = statistics.median(r for r, _ in e["runs"])
            pct = statistics.median(p for _, p in e["runs"])
        else:
            continue
        out[name] = (rate, pct, e["label"], e["key"])
    return report.get("context", {}), out, failed


def shape_key(s):
    m, n, k = (int(x) for x in s.split("x"))
    return (m != n or n != k, -m if m != n or n != k else m, n, k)


def table(path):
    context, res, failed = load(path)
    by_shape = {}
    for name, v in res.items():
        _, shape, contender = name.split("/", 2)
        by_shape.setdefault(shape, {})[contender] = v
    if not by_shape:
        return failed
    unit = next(iter(next(iter(by_shape.values())).values()))[3]
    contenders = []
    for shape in by_shape.values():
        for c in shape:
            if c not in contenders and not c.split(":")[0].endswith("_scalar"):
                contenders.append(c)

    def is_tessera(c):
        return c.startswith("gemm_")

    def stage(c):
        return c.split(":")[1] if ":" in c else ""

    # The native tag's kernel first (it is the reference of the ratios); in an AVX-512 VNNI build
    # the AVX2 (simd) kernel follows with native / it.
    # A kernel's name carries its ISA (`_<tag>` or `_<tag>_`), or only the tag's first word when
    # the kernel needs less than the tag (gemm_f32_8x32_avx512_fma at avx512_vnni).
    native = context.get("tessera_native_tag", "")

    def native_rank(c):
        k = "_" + c.split(":")[0] + "_"
        if native and "_" + native + "_" in k:
            return 0
        return 1 if native and "_" + native.split("_")[0] + "_" in k else 2

    tess = sorted((c for c in contenders if is_tessera(c)), key=lambda c: (native_rank(c), c))
    peers = sorted(c for c in contenders if not is_tessera(c))
    cols = tess + peers
    base = tess[0].split(":")[0] if tess else ""  # the native kernel
    print(f"{path}: {context.get('tessera_compiler', '?')}, native tag {context.get('tessera_native_tag', '?')}, "
          f"date {context.get('date', '?')}, load avg {context.get('load_avg', '?')}")
    labels = sorted({f"{c}: {v[2]}" for s in by_shape.values() for c, v in s.items() if v[2]})
    if labels:
        print("implementations: " + "; ".join(labels))
    print()
    print("| M,N,K | " + " | ".join(cols) + " |")
    print("|---|" + "---|" * len(cols))
    for shape in sorted(by_shape, key=shape_key):
        row = by_shape[shape]
        cells = []
        for c in cols:
            if c not in row:
                cells.append("-")
                continue
            rate, pct, _, _ = row[c]
            cell = f"{rate:.1f} ({pct:.0f}%)"
            if c.split(":")[0] != base:  # a peer or another tessera kernel: native / it, same stage
                ref = base + (":" + stage(c) if stage(c) else "")
                if ref in row:
                    cell += f" {row[ref][0] / rate:.2f}x"
            cells.append(cell)
        print(f"| {shape} | " + " | ".join(cells) + " |")
    print(f"\ncells: {unit} (% of peak); after a peer (or another tessera kernel): the native kernel / it.\n")
    return failed


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    failed = []
    for p in sys.argv[1:]:
        failed += table(p)
    for f in failed:
        print("FAILED " + f, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
