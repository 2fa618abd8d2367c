"""The perceptron, logistic regression from scratch, the run classifier, their plots and the explorer widget."""

from __future__ import annotations

import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pytest
import torch

from workshop_utils import linear_classifiers as lc
from workshop_utils.data.synthetic import XOR_INPUTS, XOR_LABELS, linearly_separable_points, xor_points
from workshop_utils.plots.linear_models import (plot_lines_over_epochs, plot_log_loss_penalty, plot_loss_curves,
                                                plot_mistakes_per_epoch, plot_points, plot_training_run)
from workshop_utils.widgets.logistic_explorer import LogisticExplorer, explore_learning_rate


@pytest.fixture
def blobs() -> tuple[torch.Tensor, torch.Tensor]:
    """Two overlapping Gaussian blobs: close to, but not perfectly, linearly separable (like the wine task)."""
    generator = torch.Generator().manual_seed(0)
    X = torch.cat([torch.randn(40, 2, generator=generator) + 1.2, torch.randn(40, 2, generator=generator) - 1.2])
    y = torch.cat([torch.ones(40), torch.zeros(40)]).long()
    return X, y


# ------------------------------------------------------------------------------------------------ perceptron

def test_perceptron_follows_the_rule_step_by_step():
    X = torch.tensor([[2.0, -1.0], [-1.0, 0.0], [-1.0, 2.0], [2.0, 0.0]])
    y = torch.tensor([0, 0, 1, 1])
    run = lc.fit_perceptron(X, y, lr=0.5, epochs=1)
    # By hand: w = 0, b = 0 gives output 1 at score 0. Point 1 is wrong (update -0.5 x), point 2 wrong
    # (score 0.5), point 3 right (score 0.5), point 4 wrong (score -2): w = [0.5, 0.5], b = -0.5.
    assert run.weights.tolist() == [0.5, 0.5] and run.bias == -0.5 and run.mistakes_per_epoch == [3]
    assert lc.perceptron_output(X, run.weights, run.bias).tolist() == [1.0, 0.0, 1.0, 1.0]


def test_perceptron_separates_separable_points_and_never_settles_on_xor():
    X, y = linearly_separable_points(count=80, margin=0.2, seed=0, bias=0.5)
    run = lc.fit_perceptron(X, y, lr=1.0, epochs=30)
    assert run.converged and lc.accuracy(X, y, run.weights, run.bias) == 1.0
    assert len(run.weights_per_epoch) == 30 and torch.equal(run.weights_per_epoch[-1], run.weights)
    xor = lc.fit_perceptron(XOR_INPUTS, XOR_LABELS, lr=1.0, epochs=25)
    assert min(xor.mistakes_per_epoch) > 0 and not xor.converged
    cloud_X, cloud_y = xor_points(per_corner=10, seed=0)
    assert min(lc.fit_perceptron(cloud_X, cloud_y, lr=0.1, epochs=20).mistakes_per_epoch) > 5


def test_perceptron_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="one label per row"):
        lc.fit_perceptron(torch.zeros(3, 2), torch.zeros(4))
    with pytest.raises(ValueError, match="epochs"):
        lc.fit_perceptron(torch.zeros(3, 2), torch.zeros(3), epochs=-1)


# ----------------------------------------------------------------------------------------- sigmoid and loss

def test_sigmoid_is_stable_with_a_finite_gradient():
    z = torch.tensor([-1000.0, -30.0, -1.0, 0.0, 1.0, 30.0, 1000.0], requires_grad=True)
    p = lc.sigmoid(z)
    assert torch.allclose(p, torch.sigmoid(z), atol=1e-7)
    p.sum().backward()
    assert torch.isfinite(z.grad).all() and torch.allclose(z.grad, (p * (1 - p)).detach(), atol=1e-7)
    assert z.grad[3].item() == pytest.approx(0.25)


def test_log_loss_matches_torch_and_stays_finite_at_the_extremes():
    p, y = torch.tensor([0.9, 0.1, 0.7]), torch.tensor([1.0, 0.0, 0.0])
    assert lc.log_loss(p, y).item() == pytest.approx(torch.nn.functional.binary_cross_entropy(p, y).item(), rel=1e-5)
    extreme = lc.log_loss(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]))
    assert math.isfinite(extreme.item()) and extreme.item() > 15  # -log(1e-7) is about 16
    assert lc.log_loss(torch.tensor([1.0, 0.0]), torch.tensor([1, 0])).item() < 1e-6  # integer labels work


def test_hand_written_gradient_equals_autograd(blobs):
    X, y = blobs
    w = torch.tensor([0.3, -0.2], requires_grad=True)
    b = torch.tensor(0.1, requires_grad=True)
    lc.log_loss(torch.sigmoid(X @ w + b), y.float()).backward()
    grad_w, grad_b = lc.log_loss_gradients(X, y, w.detach(), b.detach())
    assert grad_w.shape == (2,) and grad_b.shape == ()
    assert torch.allclose(grad_w, w.grad, atol=1e-6) and torch.allclose(grad_b, b.grad, atol=1e-6)


# ------------------------------------------------------------------------------------------ training runs

def test_full_batch_descent_lowers_the_loss_every_step(blobs):
    X, y = blobs
    run = lc.fit_logistic_regression(X, y, lr=0.5, steps=100)
    assert run.steps == 100 and len(run.examples_seen) == 101 and run.examples_seen[-1] == 100 * len(y)
    assert all(after <= before + 1e-7 for before, after in zip(run.losses, run.losses[1:]))
    assert lc.accuracy(X, y, run.weights, run.bias) > 0.9
    assert run.losses[0] == pytest.approx(math.log(2), rel=1e-5)  # w = 0, b = 0: p = 0.5 everywhere


def test_minibatches_read_fewer_examples_per_step_and_follow_the_seed(blobs):
    X, y = blobs
    sgd = lc.fit_logistic_regression(X, y, lr=0.5, steps=30, batch_size=8, seed=1)
    assert sgd.examples_seen[-1] == 30 * 8
    again = lc.fit_logistic_regression(X, y, lr=0.5, steps=30, batch_size=8, seed=1)
    other = lc.fit_logistic_regression(X, y, lr=0.5, steps=30, batch_size=8, seed=2)
    assert sgd.losses == again.losses and sgd.losses != other.losses
    full = lc.fit_logistic_regression(X, y, lr=0.5, steps=30)
    target = full.losses[10]
    assert sgd.examples_to_reach(target) < full.examples_to_reach(target)
    assert full.steps_to_reach(target) == 10 and full.examples_to_reach(-1.0) is None


def test_a_batch_as_big_as_the_data_is_full_batch_descent(blobs):
    X, y = blobs
    full = lc.fit_logistic_regression(X, y, lr=0.5, steps=5)
    whole = lc.fit_logistic_regression(X, y, lr=0.5, steps=5, batch_size=len(y))
    assert full.losses == pytest.approx(whole.losses, abs=1e-6)


def test_training_starts_from_init_and_leaves_it_alone(blobs):
    X, y = blobs
    w0, b0 = torch.tensor([1.0, 1.0]), torch.tensor(0.5)
    run = lc.fit_logistic_regression(X, y, lr=0.1, steps=3, init=(w0, b0))
    assert w0.tolist() == [1.0, 1.0] and b0.item() == 0.5
    assert run.losses[0] == pytest.approx(lc.log_loss(torch.sigmoid(X @ w0 + b0), y.float()).item())


@pytest.mark.parametrize("kwargs, words", [({"steps": -1}, "steps"), ({"batch_size": 0}, "batch_size"),
                                           ({"batch_size": 1000}, "batch_size")])
def test_fit_rejects_bad_settings(blobs, kwargs, words):
    X, y = blobs
    with pytest.raises(ValueError, match=words):
        lc.fit_logistic_regression(X, y, **{"lr": 0.1, "steps": 3, **kwargs})


# ------------------------------------------------------------------------------------------ classification

def test_classify_training_run_by_the_shape_of_the_curve():
    assert lc.classify_training_run([0.7, 0.69, 0.68, 0.67, 0.66, 0.65]) == lc.TOO_SLOW  # still going down
    assert lc.classify_training_run([0.7, 0.7]) == lc.TOO_SLOW  # nothing happened
    settled = [0.7, 0.3, 0.2, 0.15] + [0.12] * 40
    assert lc.classify_training_run(settled) == lc.CONVERGES
    assert lc.classify_training_run([0.7, 0.3, 0.5, 0.2, 0.45, 0.2] + [0.2] * 10) == lc.OSCILLATES
    assert lc.classify_training_run([0.7, 0.9, 1.2, 1.0, 1.1]) == lc.DIVERGES  # worse than at the start
    assert lc.classify_training_run([0.7, 0.5, float("nan")]) == lc.DIVERGES
    assert lc.classify_training_run([0.7, 0.5, float("inf")]) == lc.DIVERGES
    with pytest.raises(ValueError):
        lc.classify_training_run([0.7])


def test_classify_training_run_with_the_best_loss_known():
    curve = [0.7, 0.4, 0.3, 0.25, 0.25]
    assert lc.classify_training_run(curve, best_loss=0.24) == lc.CONVERGES
    assert lc.classify_training_run(curve, best_loss=0.1) == lc.TOO_SLOW


def test_learning_rates_on_blobs_span_all_four_labels(blobs):
    X, y = blobs
    labels = {lr: lc.classify_training_run(lc.fit_logistic_regression(X, y, lr, 200).losses)
              for lr in (0.001, 1.0, 300.0, 3000.0)}
    assert labels[0.001] == lc.TOO_SLOW and labels[1.0] == lc.CONVERGES
    assert labels[300.0] in (lc.OSCILLATES, lc.DIVERGES) and labels[3000.0] in (lc.OSCILLATES, lc.DIVERGES)


# ------------------------------------------------------------------------------------------------- plots

def test_plots_return_what_they_drew(blobs):
    X, y = blobs
    fig, axes = plt.subplots(2, 3)
    assert plot_points(axes[0, 0], X, y, class_names=["a", "b"], feature_names=["x1", "x2"]) == {0: 40, 1: 40}
    run = lc.fit_perceptron(X, y, lr=1.0, epochs=4)
    ends = plot_lines_over_epochs(axes[0, 1], X, y, run.weights_per_epoch, run.bias_per_epoch, [1, 4])
    assert len(ends) == 2 and ends[1] is not None
    assert plot_mistakes_per_epoch(axes[0, 2], {"blobs": run.mistakes_per_epoch}) == {"blobs": run.mistakes_per_epoch}
    curves = plot_log_loss_penalty(axes[1, 0])
    assert curves["penalty_if_1"][0] > 6 and curves["penalty_if_1"][-1] < 1e-2
    last = plot_loss_curves(axes[1, 1], {"a": ([0, 1, 2], [0.7, 0.5, 0.4])}, xlabel="examples seen", log_x=True)
    assert last == {"a": 0.4} and axes[1, 1].get_xscale() == "log"
    fit = lc.fit_logistic_regression(X, y, lr=1.0, steps=50)
    drawn = plot_training_run(axes[1, 2], axes[1, 2], X, y, fit.losses, fit.weights, fit.bias, label="converges",
                              lr=1.0, resolution=30)
    assert drawn["accuracy"] == pytest.approx(lc.accuracy(X, y, fit.weights, fit.bias), abs=1e-6)
    plt.close(fig)


def test_a_run_with_infinite_weights_draws_no_line():
    fig, (left, right) = plt.subplots(1, 2)
    drawn = plot_training_run(left, right, torch.zeros(2, 2), torch.tensor([0, 1]), [0.7, float("inf")],
                              torch.tensor([float("inf"), 0.0]), 0.0, label="diverges", lr=1e3)
    assert math.isnan(drawn["accuracy"]) and "not finite" in right.texts[0].get_text()
    plt.close(fig)


# ------------------------------------------------------------------------------------------------ widget

def test_explore_learning_rate_labels_and_draws(blobs):
    X, y = blobs
    fig, (left, right) = plt.subplots(1, 2)
    result = explore_learning_rate(left, right, X, y, lr=1.0, steps=100, resolution=30)
    assert result["label"] == lc.CONVERGES and result["accuracy"] > 0.9 and result["run"].steps == 100
    assert "converges" in left.get_title()
    plt.close(fig)


def test_explorer_redraws_when_the_sliders_move(blobs):
    X, y = blobs
    explorer = LogisticExplorer(X, y, lr=1.0, steps=100, resolution=30)
    assert isinstance(explorer.show(), widgets.VBox)
    assert explorer.last_result["label"] == lc.CONVERGES and explorer.redraw_count == 1
    explorer.controls["lr"].value = 0.001
    assert explorer.last_result["label"] == lc.TOO_SLOW and explorer.last_result["lr"] == pytest.approx(0.001)
    explorer.controls["steps"].value = 50
    assert explorer.last_result["run"].steps == 50 and explorer.redraw_count == 3
    explorer.controls["lr"].value = 1000.0
    assert explorer.last_result["label"] in (lc.OSCILLATES, lc.DIVERGES)
    assert explorer.values == {"lr": pytest.approx(1000.0), "steps": 50}
