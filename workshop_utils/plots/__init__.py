"""Plotting helpers: one style, and one module per kind of picture.

Each function draws on a matplotlib ``ax`` you pass in and returns the numbers it drew, so it can be
tested without looking at pixels and reused inside widgets.
"""

from .setup_check import plot_sine_wave
from .style import OKABE_ITO, use_workshop_style

__all__ = ["OKABE_ITO", "use_workshop_style", "plot_sine_wave"]
