#!/usr/bin/python3
"""Times exact kNN in the engine (bench/knn_bench.cpp) and in faiss's
IndexFlatL2 on the same embeddings, with the same thread count and k, in one
run; prints both medians and the ratio ours / faiss.

    /usr/bin/python3 bench/compare_knn_faiss.py [--build build-bench] [--threads 2]
        [--rows 60000] [--dim 128] [--k 8] [--reps 5] [--faiss-env all] [--max-wait 300]

Needs Debian's python3-faiss and a knn_bench built with -DDML_BUILD_BENCH=ON.
knn_bench writes the seeded random embeddings (and labels) to .npy files, and
faiss reads them. Two tasks:
  knn          the k nearest of every row among all rows (self included, as
               IndexFlatL2.search returns it)
  recall eval  Recall@1,2,4,8 with each row's own hit excluded: ours is
               evaluate_embeddings; faiss searches k + 1, drops the query's own
               index and scores the labels in numpy
Each side runs in its own process, one after the other, each after the machine
has been idle for a second (or after --max-wait seconds of waiting: on a shared
machine it may never be), and the CPU other processes used during each run is
printed beside it (cores, as bench/run_quiet.py measures it). faiss links the system BLAS
(OpenBLAS, pthread build), whose threads fight faiss's OpenMP threads on a
small machine, so faiss is timed in up to three environments and, per task,
the fastest is the reference:
  default      as installed
  passive      OMP_WAIT_POLICY=PASSIVE (idle OpenMP threads sleep, not spin)
  openmp-blas  the OpenMP build of OpenBLAS (one thread pool, as the engine)
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run_quiet import QUIET_SHARE, busy_seconds  # noqa: E402

OPENMP_BLAS = "/usr/lib/x86_64-linux-gnu/openblas-openmp"
FAISS_ENVS = {
    "default": {},
    "passive": {"OMP_WAIT_POLICY": "PASSIVE"},
    "openmp-blas": {"LD_LIBRARY_PATH": OPENMP_BLAS},
}
RECALL_KS = (1, 2, 4, 8)


def timed(reps, f):
    f()  # warm-up, untimed
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t0)
    return times, out


def faiss_child(prefix, k, reps, threads):
    import faiss
    import numpy as np

    faiss.omp_set_num_threads(threads)
    x = np.load(prefix + "_x.npy")
    labels = np.load(prefix + "_labels.npy")
    index = faiss.IndexFlatL2(x.shape[1])
    index.add(x)
    knn_s, (_, nn) = timed(reps, lambda: index.search(x, k))

    def recall_eval():
        _, found = index.search(x, max(RECALL_KS) + 1)
        rows = np.arange(len(x))[:, None]
        # Drop each row's own index (the last column when a duplicate hid it).
        own = (found == rows)
        own[~own.any(1), -1] = True
        found = found[~own].reshape(len(x), -1)
        hit = labels[found] == labels[:, None]
        return {k: float(hit[:, :k].any(1).mean()) for k in RECALL_KS}

    eval_s, recall = timed(reps, recall_eval)
    ours = np.load(prefix + "_indices.npy")
    same_sets = np.mean([len(set(a) & set(b)) / k for a, b in zip(ours, nn)])
    return {"engine": "faiss " + faiss.__version__, "threads": threads, "knn_s": knn_s,
            "knn_median_s": statistics.median(knn_s), "recall_eval_s": eval_s,
            "recall_eval_median_s": statistics.median(eval_s), "recall@1": recall[1],
            "recall@8": recall[8], "neighbour_agreement": same_sets}


def wait_for_quiet(max_wait):
    """Waits for an idle second, at most max_wait seconds; returns whether one came."""
    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        b0, t0 = busy_seconds()
        time.sleep(1.0)
        b1, t1 = busy_seconds()
        if (b1 - b0) <= QUIET_SHARE * (t1 - t0):
            return True
    return False


def run_json(cmd, max_wait, env=None):
    """Runs cmd once the machine is quiet; its JSON line plus the cores other
    processes used meanwhile."""
    quiet = wait_for_quiet(max_wait)
    before = os.times()
    b0, _ = busy_seconds()
    w0 = time.monotonic()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    wall = time.monotonic() - w0
    b1, _ = busy_seconds()
    after = os.times()
    own = (after.children_user + after.children_system - before.children_user -
           before.children_system)
    result = json.loads(out.strip().splitlines()[-1])
    result["started_quiet"] = quiet
    result["other_load_cores"] = round(max(0.0, (b1 - b0) - own) / wall, 2)
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default="build-bench")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--rows", type=int, default=60000)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--k", type=int, default=8)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--faiss-env", default="all",
                   help="comma-separated: " + ", ".join(FAISS_ENVS) + " (or all)")
    p.add_argument("--max-wait", type=float, default=300,
                   help="longest wait in seconds for an idle second before each side runs")
    p.add_argument("--faiss-child", nargs=1, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.faiss_child:
        print(json.dumps(faiss_child(a.faiss_child[0], a.k, a.reps, a.threads)))
        return
    envs = list(FAISS_ENVS) if a.faiss_env == "all" else a.faiss_env.split(",")
    for name in envs:
        if name not in FAISS_ENVS:
            p.error(f"unknown --faiss-env {name!r}; use {', '.join(FAISS_ENVS)} or all")
    threads = {"OMP_NUM_THREADS": str(a.threads), "OPENBLAS_NUM_THREADS": str(a.threads)}
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "knn")
        ours = run_json([os.path.join(a.build, "bench", "knn_bench"), "--rows", str(a.rows),
                         "--dim", str(a.dim), "--k", str(a.k), "--reps", str(a.reps),
                         "--threads", str(a.threads), "--out", prefix], a.max_wait)
        theirs = {}
        for name in envs:
            env = dict(os.environ, **threads, **FAISS_ENVS[name])
            theirs[name] = run_json([sys.executable, __file__, "--k", str(a.k), "--reps",
                                     str(a.reps), "--threads", str(a.threads), "--faiss-child",
                                     prefix], a.max_wait, env)
    print(f"{a.rows} x {a.dim} f32 against itself, k = {a.k}, {a.threads} threads, "
          f"median of {a.reps}")
    print(f"{'engine':<28} {'knn s':>8} {'recall eval s':>14} {'recall@1':>9} {'agree':>6} "
          f"{'others':>7}")
    print(f"{ours['engine']:<28} {ours['knn_median_s']:>8.3f} "
          f"{ours['recall_eval_median_s']:>14.3f} {ours['recall@1']:>9.4f} {'':>6} "
          f"{ours['other_load_cores']:>7.2f}")
    for name, t in theirs.items():
        print(f"{t['engine'] + ' (' + name + ')':<28} {t['knn_median_s']:>8.3f} "
              f"{t['recall_eval_median_s']:>14.3f} {t['recall@1']:>9.4f} "
              f"{t['neighbour_agreement']:>6.4f} {t['other_load_cores']:>7.2f}")
    print("agree: share of faiss's k neighbours in ours; others: cores other processes used")
    for task in ("knn", "recall_eval"):
        key = task + "_median_s"
        best = min(theirs, key=lambda n: theirs[n][key])
        print(f"ratio ours / fastest faiss ({best}), {task.replace('_', ' ')}: "
              f"{ours[key] / theirs[best][key]:.2f}x")
    print(json.dumps({"ours": ours, "faiss": theirs}))


if __name__ == "__main__":
    main()
