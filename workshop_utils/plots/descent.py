"""Pictures of gradient descent on a function of one variable (notebook 01).

The path ``x_0, x_1, ...`` is drawn on the curve ``f``, next to the distance to the minimum on a log
scale, where "converges", "oscillates", "diverges" and "too slow" each have a recognisable shape.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..descent import DIVERGES, DescentRun, Function1D, explore_descent, get_function
from .style import OKABE_ITO

CURVE, PATH, START, END, MINIMUM = OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[2], OKABE_ITO[3], OKABE_ITO[7]


def _view(function: Function1D, path: Sequence[float]) -> tuple[float, float]:
    """The x interval to draw: the function's own range, stretched to show the path, but at most three
    times as wide (a diverging path would otherwise squash the curve into a flat line)."""
    low, high = function.x_range
    width = high - low
    finite = [x for x in path if math.isfinite(x)]
    if finite:
        low = max(min(low, min(finite)), function.x_range[0] - width)
        high = min(max(high, max(finite)), function.x_range[1] + width)
    return low, high


def plot_descent_path(ax, function: str | Function1D, path: Sequence[float], *, title: str | None = None,
                      legend: bool = True) -> dict:
    """Draw ``f`` and the gradient-descent points ``(x_k, f(x_k))`` joined in order, on ``ax``.

    Start is a square, the last point a star, minima dotted vertical lines. Points beyond the view (a
    diverging run) are left out, and counted in a note. Returns ``{"view": (low, high), "shown": n,
    "hidden": m}``.
    """
    chosen = get_function(function)
    xs = [float(x) for x in path]
    low, high = _view(chosen, xs)
    grid = np.linspace(low, high, 400)
    curve = np.array([chosen.f(x) for x in grid])
    ax.plot(grid, curve, color=CURVE, linewidth=2, label=f"f(x) = {chosen.formula}")
    for index, minimum in enumerate(chosen.minima):
        ax.axvline(minimum, color=MINIMUM, linestyle=":", linewidth=1,
                   label="minimum" if index == 0 else None)
    inside = [x for x in xs if math.isfinite(x) and low <= x <= high]
    hidden = len(xs) - len(inside)
    if inside:
        ys = [chosen.f(x) for x in inside]
        ax.plot(inside, ys, "-o", color=PATH, markersize=4, linewidth=1, alpha=0.8, label="x_k")
        if xs and xs[0] == inside[0]:
            ax.plot(inside[0], ys[0], "s", color=START, markersize=9, label="start x_0")
        if xs and xs[-1] == inside[-1]:
            ax.plot(inside[-1], ys[-1], "*", color=END, markersize=14, label="last x")
    if hidden:
        ax.text(0.02, 0.03, f"{hidden} point(s) off the plot", transform=ax.transAxes, ha="left", va="bottom",
                fontsize=8, color=END)
    margin = 0.08 * (curve.max() - curve.min() or 1.0)
    ax.set_ylim(curve.min() - margin, curve.max() + margin)
    ax.set_xlim(low, high)
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title(title or f"gradient descent on {chosen.formula}")
    if legend:
        ax.legend(fontsize=8, loc="upper center")
    return {"view": (low, high), "shown": len(inside), "hidden": hidden}


def plot_distance_to_minimum(ax, path: Sequence[float], minimum: float, *, tolerance: float = 1e-2,
                             label: str | None = None) -> list[float]:
    """Draw ``|x_k - minimum|`` against the step ``k`` on a log scale, with the tolerance as a dashed
    line; return the distances. A straight falling line is steady convergence; flat is too slow."""
    distances = [abs(float(x) - minimum) if math.isfinite(float(x)) else math.inf for x in path]
    shown = [max(d, 1e-16) for d in distances if math.isfinite(d)]  # log scale: no zeros, no inf
    ax.semilogy(range(len(shown)), shown, "-o", color=PATH, markersize=3, label=label)
    ax.axhline(tolerance, color=MINIMUM, linestyle="--", linewidth=1, label=f"tolerance {tolerance:g}")
    ax.set_xlabel("step k")
    ax.set_ylabel("|x_k − minimum|")
    ax.set_title("distance to the minimum")
    ax.legend(fontsize=8)
    return distances


def plot_descent_run(axes, function: str | Function1D, x0: float | None = None, lr: float = 0.1,
                     steps: int = 20, *, tolerance: float = 1e-2) -> DescentRun:
    """Run gradient descent (:func:`workshop_utils.descent.explore_descent`) and draw it on two axes:
    the path on the curve, and the distance to the minimum. Returns the classified run."""
    path_ax, distance_ax = axes
    run = explore_descent(function, x0, lr, steps, tolerance=tolerance)
    where = " (to a local minimum)" if run.local_minimum and run.label != DIVERGES else ""
    plot_descent_path(path_ax, function, run.path, title=f"lr = {run.lr:.3g}: {run.label}{where}")
    plot_distance_to_minimum(distance_ax, run.path, run.minimum, tolerance=tolerance)
    return run


def plot_learning_rate_comparison(axes, function: str | Function1D, learning_rates: Sequence[float],
                                  x0: float | None = None, steps: int = 20, *,
                                  tolerance: float = 1e-2) -> list[DescentRun]:
    """One panel per learning rate, same function, start and number of steps (a legend on the first
    panel only); returns the runs (with their classification) in the order of ``learning_rates``."""
    axes = list(np.ravel(axes))
    if len(axes) != len(learning_rates):
        raise ValueError(f"{len(learning_rates)} learning rates need as many axes, got {len(axes)}")
    runs = []
    for index, (ax, lr) in enumerate(zip(axes, learning_rates)):
        run = explore_descent(function, x0, lr, steps, tolerance=tolerance)
        plot_descent_path(ax, function, run.path, title=f"lr = {lr:g}: {run.label}", legend=index == 0)
        runs.append(run)
    return runs
