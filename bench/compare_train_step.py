#!/usr/bin/python3
"""Times the DML training step of bench/train_step.cpp and the same step in
PyTorch, on this machine, with the same thread count, in one run; prints
images per second, peak memory and the ratio.

    /usr/bin/python3 bench/compare_train_step.py [--threads 2] [--steps 10] [--build build]

Needs Debian's python3-torch and python3-torchvision, and a built
build/bench/train_step. Each measurement runs in its own process, so peak
resident memory is the step's and not another model's. The step: a ResNet
backbone without its classifier, average pooling, Linear to 128, L2
normalisation; a contrastive loss on squared distances over a batch of 2
images per class (margin 1); backward; Adam (lr 1e-4).
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

CONFIGS = [("resnet18", 64, 32), ("resnet50", 224, 16)]


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def torch_step(model_name, image, batch, steps, warmup, threads):
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
    rss_setup = rss_bytes()
    times, loss = [], 0.0
    for s in range(warmup + steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        e = F.normalize(net(x), dim=1)
        sq = (e * e).sum(1)
        d2 = (sq[:, None] + sq[None, :] - 2 * e @ e.t()).clamp(min=0)
        l = (pos * d2).sum() / pos.sum() + (neg * F.relu(1 - d2)).sum() / neg.sum()
        l.backward()
        opt.step()
        loss = l.item()
        if s >= warmup:
            times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"engine": "pytorch " + torch.__version__, "model": model_name, "image": image,
            "batch": batch, "threads": torch.get_num_threads(), "median_s": median,
            "img_per_s": batch / median, "loss": loss, "peak_rss_bytes": peak,
            "step_rss_bytes": peak - rss_setup}


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--build", default="build")
    p.add_argument("--only", default="", help="run only this model")
    p.add_argument("--torch-child", nargs=3, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.torch_child:
        name, image, batch = a.torch_child
        print(json.dumps(torch_step(name, int(image), int(batch), a.steps, a.warmup, a.threads)))
        return
    mib = 1 / (1 << 20)
    print(f"{'model':<10} {'image':>5} {'batch':>5} {'engine':<16} {'img/s':>8} "
          f"{'step RSS MiB':>13} {'peak RSS MiB':>13}")
    for name, image, batch in CONFIGS:
        if a.only and name != a.only:
            continue
        ours = run([os.path.join(a.build, "bench", "train_step"), "--model", name, "--image",
                    str(image), "--batch", str(batch), "--steps", str(a.steps), "--warmup",
                    str(a.warmup), "--threads", str(a.threads)])
        theirs = run([sys.executable, __file__, "--threads", str(a.threads), "--steps",
                      str(a.steps), "--warmup", str(a.warmup), "--torch-child", name, str(image),
                      str(batch)])
        for r in (ours, theirs):
            print(f"{name:<10} {image:>5} {batch:>5} {r['engine']:<16} {r['img_per_s']:>8.2f} "
                  f"{r['step_rss_bytes'] * mib:>13.0f} {r['peak_rss_bytes'] * mib:>13.0f}")
        print(f"{name:<10} ratio dml / pytorch: {ours['img_per_s'] / theirs['img_per_s']:.2f}x "
              f"img/s, {ours['step_rss_bytes'] / theirs['step_rss_bytes']:.2f}x step memory "
              f"(dml tensors peak {ours['peak_tensor_bytes'] * mib:.0f} MiB)")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
