#!/usr/bin/python3
"""Writes the reference values for the proxy and classification losses.

Run with Debian's python3-torch (PyTorch 1.13, CPU):
    /usr/bin/python3 tests/golden/make_proxy_loss_golden.py
It writes tests/golden/fixtures/proxy_losses.json: fixed class weights and
SoftTriple centers, three batches (every class present with some classes
seen once; two classes absent; a single class), and for every loss and batch
the loss value and its gradients with respect to the embeddings and to the
loss's parameter, all in float64.

Each loss is written here from its paper's formula, in the form the paper
(or its authors' code) states it, not from the C++ implementation:
  proxy_nca           Movshovitz-Attias et al. 2017 as in Roth et al. 2020:
                      squared distances between 3-scaled unit vectors, the
                      positive proxy excluded from the denominator.
  proxy_anchor        Kim et al. 2020: per-proxy log(1 + sum exp), positive
                      term averaged over the proxies with positives in the batch.
  normalized_softmax  Zhai & Wu 2018: cross-entropy of cosine / temperature.
  arcface             Deng et al. 2019: target logit cos(theta + m) via acos,
                      cos - m sin(m) past theta + m = pi (or cos where
                      cos <= 0 with the easy margin).
  cosface             Wang et al. 2018: target logit cos - m.
  softtriple          Qian et al. 2019: per-class softmax-weighted center
                      similarity, margin on the target, and the center
                      regulariser over pairs of one class's centers.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(2020)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "proxy_losses.json")

B, D, C, K = 8, 6, 5, 10
DT = torch.float64


def encode(t):
    t = t.detach()
    dtype = {torch.float64: "f64", torch.int64: "i64"}[t.dtype]
    return {"dtype": dtype, "shape": list(t.shape), "data": t.reshape(-1).tolist()}


def proxy_nca(x, proxies, y, scale=3.0):
    x = scale * F.normalize(x, dim=1)
    p = scale * F.normalize(proxies, dim=1)
    terms = []
    for i in range(x.shape[0]):
        c = int(y[i])
        negatives = torch.cat([p[:c], p[c + 1:]])
        d_pos = ((x[i] - p[c]) ** 2).sum()
        d_neg = ((x[i].unsqueeze(0) - negatives) ** 2).sum(1)
        terms.append(d_pos + torch.logsumexp(-d_neg, 0))
    return torch.stack(terms).mean()


def proxy_anchor(x, proxies, y, alpha=32.0, delta=0.1):
    cos = F.normalize(x, dim=1) @ F.normalize(proxies, dim=1).t()
    pos = F.one_hot(y, proxies.shape[0]).to(DT)
    neg = 1 - pos
    pos_sum = (pos * torch.exp(-alpha * (cos - delta))).sum(0)
    neg_sum = (neg * torch.exp(alpha * (cos + delta))).sum(0)
    classes_present = int((pos.sum(0) > 0).sum())
    return torch.log(1 + pos_sum).sum() / classes_present + \
        torch.log(1 + neg_sum).sum() / proxies.shape[0]


def cosine(x, w):
    return F.normalize(x, dim=1) @ F.normalize(w, dim=1).t()


def normalized_softmax(x, w, y, temperature=0.05):
    return F.cross_entropy(cosine(x, w) / temperature, y)


def arcface(x, w, y, scale=64.0, margin=0.5, easy_margin=False):
    cos = cosine(x, w)
    theta = torch.acos(cos)
    with_margin = torch.cos(theta + margin)
    if easy_margin:
        target = torch.where(theta < math.pi / 2, with_margin, cos)
    else:
        target = torch.where(theta + margin < math.pi, with_margin,
                             cos - margin * math.sin(margin))
    is_target = F.one_hot(y, w.shape[0]).bool()
    return F.cross_entropy(scale * torch.where(is_target, target, cos), y)


def cosface(x, w, y, scale=64.0, margin=0.35):
    logits = cosine(x, w) - margin * F.one_hot(y, w.shape[0]).to(DT)
    return F.cross_entropy(scale * logits, y)


def softtriple(x, centers, y, la=20.0, gamma=0.1, tau=0.2, margin=0.01):
    classes = centers.shape[0] // K
    xn = F.normalize(x, dim=1)
    wn = F.normalize(centers, dim=1)
    relaxed = []
    for c in range(classes):
        sim = xn @ wn[c * K:(c + 1) * K].t()  # [B, K]
        relaxed.append((F.softmax(sim / gamma, dim=1) * sim).sum(1))
    relaxed = torch.stack(relaxed, 1)  # [B, C]
    logits = la * (relaxed - margin * F.one_hot(y, classes).to(DT))
    reg = 0
    for c in range(classes):
        for t in range(K):
            for s in range(t + 1, K):
                w_t, w_s = wn[c * K + t], wn[c * K + s]
                reg = reg + torch.sqrt(2 + 1e-5 - 2 * (w_t * w_s).sum())
    return F.cross_entropy(logits, y) + tau * reg / (classes * K * (K - 1))


class_weights = torch.randn(C, D, dtype=DT)
centers = torch.randn(C * K, D, dtype=DT)


def batch(labels, flipped):
    """Random embeddings of varied norm; sample `flipped` points nearly away
    from its class weight (cosine about -0.99), past ArcFace's threshold."""
    y = torch.tensor(labels)
    x = torch.randn(B, D, dtype=DT) * 1.5
    x[flipped] = -1.3 * class_weights[y[flipped]] + 0.05 * torch.randn(D, dtype=DT)
    return x, y


BATCHES = {
    # every class, classes 2 and 4 seen once
    "mixed": batch([0, 3, 1, 0, 2, 3, 4, 1], flipped=5),
    # classes 2 and 4 absent (proxy-anchor's positive term averages over 3)
    "absent_classes": batch([1, 0, 3, 1, 1, 3, 0, 0], flipped=2),
    "single_class": batch([2] * B, flipped=0),
}

LOSSES = [
    ("proxy_nca", {}, "proxies", class_weights, proxy_nca),
    ("proxy_anchor", {}, "proxies", class_weights, proxy_anchor),
    ("normalized_softmax", {}, "weights", class_weights, normalized_softmax),
    ("arcface", {}, "weights", class_weights, arcface),
    ("arcface_easy_margin", {"easy_margin": 1}, "weights", class_weights,
     lambda x, w, y: arcface(x, w, y, easy_margin=True)),
    ("cosface", {}, "weights", class_weights, cosface),
    ("softtriple", {}, "centers", centers, softtriple),
]


def main():
    losses = []
    for name, params, param_name, init, fn in LOSSES:
        results = {}
        for batch_name, (x0, y) in BATCHES.items():
            x = x0.clone().requires_grad_()
            w = init.clone().requires_grad_()
            loss = fn(x, w, y)
            loss.backward()
            results[batch_name] = {"loss": loss.item(), "grad_embeddings": encode(x.grad),
                                   "grad_parameter": encode(w.grad)}
        losses.append({"name": name, "params": params, "parameter": param_name,
                       "init": encode(init), "results": results})
    batches = {n: {"embeddings": encode(x), "labels": encode(y)} for n, (x, y) in BATCHES.items()}
    with open(OUT, "w") as f:
        json.dump({"torch": torch.__version__, "num_classes": C, "embedding_dim": D,
                   "softtriple_centers_per_class": K, "batches": batches, "losses": losses}, f)
        f.write("\n")
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
