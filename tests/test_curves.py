"""Training curves: plot_history draws what the history holds; LiveCurves collects and redraws in place."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.figure import Figure

matplotlib.use("Agg")

from workshop_utils.plots.curves import LiveCurves, history_metrics, plot_history, split_column


def _history():
    return pd.DataFrame({"epoch": [1, 2, 3, 4], "train_loss": [1.0, 0.6, 0.4, 0.3], "val_loss": [1.1, 0.7, 0.65, 0.8],
                         "train_acc": [0.5, 0.7, 0.8, 0.9], "val_acc": [0.45, 0.66, 0.7, 0.69]})


def test_columns_are_read_as_split_and_metric():
    assert split_column("train_loss") == ("train", "loss")
    assert split_column("val_top5_acc") == ("val", "top5_acc")
    assert split_column("lr") == ("", "lr")
    assert history_metrics(["epoch", "train_loss", "val_loss", "train_acc", "val_acc", "lr"]) == ["loss", "acc", "lr"]


def test_plot_history_draws_one_panel_per_metric():
    fig = Figure()
    axes = fig.subplots(1, 2)
    drawn = plot_history(axes, _history(), title="run")
    assert list(drawn) == ["loss", "acc"]
    np.testing.assert_allclose(drawn["loss"]["val_loss"], [1.1, 0.7, 0.65, 0.8])
    assert axes[0].get_ylabel() == "loss" and axes[1].get_ylabel() == "accuracy"
    assert axes[0].get_title() == "run"
    # the best validation epoch is marked: lowest loss (epoch 3), highest accuracy (epoch 3)
    labels = [text.get_text() for text in axes[0].get_legend().get_texts()]
    assert "best validation (epoch 3)" in labels
    assert "training" in labels and "validation" in labels


def test_plot_history_picks_metrics_and_checks_axes():
    fig = Figure()
    drawn = plot_history(fig.add_subplot(), _history(), metrics=["acc"], total_epochs=10)
    assert list(drawn) == ["acc"] and set(drawn["acc"]) == {"train_acc", "val_acc"}
    assert fig.axes[0].get_xlim()[1] == pytest.approx(10.5)
    with pytest.raises(ValueError, match="need as many axes"):
        plot_history(fig.add_subplot(), _history())
    with pytest.raises(ValueError, match="no column"):
        plot_history(fig.add_subplot(), _history(), metrics=["f1"])
    with pytest.raises(ValueError, match="epoch"):
        plot_history(fig.add_subplot(), _history().drop(columns="epoch"), metrics=["loss"])


def test_live_curves_collect_a_history_and_redraw_each_epoch():
    live = LiveCurves(total_epochs=3, show=False)
    for epoch, (loss, acc) in enumerate([(1.0, 0.5), (0.5, 0.7), (0.25, 0.8)], start=1):
        live.update(epoch, train_loss=torch.tensor(loss), val_loss=loss + 0.1, train_acc=acc, val_acc=acc - 0.05)
    assert live.redraw_count == 3
    assert live.metrics == ["loss", "acc"]
    assert list(live.history.columns) == ["epoch", "train_loss", "val_loss", "train_acc", "val_acc"]
    assert live.history["train_loss"].tolist() == [1.0, 0.5, 0.25]  # tensors became floats
    np.testing.assert_allclose(live.last_drawn["acc"]["val_acc"], [0.45, 0.65, 0.75])
    assert len(live.figure.axes) == 2
    assert len(live.figure.axes[0].lines) == 3  # training, validation, best-validation dot: redrawn, not stacked


def test_live_curves_display_once_then_update_in_place(monkeypatch):
    shown, updated = [], []

    class Handle:
        def update(self, figure):
            updated.append(figure)

    def fake_display(figure, display_id=False):
        shown.append(figure)
        return Handle()

    monkeypatch.setattr("IPython.display.display", fake_display)
    live = LiveCurves()
    live.update(1, train_loss=1.0)
    live.update(2, train_loss=0.5)
    live.update(3, train_loss=0.4)
    assert len(shown) == 1 and len(updated) == 2 and updated[-1] is live.figure


def test_live_curves_reject_what_is_not_a_number():
    live = LiveCurves(show=False)
    with pytest.raises(ValueError, match="at least one value"):
        live.update(1)
    with pytest.raises(TypeError, match="train_loss"):
        live.update(1, train_loss="low")


def test_live_curves_outside_ipython_show_the_figure_once(monkeypatch):
    shown = []

    def display_without_ipython(figure, display_id=False):  # IPython's display() returns None in a plain script
        shown.append(figure)
        return None

    monkeypatch.setattr("IPython.display.display", display_without_ipython)
    live = LiveCurves()
    for epoch in range(1, 4):
        live.update(epoch, train_loss=1.0 / epoch)
    assert len(shown) == 1
