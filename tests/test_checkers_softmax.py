"""Exercise 03.4's checker (softmax) against the right answer and typical mistakes."""

import pytest
import torch
import torch.nn.functional as F

from workshop_utils.checkers.softmax import check_softmax


def right(z):
    exponentials = torch.exp(z - z.max(dim=-1, keepdim=True).values)
    return exponentials / exponentials.sum(dim=-1, keepdim=True)


def naive(z):  # exp(1000) = inf
    return torch.exp(z) / torch.exp(z).sum(dim=-1, keepdim=True)


def over_the_batch(z):
    exponentials = torch.exp(z - z.max(dim=0, keepdim=True).values)
    return exponentials / exponentials.sum(dim=0, keepdim=True)


def dim_one(z):  # right for 2-D batches, wrong for 3-D ones
    exponentials = torch.exp(z - z.max(dim=-1, keepdim=True).values)
    return exponentials / exponentials.sum(dim=1 if z.dim() > 1 else 0, keepdim=True)


def one_max_for_the_batch(z):
    exponentials = torch.exp(z - z.max())
    return exponentials / exponentials.sum(dim=-1, keepdim=True)


def one_sum_for_the_batch(z):
    exponentials = torch.exp(z - z.max())
    return exponentials / exponentials.sum()


def without_keepdim(z):
    exponentials = torch.exp(z - z.max(dim=-1, keepdim=True).values)
    return exponentials / exponentials.sum(dim=-1)


def in_place(z):
    z -= z.max(dim=-1, keepdim=True).values
    return torch.exp(z) / torch.exp(z).sum(dim=-1, keepdim=True)


def library(z):
    return F.softmax(z, dim=-1)


def tensor_method(z):
    return z.softmax(-1)


def forgot_return(z):
    torch.exp(z)


def no_division(z):
    return torch.exp(z - z.max(dim=-1, keepdim=True).values)


def stub(z):
    raise NotImplementedError("Exercise: replace this line with your solution")


def test_right_answer_passes():
    feedback = check_softmax(right)
    assert feedback, feedback.text()
    assert "0.97488" in feedback.text()


@pytest.mark.parametrize("attempt, words", [
    (naive, "subtract the largest logit"),
    (over_the_batch, "over the batch dimension (dim=0)"),
    (dim_one, "over dim=1"),
    (one_max_for_the_batch, "ONE max for the whole batch"),
    (one_sum_for_the_batch, "whole batch sums to 1"),
    (without_keepdim, "keepdim=True"),
    (in_place, "changed its input z in place"),
    (library, "you called torch.nn.functional.softmax"),
    (tensor_method, "you called Tensor.softmax"),
    (forgot_return, "forget `return`"),
    (no_division, "do not sum to 1"),
    (stub, "not done yet"),
])
def test_wrong_answers_fail_with_the_right_explanation(attempt, words):
    feedback = check_softmax(attempt)
    assert not feedback
    assert words in feedback.text(), feedback.text()


def test_the_worked_example_is_shown_when_it_is_wrong():
    text = check_softmax(lambda z: torch.exp(z) / 3).text()
    assert "worked example" in text and "0.00726, 0.01786, 0.97488" in text


def test_library_softmax_works_again_after_the_check():
    check_softmax(library)
    assert torch.allclose(F.softmax(torch.zeros(2), dim=0), torch.full((2,), 0.5))
