"""The learning-rate explorer of notebook 01: move the learning rate, watch gradient descent behave.

A thin widget around :func:`workshop_utils.plots.descent.plot_descent_run`, which runs and draws one
classified run (that function is plain and tested; this module only wires controls to it).
"""

from __future__ import annotations

from typing import Any

from ..descent import FUNCTIONS, DescentRun, get_function
from .slider_plot import ControlledFigure


class DescentExplorer(ControlledFigure):
    """Controls (function, learning rate, start, steps) that redraw a two-panel gradient-descent figure.

    Like :class:`~workshop_utils.widgets.SliderPlot`: ``controls[name].value = v`` redraws,
    ``last_result`` is the last :class:`~workshop_utils.descent.DescentRun` (with its ``label``),
    ``redraw_count`` counts redraws, ``show()`` returns the widget to display.
    """

    panels = 2

    def __init__(self, function: str = "quadratic", lr: float = 0.1, x0: float | None = None, steps: int = 20,
                 *, tolerance: float = 1e-2, figsize: tuple[float, float] = (10, 3.6)):
        import ipywidgets as widgets  # lazy: importing workshop_utils must not need a front-end

        chosen = get_function(function)
        self.tolerance = tolerance
        self.figsize = figsize
        controls: dict[str, Any] = {
            "function": widgets.Dropdown(options=list(FUNCTIONS), value=chosen.name, description="function"),
            # Log scale: 0.001 and 0.01 are as different as 0.1 and 1.
            "lr": widgets.FloatLogSlider(value=lr, base=10, min=-3, max=0.5, step=0.05, description="lr",
                                         readout_format=".3g", continuous_update=False),
            "x0": widgets.FloatSlider(value=chosen.start if x0 is None else x0, min=-4.0, max=8.0, step=0.25,
                                      description="start x0", continuous_update=False),
            "steps": widgets.IntSlider(value=steps, min=1, max=100, description="steps", continuous_update=False),
        }
        self.summary = widgets.HTML()
        self._connect(controls, [[controls["function"], controls["lr"]], [controls["x0"], controls["steps"]]],
                      extra=[self.summary])

    def draw(self, axes) -> DescentRun:
        """Run and draw with the current values; return the classified run (also kept in ``last_result``)."""
        from ..plots.descent import plot_descent_run

        values = self.values
        run = plot_descent_run(axes, values["function"], values["x0"], values["lr"], values["steps"],
                               tolerance=self.tolerance)
        self.summary.value = f"<b>{run.label}</b>: {run.summary()}"
        return run


def descent_explorer(function: str = "quadratic", lr: float = 0.1, x0: float | None = None, steps: int = 20,
                     **options: Any) -> DescentExplorer:
    """A :class:`DescentExplorer`; call ``.show()`` (or make it a cell's last line) to display it."""
    return DescentExplorer(function, lr, x0, steps, **options)
