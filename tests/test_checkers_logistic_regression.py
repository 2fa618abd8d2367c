"""Notebook 02's checkers, against the right answers and the usual wrong ones."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from workshop_utils.data.synthetic import XOR_INPUTS
from workshop_utils.checkers.logistic_regression import (check_log_loss, check_log_loss_gradients, check_sigmoid,
                                                         check_train_perceptron)


def stub(*args):
    raise NotImplementedError("Exercise: replace this line with your solution")


def assert_fails(check, attempt, *words):
    feedback = check(attempt)
    assert not feedback, f"{attempt.__name__} should fail"
    text = feedback.text()
    for word in words:
        assert word in text, (attempt.__name__, word, text)
    return text


# ------------------------------------------------------------------------------------------- perceptron

def make_perceptron(*, strict=False, flipped=False, no_bias=False, batch=False, raw_score=False, signed=False,
                    count_all=False, early_stop=False):
    """The perceptron rule with at most one typical mistake switched on."""

    def train_perceptron(X, y, lr, epochs):
        w, b, mistakes_per_epoch = torch.zeros(X.shape[1]), 0.0, []
        for _ in range(epochs):
            start_w, start_b, mistakes = w.clone(), b, 0
            total_w, total_b = torch.zeros_like(w), 0.0
            for x_i, target in zip(X, y.float()):
                score = float((start_w if batch else w) @ x_i) + (start_b if batch else b)
                if raw_score:
                    output = score
                elif signed:
                    output = 1.0 if score >= 0 else -1.0
                else:
                    output = 1.0 if (score > 0 if strict else score >= 0) else 0.0
                error = float(target) - output
                mistakes += 1 if (count_all or error != 0) else 0
                step_w, step_b = lr * error * x_i, lr * error
                if flipped:
                    step_w, step_b = -step_w, -step_b
                if no_bias:
                    step_b = 0.0
                if batch:
                    total_w, total_b = total_w + step_w, total_b + step_b
                else:
                    w, b = w + step_w, b + step_b
            if batch:
                w, b = w + total_w, b + total_b
            mistakes_per_epoch.append(mistakes)
            if early_stop and mistakes == 0:
                break
        return w, b, mistakes_per_epoch

    return train_perceptron


def test_the_perceptron_rule_passes(capsys):
    feedback = check_train_perceptron(make_perceptron())
    assert feedback, feedback.text()
    assert "✅" in capsys.readouterr().out


def test_stopping_once_an_epoch_is_clean_also_passes():
    assert check_train_perceptron(make_perceptron(early_stop=True))


@pytest.mark.parametrize("mistake, words", [
    ("strict", ">="),
    ("flipped", "wrong sign"),
    ("no_bias", "bias never changes"),
    ("batch", "update after EACH point"),
    ("raw_score", "not the score"),
    ("signed", "-1/+1"),
    ("count_all", "mistake counts are not"),
])
def test_typical_perceptron_mistakes_get_their_own_hint(mistake, words):
    text = assert_fails(check_train_perceptron, make_perceptron(**{mistake: True}), words, "tried", "expected")
    assert "point by point" in text  # the reference's trace, to follow on paper


def test_perceptron_return_values_are_explained():
    assert_fails(check_train_perceptron, stub, "not done yet")
    assert_fails(check_train_perceptron, lambda X, y, lr, epochs: None, "returned None")
    assert_fails(check_train_perceptron, lambda X, y, lr, epochs: (torch.zeros(2), 0.0), "three things")
    assert_fails(check_train_perceptron, lambda X, y, lr, epochs: (torch.zeros(3), 0.0, [0] * epochs), "2 numbers")
    assert_fails(check_train_perceptron, lambda X, y, lr, epochs: (torch.zeros(2), "b", [0] * epochs), "one number")
    assert_fails(check_train_perceptron, lambda X, y, lr, epochs: (torch.zeros(2), 0.0, [1] * (epochs + 1)),
                 "one count per epoch")
    assert_fails(check_train_perceptron, lambda X, y, lr, epochs: (torch.full((2,), math.nan), 0.0, [1] * epochs),
                 "not finite")


def test_an_exception_in_the_perceptron_is_explained():
    def crashes(X, y, lr, epochs):
        w = torch.zeros(3)
        return w @ X[0], 0.0, []  # the attendee's shape mistake

    text = assert_fails(check_train_perceptron, crashes, "RuntimeError", "at line")
    assert "the attendee's shape mistake" in text


def test_claiming_no_mistakes_on_xor_fails():
    right = make_perceptron()

    def never_admits(X, y, lr, epochs):
        w, b, mistakes = right(X, y, lr, epochs)
        return w, b, [0 if torch.equal(X, XOR_INPUTS) else m for m in mistakes]

    assert_fails(check_train_perceptron, never_admits, "XOR")


# ------------------------------------------------------------------------------------------- sigmoid

def stable_sigmoid(z):
    positive = z >= 0
    e = torch.exp(torch.where(positive, -z, z))
    return torch.where(positive, 1 / (1 + e), e / (1 + e))


def abs_trick_sigmoid(z):
    e = torch.exp(-z.abs())
    return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))


def naive_sigmoid(z):
    return 1 / (1 + torch.exp(-z))


def ratio_sigmoid(z):
    return torch.exp(z) / (1 + torch.exp(z))


def flipped_sigmoid(z):
    positive = z >= 0
    e = torch.exp(torch.where(positive, -z, z))
    return torch.where(positive, e / (1 + e), 1 / (1 + e))


def math_sigmoid(z):
    return 1 / (1 + math.exp(-z))


def numpy_sigmoid(z):
    return 1 / (1 + np.exp(-z.detach().numpy()))


def detached_sigmoid(z):
    return stable_sigmoid(z).detach()


def test_stable_sigmoids_pass():
    assert check_sigmoid(stable_sigmoid)
    assert check_sigmoid(abs_trick_sigmoid)  # its zero gradient at exactly z = 0 is forgiven


@pytest.mark.parametrize("attempt, words", [
    (naive_sigmoid, ["gradient is NaN", "-1000"]),
    (ratio_sigmoid, ["not finite", "1000", "inf / inf"]),
    (flipped_sigmoid, ["sigmoid(-z)"]),
    (math_sigmoid, ["your code raised"]),
    (numpy_sigmoid, ["must return a torch tensor"]),
    (detached_sigmoid, ["no gradient flows"]),
    (lambda z: None, ["returned None"]),
    (lambda z: stable_sigmoid(z).sum(), ["keep the shape"]),
    (stub, ["not done yet"]),
])
def test_unstable_or_wrong_sigmoids_fail(attempt, words):
    assert_fails(check_sigmoid, attempt, *words)


# ------------------------------------------------------------------------------------------- log loss

def log_loss(p, y, eps=1e-7):
    p = p.clamp(eps, 1 - eps)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()


def test_the_mean_log_loss_passes():
    assert check_log_loss(log_loss)
    assert check_log_loss(lambda p, y: float(log_loss(p, y)))  # a float is fine too


@pytest.mark.parametrize("attempt, words", [
    (lambda p, y: -(y * torch.log(p.clamp(1e-7, 1 - 1e-7))
                    + (1 - y) * torch.log(1 - p.clamp(1e-7, 1 - 1e-7))).sum(), ["sum over the 6 points"]),
    (lambda p, y: log_loss(y, p), ["swapped"]),
    (lambda p, y: -log_loss(p, y), ["minus sign"]),
    (lambda p, y: -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean(), ["infinite", "clamp"]),
    (lambda p, y: log_loss(p, y, eps=1e-12), ["infinite", "float32"]),
    (lambda p, y: log_loss(p, y, eps=0.01), ["cost a lot"]),
    (lambda p, y: log_loss(p, y, eps=0.1), ["eps is too large"]),
    (lambda p, y: -(y * torch.log(p.clamp(1e-7, 1))).mean(), ["only the y = 1 term"]),
    (lambda p, y: -(y * torch.log(p) + (1 - y) * torch.log(1 - p)), ["ONE number"]),
    (lambda p, y: "0.5", ["must return a number"]),
    (stub, ["not done yet"]),
])
def test_wrong_log_losses_fail(attempt, words):
    assert_fails(check_log_loss, attempt, *words)


# ------------------------------------------------------------------------------------------- gradient

def gradients(X, y, w, b):
    p = torch.sigmoid(X @ w + b)
    return X.T @ (p - y) / len(y), (p - y).mean()


def test_the_hand_written_gradient_passes():
    assert check_log_loss_gradients(gradients)
    assert check_log_loss_gradients(lambda X, y, w, b: [gradients(X, y, w, b)[0], gradients(X, y, w, b)[1].item()])


@pytest.mark.parametrize("attempt, words", [
    (lambda X, y, w, b: (X.T @ (torch.sigmoid(X @ w + b) - y), (torch.sigmoid(X @ w + b) - y).sum()),
     ["7 times too big", "divide"]),
    (lambda X, y, w, b: tuple(-g for g in gradients(X, y, w, b)), ["sign is flipped"]),
    (lambda X, y, w, b: (gradients(X, y, w, b)[0], (torch.sigmoid(X @ w + b) - y).sum()), ["grad_b is 7 times"]),
    (lambda X, y, w, b: (X @ (torch.sigmoid(X @ w + b) - y) / len(y), 0.0), ["RuntimeError"]),
    (lambda X, y, w, b: (gradients(X, y, w, b)[0].reshape(-1, 1), gradients(X, y, w, b)[1]), ["shape of w"]),
    (lambda X, y, w, b: (X.T @ (X @ w + b - y) / len(y), (X @ w + b - y).mean()), ["differs from autograd"]),
    (lambda X, y, w, b: gradients(X, y, w, b)[0], ["two things"]),
    (lambda X, y, w, b: (gradients(X, y, w, b)[0], torch.zeros(2)), ["grad_b must be one number"]),
    (lambda X, y, w, b: [g.tolist() for g in gradients(X, y, w, b)], ["must be a torch tensor"]),
    (lambda X, y, w, b: None, ["returned None"]),
    (stub, ["not done yet"]),
])
def test_wrong_gradients_fail(attempt, words):
    assert_fails(check_log_loss_gradients, attempt, *words)


# ------------------------------------------------------------------------------------------- the catalogues

import random  # noqa: E402

from checker_catalogue import assert_case, hostile, ids, mistake, right  # noqa: E402


def shuffled_perceptron(X, y, lr, epochs):
    """Visits the points in a random order each epoch: a different run, not the perceptron rule asked for."""
    w, b, mistakes_per_epoch = torch.zeros(X.shape[1]), 0.0, []
    for _ in range(epochs):
        mistakes = 0
        for i in torch.randperm(len(X)).tolist():
            output = 1.0 if float(w @ X[i]) + b >= 0 else 0.0
            error = float(y[i]) - output
            if error:
                w, b, mistakes = w + lr * error * X[i], b + lr * error, mistakes + 1
        mistakes_per_epoch.append(mistakes)
    return w, b, mistakes_per_epoch


def numpy_perceptron(X, y, lr, epochs):
    """The rule in NumPy, returning NumPy arrays and a list of NumPy integers."""
    X, y = X.numpy().astype(np.float64), y.numpy()
    w, b, counts = np.zeros(X.shape[1]), np.float64(0.0), []
    for _ in range(epochs):
        count = np.int64(0)
        for x_i, target in zip(X, y):
            output = 1.0 if w @ x_i + b >= 0 else 0.0
            if output != target:
                w, b, count = w + lr * (target - output) * x_i, b + lr * (target - output), count + 1
        counts.append(count)
    return w, b, counts


def tensor_counts_perceptron(X, y, lr, epochs):
    w, b, counts = make_perceptron()(X, y, lr, epochs)
    return w.double(), torch.tensor(b), torch.tensor(counts)


TINY_RESULT = (torch.tensor([-1.0, 1.0]), 0.5, [3])  # what the tiny example's first run gives, typed in

PERCEPTRON_CATALOGUE = [
    mistake("strict > at a score of 0", make_perceptron(strict=True), ">="),
    mistake("flipped update", make_perceptron(flipped=True), "wrong sign"),
    mistake("bias never updated", make_perceptron(no_bias=True), "bias never changes"),
    mistake("one update per epoch", make_perceptron(batch=True), "update after EACH point"),
    mistake("raw score as output", make_perceptron(raw_score=True), "not the score"),
    mistake("-1/+1 outputs", make_perceptron(signed=True), "-1/+1"),
    mistake("counts every point", make_perceptron(count_all=True), "mistake counts are not"),
    mistake("points in random order", shuffled_perceptron, "differ"),
    mistake("returns w and b only", lambda X, y, lr, epochs: make_perceptron()(X, y, lr, epochs)[:2], "three things"),
    mistake("one count too many", lambda X, y, lr, epochs: (torch.zeros(2), 0.0, [1] * (epochs + 1)),
            "one count per epoch"),
    hostile("None", lambda X, y, lr, epochs: None, "returned None"),
    hostile("the stub", stub, "not done yet"),
    hostile("a string", lambda X, y, lr, epochs: "w, b, mistakes", "three things"),
    hostile("NaN weights", lambda X, y, lr, epochs: (torch.full((2,), math.nan), 0.0, [1] * epochs), "not finite"),
    hostile("the tiny example's result typed in", lambda X, y, lr, epochs: TINY_RESULT, "differ"),
    right("the rule", make_perceptron()),
    right("stops once an epoch is clean", make_perceptron(early_stop=True)),
    right("NumPy arrays and NumPy integers", numpy_perceptron),
    right("float64 and tensors everywhere", tensor_counts_perceptron),
]


@pytest.mark.parametrize("case", PERCEPTRON_CATALOGUE, ids=ids(PERCEPTRON_CATALOGUE))
def test_perceptron_catalogue(case):
    assert_case(check_train_perceptron, case)


def test_a_shuffling_perceptron_fails_every_time():
    for seed in range(15):
        torch.manual_seed(seed)
        assert not check_train_perceptron(shuffled_perceptron), seed


def float64_sigmoid(z):
    z = z.double()
    return torch.where(z >= 0, 1 / (1 + torch.exp(-z.clamp(min=0))), torch.exp(z.clamp(max=0)) / (1 + torch.exp(z.clamp(max=0))))


def expit_alias(z):
    from torch.special import expit as squash
    return squash(z)


SHOWN_SIGMOID = torch.sigmoid(torch.tensor([-1000.0, -100.0, -20.0, -3.0, -0.5, 0.0, 0.5, 3.0, 20.0, 100.0, 1000.0]))

SIGMOID_CATALOGUE = [
    mistake("naive 1 / (1 + exp(-z))", naive_sigmoid, "gradient is NaN"),
    mistake("exp(z) / (1 + exp(z))", ratio_sigmoid, "inf / inf"),
    mistake("the formulas swapped", flipped_sigmoid, "sigmoid(-z)"),
    mistake("math.exp on a tensor", math_sigmoid, "your code raised"),
    mistake("NumPy", numpy_sigmoid, "must return a torch tensor"),
    mistake("detached", lambda z: stable_sigmoid(z).detach(), "no gradient flows"),
    mistake("a sum", lambda z: stable_sigmoid(z).sum(), "keep the shape"),
    mistake("torch.sigmoid", torch.sigmoid, "torch.sigmoid"),
    mistake("x.sigmoid()", lambda z: z.sigmoid(), "Tensor.sigmoid"),
    mistake("expit under another name", expit_alias, "expit"),
    mistake("nn.Sigmoid", lambda z: torch.nn.Sigmoid()(z), "nn.Sigmoid"),
    mistake("exp(logsigmoid)", lambda z: torch.nn.functional.logsigmoid(z).exp(), "logsigmoid"),
    mistake("a step function", lambda z: (z >= 0).long(), "dtype"),
    hostile("None", lambda z: None, "returned None"),
    hostile("the stub", stub, "not done yet"),
    hostile("a list", lambda z: stable_sigmoid(z).tolist(), "must return a torch tensor"),
    hostile("NaN", lambda z: torch.full_like(z, math.nan), "not finite"),
    hostile("the shown values typed in", lambda z: SHOWN_SIGMOID.clone().requires_grad_(z.requires_grad)
            if z.numel() == 11 else torch.zeros_like(z), "not computed from z"),
    right("the where formula", stable_sigmoid),
    right("the abs trick", abs_trick_sigmoid),
    right("float64 result", float64_sigmoid),
]


@pytest.mark.parametrize("case", SIGMOID_CATALOGUE, ids=ids(SIGMOID_CATALOGUE))
def test_sigmoid_catalogue(case):
    assert_case(check_sigmoid, case)


def bce_alias(p, y):
    from torch.nn.functional import binary_cross_entropy as bce
    return bce(p, y)


SHOWN_LOSS = torch.nn.functional.binary_cross_entropy(torch.tensor([0.9, 0.2, 0.6, 0.3, 0.99, 0.05]),
                                                    torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0, 0.0]))

LOG_LOSS_CATALOGUE = [
    mistake("sum instead of mean", lambda p, y: -(y * torch.log(p.clamp(1e-7, 1 - 1e-7))
                                                  + (1 - y) * torch.log(1 - p.clamp(1e-7, 1 - 1e-7))).sum(),
            "sum over the 6 points"),
    mistake("p and y swapped", lambda p, y: log_loss(y, p), "swapped"),
    mistake("no minus sign", lambda p, y: -log_loss(p, y), "minus sign"),
    mistake("no clamp", lambda p, y: -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean(), "infinite"),
    mistake("eps too small for float32", lambda p, y: log_loss(p, y, eps=1e-12), "float32"),
    mistake("eps 0.01", lambda p, y: log_loss(p, y, eps=0.01), "cost a lot"),
    mistake("eps 0.1", lambda p, y: log_loss(p, y, eps=0.1), "eps is too large"),
    mistake("only the y = 1 term", lambda p, y: -(y * torch.log(p.clamp(1e-7, 1))).mean(), "only the y = 1 term"),
    mistake("no mean", lambda p, y: -(y * torch.log(p) + (1 - y) * torch.log(1 - p)), "ONE number"),
    mistake("F.binary_cross_entropy", torch.nn.functional.binary_cross_entropy, "binary_cross_entropy"),
    mistake("bce under another name", bce_alias, "binary_cross_entropy"),
    mistake("nn.BCELoss", lambda p, y: torch.nn.BCELoss()(p, y), "nn.BCELoss"),
    hostile("None", lambda p, y: None, "returned None"),
    hostile("the stub", stub, "not done yet"),
    hostile("a string", lambda p, y: "0.5", "must return a number"),
    hostile("NaN", lambda p, y: torch.tensor(math.nan), "NaN"),
    hostile("the example's value typed in", lambda p, y: SHOWN_LOSS if len(p) == 6 else torch.tensor(8.0),
            "random points"),
    right("clamp then mean", log_loss),
    right("a float", lambda p, y: float(log_loss(p, y))),
    right("float64, torch.where", lambda p, y: torch.where(y.double() == 1, -torch.log(p.double().clamp(1e-7, 1 - 1e-7)),
                                                           -torch.log(1 - p.double().clamp(1e-7, 1 - 1e-7))).mean()),
]


@pytest.mark.parametrize("case", LOG_LOSS_CATALOGUE, ids=ids(LOG_LOSS_CATALOGUE))
def test_log_loss_catalogue(case):
    assert_case(check_log_loss, case)


def autograd_gradients(X, y, w, b):
    w, b = w.clone().requires_grad_(True), b.clone().requires_grad_(True)
    loss = torch.nn.functional.binary_cross_entropy(torch.sigmoid(X @ w + b), y)
    loss.backward()
    return w.grad, b.grad


def grad_alias(X, y, w, b):
    from torch.autograd import grad as g
    w, b = w.clone().requires_grad_(True), b.clone().requires_grad_(True)
    return g(torch.nn.functional.binary_cross_entropy(torch.sigmoid(X @ w + b), y), (w, b))


GRADIENT_CATALOGUE = [
    mistake("sum, not mean", lambda X, y, w, b: (X.T @ (torch.sigmoid(X @ w + b) - y),
                                                 (torch.sigmoid(X @ w + b) - y).sum()), "7 times too big"),
    mistake("sign flipped", lambda X, y, w, b: tuple(-g for g in gradients(X, y, w, b)), "sign is flipped"),
    mistake("grad_b summed", lambda X, y, w, b: (gradients(X, y, w, b)[0], (torch.sigmoid(X @ w + b) - y).sum()),
            "grad_b is 7 times"),
    mistake("X instead of X.T", lambda X, y, w, b: (X @ (torch.sigmoid(X @ w + b) - y) / len(y), 0.0),
            "RuntimeError"),
    mistake("a column", lambda X, y, w, b: (gradients(X, y, w, b)[0].reshape(-1, 1), gradients(X, y, w, b)[1]),
            "shape of w"),
    mistake("no sigmoid", lambda X, y, w, b: (X.T @ (X @ w + b - y) / len(y), (X @ w + b - y).mean()),
            "differs from autograd"),
    mistake("grad_w only", lambda X, y, w, b: gradients(X, y, w, b)[0], "two things"),
    mistake("grad_b of two numbers", lambda X, y, w, b: (gradients(X, y, w, b)[0], torch.zeros(2)),
            "grad_b must be one number"),
    mistake("lists", lambda X, y, w, b: [g.tolist() for g in gradients(X, y, w, b)], "must be a torch tensor"),
    mistake("autograd with backward", autograd_gradients, "Tensor.backward"),
    mistake("autograd.grad under another name", grad_alias, "torch.autograd.grad"),
    hostile("None", lambda X, y, w, b: None, "returned None"),
    hostile("the stub", stub, "not done yet"),
    hostile("a string", lambda X, y, w, b: "grad", "two things"),
    hostile("NaN", lambda X, y, w, b: (torch.full_like(w, math.nan), torch.tensor(math.nan)), "NaN"),
    hostile("the first case typed in", lambda X, y, w, b: (torch.zeros_like(w), torch.tensor(0.0)),
            "differs from autograd"),
    right("the formulas", gradients),
    right("a list, grad_b a float", lambda X, y, w, b: [gradients(X, y, w, b)[0], gradients(X, y, w, b)[1].item()]),
    right("float64", lambda X, y, w, b: tuple(g.double() for g in gradients(X.double(), y.double(), w.double(),
                                                                            b.double()))),
    right("grad_b of shape (1,)", lambda X, y, w, b: (gradients(X, y, w, b)[0], gradients(X, y, w, b)[1].reshape(1))),
]


@pytest.mark.parametrize("case", GRADIENT_CATALOGUE, ids=ids(GRADIENT_CATALOGUE))
def test_gradient_catalogue(case):
    assert_case(check_log_loss_gradients, case)


CATALOGUES = {check_train_perceptron: PERCEPTRON_CATALOGUE, check_sigmoid: SIGMOID_CATALOGUE,
              check_log_loss: LOG_LOSS_CATALOGUE, check_log_loss_gradients: GRADIENT_CATALOGUE}
