#!/usr/bin/env python3
"""Runs bench_kernels one benchmark at a time, only while the machine is idle.

Usage: run_quiet.py BINARY OUT.json [bench_kernels flags ...]

On a shared two-core machine a single compile or training job elsewhere halves
every number and wrecks anything that synchronises threads, so each benchmark
waits for an idle second, runs alone (--benchmark_filter=^NAME$ plus the
flags given), and is rerun when other processes used more than a tenth of a
core meanwhile. The medians of all runs are merged into OUT.json, in the
format bench_kernels --benchmark_out writes, for summarize.py.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
QUIET_SHARE = 0.05  # of the whole machine, over one second, before a run
OTHERS_MAX = 0.10  # cores used by other processes during a run
MAX_TRIES = 8


def busy_seconds():
    """CPU seconds spent by everything on the machine since boot."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / CLK_TCK, sum(fields[:8]) / CLK_TCK


def wait_until_quiet():
    while True:
        b0, t0 = busy_seconds()
        time.sleep(1.0)
        b1, t1 = busy_seconds()
        if (b1 - b0) <= QUIET_SHARE * (t1 - t0):
            return


def run_once(binary, name, flags, out_path):
    """Runs one benchmark; returns the cores other processes used meanwhile."""
    before_children = os.times()
    b0, _ = busy_seconds()
    w0 = time.monotonic()
    subprocess.run(
        [binary, f"--benchmark_filter=^{re.escape(name)}$", f"--benchmark_out={out_path}",
         "--benchmark_out_format=json", *flags],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - w0
    b1, _ = busy_seconds()
    after_children = os.times()
    ours = (after_children.children_user + after_children.children_system -
            before_children.children_user - before_children.children_system)
    return max(0.0, (b1 - b0) - ours) / wall


def main(binary, out, flags):
    listing = subprocess.run([binary, "--benchmark_list_tests"], check=True,
                             capture_output=True, text=True).stdout.split()
    merged = None
    with tempfile.TemporaryDirectory() as tmp:
        part = os.path.join(tmp, "part.json")
        for name in listing:
            for attempt in range(1, MAX_TRIES + 1):
                wait_until_quiet()
                others = run_once(binary, name, flags, part)
                if others <= OTHERS_MAX:
                    break
            print(f"{name}: {attempt} run(s), others used {others:.2f} cores", flush=True)
            with open(part) as f:
                result = json.load(f)
            for row in result["benchmarks"]:
                row["other_load_cores"] = round(others, 3)
            if merged is None:
                merged = result
            else:
                merged["benchmarks"] += result["benchmarks"]
    with open(out, "w") as f:
        json.dump(merged, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
