"""forbidden_calls: a forbidden library function is noticed whatever name it was imported under."""

import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from workshop_utils.checkers.forbidden import (AUTOGRAD, BINARY_CROSS_ENTROPY, CONV2D, CROSS_ENTROPY, DROPOUT,
                                               OPTIMIZERS, SIGMOID, ForbiddenCall, forbidden_calls, merge,
                                               shortcut_message)


def test_alias_import_of_conv2d_is_seen():
    from torch.nn.functional import conv2d as c2d
    with forbidden_calls(CONV2D) as seen:
        c2d(torch.randn(1, 1, 4, 4), torch.randn(1, 1, 3, 3))
    assert seen.names == ["torch.nn.functional.conv2d"]


def test_module_conv2d_is_seen():
    with forbidden_calls(CONV2D) as seen:
        nn.Conv2d(1, 1, 3)(torch.randn(1, 1, 4, 4))
    assert "nn.Conv2d" in seen.names


@pytest.mark.parametrize("spelling", [
    lambda x: torch.sigmoid(x), lambda x: x.sigmoid(), lambda x: F.sigmoid(x), lambda x: torch.special.expit(x),
    lambda x: nn.Sigmoid()(x), lambda x: x.clone().sigmoid_(),
], ids=["torch.sigmoid", "method", "F.sigmoid", "expit", "nn.Sigmoid", "in-place"])
def test_every_spelling_of_sigmoid_is_seen(spelling):
    with forbidden_calls(SIGMOID) as seen:
        spelling(torch.randn(3))
    assert seen, "a sigmoid spelling went unnoticed"


def test_alias_import_of_sigmoid_is_seen():
    from torch import sigmoid as squash
    with forbidden_calls(SIGMOID) as seen:
        squash(torch.randn(3))
    assert seen.names == ["torch.sigmoid"]


def test_hand_written_code_is_not_flagged():
    x = torch.randn(4, 3, requires_grad=True)
    with forbidden_calls(merge(SIGMOID, BINARY_CROSS_ENTROPY, CROSS_ENTROPY, DROPOUT, AUTOGRAD, OPTIMIZERS)) as seen:
        p = 1 / (1 + torch.exp(-x))
        loss = -(torch.log(p) * 0.5).mean()
        mask = (torch.rand_like(x) > 0.5).float() / 0.5
        (x * mask).sum()
        x.logsumexp(dim=1)
    assert not seen and loss.requires_grad


@pytest.mark.parametrize("spelling", [
    lambda p, y: F.binary_cross_entropy(p, y), lambda p, y: nn.BCELoss()(p, y),
    lambda p, y: F.binary_cross_entropy_with_logits(p, y), lambda p, y: nn.BCEWithLogitsLoss()(p, y),
], ids=["F.bce", "nn.BCELoss", "F.bce_logits", "nn.BCEWithLogitsLoss"])
def test_library_log_loss_is_seen(spelling):
    with forbidden_calls(BINARY_CROSS_ENTROPY) as seen:
        spelling(torch.rand(4), torch.ones(4))
    assert seen


def test_cross_entropy_and_dropout_under_aliases():
    from torch.nn.functional import cross_entropy as ce, dropout as drop
    with forbidden_calls(merge(CROSS_ENTROPY, DROPOUT)) as seen:
        ce(torch.randn(2, 3), torch.tensor([0, 2]))
        drop(torch.randn(5), 0.5)
        nn.Dropout(0.2)(torch.randn(5))
    assert {"torch.nn.functional.cross_entropy", "torch.nn.functional.dropout", "nn.Dropout"} <= set(seen.names)


def test_autograd_is_seen():
    x = torch.randn(3, requires_grad=True)
    with forbidden_calls(AUTOGRAD) as seen:
        (x ** 2).sum().backward()
    assert "Tensor.backward" in seen.names
    from torch.autograd import grad as g
    with forbidden_calls(AUTOGRAD) as seen:
        g((x ** 2).sum(), x)
    assert seen.names == ["torch.autograd.grad"]


def test_optimizer_class_and_its_step_method():
    x = torch.randn(3, requires_grad=True)
    x.grad = torch.ones(3)
    optimizer = torch.optim.SGD([x], lr=0.1)  # made before the check: only its step can be noticed
    with forbidden_calls({"torch.optim.SGD.step": torch.optim.SGD.step}) as seen:
        optimizer.step()
    assert seen.names == ["torch.optim.SGD.step"]
    with forbidden_calls(OPTIMIZERS) as seen:
        from torch.optim import SGD as Plain
        Plain([x], lr=0.1, momentum=0.9)
    assert seen.names == ["torch.optim.SGD"]


def test_a_subclass_of_a_forbidden_module_is_seen():
    class Squash(nn.Sigmoid):
        def __init__(self):
            super().__init__()

    with forbidden_calls(SIGMOID) as seen:
        Squash()
    assert "nn.Sigmoid" in seen.names


def test_refuse_raises_inside_the_attempt_and_everything_is_restored():
    before_profile = sys.getprofile()
    init_before = nn.Sigmoid.__dict__.get("__init__")
    with pytest.raises(ForbiddenCall):
        with forbidden_calls(SIGMOID, refuse=True) as seen:
            torch.sigmoid(torch.randn(2))
    assert seen.names == ["torch.sigmoid"]
    with pytest.raises(ForbiddenCall):
        with forbidden_calls(SIGMOID, refuse=True):
            nn.Sigmoid()
    assert sys.getprofile() is before_profile
    assert nn.Sigmoid.__dict__.get("__init__") is init_before
    assert torch.optim.SGD.__init__.__qualname__ == "SGD.__init__"
    nn.Sigmoid()(torch.randn(2))  # still works after the check


def test_an_exception_in_the_attempt_restores_everything():
    with pytest.raises(ZeroDivisionError):
        with forbidden_calls(merge(SIGMOID, OPTIMIZERS)):
            1 / 0
    assert "__init__" not in nn.Sigmoid.__dict__
    with forbidden_calls({}) as seen:  # the mode is gone: torch runs untouched
        torch.sigmoid(torch.randn(2))
    assert not seen


def test_a_previous_profiler_keeps_running():
    events = []
    sys.setprofile(lambda frame, event, arg: events.append(event))
    try:
        with forbidden_calls(SIGMOID):
            torch.sigmoid(torch.randn(2))
    finally:
        sys.setprofile(None)
    assert events


def test_message_names_the_call():
    with forbidden_calls(SIGMOID) as seen:
        torch.sigmoid(torch.randn(2))
    assert "torch.sigmoid" in shortcut_message(seen, "write σ(z) yourself")


def test_attempt_forbidding_turns_a_shortcut_into_a_failure():
    from workshop_utils.checkers.core import AttemptError
    from workshop_utils.checkers.forbidden import attempt_forbidding

    from torch import sigmoid as squash
    with pytest.raises(AttemptError) as caught:
        attempt_forbidding("Exercise 0", SIGMOID, lambda z: squash(z), torch.zeros(2), tried="f(z)",
                           why="write it yourself.")
    assert "torch.sigmoid" in caught.value.feedback.message and "write it yourself" in caught.value.feedback.message
    assert attempt_forbidding("Exercise 0", SIGMOID, lambda z: 1 / (1 + torch.exp(-z)), torch.zeros(2),
                              tried="f(z)", why="-").tolist() == [0.5, 0.5]


def test_functions_made_by_one_factory_are_told_apart():
    from workshop_utils.checkers.forbidden import MAX_POOL2D
    x = torch.randn(1, 1, 4, 4)
    with forbidden_calls(MAX_POOL2D) as seen:
        F.max_pool1d(x[0], 2)  # boolean_dispatch made it, like F.max_pool2d: allowed here
    assert not seen
    from torch.nn.functional import max_pool2d as pool
    with forbidden_calls(MAX_POOL2D) as seen:
        pool(x, 2)
    assert seen.names[0] == "torch.nn.functional.max_pool2d"  # then torch.max_pool2d, which it calls
