#!/usr/bin/python3
"""Times embedding through the C API (bench/inference_bench.cpp) beside
PyTorch's eval mode on the same weights and images, on this machine, in one
run; prints images per second, latency, peak memory and the ratios.

    /usr/bin/python3 bench/compare_inference_torch.py [--threads 2] [--rounds 3] [--build build]
        [--cases resnet50:32,...] [--training] [--max-wait 60]

The network: a ResNet backbone without its classifier, average pooling,
Linear to 128, L2 normalisation. resnet50 is torchvision's; small_resnet10
(the demo's: 1 channel, 28 px, 3x3 stride-1 stem, no max pool, basic blocks
1-1-1-1 of widths 32-256) is built from torchvision's BasicBlock. The weights
are torchvision's initialisation with random batch-norm statistics and affine
parameters (so folding them matters), written once as an exported model
file (what `dml train` writes: the tensors under the exported names, the
format and config in the metadata). inference_bench opens it with
dml_model_open and embeds the float NCHW batch with dml_embed_tensor; PyTorch
loads the same tensors and runs under torch.no_grad() in eval mode with
torch.set_num_threads equal to ours. --training also times the training
engine's eval-mode forward of the same file (inference_bench --path training).

Each measurement runs in its own process, `--rounds` times, alternating the
sides, each after an idle second (bench/compare_knn_faiss.py's run_json,
which also records the cores other processes used meanwhile); a round reports
the median of `--repeats` calls after a warm-up call, and the table shows the
median round. Peak memory is the process's peak RSS while embedding (reset
after loading the model, through /proc/self/clear_refs) and its increase over
the RSS after loading. The embeddings of both sides are compared (largest
absolute difference). CPU time per image (every thread's user + system time)
is shown beside the wall times: on a machine shared with other work it moves
less than they do.
"""
import argparse
import json
import os
import resource
import statistics
import struct
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from compare_knn_faiss import run_json  # noqa: E402

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


def write_safetensors(path, tensors, metadata):
    header, chunks, offset = {"__metadata__": metadata}, [], 0
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
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        dtype = np.float32 if e["dtype"] == "F32" else np.int64
        out[name] = torch.from_numpy(np.frombuffer(data[b:end], dtype=dtype).reshape(e["shape"]).copy())
    return out


def model_config(name, channels, image):
    """The config sections an exported model carries (dml/train/config.h)."""
    return {"model": {"backbone": name, "in_channels": channels, "pretrained": "",
                      "embedding_dim": DIM, "pool": "avg", "layer_norm": False},
            "augment": {"image_size": image, "resize": image,
                        "mean": [0.5] * channels, "std": [0.25] * channels}}


def make_model_file(name, channels, image, path):
    """An exported model ("dml-model-1") of seeded weights."""
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
    write_safetensors(path, net.state_dict(), {
        "format": "dml-model-1", "config": json.dumps(model_config(name, channels, image))})


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


def run_case(a, tmp, model, channels, image, batch):
    """One case, every side in its own processes: the median round of each."""
    import numpy as np

    model_file = os.path.join(tmp, f"{model}.safetensors")
    if not os.path.exists(model_file):
        make_model_file(model, channels, image, model_file)
    images = os.path.join(tmp, "images.npy")
    np.save(images, np.random.default_rng(0).standard_normal(
        (batch, channels, image, image), dtype=np.float32))
    bench = [os.path.join(a.build, "bench", "inference_bench"), "--model-file", model_file,
             "--batch", str(batch), "--input", images, "--repeats", str(a.repeats),
             "--threads", str(a.threads)]
    torch_cmd = [sys.executable, os.path.abspath(__file__), "--side", "torch", "--model", model,
                 "--channels", str(channels), "--image", str(image), "--batch", str(batch),
                 "--weights", model_file, "--input", images, "--repeats", str(a.repeats),
                 "--threads", str(a.threads)]
    outs = {side: os.path.join(tmp, side + ".npy") for side in ("api", "training", "torch")}
    runs = {"api": [], "training": [], "torch": []}
    for _ in range(a.rounds):
        runs["torch"].append(run_json(torch_cmd + ["--output", outs["torch"]], a.max_wait))
        runs["api"].append(run_json(bench + ["--output", outs["api"]], a.max_wait))
        if a.training:
            runs["training"].append(run_json(
                bench + ["--path", "training", "--output", outs["training"]], a.max_wait))
    theirs = np.load(outs["torch"])

    def mid(side, key):
        return statistics.median(r[key] for r in runs[side])

    row = {"model": model, "image": image, "batch": batch, "threads": a.threads,
           "rounds": a.rounds, "repeats": a.repeats}
    for side, label in (("api", "dml"), ("torch", "torch")):
        row.update({f"{label}_img_per_s": mid(side, "img_per_s"),
                    f"{label}_latency_ms": mid(side, "latency_ms"),
                    f"{label}_cpu_ms_per_img": mid(side, "cpu_s") * 1e3 / batch,
                    f"{label}_peak_rss_mib": mid(side, "peak_rss_bytes") / 2**20,
                    f"{label}_rss_increase_mib": mid(side, "rss_increase_bytes") / 2**20,
                    f"{label}_other_load_cores": mid(side, "other_load_cores")})
    row["max_abs_diff"] = float(np.abs(np.load(outs["api"]) - theirs).max())
    if a.training:
        row["training_img_per_s"] = mid("training", "img_per_s")
        row["training_max_abs_diff"] = float(np.abs(np.load(outs["training"]) - theirs).max())
    row["speedup"] = row["dml_img_per_s"] / row["torch_img_per_s"]
    return row


def run_cases(a):
    """The rows of every case --cases selects, one JSON line each as it ends."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model, channels, image, batch in CASES:
            if a.cases != "all" and f"{model}:{batch}" not in a.cases.split(","):
                continue
            rows.append(run_case(a, tmp, model, channels, image, batch))
            print(json.dumps(rows[-1]), flush=True)
    return rows


def print_table(rows):
    print(f"{'model':16} {'px':>4} {'batch':>5} {'dml img/s':>10} {'torch img/s':>11} "
          f"{'ratio':>6} {'dml ms':>8} {'torch ms':>8} {'cpu ms/img dml':>14} {'torch':>6} "
          f"{'dml peak MiB (+run)':>20} {'torch peak MiB (+run)':>22} {'max |diff|':>10} "
          f"{'others':>6}")
    for r in rows:
        print(f"{r['model']:16} {r['image']:4} {r['batch']:5} {r['dml_img_per_s']:10.1f} "
              f"{r['torch_img_per_s']:11.1f} {r['speedup']:6.2f} {r['dml_latency_ms']:8.1f} "
              f"{r['torch_latency_ms']:8.1f} {r['dml_cpu_ms_per_img']:14.1f} "
              f"{r['torch_cpu_ms_per_img']:6.1f} "
              f"{r['dml_peak_rss_mib']:10.0f} ({r['dml_rss_increase_mib']:6.0f}) "
              f"{r['torch_peak_rss_mib']:12.0f} ({r['torch_rss_increase_mib']:6.0f}) "
              f"{r['max_abs_diff']:10.2e} "
              f"{max(r['dml_other_load_cores'], r['torch_other_load_cores']):6.2f}")
        if "training_img_per_s" in r:
            print(f"{'':27} training engine: {r['training_img_per_s']:.1f} img/s, "
                  f"max |diff| {r['training_max_abs_diff']:.2e}")
    print("ratio: dml img/s / torch img/s; others: cores other processes used (median round)")


def add_arguments(p):
    """The options of the comparison, shared with bench/compare_deploy.py."""
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--build", default="build")
    p.add_argument("--cases", default="all", help="comma-separated model:batch, or all")
    p.add_argument("--training", action="store_true",
                   help="also time the training engine's forward of the same file")
    p.add_argument("--max-wait", type=float, default=60,
                   help="longest wait in seconds for an idle second before each process")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(p)
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
    rows = run_cases(a)
    print()
    print_table(rows)


if __name__ == "__main__":
    main()
