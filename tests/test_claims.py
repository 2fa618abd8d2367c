"""Lesson claims print one readable line and never stop the attendee's notebook."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from workshop_utils.claims import claim, claim_line


def test_a_claim_that_holds_prints_a_tick_and_the_numbers(capsys):
    assert claim(0.912 > 0.881, "the CNN beats the MLP", measured="91.2% vs 88.1%") is True
    assert capsys.readouterr().out == "✓ the CNN beats the MLP: 91.2% vs 88.1%\n"


def test_a_claim_that_does_not_hold_explains_and_does_not_raise(capsys):
    held = claim(False, "the CNN beats the MLP", measured="85.0% vs 88.1%",
                 otherwise="One epoch is not enough: run the full lesson.")
    assert held is False
    assert capsys.readouterr().out == ("✗ not on this run: the CNN beats the MLP (85.0% vs 88.1%). "
                                       "One epoch is not enough: run the full lesson.\n")


@pytest.mark.parametrize("holds", [np.bool_(True), torch.tensor(True), torch.tensor(2.0) > 1, 1])
def test_numpy_and_tensor_comparisons_count_as_one_truth_value(holds):
    assert claim_line(bool(holds), "x") == "✓ x"
    assert claim(holds, "x") is True


def test_many_truth_values_are_refused_with_a_hint():
    with pytest.raises(TypeError, match=r"one True/False comparison.*\.all\(\)"):
        claim(torch.tensor([True, False]), "all agree")


def test_the_line_without_measured_numbers_or_advice_stays_short():
    assert claim_line(False, "the gap shrinks") == "✗ not on this run: the gap shrinks"
    assert claim_line(True, "  the gap shrinks ", measured=" ") == "✓ the gap shrinks"
