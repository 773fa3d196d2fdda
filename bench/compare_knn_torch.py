#!/usr/bin/env python3
"""Exact kNN on a GPU: times our search (build/bench/knn_bench --device cuda:
chunked cuBLAS GEMM + our selection kernel) and a plain PyTorch matmul + topk
on the same embeddings, on the same GPU, in one run; prints seconds, the
ratio and Recall@1/@8 of both.

    python3 bench/compare_knn_torch.py [--rows 1000000] [--dim 128] [--reps 3] [--build build]

Both search every row against all rows with the row itself excluded, k = 8,
squared Euclidean distances in f32 (TF32 off on both sides). PyTorch's side:
per chunk of queries, |q|^2 + |x|^2 - 2 q x^T, the diagonal set to +inf,
torch.topk(largest=False). The recall time adds Recall@1,2,4,8 from the lists.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def torch_knn(x, k, chunk):
    import torch
    n = x.shape[0]
    sq = (x * x).sum(1)
    out = torch.empty(n, k, dtype=torch.int64, device=x.device)
    for q0 in range(0, n, chunk):
        q = x[q0:q0 + chunk]
        d = sq[q0:q0 + chunk, None] + sq[None, :] - 2 * (q @ x.T)
        rows = torch.arange(q.shape[0], device=x.device)
        d[rows, rows + q0] = float("inf")
        out[q0:q0 + chunk] = d.topk(k, dim=1, largest=False).indices
    return out


def recall(indices, labels):
    hit = labels[indices] == labels[:, None]
    first = torch_first_true(hit)
    return [(first < k).float().mean().item() for k in (1, 2, 4, 8)]


def torch_first_true(hit):
    import torch
    depth = hit.shape[1]
    pos = torch.arange(depth, device=hit.device).expand_as(hit)
    return torch.where(hit, pos, torch.full_like(pos, depth)).min(1).values


def timed(reps, f):
    import torch
    f()
    torch.cuda.synchronize()
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        torch.cuda.synchronize()
        out.append(time.perf_counter() - t0)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--chunk-rows", type=int, default=1024)
    p.add_argument("--build", default="build")
    p.add_argument("--out", default="/tmp/knn_gpu")
    a = p.parse_args()
    cmd = [os.path.join(a.build, "bench", "knn_bench"), "--device", "cuda", "--rows", str(a.rows),
           "--dim", str(a.dim), "--k", "8", "--reps", str(a.reps), "--chunk-rows",
           str(a.chunk_rows), "--out", a.out]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed (status {r.returncode}):\n{r.stderr.strip()}")
    ours = json.loads(r.stdout.strip().splitlines()[-1])

    import numpy as np
    import torch
    torch.backends.cuda.matmul.allow_tf32 = False
    x = torch.from_numpy(np.load(a.out + "_x.npy")).cuda()
    labels = torch.from_numpy(np.load(a.out + "_labels.npy")).cuda()
    result = {}
    knn_s = timed(a.reps, lambda: result.update(nn=torch_knn(x, 8, a.chunk_rows)))
    eval_s = timed(a.reps, lambda: result.update(r=recall(torch_knn(x, 8, a.chunk_rows), labels)))
    same = (torch.from_numpy(np.load(a.out + "_indices.npy")).cuda() == result["nn"]).float()

    t_knn, t_eval = statistics.median(knn_s), statistics.median(eval_s)
    print(f"exact kNN, {a.rows} x {a.dim} f32 against itself, k = 8, self excluded, "
          f"{torch.cuda.get_device_name()}")
    print(f"{'engine':<22} {'search s':>9} {'recall s':>9} {'R@1':>7} {'R@8':>7}")
    print(f"{'dml':<22} {ours['knn_median_s']:9.3f} {ours['recall_eval_median_s']:9.3f} "
          f"{ours['recall@1']:7.4f} {ours['recall@8']:7.4f}")
    print(f"{'pytorch ' + torch.__version__:<22} {t_knn:9.3f} {t_eval:9.3f} "
          f"{result['r'][0]:7.4f} {result['r'][3]:7.4f}")
    print(f"ratio dml / pytorch time: search {ours['knn_median_s'] / t_knn:.2f}x, "
          f"recall {ours['recall_eval_median_s'] / t_eval:.2f}x; same neighbour at "
          f"{same.mean().item():.4%} of ranks")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
