"""Pictures of 2-D loss surfaces and the paths optimizers take on them (the optimizer race).

Each function draws on the ``ax`` you pass and returns the numbers it drew.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import torch

from ..optimizer_race import OPTIMIZER_NAMES, RaceResult, Surface, get_surface
from .curves import plot_named_curves
from .style import OKABE_ITO


def optimizer_colour(name: str, index: int = 0) -> str:
    """The same colour for an optimizer in every picture (by its place in OPTIMIZER_NAMES)."""
    if name in OPTIMIZER_NAMES:
        index = OPTIMIZER_NAMES.index(name)
    return OKABE_ITO[index % len(OKABE_ITO)]


def plot_surface_contours(ax, surface: str | Surface, *, resolution: int = 160, levels: int = 18) -> dict:
    """Contour lines of ``surface`` over its window, with its minimum marked by a star.

    Returns the grid ``x``, ``y`` and the loss ``z`` there (NumPy arrays).
    """
    surface = get_surface(surface)
    xs = torch.linspace(*surface.xlim, resolution, dtype=torch.float64)
    ys = torch.linspace(*surface.ylim, resolution, dtype=torch.float64)
    grid_x, grid_y = torch.meshgrid(xs, ys, indexing="xy")
    with torch.no_grad():
        z = surface(torch.stack([grid_x, grid_y], dim=-1)).numpy()
    if surface.log_levels:
        positive = z[z > 0]
        contour_levels = np.geomspace(max(positive.min(), 1e-4), z.max(), levels)
    else:
        contour_levels = z.max() * np.linspace(0, 1, levels + 1)[1:] ** 2  # denser near the minimum
    ax.contour(grid_x.numpy(), grid_y.numpy(), z, levels=contour_levels, colors="grey", linewidths=0.7, alpha=0.8)
    ax.plot(*surface.minimum, marker="*", markersize=15, color="black", markeredgecolor="white", linestyle="none",
            label="minimum", zorder=5)
    ax.set_xlim(*surface.xlim)
    ax.set_ylim(*surface.ylim)
    ax.set_xlabel("parameter 1")
    ax.set_ylabel("parameter 2")
    ax.set_title(surface.description, fontsize=10)
    return {"x": grid_x.numpy(), "y": grid_y.numpy(), "z": z}


def plot_paths(ax, results: Mapping[str, RaceResult], *, start_marker: bool = True,
               legend: bool = True) -> dict[str, np.ndarray]:
    """Each optimizer's path as a line with a dot per step; returns the paths as NumPy arrays."""
    drawn = {}
    for index, (name, result) in enumerate(results.items()):
        path = result.path.numpy()
        label = name + (" (diverged)" if result.diverged else "")
        style = ({"linewidth": 1.0, "alpha": 0.5, "zorder": 2} if result.diverged  # behind, so the others show
                 else {"linewidth": 1.6, "zorder": 3})
        ax.plot(path[:, 0], path[:, 1], color=optimizer_colour(name, index), marker="o", markersize=2.5,
                label=label, **style)
        drawn[name] = path
    if start_marker and results:
        first = next(iter(results.values())).path
        if len(first):
            ax.plot(first[0, 0], first[0, 1], marker="s", markersize=8, color="black", linestyle="none",
                    label="start", zorder=5)
    if legend:
        ax.legend(fontsize=8)
    return drawn


def plot_race_losses(ax, results: Mapping[str, RaceResult], *, floor: float = 1e-12) -> dict[str, np.ndarray]:
    """Loss against step on a log scale (every surface's minimum is 0); values below ``floor`` are clipped."""
    labels = {name: name + (" (diverged)" if result.diverged else "") for name, result in results.items()}
    curves = {labels[name]: (np.arange(len(result.losses)), np.clip(result.losses.numpy(), floor, None))
              for name, result in results.items()}
    colours = {labels[name]: optimizer_colour(name, index) for index, name in enumerate(results)}
    drawn = plot_named_curves(ax, curves, xlabel="step", ylabel="loss (log scale)", title="loss after each step",
                              log_y=True, colours=colours, legend_size=8)
    return {name: drawn[labels[name]] for name in results}


def plot_race(axes, surface: str | Surface, results: Mapping[str, RaceResult]) -> dict[str, float]:
    """The race on two axes: paths over the contours, and loss against step. Returns the final losses."""
    path_ax, loss_ax = axes
    plot_surface_contours(path_ax, surface)
    plot_paths(path_ax, results, legend=False)  # the loss panel's legend names the colours
    plot_race_losses(loss_ax, results)
    return {name: result.final_loss for name, result in results.items()}
