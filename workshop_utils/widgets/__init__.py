"""Interactive widgets: thin wrappers around plain, tested functions.

Only core ipywidgets are used, so the same code runs on ipywidgets 7.7 (Colab) and 8.x (JupyterLab 4).
Importing this package does not import ipywidgets; each widget does, when it is built.
"""

from .slider_plot import SliderPlot

__all__ = ["SliderPlot"]
