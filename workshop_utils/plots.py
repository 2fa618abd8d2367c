"""Plotting helpers with one readable, colour-blind-safe style."""

from __future__ import annotations

import numpy as np

# Okabe & Ito's palette: distinguishable with every common form of colour blindness.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


def use_workshop_style() -> None:
    """Colour-blind-safe colours, a grid and readable font sizes for every later plot."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update({
        "axes.prop_cycle": cycler(color=OKABE_ITO),
        "axes.grid": True,
        "grid.alpha": 0.3,
        "font.size": 11,
        "axes.titlesize": 12,
        "figure.dpi": 100,
        "image.cmap": "viridis",
    })


def plot_sine_wave(ax, frequency: float = 1.0, amplitude: float = 1.0, points: int = 400):
    """Draw ``amplitude * sin(2 pi frequency t)`` for t in [0, 1] on ``ax``; return (t, y).

    The widget check of notebook 00: if moving a slider redraws this plot, widgets work.
    """
    if points < 2:
        raise ValueError(f"points must be at least 2, got {points}")
    t = np.linspace(0.0, 1.0, points)
    y = amplitude * np.sin(2 * np.pi * frequency * t)
    ax.plot(t, y)
    ax.set_xlabel("time t (s)")
    ax.set_ylabel("signal")
    ax.set_title(f"{amplitude:g} · sin(2π · {frequency:g} · t)")
    ax.set_ylim(-2.1, 2.1)
    return t, y
