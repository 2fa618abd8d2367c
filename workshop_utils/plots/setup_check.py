"""The plot behind notebook 00's widget check."""

from __future__ import annotations

import numpy as np


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
