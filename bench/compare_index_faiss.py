#!/usr/bin/python3
"""Times the engine's exact index through the C API (bench/index_bench.cpp)
and faiss's IndexFlatL2 on the same database and queries, with the same
thread count and k; prints both and the ratios ours / faiss.

    /usr/bin/python3 bench/compare_index_faiss.py [--build build-bench] [--threads 2]
        [--rows 1000000] [--dim 128] [--queries 1000] [--k 10] [--reps 5]
        [--faiss-env default] [--max-wait 300]

Needs Debian's python3-faiss and an index_bench built with -DDML_BUILD_BENCH=ON.
The seeded random database and queries (standard normal f32) are written once
as .npy files; index_bench reads them with engine/npy.h, faiss with numpy.
Each side runs in its own process (so its peak resident memory is its own),
one after the other, after an idle second (as bench/compare_knn_faiss.py
does, whose helpers and faiss environments this reuses). Measured per side:
  build     one add of every row to an empty index (median of --reps)
  search    all queries at once, k nearest (median of --reps), and queries/s
  single    one query (median of --single-reps)
  peak MiB  the process's peak resident set (data, index and search together)
The neighbours are compared: "same ids" is the share of (query, rank) slots
where both return the same row; every other slot must hold a row at the same
distance (a tie, within --tie-tolerance relative), else the script fails.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from compare_knn_faiss import FAISS_ENVS, run_json, timed  # noqa: E402


def faiss_child(prefix, k, reps, single_reps, threads):
    import faiss
    import numpy as np

    faiss.omp_set_num_threads(threads)
    x = np.load(prefix + "_database.npy")
    q = np.load(prefix + "_queries.npy")
    index = None

    def build():
        nonlocal index
        index = None  # the previous index is freed first, as the engine's bench does
        index = faiss.IndexFlatL2(x.shape[1])
        index.add(x)

    build_s, _ = timed(reps, build)
    search_s, (distances, ids) = timed(reps, lambda: index.search(q, k))
    single_s, _ = timed(single_reps, lambda: index.search(q[:1], k))
    np.save(prefix + "_faiss_ids.npy", ids)
    np.save(prefix + "_faiss_distances.npy", distances)
    return {"engine": "faiss " + faiss.__version__, "threads": threads, "build_s": build_s,
            "build_median_s": statistics.median(build_s), "search_s": search_s,
            "search_median_s": statistics.median(search_s),
            "queries_per_s": len(q) / statistics.median(search_s), "single_s": single_s,
            "single_median_s": statistics.median(single_s),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def compare_neighbours(prefix, tolerance):
    """Share of equal ids, and the slots that differ without being a tie."""
    import numpy as np

    ours_ids = np.load(prefix + "_ids.npy")
    ours_d = np.load(prefix + "_distances.npy")
    faiss_ids = np.load(prefix + "_faiss_ids.npy")
    faiss_d = np.load(prefix + "_faiss_distances.npy")
    same = ours_ids == faiss_ids
    close = np.abs(ours_d - faiss_d) <= tolerance * np.maximum(np.abs(faiss_d), 1e-30)
    return {"same_ids": float(same.mean()), "differing_slots": int((~same).sum()),
            "not_ties": int((~same & ~close).sum()),
            "max_relative_distance_difference":
                float((np.abs(ours_d - faiss_d) / np.maximum(np.abs(faiss_d), 1e-30)).max())}


def add_index_arguments(p):
    """The options of the index case, shared with bench/compare_deploy.py
    (which adds --build, --threads and --max-wait of its own)."""
    p.add_argument("--rows", type=int, default=1000000)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--single-reps", type=int, default=21)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tie-tolerance", type=float, default=1e-5)
    p.add_argument("--faiss-env", default="default",
                   help="comma-separated: " + ", ".join(FAISS_ENVS) + " (or all)")


def faiss_envs(p, a):
    envs = list(FAISS_ENVS) if a.faiss_env == "all" else a.faiss_env.split(",")
    for name in envs:
        if name not in FAISS_ENVS:
            p.error(f"unknown --faiss-env {name!r}; use {', '.join(FAISS_ENVS)} or all")
    return envs


def run_index(a, envs):
    """Both sides on one seeded database: {"ours", "faiss": {env: ...}, "agreement"}."""
    import numpy as np

    threads = {"OMP_NUM_THREADS": str(a.threads), "OPENBLAS_NUM_THREADS": str(a.threads)}
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "index")
        rng = np.random.default_rng(a.seed)
        np.save(prefix + "_database.npy",
                rng.standard_normal((a.rows, a.dim), dtype=np.float32))
        np.save(prefix + "_queries.npy", rng.standard_normal((a.queries, a.dim), dtype=np.float32))
        ours = run_json([os.path.join(a.build, "bench", "index_bench"), "--database",
                         prefix + "_database.npy", "--queries", prefix + "_queries.npy",
                         "--k", str(a.k), "--reps", str(a.reps), "--single-reps",
                         str(a.single_reps), "--threads", str(a.threads), "--out", prefix],
                        a.max_wait)
        theirs, agreement = {}, {}
        for name in envs:
            env = dict(os.environ, **threads, **FAISS_ENVS[name])
            theirs[name] = run_json([sys.executable, os.path.abspath(__file__), "--k", str(a.k),
                                     "--reps", str(a.reps), "--single-reps", str(a.single_reps),
                                     "--threads", str(a.threads), "--faiss-child", prefix],
                                    a.max_wait, env)
            agreement[name] = compare_neighbours(prefix, a.tie_tolerance)
    return {"ours": ours, "faiss": theirs, "agreement": agreement}


def fastest_faiss(result, key):
    """The faiss environment with the lowest median of `key`."""
    return min(result["faiss"], key=lambda n: result["faiss"][n][key])


def print_index_table(a, result):
    ours, theirs, agreement = result["ours"], result["faiss"], result["agreement"]
    print(f"{a.rows} x {a.dim} f32 database, {a.queries} queries, k = {a.k}, {a.threads} "
          f"threads, medians of {a.reps} (single query: of {a.single_reps})")
    print(f"{'engine':<24} {'build s':>8} {'search s':>9} {'queries/s':>10} {'1 query ms':>11} "
          f"{'peak MiB':>9} {'same ids':>9} {'others':>7}")

    def row(label, r, same):
        print(f"{label:<24} {r['build_median_s']:>8.3f} {r['search_median_s']:>9.3f} "
              f"{r['queries_per_s']:>10.0f} {1e3 * r['single_median_s']:>11.2f} "
              f"{r['peak_rss_mib']:>9.0f} {same:>9} {r['other_load_cores']:>7.2f}")

    row(ours["engine"], ours, "")
    for name, t in theirs.items():
        row(f"{t['engine']} ({name})", t, f"{agreement[name]['same_ids']:.4f}")
    print("same ids: share of slots where both return the same row (the rest are ties); "
          "others: cores other processes used")
    for key, what in (("build_median_s", "build"), ("search_median_s", "search"),
                      ("single_median_s", "one query")):
        best = fastest_faiss(result, key)
        print(f"ratio ours / fastest faiss ({best}), {what}: {ours[key] / theirs[best][key]:.2f}x")


def check_agreement(result):
    """Fails the run when the neighbours differ beyond ties."""
    bad = {name: g for name, g in result["agreement"].items() if g["not_ties"]}
    if bad:
        sys.exit(f"neighbours differ beyond ties: {bad}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default="build-bench")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    add_index_arguments(p)
    p.add_argument("--max-wait", type=float, default=300,
                   help="longest wait in seconds for an idle second before each side runs")
    p.add_argument("--faiss-child", nargs=1, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.faiss_child:
        print(json.dumps(faiss_child(a.faiss_child[0], a.k, a.reps, a.single_reps, a.threads)))
        return
    result = run_index(a, faiss_envs(p, a))
    print_index_table(a, result)
    print(json.dumps(result))
    check_agreement(result)


if __name__ == "__main__":
    main()
