"""Checker for notebook 03's momentum exercise: SGD with momentum by hand, against ``torch.optim.SGD``."""

from __future__ import annotations

import importlib
from typing import Any, Callable

import torch
from torch import Tensor

from ..optimizer_race import get_surface, run_optimizer
from .core import AttemptError, Feedback, checker, failed, passed, probe_seed
from .forbidden import OPTIMIZERS, attempt_forbidding, merge
from .tensor_checks import describe

EXERCISE = "Exercise 03.8 (SGD with momentum by hand)"

# (surface, start, lr, momentum, steps): a momentum other than 0.9 catches a hard-coded 0.9.
CASES = [
    ("valley", (-3.0, 0.5), 0.1, 0.9, 25),
    ("rosenbrock", (-1.5, 2.0), 0.02, 0.5, 20),
]

# torch.optim is what the checker compares with: noticed whatever name it was imported under.
OPTIMIZER_SHORTCUTS = merge(OPTIMIZERS, {"torch.optim.sgd.sgd": getattr(importlib.import_module("torch.optim.sgd"),
                                                                         "sgd", None)})

_TORCH_RULE = "v = momentum * v + grad, then theta = theta - lr * v (torch.optim.SGD's order and convention)"


def _simulate(loss_fn: Callable[[Tensor], Tensor], start: tuple[float, float], steps: int,
              update: Callable[[Tensor, Tensor, dict], Tensor]) -> Tensor:
    """A path in float64 where ``update(theta, grad, memory)`` returns the next theta (a mistake to recognize)."""
    theta = torch.tensor(start, dtype=torch.float64)
    memory: dict[str, Tensor] = {"v": torch.zeros(2, dtype=torch.float64), "grad_sum": torch.zeros(2, dtype=torch.float64)}
    path = [theta.clone()]
    for _ in range(steps):
        point = theta.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(loss_fn(point), point)
        theta = update(theta, grad, memory)
        if not torch.isfinite(theta).all():
            break
        path.append(theta.clone())
    return torch.stack(path)


def _mistakes(lr: float, momentum: float) -> list[tuple[str, str, Callable[[Tensor, Tensor, dict], Tensor]]]:
    """(message, hint, update) for the usual wrong momentum loops."""

    def plain_sgd(theta, grad, memory):
        return theta - lr * grad

    def ascent(theta, grad, memory):
        memory["v"] = momentum * memory["v"] + grad
        return theta + lr * memory["v"]

    def dampened(theta, grad, memory):
        memory["v"] = momentum * memory["v"] + (1 - momentum) * grad
        return theta - lr * memory["v"]

    def stale_velocity(theta, grad, memory):
        new_theta = theta - lr * memory["v"]
        memory["v"] = momentum * memory["v"] + grad
        return new_theta

    def accumulated_gradients(theta, grad, memory):
        memory["grad_sum"] = memory["grad_sum"] + grad
        memory["v"] = momentum * memory["v"] + memory["grad_sum"]
        return theta - lr * memory["v"]

    return [
        ("your path is plain SGD's: the velocity does not carry over from one step to the next.",
         "create the velocity once, BEFORE the loop (torch.zeros(2)), and update that same variable in the loop.",
         plain_sgd),
        ("your path goes uphill: the step has the wrong sign.", "move AGAINST the velocity: theta - lr * v.",
         ascent),
        ("your steps are (1 - momentum) times too small: that is an average of gradients, not torch's velocity.",
         "torch.optim.SGD uses dampening=0: v = momentum * v + grad (no (1 - momentum) factor; Adam's first "
         "moment is the one that averages).", dampened),
        ("you move theta with last step's velocity: the first step does not move at all.",
         "update the velocity first, then theta with the NEW velocity.", stale_velocity),
        ("the gradients pile up from step to step.",
         "loss.backward() ADDS to theta.grad: use torch.autograd.grad(loss, theta), or reset theta.grad = None "
         "after each step.", accumulated_gradients),
    ]


def _first_difference(got: Tensor, expected: Tensor) -> str:
    rows = min(len(got), len(expected))
    far = ~torch.isclose(got[:rows], expected[:rows], rtol=1e-4, atol=1e-4).all(dim=1)
    step = int(far.nonzero()[0]) if far.any() else rows
    if step >= rows:
        return f"the paths agree for {rows} points, then one of them stops"
    return (f"first difference after {step} step(s): expected {[round(v, 5) for v in expected[step].tolist()]}, "
            f"got {[round(v, 5) for v in got[step].tolist()]}")


def _as_path(value: Any) -> Tensor | None:
    """The attendee's path as a float64 tensor (a tensor, or a list of 2-element tensors), or None."""
    if torch.is_tensor(value):
        return value.detach().double()
    if isinstance(value, (list, tuple)) and value and all(torch.is_tensor(point) for point in value):
        try:
            return torch.stack([point.detach().double() for point in value])
        except RuntimeError:
            return None
    return None


def _check_case(momentum_descent: Callable[..., Any], surface_name: str, start: tuple[float, float], lr: float,
                momentum: float, steps: int, label: str = "") -> Feedback | None:
    surface = get_surface(surface_name)
    tried = label + (f"momentum_descent(loss_fn={surface_name!r} surface, start={start}, lr={lr}, "
             f"momentum={momentum}, steps={steps})")
    reference = run_optimizer(surface, torch.optim.SGD, {"lr": lr, "momentum": momentum}, start=start, steps=steps)
    expected_path, expected_velocity = reference.path, reference.state["momentum_buffer"]
    try:
        answer = attempt_forbidding(EXERCISE, OPTIMIZER_SHORTCUTS, momentum_descent, surface, start, lr, momentum,
                                    steps, tried=tried,
                                    why="this exercise is momentum by hand, without torch.optim; torch.optim.SGD "
                                        "is what the checker compares with.",
                                    hint="keep a velocity tensor v: v = momentum * v + grad, then theta -= lr * v "
                                         "inside torch.no_grad().")
    except AttemptError as error:
        if "does not require grad" in error.feedback.message:
            error.feedback.hint = ("theta = theta - ... inside torch.no_grad() makes a new tensor that autograd does not "
                                   "track: update in place (theta -= lr * velocity), or call .requires_grad_() on the "
                                   "new theta.")
        raise
    if not (isinstance(answer, tuple) and len(answer) == 2):
        return failed(EXERCISE, "momentum_descent must return a pair: (path, velocity).", tried=tried,
                      got=describe(answer), hint="end with: return torch.stack(path), velocity")
    path, velocity = _as_path(answer[0]), answer[1]
    if path is None or path.dim() != 2 or path.shape[-1] != 2:
        return failed(EXERCISE, "the path must be a tensor with one row (x, y) per point.", tried=tried,
                      got=describe(answer[0]), hint="collect points in a list and return torch.stack(path).")
    if len(path) == steps:
        return failed(EXERCISE, f"the path has {steps} rows; it needs steps + 1 = {steps + 1}: the start, then one "
                                "point per step.", tried=tried, hint="put the starting point in the path before the loop.")
    if len(path) != steps + 1:
        return failed(EXERCISE, f"the path has {len(path)} rows; expected steps + 1 = {steps + 1}.", tried=tried,
                      hint="append one point per step, after updating theta.")
    start_point = torch.tensor(start, dtype=torch.float64)
    if steps > 1 and (path == path[0]).all() and not torch.allclose(path[0], start_point):
        return failed(EXERCISE, "every point of the path is the same point, and not the start: you appended theta "
                                "itself, which the in-place update then moved, so every entry shows its last value.",
                      tried=tried, got=f"{path[0].tolist()} over and over",
                      hint="a tensor updated in place is one object: append a copy, theta.detach().clone().")
    if steps > 1 and (path[1:] == path[0]).all():
        return failed(EXERCISE, "theta never moves: every point of the path is the start.", tried=tried,
                      hint="update theta itself: theta -= lr * velocity, inside `with torch.no_grad():`.")
    if steps > 1 and torch.equal(path[1], path[-1]) and torch.equal(path[1], path[len(path) // 2]):
        return failed(EXERCISE, "every point of the path after the start is the same.", tried=tried,
                      got=f"{path[1].tolist()} over and over",
                      hint="a tensor updated in place is one object: append a copy, theta.detach().clone().")
    if not torch.allclose(path[0], torch.tensor(start, dtype=torch.float64)):
        return failed(EXERCISE, "the path does not begin at the start point.", tried=tried,
                      expected=str(list(start)), got=str(path[0].tolist()))
    if not torch.isfinite(path).all():
        return failed(EXERCISE, "the path contains nan or inf: it diverged.", tried=tried,
                      details=[_first_difference(path, expected_path)],
                      hint="with these settings torch's SGD converges: check the sign and the lr factor.")
    if not torch.allclose(path, expected_path, rtol=1e-4, atol=1e-4):
        for message, hint, update in _mistakes(lr, momentum):
            wrong = _simulate(surface, start, steps, update)
            if wrong.shape == path.shape and torch.allclose(path, wrong, rtol=1e-4, atol=1e-4):
                return failed(EXERCISE, message, tried=tried, details=[_first_difference(path, expected_path)],
                              hint=hint)
        if momentum != 0.9:
            usual = run_optimizer(surface, torch.optim.SGD, {"lr": lr, "momentum": 0.9}, start=start, steps=steps)
            if usual.path.shape == path.shape and torch.allclose(path, usual.path, rtol=1e-4, atol=1e-4):
                return failed(EXERCISE, f"your path is the one for momentum = 0.9, but this call asked for "
                                        f"momentum = {momentum}.", tried=tried,
                              hint="use the momentum argument instead of a fixed 0.9.")
        return failed(EXERCISE, "your path differs from torch.optim.SGD(momentum=...)'s.", tried=tried,
                      details=[_first_difference(path, expected_path)], hint=_TORCH_RULE)
    return _check_velocity(velocity, expected_velocity, lr, tried)


def _check_velocity(velocity: Any, expected: Tensor, lr: float, tried: str) -> Feedback | None:
    """The returned velocity must be torch's ``momentum_buffer``: lr stays outside it."""
    if not torch.is_tensor(velocity) or velocity.numel() != 2:
        return failed(EXERCISE, "the second thing returned must be the final velocity, a tensor of 2 numbers.",
                      tried=tried, got=describe(velocity), hint="return torch.stack(path), velocity")
    got = velocity.detach().double().reshape(2)
    if torch.allclose(got, expected, rtol=1e-4, atol=1e-5):
        return None
    for factor, form in ((-lr, "v = momentum * v - lr * grad; theta = theta + v"),
                         (lr, "v = momentum * v + lr * grad; theta = theta - v")):
        if torch.allclose(got, factor * expected, rtol=1e-4, atol=1e-6):
            return failed(EXERCISE, f"your path is right, but you keep lr inside the velocity ({form}).", tried=tried,
                          expected=str([round(v, 6) for v in expected.tolist()]),
                          got=str([round(v, 6) for v in got.tolist()]),
                          hint="for a fixed lr both forms give the same path. torch keeps lr OUT of the velocity "
                               "(v = momentum * v + grad; theta -= lr * v), so that a new lr (from a scheduler) "
                               "changes the very next step instead of fading in through the velocity.")
    return failed(EXERCISE, "your path is right, but the returned velocity is not torch's momentum buffer.",
                  tried=tried, expected=str([round(v, 6) for v in expected.tolist()]),
                  got=str([round(v, 6) for v in got.tolist()]),
                  hint="return the velocity after the last step: " + _TORCH_RULE)


def _random_case(seed: int) -> tuple[str, tuple[float, float], float, float, int]:
    """A case drawn for this call: a path typed in, or a momentum fixed in the code, shows here."""
    generator = torch.Generator().manual_seed(seed)
    x, y = (torch.rand(2, generator=generator) * torch.tensor([4.0, 2.0]) - torch.tensor([2.0, 1.0])).tolist()
    momentum = round(0.3 + 0.6 * float(torch.rand((), generator=generator)), 2)
    steps = int(torch.randint(5, 15, (), generator=generator))
    return "valley", (round(x, 2), round(y, 2)), 0.05, momentum, steps


@checker(EXERCISE)
def check_momentum_descent(momentum_descent: Callable[..., Any]) -> Feedback:
    """``momentum_descent(loss_fn, start, lr, momentum, steps)`` must return (path, velocity) equal to
    ``torch.optim.SGD(lr=lr, momentum=momentum)``'s path and ``momentum_buffer``, on two surfaces."""
    seed = probe_seed()
    cases = [(case, "") for case in CASES] + [(_random_case(seed), f"a random probe (seed {seed}): ")]
    for (surface_name, start, lr, momentum, steps), label in cases:
        feedback = _check_case(momentum_descent, surface_name, start, lr, momentum, steps, label)
        if feedback is not None:
            return feedback
    return passed(EXERCISE, "your path and velocity match torch.optim.SGD(momentum=...) step for step, on the "
                            "valley and on the banana.")
