#!/usr/bin/python3
"""Data-parallel scaling of `dml train` on this machine: the same run (same
config, same global batch) in one process and on N ranks under mpirun, each
repeated; prints the median training throughput, the step time, the scaling
and what one step moves between ranks. With --peer, PyTorch's
DistributedDataParallel (gloo) in the same run: the same backbone, input size,
embedding size and global batch on one process and on N, the embeddings
all-gathered with their gradient (torch.distributed.nn) as ours are.

    /usr/bin/python3 bench/compare_ranks.py [--build build] [--ranks 2] [--steps 30]
        [--repeats 3] [--peer] [--set section.key=value ...]

Threads: the one-process run uses every core (train.threads 0); on N ranks
each rank uses cores / N (the trainer's default under mpirun), so both runs
have the same cores. The throughput is the epoch's images per second from
metrics.jsonl (loading, steps, gradient all-reduce and checkpoint of the
epoch; not the evaluation). Bytes per step: the gradient all-reduce (every
parameter, f32; a ring all-reduce sends 2 (N - 1) / N of it from each rank)
and the embedding all-gather (global batch x embedding size, f32, forward,
plus the reduce of its gradient in backward).
"""
import argparse
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile


def parameter_count(checkpoint):
    """Elements of the model.* tensors of a safetensors checkpoint."""
    with open(checkpoint, "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    count = 0
    for name, info in header.items():
        if name.startswith("model.") and info["dtype"] in ("F32", "F64"):
            n = 1
            for d in info["shape"]:
                n *= d
            count += n
    return count


def run(dml, ranks, out, steps, overrides):
    cmd = [dml, "train", "--overwrite", "--set", f"train.output={out}", "train.epochs=1",
           f"train.max_steps_per_epoch={steps}", "eval.limit=200", "eval.clustering=false",
           "train.log_every=1000"] + overrides
    if ranks > 1:
        mpirun = shutil.which("mpirun")
        if not mpirun:
            sys.exit("compare_ranks: mpirun not found (apt-get install openmpi-bin)")
        cmd = [mpirun, "-n", str(ranks), "--oversubscribe", "--bind-to", "none"] + cmd
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"compare_ranks: {' '.join(cmd)} failed:\n{done.stdout}{done.stderr}")
    with open(os.path.join(out, "metrics.jsonl")) as f:
        line = json.loads(f.readlines()[-1])
    return line["images_per_second"], line["seconds"] / line["steps"]


def torch_rank(rank, ranks, threads, config, steps, port, out):
    """One rank of PyTorch's data-parallel step: torchvision's backbone with a
    Linear embedding head, L2-normalised, the multi-similarity loss (alpha 2,
    beta 50, base 0.5, as ours) over the all-gathered batch, Adam; random
    images (no decoding). Rank 0 writes the median step time."""
    import statistics as stats
    import time
    import torch
    import torch.distributed as dist
    import torch.distributed.nn.functional as dnn
    import torch.nn.functional as F
    import torchvision

    torch.set_num_threads(threads)
    if ranks > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                                world_size=ranks)
    torch.manual_seed(0)
    m, batch = config["train"]["m"], config["train"]["batch_size"]
    size, dim = config["augment"]["image_size"], config["model"]["embedding_dim"]
    channels = config["model"]["in_channels"]
    net = getattr(torchvision.models, config["model"]["backbone"])()
    net.conv1 = torch.nn.Conv2d(channels, 64, 7, 2, 3, bias=False)
    net.fc = torch.nn.Linear(net.fc.in_features, dim)
    if ranks > 1:
        net = torch.nn.parallel.DistributedDataParallel(net, bucket_cap_mb=25)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    local = batch // ranks
    x = torch.randn(local, channels, size, size)
    labels = torch.arange(batch) // m

    def loss_of(e):
        s = e @ e.t()
        same = labels[:, None] == labels[None, :]
        pos = same & ~torch.eye(batch, dtype=torch.bool)
        neg = ~same
        lp = torch.logsumexp(torch.where(pos, -2 * (s - 0.5), torch.full_like(s, -1e9)), 1)
        ln = torch.logsumexp(torch.where(neg, 50 * (s - 0.5), torch.full_like(s, -1e9)), 1)
        return (F.softplus(lp) / 2 + F.softplus(ln) / 50).mean()

    times = []
    for step in range(3 + steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        e = F.normalize(net(x), dim=1)
        if ranks > 1:
            e = torch.cat(dnn.all_gather(e), 0)
        loss_of(e).backward()
        opt.step()
        if step >= 3:
            times.append(time.perf_counter() - t0)
    if rank == 0:
        with open(out, "w") as f:
            json.dump(stats.median(times), f)
    if ranks > 1:
        dist.destroy_process_group()


def torch_run(ranks, config, steps, scratch):
    """Median step time of PyTorch on `ranks` processes sharing the cores."""
    import multiprocessing
    import socket

    out = os.path.join(scratch, f"torch{ranks}.json")
    threads = max(1, os.cpu_count() // ranks)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=torch_rank, args=(r, ranks, threads, config, steps, port, out))
             for r in range(ranks)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        if p.exitcode != 0:
            sys.exit(f"compare_ranks: the PyTorch run on {ranks} ranks failed")
    with open(out) as f:
        return json.load(f)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default="build")
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--peer", action="store_true", help="PyTorch DDP (gloo) in the same run")
    p.add_argument("--set", nargs="*", default=[], help="config overrides for both runs")
    args = p.parse_args()
    dml = os.path.join(args.build, "tools", "dml")
    with tempfile.TemporaryDirectory() as scratch:
        results = {}
        for ranks in (1, args.ranks):
            runs = [run(dml, ranks, os.path.join(scratch, f"r{ranks}"), args.steps, args.set)
                    for _ in range(args.repeats)]
            results[ranks] = (statistics.median(r[0] for r in runs),
                              statistics.median(r[1] for r in runs))
        params = parameter_count(os.path.join(scratch, "r1", "checkpoint.safetensors"))
        with open(os.path.join(scratch, "r1", "config.json")) as f:
            config = json.load(f)
        peer = {}
        if args.peer:
            if not config["model"]["backbone"].startswith("resnet"):
                sys.exit("compare_ranks: --peer needs a torchvision backbone: add "
                         "--set model.backbone=resnet18 (or resnet34, resnet50)")
            for ranks in (1, args.ranks):
                peer[ranks] = statistics.median(
                    torch_run(ranks, config, args.steps, scratch) for _ in range(args.repeats))
    batch, dim = config["train"]["batch_size"], config["model"]["embedding_dim"]
    n = args.ranks
    grad_bytes = 4 * params
    gather_bytes = 4 * batch * dim
    print(f"model {config['model']['backbone']}, {params:,} parameters; global batch {batch}; "
          f"{args.steps} steps, median of {args.repeats}")
    print(f"{'ranks':>5} {'images/s':>10} {'step ms':>9} {'scaling':>8}" +
          (f" {'PyTorch img/s':>14} {'scaling':>8} {'ours/PyTorch':>13}" if peer else ""))
    for ranks, (ips, step) in results.items():
        row = f"{ranks:>5} {ips:>10.1f} {1000 * step:>9.1f} {ips / results[1][0]:>7.2f}x"
        if peer:
            theirs = batch / peer[ranks]
            row += f" {theirs:>14.1f} {peer[1] / peer[ranks]:>7.2f}x {ips / theirs:>12.2f}x"
        print(row)
    print(f"per step and rank: gradient all-reduce {grad_bytes / 2**20:.2f} MiB "
          f"(ring: sends {2 * (n - 1) / n * grad_bytes / 2**20:.2f} MiB), embedding all-gather "
          f"{gather_bytes / 2**10:.1f} KiB (+ the same again for its gradient)")


if __name__ == "__main__":
    main()
