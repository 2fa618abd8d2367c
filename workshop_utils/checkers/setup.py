"""Checker for notebook 00's seeding exercise."""

from __future__ import annotations

import math
import random
from typing import Any, Callable

import numpy as np
import torch

from .core import Feedback, checker, failed, passed, probe_seed, run_attempt
from .tensor_checks import describe

EXERCISE = "Exercise 00.1 (repeatable randomness)"


def _random_states() -> tuple:
    """Python's, NumPy's and torch's global random states: they change when code seeds or draws."""
    return random.getstate(), np.random.get_state()[1].tobytes(), torch.get_rng_state()


def _pair(result: Any) -> tuple[Any, Any] | None:
    """The two draws from a tuple or list of two, else None."""
    if isinstance(result, (tuple, list)) and len(result) == 2:
        return result[0], result[1]
    return None


@checker(EXERCISE)
def check_repeatable_draws(two_runs: Callable[[], tuple[list[float], list[float]]]) -> Feedback:
    """``two_runs()`` must return two equal, non-empty lists of random numbers, and the same numbers every
    time it is called (we call it twice): it must seed before each draw, inside the function."""
    # Start from a random place, so that numbers that only look repeatable (no seed at all) show.
    seed = probe_seed()
    random.seed(seed), np.random.seed(seed), torch.manual_seed(seed)
    before = _random_states()
    first_call = run_attempt(EXERCISE, two_runs, tried="two_runs()")
    touched = _random_states()
    pair = _pair(first_call)
    if pair is None:
        return failed(EXERCISE, "two_runs() must return a pair: (first_draws, second_draws).",
                      got=describe(first_call), hint="end with `return first, second`.")
    first, second = (_as_numbers(draws) for draws in pair)
    if first is None or second is None:
        return failed(EXERCISE, "each draw must be a flat list of numbers.", got=describe(pair[0 if first is None else 1]),
                      hint="draw with torch.rand(3).tolist(): three numbers in a list.")
    if not first or not second:
        return failed(EXERCISE, "the draws are empty.", got=f"first={first}, second={second}",
                      hint="draw a few numbers, e.g. torch.rand(3).tolist().")
    if not all(math.isfinite(value) for value in first + second):
        return failed(EXERCISE, "the draws contain NaN or infinity, not random numbers.",
                      got=f"first={first}, second={second}", hint="draw with torch.rand(3).tolist().")
    if len(first) != len(second) or not all(math.isclose(a, b) for a, b in zip(first, second)):
        return failed(EXERCISE, "the two runs drew different numbers.", expected="first == second",
                      got=f"first={first}, second={second}",
                      hint="call seed_everything(SEED) with the same SEED before EACH of the two draws.")
    if _same_states(before, touched):
        return failed(EXERCISE, "two_runs() neither seeded nor drew any random numbers: the lists look typed in.",
                      got=f"first={first}, second={second}",
                      hint="draw them inside the function: seed_everything(SEED), then torch.rand(3).tolist(), twice.")
    torch.manual_seed(seed + 1)  # elsewhere in the random stream: a missing seed now gives other numbers
    again = run_attempt(EXERCISE, two_runs, tried="two_runs() a second time")
    again_pair = _pair(again)
    again_first = _as_numbers(again_pair[0]) if again_pair is not None else None
    if again_first is None or len(again_first) != len(first) or not all(
            math.isclose(a, b) for a, b in zip(again_first, first)):
        return failed(EXERCISE, "calling two_runs() again gave other numbers: a seed is missing before the first draw.",
                      got=f"first call: {first}, second call: {again_first}",
                      hint="seed inside two_runs(), before the first draw, not once at the top of the notebook.")
    return passed(EXERCISE, f"both runs drew {[round(v, 4) for v in first]}: seeding makes results repeatable.")


def _same_states(first: tuple, second: tuple) -> bool:
    return first[0] == second[0] and first[1] == second[1] and torch.equal(first[2], second[2])


def _as_numbers(draws: Any) -> list[float] | None:
    """``draws`` as a list of floats (a list, tuple, 1-D array or tensor), or None when it is not one."""
    if isinstance(draws, (str, bytes, dict)):
        return None
    try:
        return [float(value) for value in draws]
    except (TypeError, ValueError, RuntimeError):  # not iterable, not numbers, a tensor row of several
        return None
