"""The figure audit: labelled axes and colour-blind-safe colours, judged on real matplotlib figures."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from workshop_utils.plots import readability
from workshop_utils.plots.readability import figure_problems, figure_title
from workshop_utils.plots.style import OKABE_ITO, use_workshop_style


@pytest.fixture(autouse=True)
def workshop_style():
    use_workshop_style()
    yield
    plt.close("all")


def test_a_labelled_plot_in_the_workshop_palette_has_no_problem():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0], label="a")
    ax.plot([0, 1], [0, 1], color="black", linestyle="--")
    ax.bar([0, 1], [1, 2], color=OKABE_ITO[2])
    ax.set(xlabel="epoch", ylabel="loss")
    assert figure_problems(fig) == []


def test_axes_with_data_and_no_title_or_label_are_reported():
    fig, (left, right) = plt.subplots(1, 2)
    left.plot([0, 1])
    right.plot([0, 1])
    right.set_title("labelled")
    right.set_xlabel("x")
    problems = figure_problems(fig)
    assert problems == ["axes 1: no title and no axis label"]


def test_curves_with_only_a_title_are_reported_but_an_image_with_a_title_is_fine():
    fig, (curves, image) = plt.subplots(1, 2)
    curves.plot([0, 1])
    curves.set_title("loss")
    image.imshow(np.zeros((4, 4)))
    image.set_title("a digit")
    image.axis("off")
    assert figure_problems(fig) == ["axes 1 ('loss'): curves with no axis label"]


def test_a_figure_title_names_axes_without_their_own():
    fig, axes = plt.subplots(1, 3)
    for ax in axes:
        ax.imshow(np.zeros((4, 4)))
        ax.axis("off")
    fig.suptitle("three filters")
    assert figure_problems(fig) == []
    assert figure_title(fig) == "three filters"


@pytest.mark.parametrize("colour", ["red", "#00ff00", (0.5, 0.1, 0.9)])
def test_off_palette_line_and_bar_colours_are_reported(colour):
    fig, ax = plt.subplots()
    ax.plot([0, 1], color=colour)
    ax.bar([0], [1], color=colour)
    ax.set(xlabel="x", ylabel="y")
    problems = figure_problems(fig)
    assert len(problems) == 1 and "outside the colour-blind-safe palette" in problems[0]


@pytest.mark.parametrize("cmap, reported", [("jet", True), ("rainbow_r", True), ("viridis", False), ("gray", False)])
def test_rainbow_colour_maps_are_reported(cmap, reported):
    fig, ax = plt.subplots()
    ax.imshow(np.random.default_rng(0).random((4, 4)), cmap=cmap)
    ax.scatter([0, 1], [0, 1], c=[0, 1], cmap=cmap)
    ax.set_title("t")
    problems = figure_problems(fig)
    assert bool(problems) == reported
    if reported:
        assert all("not colour-blind safe" in p for p in problems)


def test_the_colorbar_needs_no_label_of_its_own():
    fig, ax = plt.subplots()
    image = ax.imshow(np.zeros((3, 3)))
    fig.colorbar(image)
    ax.set_title("weights")
    assert figure_problems(fig) == []


def test_the_audit_records_each_figure_drawn_once(monkeypatch):
    monkeypatch.setattr(readability, "_AUDIT", None)
    from matplotlib.backend_bases import FigureCanvasBase

    monkeypatch.setattr(FigureCanvasBase, "print_figure", FigureCanvasBase.print_figure)  # undone afterwards
    with pytest.raises(RuntimeError, match="start_figure_audit"):
        readability.figure_audit_report()
    readability.start_figure_audit()
    good, ax = plt.subplots()
    ax.plot([0, 1])
    ax.set(title="good", xlabel="x", ylabel="y")
    bad, ax = plt.subplots()
    ax.plot([0, 1], color="red")
    import io

    for fig in (good, good, bad):  # drawn twice: audited once
        fig.savefig(io.BytesIO(), format="png")
    report = readability.figure_audit_report()
    assert [entry["title"] for entry in report] == ["good", ""]
    assert report[0]["problems"] == [] and report[1]["problems"] == [
        "axes 1: no title and no axis label", "axes 1: colours outside the colour-blind-safe palette: ['red']"]
