"""Checker for notebook 03's activation-derivative exercise."""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from ..activations import autograd_derivative
from .core import Feedback, checker, failed, passed, probe_seed, run_attempt
from .forbidden import AUTOGRAD, attempt_forbidding
from .tensor_checks import tensor_problem, worst_point

EXERCISE = "Exercise 03.2 (activation derivatives)"


# --- Exercise 03.2 -------------------------------------------------------------------------------------

def _inputs() -> Tensor:
    """A grid from -6 to 6, exactly 0, and large inputs of both signs, where naive formulas overflow."""
    grid = torch.linspace(-6, 6, 49)
    large = torch.tensor([-100.0, -50.0, -20.0, 20.0, 50.0, 100.0])
    return torch.cat([grid, torch.tensor([0.0]), large])


def _check_one(label: str, attempt: Callable[..., Any], reference: Callable[[Tensor], Tensor], x: Tensor,
               *extra: Any, probe: str = "") -> Feedback | None:
    """None when ``attempt(x, *extra)`` equals autograd's derivative of ``reference`` at every x."""
    call = f"{label}(x{''.join(f', {value!r}' for value in extra)})"
    tried = f"{probe}{call} with x = {_summary(x)}"
    given = x.clone()  # the attendee's copy: we check below that it was not changed in place
    got = attempt_forbidding(EXERCISE, AUTOGRAD, attempt, given, *extra, tried=tried,
                             why="this exercise is the derivative by hand, without autograd; autograd's is what "
                                 "the checker compares with.",
                             hint="write the closed form with torch.tanh, torch.exp and torch.where.")
    expected = autograd_derivative(reference, x)
    problem = tensor_problem(got, expected)
    if problem is not None:
        message, hint = problem.message, problem.hint
        if problem.kind == "nonfinite":
            bad = ~torch.isfinite(got)
            hint = (f"non-finite at x = {x[bad][:4].tolist()}: exp(100) overflows float32 (it is inf), and "
                    "inf / inf is nan. Write the derivative with torch's stable building blocks instead, e.g. "
                    "t = torch.tanh(x); 1 - t ** 2, or exp only of negative numbers.")
        return failed(EXERCISE, f"{call}: {message}", tried=tried, hint=hint)
    if not torch.equal(given, x):
        return failed(EXERCISE, f"{call} changed its input x in place.", tried=tried,
                      hint="avoid in-place operations such as x.clamp_() or x[...] = ...: compute a new tensor.")
    if not torch.allclose(got.detach().double(), expected.double(), rtol=1e-4, atol=1e-5):
        return failed(EXERCISE, f"{call} does not match autograd's derivative.", tried=tried,
                      details=[worst_point(x, expected, got)], hint=_hint_for(label, x, expected, got, extra))
    return None


def _hint_for(label: str, x: Tensor, expected: Tensor, got: Tensor, extra: tuple) -> str:
    wrong = ~torch.isclose(got.detach().double(), expected.double(), rtol=1e-4, atol=1e-5)
    if label.startswith("elu"):
        if bool(wrong[x > 0].any()) and not bool(wrong[x < 0].any()):
            return "for x >= 0, ELU is just x: its slope there is 1."
        if bool(wrong[x < 0].any()) and not bool(wrong[x > 0].any()):
            return "for x < 0, f(x) = alpha * (exp(x) - 1), so f'(x) = alpha * exp(x) = f(x) + alpha."
        return "two cases: torch.where(x >= 0, 1.0, alpha * torch.exp(x)) has the shape of the answer."
    return "d/dx tanh(x) = 1 - tanh(x)**2: compute tanh once with torch.tanh, then square it."


def _summary(x: Tensor) -> str:
    zero = ", incl. 0" if bool((x == 0).any()) else ", without 0"
    return f"{x.numel()} points from {float(x.min()):g} to {float(x.max()):g}{zero}"


@checker(EXERCISE)
def check_activation_derivatives(tanh_derivative: Callable[[Tensor], Tensor],
                                 elu_derivative: Callable[[Tensor, float], Tensor]) -> Feedback:
    """``tanh_derivative(x)`` and ``elu_derivative(x, alpha)`` must equal autograd's derivatives of
    ``torch.tanh`` and ``F.elu`` on a grid with 0 and large inputs (ELU also for alpha != 1, away from 0)."""
    x = _inputs()
    feedback = _check_one("tanh_derivative", tanh_derivative, torch.tanh, x)
    if feedback is not None:
        return feedback
    feedback = _check_one("elu_derivative", elu_derivative, lambda t: F.elu(t, alpha=1.0), x, 1.0)
    if feedback is not None:
        return feedback
    away_from_zero = x[x != 0]  # for alpha != 1 the two one-sided slopes at 0 differ
    feedback = _check_one("elu_derivative", elu_derivative, lambda t: F.elu(t, alpha=0.5), away_from_zero, 0.5)
    if feedback is not None and "does not match" in feedback.message:
        tried = "elu_derivative(x, 0.5) and elu_derivative(x, 1.0)"
        with_half = run_attempt(EXERCISE, elu_derivative, away_from_zero.clone(), 0.5, tried=tried)
        with_one = run_attempt(EXERCISE, elu_derivative, away_from_zero.clone(), 1.0, tried=tried)
        if torch.is_tensor(with_half) and torch.is_tensor(with_one) and torch.equal(with_half, with_one):
            feedback.hint = "your answer is the same for alpha = 0.5 and alpha = 1: use the alpha argument."
    if feedback is not None:
        return feedback
    at_zero = torch.tensor([-1.0, 0.0, 1.0])
    tried = "elu_derivative(x, 0.5) with x = [-1, 0, 1]: the exercise asks for slope 1 at x = 0"
    got = run_attempt(EXERCISE, elu_derivative, at_zero.clone(), 0.5, tried=tried)
    if torch.is_tensor(got) and got.shape == at_zero.shape and abs(float(got[1]) - 1.0) > 1e-5:
        return failed(EXERCISE, f"elu_derivative(x, 0.5) at x = 0 is {float(got[1]):.4g}; the exercise fixes the "
                                "slope at 0 to 1.", tried=tried, expected="1 at x = 0",
                      hint="put x = 0 on the positive side: torch.where(x >= 0, 1.0, alpha * torch.exp(...)).")
    seed = probe_seed()
    generator = torch.Generator().manual_seed(seed)
    probe_x = torch.randn(25, generator=generator) * 4
    probe_x = probe_x[probe_x != 0]
    alpha = round(0.2 + 1.8 * float(torch.rand((), generator=generator)), 2)
    probe = f"a random probe (seed {seed}): "
    for label, attempt, reference, extra in (
            ("tanh_derivative", tanh_derivative, torch.tanh, ()),
            ("elu_derivative", elu_derivative, lambda t: F.elu(t, alpha=alpha), (alpha,))):
        feedback = _check_one(label, attempt, reference, probe_x, *extra, probe=probe)
        if feedback is not None:
            return feedback
    return passed(EXERCISE, "both derivatives match autograd everywhere, including 0 and ±100. "
                            "Note how tiny tanh'(x) is for |x| > 5: that is saturation.")
