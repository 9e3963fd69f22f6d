#!/usr/bin/python3
"""Markdown tables from a Google Benchmark JSON report of bench/bench_conv.

    bench/conv_table.py REPORT.json [REPORT.json ...]

Benchmark names are conv_<f32|s8>/<layer>/<contender>. Per type, one row per layer: every
contender's median GFLOP/s or Gop/s (% of peak: fp32 99.6 GFLOP/s, int8 195.2 Gop/s) followed,
for a peer, by tessera / peer; then tessera's effective bandwidth (input + output + filter bytes per
call), the peers' share of outputs identical to the reference (s8), tessera_gather's CPU time as
a share of tessera's (the panel copy, layer a), and tessera_min_ws's rate (depthwise layers with the
smallest workspace). Medians are the `median` aggregates (or the median
of the runs); ratios are taken inside one report only. Exits 1 on a benchmark error other than a
skip. Standard library only.
"""
import json
import statistics
import sys

# tessera_avx2: an AVX-512 VNNI build's regular layers on the simd tag's AVX2 kernels (before/after).
# scalar: layers benchmarked per kernel (conv_s16: <kernel> and <kernel>_scalar rows, no peer) show
# their vector kernel as tessera and the scalar kernel as this column.
PEERS = ("tessera_avx2", "onednn", "xnnpack", "xnnpack_qc8", "scalar")


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
        agg = b.get("aggregate_name")
        e = runs.setdefault(name, {"median": None, "runs": [], "cv": None, "label": b.get("label", "")})
        if agg == "median":
            e["median"] = b
        elif agg == "cv":
            e["cv"] = b
        elif agg is None or b.get("run_type") == "iteration":
            e["runs"].append(b)
    out = {}
    for name, e in runs.items():
        if e["median"] is not None:
            m = e["median"]
            get = lambda k, m=m: m.get(k)
        elif e["runs"]:
            rs = e["runs"]
            get = lambda k, rs=rs: statistics.median(r[k] for r in rs) if k in rs[0] else None
        else:
            continue
        rate_key = "GFLOP/s" if get("GFLOP/s") is not None else "Gop/s"
        cv = e["cv"].get("cpu_time") if e["cv"] else None
        out[name] = {
            "rate": get(rate_key), "pct": get("%peak"), "gbs": get("GB/s"), "exact": get("exact%"),
            "cpu": get("cpu_time"), "unit": rate_key, "label": e["label"], "cv": cv,
        }
    return report.get("context", {}), out, failed


def table(path):
    context, res, failed = load(path)
    print(f"{path}: {context.get('tessera_compiler', '?')}, native tag {context.get('tessera_native_tag', '?')}, "
          f"date {context.get('date', '?')}, load avg {context.get('load_avg', '?')}")
    by_type = {}
    for name, v in res.items():
        dtype, lay, contender = name.split("/", 2)
        by_type.setdefault(dtype, {}).setdefault(lay, {})[contender] = v
    for layers in by_type.values():
        for row in layers.values():
            if "tessera" in row:
                continue
            named = [c for c in row if c not in PEERS and not c.startswith("tessera")]
            vector = [c for c in named if not c.endswith("_scalar")]
            scalar = [c for c in named if c.endswith("_scalar")]
            if len(vector) == 1:
                row["tessera"] = row.pop(vector[0])
            if len(scalar) == 1:
                row["scalar"] = row.pop(scalar[0])
    for dtype in sorted(by_type):
        layers = by_type[dtype]
        unit = next(iter(next(iter(layers.values())).values()))["unit"]
        peers = [p for p in PEERS if any(p in row for row in layers.values())]
        impl = {}  # contender -> label -> layers (first letter of the layer name)
        for lay in sorted(layers):
            for c, v in layers[lay].items():
                if v["label"] and c in ("tessera",) + PEERS:
                    impl.setdefault(c, {}).setdefault(v["label"], []).append(lay.split("_")[0])
        print()
        print(f"{dtype} ({unit} (% of peak); after a peer: tessera / peer)")
        print("implementations: " + "; ".join(
            f"{c} " + ", ".join(f"{lab} ({','.join(ls)})" for lab, ls in impl[c].items()) for c in impl))
        print()
        head = ["layer", "tessera"] + peers + ["tessera GB/s", "max cv"]
        if dtype != "conv_f32":
            head.insert(-1, "identical (" + ", ".join(peers) + ")")
        print("| " + " | ".join(head) + " |")
        print("|---" * len(head) + "|")
        for lay in sorted(layers):
            row = layers[lay]
            t = row.get("tessera")
            cells = [lay]
            cells.append(f"{t['rate']:.1f} ({t['pct']:.0f}%)" if t else "-")
            for p in peers:
                v = row.get(p)
                if v is None:
                    cells.append("-")
                    continue
                c = f"{v['rate']:.1f} ({v['pct']:.0f}%)"
                if t:
                    c += f" {t['rate'] / v['rate']:.2f}x"
                cells.append(c)
            cells.append(f"{t['gbs']:.1f}" if t else "-")
            if dtype != "conv_f32":
                cells.append(", ".join(f"{row[p]['exact']:.2f}%" if p in row and row[p]["exact"] is not None else "-"
                                       for p in peers))
            cvs = [v["cv"] for v in row.values() if v["cv"] is not None]
            cells.append(f"{max(cvs) * 100:.0f}%" if cvs else "-")
            print("| " + " | ".join(cells) + " |")
        for lay in sorted(layers):
            row = layers[lay]
            if "tessera_min_ws" in row and "tessera" in row:
                m, t = row["tessera_min_ws"], row["tessera"]
                print(f"\n{dtype} {lay}: with min_workspace_bytes {m['rate']:.1f} {unit} ({m['pct']:.0f}%); "
                      f"the padded-row cache (workspace_bytes) is {t['rate'] / m['rate']:.2f}x that")
            if "tessera_gather" in row and "tessera" in row:
                g, t = row["tessera_gather"], row["tessera"]
                print(f"\n{dtype} {lay}: gather_panel alone {g['cpu']:.1f} us of tessera's {t['cpu']:.1f} us "
                      f"per call = {100.0 * g['cpu'] / t['cpu']:.0f}% ({g['label']})")
    print()
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
