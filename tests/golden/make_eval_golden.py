#!/usr/bin/python3
"""Writes the reference values tests/test_eval.cpp compares the evaluation against.

    /usr/bin/python3 tests/golden/make_eval_golden.py

Needs numpy and Debian's python3-sklearn (for NMI). Writes
tests/golden/fixtures/eval.json:
  retrieval   small embedding sets with labels: the exact neighbour order
              (f64 distances, ties to the lower index) and per-query Recall@k,
              Precision@1, R-precision and MAP@R, computed here from the
              definitions of Musgrave et al. 2020 ("A Metric Learning Reality
              Check"); queries whose class has no other item are unscored (null)
  clustering  label / cluster pairs with sklearn's NMI (arithmetic mean) and
              the pairwise F1 counted by enumerating every pair of samples
Nothing here calls the engine: the test checks the engine against these.
"""
import itertools
import json
import os

import numpy as np
from sklearn.metrics import normalized_mutual_info_score

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "eval.json")
RECALL_KS = [1, 2, 4, 8]


def f32(x):
    """Values the f32 engine holds exactly, as f64."""
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def distances(q, x, metric):
    if metric == "cosine":
        qn = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
        xn = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        return 1.0 - qn @ xn.T
    return ((q[:, None, :] - x[None, :, :]) ** 2).sum(-1)


def neighbour_order(d, exclude_self):
    """Each row's database indices by distance, ties to the lower index."""
    d = d.copy()
    if exclude_self:
        np.fill_diagonal(d, np.inf)
    order = np.argsort(d, axis=1, kind="stable")
    if exclude_self:
        order = order[:, :-1]  # the query itself, at +inf, sorts last
    return order, np.take_along_axis(d, order, axis=1)


def query_metrics(rel, r):
    """rel: 0/1 relevance of the neighbours in order; r: same-class items."""
    if r == 0:
        return None
    out = {f"recall@{k}": float(rel[:k].any()) for k in RECALL_KS}
    out["precision@1"] = float(rel[0])
    top = rel[:r].astype(np.float64)
    out["r_precision"] = top.sum() / r
    precision_at_i = np.cumsum(top) / np.arange(1, r + 1)
    out["map@r"] = float((precision_at_i * top).sum() / r)
    return out


def min_relative_gap(sorted_d):
    gaps = np.diff(sorted_d, axis=1)
    scale = np.maximum(np.abs(sorted_d[:, 1:]), 1e-3)
    return (gaps / scale).min()


def retrieval_case(name, metric, q, ql, x, xl, exclude_self, check_gaps=True):
    order, dist = neighbour_order(distances(q, x, metric), exclude_self)
    if check_gaps:  # f32 rounding must not be able to swap two neighbours
        assert min_relative_gap(dist) > 1e-4, name
    names = [f"recall@{k}" for k in RECALL_KS] + ["precision@1", "r_precision", "map@r"]
    per_query = {n: [] for n in names}
    relevant = []
    for i in range(len(q)):
        r = int((xl == ql[i]).sum()) - (1 if exclude_self else 0)
        relevant.append(r)
        m = query_metrics(xl[order[i]] == ql[i], r)
        for n in names:
            per_query[n].append(None if m is None else m[n])
    means = {n: float(np.mean([v for v in per_query[n] if v is not None])) for n in names}
    return {
        "name": name, "metric": metric, "exclude_self": exclude_self, "recall_ks": RECALL_KS,
        "queries": q.tolist(), "query_labels": ql.tolist(),
        "database": x.tolist(), "database_labels": xl.tolist(),
        "neighbors": order.tolist(), "distances": dist.tolist(),
        "relevant": relevant, "per_query": per_query, "means": means,
    }


def gaussian_set(seed, sizes, dim):
    """Labelled points, redrawn until no two neighbour distances nearly tie."""
    for s in itertools.count(seed):
        rng = np.random.default_rng(s)
        labels = np.concatenate([np.full(n, 10 * c + 3) for c, n in enumerate(sizes)])
        centres = rng.normal(size=(len(sizes), dim)) * 1.5
        x = f32(centres[np.searchsorted(np.cumsum(sizes), np.arange(sum(sizes)), "right")] +
                rng.normal(size=(len(labels), dim)))
        perm = rng.permutation(len(labels))
        x, labels = x[perm], labels[perm]
        ok = all(min_relative_gap(neighbour_order(distances(x, x, m), True)[1]) > 1e-4
                 for m in ("euclidean", "cosine"))
        if ok:
            return x, labels


def retrieval_cases():
    cases = []
    # Classes of 9, 7, 6, 5 and 2, and one lone sample (R = 0: unscored).
    x, labels = gaussian_set(0, [9, 7, 6, 5, 2, 1], 6)
    for metric in ("euclidean", "cosine"):
        cases.append(retrieval_case(f"gaussian_{metric}", metric, x, labels, x, labels, True))
    # Integer points with exact duplicates and equal distances: the order is
    # decided by the lower-index rule (f32 arithmetic is exact here).
    rng = np.random.default_rng(7)
    base = rng.integers(-2, 3, size=(14, 3))
    pts = np.concatenate([base, base[[0, 3, 5, 5]]])  # duplicates at the end
    pts = f32(pts)
    lab = np.array([1, 1, 2, 2, 3, 3, 1, 2, 3, 1, 2, 3, 4, 4, 2, 1, 3, 5])
    cases.append(retrieval_case("integer_ties", "euclidean", pts, lab, pts, lab, True,
                                check_gaps=False))
    # Query / gallery (In-Shop): label 99 has no gallery item (unscored).
    g, gl = gaussian_set(100, [6, 5, 4, 4, 3], 5)
    rng = np.random.default_rng(3)
    q = f32(g[rng.choice(len(g), 9, replace=False)] + 0.3 * rng.normal(size=(9, 5)))
    ql = np.array([3, 13, 23, 33, 43, 3, 13, 99, 23])
    cases.append(retrieval_case("query_gallery", "euclidean", q, ql, g, gl, False))
    return cases


def pairwise_f1_by_pairs(labels, clusters):
    together = same_cluster = same_class = 0
    for i, j in itertools.combinations(range(len(labels)), 2):
        c, l = clusters[i] == clusters[j], labels[i] == labels[j]
        together += c and l
        same_cluster += c
        same_class += l
    p = together / same_cluster if same_cluster else 0.0
    r = together / same_class if same_class else 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def clustering_cases():
    rng = np.random.default_rng(11)
    labels = rng.integers(0, 6, size=60)
    noisy = np.where(rng.random(60) < 0.25, rng.integers(0, 6, size=60), labels)
    raw = {
        "random": (labels, rng.integers(0, 8, size=60)),
        "mostly_agree": (labels, noisy * 7 + 100),
        "identical_up_to_names": (labels, 5 - labels),
        "one_cluster": (labels, np.zeros(60, dtype=np.int64)),
        "both_single": (np.full(12, 3), np.full(12, -7)),
        "all_singletons": (labels[:20], np.arange(20)),
        "negative_and_large_ids": (np.array([-5, -5, 2**40, 2**40, 7, 7, 7, -5]),
                                   np.array([0, 1, 1, 1, 2, 2, 0, 0])),
    }
    return [{"name": n, "labels": l.tolist(), "clusters": c.tolist(),
             "nmi": float(normalized_mutual_info_score(l, c)),
             "f1": pairwise_f1_by_pairs(l.tolist(), c.tolist())}
            for n, (l, c) in raw.items()]


def main():
    fixture = {"retrieval": retrieval_cases(), "clustering": clustering_cases()}
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
