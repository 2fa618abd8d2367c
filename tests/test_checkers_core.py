"""The checker framework and notebook 00's checker, against deliberately wrong answers."""

import torch
from torch import nn

from workshop_utils.checkers import check_repeatable_draws
from workshop_utils.seeding import seed_everything


def correct():
    seed_everything(42)
    first = torch.rand(3).tolist()
    seed_everything(42)
    return first, torch.rand(3).tolist()


def unseeded():
    return torch.rand(3).tolist(), torch.rand(3).tolist()


def stub():
    raise NotImplementedError("Exercise: replace this line with your solution")


def crashes():
    return torch.rand(3) @ torch.rand(4)


def wrong_type():
    return [1.0, 2.0]


def not_flat():
    seed_everything(0)
    return torch.rand(2, 3), torch.rand(2, 3)  # rows of numbers, not numbers


def test_correct_passes(capsys):
    feedback = check_repeatable_draws(correct)
    assert feedback and "✅" in capsys.readouterr().out


def test_wrong_answers_fail_with_explanations():
    cases = {
        unseeded: "different numbers",
        stub: "not done yet",
        crashes: "RuntimeError",
        wrong_type: "flat list of numbers",  # a list of two is read as the pair; its items are no lists
        not_flat: "flat list of numbers",
    }
    for attempt, words in cases.items():
        feedback = check_repeatable_draws(attempt)
        assert not feedback, attempt.__name__
        assert words in feedback.text(), (attempt.__name__, feedback.text())


def test_not_repeatable_across_calls():
    state = {"calls": 0}

    def drifting():
        state["calls"] += 1
        seed_everything(state["calls"])
        first = torch.rand(2).tolist()
        seed_everything(state["calls"])
        return first, torch.rand(2).tolist()

    feedback = check_repeatable_draws(drifting)
    assert not feedback
    assert "gave other numbers" in feedback.text()


def test_crash_explanation_points_at_the_line():
    feedback = check_repeatable_draws(crashes)
    assert "at line" in feedback.text() and "hint" in feedback.text()


def test_a_crash_inside_torch_points_at_the_attendees_call_not_at_torch():
    def wrong_label():
        seed_everything(0)
        return nn.functional.cross_entropy(torch.rand(2, 3), torch.tensor([0, 5])), None  # the attendee's line

    feedback = check_repeatable_draws(wrong_label)
    assert not feedback and "IndexError" in feedback.text()
    assert "the attendee's line" in feedback.text(), feedback.text()


# ------------------------------------------------------------------ the mistakes catalogue of 00.1

import math as _math  # noqa: E402
import random as _random  # noqa: E402

import numpy as _np  # noqa: E402
import pytest  # noqa: E402

from checker_catalogue import assert_case, hostile, ids, mistake, right  # noqa: E402


def _seeded(seed_first, seed_second, draw=lambda: torch.rand(3).tolist()):
    def two_runs():
        if seed_first is not None:
            seed_everything(seed_first)
        first = draw()
        if seed_second is not None:
            seed_everything(seed_second)
        return first, draw()
    return two_runs


def _drawn_once_returned_twice():
    first = torch.rand(3).tolist()
    return first, first


def _other_numbers_each_call():
    seed = int(torch.randint(0, 10**6, ()))  # a seed drawn at random: repeatable within one call only
    seed_everything(seed)
    first = torch.rand(3).tolist()
    seed_everything(seed)
    return first, torch.rand(3).tolist()


def _raises_stub():
    raise NotImplementedError("Exercise: replace this line with your solution")


REPEATABLE_DRAWS = [
    mistake("no seed at all", _seeded(None, None), "different numbers"),
    mistake("seed only before the first draw", _seeded(42, None), "different numbers"),
    mistake("seed only before the second draw", _seeded(None, 42), "different numbers"),
    mistake("two different seeds", _seeded(1, 2), "different numbers"),
    mistake("drawn once, returned twice, no seed", _drawn_once_returned_twice, "gave other numbers"),
    mistake("a random seed per call", _other_numbers_each_call, "gave other numbers"),
    mistake("rows of numbers", not_flat, "flat list of numbers"),
    mistake("one list only", lambda: (seed_everything(0), torch.rand(3).tolist())[1], "must return a pair"),
    mistake("three draws", lambda: ([0.1], [0.1], [0.1]), "must return a pair"),
    mistake("empty draws", lambda: ([], []), "empty"),
    mistake("crashes on a shape mismatch", crashes, "RuntimeError"),
    hostile("None (no return)", lambda: None, "must return a pair"),
    hostile("the stub", _raises_stub, "not done yet"),
    hostile("a string", lambda: "same numbers", "must return a pair"),
    hostile("strings in the lists", lambda: ("abc", "abc"), "flat list of numbers"),
    hostile("NaN draws", lambda: ([_math.nan] * 3, [_math.nan] * 3), "NaN"),
    hostile("a typed-in copy of the shown numbers", lambda: ([0.8823, 0.915, 0.3829], [0.8823, 0.915, 0.3829]),
            "typed in"),
    right("the reference", correct),
    right("tensors, not lists", lambda: (seed_everything(7), torch.rand(3), seed_everything(7), torch.rand(3))[1::2]),
    right("NumPy draws, a list of two", lambda: [(seed_everything(3), _np.random.rand(4))[1],
                                                 (seed_everything(3), _np.random.rand(4))[1]]),
    right("Python's random with torch.manual_seed's cousin",
          lambda: tuple((_random.seed(5), [_random.random() for _ in range(3)])[1] for _ in range(2))),
]


@pytest.mark.parametrize("case", REPEATABLE_DRAWS, ids=ids(REPEATABLE_DRAWS))
def test_repeatable_draws_catalogue(case):
    assert_case(check_repeatable_draws, case)


CATALOGUES = {check_repeatable_draws: REPEATABLE_DRAWS}


def test_an_unexpected_checker_error_becomes_feedback(capsys):
    from workshop_utils.checkers.core import UNJUDGED, checker

    @checker("Exercise 99 (a buggy checker)")
    def buggy(answer):
        return answer() + 1  # a TypeError inside the checker, not inside the attendee's code

    feedback = buggy(lambda: "text")
    assert not feedback and UNJUDGED in feedback.text() and "TypeError" in feedback.text()
