#!/usr/bin/python3
"""Times the DML training step of bench/train_step.cpp and the same step in
PyTorch, on this machine, in one run; prints images per second, peak memory
and the ratio.

    /usr/bin/python3 bench/compare_train_step.py [--threads 2] [--steps 10] [--build build]
        [--only resnet50] [--rows "resnet18 train f32,resnet50 eval bf16"]
    python3 bench/compare_train_step.py --device cuda [--steps 30] [--build build]

CPU (default): Debian's python3-torch and python3-torchvision, the same thread
count on both sides; the step is a ResNet backbone without its classifier,
average pooling, Linear to 128, L2 normalisation; a contrastive loss on
squared distances over a batch of 2 images per class (margin 1); backward;
Adam (lr 1e-4). Rows: the training step of resnet18 at 64 px (batch 32) and
resnet50 at 224 px (batch 16), and the embedding of a batch of 32 at 224 px by
resnet50 in eval mode with no gradient (train_step --eval), each in f32 and
in bf16 autocast (ours: --precision bf16, the network's forward in bf16;
PyTorch: torch.autocast("cpu", dtype=torch.bfloat16) around forward and
loss). The table starts with the CPU's model and the flags that decide its
bf16 paths. Each measurement runs in its own process, so peak resident memory
is the step's and not another model's.

CUDA (--device cuda): the DML protocol's step, ResNet-50 at 224 px, batch 112
(56 classes x 2), the margin loss (alpha 0.2, learnable beta 1.2) on the
triplets of distance-weighted sampling (cutoff 0.5, nonzero-loss cutoff 1.4),
Adam. Ours in f32, TF32 and bf16, then TF32 and bf16 with the step captured
in a CUDA graph, bf16 with the unfused margin loss, and bf16 with
channels-last activations (eager and captured); PyTorch in f32, TF32
and bf16 autocast, eager and torch.compile. Peak memory is the tensors' peak on the device
(our caching allocator's peak bytes in use; torch.cuda.max_memory_allocated).
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

# The CPU rows: (label, model, image, batch, mode, precision); mode "train" is
# the training step, "eval" the no-grad forward in eval mode.
CPU_ROWS = [(f"{model} {mode} {precision}", model, image, batch, mode, precision)
            for model, image, batch, mode in [("resnet18", 64, 32, "train"),
                                              ("resnet50", 224, 16, "train"),
                                              ("resnet50", 224, 32, "eval")]
            for precision in ("f32", "bf16")]
# /proc/cpuinfo flags that decide which of the kernels' paths run.
CPU_FLAGS = ("avx512f", "avx512_bf16", "amx_bf16")


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def cpu_description():
    """The CPU's model name and whether it has each of CPU_FLAGS, from /proc/cpuinfo."""
    model, flags = "unknown CPU", set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    return model + " | " + ", ".join(f"{flag} {'yes' if flag in flags else 'no'}"
                                     for flag in CPU_FLAGS)


def torch_step(model_name, image, batch, steps, warmup, threads, mode, precision):
    import torch
    import torch.nn.functional as F
    import torchvision

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = getattr(torchvision.models, model_name)()
    net.fc = torch.nn.Linear(net.fc.in_features, 128)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    x = torch.randn(batch, 3, image, image)
    labels = torch.arange(batch) // 2
    same = (labels[:, None] == labels[None, :]).float()
    pos, neg = same - torch.eye(batch), 1 - same

    def autocast():
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")

    def train_step():
        opt.zero_grad()
        with autocast():
            e = F.normalize(net(x), dim=1)
            sq = (e * e).sum(1)
            d2 = (sq[:, None] + sq[None, :] - 2 * e @ e.t()).clamp(min=0)
            l = (pos * d2).sum() / pos.sum() + (neg * F.relu(1 - d2)).sum() / neg.sum()
        l.backward()
        opt.step()
        return l.item()

    def embed():  # train_step --eval: the checksum is the embeddings' sum
        with torch.no_grad(), autocast():
            return F.normalize(net(x), dim=1).float().sum().item()

    if mode == "eval":
        net.eval()
    step = embed if mode == "eval" else train_step
    rss_setup = rss_bytes()
    times, loss = [], 0.0
    for s in range(warmup + steps):
        t0 = time.perf_counter()
        loss = step()
        if s >= warmup:
            times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"engine": "pytorch " + torch.__version__, "model": model_name, "image": image,
            "batch": batch, "mode": mode, "precision": precision,
            "threads": torch.get_num_threads(), "median_s": median, "img_per_s": batch / median,
            "loss_value": loss, "peak_rss_bytes": peak, "step_rss_bytes": peak - rss_setup}


GPU_CONFIG = ("resnet50", 224, 112)
# (label, our flags | None, torch precision, torch.compile)
GPU_VARIANTS = [("f32", ["--precision", "f32"], "f32", False),
                ("tf32", ["--precision", "tf32"], "tf32", False),
                ("tf32 compile", None, "tf32", True),
                ("bf16", ["--precision", "bf16"], "bf16", False),
                ("bf16 compile", None, "bf16", True)]
# Ours only, against the PyTorch rows of the same precision: the step
# captured in a CUDA graph (train_step --cuda-graph), and the margin loss on
# its composite path (host miner, separate ops) to show what the fused kernel
# saves. (label, our flags, precision)
OUR_EXTRAS = [("tf32 graph", ["--precision", "tf32", "--cuda-graph"], "tf32"),
              ("bf16 graph", ["--precision", "bf16", "--cuda-graph"], "bf16"),
              ("bf16 unfused", ["--precision", "bf16", "--loss", "margin_composite"], "bf16"),
              ("bf16 nhwc", ["--precision", "bf16", "--channels-last"], "bf16"),
              ("bf16 nhwc graph", ["--precision", "bf16", "--channels-last", "--cuda-graph"],
               "bf16")]


def distance_weighted_triplets(e, labels, cutoff=0.5, nonzero_loss_cutoff=1.4):
    """Wu et al. 2017: for each positive pair (a, p) one negative of a drawn with
    weight 1/q(d), d clamped below at cutoff, zero beyond the nonzero-loss cutoff
    (uniform over a's negatives when all are beyond it). No gradient."""
    import torch
    with torch.no_grad():
        n, dim = e.shape
        d = torch.cdist(e.float(), e.float()).clamp(min=cutoff)
        log_w = (2.0 - dim) * d.log() - ((dim - 3) / 2) * (1.0 - 0.25 * d * d).clamp(
            min=1e-8).log()
        same = labels[:, None] == labels[None, :]
        negative = ~same
        log_w = log_w.masked_fill(~(negative & (d < nonzero_loss_cutoff)), -float("inf"))
        w = torch.exp(log_w - log_w.amax(1, keepdim=True).clamp(min=-1e30))
        none = w.sum(1, keepdim=True) == 0
        w = torch.where(none, negative.float(), w)
        anchor, positive = (same & ~torch.eye(n, dtype=torch.bool, device=e.device)).nonzero(
            as_tuple=True)
        negative_idx = torch.multinomial(w[anchor], 1).squeeze(1)
    return anchor, positive, negative_idx


def margin_loss(e, labels, beta, alpha=0.2):
    import torch
    a, p, n = distance_weighted_triplets(e, labels)
    d_ap = (e[a] - e[p]).pow(2).sum(1).clamp(min=1e-8).sqrt()
    d_an = (e[a] - e[n]).pow(2).sum(1).clamp(min=1e-8).sqrt()
    terms = torch.cat([(alpha + d_ap - beta).clamp(min=0), (alpha - d_an + beta).clamp(min=0)])
    return terms.sum() / (terms > 0).sum().clamp(min=1)


def torch_gpu_step(model_name, image, batch, steps, warmup, precision, compiled):
    import torch
    import torch.nn.functional as F
    import torchvision

    tf32 = precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    dev = torch.device("cuda")
    net = getattr(torchvision.models, model_name)()
    net.fc = torch.nn.Linear(net.fc.in_features, 128)
    net = net.to(dev)
    beta = torch.nn.Parameter(torch.tensor(1.2, device=dev))
    opt = torch.optim.Adam([{"params": net.parameters(), "lr": 1e-4},
                            {"params": [beta], "lr": 5e-3}])
    x = torch.randn(batch, 3, image, image, device=dev)
    labels = torch.arange(batch, device=dev) // 2
    forward = torch.compile(net) if compiled else net

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=precision == "bf16"):
            out = forward(x)
        loss = margin_loss(F.normalize(out.float(), dim=1), labels, beta)
        loss.backward()
        opt.step()
        return loss

    times, loss = [], 0.0
    for s in range(warmup + steps):
        if s == warmup:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        loss = step().item()  # waits for the device, like ours
        if s >= warmup:
            times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    return {"engine": "pytorch " + torch.__version__, "gpu": torch.cuda.get_device_name(),
            "median_s": median, "img_per_s": batch / median, "loss_value": loss,
            "peak_tensor_bytes": torch.cuda.max_memory_allocated()}


def compare_gpu(a):
    name, image, batch = GPU_CONFIG
    mib = 1 / (1 << 20)
    rows = {}
    print(f"{name} {image} px batch {batch} (56 classes x 2), margin loss + distance-weighted "
          f"miner, Adam, {a.steps} timed steps after {a.warmup}")
    print(f"{'variant':<14} {'dml img/s':>10} {'torch img/s':>12} {'ratio':>7} "
          f"{'dml MiB':>8} {'torch MiB':>10}")
    for label, flags, precision, compiled in GPU_VARIANTS:
        ours = our_gpu_step(a, flags) if flags is not None else None
        r = subprocess.run([sys.executable, __file__, "--steps", str(a.steps), "--warmup",
                            str(a.warmup), "--torch-gpu-child", precision, str(int(compiled))],
                           capture_output=True, text=True)
        if r.returncode != 0:  # one PyTorch variant failing (e.g. compile) skips that row
            print(f"{label:<14} pytorch failed: {r.stderr.strip().splitlines()[-1:]}")
            continue
        theirs = json.loads(r.stdout.strip().splitlines()[-1])
        rows[label] = (ours, theirs)
        dml_ips = f"{ours['img_per_s']:10.1f}" if ours else f"{'n/a':>10}"
        ratio = f"{ours['img_per_s'] / theirs['img_per_s']:6.2f}x" if ours else f"{'':>7}"
        dml_mem = f"{ours['peak_tensor_bytes'] * mib:8.0f}" if ours else f"{'':>8}"
        print(f"{label:<14} {dml_ips} {theirs['img_per_s']:12.1f} {ratio} {dml_mem} "
              f"{theirs['peak_tensor_bytes'] * mib:10.0f}")
        sys.stdout.flush()
    if "tf32" in rows and "tf32 compile" in rows:
        ours = rows["tf32"][0]["img_per_s"]
        print(f"dml tf32 / torch.compile tf32: {ours / rows['tf32 compile'][1]['img_per_s']:.2f}x")
    if "bf16" in rows and "bf16 compile" in rows:
        ours = rows["bf16"][0]["img_per_s"]
        print(f"dml bf16 / torch.compile bf16: {ours / rows['bf16 compile'][1]['img_per_s']:.2f}x")
    for label, flags, precision in OUR_EXTRAS:
        try:
            ours = our_gpu_step(a, flags, check=False)
        except RuntimeError as e:  # one of ours failing skips its row
            print(f"{label:<14} dml failed: {e}")
            continue
        versus = [f"{ours['img_per_s'] / rows[k][1]['img_per_s']:.2f}x torch {k}"
                  for k in (precision, precision + " compile") if k in rows]
        print(f"{label:<14} {ours['img_per_s']:10.1f} img/s {ours['peak_tensor_bytes'] * mib:8.0f} "
              f"MiB  {', '.join(versus)}")
        sys.stdout.flush()
    if rows:
        print("GPU:", next(iter(rows.values()))[1]["gpu"])


def our_gpu_step(a, flags, check=True):
    """Our GPU step (margin loss unless flags name another) as JSON."""
    name, image, batch = GPU_CONFIG
    loss = [] if "--loss" in flags else ["--loss", "margin"]
    return run([os.path.join(a.build, "bench", "train_step"), "--device", "cuda", "--model", name,
                "--image", str(image), "--batch", str(batch), "--steps", str(a.steps),
                "--warmup", str(a.warmup)] + loss + flags, check)


def run(cmd, check=True):
    """The last stdout line of cmd as JSON. On failure: cmd's stderr and exit 1,
    or with check=False a RuntimeError carrying stderr's last line."""
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        if not check:
            raise RuntimeError((r.stderr.strip().splitlines() or ["no output"])[-1])
        sys.exit(f"{' '.join(cmd)} failed (status {r.returncode}):\n{r.stderr.strip()}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--build", default="build")
    p.add_argument("--only", default="", help="run only this model's rows")
    p.add_argument("--rows", default="",
                   help="comma-separated row labels to run (CPU), e.g. 'resnet50 eval bf16'")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--torch-child", nargs=5, help=argparse.SUPPRESS)
    p.add_argument("--torch-gpu-child", nargs=2, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.torch_gpu_child:
        name, image, batch = GPU_CONFIG
        precision, compiled = a.torch_gpu_child
        print(json.dumps(torch_gpu_step(name, image, batch, a.steps, a.warmup, precision,
                                        compiled == "1")))
        return
    if a.device == "cuda":
        compare_gpu(a)
        return
    if a.torch_child:
        name, image, batch, mode, precision = a.torch_child
        print(json.dumps(torch_step(name, int(image), int(batch), a.steps, a.warmup, a.threads,
                                    mode, precision)))
        return
    compare_cpu(a)


def compare_cpu(a):
    wanted = [r.strip() for r in a.rows.split(",") if r.strip()]
    unknown = set(wanted) - {row[0] for row in CPU_ROWS}
    if unknown:
        sys.exit(f"--rows: unknown {sorted(unknown)}; rows are {[row[0] for row in CPU_ROWS]}")
    mib = 1 / (1 << 20)
    print("CPU:", cpu_description())
    print(f"{a.threads} threads, median of {a.steps} steps after {a.warmup}")
    print(f"{'row':<22} {'image':>5} {'batch':>5} {'ours img/s':>10} {'PyTorch img/s':>13} "
          f"{'ratio':>6} {'ours step MiB':>13} {'PyTorch step MiB':>16}")
    for label, name, image, batch, mode, precision in CPU_ROWS:
        if (a.only and name != a.only) or (wanted and label not in wanted):
            continue
        ours = run([os.path.join(a.build, "bench", "train_step"), "--model", name, "--image",
                    str(image), "--batch", str(batch), "--steps", str(a.steps), "--warmup",
                    str(a.warmup), "--threads", str(a.threads), "--precision", precision] +
                   (["--eval"] if mode == "eval" else []))
        theirs = run([sys.executable, __file__, "--threads", str(a.threads), "--steps",
                      str(a.steps), "--warmup", str(a.warmup), "--torch-child", name, str(image),
                      str(batch), mode, precision])
        print(f"{label:<22} {image:>5} {batch:>5} {ours['img_per_s']:>10.2f} "
              f"{theirs['img_per_s']:>13.2f} {ours['img_per_s'] / theirs['img_per_s']:>5.2f}x "
              f"{ours['step_rss_bytes'] * mib:>13.0f} {theirs['step_rss_bytes'] * mib:>16.0f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
