"""The optimizer-race widget of notebook 03: surface, learning rate, steps and which optimizers run."""

from __future__ import annotations

from typing import Any

from ..optimizer_race import OPTIMIZER_NAMES, SURFACES, RaceResult, get_surface, race, standard_optimizers
from .slider_plot import ControlledFigure


def draw_race(axes, surface: str, lr: float, steps: int, optimizers: list[str]) -> dict[str, RaceResult]:
    """Race ``optimizers`` (names from OPTIMIZER_NAMES, all at ``lr``) on ``surface``; draw it on two axes."""
    from ..plots.surfaces import plot_race

    results = race(surface, standard_optimizers(lr, optimizers), steps=steps)
    plot_race(axes, surface, results)
    axes[1].set_title(f"loss after each step (lr = {lr:.3g})")
    return results


class OptimizerRace(ControlledFigure):
    """Controls that re-run the race and redraw both panels whenever one of them changes.

    ``controls`` has ``surface`` (Dropdown), ``lr`` (FloatLogSlider), ``steps`` (IntSlider) and one
    Checkbox per optimizer name. ``last_result`` is the dict of :class:`RaceResult` of the last redraw.
    """

    panels = 2

    def __init__(self, surface: str = "valley", lr: float | None = None, steps: int = 100,
                 optimizers: tuple[str, ...] = OPTIMIZER_NAMES, figsize=(11, 4.2)):
        import ipywidgets as widgets  # lazy: importing workshop_utils must not need a front-end

        lr = get_surface(surface).default_lr if lr is None else lr
        self.figsize = figsize
        controls: dict[str, Any] = {
            "surface": widgets.Dropdown(options=list(SURFACES), value=surface, description="surface"),
            "lr": widgets.FloatLogSlider(value=lr, base=10, min=-3, max=0, step=0.1, description="lr",
                                         readout_format=".3f"),
            "steps": widgets.IntSlider(value=steps, min=10, max=300, step=10, description="steps"),
        }
        for name in OPTIMIZER_NAMES:
            controls[name] = widgets.Checkbox(value=name in optimizers, description=name, indent=False,
                                              layout=widgets.Layout(width="110px"))
        settings = [controls[key] for key in ("surface", "lr", "steps")]
        self._connect(controls, [settings, [controls[name] for name in OPTIMIZER_NAMES]])

    @property
    def chosen_optimizers(self) -> list[str]:
        return [name for name in OPTIMIZER_NAMES if self.controls[name].value]

    def draw(self, axes) -> dict[str, RaceResult]:
        """Run the race with the current settings and draw it on both panels."""
        return draw_race(axes, self.controls["surface"].value, self.controls["lr"].value,
                         self.controls["steps"].value, self.chosen_optimizers)


def optimizer_race_widget(surface: str = "valley", **options: Any) -> OptimizerRace:
    """An :class:`OptimizerRace` on ``surface``; put ``.show()`` last in a cell."""
    return OptimizerRace(surface, **options)
