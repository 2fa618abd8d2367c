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
        wrong_type: "must return a pair",
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
