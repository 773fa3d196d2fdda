#!/usr/bin/python3
"""Writes tests/golden/fixtures/losses.json: reference values for the pair-
and triplet-based losses and the miners (tests/test_losses.cpp,
tests/test_miners.cpp).

Run with Debian's python3-torch (PyTorch 1.13, CPU):
    /usr/bin/python3 tests/golden/make_loss_golden.py

Every loss and miner is written here again from its paper's formula, in plain
per-anchor / per-pair loops in float64 with torch autograd, not from the C++
code; where a paper leaves a choice open (reductions, which pairs N-pair
uses), the choice documented in the C++ header is followed. The fixture holds
small batches (plus the edge batches: one class, all singletons, one sample),
each loss's value and gradients, and the deterministic miners' tuples. For the
distance-weighted miner it holds each anchor's negative-sampling
probabilities; the test compares them with the empirical frequencies of the
C++ miner's draws (the generators differ, so the draws cannot match).
"""
import json
import math
import os

import torch

torch.manual_seed(20240611)
torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "losses.json")

# Hinge arguments, histogram positions and miner comparisons closer than this
# to their switching point would make the reference fragile (a rounding
# difference could flip them); the script refuses to write such a fixture.
KINK_GUARD = 1e-7


def guard(value, what):
    assert abs(float(value)) > KINK_GUARD, f"{what} = {float(value)} is too close to a kink"


def hinge(v, what):
    guard(v, what)
    return torch.relu(v)


def encode(t):
    if t.dtype == torch.int64:
        return {"dtype": "i64", "shape": list(t.shape), "data": t.reshape(-1).tolist()}
    return {"dtype": "f64", "shape": list(t.shape), "data": t.detach().reshape(-1).tolist()}


# ---------------------------------------------------------------- batches

def sphere(n, d):
    x = torch.randn(n, d)
    return x / x.norm(dim=1, keepdim=True)


def batches():
    raw = torch.randn(10, 5) * (torch.rand(10, 1) * 1.5 + 0.5)  # not normalised
    return {
        "mixed": (sphere(12, 6), [0, 1, 2, 0, 1, 2, 0, 1, 2, 3, 3, 4]),
        "raw": (raw, [0, 0, 0, 1, 1, 1, 2, 2, 3, 3]),
        "pairs": (sphere(8, 4), [0, 0, 1, 1, 2, 2, 3, 3]),
        "single_class": (sphere(6, 5), [7] * 6),
        "singletons": (sphere(5, 4), [0, 1, 2, 3, 4]),
        "one_sample": (sphere(1, 4), [2]),
    }


# ---------------------------------------------------------------- tuples

def all_pos_pairs(y):
    n = len(y)
    return [(a, b) for a in range(n) for b in range(n) if a != b and y[a] == y[b]]


def all_neg_pairs(y):
    n = len(y)
    return [(a, b) for a in range(n) for b in range(n) if y[a] != y[b]]


def all_triplets(y):
    n = len(y)
    return [(a, p, q) for a in range(n) for p in range(n) for q in range(n)
            if a != p and y[a] == y[p] and y[q] != y[a]]


def pairs_of(y, mined):
    """(positive pairs, negative pairs) a pair loss uses."""
    if mined is None:
        return all_pos_pairs(y), all_neg_pairs(y)
    if mined["kind"] == "pairs":
        return mined["pos"], mined["neg"]
    return [(a, p) for a, p, _ in mined["triplets"]], [(a, q) for a, _, q in mined["triplets"]]


def triplets_of(y, mined):
    if mined is None:
        return all_triplets(y)
    if mined["kind"] == "triplets":
        return mined["triplets"]
    return [(a, p, q) for a, p in mined["pos"] for a2, q in mined["neg"] if a2 == a]


def unit(x):
    return x / x.norm(dim=1, keepdim=True)


def euclid(x, i, j):
    return (x[i] - x[j]).norm()


def avg_nonzero(terms):
    if not terms:
        return torch.zeros(())
    total = sum(terms)
    active = sum(1 for t in terms if t.item() > 0)
    return total / max(active, 1)


def log1p_sum_exp(values):
    """log(1 + sum exp(v))."""
    return torch.logsumexp(torch.cat([torch.stack(values), torch.zeros(1)]), 0)


# ---------------------------------------------------------------- losses

def contrastive(e, y, mined, pos_margin=0.0, neg_margin=0.5):
    x = unit(e)
    pos, neg = pairs_of(y, mined)
    lp = [hinge(euclid(x, a, b) - pos_margin, "contrastive pos") for a, b in pos]
    ln = [hinge(neg_margin - euclid(x, a, b), "contrastive neg") for a, b in neg]
    return avg_nonzero(lp) + avg_nonzero(ln)


def triplet(e, y, mined, margin=0.2):
    x = unit(e)
    terms = [hinge(euclid(x, a, p) - euclid(x, a, q) + margin, "triplet")
             for a, p, q in triplets_of(y, mined)]
    return avg_nonzero(terms)


def margin_loss(e, y, mined, beta, margin=0.2, nu=0.0, per_class_beta=0):
    x = unit(e)
    pos, neg = pairs_of(y, mined)

    def b(a):
        return beta[y[a]] if per_class_beta else beta[0]

    lp = [hinge(margin + euclid(x, a, p) - b(a), "margin pos") for a, p in pos]
    ln = [hinge(margin - euclid(x, a, q) + b(a), "margin neg") for a, q in neg]
    terms = lp + ln
    if not terms:
        return torch.zeros(())
    active = sum(1 for t in terms if t.item() > 0)
    loss = sum(terms) / max(active, 1)
    if nu:
        loss = loss + nu * sum(b(a) for a, _ in pos + neg) / len(terms)
    return loss


def per_anchor_sets(y, mined):
    pos, neg = pairs_of(y, mined)
    n = len(y)
    p_sets = [sorted({b for a2, b in pos if a2 == a}) for a in range(n)]
    n_sets = [sorted({b for a2, b in neg if a2 == a}) for a in range(n)]
    return [(a, p_sets[a], n_sets[a]) for a in range(n) if p_sets[a] and n_sets[a]]


def multi_similarity(e, y, mined, alpha=2.0, beta=50.0, base=0.5):
    x = unit(e)
    total = torch.zeros(())
    for a, ps, ns in per_anchor_sets(y, mined):
        sp = [x[a] @ x[p] for p in ps]
        sn = [x[a] @ x[q] for q in ns]
        total = total + (1 / alpha) * torch.log(1 + sum(torch.exp(-alpha * (s - base)) for s in sp))
        total = total + (1 / beta) * torch.log(1 + sum(torch.exp(beta * (s - base)) for s in sn))
    return total / len(y)


def lifted_structure(e, y, mined, margin=1.0):
    x = unit(e)
    anchors = per_anchor_sets(y, mined)
    if not anchors:
        return torch.zeros(())
    terms = []
    for a, ps, ns in anchors:
        lse_p = torch.logsumexp(torch.stack([euclid(x, a, p) for p in ps]), 0)
        lse_n = torch.logsumexp(torch.stack([margin - euclid(x, a, q) for q in ns]), 0)
        terms.append(hinge(lse_p + lse_n, "lifted"))
    return sum(terms) / len(terms)


def circle(e, y, mined, m=0.25, gamma=256.0):
    x = unit(e)
    anchors = per_anchor_sets(y, mined)
    if not anchors:
        return torch.zeros(())
    terms = []
    for a, ps, ns in anchors:
        logits = []
        for p in ps:
            s = x[a] @ x[p]
            guard(1 + m - s.item(), "circle alpha_p")
            ap = torch.relu(1 + m - s).detach()
            logits.append(-gamma * ap * (s - (1 - m)))
        lse_p = torch.logsumexp(torch.stack(logits), 0)
        logits = []
        for q in ns:
            s = x[a] @ x[q]
            guard(s.item() + m, "circle alpha_n")
            an = torch.relu(s + m).detach()
            logits.append(gamma * an * (s - m))
        lse_n = torch.logsumexp(torch.stack(logits), 0)
        # log(1 + exp(lse_n) exp(lse_p))
        terms.append(torch.logaddexp(lse_n + lse_p, torch.zeros(())))
    return sum(terms) / len(terms)


def npair_pairs(y, mined):
    pos, _ = pairs_of(y, mined)
    taken, chosen = set(), []
    for a, p in pos:
        if y[a] not in taken:
            taken.add(y[a])
            chosen.append((a, p))
    return chosen


def npair_parts(e, y, mined):
    chosen = npair_pairs(y, mined)
    if len(chosen) < 2:
        return None
    anchors = [e[a] for a, _ in chosen]
    positives = [e[p] for _, p in chosen]
    n = len(chosen)
    npair_terms = []
    for i in range(n):
        diffs = [anchors[i] @ positives[j] - anchors[i] @ positives[i] for j in range(n) if j != i]
        npair_terms.append(log1p_sum_exp(diffs))
    reg = sum(v @ v for v in anchors + positives) / (2 * n)
    return anchors, positives, sum(npair_terms) / n, reg


def npair(e, y, mined, l2_reg=0.005):
    parts = npair_parts(e, y, mined)
    if parts is None:
        return torch.zeros(())
    _, _, l_npair, reg = parts
    return l_npair + l2_reg * reg


def angular(e, y, mined, alpha=45.0, angular_weight=2.0, l2_reg=0.005):
    parts = npair_parts(e, y, mined)
    if parts is None:
        return torch.zeros(())
    anchors, positives, l_npair, reg = parts
    t2 = math.tan(math.radians(alpha)) ** 2
    n = len(anchors)
    terms = []
    for i in range(n):
        a, p = anchors[i], positives[i]
        f = [4 * t2 * (a + p) @ positives[j] - 2 * (1 + t2) * (a @ p) for j in range(n) if j != i]
        terms.append(log1p_sum_exp(f))
    return l_npair + angular_weight * sum(terms) / n + l2_reg * reg


def snr_contrastive(e, y, mined, pos_margin=0.0, neg_margin=1.0, zero_mean_reg=0.005):
    pos, neg = pairs_of(y, mined)
    if not pos and not neg:
        return torch.zeros(())

    def snr(a, b):
        return torch.var(e[b] - e[a]) / torch.var(e[a])

    lp = [hinge(snr(a, b) - pos_margin, "snr pos") for a, b in pos]
    ln = [hinge(neg_margin - snr(a, b), "snr neg") for a, b in neg]
    reg = sum(torch.abs(row.sum()) for row in e) / len(e)
    return avg_nonzero(lp) + avg_nonzero(ln) + zero_mean_reg * reg


def histogram(e, y, mined, num_bins=100):
    x = unit(e)
    pos, neg = pairs_of(y, mined)
    if not pos or not neg:
        return torch.zeros(())
    delta = 2.0 / num_bins

    def hist(pairs):
        h = [torch.zeros(()) for _ in range(num_bins + 1)]
        for a, b in pairs:
            s = x[a] @ x[b]
            r = min(int(math.floor((s.item() + 1) / delta)), num_bins - 1)
            t_r = -1 + r * delta
            guard((s.item() - t_r) / delta, "histogram node")
            guard((s.item() - t_r) / delta - 1, "histogram node")
            # s between nodes t_r and t_{r+1}: split linearly between them.
            h[r] = h[r] + (-1 + (r + 1) * delta - s) / delta
            h[r + 1] = h[r + 1] + (s - t_r) / delta
        return [v / len(pairs) for v in h]

    h_pos, h_neg = hist(pos), hist(neg)
    loss, cdf = torch.zeros(()), torch.zeros(())
    for r in range(num_bins + 1):
        cdf = cdf + h_pos[r]
        loss = loss + h_neg[r] * cdf
    return loss


# ---------------------------------------------------------------- miners

def distance_matrix(e):
    x = unit(e.detach())
    n = len(x)
    return [[(x[i] - x[j]).norm().item() for j in range(n)] for i in range(n)]


def similarity_matrix(e):
    x = unit(e.detach())
    return (x @ x.t()).tolist()


def semi_hard(e, y, margin=0.2):
    d = distance_matrix(e)
    out = []
    for a, p in all_pos_pairs(y):
        band = []
        for q in range(len(y)):
            if y[q] == y[a]:
                continue
            guard(d[a][q] - d[a][p], "semi-hard lower edge")
            guard(d[a][q] - d[a][p] - margin, "semi-hard upper edge")
            if d[a][p] < d[a][q] < d[a][p] + margin:
                band.append((d[a][q], q))
        if band:
            out.append((a, p, min(band)[1]))
    return {"kind": "triplets", "triplets": out}


def batch_hard(e, y):
    d = distance_matrix(e)
    out = []
    for a in range(len(y)):
        ps = [j for j in range(len(y)) if j != a and y[j] == y[a]]
        ns = [j for j in range(len(y)) if y[j] != y[a]]
        if ps and ns:
            out.append((a, max(ps, key=lambda j: d[a][j]), min(ns, key=lambda j: d[a][j])))
    return {"kind": "triplets", "triplets": out}


def ms_miner(e, y, epsilon=0.1):
    s = similarity_matrix(e)
    pos, neg = [], []
    for a in range(len(y)):
        ps = [j for j in range(len(y)) if j != a and y[j] == y[a]]
        ns = [j for j in range(len(y)) if y[j] != y[a]]
        if not ps or not ns:
            continue
        hardest_pos = min(s[a][j] for j in ps)
        hardest_neg = max(s[a][j] for j in ns)
        for j in range(len(y)):
            if j in ps:
                guard(s[a][j] - hardest_neg - epsilon, "ms positive")
                if s[a][j] < hardest_neg + epsilon:
                    pos.append((a, j))
            elif j in ns:
                guard(s[a][j] - hardest_pos + epsilon, "ms negative")
                if s[a][j] > hardest_pos - epsilon:
                    neg.append((a, j))
    return {"kind": "pairs", "pos": pos, "neg": neg}


def pair_margin(e, y, pos_margin=0.2, neg_margin=0.8):
    d = distance_matrix(e)
    for a, b in all_pos_pairs(y):
        guard(d[a][b] - pos_margin, "pair-margin positive")
    for a, b in all_neg_pairs(y):
        guard(d[a][b] - neg_margin, "pair-margin negative")
    return {"kind": "pairs",
            "pos": [(a, b) for a, b in all_pos_pairs(y) if d[a][b] > pos_margin],
            "neg": [(a, b) for a, b in all_neg_pairs(y) if d[a][b] < neg_margin]}


def distance_weighted_probabilities(e, y, cutoff=0.5, nonzero_loss_cutoff=1.4):
    """Row a: probability of each sample being drawn as a's negative."""
    d = distance_matrix(e)
    dim = e.shape[1]
    rows = []
    for a in range(len(y)):
        w = []
        for j in range(len(y)):
            if y[j] == y[a] or d[a][j] >= nonzero_loss_cutoff:
                w.append(0.0)
                continue
            dist = max(d[a][j], cutoff)
            q = dist ** (dim - 2) * (1 - dist * dist / 4) ** ((dim - 3) / 2)
            w.append(1 / q)
        if sum(w) == 0:  # every negative beyond the cutoff: uniform over negatives
            w = [1.0 if y[j] != y[a] else 0.0 for j in range(len(y))]
        total = sum(w)
        rows.append([v / total if total else 0.0 for v in w])
    return rows


def encode_mined(m):
    if m["kind"] == "pairs":
        return {"kind": "pairs", "pos": [list(t) for t in m["pos"]],
                "neg": [list(t) for t in m["neg"]]}
    return {"kind": "triplets", "triplets": [list(t) for t in m["triplets"]]}


# ---------------------------------------------------------------- cases

LOSSES = {
    "contrastive": contrastive,
    "triplet": triplet,
    "margin": margin_loss,
    "multi_similarity": multi_similarity,
    "lifted_structure": lifted_structure,
    "npair": npair,
    "angular": angular,
    "circle": circle,
    "snr_contrastive": snr_contrastive,
    "histogram": histogram,
}

# (loss, params, num_classes) run on top of the defaults, on every batch.
VARIANTS = [
    ("contrastive", {"pos_margin": 0.3, "neg_margin": 1.2}, 0),
    ("triplet", {"margin": 0.5}, 0),
    ("margin", {"per_class_beta": 1, "nu": 0.01, "beta": 0.9}, 8),
    ("multi_similarity", {"alpha": 4, "beta": 20, "base": 0.3}, 0),
    ("lifted_structure", {"margin": 0.5}, 0),
    ("npair", {"l2_reg": 0.1}, 0),
    ("angular", {"alpha": 36, "angular_weight": 1, "l2_reg": 0.02}, 0),
    ("circle", {"m": 0.4, "gamma": 32}, 0),
    ("snr_contrastive", {"pos_margin": 0.5, "neg_margin": 1.5, "zero_mean_reg": 0.05}, 0),
    ("histogram", {"num_bins": 25}, 0),
]


def run_loss(name, params, num_classes, e, y, mined):
    e = e.clone().requires_grad_(True)
    kwargs = dict(params)
    leaves = [e]
    beta = None
    if name == "margin":
        n_beta = num_classes if params.get("per_class_beta") else 1
        beta = torch.full((n_beta,), float(params.get("beta", 1.2)), requires_grad=True)
        kwargs.pop("beta", None)
        kwargs["beta"] = beta
        leaves.append(beta)
    loss = LOSSES[name](e, y, mined, **kwargs)
    assert torch.isfinite(loss), (name, params)
    if loss.requires_grad:
        grads = torch.autograd.grad(loss, leaves, allow_unused=True)
    else:  # no tuple at all: the loss is a constant 0
        grads = [None] * len(leaves)
    grads = [torch.zeros_like(l) if g is None else g for l, g in zip(leaves, grads)]
    case = {"loss": name, "params": params, "num_classes": num_classes,
            "value": loss.item(), "grad": encode(grads[0])}
    if beta is not None:
        case["param_grads"] = {"beta": encode(grads[1])}
    return case


def main():
    data = batches()
    fixture = {"batches": {}, "losses": [], "miners": [], "distance_weighted": []}
    for bname, (e, y) in data.items():
        fixture["batches"][bname] = {"embeddings": encode(e),
                                     "labels": encode(torch.tensor(y, dtype=torch.int64))}

    mined = {}
    for bname, (e, y) in data.items():
        results = {
            "semi_hard": semi_hard(e, y),
            "batch_hard": batch_hard(e, y),
            "multi_similarity": ms_miner(e, y),
            "pair_margin": pair_margin(e, y),
        }
        for miner, m in results.items():
            fixture["miners"].append({"miner": miner, "params": {}, "batch": bname,
                                      "tuples": encode_mined(m)})
        variants = {
            "semi_hard": ({"margin": 0.5}, semi_hard(e, y, margin=0.5)),
            "multi_similarity": ({"epsilon": 0.3}, ms_miner(e, y, epsilon=0.3)),
            "pair_margin": ({"pos_margin": 0.5, "neg_margin": 1.1},
                            pair_margin(e, y, pos_margin=0.5, neg_margin=1.1)),
        }
        for miner, (params, m) in variants.items():
            fixture["miners"].append({"miner": miner, "params": params, "batch": bname,
                                      "tuples": encode_mined(m)})
        mined[bname] = {"pairs": results["multi_similarity"], "triplets": results["batch_hard"]}
        fixture["distance_weighted"].append(
            {"batch": bname, "params": {},
             "probabilities": distance_weighted_probabilities(e, y)})
    fixture["distance_weighted"].append(
        {"batch": "mixed", "params": {"cutoff": 0.8, "nonzero_loss_cutoff": 1.2},
         "probabilities": distance_weighted_probabilities(*data["mixed"], 0.8, 1.2)})

    for bname, (e, y) in data.items():
        for name in LOSSES:
            case = run_loss(name, {}, 0, e, y, None)
            fixture["losses"].append({**case, "batch": bname, "mined": None})
        for name, params, num_classes in VARIANTS:
            case = run_loss(name, params, num_classes, e, y, None)
            fixture["losses"].append({**case, "batch": bname, "mined": None})
    for bname in ("mixed", "raw"):
        e, y = data[bname]
        for kind in ("pairs", "triplets"):
            m = mined[bname][kind]
            for name in LOSSES:
                case = run_loss(name, {}, 0, e, y, m)
                fixture["losses"].append({**case, "batch": bname, "mined": encode_mined(m)})

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(fixture['losses'])} loss cases, {len(fixture['miners'])} miner "
          f"cases, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
