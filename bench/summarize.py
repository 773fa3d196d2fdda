#!/usr/bin/env python3
"""Turns bench_kernels JSON output into the Markdown tables of docs/PERFORMANCE.md.

Usage: summarize.py [--only REGEX] LABEL=run.json [LABEL=run.json ...]

LABEL and file are split at the last "="; --only keeps the rows whose name
matches REGEX (the ceiling is still read from the first file).

Each file is one run of bench_kernels with --benchmark_repetitions and
--benchmark_out_format=json; its medians become one column. The first file is
the reference: its median time is shown, and its BM_sgemm 2048^3 median is the
sgemm ceiling every FLOP/s figure is compared with.
"""
import json
import re
import sys

CEILING = "BM_sgemm/m:2048/n:2048/k:2048/real_time"


def medians(path):
    """Benchmark name -> median row, in the order the run listed them."""
    with open(path) as f:
        rows = json.load(f)["benchmarks"]
    return {r["run_name"]: r for r in rows if r.get("aggregate_name") == "median"}


def short(name):
    return name.removeprefix("BM_").removesuffix("/real_time")


def time_ms(row):
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[row["time_unit"]]
    return row["real_time"] * scale


def rate(row, ceiling):
    """GFLOP/s with its share of the ceiling, or GB/s; a * marks a run that
    run_quiet.py could not get alone on the machine."""
    mark = "*" if row.get("other_load_cores", 0) > 0.1 else ""
    if "FLOP/s" in row:
        gflops = row["FLOP/s"] / 1e9
        return f"{gflops:.1f} ({100 * gflops / ceiling:.0f}%){mark}"
    return f"{row['B/s'] / 1e9:.2f}{mark}"


def main(args):
    only = None
    if args[:1] == ["--only"]:
        only, args = re.compile(args[1]), args[2:]
    runs = [(label, medians(path)) for label, path in (a.rsplit("=", 1) for a in args)]
    ref_label, ref = runs[0]
    ceiling = ref[CEILING]["FLOP/s"] / 1e9
    print(f"sgemm ceiling ({ref_label}): {ceiling:.1f} GFLOP/s\n")
    # Rate cells: GFLOP/s (share of the ceiling) for GEMM and convolution, GB/s otherwise.
    header = ["benchmark", f"ms, {ref_label}"] + [label for label, _ in runs]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, row in ref.items():
        if only and not only.search(name):
            continue
        cells = [f"`{short(name)}`", f"{time_ms(row):.3g}"]
        cells += [rate(run[name], ceiling) if name in run else "-" for _, run in runs]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
