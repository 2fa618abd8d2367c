"""Training curves: one panel per metric (loss, accuracy, ...), one line per split (train, val, test).

A history is a pandas DataFrame with an ``epoch`` column and columns named ``<split>_<metric>``, e.g.
``train_loss``, ``val_loss``, ``train_acc``, ``val_acc``: what :func:`workshop_utils.full_batch_training.
train_full_batch` returns and what :class:`LiveCurves` collects. Any metric name works.

- :func:`plot_named_curves` draws any named curves ``{name: (xs, ys)}`` on one axes (loss curves of
  several runs, loss functions side by side...);
- :func:`plot_history` draws a finished history on axes you pass in;
- :class:`LiveCurves` redraws the same figure in place after every epoch while a model trains
  (in JupyterLab, Colab and headless runs alike).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .style import OKABE_ITO

SPLIT_COLOURS = {"train": OKABE_ITO[0], "val": OKABE_ITO[1], "test": OKABE_ITO[2]}
SPLIT_NAMES = {"train": "training", "val": "validation", "test": "test"}
METRIC_NAMES = {"loss": "loss", "acc": "accuracy", "accuracy": "accuracy"}


def plot_named_curves(ax, curves: Mapping[str, tuple[Sequence[float], Sequence[float]]], *, xlabel: str,
                      ylabel: str, title: str | None = None, log_x: bool = False, log_y: bool = False,
                      ylim: tuple[float, float] | None = None, colours: Mapping[str, str] | None = None,
                      linewidth: float = 2.0, legend_size: float = 9) -> dict[str, np.ndarray]:
    """One line per ``name: (xs, ys)`` on ``ax``, in the workshop colours; returns each curve's ys as drawn.

    With ``log_x``, points at x <= 0 (step 0, no examples seen yet) are left out: a log axis cannot show
    them. ``colours`` maps a name to its colour where a curve needs a fixed one.
    """
    drawn = {}
    for index, (name, (xs, ys)) in enumerate(curves.items()):
        xs = np.asarray(xs, dtype=float)
        ys = np.asarray(ys, dtype=float)
        if log_x:
            xs, ys = xs[xs > 0], ys[xs > 0]
        colour = (colours or {}).get(name, OKABE_ITO[index % len(OKABE_ITO)])
        ax.plot(xs, ys, color=colour, label=name, linewidth=linewidth)
        drawn[name] = ys
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=legend_size)
    return drawn


def split_column(column: str) -> tuple[str, str]:
    """``"train_loss"`` -> ``("train", "loss")``; a name without ``_`` is a metric of no split: ``("", name)``."""
    split, sep, metric = column.partition("_")
    return (split, metric) if sep and metric else ("", column)


def history_metrics(columns: Sequence[str]) -> list[str]:
    """The metric names in ``columns`` (``epoch`` left out), in order of first appearance."""
    names: list[str] = []
    for column in columns:
        if column == "epoch":
            continue
        metric = split_column(column)[1]
        if metric not in names:
            names.append(metric)
    return names


def _lower_is_better(metric: str) -> bool:
    return "loss" in metric or "error" in metric


def plot_history(axes: Any, history: pd.DataFrame, *, metrics: Sequence[str] | None = None,
                 total_epochs: int | None = None, mark_best: bool = True, log_loss: bool = False,
                 title: str | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Draw ``history``: one of ``axes`` per metric, training and validation (and test) as lines.

    ``axes`` is one matplotlib Axes (for one metric) or a sequence of them, one per metric drawn.
    ``metrics`` picks and orders the metrics (default: all, e.g. loss then accuracy).
    ``total_epochs`` fixes the x axis (so a live plot does not rescale each epoch); ``mark_best``
    puts a dot on the best validation value (lowest loss, highest accuracy); ``log_loss`` draws loss
    panels on a log scale; ``title`` goes on the first panel.

    Returns ``{metric: {column: values drawn}}``.
    """
    if "epoch" not in history.columns:
        raise ValueError(f"the history needs an 'epoch' column; it has {list(history.columns)}.")
    available = history_metrics(history.columns)
    metrics = list(metrics) if metrics is not None else available
    unknown = [name for name in metrics if name not in available]
    if unknown:
        raise ValueError(f"no column for metric(s) {unknown}; the history has {available}.")
    axes_list = list(np.ravel(axes)) if isinstance(axes, (list, tuple, np.ndarray)) else [axes]
    if len(axes_list) != len(metrics):
        raise ValueError(f"{len(metrics)} metric(s) {metrics} need as many axes, got {len(axes_list)}.")

    from matplotlib.ticker import MaxNLocator

    epochs = history["epoch"].to_numpy()
    drawn: dict[str, dict[str, np.ndarray]] = {}
    for ax, metric in zip(axes_list, metrics):
        drawn[metric] = {}
        for column in history.columns:
            split, name = split_column(column)
            if name != metric or column == "epoch":
                continue
            values = history[column].to_numpy(dtype=float)
            ax.plot(epochs, values, color=SPLIT_COLOURS.get(split, OKABE_ITO[4]),
                    linestyle="-" if split == "train" else "--", marker="o" if len(epochs) <= 30 else None,
                    markersize=3, label=SPLIT_NAMES.get(split, split or metric))
            drawn[metric][column] = values
            if mark_best and split == "val" and np.isfinite(values).any():
                best = int(np.nanargmin(values) if _lower_is_better(metric) else np.nanargmax(values))
                ax.plot(epochs[best], values[best], "o", color="black", markersize=6,
                        label=f"best validation (epoch {epochs[best]})")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(METRIC_NAMES.get(metric, metric))
        if log_loss and _lower_is_better(metric):
            ax.set_yscale("log")
        if total_epochs is not None:
            ax.set_xlim(0.5 if total_epochs <= 30 else 0, total_epochs + (0.5 if total_epochs <= 30 else 0))
        ax.legend(fontsize=8, loc="best")
    if title:
        axes_list[0].set_title(title)
    return drawn


class LiveCurves:
    """Training curves that redraw in place after each epoch.

    >>> live = LiveCurves(total_epochs=5)          # doctest: +SKIP
    >>> for epoch in range(1, 6):                    # doctest: +SKIP
    ...     live.update(epoch, train_loss=..., val_loss=..., train_acc=..., val_acc=...)
    >>> live.history                                 # doctest: +SKIP

    ``update`` takes any values named ``<split>_<metric>``; the first call fixes the panels (one per
    metric). The figure is shown once (``display(..., display_id=True)``) and then replaced in place,
    so a notebook cell keeps one picture instead of one per epoch. ``show=False`` draws without
    displaying (for tests and scripts); ``figure`` is the matplotlib Figure either way.
    """

    def __init__(self, metrics: Sequence[str] | None = None, *, total_epochs: int | None = None,
                 title: str | None = None, figsize: tuple[float, float] | None = None, log_loss: bool = False,
                 show: bool = True):
        self.metrics = list(metrics) if metrics is not None else None
        self.total_epochs = total_epochs
        self.title = title
        self.figsize = figsize
        self.log_loss = log_loss
        self.show = show
        self.figure = None
        self.last_drawn: dict[str, dict[str, np.ndarray]] = {}
        self.redraw_count = 0
        self._rows: list[dict[str, float]] = []
        self._axes: list[Any] = []
        self._handle = None

    @property
    def history(self) -> pd.DataFrame:
        """Everything passed to :meth:`update` so far, one row per call."""
        return pd.DataFrame(self._rows)

    def update(self, epoch: int, **values: float) -> None:
        """Record ``values`` for ``epoch`` (tensors become floats) and redraw the curves."""
        if not values:
            raise ValueError("update() needs at least one value, e.g. update(epoch, train_loss=0.5).")
        self._rows.append({"epoch": epoch, **{name: _as_float(name, value) for name, value in values.items()}})
        if self.metrics is None:
            self.metrics = history_metrics(list(values))
        self._redraw()

    def _redraw(self) -> None:
        from matplotlib.figure import Figure  # not pyplot: no second copy shown when the cell ends

        if self.figure is None:
            size = self.figsize or (5.0 * len(self.metrics), 3.5)
            self.figure = Figure(figsize=size, layout="constrained")
            self._axes = list(np.ravel(self.figure.subplots(1, len(self.metrics), squeeze=False)))
        for ax in self._axes:
            ax.clear()
        self.last_drawn = plot_history(self._axes, self.history, metrics=self.metrics,
                                       total_epochs=self.total_epochs, log_loss=self.log_loss, title=self.title)
        self.redraw_count += 1
        if self.show:
            self._display()

    def _display(self) -> None:
        from IPython.display import display

        if self._handle is None:
            handle = display(self.figure, display_id=True)
            self._handle = handle if handle is not None else False  # None outside IPython: shown once only
        elif self._handle is not False:
            self._handle.update(self.figure)


def _as_float(name: str, value: Any) -> float:
    try:
        return float(value.item() if hasattr(value, "item") else value)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"{name} must be a number (or a one-element tensor), got {value!r}.") from None
