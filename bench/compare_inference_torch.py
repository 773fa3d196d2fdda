#!/usr/bin/python3
"""Times the inference path (bench/inference_bench.cpp) beside PyTorch's eval
mode on the same weights and images, on this machine, in one run; prints
images per second, latency, peak memory and the ratios.

    /usr/bin/python3 bench/compare_inference_torch.py [--threads 2] [--rounds 3] [--build build]

The network: a ResNet backbone without its classifier, average pooling,
Linear to 128, L2 normalisation. resnet50 is torchvision's; small_resnet10
(the demo's: 1 channel, 28 px, 3x3 stride-1 stem, no max pool, basic blocks
1-1-1-1 of widths 32-256) is built from torchvision's BasicBlock. The weights
are torchvision's initialisation with random batch-norm statistics and affine
parameters (so folding them matters), written once to a safetensors file with
the exported model's names; both sides load it. PyTorch runs under
torch.no_grad() in eval mode with torch.set_num_threads equal to ours.

Each measurement runs in its own process, `--rounds` times, alternating the
two sides; a round reports the median of `--repeats` calls after a warm-up
call, and the table shows the median round. Peak memory is the process's
peak RSS while embedding (reset after loading the model, through
/proc/self/clear_refs) and its increase over the RSS after loading. The
embeddings of both sides are compared (largest absolute difference). CPU
time per image (every thread's user + system time) is shown beside the wall
times: on a machine shared with other work it moves less than they do.
"""
import argparse
import json
import os
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time

CASES = [("resnet50", 3, 224, 1), ("resnet50", 3, 224, 32),
         ("small_resnet10", 1, 28, 1), ("small_resnet10", 1, 28, 256)]
DIM = 128


def build_model(name, channels):
    import torch
    import torchvision
    from torchvision.models.resnet import BasicBlock

    if name == "small_resnet10":
        net = torchvision.models.resnet.ResNet(BasicBlock, [1, 1, 1, 1])
        widths, inplanes = [32, 64, 128, 256], 32
        net.conv1 = torch.nn.Conv2d(channels, 32, 3, 1, 1, bias=False)
        net.bn1 = torch.nn.BatchNorm2d(32)
        net.maxpool = torch.nn.Identity()
        for i, w in enumerate(widths):
            stride = 1 if i == 0 else 2
            down = None
            if stride != 1 or inplanes != w:
                down = torch.nn.Sequential(torch.nn.Conv2d(inplanes, w, 1, stride, bias=False),
                                           torch.nn.BatchNorm2d(w))
            setattr(net, f"layer{i + 1}", torch.nn.Sequential(BasicBlock(inplanes, w, stride, down)))
            inplanes = w
        features = 256
    else:
        net = getattr(torchvision.models, name)()
        if channels != 3:
            net.conv1 = torch.nn.Conv2d(channels, 64, 7, 2, 3, bias=False)
        features = net.fc.in_features
    net.fc = torch.nn.Identity()
    return net, torch.nn.Linear(features, DIM)


class EmbeddingNet:
    def __init__(self, name, channels):
        import torch

        self.backbone, self.fc = build_model(name, channels)
        self.backbone.eval()
        self.fc.eval()
        self.torch = torch

    def __call__(self, x):
        return self.torch.nn.functional.normalize(self.fc(self.backbone(x)), dim=1)

    def state_dict(self):
        out = {"backbone." + k: v for k, v in self.backbone.state_dict().items()}
        out.update({"head.fc." + k: v for k, v in self.fc.state_dict().items()})
        return out

    def load(self, tensors):
        self.backbone.load_state_dict(
            {k[len("backbone."):]: v for k, v in tensors.items() if k.startswith("backbone.")})
        self.fc.load_state_dict(
            {k[len("head.fc."):]: v for k, v in tensors.items() if k.startswith("head.fc.")})


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().numpy().tobytes()
        dtype = "F32" if t.dtype.is_floating_point else "I64"
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def read_safetensors(path):
    import numpy as np
    import torch

    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        dtype = np.float32 if e["dtype"] == "F32" else np.int64
        out[name] = torch.from_numpy(np.frombuffer(data[b:end], dtype=dtype).reshape(e["shape"]).copy())
    return out


def make_weights(name, channels, path):
    import torch

    torch.manual_seed(0)
    net = EmbeddingNet(name, channels)
    for m in net.backbone.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
    write_safetensors(path, net.state_dict())


def status_bytes(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def cpu_seconds():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def torch_side(a):
    import numpy as np
    import torch

    torch.set_num_threads(a.threads)
    net = EmbeddingNet(a.model, a.channels)
    net.load(read_safetensors(a.weights))
    x = torch.from_numpy(np.load(a.input))
    rss_loaded = status_bytes("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    times, cpu_times = [], []
    with torch.no_grad():
        for r in range(1 + a.repeats):
            t0, c0 = time.perf_counter(), cpu_seconds()
            out = net(x)
            if r >= 1:
                times.append(time.perf_counter() - t0)
                cpu_times.append(cpu_seconds() - c0)
    peak = status_bytes("VmHWM")
    np.save(a.output, out.numpy())
    median = statistics.median(times)
    print(json.dumps({"engine": "torch", "model": a.model, "image": a.image, "batch": a.batch,
                      "threads": torch.get_num_threads(), "median_s": median,
                      "img_per_s": a.batch / median, "latency_ms": median * 1e3,
                      "cpu_s": statistics.median(cpu_times),
                      "peak_rss_bytes": peak, "rss_increase_bytes": peak - rss_loaded}))


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--build", default="build")
    p.add_argument("--cases", default="all", help="comma-separated model:batch, or all")
    p.add_argument("--side")  # internal: one measurement in this process
    p.add_argument("--model")
    p.add_argument("--channels", type=int)
    p.add_argument("--image", type=int)
    p.add_argument("--batch", type=int)
    p.add_argument("--weights")
    p.add_argument("--input")
    p.add_argument("--output")
    a = p.parse_args()
    if a.side == "torch":
        return torch_side(a)

    import numpy as np

    bench = os.path.join(a.build, "bench", "inference_bench")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model, channels, image, batch in CASES:
            if a.cases != "all" and f"{model}:{batch}" not in a.cases.split(","):
                continue
            weights = os.path.join(tmp, f"{model}.safetensors")
            if not os.path.exists(weights):
                make_weights(model, channels, weights)
            images = os.path.join(tmp, "images.npy")
            np.save(images, np.random.default_rng(0).standard_normal(
                (batch, channels, image, image), dtype=np.float32))
            common = ["--model", model, "--channels", str(channels), "--image", str(image),
                      "--batch", str(batch), "--weights", weights, "--input", images,
                      "--repeats", str(a.repeats)]
            ours_out, theirs_out = os.path.join(tmp, "ours.npy"), os.path.join(tmp, "theirs.npy")
            ours, theirs = [], []
            for _ in range(a.rounds):
                theirs.append(run_json([sys.executable, __file__, "--side", "torch", "--threads",
                                        str(a.threads), "--output", theirs_out] + common))
                ours.append(run_json([bench, "--threads", str(a.threads), "--warmup", "1",
                                      "--output", ours_out] + common))
            diff = float(np.abs(np.load(ours_out) - np.load(theirs_out)).max())

            def mid(runs, key):
                return statistics.median(r[key] for r in runs)

            row = {"model": model, "image": image, "batch": batch, "threads": a.threads,
                   "dml_img_per_s": mid(ours, "img_per_s"), "torch_img_per_s": mid(theirs, "img_per_s"),
                   "dml_latency_ms": mid(ours, "latency_ms"),
                   "torch_latency_ms": mid(theirs, "latency_ms"),
                   "dml_cpu_ms_per_img": mid(ours, "cpu_s") * 1e3 / batch,
                   "torch_cpu_ms_per_img": mid(theirs, "cpu_s") * 1e3 / batch,
                   "dml_peak_rss_mib": mid(ours, "peak_rss_bytes") / 2**20,
                   "torch_peak_rss_mib": mid(theirs, "peak_rss_bytes") / 2**20,
                   "dml_rss_increase_mib": mid(ours, "rss_increase_bytes") / 2**20,
                   "torch_rss_increase_mib": mid(theirs, "rss_increase_bytes") / 2**20,
                   "dml_workspace_mib": mid(ours, "workspace_bytes") / 2**20,
                   "max_abs_diff": diff}
            row["speedup"] = row["dml_img_per_s"] / row["torch_img_per_s"]
            print(json.dumps(row), flush=True)
            rows.append(row)
    print()
    print(f"{'model':16} {'px':>4} {'batch':>5} {'dml img/s':>10} {'torch img/s':>11} {'ratio':>6} "
          f"{'dml ms':>8} {'torch ms':>8} {'cpu ms/img dml':>14} {'torch':>6} {'dml peak MiB (+run)':>20} {'torch peak MiB (+run)':>22} "
          f"{'max |diff|':>10}")
    for r in rows:
        print(f"{r['model']:16} {r['image']:4} {r['batch']:5} {r['dml_img_per_s']:10.1f} "
              f"{r['torch_img_per_s']:11.1f} {r['speedup']:6.2f} {r['dml_latency_ms']:8.1f} "
              f"{r['torch_latency_ms']:8.1f} {r['dml_cpu_ms_per_img']:14.1f} "
              f"{r['torch_cpu_ms_per_img']:6.1f} "
              f"{r['dml_peak_rss_mib']:10.0f} ({r['dml_rss_increase_mib']:6.0f}) "
              f"{r['torch_peak_rss_mib']:12.0f} ({r['torch_rss_increase_mib']:6.0f}) "
              f"{r['max_abs_diff']:10.2e}")


if __name__ == "__main__":
    main()
