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
    return torch.sigmoid(z).detach()


def test_stable_sigmoids_pass():
    assert check_sigmoid(stable_sigmoid)
    assert check_sigmoid(torch.sigmoid)
    assert check_sigmoid(abs_trick_sigmoid)  # its zero gradient at exactly z = 0 is forgiven


@pytest.mark.parametrize("attempt, words", [
    (naive_sigmoid, ["gradient is NaN", "-1000"]),
    (ratio_sigmoid, ["not finite", "1000", "inf / inf"]),
    (flipped_sigmoid, ["sigmoid(-z)"]),
    (math_sigmoid, ["your code raised"]),
    (numpy_sigmoid, ["must return a torch tensor"]),
    (detached_sigmoid, ["no gradient flows"]),
    (lambda z: None, ["returned None"]),
    (lambda z: torch.sigmoid(z).sum(), ["keep the shape"]),
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
    assert check_log_loss(torch.nn.functional.binary_cross_entropy)  # clamps log at -100 instead: fine


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
