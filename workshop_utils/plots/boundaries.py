"""Decision boundaries of 2-D classifiers: shaded regions, the data on top, the accuracy in the title."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

from .style import OKABE_ITO, RDBU_ENDS

# The axis labels of 2-D points whose features have no names: the x1, x2 of w1·x1 + w2·x2 + b.
UNNAMED_FEATURES = ("x1", "x2")


def decision_grid(X: torch.Tensor, resolution: int = 200, padding: float = 0.5
                  ) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    """A ``resolution x resolution`` grid covering the points ``X`` (N x 2) plus ``padding``.

    Returns the grid's x and y coordinates (2-D arrays, for ``contourf``) and the same points as an
    ``(resolution², 2)`` float32 tensor, ready to feed to a model.
    """
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.dim() != 2 or X.shape[1] != 2:
        raise ValueError(f"decision boundaries need 2-D points, an N x 2 tensor; got shape {tuple(X.shape)}.")
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, got {resolution}.")
    low = X.min(dim=0).values.numpy() - padding
    high = X.max(dim=0).values.numpy() + padding
    xs = np.linspace(low[0], high[0], resolution)
    ys = np.linspace(low[1], high[1], resolution)
    xx, yy = np.meshgrid(xs, ys)
    points = torch.tensor(np.column_stack([xx.ravel(), yy.ravel()]), dtype=torch.float32)
    return xx, yy, points


def predicted_classes(predict: Callable[[torch.Tensor], torch.Tensor], points: torch.Tensor
                      ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Run ``predict`` on ``points`` (without recording gradients) and read its output as classes.

    ``predict`` may be a model or any function of an ``N x 2`` tensor returning:

    - integer class labels, shape ``(N,)``;
    - probabilities (or any float score in [0, 1]) of class 1, shape ``(N,)`` or ``(N, 1)``: class 1
      when above 0.5;
    - one score (logit) per class, shape ``(N, k)`` with k >= 2: the class with the highest score.

    Returns ``(classes, probability_of_class_1)``; the probability is None unless it was given.
    """
    was_training = getattr(predict, "training", None)
    if was_training:
        predict.eval()  # type: ignore[union-attr]  # dropout / batch norm behave as at test time
    try:
        with torch.no_grad():
            output = torch.as_tensor(predict(points))
    finally:
        if was_training:
            predict.train()  # type: ignore[union-attr]
    if output.dim() == 2 and output.shape[1] == 1:
        output = output[:, 0]
    if output.shape[0] != len(points):
        raise ValueError(f"predict returned {output.shape[0]} rows for {len(points)} points; "
                         "it must return one prediction per point.")
    if output.dim() == 2:
        return output.argmax(dim=1), None
    if output.dim() != 1:
        raise ValueError(f"predict must return shape (N,), (N, 1) or (N, k); got {tuple(output.shape)}.")
    if output.dtype.is_floating_point:
        if output.min() < 0 or output.max() > 1:
            raise ValueError("predict returned floats outside [0, 1]: return probabilities (add a sigmoid), "
                             "or one score per class with shape (N, k).")
        return (output > 0.5).long(), output
    return output.long(), None


def plot_decision_boundary(ax, predict: Callable[[torch.Tensor], torch.Tensor], X: torch.Tensor, y: torch.Tensor,
                           *, class_names: Sequence[str] | None = None, feature_names: Sequence[str] | None = None,
                           title: str | None = None, resolution: int = 200, show_probability: bool = True) -> dict:
    """Shade the region each class gets from ``predict`` and draw the points ``X`` coloured by ``y``.

    For a binary model that returns probabilities, the shading shows the probability of class 1 and a
    black line marks p = 0.5; otherwise each class's region is shaded in its colour. ``predict`` is
    read as explained in :func:`predicted_classes`.

    Returns ``{"accuracy": accuracy on (X, y), "grid_classes": classes on the grid (2-D array)}``.
    """
    from matplotlib.colors import ListedColormap

    X = torch.as_tensor(X, dtype=torch.float32)
    y = torch.as_tensor(y).long().reshape(-1)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} points but y has {len(y)} labels.")
    xx, yy, grid = decision_grid(X, resolution=resolution)
    grid_classes, grid_probability = predicted_classes(predict, grid)
    point_classes, _ = predicted_classes(predict, X)
    accuracy = (point_classes == y).float().mean().item()

    num_classes = int(max(y.max().item(), grid_classes.max().item())) + 1
    colours = OKABE_ITO[:num_classes]
    if grid_probability is not None and show_probability:
        region = ax.contourf(xx, yy, grid_probability.reshape(xx.shape).numpy(), levels=np.linspace(0, 1, 11),
                             cmap="RdBu_r" if num_classes <= 2 else "viridis", alpha=0.35, vmin=0, vmax=1)
        ax.contour(xx, yy, grid_probability.reshape(xx.shape).numpy(), levels=[0.5], colors="black", linewidths=1.5)
        ax.figure.colorbar(region, ax=ax, label="P(class 1)", shrink=0.8)
        colours = list(RDBU_ENDS) if num_classes <= 2 else colours  # match the RdBu shading
    else:
        ax.contourf(xx, yy, grid_classes.reshape(xx.shape).numpy(), levels=np.arange(num_classes + 1) - 0.5,
                    cmap=ListedColormap(colours), alpha=0.25)
    names = list(class_names) if class_names is not None else [f"class {k}" for k in range(num_classes)]
    for label in range(num_classes):
        chosen = (y == label).numpy()
        if chosen.any():
            ax.scatter(X[chosen, 0].numpy(), X[chosen, 1].numpy(), s=18, color=colours[label],
                       edgecolor="white", linewidth=0.5, label=names[label] if label < len(names) else str(label))
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    feature_names = feature_names if feature_names is not None else UNNAMED_FEATURES
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    ax.set_title(f"{title + ': ' if title else ''}accuracy {accuracy:.0%}")
    ax.legend(loc="best", fontsize=8, framealpha=0.8)
    return {"accuracy": accuracy, "grid_classes": grid_classes.reshape(xx.shape).numpy()}


def plot_linear_boundary(ax, weights: Sequence[float] | torch.Tensor, bias: float | torch.Tensor, *,
                         label: str | None = None, color: str = "black", linestyle: str = "-") -> np.ndarray | None:
    """Draw the line ``w1·x1 + w2·x2 + b = 0`` across the current axes limits (set them first).

    Returns the two end points drawn (2 x 2 array), or None when ``w`` is zero and there is no line.
    """
    w = torch.as_tensor(weights, dtype=torch.float64).reshape(-1)
    b = float(torch.as_tensor(bias, dtype=torch.float64).reshape(-1)[0])
    if w.numel() != 2:
        raise ValueError(f"a 2-D linear boundary needs exactly 2 weights, got {w.numel()}.")
    w1, w2 = float(w[0]), float(w[1])
    (x_low, x_high), (y_low, y_high) = ax.get_xlim(), ax.get_ylim()
    if w1 == 0 and w2 == 0:
        return None
    if abs(w2) >= abs(w1):  # mostly horizontal: solve for x2
        xs = np.array([x_low, x_high])
        ends = np.column_stack([xs, -(w1 * xs + b) / w2])
    else:  # mostly vertical: solve for x1
        ys = np.array([y_low, y_high])
        ends = np.column_stack([-(w2 * ys + b) / w1, ys])
    ax.plot(ends[:, 0], ends[:, 1], color=color, linestyle=linestyle, linewidth=2, label=label)
    ax.set_xlim(x_low, x_high)
    ax.set_ylim(y_low, y_high)
    return ends
