#!/usr/bin/python3
"""The deployment comparison in one run: embedding through the C API against
PyTorch's eval mode, and the exact index through the C API against faiss's
IndexFlatL2, on this machine with the same threads; prints one table.

    /usr/bin/python3 bench/compare_deploy.py [--build build] [--threads 2] [--rounds 3]
        [--repeats 5] [--max-wait 60] [--faiss-env all] [--json OUT]

Needs a build with -DDML_BUILD_BENCH=ON (inference_bench, index_bench) and
Debian's python3-torch, python3-torchvision and python3-faiss. The cases:
  resnet50 at 224 px, batches of 1 and 32; small_resnet10 (the demo's network:
  1 channel, 28 px), batches of 1 and 256 - bench/compare_inference_torch.py
  (one exported model file of seeded weights; both sides embed the same
  float NCHW images);
  the index: 1,000,000 x 128 f32 rows, 1,000 queries and 1 query, k = 10 -
  bench/compare_index_faiss.py (the fastest of --faiss-env's environments is
  the reference).
Every side runs in its own process after an idle second (at most --max-wait
seconds of waiting), so each peak resident memory is its own; "others" is the
cores other processes used meanwhile (the median round's). Each figure is a
median: of --repeats calls in a round, then of --rounds rounds for the
networks; of --reps builds and searches and --single-reps one-query searches
for the index. speedup: the reference's time over ours (> 1: ours is faster).
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare_index_faiss as index_cmp  # noqa: E402
import compare_inference_torch as inference_cmp  # noqa: E402

HEADER = (f"{'case':<36} {'engine':<26} {'per second':>11} {'ms/call':>9} {'speedup':>8} "
          f"{'peak MiB':>9} {'+run MiB':>9} {'agreement':>12} {'others':>6}")


def line(case, engine, per_s, ms, speedup, peak, run, agreement, others):
    """One row of the table; a figure that does not apply is None (blank)."""
    def num(v, width, digits, suffix=""):
        return f"{'' if v is None else f'{v:.{digits}f}{suffix}':>{width}}"
    return (f"{case:<36} {engine:<26} {num(per_s, 11, 1)} {num(ms, 9, 2)} "
            f"{num(speedup, 8, 2, 'x')} {num(peak, 9, 0)} {num(run, 9, 0)} {agreement:>12} "
            f"{num(others, 6, 2)}")


def inference_lines(r):
    case = f"{r['model']} {r['image']} px, batch {r['batch']}"
    speedup = r["torch_latency_ms"] / r["dml_latency_ms"]
    return [
        line(case, "dml C API", r["dml_img_per_s"], r["dml_latency_ms"], speedup,
             r["dml_peak_rss_mib"], r["dml_rss_increase_mib"], f"{r['max_abs_diff']:.1e}",
             r["dml_other_load_cores"]),
        line("", "torch eval, no_grad", r["torch_img_per_s"], r["torch_latency_ms"], None,
             r["torch_peak_rss_mib"], r["torch_rss_increase_mib"], "", r["torch_other_load_cores"]),
    ]


def index_lines(a, result):
    ours = result["ours"]
    out = []
    rows = f"{a.rows // 1000}k" if a.rows % 1000000 else f"{a.rows // 1000000}M"
    cases = (("search_median_s", f"{a.queries} queries", a.queries),
             ("single_median_s", "1 query", 1), ("build_median_s", "build", None))
    for key, what, count in cases:
        best = index_cmp.fastest_faiss(result, key)
        theirs = result["faiss"][best]
        first = key == "search_median_s"
        out.append(line(f"index {rows} x {a.dim}, k {a.k}: {what}", "dml C API",
                        count / ours[key] if count else None, 1e3 * ours[key],
                        theirs[key] / ours[key], ours["peak_rss_mib"] if first else None, None,
                        "" if not first else f"{result['agreement'][best]['same_ids']:.4f} ids",
                        ours["other_load_cores"]))
        out.append(line("", f"faiss {theirs['engine'].split()[-1]} ({best})",
                        count / theirs[key] if count else None, 1e3 * theirs[key], None,
                        theirs["peak_rss_mib"] if first else None, None, "",
                        theirs["other_load_cores"]))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    inference_cmp.add_arguments(p)
    index_cmp.add_index_arguments(p)
    p.add_argument("--json", help="also write every measurement to this file")
    p.set_defaults(faiss_env="all")
    a = p.parse_args()
    envs = index_cmp.faiss_envs(p, a)
    with open("/proc/loadavg") as f:
        load_before = f.read().split()[:3]
    rows = inference_cmp.run_cases(a)
    index = index_cmp.run_index(a, envs)
    with open("/proc/loadavg") as f:
        load_after = f.read().split()[:3]
    print()
    print(f"{a.threads} threads; load average (1, 5, 15 min) before {' '.join(load_before)}, "
          f"after {' '.join(load_after)}")
    print(HEADER)
    for r in rows:
        print("\n".join(inference_lines(r)))
    print("\n".join(index_lines(a, index)))
    print("per second: images (networks) or queries (index); ms/call: median per call; "
          "speedup: reference ms / ours; +run: peak over the RSS after loading; agreement: "
          "largest |difference| of the embeddings, or the share of equal neighbour ids "
          "(the rest ties); others: cores other processes used")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"inference": rows, "index": index, "load_before": load_before,
                       "load_after": load_after}, f, indent=1)
    index_cmp.check_agreement(index)


if __name__ == "__main__":
    main()
