"""Exercise 05.4's checker (class weights) against the right answer and the usual wrong formulas."""

import numpy as np
import pytest
import torch
from sklearn.utils.class_weight import compute_class_weight

from workshop_utils.checkers.imbalance import check_class_weights


def right(counts):
    return counts.sum() / (len(counts) * counts.float())


def with_sklearn(counts):
    labels = np.repeat(np.arange(len(counts)), counts.numpy())
    return torch.tensor(compute_class_weight("balanced", classes=np.arange(len(counts)), y=labels))


def frequencies(counts):
    return counts / counts.sum()


def plain_inverse(counts):
    return 1 / counts.float()


def sum_to_one(counts):
    inverse = 1 / counts.float()
    return inverse / inverse.sum()


def mean_one_over_classes(counts):
    inverse = 1 / counts.float()
    return len(counts) * inverse / inverse.sum()


def max_is_one(counts):
    return counts.max() / counts.float()


def no_k(counts):
    return counts.sum() / counts.float()


def integer_division(counts):
    return counts.sum() // (len(counts) * counts)


def as_list(counts):
    return [counts.sum().item() / (len(counts) * c) for c in counts.tolist()]


def twice(counts):
    return 2 * right(counts)


def stub(counts):
    raise NotImplementedError("Exercise: replace this line with your solution")


def raises(counts):
    return counts.sum() / (len(counts) * counts.float()[:, None] @ torch.ones(3))


def forgot_return(counts):
    counts.sum() / (len(counts) * counts.float())


@pytest.mark.parametrize("answer", [right, with_sklearn])
def test_right_answers_pass(answer):
    feedback = check_class_weights(answer)
    assert feedback, feedback.text()
    assert "counts" in feedback.text() and "times as much as a speed limit" in feedback.text()


@pytest.mark.parametrize("attempt, words", [
    (frequencies, "class frequencies"),
    (plain_inverse, "not scaled"),
    (sum_to_one, "sum to 1"),
    (mean_one_over_classes, "average 1 over the CLASSES"),
    (max_is_one, "commonest class weight 1"),
    (no_k, "divide by K"),
    (integer_division, "integer division"),
    (as_list, "not a list"),
    (twice, "2 times too large"),
    (forgot_return, "forget `return`"),
    (raises, "your code raised RuntimeError"),
    (stub, "not done yet"),
])
def test_wrong_answers_fail_with_the_right_explanation(attempt, words):
    feedback = check_class_weights(attempt)
    assert not feedback
    assert words in feedback.text(), feedback.text()
    assert feedback.text().startswith("❌ Exercise 05.4 (class weights)")
