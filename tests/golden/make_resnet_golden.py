#!/usr/bin/python3
"""Reference outputs and gradients of torchvision ResNets for the parity tests.

    /usr/bin/python3 tests/golden/make_resnet_golden.py            # committed fixtures
    /usr/bin/python3 tests/golden/make_resnet_golden.py --full DIR # resnet18/50, full size

Needs Debian's python3-torch and python3-torchvision. Each case is one
safetensors file: the model's state_dict ("param.<name>"), the input, the
output, the upstream weights w of the loss sum(output * w), the gradient of
every parameter ("grad.<name>") and, in training mode, the batch-norm buffers
after the forward pass ("after.<name>"). Metadata holds the configuration.

The committed cases use torchvision's own blocks (BasicBlock, Bottleneck and
_make_layer) at reduced widths and image sizes. The full-size cases (not
committed; about 600 MB) use torchvision.models.resnet18 and resnet50 as they
are. Both are computed in f64: in f32, a batch of 2 through batch norm with
batch statistics amplifies rounding into percent-level differences in the
first layers' gradients (seen on resnet18), which would hide real errors.
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
from convert_pth_to_safetensors import write_safetensors  # noqa: E402


class ScaledResNet(ResNet):
    """torchvision's ResNet with chosen stage widths and an optional small stem."""

    def __init__(self, block, depths, widths, num_classes, small_stem):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes, self.dilation, self.groups, self.base_width = widths[0], 1, 1, 64
        if small_stem:
            self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
            self.maxpool = nn.Identity()
        else:
            self.conv1 = nn.Conv2d(3, widths[0], 7, 2, 3, bias=False)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        for i, (d, w) in enumerate(zip(depths, widths)):
            setattr(self, f"layer{i + 1}", self._make_layer(block, w, d, stride=1 if i == 0 else 2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        features = widths[-1] * block.expansion
        self.fc = nn.Linear(features, num_classes) if num_classes else nn.Identity()
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


def randomize_batch_norm(model, gen):
    """Non-trivial BN parameters and statistics, so eval mode tests something."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.weight.data = torch.rand(c, generator=gen) + 0.5
            m.bias.data = torch.randn(c, generator=gen) * 0.1
            m.running_mean = torch.randn(c, generator=gen) * 0.1
            m.running_var = torch.rand(c, generator=gen) + 0.5


def run_case(path, model, config, image, training, dtype, seed):
    gen = torch.Generator().manual_seed(seed)
    randomize_batch_norm(model, gen)
    model = model.to(dtype)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    model.train(training)
    x = torch.randn(2, 3, image, image, generator=gen).to(dtype)
    out = model(x)
    w = torch.randn(out.shape, generator=gen).to(dtype)
    (out * w).sum().backward()
    tensors = {"input": x, "output": out, "upstream": w}
    tensors.update({"param." + k: v for k, v in state.items()})
    tensors.update({"grad." + k: p.grad for k, p in model.named_parameters()})
    if training:
        tensors.update({"after." + k: v for k, v in model.state_dict().items() if "running" in k})
    meta = dict(config, training=training, image=image)
    write_safetensors(path, [(k, v.detach()) for k, v in tensors.items()],
                      {"config": json.dumps(meta)})
    print(f"wrote {path}: {sum(p.numel() for p in model.parameters())} parameters")


def small_cases(out_dir):
    cases = [
        ("resnet_basic", BasicBlock, "basic", [2, 1, 1, 1], [4, 8, 8, 16], 5, False, 32),
        ("resnet_bottleneck", Bottleneck, "bottleneck", [1, 2, 1, 1], [2, 4, 4, 8], 3, False, 32),
        ("resnet_small_stem", BasicBlock, "basic", [1, 1, 1, 1], [4, 8, 8, 16], 0, True, 16),
    ]
    seed = 0
    for name, block, kind, depths, widths, classes, small, image in cases:
        config = {"block": kind, "depths": depths, "widths": widths, "num_classes": classes,
                  "small_stem": small}
        for training in (True, False):
            torch.manual_seed(seed)
            model = ScaledResNet(block, depths, widths, classes, small)
            mode = "train" if training else "eval"
            run_case(os.path.join(out_dir, f"{name}_{mode}.safetensors"), model, config, image,
                     training, torch.float64, seed)
            seed += 1


def state_dict_layouts(out_dir):
    """Names, shapes and order of every torchvision ResNet's state_dict."""
    layouts = {}
    for name in ("resnet18", "resnet34", "resnet50", "resnet101"):
        model = getattr(torchvision.models, name)()
        layouts[name] = [[k, list(v.shape)] for k, v in model.state_dict().items()]
    with open(os.path.join(out_dir, "torchvision_resnet_layouts.json"), "w") as f:
        json.dump(layouts, f)
    print("wrote the state_dict layouts of", ", ".join(layouts))


def full_cases(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for name, kind, depths in (("resnet18", "basic", [2, 2, 2, 2]),
                               ("resnet50", "bottleneck", [3, 4, 6, 3])):
        torch.manual_seed(0)
        model = getattr(torchvision.models, name)()
        config = {"block": kind, "depths": depths, "widths": [64, 128, 256, 512],
                  "num_classes": 1000, "small_stem": False}
        run_case(os.path.join(out_dir, f"{name}_train.safetensors"), model, config, 224, True,
                 torch.float64, 0)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--full":
        full_cases(sys.argv[2])
    else:
        small_cases(os.path.join(HERE, "fixtures"))
        state_dict_layouts(os.path.join(HERE, "fixtures"))
