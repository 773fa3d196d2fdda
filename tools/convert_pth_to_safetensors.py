#!/usr/bin/env python3
"""Converts a PyTorch checkpoint to a safetensors file the engine can read.

    python3 tools/convert_pth_to_safetensors.py model.pth model.safetensors

The checkpoint is loaded with torch.load(..., map_location="cpu"). If it is a
dict with a "state_dict" key, that is used; a leading "module." (left by
DataParallel) is stripped from every name. Tensors keep their dtype and are
written in the state_dict's order. Non-tensor entries are skipped with a
warning.

The writer is plain Python (struct + json), so only PyTorch and NumPy are
needed, not the safetensors package. By default the checkpoint is unpickled
with weights_only=True, which refuses arbitrary Python objects; pass
--trust-pickle to load a checkpoint you trust that holds other objects.
"""
import argparse
import json
import os
import pickle
import struct
import sys

import torch

# safetensors dtype codes, as the format spells them.
DTYPE_CODES = {
    torch.float32: "F32",
    torch.float64: "F64",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}
# The codes engine/safetensors.h reads; others are valid safetensors but the
# engine will refuse them.
ENGINE_CODES = {"F32", "F64", "F16", "BF16", "I32", "I64", "U8", "BOOL"}


def fail(message):
    sys.exit(f"convert_pth_to_safetensors: {message}")


def load_checkpoint(path, trust_pickle):
    try:
        if trust_pickle:
            return torch.load(path, map_location="cpu")
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        # Older PyTorch's weights-only loader also refuses plain floats
        # (say a stored learning rate); --trust-pickle is the way out there too.
        fail(f"{path}: the safe loader refused it ({e}); "
             "rerun with --trust-pickle if you trust the file")
    except OSError as e:
        fail(f"{path}: cannot load: {e}")
    except Exception as e:  # a damaged or foreign file fails anywhere in unpickling
        fail(f"{path}: cannot load (not a PyTorch checkpoint?): {type(e).__name__}: {e}")


def named_tensors(checkpoint, path):
    """The (name, tensor) pairs of the checkpoint's state_dict, in order."""
    state = checkpoint
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, dict):
        fail(f"{path}: expected a state_dict (a dict of tensors), got {type(state).__name__}")
    out = []
    seen = set()
    for name, value in state.items():
        if not isinstance(value, torch.Tensor):
            print(f"warning: skipping {name!r}: a {type(value).__name__}, not a tensor",
                  file=sys.stderr)
            continue
        if name.startswith("module."):
            name = name[len("module."):]
        if name in seen:
            fail(f"{path}: two tensors are named {name!r} once 'module.' is stripped")
        if name == "__metadata__":
            fail(f"{path}: a tensor is named '__metadata__', which safetensors reserves")
        if value.layout != torch.strided or value.is_quantized:
            fail(f"{path}: tensor {name!r} is sparse or quantized; only dense tensors convert")
        if value.dtype not in DTYPE_CODES:
            fail(f"{path}: tensor {name!r} has dtype {value.dtype}, which safetensors "
                 f"(as written here) does not hold")
        if DTYPE_CODES[value.dtype] not in ENGINE_CODES:
            print(f"warning: tensor {name!r} is {value.dtype}; the engine does not read "
                  f"{DTYPE_CODES[value.dtype]}", file=sys.stderr)
        seen.add(name)
        out.append((name, value.detach().cpu().contiguous()))
    if not out:
        fail(f"{path}: holds no tensors")
    return out


def tensor_bytes(t):
    """The tensor's elements, row-major and little-endian."""
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)  # NumPy has no bfloat16; the bits are what matter
    a = t.numpy()
    return a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()


def header_bytes(tensors, metadata):
    """The JSON header, compact and padded with spaces to a multiple of 8 bytes
    so the data starts aligned, as the reference writer does."""
    header = {"__metadata__": metadata} if metadata else {}
    offset = 0
    for name, t in tensors:
        size = t.numel() * t.element_size()
        header[name] = {"dtype": DTYPE_CODES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return text + b" " * (-len(text) % 8)


def write_safetensors(path, tensors, metadata):
    """Writes path + ".tmp", then renames it, so a failure leaves no partial
    file at path."""
    header = header_bytes(tensors, metadata)
    tmp = path + ".tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(header)))
            f.write(header)
            for _, t in tensors:  # one tensor's bytes in memory at a time
                f.write(tensor_bytes(t))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        if os.path.isfile(tmp):
            os.remove(tmp)
        fail(f"{path}: cannot write: {e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", help="a .pth/.pt file saved with torch.save")
    parser.add_argument("output", help="the .safetensors file to write")
    parser.add_argument("--trust-pickle", action="store_true",
                        help="unpickle arbitrary objects (only for files you trust)")
    args = parser.parse_args()

    tensors = named_tensors(load_checkpoint(args.checkpoint, args.trust_pickle), args.checkpoint)
    write_safetensors(args.output, tensors, {"format": "pt"})
    total = sum(t.numel() * t.element_size() for _, t in tensors)
    plural = "" if len(tensors) == 1 else "s"
    print(f"wrote {len(tensors)} tensor{plural} ({total} bytes of data) to {args.output}")


if __name__ == "__main__":
    main()
