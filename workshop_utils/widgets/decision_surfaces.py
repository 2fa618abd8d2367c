"""Decision surfaces of small binary classifiers as width, depth and activation change.

The plain functions do the work (and are tested): ``workshop_utils.binary_classifiers`` builds and
trains the network, :func:`draw_decision_surface` shades the regions it assigns to each class. :func:`decision_surface_explorer` is a thin widget over them: sliders for
width, depth and epochs and a drop-down for the activation retrain a small model on every change
(about a second at most on a CPU) and redraw its surface.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any, Sequence

import torch
from torch import nn

from ..binary_classifiers import (HIDDEN_ACTIVATIONS, count_parameters, count_regions, make_binary_classifier,
                                  train_binary_classifier)

def draw_decision_surface(ax, model: nn.Module, X_train: torch.Tensor, y_train: torch.Tensor,
                          X_val: torch.Tensor | None = None, y_val: torch.Tensor | None = None, *,
                          class_names: Sequence[str] = ("class 0", "class 1"),
                          feature_names: Sequence[str] | None = None, title: str | None = None,
                          resolution: int = 150) -> dict[str, Any]:
    """Shade the class regions of ``model`` under the training points (dots) and validation points (crosses).

    ``model`` returns P(class 1) (or class scores, see :func:`~workshop_utils.plots.boundaries.predicted_classes`).
    The title gives the training and validation accuracy. Returns ``{"train_acc", "val_acc" (None
    without validation data), "regions"}``, ``regions`` being the number of separate patches the
    classes get (see :func:`count_regions`).
    """
    from ..plots.boundaries import decision_grid, predicted_classes
    from ..plots.style import OKABE_ITO

    markers = {"train": {"marker": "o", "s": 18, "edgecolor": "white", "linewidth": 0.5},
               "validation": {"marker": "x", "s": 24, "linewidth": 1.2}}
    splits = {"train": (X_train, y_train.reshape(-1))}
    if X_val is not None and y_val is not None:
        splits["validation"] = (X_val, y_val.reshape(-1))
    # shade a grid covering every point, training and validation
    xx, yy, grid = decision_grid(torch.cat([X for X, _ in splits.values()]), resolution=resolution)
    grid_classes = predicted_classes(model, grid)[0].reshape(xx.shape).numpy()
    ax.contourf(xx, yy, grid_classes, levels=[-0.5, 0.5, 1.5], colors=OKABE_ITO[:2], alpha=0.25)

    accuracies: dict[str, float] = {}
    for split, (X, y) in splits.items():
        accuracies[split] = (predicted_classes(model, X)[0] == y).float().mean().item()
        for label in (0, 1):
            chosen = (y == label).numpy()
            ax.scatter(X[chosen, 0].numpy(), X[chosen, 1].numpy(), color=OKABE_ITO[label], **markers[split],
                       label=class_names[label] + ("" if split == "train" else f" ({split})"))
    if feature_names is not None:
        ax.set_xlabel(feature_names[0])
        ax.set_ylabel(feature_names[1])
    ax.legend(fontsize=7, loc="best", framealpha=0.8)
    scores = ", ".join(f"{split} {value:.0%}" for split, value in accuracies.items())
    ax.set_title((f"{title}\n" if title else "") + scores, fontsize=10)
    return {"train_acc": accuracies["train"], "val_acc": accuracies.get("validation"),
            "regions": count_regions(grid_classes)}


def train_and_draw(ax, *, width: int, depth: int, activation: str, epochs: int, X_train: torch.Tensor,
                   y_train: torch.Tensor, X_val: torch.Tensor, y_val: torch.Tensor,
                   class_names: Sequence[str] = ("class 0", "class 1"), feature_names: Sequence[str] | None = None,
                   lr: float = 0.02, seed: int = 0, resolution: int = 100) -> dict[str, Any]:
    """Build, train (seeded: the same settings give the same picture) and draw one classifier.

    Returns :func:`draw_decision_surface`'s numbers plus ``parameters`` (the model's size),
    ``seconds`` (training and drawing time) and the ``model``.
    """
    started = time.perf_counter()
    torch.manual_seed(seed)
    model = make_binary_classifier(width, depth, activation, in_features=X_train.shape[1])
    train_binary_classifier(model, X_train, y_train, X_val, y_val, epochs=epochs, lr=lr)
    label = "logistic regression" if depth == 0 else f"{depth} x {width} {activation}"
    result = draw_decision_surface(ax, model, X_train, y_train, X_val, y_val, class_names=class_names,
                                   feature_names=feature_names, resolution=resolution,
                                   title=f"{label}, {count_parameters(model):,} parameters, {epochs} epochs")
    return {**result, "parameters": count_parameters(model), "seconds": time.perf_counter() - started,
            "model": model}


def decision_surface_explorer(X_train: torch.Tensor, y_train: torch.Tensor, X_val: torch.Tensor, y_val: torch.Tensor,
                              *, class_names: Sequence[str] = ("class 0", "class 1"),
                              feature_names: Sequence[str] | None = None, width: int = 10, depth: int = 2,
                              activation: str = "relu", epochs: int = 300, lr: float = 0.02):
    """A :class:`~workshop_utils.widgets.slider_plot.SliderPlot` that retrains and redraws on every change.

    Controls: ``width`` (neurons per hidden layer), ``depth`` (hidden layers; 0 = logistic
    regression), ``activation`` and ``epochs``. ``.show()`` displays it; ``.controls[name].value = v``
    redraws from code; ``.last_result`` holds :func:`train_and_draw`'s numbers.
    """
    import ipywidgets as widgets

    from .slider_plot import SliderPlot

    style = {"description_width": "initial"}
    controls = {
        "width": widgets.IntSlider(value=width, min=1, max=64, description="width", style=style,
                                   continuous_update=False),
        "depth": widgets.IntSlider(value=depth, min=0, max=4, description="hidden layers", style=style,
                                   continuous_update=False),
        "activation": widgets.Dropdown(options=list(HIDDEN_ACTIVATIONS), value=activation, description="activation",
                                       style=style),
        "epochs": widgets.IntSlider(value=epochs, min=50, max=1000, step=50, description="epochs", style=style,
                                    continuous_update=False),
    }
    draw = partial(train_and_draw, X_train=X_train, y_train=y_train, X_val=X_val, y_val=y_val,
                   class_names=class_names, feature_names=feature_names, lr=lr)
    return SliderPlot(draw, controls, figsize=(6.5, 4.5))
