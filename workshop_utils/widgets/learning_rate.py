"""The learning-rate explorer of notebook 01: move the learning rate, watch gradient descent behave.

A thin widget around :func:`workshop_utils.plots.descent.plot_descent_run`, which runs and draws one
classified run (that function is plain and tested; this module only wires controls to it).
"""

from __future__ import annotations

from typing import Any

from ..descent import FUNCTIONS, DescentRun, get_function


class DescentExplorer:
    """Controls (function, learning rate, start, steps) that redraw a two-panel gradient-descent figure.

    Like :class:`~workshop_utils.widgets.SliderPlot`: ``controls[name].value = v`` redraws,
    ``last_result`` is the last :class:`~workshop_utils.descent.DescentRun` (with its ``label``),
    ``redraw_count`` counts redraws, ``show()`` returns the widget to display.
    """

    def __init__(self, function: str = "quadratic", lr: float = 0.1, x0: float | None = None, steps: int = 20,
                 *, tolerance: float = 1e-2, figsize: tuple[float, float] = (10, 3.6)):
        import ipywidgets as widgets  # lazy: importing workshop_utils must not need a front-end

        chosen = get_function(function)
        self.tolerance = tolerance
        self.figsize = figsize
        self.last_result: DescentRun | None = None
        self.redraw_count = 0
        self.controls: dict[str, Any] = {
            "function": widgets.Dropdown(options=list(FUNCTIONS), value=chosen.name, description="function"),
            # Log scale: 0.001 and 0.01 are as different as 0.1 and 1.
            "lr": widgets.FloatLogSlider(value=lr, base=10, min=-3, max=0.5, step=0.05, description="lr",
                                         readout_format=".3g", continuous_update=False),
            "x0": widgets.FloatSlider(value=chosen.start if x0 is None else x0, min=-4.0, max=8.0, step=0.25,
                                      description="start x0", continuous_update=False),
            "steps": widgets.IntSlider(value=steps, min=1, max=100, description="steps", continuous_update=False),
        }
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.summary = widgets.HTML()
        self.output = widgets.Output()
        self.widget = widgets.VBox([widgets.HBox([self.controls["function"], self.controls["lr"]]),
                                    widgets.HBox([self.controls["x0"], self.controls["steps"]]),
                                    self.summary, self.output])

    @property
    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def _on_change(self, _change=None) -> None:
        self.redraw()

    def redraw(self) -> DescentRun:
        """Run and draw with the current values; return the classified run (also kept in ``last_result``)."""
        import matplotlib.pyplot as plt
        from IPython.display import clear_output, display

        from ..plots.descent import plot_descent_run

        values = self.values
        fig, axes = plt.subplots(1, 2, figsize=self.figsize)
        try:
            self.last_result = plot_descent_run(axes, values["function"], values["x0"], values["lr"],
                                                values["steps"], tolerance=self.tolerance)
            fig.tight_layout()
            self.summary.value = f"<b>{self.last_result.label}</b>: {self.last_result.summary()}"
        finally:
            with self.output:
                clear_output(wait=True)
                display(fig)
            plt.close(fig)  # shown once, in the Output, not again below the cell
        self.redraw_count += 1
        return self.last_result

    def show(self):
        """Draw once and return the widget to display (the last expression of a cell)."""
        self.redraw()
        return self.widget

    def _ipython_display_(self):
        from IPython.display import display

        display(self.show())


def descent_explorer(function: str = "quadratic", lr: float = 0.1, x0: float | None = None, steps: int = 20,
                     **options: Any) -> DescentExplorer:
    """A :class:`DescentExplorer`; call ``.show()`` (or make it a cell's last line) to display it."""
    return DescentExplorer(function, lr, x0, steps, **options)
