"""Checker for notebook 00's seeding exercise."""

from __future__ import annotations

import math
from typing import Any, Callable

from .core import Feedback, checker, failed, passed, run_attempt

EXERCISE = "Exercise 00.1 (repeatable randomness)"


@checker(EXERCISE)
def check_repeatable_draws(two_runs: Callable[[], tuple[list[float], list[float]]]) -> Feedback:
    """``two_runs()`` must return two equal, non-empty lists of random numbers, and differ from call to call
    only if the seed changes (we call it twice: both calls must give the same numbers too)."""
    first_call = run_attempt(EXERCISE, two_runs, tried="two_runs()")
    if not (isinstance(first_call, tuple) and len(first_call) == 2):
        return failed(EXERCISE, "two_runs() must return a pair: (first_draws, second_draws).",
                      got=type(first_call).__name__)
    first, second = (_as_numbers(draws) for draws in first_call)
    if first is None or second is None:
        return failed(EXERCISE, "each draw must be a flat list of numbers.", got=first_call,
                      hint="draw with torch.rand(3).tolist(): three numbers in a list.")
    if not first:
        return failed(EXERCISE, "the draws are empty.", got=first_call,
                      hint="draw a few numbers, e.g. torch.rand(3).tolist().")
    if len(first) != len(second) or not all(math.isclose(a, b) for a, b in zip(first, second)):
        return failed(EXERCISE, "the two runs drew different numbers.", expected="first == second",
                      got=f"first={first}, second={second}",
                      hint="call seed_everything(SEED) with the same SEED before EACH of the two draws.")
    again = run_attempt(EXERCISE, two_runs, tried="two_runs() a second time")
    again_first = _as_numbers(again[0]) if isinstance(again, tuple) and len(again) == 2 else None
    if again_first != first:
        return failed(EXERCISE, "calling two_runs() again gave other numbers: a seed is missing before the first draw.",
                      hint="seed inside two_runs(), before the first draw, not once at the top of the notebook.")
    return passed(EXERCISE, f"both runs drew {[round(v, 4) for v in first]}: seeding makes results repeatable.")


def _as_numbers(draws: Any) -> list[float] | None:
    """``draws`` as a list of floats (a list, tuple, 1-D array or tensor), or None when it is not one."""
    try:
        return [float(value) for value in draws]
    except (TypeError, ValueError, RuntimeError):  # not iterable, not numbers, a tensor row of several
        return None
