#!/usr/bin/python3
"""Prints a short table from a Google Benchmark JSON report of bench/bench_requant.

    scripts/bench_table.py build/run/bench_requant.json

Benchmark names are <acc>/<output stage>/<rows>x<channels>/<contender>. Per benchmark: the median
over repetitions (the `median` aggregate, or the median of the individual runs when the report
has no aggregates) of items/s and bytes/s; where the data lives (L2, L3 or DRAM: the `footprint`
counter against the cache sizes in the report's context); that rate as a percentage of the
streaming bandwidth of that level measured in /work/shared/guides/PERF.md and of the in-run
`narrow_copy` roofline (same traffic, no arithmetic); and the speedup over `tflite_reference`.

Exits 1 when a benchmark failed (an error other than "skipped: ..." for a tag the CPU lacks) or
the report holds no results. Standard library only.
"""
import argparse
import json
import statistics
import textwrap
import sys

# Single-core streaming read bandwidth, GB/s (PERF.md; measured on AMD EPYC Zen 3).
PERF_BW = {"L2": 88.0, "L3": 61.0, "DRAM": 17.0}
STAGE_NAMES = {
    "i8_per_channel": "i8 per-channel",
    "i8_per_tensor": "i8 per-tensor",
    "i16_per_channel": "i16 per-channel",
}


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def cache_sizes(context):
    sizes = {}
    for c in context.get("caches", []):
        if c.get("type") in ("Unified", "Data"):
            sizes[c.get("level")] = int(c.get("size", 0))
    return sizes


def level_of(footprint, caches):
    if caches.get(2) and footprint <= caches[2]:
        return "L2"
    if caches.get(3) and footprint <= caches[3]:
        return "L3"
    return "DRAM"


def load(path):
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
    runs = {}  # run_name -> {"median": entry, "cv": entry, "iterations": [entries], "error": msg}
    rank = {}  # run_name -> registration order (random interleaving shuffles the report)
    for b in report.get("benchmarks", []):
        name = b.get("run_name", b.get("name", ""))
        if name not in runs:
            runs[name] = {"iterations": []}
            rank[name] = (b.get("family_index", len(rank)), b.get("per_family_instance_index", 0))
        r = runs[name]
        if b.get("error_occurred"):
            r["error"] = b.get("error_message", "error")
        elif b.get("run_type") == "aggregate":
            r[b.get("aggregate_name")] = b
        else:
            r["iterations"].append(b)
    order = sorted(runs, key=lambda n: rank[n])
    return report.get("context", {}), runs, order


def median_of(r, key):
    if "median" in r and key in r["median"]:
        return float(r["median"][key])
    vals = [float(b[key]) for b in r["iterations"] if key in b]
    return statistics.median(vals) if vals else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report", help="Google Benchmark JSON (--benchmark_out=...)")
    args = ap.parse_args()
    try:
        context, runs, order = load(args.report)
    except (OSError, ValueError) as e:
        print(f"bench_table: cannot read {args.report}: {e}", file=sys.stderr)
        return 1
    caches = cache_sizes(context)

    rows = []
    failed = []
    copy_over_perf = False
    groups = {}  # (acc, stage, shape) -> {contender: items/s}
    for name in order:
        parts = name.split("/")
        if len(parts) < 4:
            continue
        acc, stage, shape, who = parts[:4]
        r = runs[name]
        key = (acc, stage, shape)
        if "error" in r:
            if not r["error"].startswith("skipped"):
                failed.append(f"{name}: {r['error']}")
            rows.append((key, who, None, r["error"]))
            continue
        items = median_of(r, "items_per_second")
        nbytes = median_of(r, "bytes_per_second")
        footprint = median_of(r, "footprint")
        cv = None
        if "cv" in r and "items_per_second" in r["cv"]:
            cv = float(r["cv"]["items_per_second"])
        if items is None or nbytes is None:
            failed.append(f"{name}: no items/s or bytes/s in the report")
            continue
        groups.setdefault(key, {})[who] = items
        rows.append((key, who, (items, nbytes, footprint or 0.0, cv), None))

    reps = None
    for r in runs.values():
        if "median" in r:
            reps = r["median"].get("repetitions")
            break
    l2 = caches.get(2, 0) >> 10
    l3 = caches.get(3, 0) >> 10
    print(f"bench_requant, {context.get('date', '?')}: {cpu_model()}, {context.get('num_cpus', '?')} CPUs, "
          f"L2 {l2} KiB, L3 {l3} KiB"
          + (f", load avg {context['load_avg'][0]:.1f}" if context.get("load_avg") else ""))
    print(f"{context.get('tessera_compiler', '?')}, native tag {context.get('tessera_native_tag', '?')}"
          + (f", median of {reps} repetitions" if reps else ""))
    hdr = (f"{'output stage':<20} {'shape':<11} {'data':<4}  {'kernel':<20} {'Gelem/s':>7} {'GB/s':>6} "
           f"{'%BW':>5} {'%copy':>5} {'vs ref':>7} {'cv':>4}")
    print(hdr)
    print("-" * len(hdr))
    last = None
    for key, who, vals, err in rows:
        acc, stage, shape = key
        label = f"{acc}->{STAGE_NAMES.get(stage, stage)}"
        if last is not None and key != last:
            print()
        last = key
        if vals is None:
            print(f"{label:<20} {shape:<11} {'':<4}  {who:<20} {err}")
            continue
        items, nbytes, footprint, cv = vals
        lvl = level_of(footprint, caches)
        gbs = nbytes / 1e9
        pct_bw = 100.0 * gbs / PERF_BW[lvl]
        copy_over_perf |= who == "narrow_copy" and pct_bw > 100.0
        g = groups.get(key, {})
        copy = g.get("narrow_copy")
        ref = g.get("tflite_reference")
        pct_copy = f"{100.0 * items / copy:4.0f}%" if copy else "    -"
        speedup = f"{items / ref:6.2f}x" if ref else "      -"
        cvs = f"{100.0 * cv:3.0f}%" if cv is not None else "   -"
        print(f"{label:<20} {shape:<11} {lvl:<4}  {who:<20} {items / 1e9:7.2f} {gbs:6.1f} "
              f"{pct_bw:4.0f}% {pct_copy} {speedup} {cvs}")
    print()
    notes = (f"%BW: GB/s (accumulators + parameters read, outputs written) over PERF.md's single-core streaming "
              f"read bandwidth of the level the data fits in (L2 {PERF_BW['L2']:.0f}, L3 {PERF_BW['L3']:.0f}, "
              f"DRAM {PERF_BW['DRAM']:.0f} GB/s). %copy: elements/s over narrow_copy's (same traffic, no "
              f"arithmetic). vs ref: over tflite_reference. cv: spread of elements/s between repetitions.")
    if copy_over_perf:
        notes += (" narrow_copy beats PERF.md's bandwidth here: this CPU is not the one PERF.md measured; "
                  "judge kernels by %copy.")
    print(textwrap.fill(notes, width=len(hdr)))
    if failed:
        print("\nFAILED:", file=sys.stderr)
        for f in failed:
            print(f"  {f}", file=sys.stderr)
        return 1
    if not groups:
        print("bench_table: the report holds no results", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
