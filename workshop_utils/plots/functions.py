"""Pictures of 1-D functions: an activation and its derivative, line fits to data.

Each function draws on the ``ax`` you pass and returns the numbers it drew.
"""

from __future__ import annotations

from typing import Callable, Mapping

import torch
from torch import Tensor

from ..activations import Activation, autograd_derivative
from .style import OKABE_ITO


def plot_function_and_derivative(ax, function: Callable[[Tensor], Tensor], derivative: Callable[[Tensor], Tensor],
                                 *, x: Tensor | None = None, marker_points: int = 25, kinks: tuple[float, ...] = (),
                                 name: str = "f") -> dict[str, Tensor]:
    """Draw f (solid), its closed-form derivative (dashed) and autograd's derivative (markers) on ``ax``.

    Markers sit on a coarser grid that avoids the kinks, where autograd and the closed form may pick
    different one-sided slopes. Returns the line grid ``x``, ``f``, ``df`` (closed form), the marker grid
    ``x_markers``, ``df_autograd`` there and ``max_difference`` between the two derivatives.
    """
    if x is None:
        x = torch.linspace(-4, 4, 801, dtype=torch.float64)
    with torch.no_grad():
        values = function(x)
        slopes = derivative(x)
    x_markers = torch.linspace(float(x.min()), float(x.max()), marker_points, dtype=x.dtype)
    for kink in kinks:
        x_markers = x_markers[(x_markers - kink).abs() > 1e-6]
    autograd_slopes = autograd_derivative(function, x_markers)
    closed_at_markers = derivative(x_markers)
    difference = (autograd_slopes - closed_at_markers).abs().max()

    ax.plot(x, values, color=OKABE_ITO[0], linewidth=2.2, label=f"{name}(x)")
    ax.plot(x, slopes, color=OKABE_ITO[1], linewidth=2, linestyle="--", label=f"{name}'(x), closed form")
    ax.plot(x_markers, autograd_slopes, linestyle="none", marker="o", markersize=5, markerfacecolor="none",
            color=OKABE_ITO[3], label=f"{name}'(x), autograd")
    for kink in kinks:
        ax.axvline(kink, color="grey", linewidth=0.8, linestyle=":")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xlabel("x (the neuron's weighted sum)")
    ax.set_ylabel("value")
    ax.legend(loc="upper left", fontsize=9)
    return {"x": x, "f": values, "df": slopes, "x_markers": x_markers, "df_autograd": autograd_slopes,
            "max_difference": difference}


def plot_activation(ax, activation: Activation, alpha: float | None = None, *, x: Tensor | None = None) -> dict:
    """:func:`plot_function_and_derivative` for a row of the activation table, titled with its name and alpha."""
    parameter = activation.parameter(alpha)
    drawn = plot_function_and_derivative(
        ax, lambda t: activation.function(t, parameter), lambda t: activation.derivative(t, parameter),
        x=x, kinks=activation.kinks)
    title = activation.name + (f" (alpha = {parameter:g})" if activation.alpha is not None else "")
    ax.set_title(title)
    low = min(-1.5, float(drawn["f"].min()) - 0.3)
    high = max(1.5, min(4.5, float(drawn["f"].max()) + 0.3))
    ax.set_ylim(low, high)
    drawn["alpha"] = parameter
    return drawn


def plot_line_fits(ax, x: Tensor, y: Tensor, fits: Mapping[str, tuple[float, float]], *,
                   outliers: Tensor | None = None, xlabel: str = "x", ylabel: str = "y",
                   title: str = "") -> dict[str, Tensor]:
    """Data points and lines ``y = slope * x + intercept`` (``fits`` maps a label to (slope, intercept)).

    ``outliers`` is a boolean mask of points to draw in another colour. Returns each line's y values
    at the plotted x grid (``"x"`` holds the grid).
    """
    x, y = torch.as_tensor(x).flatten(), torch.as_tensor(y).flatten()
    is_outlier = torch.zeros_like(x, dtype=torch.bool) if outliers is None else torch.as_tensor(outliers).flatten()
    ax.scatter(x[~is_outlier], y[~is_outlier], color="grey", s=22, label="data")
    if is_outlier.any():
        ax.scatter(x[is_outlier], y[is_outlier], color=OKABE_ITO[3], s=60, marker="X", label="outlier")
    grid = torch.linspace(float(x.min()), float(x.max()), 100)
    drawn = {"x": grid}
    for index, (label, (slope, intercept)) in enumerate(fits.items()):
        line = slope * grid + intercept
        ax.plot(grid, line, color=OKABE_ITO[index % len(OKABE_ITO)], linewidth=2.2,
                label=f"{label}: y = {slope:.2f}x + {intercept:.2f}")
        drawn[label] = line
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=9)
    return drawn
