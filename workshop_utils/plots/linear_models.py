"""Pictures of linear classifiers (notebook 02): points and lines, mistakes per epoch, log-loss penalty,
loss curves, and one training run (its loss curve beside its decision boundary).

Every function draws on the ``ax`` it is given and returns the numbers it drew.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from .boundaries import UNNAMED_FEATURES, plot_decision_boundary, plot_linear_boundary
from .curves import plot_named_curves
from .style import OKABE_ITO, RDBU_ENDS

# Blue for class 0, red for class 1: the colours plot_decision_boundary uses over its probability shading.
CLASS_COLOURS = RDBU_ENDS


def plot_points(ax, X: torch.Tensor, y: torch.Tensor, *, class_names: Sequence[str] | None = None,
                feature_names: Sequence[str] | None = None, title: str | None = None) -> dict[int, int]:
    """Scatter 2-D points coloured by their 0/1 label; returns how many points each class has."""
    X = torch.as_tensor(X, dtype=torch.float32)
    y = torch.as_tensor(y).long().reshape(-1)
    names = list(class_names) if class_names is not None else ["class 0", "class 1"]
    counts = {}
    for label in (0, 1):
        chosen = (y == label).numpy()
        counts[label] = int(chosen.sum())
        ax.scatter(X[chosen, 0].numpy(), X[chosen, 1].numpy(), s=22, color=CLASS_COLOURS[label],
                   edgecolor="white", linewidth=0.5, label=names[label], zorder=3)
    feature_names = feature_names if feature_names is not None else UNNAMED_FEATURES
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize=8, framealpha=0.8)
    return counts


def plot_lines_over_epochs(ax, X: torch.Tensor, y: torch.Tensor, weights: Sequence[torch.Tensor],
                           biases: Sequence[float], epochs: Sequence[int], *, class_names: Sequence[str] | None = None,
                           title: str | None = None) -> list[np.ndarray | None]:
    """The points, and the line ``w·x + b = 0`` at the end of each of ``epochs`` (counted from 1).

    ``weights[k]``, ``biases[k]`` are the line after epoch ``k + 1`` (a PerceptronRun's
    ``weights_per_epoch`` and ``bias_per_epoch``); each epoch gets its own colour and the legend sits
    outside the axes, beside them. Returns the end points of each line drawn (None where ``w = 0`` and
    there is no line).
    """
    plot_points(ax, X, y, class_names=class_names, title=title)
    low, high = X.min(dim=0).values - 0.5, X.max(dim=0).values + 0.5
    ax.set_xlim(float(low[0]), float(high[0]))
    ax.set_ylim(float(low[1]), float(high[1]))
    line_colours = [colour for colour in OKABE_ITO if colour not in ("#0072B2", "#000000")]  # not class 0's blue
    ends = []
    for index, epoch in enumerate(epochs):
        ends.append(plot_linear_boundary(ax, weights[epoch - 1], biases[epoch - 1],
                                         color=line_colours[index % len(line_colours)], label=f"after epoch {epoch}"))
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8)
    return ends


def plot_mistakes_per_epoch(ax, mistakes: dict[str, Sequence[int]], *, title: str = "Perceptron: mistakes per epoch"
                            ) -> dict[str, list[int]]:
    """One line per data set: how many points each epoch got wrong. Returns the numbers drawn."""
    drawn = {}
    for colour, (name, counts) in zip(OKABE_ITO, mistakes.items()):
        counts = [int(c) for c in counts]
        ax.plot(range(1, len(counts) + 1), counts, marker="o", markersize=3, color=colour, label=name)
        drawn[name] = counts
    ax.set_xlabel("epoch (one pass over the data)")
    ax.set_ylabel("mistakes (= updates)")
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    return drawn


def plot_log_loss_penalty(ax, eps: float = 1e-3) -> dict[str, np.ndarray]:
    """The log-loss penalty against the predicted probability p of class 1.

    A point of class 1 costs ``-log(p)``, one of class 0 costs ``-log(1 - p)``: nothing for a
    confident right answer, without bound for a confident wrong one. Returns the curves drawn.
    """
    p = np.linspace(eps, 1 - eps, 400)
    penalty_if_1, penalty_if_0 = -np.log(p), -np.log(1 - p)
    ax.plot(p, penalty_if_1, color=CLASS_COLOURS[1], label="true class 1: $-\\log(p)$")
    ax.plot(p, penalty_if_0, color=CLASS_COLOURS[0], label="true class 0: $-\\log(1-p)$")
    ax.set_xlabel("predicted probability of class 1, p")
    ax.set_ylabel("penalty (log loss of one point)")
    ax.set_title("Log loss: confident and wrong costs a lot")
    ax.set_ylim(0, 5)
    ax.legend(fontsize=9)
    return {"p": p, "penalty_if_1": penalty_if_1, "penalty_if_0": penalty_if_0}


def plot_loss_curves(ax, curves: dict[str, tuple[Sequence[float], Sequence[float]]], *, xlabel: str,
                     ylabel: str = "log loss (all data)", title: str | None = None, log_x: bool = False
                     ) -> dict[str, float]:
    """One line per ``name: (xs, losses)``; returns each curve's last loss."""
    drawn = plot_named_curves(ax, curves, xlabel=xlabel, ylabel=ylabel, title=title, log_x=log_x, linewidth=1.5)
    return {name: float(losses[-1]) for name, losses in drawn.items()}


def plot_training_run(ax_loss, ax_boundary, X: torch.Tensor, y: torch.Tensor, losses: Sequence[float],
                      weights: torch.Tensor, bias: float, *, label: str, lr: float,
                      class_names: Sequence[str] | None = None, feature_names: Sequence[str] | None = None,
                      show_probability: bool = False, resolution: int = 120) -> dict:
    """A run's loss curve (titled with its learning rate and ``label``) beside its decision boundary.

    Returns ``{"accuracy", "final_loss"}``; the boundary panel is left empty, with a note, when the
    weights are not finite.
    """
    losses = np.asarray(losses, dtype=float)
    colour = {"converges": OKABE_ITO[2], "too slow": OKABE_ITO[1], "oscillates": OKABE_ITO[4]}.get(label, OKABE_ITO[3])
    ax_loss.plot(np.arange(len(losses)), losses, color=colour, linewidth=1.5)
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("log loss")
    ax_loss.set_title(f"lr = {lr:.4g}: {label}", color=colour)
    finite = np.isfinite(losses)
    if finite.any():
        ax_loss.set_ylim(0, max(1.0, float(np.max(losses[finite])) * 1.05))
    w = torch.as_tensor(weights, dtype=torch.float32).reshape(-1)
    if not (torch.isfinite(w).all() and np.isfinite(bias)):
        ax_boundary.text(0.5, 0.5, "weights are not finite:\nno line to draw", ha="center", va="center",
                         transform=ax_boundary.transAxes)
        return {"accuracy": float("nan"), "final_loss": float(losses[-1])}
    scores = lambda points: torch.sigmoid(points @ w + bias)  # noqa: E731  (a predict function for the shading)
    drawn = plot_decision_boundary(ax_boundary, scores, X, y, class_names=class_names, feature_names=feature_names,
                                   title=f"after {len(losses) - 1} steps", resolution=resolution,
                                   show_probability=show_probability)
    return {"accuracy": drawn["accuracy"], "final_loss": float(losses[-1])}
