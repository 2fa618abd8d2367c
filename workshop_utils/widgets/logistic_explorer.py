"""Learning-rate explorer for logistic regression (notebook 02).

A log slider picks the learning rate, another the number of steps; the figure shows the loss curve of
full-batch gradient descent, labelled "too slow / converges / oscillates / diverges", beside the
decision boundary it ended with. The work is done by :func:`explore_learning_rate`, a plain function;
:class:`LogisticExplorer` only wires it to sliders.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from ..linear_classifiers import classify_training_run, fit_logistic_regression
from .slider_plot import ControlledFigure


def explore_learning_rate(ax_loss, ax_boundary, X: torch.Tensor, y: torch.Tensor, lr: float, steps: int, *,
                          init: tuple[torch.Tensor, float] | None = None, class_names: Sequence[str] | None = None,
                          feature_names: Sequence[str] | None = None, show_probability: bool = True,
                          resolution: int = 120) -> dict[str, Any]:
    """Train logistic regression on ``(X, y)`` with full-batch GD at ``lr`` for ``steps``, classify the run, draw it.

    Returns ``{"label", "lr", "steps", "final_loss", "accuracy", "run"}`` (``run``: the LogisticRun).
    """
    from ..plots.linear_models import plot_training_run

    run = fit_logistic_regression(X, y, lr=lr, steps=int(steps), init=init)
    label = classify_training_run(run.losses)
    drawn = plot_training_run(ax_loss, ax_boundary, X, y, run.losses, run.weights, run.bias, label=label, lr=lr,
                              class_names=class_names, feature_names=feature_names,
                              show_probability=show_probability, resolution=resolution)
    return {"label": label, "lr": float(lr), "steps": int(steps), "final_loss": run.final_loss,
            "accuracy": drawn["accuracy"], "run": run}


class LogisticExplorer(ControlledFigure):
    """Sliders for the learning rate (log scale, 1e-3 to 1e3) and the number of steps.

    ``controls["lr"]`` and ``controls["steps"]`` are the sliders; setting their ``value`` redraws, and
    ``last_result`` keeps what :func:`explore_learning_rate` returned. ``show()`` returns the widget.
    """

    panels = 2

    def __init__(self, X: torch.Tensor, y: torch.Tensor, *, lr: float = 1.0, steps: int = 200,
                 init: tuple[torch.Tensor, float] | None = None, class_names: Sequence[str] | None = None,
                 feature_names: Sequence[str] | None = None, figsize=(11, 4), resolution: int = 120):
        import ipywidgets as widgets  # lazy: importing workshop_utils must not need a front-end

        self.X, self.y, self.init = X, y, init
        self.class_names, self.feature_names = class_names, feature_names
        self.figsize, self.resolution = figsize, resolution
        controls = {
            "lr": widgets.FloatLogSlider(value=lr, base=10, min=-3, max=3, step=0.1, description="learning rate",
                                         readout_format=".3g", continuous_update=False,
                                         style={"description_width": "initial"}),
            "steps": widgets.IntSlider(value=steps, min=10, max=500, step=10, description="steps",
                                       continuous_update=False),
        }
        self._connect(controls, [list(controls.values())])

    def draw(self, axes) -> dict[str, Any]:
        """Train and draw with the current slider values; return the result (kept in ``last_result``)."""
        ax_loss, ax_boundary = axes
        return explore_learning_rate(
            ax_loss, ax_boundary, self.X, self.y, self.controls["lr"].value, self.controls["steps"].value,
            init=self.init, class_names=self.class_names, feature_names=self.feature_names,
            resolution=self.resolution)
