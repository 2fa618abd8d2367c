"""Controls that redraw one matplotlib figure: the base of every widget in this package.

Only core ipywidgets (sliders, dropdowns, Output, VBox/HBox) are used, so the same code runs on
ipywidgets 7.7 (Colab) and 8.x (JupyterLab 4). Each widget keeps the result of its last redraw in
``last_result`` so tests can set a value headlessly and check what the callback produced.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

#: What a front end that cannot draw widgets shows for one of ours (RISE's slideshow, GitHub's notebook viewer,
#: a JupyterLab without the widget extension), instead of ipywidgets' ``VBox(children=(HBox(children=...``.
#: The offline slide decks (tools/build_slides.py) put the same words where a widget was.
UNDRAWN_WIDGET_TEXT = "▶ An interactive widget is here: open the notebook to use it."


@functools.cache
def _panel_class():
    """A VBox whose text form is :data:`UNDRAWN_WIDGET_TEXT` (ipywidgets 7.7 and 8 both show ``repr(widget)``)."""
    import ipywidgets as widgets  # lazy: importing workshop_utils must not need a front-end

    class WidgetPanel(widgets.VBox):
        def __repr__(self) -> str:
            return UNDRAWN_WIDGET_TEXT

    return WidgetPanel


class ControlledFigure:
    """Controls whose every change redraws a new figure of ``panels`` axes side by side.

    A subclass builds its controls, calls :meth:`_connect`, and implements :meth:`draw`, which
    draws on the axes with the current ``values`` and returns what tests and the notebook may check
    (kept in ``last_result``). ``redraw_count`` counts redraws; ``show()`` draws once and returns the
    widget to display.
    """

    panels = 1
    figsize: tuple[float, float] = (6, 3)

    def _connect(self, controls: dict[str, Any], rows: Sequence[Sequence[Any]], extra: Sequence[Any] = ()) -> None:
        """Keep ``controls``, redraw when any changes, and lay out ``rows`` of them, ``extra``, then the figure."""
        import ipywidgets as widgets  # lazy: importing workshop_utils must not need a front-end

        self.controls = controls
        self.output = widgets.Output()
        self.last_result: Any = None
        self.redraw_count = 0
        for control in controls.values():
            control.observe(self._on_change, names="value")
        self.widget = _panel_class()([widgets.HBox(list(row)) for row in rows] + list(extra) + [self.output])

    @property
    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def _on_change(self, _change=None) -> None:
        self.redraw()

    def draw(self, axes) -> Any:
        """Draw on ``axes`` (one Axes, or an array of ``panels``) with the current values."""
        raise NotImplementedError

    def redraw(self) -> Any:
        """Draw with the current control values into the Output area; return what ``draw`` returned."""
        import matplotlib.pyplot as plt
        from IPython.display import clear_output, display

        fig, axes = plt.subplots(1, self.panels, figsize=self.figsize)
        try:
            self.last_result = self.draw(axes)
            if self.panels > 1:
                fig.tight_layout()
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

    def _ipython_display_(self):  # lets the object as a cell's last line show itself
        from IPython.display import display

        display(self.show())


class SliderPlot(ControlledFigure):
    """Controls that redraw a matplotlib figure whenever one of them changes.

    ``draw(ax, **values)`` does the drawing (a plain function you can test without widgets) and may
    return anything; that return value is kept in ``last_result``.
    """

    def __init__(self, draw: Callable[..., Any], controls: dict[str, Any], figsize=(6, 3)):
        self._draw = draw
        self.figsize = figsize
        self._connect(controls, [list(controls.values())])

    def draw(self, axes) -> Any:
        return self._draw(axes, **self.values)
