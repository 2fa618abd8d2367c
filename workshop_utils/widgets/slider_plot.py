"""Thin interactive wrappers around plain, tested functions.

Only core ipywidgets (sliders, dropdowns, Output, VBox/HBox) are used, so the same code runs on
ipywidgets 7.7 (Colab) and 8.x (JupyterLab 4). Each widget keeps the result of its last redraw in
``last_result`` so tests can set a value headlessly and check what the callback produced.
"""

from __future__ import annotations

from typing import Any, Callable


class SliderPlot:
    """Controls that redraw a matplotlib figure whenever one of them changes.

    ``draw(ax, **values)`` does the drawing (a plain function you can test without widgets) and may
    return anything; that return value is kept in ``last_result``.
    """

    def __init__(self, draw: Callable[..., Any], controls: dict[str, Any], figsize=(6, 3)):
        import ipywidgets as widgets  # lazy: importing workshop_utils must not need a front-end

        self._draw = draw
        self.controls = controls
        self.figsize = figsize
        self.output = widgets.Output()
        self.last_result: Any = None
        self.redraw_count = 0
        for control in controls.values():
            control.observe(self._on_change, names="value")
        self.widget = widgets.VBox([widgets.HBox(list(controls.values())), self.output])

    @property
    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def _on_change(self, _change=None) -> None:
        self.redraw()

    def redraw(self) -> Any:
        """Draw with the current control values into the Output area; return what ``draw`` returned."""
        import matplotlib.pyplot as plt
        from IPython.display import clear_output, display

        fig, ax = plt.subplots(figsize=self.figsize)
        try:
            self.last_result = self._draw(ax, **self.values)
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

    def _ipython_display_(self):  # lets `SliderPlot(...)` as a cell's last line show itself
        from IPython.display import display

        display(self.show())
