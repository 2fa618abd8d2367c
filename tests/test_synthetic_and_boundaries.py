"""Synthetic 2-D data sets and decision-boundary plots."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from workshop_utils.data.synthetic import (XOR_INPUTS, XOR_LABELS, linearly_separable_points, two_moons,
                                           xor_points)
from workshop_utils.plots.boundaries import (decision_grid, plot_decision_boundary, plot_linear_boundary,
                                             predicted_classes)


def test_xor_points_follow_the_truth_table():
    X, y = xor_points(per_corner=20, noise=0.1, seed=3)
    assert X.shape == (80, 2) and X.dtype == torch.float32 and y.dtype == torch.int64
    nearest_corner = torch.cdist(X, XOR_INPUTS).argmin(dim=1)
    assert torch.equal(XOR_LABELS[nearest_corner], y)
    assert torch.equal(xor_points(per_corner=20, noise=0.1, seed=3)[0], X)  # seeded
    assert not torch.equal(xor_points(per_corner=20, noise=0.1, seed=4)[0], X)
    assert y[:8].unique().numel() == 2, "classes should be interleaved, not in blocks"


def test_separable_points_keep_their_margin():
    X, y = linearly_separable_points(count=150, margin=0.3, seed=1, weights=(2.0, 1.0), bias=0.5)
    assert X.shape == (150, 2) and set(y.tolist()) == {0, 1}
    distance = (X.double() @ torch.tensor([2.0, 1.0], dtype=torch.float64) + 0.5) / 5 ** 0.5
    assert distance.abs().min() > 0.3 - 1e-6
    assert torch.equal((distance > 0).long(), y)


@pytest.mark.parametrize("kwargs", [{"count": 0}, {"margin": -1}, {"weights": (0.0, 0.0)}, {"bias": 10.0}])
def test_separable_points_reject_bad_settings(kwargs):
    with pytest.raises(ValueError):
        linearly_separable_points(**kwargs)


def test_moons_shape():
    X, y = two_moons(count=60, seed=0)
    assert X.shape == (60, 2) and y.sum() == 30


def test_grid_covers_the_points():
    X = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    xx, yy, points = decision_grid(X, resolution=5, padding=0.5)
    assert xx.shape == (5, 5) and points.shape == (25, 2)
    assert xx.min() == -0.5 and xx.max() == 2.5 and yy.min() == 0.5 and yy.max() == 3.5
    with pytest.raises(ValueError, match="N x 2"):
        decision_grid(torch.zeros(4, 3))


def test_predictions_are_read_as_classes():
    points = torch.tensor([[-1.0, 0.0], [1.0, 0.0]])
    labels, probability = predicted_classes(lambda p: torch.sigmoid(5 * p[:, :1]), points)  # (N, 1) probabilities
    assert labels.tolist() == [0, 1] and probability is not None
    labels, probability = predicted_classes(lambda p: torch.stack([-p[:, 0], p[:, 0], 0 * p[:, 0]], 1), points)
    assert labels.tolist() == [0, 1] and probability is None
    labels, _ = predicted_classes(lambda p: (p[:, 0] > 0).long(), points)
    assert labels.tolist() == [0, 1]
    with pytest.raises(ValueError, match="sigmoid"):
        predicted_classes(lambda p: 5 * p[:, 0], points)  # raw scores for a binary model
    with pytest.raises(ValueError, match="one prediction per point"):
        predicted_classes(lambda p: p[:1, 0], points)


def test_model_is_evaluated_in_eval_mode_and_restored():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.9))
    model.train()
    seen = []
    model.register_forward_hook(lambda module, inputs, output: seen.append(module.training))
    predicted_classes(model, torch.zeros(3, 2))
    assert seen == [False] and model.training


def test_boundary_plot_reports_accuracy():
    X, y = linearly_separable_points(count=80, margin=0.2, seed=0)
    fig, ax = plt.subplots()
    perfect = plot_decision_boundary(ax, lambda p: (p @ torch.tensor([1.0, -1.0]) > 0).long(), X, y, resolution=30)
    wrong = plot_decision_boundary(ax, lambda p: (p @ torch.tensor([1.0, -1.0]) <= 0).long(), X, y, resolution=30)
    plt.close(fig)
    assert perfect["accuracy"] == 1.0 and wrong["accuracy"] == 0.0
    assert perfect["grid_classes"].shape == (30, 30) and set(np.unique(perfect["grid_classes"])) == {0, 1}


def test_linear_boundary_line_lies_on_the_hyperplane():
    fig, ax = plt.subplots()
    ax.set_xlim(-2, 2)
    ax.set_ylim(-2, 2)
    for w, b in [((1.0, 2.0), 0.5), ((3.0, 0.1), -1.0)]:
        ends = plot_linear_boundary(ax, w, b)
        assert np.allclose(ends @ np.array(w) + b, 0.0)
    assert plot_linear_boundary(ax, (0.0, 0.0), 1.0) is None
    plt.close(fig)
