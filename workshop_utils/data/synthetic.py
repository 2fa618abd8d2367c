"""Small synthetic 2-D data sets for the first lessons: generated, so they never need a download.

Each function returns ``(X, y)``: ``X`` float32 ``N x 2``, ``y`` int64 class labels 0/1, the same for
the same ``seed``. Points are shuffled so that the classes are interleaved, as a mini-batch expects.
"""

from __future__ import annotations

import numpy as np
import torch

# The four corners of XOR: the label is 1 when exactly one input is 1.
XOR_INPUTS = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_LABELS = torch.tensor([0, 1, 1, 0])


def _as_tensors(points: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    order = rng.permutation(len(labels))
    return (torch.tensor(points[order], dtype=torch.float32),
            torch.tensor(labels[order], dtype=torch.int64))


def _check_count(name: str, value: int, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")


def xor_points(per_corner: int = 50, noise: float = 0.15, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """XOR as a cloud: ``per_corner`` points around each corner of the unit square, Gaussian ``noise``.

    Label 1 around (0, 1) and (1, 0), label 0 around (0, 0) and (1, 1): no straight line separates them.
    With ``noise`` below about 0.2 the clouds do not overlap, so a good model reaches 100% accuracy.
    """
    _check_count("per_corner", per_corner)
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}.")
    rng = np.random.default_rng(seed)
    corners = XOR_INPUTS.numpy().repeat(per_corner, axis=0)
    labels = XOR_LABELS.numpy().repeat(per_corner)
    points = corners + rng.normal(0.0, noise, size=corners.shape)
    return _as_tensors(points, labels, rng)


def linearly_separable_points(count: int = 100, margin: float = 0.2, seed: int = 0,
                              weights: tuple[float, float] = (1.0, -1.0), bias: float = 0.0,
                              ) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` points in [-2, 2]² labelled by the line ``w·x + b = 0``, none closer to it than ``margin``.

    The guaranteed gap is what makes the perceptron converge: it stops after at most (R / margin)²
    mistakes, R being the largest distance of a point from the origin.
    """
    _check_count("count", count, minimum=2)
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}.")
    w = np.asarray(weights, dtype=np.float64)
    norm = np.linalg.norm(w)
    if norm == 0:
        raise ValueError("weights must not both be zero: they define the separating line.")
    rng = np.random.default_rng(seed)
    kept: list[np.ndarray] = []
    while sum(len(block) for block in kept) < count:
        candidates = rng.uniform(-2.0, 2.0, size=(4 * count, 2))
        distance = (candidates @ w + bias) / norm
        kept.append(candidates[np.abs(distance) > margin])
    points = np.concatenate(kept)[:count]
    labels = (points @ w + bias > 0).astype(np.int64)
    if labels.min() == labels.max():
        raise ValueError("All points fell on one side of the line: move the line (bias) into [-2, 2]².")
    return _as_tensors(points, labels, rng)


def two_moons(count: int = 200, noise: float = 0.2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's two interleaving half-circles: a curved boundary a linear model cannot draw."""
    from sklearn.datasets import make_moons

    _check_count("count", count, minimum=2)
    points, labels = make_moons(n_samples=count, noise=noise, random_state=seed)
    return torch.tensor(points, dtype=torch.float32), torch.tensor(labels, dtype=torch.int64)
