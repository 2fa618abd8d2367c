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


# The wrong XOR answers are in XOR_CATALOGUE below (each trains a model: listed once, to keep CI fast).


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


# ------------------------------------------------------------------ the mistakes catalogues

from checker_catalogue import assert_case, hostile, ids, mistake, right as right_answer  # noqa: E402


class XorByRule(nn.Module):
    """XOR written by hand, with a parameter so that it looks like a model: no MLP, nothing learned."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x):
        bits = (x > 0.5).float()
        return ((bits[:, 0] != bits[:, 1]).float() * self.scale).unsqueeze(1)


class NanModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(2, 1)

    def forward(self, x):
        return self.layer(x) * float("nan")


def right_float64(X, y):
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid()).double()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(400):
        optimizer.zero_grad()
        nn.functional.binary_cross_entropy(model(X.double()), y.double().unsqueeze(1)).backward()
        optimizer.step()
    return model


def right_flat_output(X, y):
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid(), nn.Flatten(0))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(400):
        optimizer.zero_grad()
        nn.BCELoss()(model(X), y.float()).backward()
        optimizer.step()
    return model


XOR_CATALOGUE = [
    mistake("no hidden activation", no_hidden_activation, "the model is linear"),
    mistake("raw scores", raw_scores, "raw scores"),
    mistake("untrained", untrained, "untrained"),
    mistake("two outputs", two_outputs, "2 outputs per point"),
    mistake("model and losses", returns_tuple, "return only the model"),
    mistake("(N,) integer labels for BCELoss", wrong_target_shape, "your code raised ValueError"),
    mistake("too few epochs", too_short, "trained far too little"),
    mistake("lopsided", lopsided, "gets 3 of the 4 XOR corners right"),
    mistake("dead ReLUs", dead_relu, "switched off"),
    mistake("the model's output returned", lambda X, y: right(X, y)(X), "not a network"),
    hostile("None", returns_nothing, "returned None"),
    hostile("the stub", stub, "not done yet"),
    hostile("a string", lambda X, y: "model", "not a network"),
    hostile("NaN outputs", lambda X, y: NanModel(), "NaN"),
    hostile("XOR by a hand-written rule", lambda X, y: XorByRule(), "no nn.Linear"),
    right_answer("tanh", right),
    right_answer("ReLU, 16 hidden", right_relu),
    right_answer("float64 model", right_float64),
    right_answer("(N,) output", right_flat_output),
]


@pytest.mark.parametrize("case", XOR_CATALOGUE, ids=ids(XOR_CATALOGUE))
def test_xor_catalogue(case):
    assert_case(check_xor_mlp, case)


def collapse_numpy(first, second):
    W2, W1 = second.weight.detach().numpy(), first.weight.detach().numpy()
    return W2 @ W1, W2 @ first.bias.detach().numpy() + second.bias.detach().numpy()


COLLAPSE_CATALOGUE = [
    mistake("W1 @ W2 order", collapse_wrong_order, "W2 @ W1, not W1 @ W2"),
    mistake("b1 + b2", collapse_sum_of_biases, "b1 + b2"),
    mistake("no b2", collapse_forgets_second_bias, "without b2"),
    mistake("b2 alone", lambda first, second: (second.weight @ first.weight, second.bias.clone()), "b2 alone"),
    mistake("element-wise", collapse_elementwise, "RuntimeError"),
    mistake("W only", collapse_single_tensor, "return a pair (W, b)"),
    mistake("W1 @ W2 without transposes", lambda first, second: (first.weight @ second.weight, second.bias),
            "RuntimeError"),
    mistake("no bias at all", lambda first, second: (second.weight @ first.weight, torch.zeros(second.out_features)),
            "b is not"),
    mistake("the layers returned", lambda first, second: (first, second), "W and b must be tensors"),
    hostile("None", lambda first, second: None, "return a pair"),
    hostile("the stub", collapse_stub, "not done yet"),
    hostile("strings", lambda first, second: ("W", "b"), "W and b must be tensors"),
    hostile("NaN", lambda first, second: (torch.full((second.out_features, first.in_features), float("nan")),
                                          torch.full((second.out_features,), float("nan"))), "NaN"),
    hostile("the first case typed in", lambda first, second: (torch.zeros(1, 3), torch.ones(1)), "W is not"),
    right_answer("matrix products", collapse_right),
    right_answer("NumPy", collapse_numpy),
    right_answer("torch.addmv and a (1, n) bias", lambda first, second: (
        torch.mm(second.weight, first.weight).detach(),
        torch.addmv(second.bias, second.weight, first.bias).reshape(1, -1))),
]


@pytest.mark.parametrize("case", COLLAPSE_CATALOGUE, ids=ids(COLLAPSE_CATALOGUE))
def test_collapse_catalogue(case):
    assert_case(check_collapsed_linear, case)


CATALOGUES = {check_xor_mlp: XOR_CATALOGUE, check_collapsed_linear: COLLAPSE_CATALOGUE}
