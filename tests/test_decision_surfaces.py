"""Decision surfaces: model building, training, region counting, drawing, and the explorer widget headless."""

import ipywidgets as widgets
import matplotlib
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

matplotlib.use("Agg")

from workshop_utils.data.synthetic import xor_points
from workshop_utils.binary_classifiers import (count_parameters, count_regions, make_binary_classifier,
                                               train_binary_classifier)
from workshop_utils.widgets.decision_surfaces import decision_surface_explorer, draw_decision_surface, train_and_draw


def _xor_split():
    X, y = xor_points(per_corner=20, noise=0.1, seed=0)
    return X[:60], y[:60], X[60:], y[60:]


def test_classifiers_have_the_asked_shape():
    logistic = make_binary_classifier(width=5, depth=0)
    assert [type(m) for m in logistic] == [nn.Linear, nn.Sigmoid]
    deep = make_binary_classifier(width=10, depth=2, activation="tanh")
    assert [type(m) for m in deep] == [nn.Linear, nn.Tanh, nn.Linear, nn.Tanh, nn.Linear, nn.Sigmoid]
    assert count_parameters(deep) == (2 * 10 + 10) + (10 * 10 + 10) + (10 + 1)
    assert deep(torch.zeros(7, 2)).shape == (7, 1)
    with pytest.raises(ValueError, match="activation"):
        make_binary_classifier(4, 1, activation="swish-ish")
    with pytest.raises(ValueError, match="depth"):
        make_binary_classifier(4, -1)


def test_count_regions():
    grid = np.zeros((10, 10), dtype=int)
    assert count_regions(grid) == 1
    grid[:, 5:] = 1
    assert count_regions(grid) == 2  # a straight cut
    grid[2:4, 1:3] = 1  # an island of class 1 inside class 0
    assert count_regions(grid) == 3


def test_a_hidden_layer_solves_xor_and_logistic_regression_does_not():
    X_train, y_train, X_val, y_val = _xor_split()
    results = {}
    for depth in (0, 1):
        torch.manual_seed(0)
        model = make_binary_classifier(8, depth, "tanh")
        history = train_binary_classifier(model, X_train, y_train, X_val, y_val, epochs=300, lr=0.05)
        results[depth] = history.iloc[-1]
    assert results[0]["val_acc"] <= 0.8
    assert results[1]["val_acc"] == 1.0 and results[1]["train_acc"] == 1.0
    assert results[1]["train_loss"] < results[0]["train_loss"]


def test_draw_decision_surface_reports_accuracies_and_regions():
    X_train, y_train, X_val, y_val = _xor_split()
    torch.manual_seed(0)
    model = make_binary_classifier(8, 1, "tanh")
    train_binary_classifier(model, X_train, y_train, epochs=300, lr=0.05)
    ax = Figure().add_subplot()
    result = draw_decision_surface(ax, model, X_train, y_train, X_val, y_val, class_names=["even", "odd"],
                                   title="xor", resolution=60)
    assert result["train_acc"] == 1.0 and result["val_acc"] == 1.0
    assert result["regions"] >= 3  # XOR's class regions are not two half-planes
    assert "xor" in ax.get_title() and "validation 100%" in ax.get_title()
    # validation points are inside the view
    assert ax.get_xlim()[0] <= X_val[:, 0].min() and ax.get_ylim()[1] >= X_val[:, 1].max()


def test_without_activation_depth_adds_nothing():
    X_train, y_train, X_val, y_val = _xor_split()
    ax = Figure().add_subplot()
    result = train_and_draw(ax, width=16, depth=3, activation="none", epochs=200, X_train=X_train, y_train=y_train,
                            X_val=X_val, y_val=y_val, resolution=50)
    assert result["regions"] <= 2  # still one straight boundary
    assert result["train_acc"] <= 0.8


def test_explorer_retrains_when_a_control_moves():
    X_train, y_train, X_val, y_val = _xor_split()
    explorer = decision_surface_explorer(X_train, y_train, X_val, y_val, class_names=["even", "odd"],
                                         width=8, depth=0, activation="tanh", epochs=200)
    assert isinstance(explorer.show(), widgets.VBox)
    assert explorer.last_result["parameters"] == 3 and explorer.last_result["val_acc"] <= 0.8
    explorer.controls["depth"].value = 1  # one hidden layer: XOR becomes solvable
    assert explorer.redraw_count == 2
    assert explorer.last_result["parameters"] == 2 * 8 + 8 + 8 + 1
    assert explorer.last_result["val_acc"] == 1.0
    explorer.controls["activation"].value = "none"
    assert explorer.last_result["val_acc"] <= 0.8
    assert explorer.last_result["seconds"] < 5  # the notebook promises well under a second; generous for CI


def test_the_largest_explorer_setting_trains_quickly():
    X_train, y_train, X_val, y_val = _xor_split()
    ax = Figure().add_subplot()
    result = train_and_draw(ax, width=64, depth=4, activation="relu", epochs=1000, X_train=X_train, y_train=y_train,
                            X_val=X_val, y_val=y_val)
    assert result["seconds"] < 6  # about 1 s on one free core
