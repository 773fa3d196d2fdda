#!/usr/bin/python3
"""Writes the PyTorch reference fixtures the parity tests compare against.

Run with Debian's python3-torch (PyTorch 1.13, CPU):
    /usr/bin/python3 tests/golden/make_golden.py
It writes tests/golden/fixtures/ops.json (every op case of tests/support/op_cases.cpp,
in f64: inputs, output, upstream weights and input gradients) and
tests/golden/fixtures/net_step.json (a conv-BN-ReLU-pool-linear network trained
three steps with SGD, Adam and AdamW in f32). CI only reads the fixtures.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")


def N(*s): return ("normal", s)
def P(*s): return ("positive", s)
def CN(*s): return ("constant_normal", s)
def CP(*s): return ("constant_positive", s)
def Idx(bound, *s): return ("index", s, bound)
def Mask(*s): return ("mask", s)


def conv(x, w, b=None, stride=1, pad=0, dil=1, groups=1):
    return F.conv2d(x, w, b, stride=stride, padding=pad, dilation=dil, groups=groups)


def pairwise(a, b, kind):
    if kind == "cosine":
        return 1 - F.normalize(a, dim=1) @ F.normalize(b, dim=1).t()
    d2 = (a * a).sum(1, keepdim=True) + (b * b).sum(1).reshape(1, -1) - 2 * a @ b.t()
    d2 = d2.clamp(min=0)
    return d2 if kind == "sq" else d2.sqrt()


def softplus_ref(x, beta, threshold):
    return F.softplus(x, beta=beta, threshold=threshold)


def safe_sqrt(x):
    return x.clamp(min=0).sqrt()


def ce(x, t, smoothing=0.0):
    return F.cross_entropy(x, t, label_smoothing=smoothing)


def bn(x, w, b, rm, rv, training):
    return F.batch_norm(x, rm.clone(), rv.clone(), w, b, training=training, momentum=0.1, eps=1e-5)


# The same cases, by name, as tests/support/op_cases.cpp.
CASES = [
    ("add", [N(3, 4), N(3, 4)], lambda a, b: a + b),
    ("add_broadcast_row", [N(3, 4), N(4)], lambda a, b: a + b),
    ("add_broadcast_both", [N(2, 1, 3), N(4, 1)], lambda a, b: a + b),
    ("add_size1", [N(1, 1), N(3, 1)], lambda a, b: a + b),
    ("sub_broadcast", [N(3, 4), N(3, 1)], lambda a, b: a - b),
    ("mul", [N(2, 3), N(2, 3)], lambda a, b: a * b),
    ("mul_scalar_tensor", [N(2, 3), N()], lambda a, b: a * b),
    ("div", [N(3, 4), P(3, 4)], lambda a, b: a / b),
    ("div_broadcast", [N(2, 3), P(3)], lambda a, b: a / b),
    ("pow", [P(3, 4), N(3, 4)], lambda a, b: torch.pow(a, b)),
    ("maximum", [N(3, 4), N(4)], lambda a, b: torch.maximum(a, b)),
    ("minimum", [N(3, 4), N(3, 4)], lambda a, b: torch.minimum(a, b)),
    ("add_scalar", [N(5)], lambda a: a + 2.5),
    ("rsub_scalar", [N(5)], lambda a: 1.0 - a),
    ("mul_scalar", [N(5)], lambda a: a * -3.0),
    ("pow_scalar", [P(5)], lambda a: a ** 2.5),
    ("neg", [N(4, 3)], lambda a: -a),
    ("exp", [N(4, 3)], torch.exp),
    ("log", [P(4, 3)], torch.log),
    ("sqrt", [P(4, 3)], torch.sqrt),
    ("rsqrt", [P(4, 3)], torch.rsqrt),
    ("abs", [N(4, 3)], torch.abs),
    ("relu", [N(4, 3)], torch.relu),
    ("sigmoid", [N(4, 3)], lambda a: torch.sigmoid(a * 4.0)),
    ("tanh", [N(4, 3)], torch.tanh),
    ("softplus", [N(4, 3)], lambda a: F.softplus(a)),
    ("softplus_beta_threshold", [N(4, 3)], lambda a: softplus_ref(a * 3.0, 2.0, 3.0)),
    ("clamp", [N(4, 3)], lambda a: a.clamp(-0.5, 0.7)),
    ("clamp_min", [N(4, 3)], lambda a: a.clamp(min=0.1)),
    ("safe_sqrt", [P(4, 3)], safe_sqrt),
    ("where", [Mask(3, 4), N(3, 4), N(4)], lambda c, a, b: torch.where(c, a, b)),
    ("sum_all", [N(3, 4)], lambda a: a.sum()),
    ("sum_dim_keepdim", [N(3, 4, 2)], lambda a: a.sum(1, keepdim=True)),
    ("sum_dims", [N(3, 4, 2)], lambda a: a.sum((0, 2))),
    ("sum_empty_batch", [N(0, 3)], lambda a: a.sum(0)),
    ("mean_dim", [N(3, 4)], lambda a: a.mean(1)),
    ("mean_all", [N(2, 3, 2)], lambda a: a.mean()),
    ("amax_dim", [N(3, 5)], lambda a: a.amax(1)),
    ("amin_dims_keepdim", [N(3, 2, 4)], lambda a: a.amin((0, 2), keepdim=True)),
    ("logsumexp", [N(3, 5)], lambda a: torch.logsumexp(a * 5.0, 1)),
    ("var_dim", [N(3, 5)], lambda a: a.var(1)),
    ("var_all_biased", [N(4, 3)], lambda a: a.var(unbiased=False)),
    ("reshape", [N(2, 6)], lambda a: a.reshape(3, -1) * 2.0),
    ("slice", [N(5, 2)], lambda a: a[1:4] * 2.0),
    ("transpose", [N(2, 3, 4)], lambda a: a.transpose(0, 2).contiguous()),
    ("permute", [N(2, 3, 4)], lambda a: a.permute(1, 2, 0).contiguous()),
    ("expand", [N(3, 1)], lambda a: a.expand(2, 3, 4).contiguous()),
    ("concat", [N(2, 3), N(2, 1)], lambda a, b: torch.cat([a, b], 1)),
    ("stack", [N(2, 3), N(2, 3)], lambda a, b: torch.stack([a, b], 1)),
    ("narrow", [N(3, 5)], lambda a: a.narrow(1, 1, 3).contiguous()),
    ("index_select", [N(4, 3), Idx(4, 5)], lambda a, i: a.index_select(0, i)),
    ("index_select_dim1", [N(2, 4, 3), Idx(4, 3)], lambda a, i: a.index_select(1, i)),
    ("gather", [N(3, 4), Idx(4, 3, 2)], lambda a, i: a.gather(1, i)),
    ("scatter_add", [N(3, 4), Idx(4, 3, 5), N(3, 5)], lambda a, i, s: a.scatter_add(1, i, s)),
    ("masked_fill", [N(3, 4), Mask(3, 4)], lambda a, m: a.masked_fill(m, -1.5)),
    ("matmul", [N(3, 4), N(4, 2)], torch.matmul),
    ("matmul_batched", [N(2, 3, 4), N(2, 4, 5)], torch.matmul),
    ("matmul_3d_2d", [N(2, 3, 4), N(4, 5)], torch.matmul),
    ("matmul_2d_3d", [N(3, 4), N(2, 4, 5)], torch.matmul),
    ("matmul_empty", [N(0, 3), N(3, 2)], torch.matmul),
    ("linear", [N(4, 3), N(5, 3), N(5)], F.linear),
    ("linear_3d_nobias", [N(2, 3, 4), N(5, 4)], F.linear),
    ("linear_empty_batch", [N(0, 3), N(2, 3), N(2)], F.linear),
    ("softmax", [N(3, 5)], lambda a: torch.softmax(a, 1)),
    ("softmax_dim0_3d", [N(4, 2, 3)], lambda a: torch.softmax(a, 0)),
    ("log_softmax", [N(3, 5)], lambda a: torch.log_softmax(a, -1)),
    ("cross_entropy", [N(4, 5), Idx(5, 4)], ce),
    ("cross_entropy_smoothing", [N(4, 5), Idx(5, 4)], lambda x, t: ce(x, t, 0.1)),
    ("l2_normalize", [N(4, 3)], lambda a: F.normalize(a, dim=1)),
    ("pairwise_sq_euclidean", [N(4, 3), N(5, 3)], lambda a, b: pairwise(a, b, "sq")),
    ("pairwise_euclidean", [N(4, 3), N(5, 3)], lambda a, b: pairwise(a, b, "euclidean")),
    ("pairwise_cosine", [N(4, 3), N(5, 3)], lambda a, b: pairwise(a, b, "cosine")),
    ("conv2d", [N(2, 3, 5, 5), N(4, 3, 3, 3), N(4)], lambda x, w, b: conv(x, w, b, 1, 1)),
    ("conv2d_stride2_nobias", [N(2, 2, 7, 6), N(3, 2, 3, 3)], lambda x, w: conv(x, w, None, 2, 1)),
    ("conv2d_dilation", [N(1, 2, 7, 7), N(2, 2, 3, 3), N(2)], lambda x, w, b: conv(x, w, b, 1, 2, 2)),
    ("conv2d_groups", [N(2, 4, 5, 5), N(6, 2, 3, 3), N(6)],
     lambda x, w, b: conv(x, w, b, 1, 1, 1, 2)),
    ("conv2d_empty_batch", [N(0, 3, 5, 5), N(4, 3, 3, 3), N(4)], lambda x, w, b: conv(x, w, b, 1, 1)),
    ("conv2d_pointwise", [N(2, 3, 4, 4), N(5, 3, 1, 1)], lambda x, w: conv(x, w)),
    ("conv2d_rect", [N(1, 2, 6, 8), N(3, 2, 2, 3), N(3)],
     lambda x, w, b: conv(x, w, b, (1, 2), (1, 0))),
    ("batch_norm_train", [N(3, 2, 3, 3), N(2), N(2), CN(2), CP(2)],
     lambda x, w, b, rm, rv: bn(x, w, b, rm, rv, True)),
    ("batch_norm_eval", [N(3, 2, 3, 3), N(2), N(2), CN(2), CP(2)],
     lambda x, w, b, rm, rv: bn(x, w, b, rm, rv, False)),
    ("batch_norm_train_noaffine", [N(4, 3, 2, 2), CN(3), CP(3)],
     lambda x, rm, rv: bn(x, None, None, rm, rv, True)),
    ("layer_norm", [N(3, 5), N(5), N(5)], lambda x, w, b: F.layer_norm(x, (5,), w, b)),
    ("layer_norm_3d_plain", [N(2, 3, 4)], lambda x: F.layer_norm(x, (4,))),
    ("max_pool2d", [N(2, 2, 7, 7)], lambda x: F.max_pool2d(x, 3, 2, 1)),
    ("avg_pool2d", [N(2, 2, 6, 6)], lambda x: F.avg_pool2d(x, 2, 2)),
    ("avg_pool2d_pad", [N(1, 2, 7, 7)], lambda x: F.avg_pool2d(x, 3, 2, 1)),
    ("adaptive_avg_pool2d", [N(2, 2, 5, 7)], lambda x: F.adaptive_avg_pool2d(x, (3, 2))),
    ("adaptive_avg_pool2d_global", [N(2, 3, 4, 4)], lambda x: F.adaptive_avg_pool2d(x, 1)),
    ("adaptive_max_pool2d", [N(2, 2, 5, 7)], lambda x: F.adaptive_max_pool2d(x, (3, 2))),
    ("clone", [N(3, 2)], lambda a: a.clone() * 3.0),
    ("to_f32_and_back", [N(3, 2)], lambda a: a.float().double() * 2.0),
    # Gradient reversal: identity forward, -lambda * grad backward (lambda 0.5).
    ("gradient_reversal", [N(3, 2)], "gradient_reversal"),
    # batch_norm2d_relu: batch norm, the residual added, ReLU (a ResNet block's
    # tail), as the composite of torch's ops. Last, so that the inputs drawn
    # for the cases above stay as they were.
    ("batch_norm_relu_train", [N(3, 2, 3, 3), N(2), N(2), CN(2), CP(2)],
     lambda x, w, b, rm, rv: F.relu(bn(x, w, b, rm, rv, True))),
    ("batch_norm_relu_eval", [N(3, 2, 3, 3), N(2), N(2), CN(2), CP(2)],
     lambda x, w, b, rm, rv: F.relu(bn(x, w, b, rm, rv, False))),
    ("batch_norm_add_relu_train", [N(3, 2, 3, 3), N(2), N(2), CN(2), CP(2), N(3, 2, 3, 3)],
     lambda x, w, b, rm, rv, r: F.relu(bn(x, w, b, rm, rv, True) + r)),
    ("batch_norm_add_relu_eval", [N(3, 2, 3, 3), N(2), N(2), CN(2), CP(2), N(3, 2, 3, 3)],
     lambda x, w, b, rm, rv, r: F.relu(bn(x, w, b, rm, rv, False) + r)),
    ("batch_norm_add_relu_noaffine", [N(4, 3, 2, 2), CN(3), CP(3), N(4, 3, 2, 2)],
     lambda x, rm, rv, r: F.relu(bn(x, None, None, rm, rv, True) + r)),
]

# Ops without a gradient, as value_cases() in tests/support/op_cases.cpp.
VALUE_CASES = [
    ("eq_labels", [Idx(3, 6), Idx(3, 6)], lambda a, b: (a == b).double()),
    ("ne_broadcast", [Idx(3, 3, 1), Idx(3, 4)], lambda a, b: (a != b).double()),
    ("lt", [N(3, 4), N(3, 4)], lambda a, b: (a < b).double()),
    ("le_broadcast", [N(3, 4), N(4)], lambda a, b: (a <= b).double()),
    ("gt", [N(3, 4), N(3, 4)], lambda a, b: (a > b).double()),
    ("ge", [N(3, 4), N(3, 1)], lambda a, b: (a >= b).double()),
    ("argmax", [N(4, 5)], lambda a: a.argmax(1).double()),
    ("argmin_keepdim", [N(4, 5, 2)], lambda a: a.argmin(1, keepdim=True).double()),
    ("topk_values", [N(4, 7)], lambda a: a.topk(3, 1).values),
    ("topk_indices", [N(4, 7)], lambda a: a.topk(3, 1).indices.double()),
    ("topk_smallest_dim0", [N(6, 3)], lambda a: a.topk(2, 0, largest=False).values),
    ("one_hot", [Idx(4, 5)], lambda i: F.one_hot(i, 4).double()),
]


def run_value_case(specs, fn):
    inputs = [make_input(s) for s in specs]
    with torch.no_grad():
        out = fn(*inputs)
    return {"inputs": [encode(t) for t in inputs], "output": encode(out)}


def encode(t):
    t = t.detach()
    dtype = {torch.float64: "f64", torch.float32: "f32", torch.int64: "i64", torch.bool: "u8"}[t.dtype]
    values = t.to(torch.uint8) if t.dtype == torch.bool else t
    return {"dtype": dtype, "shape": list(t.shape), "data": values.reshape(-1).tolist()}


def make_input(spec):
    kind, shape = spec[0], spec[1]
    if kind in ("normal", "constant_normal"):
        t = torch.randn(shape, dtype=torch.float64)
    elif kind in ("positive", "constant_positive"):
        t = torch.rand(shape, dtype=torch.float64) * 1.5 + 0.5
    elif kind == "index":
        return torch.randint(0, spec[2], shape)
    else:
        return torch.randint(0, 2, shape).bool()
    return t.requires_grad_(kind in ("normal", "positive"))


def run_case(name, specs, fn):
    inputs = [make_input(s) for s in specs]
    if fn == "gradient_reversal":
        a = inputs[0]
        out = a * a
        grad_rule = lambda w: [-0.5 * torch.autograd.grad((out * w).sum(), a)[0]]
    else:
        out = fn(*inputs)
        grad_rule = None
    w = torch.randn(out.shape, dtype=out.dtype)
    diff = [t for t in inputs if t.requires_grad]
    if grad_rule:
        grads = grad_rule(w)
    else:
        grads = torch.autograd.grad((out * w).sum(), diff, allow_unused=True) if out.requires_grad else []
    grads = list(grads)
    enc_grads = []
    for t in inputs:
        if t.requires_grad:
            g = grads.pop(0)
            enc_grads.append(encode(g if g is not None else torch.zeros_like(t)))
        else:
            enc_grads.append(None)
    return {"inputs": [encode(t) for t in inputs], "output": encode(out), "upstream": encode(w),
            "grads": enc_grads}


# ---- a small network trained three steps per optimizer, in f32 ----
# Convolutions feeding batch norm carry no bias (as in ResNet): such a bias
# has a zero gradient in exact arithmetic, and Adam would amplify the
# rounding noise into steps that differ between any two implementations.

def net_forward(p, x, training, stats):
    h = F.conv2d(x, p["conv1.weight"], None, padding=1)
    h = F.batch_norm(h, stats["bn1.running_mean"], stats["bn1.running_var"], p["bn1.weight"],
                     p["bn1.bias"], training=training)
    h = F.max_pool2d(F.relu(h), 2, 2)
    h = F.conv2d(h, p["conv2.weight"], None, stride=1, padding=1)
    h = F.batch_norm(h, stats["bn2.running_mean"], stats["bn2.running_var"], p["bn2.weight"],
                     p["bn2.bias"], training=training)
    h = F.adaptive_avg_pool2d(F.relu(h), 1).flatten(1)
    return F.linear(h, p["fc.weight"], p["fc.bias"])


def net_case(optimizer_name):
    g = torch.Generator().manual_seed(7)
    shapes = {"conv1.weight": (4, 1, 3, 3), "bn1.weight": (4,), "bn1.bias": (4,),
              "conv2.weight": (6, 4, 3, 3), "bn2.weight": (6,), "bn2.bias": (6,),
              "fc.weight": (3, 6), "fc.bias": (3,)}
    params = {k: (torch.randn(s, generator=g) * 0.5).requires_grad_() for k, s in shapes.items()}
    stats = {"bn1.running_mean": torch.zeros(4), "bn1.running_var": torch.ones(4),
             "bn2.running_mean": torch.zeros(6), "bn2.running_var": torch.ones(6)}
    x = torch.randn(4, 1, 8, 8, generator=g)
    y = torch.tensor([0, 2, 1, 2])
    initial = {k: encode(v) for k, v in params.items()}
    body = [v for k, v in params.items() if not k.startswith("fc")]
    head = [v for k, v in params.items() if k.startswith("fc")]
    if optimizer_name == "sgd":
        groups = [{"params": body, "lr": 0.1, "weight_decay": 1e-4},
                  {"params": head, "lr": 0.2, "weight_decay": 0.0}]
        opt = torch.optim.SGD(groups, momentum=0.9, nesterov=True)
    elif optimizer_name == "adam":
        groups = [{"params": body, "lr": 1e-2, "weight_decay": 1e-3},
                  {"params": head, "lr": 2e-2, "weight_decay": 0.0}]
        opt = torch.optim.Adam(groups)
    else:
        groups = [{"params": body, "lr": 1e-2, "weight_decay": 0.05},
                  {"params": head, "lr": 2e-2, "weight_decay": 0.0}]
        opt = torch.optim.AdamW(groups)
    losses, first_grads = [], None
    for step in range(3):
        opt.zero_grad()
        loss = F.cross_entropy(net_forward(params, x, True, stats), y)
        loss.backward()
        if step == 0:
            first_grads = {k: encode(v.grad) for k, v in params.items()}
        losses.append(loss.item())
        opt.step()
    with torch.no_grad():
        eval_logits = net_forward(params, x, False, stats)
    return {"initial": initial, "input": encode(x), "labels": encode(y), "losses": losses,
            "first_grads": first_grads, "final": {k: encode(v) for k, v in params.items()},
            "running": {k: encode(v) for k, v in stats.items()}, "eval_logits": encode(eval_logits)}


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = {}
    for name, specs, fn in CASES:
        cases[name] = run_case(name, specs, fn)
    values = {name: run_value_case(specs, fn) for name, specs, fn in VALUE_CASES}
    with open(os.path.join(OUT, "ops.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases, "value_cases": values}, f)
    nets = {name: net_case(name) for name in ("sgd", "adam", "adamw")}
    with open(os.path.join(OUT, "net_step.json"), "w") as f:
        json.dump({"torch": torch.__version__, "optimizers": nets}, f)
    print(f"wrote {len(cases)} op cases, {len(values)} value cases and {len(nets)} network runs to {OUT}")


if __name__ == "__main__":
    main()
