"""Notebook 03's network checkers (XOR MLP, two linear layers as one) against right and typical wrong answers."""

import pytest
import torch
from torch import nn

from workshop_utils.checkers.mlp import check_collapsed_linear, check_xor_mlp


def _train(model: nn.Module, X, y, loss_fn=None, epochs=400, lr=0.05, zero_grad=True) -> nn.Module:
    loss_fn = loss_fn or nn.BCELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    targets = y.float().unsqueeze(1)
    for _ in range(epochs):
        if zero_grad:
            optimizer.zero_grad()
        loss = loss_fn(model(X), targets)
        loss.backward()
        optimizer.step()
    return model


def right(X, y):
    return _train(nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid()), X, y)


def right_relu(X, y):
    return _train(nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid()), X, y)


def no_hidden_activation(X, y):  # the lesson's mistake: two linear layers are one line
    return _train(nn.Sequential(nn.Linear(2, 8), nn.Linear(8, 1), nn.Sigmoid()), X, y)


def raw_scores(X, y):  # trained on logits, never returns probabilities
    return _train(nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1)), X, y, loss_fn=nn.BCEWithLogitsLoss())


def untrained(X, y):
    return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid())


def two_outputs(X, y):
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2), nn.Softmax(dim=1))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(200):
        optimizer.zero_grad()
        nn.functional.nll_loss(torch.log(model(X)), y).backward()
        optimizer.step()
    return model


def returns_tuple(X, y):
    return right(X, y), [0.1, 0.05]


def returns_nothing(X, y):
    right(X, y)


def wrong_target_shape(X, y):  # BCELoss with (N, 1) outputs and (N,) integer labels
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid())
    nn.BCELoss()(model(X), y).backward()
    return model


def too_short(X, y):
    return _train(nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid()), X, y, epochs=15, lr=0.01)


def lopsided(X, y):  # non-linear and confident, but only (1, 0) is called class 1
    model = nn.Sequential(nn.Linear(2, 1), nn.ReLU(), nn.Linear(1, 1), nn.Sigmoid())
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, -1.0]]))
        model[0].bias.zero_()
        model[2].weight.fill_(10.0)
        model[2].bias.fill_(-5.0)
    return model


def dead_relu(X, y):
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1), nn.Sigmoid())
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].bias.fill_(-1.0)  # every hidden unit is 0 for every input: the network is a constant
    return model


def stub(X, y):
    raise NotImplementedError("Exercise: replace this line with your solution")


@pytest.mark.parametrize("attempt", [right, right_relu])
def test_a_trained_mlp_passes(attempt, capsys):
    feedback = check_xor_mlp(attempt)
    assert feedback, feedback.text()
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize("attempt, words", [
    (no_hidden_activation, "the model is linear"),
    (raw_scores, "raw scores"),
    (untrained, "untrained"),
    (two_outputs, "2 outputs per point"),
    (returns_tuple, "return only the model"),
    (returns_nothing, "returned None"),
    (wrong_target_shape, "your code raised ValueError"),
    (too_short, "trained far too little"),
    (lopsided, "gets 3 of the 4 XOR corners right"),
    (dead_relu, "switched off"),
    (stub, "not done yet"),
])
def test_wrong_xor_answers_fail_with_the_reason(attempt, words):
    feedback = check_xor_mlp(attempt)
    assert not feedback, attempt.__name__
    assert words in feedback.text(), (attempt.__name__, feedback.text())


def test_the_xor_checker_is_repeatable():
    assert check_xor_mlp(right).message == check_xor_mlp(right).message


# -- Exercise 03.3: two linear layers are one ------------------------------------------------------

def collapse_right(first, second):
    return second.weight @ first.weight, second.weight @ first.bias + second.bias


def collapse_wrong_order(first, second):
    return first.weight.T @ second.weight.T, second.weight @ first.bias + second.bias


def collapse_sum_of_biases(first, second):
    return second.weight @ first.weight, first.bias + second.bias


def collapse_forgets_second_bias(first, second):
    return second.weight @ first.weight, second.weight @ first.bias


def collapse_elementwise(first, second):
    return second.weight * first.weight, second.weight @ first.bias + second.bias


def collapse_single_tensor(first, second):
    return second.weight @ first.weight


def collapse_stub(first, second):
    raise NotImplementedError("Exercise: replace this line with your solution")


def test_collapsing_right_passes():
    feedback = check_collapsed_linear(collapse_right)
    assert feedback, feedback.text()


@pytest.mark.parametrize("attempt, words", [
    (collapse_wrong_order, "W2 @ W1, not W1 @ W2"),
    (collapse_sum_of_biases, "b1 + b2"),
    (collapse_forgets_second_bias, "without b2"),
    (collapse_elementwise, "RuntimeError"),  # right for a 1 x 1 W2, a shape error for wider ones
    (collapse_single_tensor, "return a pair (W, b)"),
    (collapse_stub, "not done yet"),
])
def test_wrong_collapses_fail_with_the_reason(attempt, words):
    feedback = check_collapsed_linear(attempt)
    assert not feedback, attempt.__name__
    assert words in feedback.text(), (attempt.__name__, feedback.text())
