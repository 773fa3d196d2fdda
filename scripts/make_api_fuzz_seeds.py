#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_model_file and fuzz_index_file
(fuzz/corpus/model_file/, fuzz/corpus/index_file/): small safetensors files
of each kind a deployment reads, valid in format and metadata. A whole model
is megabytes (beyond the fuzzer's input sizes), so the model seeds carry a
complete config with a few tensors: the fuzzer mutates the header, the
format and the config, which are what a reader must survive.

Usage: python3 scripts/make_api_fuzz_seeds.py   (from the repository root)
"""
import json
import os
import struct

DTYPES = {"f": ("F32", 4), "q": ("I64", 8)}


def safetensors(tensors, metadata):
    """tensors: [(name, format char, shape, values)]"""
    header, data = {"__metadata__": metadata}, b""
    for name, kind, shape, values in tensors:
        dtype, _ = DTYPES[kind]
        raw = struct.pack("<%d%s" % (len(values), kind), *values)
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def config(channels):
    return json.dumps({
        "model": {"backbone": "small_resnet10", "in_channels": channels, "embedding_dim": 2,
                  "pool": "avg", "layer_norm": False},
        "augment": {"image_size": 8, "resize": 10, "mean": [0.5] * channels,
                    "std": [0.25] * channels}})


def write(folder, name, content):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(content)


models = "fuzz/corpus/model_file"
head = [("head.fc.weight", "f", [2, 4], [0.1] * 8), ("head.fc.bias", "f", [2], [0.0, 0.0])]
write(models, "model_grey", safetensors(head, {"format": "dml-model-1", "config": config(1)}))
write(models, "model_rgb", safetensors(head, {"format": "dml-model-1", "config": config(3)}))
write(models, "checkpoint", safetensors(
    [("model." + name, kind, shape, values) for name, kind, shape, values in head],
    {"format": "dml-checkpoint-2", "config": config(1), "epochs_done": "1", "steps": "2",
     "rng_seed": "0", "rng_offset": "0"}))

indexes = "fuzz/corpus/index_file"
rows = [0.0, 0.0, 1.0, 0.0, 0.0, 3.0]
for metric in ("l2", "cosine"):
    write(indexes, metric, safetensors(
        [("vectors", "f", [3, 2], rows), ("ids", "q", [3], [10, 11, 12])],
        {"format": "dml-index-1", "metric": metric}))
write(indexes, "empty", safetensors(
    [("vectors", "f", [0, 4], []), ("ids", "q", [0], [])],
    {"format": "dml-index-1", "metric": "l2"}))
