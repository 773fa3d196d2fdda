#!/usr/bin/env python3
"""A Markdown table of chosen rows of a finDML sweep (its experiment.json).

    python3 scripts/sweep_table.py runs/sweep/experiment.json [ROW_PREFIX ...]

One line per (cell, row): the baseline's and PARADE's estimate with its 95%
interval, and the paired difference PARADE - baseline with its interval and
p ('*' where p < 0.05). ROW_PREFIX picks rows by the start of their label
(default: R@1 overall, the R@1 gap, both leakage probes and the balanced
downstream gaps). Standard library only.
"""
import json
import sys

DEFAULT_ROWS = [
    "R@1 overall",
    "R@1 gap",
    "attribute leakage, linear",
    "attribute leakage, k-NN",
    "logistic_balanced gap",
    "knn_balanced gap",
]


def cell(text):
    """Text for a table cell: a '|' in a name would end the cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def fmt(interval):
    est, low, high = interval.get("estimate"), interval.get("low"), interval.get("high")
    if est is None:
        return "n/a"
    if low is None or high is None:
        return f"{est:.4f}"
    return f"{est:.4f} [{low:.4f}, {high:.4f}]"


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    try:
        with open(argv[1]) as f:
            record = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"sweep_table: cannot read {argv[1]}: {e}")
    prefixes = argv[2:] or DEFAULT_ROWS
    print("| cell | metric | baseline | PARADE | PARADE - baseline | p |")
    print("|---|---|---|---|---|---|")
    for c in record["cells"]:
        for row in c["table"]:
            if not any(row["metric"].startswith(p) for p in prefixes):
                continue
            p = row.get("p_value")
            mark = "" if p is None else f"{p:.3f}{' *' if row.get('significant') else ''}"
            print(f"| {cell(c['cell'])} | {cell(row['metric'])} | "
                  f"{fmt(row['baseline_interval'])} | {fmt(row['parade_interval'])} | "
                  f"{fmt(row['difference'])} | {mark} |")


if __name__ == "__main__":
    main(sys.argv)
