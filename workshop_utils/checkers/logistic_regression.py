"""Checkers for notebook 02: the perceptron rule, a stable sigmoid, the log loss and its gradient.

Each checker runs the attendee's function on small inputs, compares with the reference in
:mod:`workshop_utils.linear_classifiers`, and recognises the usual mistakes to give a precise hint.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable

import torch

from .. import linear_classifiers as reference
from ..data.synthetic import XOR_INPUTS, XOR_LABELS, linearly_separable_points
from .core import Feedback, checker, failed, passed, probe_seed, run_attempt
from .forbidden import AUTOGRAD, BINARY_CROSS_ENTROPY, LOG_SIGMOID, SIGMOID as SIGMOID_SHORTCUTS, attempt_forbidding, merge
from .tensor_checks import describe

PERCEPTRON = "Exercise 02.1 (perceptron learning rule)"
SIGMOID = "Exercise 02.2 (numerically stable sigmoid)"
LOG_LOSS = "Exercise 02.3 (log loss)"
GRADIENT = "Exercise 02.4 (gradient of the log loss)"


def _fmt(values: Any, digits: int = 4) -> str:
    """A short, readable rendering of a tensor, list or number."""
    if isinstance(values, torch.Tensor):
        values = values.detach().tolist()
    if isinstance(values, float):
        return f"{values:.{digits}g}"
    if isinstance(values, (list, tuple)):
        return "[" + ", ".join(_fmt(v, digits) for v in values) + "]"
    return repr(values)


def _numbers(value: Any) -> torch.Tensor | None:
    """``value`` (tensor, array, list, number) as a flat float64 tensor, or None when it is not numbers."""
    try:
        if isinstance(value, torch.Tensor):
            return value.detach().to(torch.float64).reshape(-1)
        return torch.as_tensor(value, dtype=torch.float64).reshape(-1)
    except (TypeError, ValueError, RuntimeError):
        return None


# ------------------------------------------------------------------------------------ 02.1 the perceptron

# A hand-made example, small enough to follow on paper: the checker shows its trace on a mismatch.
TINY_X = torch.tensor([[2.0, -1.0], [-1.0, 0.0], [-1.0, 2.0], [2.0, 0.0]])
TINY_Y = torch.tensor([0, 0, 1, 1])
TINY_LR = 0.5


def _perceptron_variant(X: torch.Tensor, y: torch.Tensor, lr: float, epochs: int, *, strict: bool = False,
                        flipped: bool = False, no_bias: bool = False, batch: bool = False, raw_score: bool = False,
                        signed: bool = False) -> tuple[torch.Tensor, float, list[int]]:
    """The perceptron with one typical mistake switched on, to recognise what went wrong."""
    w, b, mistakes = torch.zeros(X.shape[1], dtype=torch.float64), 0.0, []
    X, targets = X.to(torch.float64), y.to(torch.float64)
    for _ in range(epochs):
        start_w, start_b, count = w.clone(), b, 0
        update_w, update_b = torch.zeros_like(w), 0.0
        for x_i, target in zip(X, targets):
            score = float((start_w if batch else w) @ x_i) + (start_b if batch else b)
            if raw_score:
                output = score
            elif signed:
                output = 1.0 if score >= 0 else -1.0
            else:
                output = 1.0 if (score > 0 if strict else score >= 0) else 0.0
            error = float(target) - output
            count += int((1.0 if score >= 0 else 0.0) != float(target)) if raw_score else int(error != 0)
            step_w, step_b = lr * error * x_i, lr * error
            if flipped:
                step_w, step_b = -step_w, -step_b
            if no_bias:
                step_b = 0.0
            if batch:
                update_w, update_b = update_w + step_w, update_b + step_b
            else:
                w, b = w + step_w, b + step_b
        if batch:
            w, b = w + update_w, b + update_b
        mistakes.append(count)
    return w, b, mistakes


_PERCEPTRON_HINTS = {
    "strict": "at a score of exactly 0 (as at the start, with w = 0 and b = 0) the output must be 1: "
              "use `1 if w·x + b >= 0 else 0`, with >=, not >.",
    "flipped": "the update has the wrong sign: w <- w + lr * (target - output) * x (target minus output, and +).",
    "no_bias": "the bias never changes: update it too, b <- b + lr * (target - output).",
    "batch": "update after EACH point, so that the next point already sees the new w and b; do not collect "
             "the updates of a whole epoch and apply them at the end.",
    "raw_score": "the output is the step of the score (0 or 1), not the score w·x + b itself: with the raw "
                 "score you update on points that are already right.",
    "signed": "with 0/1 labels the output must be 0 or 1 (the step), not -1/+1 (sign): otherwise "
              "target - output is wrong for every class-0 point.",
}


def _tiny_trace(lr: float, epochs: int) -> list[str]:
    """The reference's point-by-point trace on the tiny example, for the feedback's details."""
    lines = ["the reference, point by point (output = 1 if w·x + b >= 0 else 0):"]
    w, b = torch.zeros(2), 0.0
    for epoch in range(1, epochs + 1):
        for index, (x_i, target) in enumerate(zip(TINY_X, TINY_Y), start=1):
            score = float(w @ x_i) + b
            output = 1 if score >= 0 else 0
            error = int(target) - output
            if error:
                w, b = w + lr * error * x_i, b + lr * error
                change = f"wrong -> update: w = {_fmt(w)}, b = {_fmt(b)}"
            else:
                change = "right -> no update"
            lines.append(f"  epoch {epoch}, point {index} x = {_fmt(x_i)}, target {int(target)}: "
                         f"score {score:g}, output {output}, {change}")
    return lines


def _read_perceptron_result(result: Any, epochs: int) -> tuple[torch.Tensor, float, list[int]] | Feedback:
    """``(w, b, mistakes_per_epoch)`` from what the attendee returned, or a Feedback saying what is off."""
    if result is None:
        return failed(PERCEPTRON, "train_perceptron returned None: is `return w, b, mistakes_per_epoch` missing?")
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        return failed(PERCEPTRON, "train_perceptron must return three things: (w, b, mistakes_per_epoch).",
                      got=describe(result) if not isinstance(result, (tuple, list)) else f"{len(result)} values")
    w_value, b_value, mistakes_value = result
    w = _numbers(w_value)
    if w is None or w.numel() != 2:
        return failed(PERCEPTRON, "w must hold one weight per input feature: 2 numbers here.",
                      got=describe(w_value), hint="start from w = torch.zeros(X.shape[1]).")
    b = _numbers(b_value)
    if b is None or b.numel() != 1:
        return failed(PERCEPTRON, "b must be one number.", got=describe(b_value),
                      hint="start from b = 0.0 and update it with b = b + lr * (target - output).")
    counts = _numbers(mistakes_value)
    if counts is None or counts.dim() != 1 or not torch.equal(counts, counts.round()):
        return failed(PERCEPTRON, "mistakes_per_epoch must be a list of whole numbers, one per epoch.",
                      got=describe(mistakes_value))
    mistakes = [int(c) for c in counts]
    if not torch.isfinite(w).all() or not math.isfinite(float(b)):
        return failed(PERCEPTRON, "w or b is not finite (inf or NaN).", got=f"w = {_fmt(w)}, b = {_fmt(float(b))}")
    if len(mistakes) > epochs or (len(mistakes) < epochs and (not mistakes or mistakes[-1] != 0)):
        return failed(PERCEPTRON, f"mistakes_per_epoch should have one count per epoch ({epochs}).",
                      got=f"{len(mistakes)} counts: {mistakes}",
                      hint="append the number of mistakes once, at the end of each pass over the data.")
    return w, float(b), mistakes


def _same_line(got: tuple[torch.Tensor, float, list[int]], expected: tuple[torch.Tensor, float, list[int]]) -> bool:
    return (torch.allclose(got[0], expected[0].to(torch.float64), atol=1e-5)
            and math.isclose(got[1], expected[1], abs_tol=1e-5))


def _same_run(got: tuple[torch.Tensor, float, list[int]], expected: tuple[torch.Tensor, float, list[int]]) -> bool:
    return _same_line(got, expected) and got[2] == expected[2][:len(got[2])]


@checker(PERCEPTRON)
def check_train_perceptron(train_perceptron: Callable[..., Any]) -> Feedback:
    """``train_perceptron(X, y, lr, epochs) -> (w, b, mistakes_per_epoch)``, starting from w = 0, b = 0,
    visiting the points in order, output 1 where w·x + b >= 0 (else 0), updating after each wrong point."""
    for epochs in (1, 3):
        tried = (f"train_perceptron(X, y, lr={TINY_LR}, epochs={epochs}) with X = {_fmt(TINY_X)}, "
                 f"y = {TINY_Y.tolist()}")
        result = run_attempt(PERCEPTRON, train_perceptron, TINY_X.clone(), TINY_Y.clone(), TINY_LR, epochs,
                             tried=tried)
        got = _read_perceptron_result(result, epochs)
        if isinstance(got, Feedback):
            got.tried = tried
            return got
        run = reference.fit_perceptron(TINY_X, TINY_Y, TINY_LR, epochs)
        expected = (run.weights, run.bias, run.mistakes_per_epoch)
        if _same_run(got, expected):
            continue
        hint = "go through the points one by one; output = 1 if w·x + b >= 0 else 0; when output != target, " \
               "w <- w + lr (target - output) x and b <- b + lr (target - output)."
        if _same_line(got, expected):
            hint = "w and b are right, but the mistake counts are not: count, in each epoch, the points whose " \
                   "output differed from their target (those are the updates), then start again from 0."
        for mistake, text in _PERCEPTRON_HINTS.items():
            if _same_line(got, _perceptron_variant(TINY_X, TINY_Y, TINY_LR, epochs, **{mistake: True})):
                hint = text
                break
        return failed(PERCEPTRON, "w, b or the mistake counts differ from the perceptron rule's on a tiny example.",
                      tried=tried,
                      expected=f"w = {_fmt(expected[0])}, b = {_fmt(expected[1])}, mistakes_per_epoch = {expected[2]}",
                      got=f"w = {_fmt(got[0])}, b = {_fmt(got[1])}, mistakes_per_epoch = {got[2]}",
                      details=_tiny_trace(TINY_LR, epochs), hint=hint)

    feedback = _check_random_perceptrons(train_perceptron)
    if feedback is not None:
        return feedback

    X, y = linearly_separable_points(count=60, margin=0.3, seed=2, weights=(1.0, 2.0), bias=0.5)
    tried = "60 linearly separable points (margin 0.3), lr=1.0, epochs=30"
    got = _read_perceptron_result(run_attempt(PERCEPTRON, train_perceptron, X.clone(), y.clone(), 1.0, 30,
                                              tried=tried), 30)
    if isinstance(got, Feedback):
        got.tried = tried
        return got
    w, b, mistakes = got
    wrong = int(((X.double() @ w + b >= 0).long() != y).sum())
    if mistakes[-1] != 0 or wrong:
        return failed(PERCEPTRON, "on linearly separable data the perceptron should end with no mistakes.",
                      tried=tried, expected="last epoch: 0 mistakes, every point on its side of the line",
                      got=f"mistakes_per_epoch ends with {mistakes[-3:]}, {wrong} points on the wrong side",
                      hint="count a mistake for each point whose output differs from its target, in every epoch.")
    tried = f"XOR: X = {XOR_INPUTS.tolist()}, y = {XOR_LABELS.tolist()}, lr=1.0, epochs=20"
    got = _read_perceptron_result(run_attempt(PERCEPTRON, train_perceptron, XOR_INPUTS.clone(), XOR_LABELS.clone(),
                                              1.0, 20, tried=tried), 20)
    if isinstance(got, Feedback):
        got.tried = tried
        return got
    if min(got[2]) == 0:
        return failed(PERCEPTRON, "no line separates XOR, so every epoch must make at least one mistake.",
                      tried=tried, got=f"mistakes_per_epoch = {got[2]}",
                      hint="count every point whose output differs from its target.")
    converged_after = mistakes.index(0) + 1
    return passed(PERCEPTRON, f"separable data: no mistakes from epoch {converged_after} on; "
                              f"XOR: still {got[2][-1]} mistakes in epoch 20. Exactly the perceptron rule.")


def _check_random_perceptrons(train_perceptron: Callable[..., Any]) -> Feedback | None:
    """Three small random problems drawn for this call (integer points, so scores of exactly 0 occur): a
    run that visits the points in another order, or values typed in for the tiny example, shows here."""
    seed = probe_seed()
    generator = torch.Generator().manual_seed(seed)
    for probe, lr in enumerate((1.0, 0.5, 0.25), start=1):
        X = torch.randint(-4, 5, (8, 2), generator=generator).float()
        y = torch.randint(0, 2, (8,), generator=generator)
        y[0], y[1] = 0, 1
        epochs = 2
        tried = (f"random probe {probe} of 3 (seed {seed}): train_perceptron(X, y, lr={lr}, epochs={epochs}) with "
                 f"X = {_fmt(X)}, y = {y.tolist()}")
        result = run_attempt(PERCEPTRON, train_perceptron, X.clone(), y.clone(), lr, epochs, tried=tried)
        got = _read_perceptron_result(result, epochs)
        if isinstance(got, Feedback):
            got.tried = tried
            return got
        run = reference.fit_perceptron(X, y, lr, epochs)
        expected = (run.weights, run.bias, run.mistakes_per_epoch)
        if _same_run(got, expected):
            continue
        again = _read_perceptron_result(run_attempt(PERCEPTRON, train_perceptron, X.clone(), y.clone(), lr, epochs,
                                                    tried=tried), epochs)
        if not isinstance(again, Feedback) and not _same_run(again, got):
            hint = ("two calls with the same points gave different results: the points must be visited in order "
                    "(for x_i, target in zip(X, y.float())), not shuffled or sampled.")
        else:
            hint = ("the tiny example was right, but this one is not: visit the points in order, output 1.0 when "
                    "w @ x_i + b >= 0 (>=, scores of exactly 0 occur here), and compute everything from X, y and "
                    "lr (no values typed in).")
        return failed(PERCEPTRON, "w, b or the mistake counts differ from the perceptron rule's on random points.",
                      tried=tried,
                      expected=f"w = {_fmt(expected[0])}, b = {_fmt(expected[1])}, mistakes_per_epoch = {expected[2]}",
                      got=f"w = {_fmt(got[0])}, b = {_fmt(got[1])}, mistakes_per_epoch = {got[2]}", hint=hint)
    return None


# ------------------------------------------------------------------------------------- 02.2 the sigmoid

SIGMOID_INPUTS = torch.tensor([-1000.0, -100.0, -20.0, -3.0, -0.5, 0.0, 0.5, 3.0, 20.0, 100.0, 1000.0])


def _call_sigmoid(sigmoid: Callable[..., Any], z: torch.Tensor, tried: str) -> torch.Tensor | Feedback:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy overflow warnings: we report the result instead
        result = attempt_forbidding(SIGMOID, SIGMOID_SHORTCUTS_AND_LOG, sigmoid, z, tried=tried,
                                    why="this exercise is to write the sigmoid yourself; the library's is what the "
                                        "checker compares with.",
                                    hint="build it from torch.exp (of a number <= 0) and torch.where.")
    if result is None:
        return failed(SIGMOID, "sigmoid returned None: did you forget `return`?", tried=tried)
    if not isinstance(result, torch.Tensor):
        return failed(SIGMOID, "sigmoid must return a torch tensor (the same shape as z).", tried=tried,
                      got=describe(result), hint="use torch.exp (math.exp and NumPy work on numbers, not tensors).")
    if result.shape != z.shape:
        return failed(SIGMOID, "sigmoid must keep the shape of its input: one probability per z.", tried=tried,
                      expected=f"shape {tuple(z.shape)}", got=f"shape {tuple(result.shape)}")
    if not result.is_floating_point():
        return failed(SIGMOID, f"sigmoid must return probabilities as floats, got dtype {result.dtype}.", tried=tried,
                      hint="a comparison or integer literals give whole numbers: compute with 1.0 and torch.exp.")
    return result


@checker(SIGMOID)
def check_sigmoid(sigmoid: Callable[[torch.Tensor], torch.Tensor]) -> Feedback:
    """``sigmoid(z)`` must match 1 / (1 + exp(-z)) and stay finite, with a finite gradient, for z = ±1000."""
    z = SIGMOID_INPUTS.clone()
    tried = f"sigmoid(torch.tensor({_fmt(z)}))"
    result = _call_sigmoid(sigmoid, z, tried)
    if isinstance(result, Feedback):
        return result
    expected = torch.sigmoid(SIGMOID_INPUTS)
    values = result.detach().double()
    if not torch.isfinite(values).all():
        bad = [_fmt(float(v)) for v, ok in zip(SIGMOID_INPUTS, torch.isfinite(values)) if not ok]
        return failed(SIGMOID, f"not finite (NaN or inf) at z = {', '.join(bad)}.", tried=tried,
                      expected=_fmt(expected), got=_fmt(values),
                      hint="exp(1000) overflows to inf, and inf / inf is NaN. Only ever take exp of a number <= 0: "
                           "for z >= 0 use 1 / (1 + exp(-z)), for z < 0 use exp(z) / (1 + exp(z)) (torch.where picks).")
    if not torch.allclose(values, expected.double(), atol=1e-6, rtol=1e-4):
        hint = "sigmoid(z) = 1 / (1 + exp(-z)): sigmoid(0) = 0.5, large positive z gives 1, large negative z gives 0."
        if torch.allclose(values, 1 - expected.double(), atol=1e-6):
            hint = "you computed sigmoid(-z): large positive z must give a probability near 1. Check the sign in exp."
        return failed(SIGMOID, "wrong values.", tried=tried, expected=_fmt(expected), got=_fmt(values), hint=hint)

    z_grad = SIGMOID_INPUTS.clone().requires_grad_(True)
    tried_grad = f"sigmoid(z).sum().backward() with z = {_fmt(SIGMOID_INPUTS)}"
    result = _call_sigmoid(sigmoid, z_grad, tried_grad)
    if isinstance(result, Feedback):
        return result
    if not result.requires_grad:
        return failed(SIGMOID, "no gradient flows through your sigmoid (it left the autograd graph).",
                      tried=tried_grad, hint="stay with torch operations on z: no .item(), .numpy() or .detach().")
    result.sum().backward()
    if z_grad.grad is None:
        return failed(SIGMOID, "no gradient reaches z: your result is not computed from z.", tried=tried_grad,
                      hint="build the result from z with torch operations (values typed in, or a new tensor made "
                           "with torch.tensor(...), carry no gradient back to z).")
    gradient = z_grad.grad.double()
    if not torch.isfinite(gradient).all():
        bad = [_fmt(float(v)) for v, ok in zip(SIGMOID_INPUTS, torch.isfinite(gradient)) if not ok]
        return failed(SIGMOID, f"the values are right, but the gradient is NaN at z = {', '.join(bad)}.",
                      tried=tried_grad, got=_fmt(gradient),
                      hint="training backpropagates through the sigmoid: exp(-z) = exp(1000) = inf gives inf / inf in "
                           "the backward pass. Take exp only of a number <= 0: exp(-z) where z >= 0, exp(z) where "
                           "z < 0, and combine the two formulas with torch.where.")
    slope = (expected * (1 - expected)).double()
    nonzero = SIGMOID_INPUTS != 0  # an abs(z) trick gets a zero gradient at exactly 0: forgiven
    if not torch.allclose(gradient[nonzero], slope[nonzero], atol=1e-6, rtol=1e-4):
        return failed(SIGMOID, "the gradient of your sigmoid is not sigmoid(z) (1 - sigmoid(z)).", tried=tried_grad,
                      expected=_fmt(slope), got=_fmt(gradient),
                      hint="did you clamp or detach something? Build the result from z with torch operations only.")

    batch = torch.linspace(-30, 30, 12).reshape(3, 4)
    result = _call_sigmoid(sigmoid, batch.clone(), "sigmoid on a 3 x 4 tensor")
    if isinstance(result, Feedback):
        return result
    if not torch.allclose(result.detach().double(), torch.sigmoid(batch).double(), atol=1e-6):
        return failed(SIGMOID, "wrong values on a 3 x 4 tensor (the 1-D test passed).", tried="z of shape (3, 4)",
                      hint="work elementwise: no sums or indexing by position.")
    seed = probe_seed()
    generator = torch.Generator().manual_seed(seed)
    probe = torch.rand(int(torch.randint(2, 6, (), generator=generator)), 7, generator=generator) * 120 - 60
    tried = f"a random probe (seed {seed}): z of shape {tuple(probe.shape)} with values from -60 to 60"
    result = _call_sigmoid(sigmoid, probe.clone(), tried)
    if isinstance(result, Feedback):
        return result
    if not torch.allclose(result.detach().double(), torch.sigmoid(probe).double(), atol=1e-6, rtol=1e-4):
        return failed(SIGMOID, "wrong values on random inputs (the fixed examples passed).", tried=tried,
                      details=[_worst(probe, torch.sigmoid(probe), result)],
                      hint="compute from z itself, elementwise: values typed in for the examples do not generalize.")
    return passed(SIGMOID, "right values and finite gradients from z = -1000 to 1000.")


def _worst(inputs: torch.Tensor, expected: torch.Tensor, got: torch.Tensor) -> str:
    difference = (got.detach().double() - expected.double()).abs().nan_to_num(nan=float("inf"))
    index = int(difference.flatten().argmax())
    return (f"at z = {float(inputs.flatten()[index]):.4g}: expected {float(expected.flatten()[index]):.6g}, "
            f"got {float(got.detach().flatten()[index]):.6g}")


# ------------------------------------------------------------------------------------- 02.3 the log loss

SIGMOID_SHORTCUTS_AND_LOG = merge(SIGMOID_SHORTCUTS, LOG_SIGMOID)

LOSS_P = torch.tensor([0.9, 0.2, 0.6, 0.3, 0.99, 0.05])
LOSS_Y = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
EXTREME_P = torch.tensor([1.0, 0.0, 0.5, 1.0])
EXTREME_Y = torch.tensor([0.0, 1.0, 1.0, 1.0])


def _call_loss(log_loss: Callable[..., Any], p: torch.Tensor, y: torch.Tensor, tried: str) -> float | Feedback:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = attempt_forbidding(LOG_LOSS, BINARY_CROSS_ENTROPY, log_loss, p.clone(), y.clone(), tried=tried,
                                    why="this exercise is to write the log loss yourself; the library's is what "
                                        "the checker compares with.",
                                    hint="per point -(y log p + (1 - y) log(1 - p)) with p clamped, then .mean().")
    if result is None:
        return failed(LOG_LOSS, "log_loss returned None: did you forget `return`?", tried=tried)
    value = _numbers(result)
    if value is None:
        return failed(LOG_LOSS, "log_loss must return a number (a 0-d tensor or a float).", tried=tried,
                      got=describe(result))
    if value.numel() != 1:
        return failed(LOG_LOSS, "log_loss must return ONE number, the mean over all points.", tried=tried,
                      got=describe(result), hint="finish with .mean() over the per-point penalties.")
    return float(value)


def _swapped_loss(p: torch.Tensor, y: torch.Tensor) -> float:
    return float(reference.log_loss(y, p))


@checker(LOG_LOSS)
def check_log_loss(log_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Feedback:
    """``log_loss(p, y)``: the mean of -[y log p + (1 - y) log(1 - p)], with p clamped away from 0 and 1."""
    tried = f"log_loss(p={_fmt(LOSS_P)}, y={_fmt(LOSS_Y)})"
    got = _call_loss(log_loss, LOSS_P, LOSS_Y, tried)
    if isinstance(got, Feedback):
        return got
    expected = float(torch.nn.functional.binary_cross_entropy(LOSS_P, LOSS_Y))
    n = len(LOSS_Y)
    if not math.isfinite(got):
        return failed(LOG_LOSS, f"the loss is {got} (NaN or infinite) for ordinary probabilities.", tried=tried,
                      expected=f"{expected:.5f}", hint="per point: -(y log p + (1 - y) log(1 - p)) with p clamped "
                                                       "into [1e-7, 1 - 1e-7]; then the mean over the points.")
    if not math.isclose(got, expected, rel_tol=1e-4, abs_tol=1e-6):
        hint = "per point: -(y log p + (1 - y) log(1 - p)); then the mean over the points."
        if math.isclose(got, -expected, rel_tol=1e-4):
            hint = "a loss is never negative: log p <= 0, so put a minus sign in front."
        elif math.isclose(got, n * expected, rel_tol=1e-4):
            hint = f"this is the sum over the {n} points: take the mean instead, so the loss does not grow with n."
        elif math.isclose(got, _swapped_loss(LOSS_P, LOSS_Y), rel_tol=1e-3):
            hint = "p and y are swapped: the log is of the predicted probability p, weighted by the label y."
        elif math.isclose(got, float(-(LOSS_Y * LOSS_P.log()).mean()), rel_tol=1e-4):
            hint = "only the y = 1 term is there: add (1 - y) log(1 - p) for the points of class 0."
        elif any(math.isclose(got, float(reference.log_loss(LOSS_P, LOSS_Y, eps)), rel_tol=1e-4)
                 for eps in (0.2, 0.1, 0.05, 0.02)):
            hint = "your eps is too large: clamping changed p = 0.99 and p = 0.05. Use a tiny eps such as 1e-7."
        return failed(LOG_LOSS, "wrong value.", tried=tried, expected=f"{expected:.5f}", got=f"{got:.5f}", hint=hint)

    tried = f"log_loss(p={_fmt(EXTREME_P)}, y={_fmt(EXTREME_Y)}): confident and wrong (p = 1 for y = 0)"
    got = _call_loss(log_loss, EXTREME_P, EXTREME_Y, tried)
    if isinstance(got, Feedback):
        return got
    if not math.isfinite(got):
        return failed(LOG_LOSS, "the loss is infinite (or NaN) when p is exactly 0 or 1.", tried=tried, got=got,
                      hint="log(0) = -inf: clamp p into [eps, 1 - eps] first, with eps = 1e-7 "
                           "(in float32, 1 - 1e-12 rounds to exactly 1, so a smaller eps does not help).")
    if got < 5:
        return failed(LOG_LOSS, "a confident wrong answer should cost a lot, but the loss is small.", tried=tried,
                      expected="about 8 with eps = 1e-7", got=f"{got:.4g}",
                      hint="clamp with a small eps such as 1e-7: -log(1e-7) is about 16 per such point.")
    seed = probe_seed()
    generator = torch.Generator().manual_seed(seed)
    count = int(torch.randint(3, 9, (), generator=generator))
    p = torch.rand(count, generator=generator) * 0.96 + 0.02
    y = (torch.rand(count, generator=generator) > 0.5).float()
    tried = f"a random probe (seed {seed}): log_loss(p={_fmt(p)}, y={_fmt(y)})"
    probe = _call_loss(log_loss, p, y, tried)
    if isinstance(probe, Feedback):
        return probe
    probe_expected = float(torch.nn.functional.binary_cross_entropy(p, y))
    if not math.isclose(probe, probe_expected, rel_tol=1e-4, abs_tol=1e-6):
        return failed(LOG_LOSS, "wrong value on random points (the fixed examples passed).", tried=tried,
                      expected=f"{probe_expected:.5f}", got=f"{probe:.5f}",
                      hint="compute the loss from p and y themselves: a value typed in for the example does not "
                           "generalize.")
    return passed(LOG_LOSS, f"mean log loss right, and finite ({got:.2f}) even for p = 0 or 1.")


# ------------------------------------------------------------------------------ 02.4 the gradient of the loss

def _gradient_case(n: int, d: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=generator)
    y = (torch.rand(n, generator=generator) > 0.5).float()
    y[0], y[1] = 0.0, 1.0  # both classes present
    w = torch.randn(d, generator=generator)
    b = torch.randn((), generator=generator)
    return X, y, w, b


def _autograd_gradients(X, y, w, b) -> tuple[torch.Tensor, torch.Tensor]:
    w = w.clone().double().requires_grad_(True)
    b = b.clone().double().requires_grad_(True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(X.double() @ w + b, y.double())
    grad_w, grad_b = torch.autograd.grad(loss, (w, b))
    return grad_w, grad_b


@checker(GRADIENT)
def check_log_loss_gradients(log_loss_gradients: Callable[..., Any]) -> Feedback:
    """``log_loss_gradients(X, y, w, b) -> (grad_w, grad_b)`` must equal autograd's gradient of the mean log loss."""
    for n, d, seed in ((7, 3, 0), (5, 2, probe_seed())):
        X, y, w, b = _gradient_case(n, d, seed)
        tried = f"X of shape ({n}, {d}), y of shape ({n},), w of shape ({d},), b a number (random, seed {seed})"
        result = attempt_forbidding(GRADIENT, AUTOGRAD, log_loss_gradients, X.clone(), y.clone(), w.clone(),
                                    b.clone(), tried=tried,
                                    why="this exercise is the gradient by hand, without autograd; autograd's is "
                                        "what the checker compares with.",
                                    hint="p = torch.sigmoid(X @ w + b); grad_w = X.T @ (p - y) / n; grad_b = (p - y).mean().")
        if result is None:
            return failed(GRADIENT, "log_loss_gradients returned None: did you forget `return grad_w, grad_b`?",
                          tried=tried)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            return failed(GRADIENT, "log_loss_gradients must return two things: (grad_w, grad_b).", tried=tried,
                          got=describe(result))
        grad_w_value, grad_b_value = result
        if not isinstance(grad_w_value, torch.Tensor):
            return failed(GRADIENT, "grad_w must be a torch tensor: the training loop computes w - lr * grad_w.",
                          tried=tried, got=describe(grad_w_value),
                          hint="keep the computation in torch: X.T @ (p - y) / len(y) is already a tensor.")
        if tuple(grad_w_value.shape) != (d,):
            return failed(GRADIENT, "grad_w must have the shape of w: one number per weight.", tried=tried,
                          expected=f"shape ({d},)", got=f"shape {tuple(grad_w_value.shape)}",
                          hint="X.T @ (p - y) with p and y of shape (n,) gives shape (d,); "
                               "an (n, 1) column somewhere gives a column or a matrix.")
        grad_w, grad_b = _numbers(grad_w_value), _numbers(grad_b_value)
        if grad_w is None or grad_w.numel() != d:
            return failed(GRADIENT, f"grad_w must be {d} numbers, one per weight.", tried=tried,
                          got=describe(grad_w_value))
        if grad_b is None or grad_b.numel() != 1:
            return failed(GRADIENT, "grad_b must be one number.", tried=tried, got=describe(grad_b_value),
                          hint="the bias gets the mean of (p - y) over the points.")
        if not (torch.isfinite(grad_w).all() and torch.isfinite(grad_b).all()):
            return failed(GRADIENT, "the gradient contains NaN or infinity.", tried=tried,
                          got=f"grad_w = {_fmt(grad_w)}, grad_b = {_fmt(grad_b)}",
                          hint="p = torch.sigmoid(X @ w + b) is finite; check for a division by zero or a log.")
        expected_w, expected_b = _autograd_gradients(X, y, w, b)
        right_w = torch.allclose(grad_w, expected_w, atol=1e-5, rtol=1e-4)
        right_b = torch.allclose(grad_b, expected_b.reshape(1), atol=1e-5, rtol=1e-4)
        if right_w and right_b:
            continue
        wrong = grad_w if not right_w else grad_b
        target = expected_w if not right_w else expected_b.reshape(1)
        name = "grad_w" if not right_w else "grad_b"
        hint = "p = sigmoid(X @ w + b); grad_w = X.T @ (p - y) / n; grad_b = (p - y).mean()."
        if torch.allclose(wrong, -target, atol=1e-5, rtol=1e-4):
            hint = "the sign is flipped: it is (p - y), prediction minus label; gradient DESCENT subtracts it later."
        elif torch.allclose(wrong, n * target, atol=1e-5, rtol=1e-4):
            hint = f"{name} is {n} times too big: the loss is a mean, so divide the sum by n = len(y)."
        return failed(GRADIENT, f"{name} differs from autograd's gradient of the mean log loss.", tried=tried,
                      expected=f"grad_w = {_fmt(expected_w)}, grad_b = {_fmt(float(expected_b))}",
                      got=f"grad_w = {_fmt(grad_w)}, grad_b = {_fmt(grad_b)}", hint=hint)
    return passed(GRADIENT, "your hand-written gradient matches autograd's: X^T (p - y) / n and mean(p - y).")
