"""The activation table, its plots (plots/functions.py) and the activation explorer, driven headless."""

import math

import ipywidgets as widgets
import pytest
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from workshop_utils.activations import (
    RRELU_EVAL_SLOPE, activation_names, activation_table, activation_table_markdown,
    autograd_derivative, away_from_kinks, get_activation)
from workshop_utils.plots.curves import plot_named_curves
from workshop_utils.plots.functions import plot_activation, plot_function_and_derivative, plot_line_fits
from workshop_utils.widgets.activations import ActivationExplorer, draw_activation

DECK_NAMES = ["Identity", "Binary step", "Logistic (sigmoid)", "Tanh", "ArcTan", "ReLU", "PReLU", "ELU",
              "SoftPlus", "Leaky ReLU", "RReLU"]


def test_the_table_has_every_function_of_the_deck_in_order():
    assert activation_names() == DECK_NAMES
    table = activation_table()
    assert list(table["activation"]) == DECK_NAMES
    assert all(text.startswith("$") and text.endswith("$") for text in table["f(x)"])
    markdown = activation_table_markdown()
    assert len(markdown.splitlines()) == 2 + len(DECK_NAMES)
    assert r"\frac{1}{1 + e^{-x}}" in markdown  # the sigmoid's formula, typeset by Jupyter


@pytest.mark.parametrize("name", DECK_NAMES)
@pytest.mark.parametrize("alpha", [None, 0.3])
def test_closed_form_derivative_equals_autograd_away_from_kinks(name, alpha):
    activation = get_activation(name)
    x = away_from_kinks(torch.linspace(-8, 8, 321, dtype=torch.float64), activation.kinks)
    by_autograd = autograd_derivative(lambda t: activation.f(t, alpha), x)
    assert torch.allclose(by_autograd, activation.df(x, alpha), atol=1e-9)


def test_values_match_torch_layers():
    x = torch.linspace(-3, 3, 61, dtype=torch.float64)
    assert torch.equal(get_activation("relu").f(x), F.relu(x))
    assert torch.allclose(get_activation("PReLU").f(x), torch.nn.PReLU(init=0.25).double()(x).detach())
    assert torch.allclose(get_activation("ELU").f(x, 2.0), F.elu(x, alpha=2.0))
    assert torch.allclose(get_activation("Leaky ReLU").f(x), F.leaky_relu(x, 0.01))
    assert torch.allclose(get_activation("SoftPlus").f(x), torch.log1p(torch.exp(x)))
    assert torch.allclose(get_activation("RReLU").f(-torch.ones(3)), torch.full((3,), -RRELU_EVAL_SLOPE))


def test_binary_step_and_relu_conventions_at_zero():
    zero = torch.zeros(1)
    assert get_activation("Binary step").f(zero).item() == 1.0
    assert math.isnan(get_activation("Binary step").df(zero).item())  # undefined, as in the deck
    assert get_activation("ReLU").df(zero).item() == 1.0  # the deck's convention (PyTorch picks 0)
    assert autograd_derivative(get_activation("Binary step").f, torch.tensor([-1.0, 2.0])).tolist() == [0.0, 0.0]


def test_default_alpha_and_lookup():
    assert get_activation("leaky relu").parameter() == 0.01
    assert get_activation("ELU").parameter(0.5) == 0.5
    assert get_activation("Tanh").alpha is None and get_activation("Tanh").parameter() == 0.0
    with pytest.raises(KeyError, match="choose one of"):
        get_activation("swish")


def test_away_from_kinks_drops_only_the_kink():
    x = torch.tensor([-1.0, 0.0, 1e-3, 1.0], dtype=torch.float64)
    assert away_from_kinks(x, (0.0,)).tolist() == [-1.0, 1e-3, 1.0]
    assert away_from_kinks(x, ()).tolist() == x.tolist()


def test_plot_function_and_derivative_reports_a_wrong_derivative():
    ax = Figure().add_subplot()
    right = plot_function_and_derivative(ax, torch.sin, torch.cos)
    assert right["max_difference"] < 1e-12
    wrong = plot_function_and_derivative(Figure().add_subplot(), torch.sin, lambda x: -torch.cos(x))
    assert wrong["max_difference"] > 1.5


def test_plot_activation_skips_markers_at_the_kink():
    drawn = plot_activation(Figure().add_subplot(), get_activation("ReLU"))
    assert not (drawn["x_markers"] == 0).any()
    assert drawn["max_difference"] == 0


def test_plot_curves_and_line_fits_return_what_they_drew():
    x = torch.linspace(0, 1, 5)
    ax = Figure().add_subplot()
    curves = plot_named_curves(ax, {"square": (x, x ** 2), "line": (x, x)}, xlabel="x", ylabel="y", title="t",
                               log_x=True)
    assert curves["square"].tolist() == pytest.approx((x[1:] ** 2).tolist())  # x = 0 cannot sit on a log axis
    assert [line.get_label() for line in ax.get_lines()] == ["square", "line"] and ax.get_xscale() == "log"
    outliers = torch.tensor([False, False, False, False, True])
    drawn = plot_line_fits(Figure().add_subplot(), x, 2 * x, {"fit": (2.0, 1.0)}, outliers=outliers)
    assert torch.allclose(drawn["fit"], 2 * drawn["x"] + 1)


def test_explorer_redraws_and_resets_alpha_headless():
    explorer = ActivationExplorer("Tanh")
    assert isinstance(explorer.show(), widgets.VBox)
    assert explorer.controls["alpha"].disabled  # tanh has no parameter
    explorer.controls["name"].value = "ELU"
    assert not explorer.controls["alpha"].disabled
    assert explorer.controls["alpha"].value == 1.0 and explorer.last_result["alpha"] == 1.0
    count = explorer.redraw_count
    explorer.controls["alpha"].value = 0.5
    assert explorer.redraw_count == count + 1
    assert explorer.last_result["f"].min() == pytest.approx(-0.5, abs=0.01)  # ELU's floor is -alpha
    assert explorer.last_result["max_difference"] < 1e-9
    explorer.controls["name"].value = "Leaky ReLU"  # alpha jumps to 0.01 with a single redraw
    assert explorer.redraw_count == count + 2 and explorer.last_result["alpha"] == 0.01


def test_draw_activation_ignores_alpha_where_there_is_none():
    drawn = draw_activation(Figure().add_subplot(), "ReLU", alpha=1.7)
    assert drawn["alpha"] == 0.0 and drawn["f"].min() == 0
