#!/usr/bin/python3
"""Writes the reference values tests/test_audit_report.cpp checks pca_2d against.

    /usr/bin/python3 tests/golden/make_pca_golden.py

Writes tests/golden/fixtures/pca.json: small embedding sets (f64) and their
2-D PCA maps, computed here with PyTorch (float64): rows centred, the top two
eigenvectors of the centred Gram matrix X^T X by torch.linalg.eigh, each
flipped so that its largest-magnitude component (the first, on a tie) is
positive, and the centred rows projected onto them. Nothing here calls the
engine.
"""
import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "pca.json")


def pca_2d(x):
    xc = x - x.mean(dim=0, keepdim=True)
    values, vectors = torch.linalg.eigh(xc.T @ xc)  # ascending
    top = vectors[:, [-1, -2]].clone()
    for c in range(2):
        largest = int(torch.argmax(top[:, c].abs()))  # first maximum
        if top[largest, c] < 0:
            top[:, c] = -top[:, c]
    return xc @ top, values.flip(0)


def case(name, x):
    projected, values = pca_2d(x)
    # Distinct leading eigenvalues, so the directions are well defined.
    assert values[0] > 1.05 * values[1] and values[1] > 1.05 * values[2], (name, values)
    return {"name": name, "shape": list(x.shape), "embeddings": x.flatten().tolist(),
            "projected": projected.flatten().tolist()}


def main():
    g = torch.Generator().manual_seed(7)
    # Anisotropic Gaussian cloud, randomly rotated and shifted.
    scales = torch.tensor([5.0, 3.0, 1.5, 1.0, 0.5, 0.25], dtype=torch.float64)
    rotation, _ = torch.linalg.qr(torch.randn(6, 6, generator=g, dtype=torch.float64))
    cloud = (torch.randn(40, 6, generator=g, dtype=torch.float64) * scales) @ rotation.T + 3.0
    # Fewer points than dimensions (rank 4 in R^8), as with a handful of embeddings.
    few = torch.randn(5, 8, generator=g, dtype=torch.float64) * torch.linspace(3, 0.5, 8,
                                                                             dtype=torch.float64)
    # Unit-norm rows, as DML embeddings are.
    sphere = torch.randn(30, 16, generator=g, dtype=torch.float64) * torch.linspace(
        4, 0.5, 16, dtype=torch.float64)
    sphere = sphere / sphere.norm(dim=1, keepdim=True)
    cases = [case("rotated anisotropic cloud", cloud), case("fewer points than dimensions", few),
             case("unit-norm embeddings", sphere)]
    with open(OUT, "w") as f:
        json.dump({"cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
