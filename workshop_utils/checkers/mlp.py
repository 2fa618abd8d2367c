"""Checkers for notebook 03's network exercises: an MLP that solves XOR, and two linear layers as one."""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

from ..data.synthetic import XOR_INPUTS, XOR_LABELS, xor_points
from .core import Feedback, checker, failed, passed, probe_seed, run_attempt

EXERCISE_XOR = "Exercise 03.1 (an MLP that solves XOR)"
EXERCISE_COLLAPSE = "Exercise 03.3 (two linear layers are one)"

# Module types that bend a network's output; anything else (Linear, Flatten, Dropout...) keeps it affine.
_NON_LINEAR = (nn.ReLU, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish,
               nn.Tanh, nn.Sigmoid, nn.Softplus, nn.Hardtanh, nn.Hardsigmoid, nn.Hardswish, nn.Softsign, nn.ReLU6,
               nn.LogSigmoid, nn.Tanhshrink, nn.Softmax, nn.LogSoftmax)


# --------------------------------------------------------------------------------------------------
# Exercise 03.1: an MLP that solves XOR
# --------------------------------------------------------------------------------------------------

@checker(EXERCISE_XOR)
def check_xor_mlp(train_xor_mlp: Callable[[torch.Tensor, torch.Tensor], nn.Module]) -> Feedback:
    """``train_xor_mlp(X, y)`` must build an MLP, train it on the XOR points ``(X, y)`` and return it.

    The returned model must output the probability of class 1, shape ``(N, 1)`` (or ``(N,)``), have a
    hidden non-linearity, and classify the four XOR corners and fresh noisy XOR points correctly.
    """
    X, y = xor_points(per_corner=25, noise=0.1, seed=3)
    tried = "train_xor_mlp(X, y) with 100 noisy XOR points (X: 100 x 2 floats, y: 100 labels 0/1)"
    torch.manual_seed(0)  # the same starting weights every time the checker runs
    model = run_attempt(EXERCISE_XOR, train_xor_mlp, X.clone(), y.clone(), tried=tried)
    problem = _not_a_model(model, tried)
    if problem is not None:
        return problem

    first = next(model.parameters())
    device = first.device
    dtype = first.dtype if first.is_floating_point() else torch.float32  # a float64 model gets float64 points
    corners = _probabilities(model, XOR_INPUTS.to(device, dtype), "model(XOR_INPUTS)")
    if isinstance(corners, Feedback):
        return corners
    fresh_X, fresh_y = xor_points(per_corner=50, noise=0.1, seed=11)
    fresh = _probabilities(model, fresh_X.to(device, dtype), "model(fresh noisy XOR points)")
    if isinstance(fresh, Feedback):
        return fresh

    linear = _linear_problem(model, device, dtype)
    if linear is not None:
        return linear

    corner_classes = (corners > 0.5).long()
    right = int((corner_classes == XOR_LABELS).sum())
    if right < 4:
        details = [f"corner {tuple(int(v) for v in corner)}: label {int(label)}, P(class 1) = {p:.2f}"
                   for corner, label, p in zip(XOR_INPUTS, XOR_LABELS, corners.tolist())]
        if corners.max() - corners.min() < 0.25:
            return failed(EXERCISE_XOR, "the outputs hardly differ between the corners: the model looks "
                                        "untrained, or trained far too little.",
                          tried="model(XOR_INPUTS)", expected="P(class 1) > 0.5 exactly for (0, 1) and (1, 0)",
                          got=f"{right} of 4 corners right", details=details,
                          hint="inside the loop: optimizer.zero_grad(), loss = loss_fn(model(X), targets), "
                               "loss.backward(), optimizer.step(); run a few hundred epochs.")
        return failed(EXERCISE_XOR, f"the trained model gets {right} of the 4 XOR corners right.",
                      tried="model(XOR_INPUTS)", expected="4 of 4", got=f"{right} of 4", details=details,
                      hint="train longer or with a larger learning rate (Adam, lr 0.01 to 0.1), or use more "
                           "hidden neurons (4 to 16).")
    fresh_accuracy = ((fresh > 0.5).long() == fresh_y).float().mean().item()
    if fresh_accuracy < 0.95:
        return failed(EXERCISE_XOR, "the four corners are right, but fresh noisy XOR points are not.",
                      tried="200 new noisy XOR points", expected="accuracy >= 95%", got=f"{fresh_accuracy:.0%}",
                      hint="train on the X and y you are given (all 100 points), not only on the 4 corners.")
    return passed(EXERCISE_XOR, f"4 of 4 XOR corners and {fresh_accuracy:.0%} of 200 fresh noisy points right: "
                                "one hidden layer with a non-linearity is enough for XOR.")


def _not_a_model(model: Any, tried: str) -> Feedback | None:
    """A Feedback when ``model`` is not a trained-able nn.Module with parameters, else None."""
    if model is None:
        return failed(EXERCISE_XOR, "train_xor_mlp returned None.", tried=tried, expected="the trained model",
                      hint="end the function with `return model`.")
    if isinstance(model, (tuple, list)):
        return failed(EXERCISE_XOR, f"train_xor_mlp returned a {type(model).__name__}; return only the model.",
                      tried=tried, got=f"{type(model).__name__} of {len(model)} items",
                      hint="return model (not model, losses).")
    if not isinstance(model, nn.Module):
        return failed(EXERCISE_XOR, f"train_xor_mlp returned a {type(model).__name__}, not a network.",
                      tried=tried, expected="an nn.Module, e.g. nn.Sequential(...)", got=type(model).__name__,
                      hint="return the model itself, not its output or its loss.")
    if not any(True for _ in model.parameters()):
        return failed(EXERCISE_XOR, "the returned model has no weights to learn.", tried=tried,
                      hint="build it from nn.Linear layers: nn.Sequential(nn.Linear(2, 8), ..., nn.Linear(8, 1), ...).")
    if not any(isinstance(module, nn.Linear) for module in model.modules()):
        return failed(EXERCISE_XOR, "the returned model has no nn.Linear layer: the exercise is an MLP that "
                                    "learns XOR, not a rule written by hand.", tried=tried,
                      hint="nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid()), then train it.")
    return None


def _probabilities(model: nn.Module, points: torch.Tensor, tried: str) -> torch.Tensor | Feedback:
    """The model's P(class 1) for ``points`` as a 1-D CPU tensor, or a Feedback saying what is wrong."""
    model.eval()
    with torch.no_grad():
        output = run_attempt(EXERCISE_XOR, model, points, tried=tried)
    if not isinstance(output, torch.Tensor):
        return failed(EXERCISE_XOR, f"the model's forward pass returned a {type(output).__name__}, not a tensor.",
                      tried=tried, hint="build the model with nn.Sequential so that model(X) returns a tensor.")
    count = len(points)
    if output.shape == (count, 2):
        return failed(EXERCISE_XOR, "the model gives 2 outputs per point; this exercise wants 1, P(class 1).",
                      tried=tried, expected=f"shape ({count}, 1)", got=f"shape {tuple(output.shape)}",
                      hint="end with nn.Linear(hidden, 1) and nn.Sigmoid(), and train with nn.BCELoss() "
                           "(one score per class plus softmax comes later in this notebook).")
    if output.shape not in ((count, 1), (count,)):
        return failed(EXERCISE_XOR, "the model's output has the wrong shape.", tried=tried,
                      expected=f"shape ({count}, 1): one probability per point", got=f"shape {tuple(output.shape)}",
                      hint="the first layer takes 2 inputs (nn.Linear(2, hidden)); the last gives 1 output "
                           "(nn.Linear(hidden, 1)).")
    output = output.detach().float().reshape(-1).cpu()
    if not torch.isfinite(output).all():
        return failed(EXERCISE_XOR, "the model outputs NaN or infinity: training diverged.", tried=tried,
                      got=output[:4].tolist(), hint="lower the learning rate (e.g. 0.05 with Adam).")
    if output.min() < 0 or output.max() > 1:
        return failed(EXERCISE_XOR, "the outputs are raw scores, not probabilities.", tried=tried,
                      expected="values between 0 and 1", got=f"from {output.min():.2f} to {output.max():.2f}",
                      hint="end the model with nn.Sigmoid() (and train it with nn.BCELoss()), so that it "
                           "returns P(class 1) as the checker, and plot_decision_boundary, expect.")
    return output


def _linear_problem(model: nn.Module, device: torch.device, dtype: torch.dtype = torch.float32) -> Feedback | None:
    """A Feedback when the model's output (or its logit) is an affine function of the input, else None.

    Affine means f((a + b) / 2) = (f(a) + f(b)) / 2 for every pair of points: we test 200 pairs. Such a
    model draws a straight boundary, whatever its number of layers, and cannot solve XOR.
    """
    generator = torch.Generator().manual_seed(5)
    a = torch.rand(200, 2, generator=generator) * 2 - 0.5
    b = torch.rand(200, 2, generator=generator) * 2 - 0.5
    with torch.no_grad():
        outputs = [model(points.to(device, dtype)).detach().double().reshape(-1).cpu() for points in (a, b, (a + b) / 2)]
    for transform in (lambda p: p, lambda p: torch.logit(p.clamp(1e-6, 1 - 1e-6))):
        f_a, f_b, f_mid = (transform(output) for output in outputs)
        scale = max(f_a.abs().max().item(), f_b.abs().max().item(), 1e-3)
        if (f_mid - (f_a + f_b) / 2).abs().max().item() <= 1e-4 * scale + 1e-5:
            leaves = [module for module in model.modules() if not list(module.children())]
            layers = [type(module).__name__ for module in leaves]
            hidden = leaves[:-1] if leaves and isinstance(leaves[-1], nn.Sigmoid) else leaves
            if any(isinstance(module, _NON_LINEAR) for module in hidden):
                return failed(EXERCISE_XOR, "the model behaves like a linear one: its hidden neurons seem "
                                            "switched off (a ReLU that is 0 for every input).",
                              tried="the model on 200 pairs of points and their midpoints", got=" -> ".join(layers),
                              hint="re-run with another seed, use nn.Tanh() instead of nn.ReLU(), or a few "
                                   "more hidden neurons.")
            return failed(EXERCISE_XOR, "the model is linear: stacked nn.Linear layers without an activation "
                                        "between them are one linear layer, a straight line, and no straight "
                                        "line separates XOR.",
                          tried="the model on 200 pairs of points and their midpoints", got=" -> ".join(layers),
                          hint="put a non-linearity between the layers: nn.Linear(2, 8), nn.Tanh(), "
                               "nn.Linear(8, 1), nn.Sigmoid().")
    return None


# --------------------------------------------------------------------------------------------------
# Exercise 03.3: two linear layers are one
# --------------------------------------------------------------------------------------------------

@checker(EXERCISE_COLLAPSE)
def check_collapsed_linear(collapse: Callable[[nn.Linear, nn.Linear], tuple[torch.Tensor, torch.Tensor]]
                           ) -> Feedback:
    """``collapse(first, second)`` must return ``(W, b)`` with ``x @ W.T + b == second(first(x))`` for every x.

    Tried with notebook 03's ``Linear(3, 1) -> Linear(1, 1)`` and with wider layers (``Linear(4, 5) ->
    Linear(5, 2)``), where the order of the matrix product matters.
    """
    generator = torch.Generator().manual_seed(7)
    seed = probe_seed()
    probe = torch.Generator().manual_seed(seed)
    random_sizes = tuple(int(v) for v in torch.randint(1, 7, (3,), generator=probe))
    for index, (m, k, n) in enumerate(((3, 1, 1), (4, 5, 2), (2, 3, 3), random_sizes)):
        torch.manual_seed(m * 100 + k * 10 + n if index < 3 else seed)
        first, second = nn.Linear(m, k), nn.Linear(k, n)
        with torch.no_grad():
            second.bias.add_(1.0)  # a bias clearly away from 0, so forgetting it shows
        tried = (f"a random probe (seed {seed}): " if index == 3 else "") + f"collapse(nn.Linear({m}, {k}), nn.Linear({k}, {n}))"
        result = run_attempt(EXERCISE_COLLAPSE, collapse, first, second, tried=tried)
        weight_expected = (second.weight @ first.weight).detach()
        bias_expected = (second.weight @ first.bias + second.bias).detach()
        problem = _collapse_problem(result, weight_expected, bias_expected, first, second, tried)
        if problem is not None:
            return problem
        x = torch.randn(10, m, generator=generator)
        weight, bias = (torch.as_tensor(t).detach().float() for t in result)
        with torch.no_grad():
            if not torch.allclose(x @ weight.T + bias, second(first(x)), atol=1e-5):
                return failed(EXERCISE_COLLAPSE, "x @ W.T + b differs from second(first(x)).", tried=tried)
    return passed(EXERCISE_COLLAPSE, "W'' = W2 W1 and b'' = W2 b1 + b2: two stacked linear layers are exactly one "
                                     "linear layer, so depth without activations adds nothing.")


def _collapse_problem(result: Any, weight_expected: torch.Tensor, bias_expected: torch.Tensor,
                      first: nn.Linear, second: nn.Linear, tried: str) -> Feedback | None:
    n, m = weight_expected.shape
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        return failed(EXERCISE_COLLAPSE, "return a pair (W, b): the weight matrix and the bias vector.",
                      tried=tried, got=type(result).__name__ if not isinstance(result, (tuple, list))
                      else f"{type(result).__name__} of {len(result)} items")
    try:
        weight, bias = (torch.as_tensor(t).detach().float() for t in result)
    except (TypeError, ValueError, RuntimeError):
        return failed(EXERCISE_COLLAPSE, "W and b must be tensors.", tried=tried,
                      got=f"({type(result[0]).__name__}, {type(result[1]).__name__})")
    if not (torch.isfinite(weight).all() and torch.isfinite(bias).all()):
        return failed(EXERCISE_COLLAPSE, "W or b contains NaN or infinity.", tried=tried,
                      hint="W'' = second.weight @ first.weight; b'' = second.weight @ first.bias + second.bias.")
    if weight.shape != (n, m):
        hint = ("W2 @ W1, not W1 @ W2: the first layer acts first, so its matrix is on the right."
                if weight.shape == (m, n) or weight.numel() != n * m else
                "W'' = second.weight @ first.weight.")
        return failed(EXERCISE_COLLAPSE, "W has the wrong shape.", tried=tried,
                      expected=f"({n}, {m}): out_features x in_features, like nn.Linear({m}, {n}).weight",
                      got=f"{tuple(weight.shape)}", hint=hint)
    if not torch.allclose(weight, weight_expected, atol=1e-5):
        return failed(EXERCISE_COLLAPSE, "W is not the product of the two weight matrices.", tried=tried,
                      expected=_rounded(weight_expected), got=_rounded(weight),
                      hint="W'' = second.weight @ first.weight (a matrix product, not element-wise *).")
    if bias.reshape(-1).shape != (n,):
        return failed(EXERCISE_COLLAPSE, "b has the wrong shape.", tried=tried, expected=f"({n},)",
                      got=f"{tuple(bias.shape)}", hint="b'' = second.weight @ first.bias + second.bias.")
    bias = bias.reshape(-1)
    if not torch.allclose(bias, bias_expected, atol=1e-5):
        with torch.no_grad():
            mistakes = {
                "b1 + b2: the first bias also goes through the second layer's weights, W2 b1":
                    first.bias + second.bias if first.bias.numel() in (1, n) else None,
                "W2 b1 without b2: the second layer adds its own bias too": second.weight @ first.bias,
                "b2 alone: the first layer's bias passes through the second layer, as W2 b1": second.bias,
            }
        for mistake, value in mistakes.items():
            if value is not None and value.shape == bias.shape and torch.allclose(bias, value, atol=1e-5):
                return failed(EXERCISE_COLLAPSE, "W is right; b is not.", tried=tried,
                              expected=_rounded(bias_expected), got=_rounded(bias), hint=f"you computed {mistake}.")
        return failed(EXERCISE_COLLAPSE, "W is right; b is not.", tried=tried, expected=_rounded(bias_expected),
                      got=_rounded(bias), hint="b'' = second.weight @ first.bias + second.bias.")
    return None


def _rounded(values: torch.Tensor) -> list:
    """A tensor as nested lists of numbers rounded to 4 decimals, for messages."""
    return torch.round(values.detach().double() * 1e4).div(1e4).tolist()
