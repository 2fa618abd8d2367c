"""The optimizer race: surfaces, real torch.optim runs, the lessons the notebook asserts, plots and widget."""

import math

import ipywidgets as widgets
import pytest
import torch
from matplotlib.figure import Figure

from workshop_utils.optimizer_race import (
    OPTIMIZER_NAMES, SURFACES, final_losses, get_surface, race, run_optimizer, standard_optimizers)
from workshop_utils.plots.surfaces import plot_race_losses, plot_paths, plot_race, plot_surface_contours
from workshop_utils.widgets.optimizer_race import OptimizerRace


@pytest.mark.parametrize("name", list(SURFACES))
def test_each_surface_has_its_minimum_zero_where_it_says(name):
    surface = SURFACES[name]
    minimum = torch.tensor(surface.minimum, dtype=torch.float64, requires_grad=True)
    value = surface(minimum)
    (grad,) = torch.autograd.grad(value, minimum)
    assert value.item() == pytest.approx(0.0, abs=1e-12) and grad.abs().max() < 1e-12
    grid = torch.rand(500, 2, dtype=torch.float64) * 4 - 2
    assert (surface(grid) >= 0).all()  # evaluates a whole batch of points: what the contour plot needs
    assert surface(torch.tensor(surface.start)).item() > 0.5


def test_valley_is_fifty_times_steeper_across():
    valley = get_surface("valley")
    point = torch.zeros(2, dtype=torch.float64)
    hessian = torch.autograd.functional.hessian(valley.loss, point)
    curvatures = torch.linalg.eigvalsh(hessian)
    assert curvatures.tolist() == pytest.approx([0.1, 5.0])


def test_run_optimizer_records_the_path_and_the_state():
    result = run_optimizer("valley", torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}, steps=12)
    assert result.path.shape == (13, 2) and result.losses.shape == (13,)
    assert result.path[0].tolist() == list(get_surface("valley").start)
    assert "momentum_buffer" in result.state and not result.diverged
    recomputed = get_surface("valley")(result.path)
    assert torch.allclose(recomputed, result.losses)  # losses[k] is the loss at path[k]


def test_plain_sgd_by_hand_equals_the_race():
    surface = get_surface("rosenbrock")
    theta = torch.tensor(surface.start, dtype=torch.float64)
    for _ in range(5):
        point = theta.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(surface(point), point)
        theta = theta - 0.01 * grad
    assert torch.allclose(run_optimizer(surface, torch.optim.SGD, {"lr": 0.01}, steps=5).path[-1], theta)


def test_divergence_stops_the_run():
    result = run_optimizer("valley", torch.optim.SGD, {"lr": 0.45}, steps=100)
    assert result.diverged and math.isinf(result.final_loss)
    assert len(result.path) == len(result.losses) < 101
    assert torch.isfinite(result.losses).all() and result.losses.max() <= 1e6


def test_the_lessons_of_the_notebook():
    valley = final_losses(race("valley", standard_optimizers(0.1), steps=100))
    assert valley["Momentum"] < valley["SGD"] / 100
    assert valley["Adagrad"] == max(valley.values())
    bowl = final_losses(race("stretched bowl", standard_optimizers(0.1), steps=100))
    assert bowl["RMSProp"] < bowl["SGD"] / 100 and bowl["Adam"] < bowl["SGD"] / 100
    banana = final_losses(race("rosenbrock", standard_optimizers(0.3), steps=100))
    assert math.isinf(banana["SGD"]) and math.isinf(banana["Momentum"]) and banana["Adam"] < 1e-3


def test_standard_optimizers_keep_the_lesson_order():
    assert list(standard_optimizers(0.1)) == list(OPTIMIZER_NAMES)
    assert list(standard_optimizers(0.1, ["Adam", "SGD"])) == ["SGD", "Adam"]
    assert standard_optimizers(0.1)["Momentum"] == (torch.optim.SGD, {"lr": 0.1, "momentum": 0.9})
    with pytest.raises(KeyError, match="unknown optimizers"):
        standard_optimizers(0.1, ["Lion"])
    with pytest.raises(KeyError, match="choose one of"):
        get_surface("himmelblau")


def test_plots_return_what_they_drew():
    results = race("valley", standard_optimizers(0.1, ["SGD", "Adam"]), steps=20)
    contours = plot_surface_contours(Figure().add_subplot(), "rosenbrock", resolution=40)
    assert contours["z"].shape == (40, 40) and contours["z"].min() >= 0
    paths = plot_paths(Figure().add_subplot(), results)
    assert paths["SGD"].shape == (21, 2)
    curves = plot_race_losses(Figure().add_subplot(), results, floor=1e-6)
    assert curves["Adam"].min() >= 1e-6
    figure = Figure()
    finals = plot_race(figure.subplots(1, 2), "valley", results)
    assert finals == final_losses(results)


def test_widget_reruns_the_race_headless():
    view = OptimizerRace("valley", lr=0.1, steps=30, optimizers=("SGD", "Momentum"))
    assert isinstance(view.show(), widgets.VBox)
    assert set(view.last_result) == {"SGD", "Momentum"} and view.last_result["SGD"].path.shape == (31, 2)
    view.controls["Adam"].value = True
    assert list(view.last_result) == ["SGD", "Momentum", "Adam"]
    view.controls["lr"].value = 0.5
    assert view.last_result["SGD"].diverged and not view.last_result["Adam"].diverged
    view.controls["surface"].value = "rosenbrock"
    assert view.last_result["SGD"].path[0].tolist() == [-1.5, 2.0]
    view.controls["steps"].value = 50
    assert view.redraw_count == 5 and len(view.last_result["Adam"].path) == 51
