"""Exercise 05.4's checker (class weights) against its mistakes catalogue: the usual wrong formulas, hostile
returns, and right answers in other styles (see checker_catalogue.py)."""

import numpy as np
import pytest
import torch
from sklearn.utils.class_weight import compute_class_weight

from workshop_utils.checkers.imbalance import check_class_weights

from checker_catalogue import assert_case, hostile, ids, mistake, right as right_answer

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny models: one thread is fastest on busy cores


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


def crashes(counts):
    return counts.sum() / (len(counts) * counts.float()[:, None] @ torch.ones(3))


def raises(counts):
    raise ValueError("something went wrong in my code")


def forgot_return(counts):
    counts.sum() / (len(counts) * counts.float())


def float64(counts):
    return counts.sum() / (len(counts) * counts.double())


def in_numpy(counts):
    values = counts.numpy().astype(np.float32)
    return torch.from_numpy(values.sum() / (len(values) * values))


def with_bincount_style(counts):
    total, classes = counts.sum().float(), torch.tensor(len(counts), dtype=torch.float32)
    return (total / classes) * counts.float().reciprocal()


ROAD_SIGN_WEIGHTS = [2.4718, 0.3361, 2.9471, 3.564]  # the numbers the checker prints when it passes


CLASS_WEIGHTS_CATALOGUE = [
    right_answer("float counts", right),
    right_answer("scikit-learn, as float32", lambda counts: with_sklearn(counts).float()),
    right_answer("NumPy inside", in_numpy),
    right_answer("reciprocal", with_bincount_style),
    right_answer("float division of int64", lambda counts: (counts.sum() / (len(counts) * counts)).float()),
    mistake("class frequencies", frequencies, "class frequencies"),
    mistake("1 / n_c only", plain_inverse, "not scaled"),
    mistake("sum to 1", sum_to_one, "sum to 1"),
    mistake("average 1 over the classes", mean_one_over_classes, "average 1 over the CLASSES"),
    mistake("commonest is 1", max_is_one, "commonest class weight 1"),
    mistake("K missing", no_k, "divide by K"),
    mistake("integer division", integer_division, "integer division"),
    mistake("a list", as_list, "not a list"),
    mistake("twice as large", twice, "2 times too large"),
    mistake("float64 (breaks CrossEntropyLoss)", float64, "found Double"),
    mistake("scikit-learn's float64", with_sklearn, ".float()"),
    mistake("a NumPy array", lambda counts: counts.sum().item() / (len(counts) * counts.numpy().astype(float)),
            "expected a tensor"),
    mistake("shape error", crashes, "your code raised RuntimeError"),
    hostile("None", forgot_return, "forget `return`"),
    hostile("stub", stub, "not done yet"),
    hostile("raises", raises, "raised ValueError"),
    hostile("a string", lambda counts: "balanced", "expected a tensor"),
    hostile("NaN", lambda counts: torch.full((len(counts),), float("nan")), "contains nan"),
    hostile("the printed road-sign weights typed in", lambda counts: torch.tensor(ROAD_SIGN_WEIGHTS),
            "answer of an earlier example"),
]


@pytest.mark.parametrize("case", CLASS_WEIGHTS_CATALOGUE, ids=ids(CLASS_WEIGHTS_CATALOGUE))
def test_class_weights_catalogue(case):
    assert_case(check_class_weights, case)


def test_the_pass_message_gives_the_road_sign_weights():
    feedback = check_class_weights(right)
    assert "times as much as a speed limit" in feedback.text()
    assert str(ROAD_SIGN_WEIGHTS[:2])[1:-1] in feedback.text()


CATALOGUES = {check_class_weights: CLASS_WEIGHTS_CATALOGUE}
