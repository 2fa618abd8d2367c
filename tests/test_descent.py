"""1-D gradient descent: the runs, their classification, the pictures and the learning-rate explorer."""

import math

import ipywidgets as widgets
import matplotlib
import matplotlib.pyplot as plt
import pytest

matplotlib.use("Agg")

from workshop_utils.descent import (  # noqa: E402
    CONVERGES,
    DIVERGES,
    FUNCTIONS,
    LABELS,
    OSCILLATES,
    TOO_SLOW,
    classify_descent,
    explore_descent,
    get_function,
    gradient_descent_path,
    nearest_minimum,
)
from workshop_utils.plots.descent import (  # noqa: E402
    plot_descent_path,
    plot_descent_run,
    plot_distance_to_minimum,
    plot_learning_rate_comparison,
)
from workshop_utils.widgets.learning_rate import DescentExplorer, descent_explorer  # noqa: E402


def test_path_has_x0_and_one_value_per_step():
    path = gradient_descent_path(lambda x: 2 * (x - 3), 0.0, 0.1, 3)
    assert path == pytest.approx([0.0, 0.6, 1.08, 1.464])
    assert gradient_descent_path(lambda x: 2 * x, 5.0, 0.1, 0) == [5.0]
    with pytest.raises(ValueError):
        gradient_descent_path(lambda x: x, 0.0, 0.1, -1)


def test_a_diverging_path_stops_before_overflowing():
    path = gradient_descent_path(lambda x: 2 * x, 1.0, 5.0, 1000)
    assert len(path) < 1000 and abs(path[-1]) > 1e6 and all(math.isfinite(x) for x in path)


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_each_function_has_zero_slope_at_its_minima_and_the_right_slope(name):
    function = FUNCTIONS[name]
    for minimum in function.minima:
        assert abs(function.df(minimum)) < 1e-9
        assert function.f(minimum) < function.f(minimum - 0.1) and function.f(minimum) < function.f(minimum + 0.1)
    assert function.minimum == function.minima[0]
    assert all(function.f(function.minimum) <= function.f(m) for m in function.minima)  # the global one first
    for x in (-1.3, 0.4, 2.2):  # df is the derivative of f (central difference)
        assert function.df(x) == pytest.approx((function.f(x + 1e-6) - function.f(x - 1e-6)) / 2e-6, rel=1e-4)
    assert function.x_range[0] < function.minimum < function.x_range[1]


def test_far_right_of_the_asymmetric_function_does_not_overflow():
    assert math.isfinite(FUNCTIONS["asymmetric"].df(5000.0))


def test_unknown_function_is_explained():
    with pytest.raises(ValueError, match="quadratic"):
        get_function("cubic")


@pytest.mark.parametrize("lr, label", [
    (0.01, TOO_SLOW),      # shrinks by 0.98 per step: far from 3 after 40 steps
    (0.1, CONVERGES),      # factor 0.8: within 1e-2 from one side
    (0.5, CONVERGES),      # factor 0: one step
    (0.9, OSCILLATES),     # factor -0.8: jumps across 3, closer each time
    (0.99, OSCILLATES),    # factor -0.98: still on its way
    (1.0, DIVERGES),       # factor -1: bounces between -2 and 8 forever
    (1.05, DIVERGES),      # factor -1.1: grows
    (3.0, DIVERGES),       # blows up
])
def test_classification_on_the_quadratic(lr, label):
    run = explore_descent("quadratic", -2.0, lr, 40)
    assert run.label == label, run.summary()
    assert run.label in LABELS


def test_classification_edge_cases():
    assert classify_descent([3.0], 3.0) == CONVERGES  # started at the minimum
    assert classify_descent([0.0], 3.0) == TOO_SLOW   # no step at all
    assert classify_descent([0.0, 1.0, 2.0], 3.0) == TOO_SLOW
    assert classify_descent([2.0, 1.0, 0.0, -1.0], 3.0) == DIVERGES  # walking away (gradient ascent)
    assert classify_descent([1.0, float("nan")], 3.0) == DIVERGES
    assert classify_descent([1.0, 2e6], 3.0) == DIVERGES
    assert classify_descent([0.0, 1.0, 2.0], [-5.0, 3.0]) == TOO_SLOW  # nearest minimum of several
    with pytest.raises(ValueError):
        classify_descent([], 3.0)
    with pytest.raises(ValueError):
        classify_descent([1.0], 3.0, tolerance=0)


def test_settling_on_a_cycle_is_not_convergence():
    # lr 2.5 on the asymmetric function ends up bouncing between ~0.5 and ~4.07 forever.
    assert explore_descent("asymmetric", -2.0, 2.5, 100).label == DIVERGES
    # Overshooting far into the flat side and crawling back is slow, not divergent.
    assert explore_descent("asymmetric", 8.0, 0.5, 3).label == TOO_SLOW


def test_local_minimum_depends_on_the_start():
    right = explore_descent("double well", 3.0, 0.1, 60)
    left = explore_descent("double well", -3.0, 0.1, 60)
    assert right.label == left.label == CONVERGES
    assert right.minimum == pytest.approx(1.8608, abs=1e-3) and left.minimum == pytest.approx(-2.1149, abs=1e-3)
    assert right.local_minimum and not left.local_minimum
    assert "local minimum 1.861" in right.summary() and "local" not in left.summary()
    fig, axes = plt.subplots(1, 2)
    plot_descent_run(axes, "double well", 3.0, 0.1, 60)
    assert "local minimum" in axes[0].get_title()
    plt.close(fig)
    assert nearest_minimum(float("inf"), (1.0, 2.0)) == 1.0


def test_run_summary_mentions_a_blow_up():
    run = explore_descent("quadratic", -2.0, 3.0, 40)
    assert "blew up" in run.summary() and run.final_x == run.path[-1]
    assert "blew up" not in explore_descent("quadratic", -2.0, 0.1, 40).summary()


def test_plot_path_hides_far_points_and_returns_what_it_drew():
    fig, ax = plt.subplots()
    run = explore_descent("quadratic", -2.0, 1.05, 40)
    drawn = plot_descent_path(ax, "quadratic", run.path)
    assert drawn["hidden"] > 0 and drawn["shown"] + drawn["hidden"] == len(run.path)
    low, high = drawn["view"]
    assert low >= -3.0 - 12.0 and high <= 9.0 + 12.0  # at most three times the function's own range
    assert ax.get_xlabel() == "x"
    calm = plot_descent_path(ax, FUNCTIONS["quadratic"], explore_descent("quadratic", -2.0, 0.1, 10).path)
    assert calm == {"view": (-3.0, 9.0), "shown": 11, "hidden": 0}
    plt.close(fig)


def test_plot_distance_and_run_panels():
    fig, axes = plt.subplots(1, 2)
    distances = plot_distance_to_minimum(axes[1], [0.0, 3.0], 3.0)
    assert distances == [3.0, 0.0]  # zero kept in the numbers, clipped only for the log axis
    run = plot_descent_run(axes, "quadratic", -2.0, 0.9, 40)
    assert run.label == OSCILLATES and OSCILLATES in axes[0].get_title()
    plt.close(fig)


def test_comparison_figure_labels_each_learning_rate():
    fig, axes = plt.subplots(1, 4)
    runs = plot_learning_rate_comparison(axes, "quadratic", [0.01, 0.1, 0.9, 1.05], x0=-2.0, steps=40)
    assert [run.label for run in runs] == [TOO_SLOW, CONVERGES, OSCILLATES, DIVERGES]
    assert all(run.label in ax.get_title() for run, ax in zip(runs, axes))
    with pytest.raises(ValueError, match="as many axes"):
        plot_learning_rate_comparison(axes[:2], "quadratic", [0.1, 0.2, 0.3])
    plt.close(fig)


def test_explorer_reclassifies_when_the_slider_moves():
    explorer = descent_explorer("quadratic", lr=0.1, x0=-2.0, steps=40)
    assert isinstance(explorer, DescentExplorer)
    assert isinstance(explorer.show(), widgets.VBox)
    assert explorer.last_result.label == CONVERGES and explorer.redraw_count == 1
    explorer.controls["lr"].value = 1.2
    assert explorer.redraw_count == 2 and explorer.last_result.label == DIVERGES
    assert DIVERGES in explorer.summary.value
    explorer.controls["lr"].value = 0.001
    assert explorer.last_result.label == TOO_SLOW
    explorer.controls["function"].value = "double well"
    explorer.controls["lr"].value = 0.1
    explorer.controls["x0"].value = -3.0
    assert explorer.last_result.function == "double well"
    assert explorer.last_result.minimum == pytest.approx(-2.1149, abs=1e-3)
    explorer.controls["steps"].value = 5
    assert len(explorer.last_result.path) == 6
    assert plt.get_fignums() == []  # every redraw closed its figure
