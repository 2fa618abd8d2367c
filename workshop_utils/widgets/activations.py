"""The activation explorer of notebook 03: pick a function, move alpha, see f, f' and autograd's f'."""

from __future__ import annotations

from ..activations import activation_names, get_activation
from .slider_plot import SliderPlot


def draw_activation(ax, name: str, alpha: float) -> dict:
    """Draw activation ``name`` with parameter ``alpha`` (ignored by functions without one) on ``ax``."""
    from ..plots.functions import plot_activation

    activation = get_activation(name)
    return plot_activation(ax, activation, alpha if activation.alpha is not None else None)


class ActivationExplorer(SliderPlot):
    """A Dropdown of every activation in the table and an alpha slider, enabled where alpha applies.

    Choosing a function resets alpha to that function's default. ``last_result`` holds what
    :func:`draw_activation` returned (``f``, ``df``, ``df_autograd``, ``max_difference``, ``alpha``...).
    """

    def __init__(self, name: str = "ReLU", figsize=(7, 3.6)):
        import ipywidgets as widgets

        start = get_activation(name)
        controls = {
            "name": widgets.Dropdown(options=activation_names(), value=start.name, description="function"),
            "alpha": widgets.FloatSlider(value=start.parameter(), min=0.0, max=2.0, step=0.01,
                                         description="alpha", readout_format=".2f"),
        }
        self._syncing = False
        super().__init__(draw_activation, controls, figsize=figsize)
        self._sync_alpha()

    def _on_change(self, change=None) -> None:
        if self._syncing:  # alpha set by the explorer itself: one redraw is enough
            return
        if change is not None and change.get("owner") is self.controls["name"]:
            self._sync_alpha()
        self.redraw()

    def _sync_alpha(self) -> None:
        activation = get_activation(self.controls["name"].value)
        slider = self.controls["alpha"]
        self._syncing = True
        try:
            slider.disabled = activation.alpha is None
            if activation.alpha is not None:
                slider.value = activation.alpha
        finally:
            self._syncing = False


def activation_explorer(name: str = "ReLU") -> ActivationExplorer:
    """An :class:`ActivationExplorer` starting on ``name``; put ``.show()`` (or the object) last in a cell."""
    return ActivationExplorer(name)
