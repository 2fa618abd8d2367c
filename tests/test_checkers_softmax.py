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
    (library, "called torch.nn.functional.softmax"),
    (tensor_method, "called Tensor.softmax"),
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


# ------------------------------------------------------------------ the mistakes catalogue

from checker_catalogue import assert_case, hostile, ids, mistake, right as right_answer  # noqa: E402


def aliased_library(z):
    from torch.nn.functional import softmax as squash
    return squash(z, dim=-1)


def via_log_softmax(z):
    return torch.log_softmax(z, dim=-1).exp()


def logsumexp_version(z):
    return torch.exp(z - torch.logsumexp(z, dim=-1, keepdim=True))


def float64_version(z):
    return right(z.double())


SHOWN = torch.tensor([0.00726, 0.01786, 0.97488])

SOFTMAX_CATALOGUE = [
    mistake("no max subtracted", naive, "subtract the largest logit"),
    mistake("over the batch dimension", over_the_batch, "over the batch dimension (dim=0)"),
    mistake("dim=1 for every batch", dim_one, "over dim=1"),
    mistake("one max for the batch", one_max_for_the_batch, "ONE max for the whole batch"),
    mistake("one sum for the batch", one_sum_for_the_batch, "whole batch sums to 1"),
    mistake("sum without keepdim", without_keepdim, "keepdim=True"),
    mistake("in place", in_place, "changed its input z in place"),
    mistake("no division", no_division, "do not sum to 1"),
    mistake("F.softmax", library, "called torch.nn.functional.softmax"),
    mistake("the method", tensor_method, "called Tensor.softmax"),
    mistake("F.softmax under another name", aliased_library, "called torch.nn.functional.softmax"),
    mistake("exp of log_softmax", via_log_softmax, "torch.log_softmax"),
    mistake("nn.Softmax", lambda z: torch.nn.Softmax(dim=-1)(z), "nn.Softmax"),
    hostile("None", forgot_return, "forget `return`"),
    hostile("the stub", stub, "not done yet"),
    hostile("a list", lambda z: right(z).tolist(), "expected a tensor"),
    hostile("NaN", lambda z: torch.full_like(z, float("nan")), "nan"),
    hostile("the worked example typed in", lambda z: SHOWN.clone() if z.shape == (3,) else torch.ones_like(z) / z.shape[-1],
            "wrong values"),
    right_answer("max trick", right),
    right_answer("logsumexp", logsumexp_version),
    right_answer("float64", float64_version),
]


@pytest.mark.parametrize("case", SOFTMAX_CATALOGUE, ids=ids(SOFTMAX_CATALOGUE))
def test_softmax_catalogue(case):
    assert_case(check_softmax, case)


CATALOGUES = {check_softmax: SOFTMAX_CATALOGUE}
