#!/usr/bin/python3
"""Writes the torchvision reference outputs the transform tests compare against.

Run with Debian's python3-torchvision (0.14) and python3-torch (1.13):
    /usr/bin/python3 tests/golden/make_transforms_golden.py
It writes tests/golden/fixtures/transforms.json. Input images are small random
uint8 images made here from a seeded torch.Generator and stored in the
fixture (HWC); every output comes from torchvision.transforms.functional on
uint8 CHW tensors (resizes with antialias=False), so the tests check our
transforms against torchvision's own code. CI only reads the fixture.
"""
import json
import os

import torch
import torchvision.transforms as T
import torchvision.transforms.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")
GEN = torch.Generator().manual_seed(20220324)
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def image(h, w, c):
    """A random uint8 image, CHW (torchvision's layout)."""
    return torch.randint(0, 256, (c, h, w), generator=GEN, dtype=torch.uint8)


def u8(chw):
    """An image as the fixture stores it: HWC."""
    hwc = chw.permute(1, 2, 0).contiguous()
    return {"dtype": "u8", "shape": list(hwc.shape), "data": hwc.flatten().tolist()}


def f32(t):
    return {"dtype": "f32", "shape": list(t.shape), "data": [float(v) for v in t.flatten()]}


def resize_cases():
    cases = []
    for (h, w, c), size in [
        ((7, 5, 3), [3, 4]),     # down, uneven ratios
        ((4, 3, 1), [9, 7]),     # up
        ((13, 11, 3), [5, 7]),   # non-integer ratios both ways
        ((1, 6, 1), [2, 3]),     # a one-pixel edge
        ((6, 6, 3), [6, 6]),     # the same size
        ((8, 4, 3), [4, 2]),     # exact halving: weights 1/2
        ((3, 5, 1), [6, 10]),    # exact doubling: weights 1/4, 3/4 (ties round to even)
        ((37, 29, 3), [16, 21]),  # larger, to catch rounding differences
        ((23, 31, 1), [50, 45]),
        ((64, 48, 3), [30, 40]),
        ((20, 20, 3), [27, 13]),
    ]:
        img = image(h, w, c)
        out = F.resize(img, size, interpolation=T.InterpolationMode.BILINEAR, antialias=False)
        cases.append({"input": u8(img), "size": size, "output": u8(out)})
    return cases


def resize_shorter_cases():
    cases = []
    for (h, w, c), size in [((10, 7, 3), 4), ((6, 15, 1), 5), ((9, 9, 3), 4), ((5, 8, 3), 12)]:
        img = image(h, w, c)
        out = F.resize(img, size, interpolation=T.InterpolationMode.BILINEAR, antialias=False)
        cases.append({"input": u8(img), "size": size, "output": u8(out)})
    return cases


def center_crop_cases():
    cases = []
    for (h, w, c), size in [
        ((7, 6, 3), [4, 3]),   # (7-4)/2 = 1.5 -> 2, (6-3)/2 = 1.5 -> 2
        ((9, 8, 1), [4, 3]),   # 2.5 -> 2, 2.5 -> 2 (half to even)
        ((7, 6, 3), [9, 8]),   # larger than the image: zero padding
        ((7, 6, 1), [10, 2]),  # taller but narrower
        ((5, 5, 3), [5, 5]),
    ]:
        img = image(h, w, c)
        cases.append({"input": u8(img), "size": size, "output": u8(F.center_crop(img, size))})
    return cases


def flip_cases():
    return [{"input": u8(img), "output": u8(F.hflip(img))}
            for img in (image(3, 5, 3), image(4, 1, 1), image(2, 4, 1))]


def normalize(img, mean, std):
    x = F.convert_image_dtype(img, torch.float32)
    return F.normalize(x, mean, std) if mean else x


def to_tensor_cases():
    cases = []
    for img, mean, std in [(image(3, 4, 3), MEAN, STD), (image(2, 5, 1), [0.286], [0.353]),
                           (image(2, 3, 3), [], [])]:
        cases.append({"input": u8(img), "mean": mean, "std": std,
                      "output": f32(normalize(img, mean, std))})
    return cases


def resized_crop_cases():
    cases = []
    for (h, w, c), (top, left, ch, cw), size in [((12, 10, 3), (2, 1, 7, 5), 4),
                                                 ((9, 14, 1), (0, 3, 9, 9), 6)]:
        img = image(h, w, c)
        out = F.resized_crop(img, top, left, ch, cw, [size, size],
                             interpolation=T.InterpolationMode.BILINEAR, antialias=False)
        cases.append({"input": u8(img), "box": [top, left, ch, cw], "size": size,
                      "output": u8(out)})
    return cases


def eval_cases():
    cases = []
    for (h, w, c), resize, size in [((20, 15, 3), 12, 10), ((9, 13, 1), 8, 7), ((6, 6, 3), 6, 8)]:
        img = image(h, w, c)
        rgb = img.expand(3, -1, -1) if c == 1 else img  # PIL's convert("RGB")
        pipeline = T.Compose([
            T.Resize(resize, interpolation=T.InterpolationMode.BILINEAR, antialias=False),
            T.CenterCrop(size),
            T.ConvertImageDtype(torch.float32),
            T.Normalize(MEAN, STD),
        ])
        cases.append({"input": u8(img), "resize": resize, "size": size,
                      "output": f32(pipeline(rgb))})
    return cases


def fallback_cases():
    """RandomResizedCrop's center-crop fallback: a scale above 1 never fits."""
    cases = []
    for (h, w), ratio in [((10, 10), [3 / 4, 4 / 3]), ((10, 40), [3 / 4, 4 / 3]),
                          ((40, 10), [3 / 4, 4 / 3]), ((7, 9), [3 / 4, 4 / 3]),
                          ((30, 11), [0.5, 2.0]), ((11, 31), [0.5, 2.0])]:
        top, left, ch, cw = T.RandomResizedCrop.get_params(torch.zeros(1, h, w), [2.0, 2.0], ratio)
        cases.append({"height": h, "width": w, "ratio": ratio, "box": [top, left, ch, cw]})
    return cases


def crop_statistics():
    """Moments of RandomResizedCrop's boxes over many draws of torchvision's own
    get_params: our generator differs, the distribution must not."""
    torch.manual_seed(0)
    stats = []
    for h, w in [(60, 90), (100, 100), (40, 160)]:
        img = torch.zeros(1, h, w)
        boxes = torch.tensor([T.RandomResizedCrop.get_params(img, [0.08, 1.0], [3 / 4, 4 / 3])
                              for _ in range(20000)], dtype=torch.float64)
        top, left, ch, cw = boxes.unbind(1)
        stats.append({"height": h, "width": w, "draws": len(boxes),
                      "area": (ch * cw / (h * w)).mean().item(),
                      "area_std": (ch * cw / (h * w)).std().item(),
                      "log_ratio": (cw / ch).log().mean().item(),
                      "center_y": ((top + ch / 2) / h).mean().item(),
                      "center_x": ((left + cw / 2) / w).mean().item()})
    return stats


def main():
    fixture = {
        "resize": resize_cases(),
        "resize_shorter": resize_shorter_cases(),
        "center_crop": center_crop_cases(),
        "hflip": flip_cases(),
        "to_tensor": to_tensor_cases(),
        "resized_crop": resized_crop_cases(),
        "eval": eval_cases(),
        "rrc_fallback": fallback_cases(),
        "rrc_statistics": crop_statistics(),
    }
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "transforms.json"), "w") as f:
        json.dump(fixture, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
