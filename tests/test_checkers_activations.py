"""Exercise 03.2's checker (activation derivatives) and the tensor helpers shared by notebook 03's checkers."""

import pytest
import torch
import torch.nn.functional as F

from workshop_utils.checkers.activations import check_activation_derivatives
from workshop_utils.checkers.tensor_checks import LibraryShortcut, describe, forbid_calls, tensor_problem


def tanh_right(x):
    return 1 - torch.tanh(x) ** 2


def elu_right(x, alpha=1.0):
    return torch.where(x >= 0, torch.ones_like(x), alpha * torch.exp(torch.clamp(x, max=0)))


def tanh_from_exponentials(x):  # overflows: exp(100) is inf in float32, inf / inf is nan
    return 1 - ((torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x))) ** 2


def tanh_without_square(x):
    return 1 - torch.tanh(x)


def elu_ignoring_alpha(x, alpha=1.0):
    return torch.where(x >= 0, torch.ones_like(x), torch.exp(x))


def elu_wrong_positive_side(x, alpha=1.0):
    return torch.where(x >= 0, x, alpha * torch.exp(x))


def elu_python_number(x, alpha=1.0):
    return 1.0


def tanh_tuple(x):
    return 1 - torch.tanh(x) ** 2,  # a trailing comma


def tanh_in_place(x):
    return 1 - x.tanh_() ** 2


def tanh_lost_shape(x):
    return (1 - torch.tanh(x) ** 2).sum()


def stub(x, alpha=1.0):
    raise NotImplementedError("Exercise: replace this line with your solution")


def crashes(x, alpha=1.0):
    return x @ torch.ones(3)


def test_right_answer_passes(capsys):
    feedback = check_activation_derivatives(tanh_right, elu_right)
    assert feedback, feedback.text()
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize("tanh_derivative, elu_derivative, words", [
    (tanh_from_exponentials, elu_right, "exp(100) overflows"),
    (tanh_without_square, elu_right, "tanh(x)**2"),
    (tanh_right, elu_ignoring_alpha, "same for alpha = 0.5 and alpha = 1"),
    (tanh_right, elu_wrong_positive_side, "slope there is 1"),
    (tanh_right, elu_python_number, "expected a tensor, got a Python float"),
    (tanh_tuple, elu_right, "not a tuple"),
    (tanh_in_place, elu_right, "changed its input x in place"),
    (tanh_lost_shape, elu_right, "wrong shape"),
    (stub, elu_right, "not done yet"),
    (tanh_right, stub, "not done yet"),
    (crashes, elu_right, "RuntimeError"),
])
def test_wrong_answers_fail_with_the_right_explanation(tanh_derivative, elu_derivative, words):
    feedback = check_activation_derivatives(tanh_derivative, elu_derivative)
    assert not feedback
    assert words in feedback.text(), feedback.text()


def test_a_mismatch_names_the_worst_point():
    text = check_activation_derivatives(tanh_without_square, elu_right).text()
    assert "at x = -100: expected 0, got 2" in text


def test_describe_and_tensor_problem():
    assert "forget `return`" in describe(None)
    assert describe(torch.zeros(2, 3)) == "a tensor of shape (2, 3), dtype float32"
    expected = torch.zeros(3)
    assert tensor_problem(torch.ones(3), expected) is None
    assert tensor_problem(torch.ones(2), expected).kind == "shape"
    assert tensor_problem(torch.ones(3, dtype=torch.int64), expected).kind == "dtype"
    assert tensor_problem(torch.tensor([1.0, float("nan"), 0.0]), expected).kind == "nonfinite"
    assert tensor_problem(expected.numpy(), expected).kind == "type"


def test_forbid_calls_blocks_then_restores_everything():
    original_function, x = F.softmax, torch.tensor([1.0, 2.0])
    with forbid_calls({"F.softmax": (F, "softmax"), "Tensor.softmax": (torch.Tensor, "softmax")}) as used:
        with pytest.raises(LibraryShortcut):
            F.softmax(x, dim=0)
        with pytest.raises(LibraryShortcut):
            x.softmax(0)
    assert used == ["F.softmax", "Tensor.softmax"]
    assert F.softmax is original_function and "softmax" not in vars(torch.Tensor)  # inherited method restored
    assert torch.allclose(x.softmax(0), torch.softmax(x, 0))


# ------------------------------------------------------------------ the mistakes catalogue

from checker_catalogue import assert_case, hostile, ids, mistake, right  # noqa: E402


def tanh_by_autograd(x):
    x = x.clone().requires_grad_(True)
    torch.tanh(x).sum().backward()
    return x.grad


def elu_by_autograd_alias(x, alpha=1.0):
    from torch.autograd import grad as g
    x = x.clone().requires_grad_(True)
    return g(F.elu(x, alpha=alpha).sum(), x)[0]


def elu_zero_at_zero(x, alpha=1.0):  # slope alpha at 0 instead of 1
    return torch.where(x > 0, torch.ones_like(x), alpha * torch.exp(torch.clamp(x, max=0)))


def elu_naive_exp(x, alpha=1.0):  # exp(100) is inf where the branch is not picked: the value is still fine
    return torch.where(x >= 0, torch.ones_like(x), alpha * torch.exp(x))


def elu_function_not_derivative(x, alpha=1.0):
    return F.elu(x, alpha=alpha)


def tanh_float64(x):
    return 1 - torch.tanh(x.double()) ** 2


def elu_via_function_value(x, alpha=1.0):  # f'(x) = f(x) + alpha for x < 0
    return torch.where(x >= 0, torch.ones_like(x), F.elu(x, alpha=alpha) + alpha)


def tanh_cosh(x):  # sech² = 1 / cosh²: cosh(100) is large but finite in float32? no: inf, and 1/inf = 0: right
    return 1 / torch.cosh(x) ** 2


ACTIVATIONS_CATALOGUE = [
    mistake("tanh from exponentials", (tanh_from_exponentials, elu_right), "exp(100) overflows"),
    mistake("1 - tanh", (tanh_without_square, elu_right), "tanh(x)**2"),
    mistake("alpha ignored", (tanh_right, elu_ignoring_alpha), "same for alpha = 0.5 and alpha = 1"),
    mistake("x on the positive side", (tanh_right, elu_wrong_positive_side), "slope there is 1"),
    mistake("a Python number", (tanh_right, elu_python_number), "expected a tensor, got a Python float"),
    mistake("a trailing comma", (tanh_tuple, elu_right), "not a tuple"),
    mistake("in place", (tanh_in_place, elu_right), "changed its input x in place"),
    mistake("a sum", (tanh_lost_shape, elu_right), "wrong shape"),
    mistake("slope alpha at 0", (tanh_right, elu_zero_at_zero), "slope at 0 to 1"),
    mistake("ELU itself", (tanh_right, elu_function_not_derivative), "does not match"),
    mistake("tanh by backward", (tanh_by_autograd, elu_right), "Tensor.backward"),
    mistake("elu by autograd.grad under another name", (tanh_right, elu_by_autograd_alias), "torch.autograd.grad"),
    hostile("the stub (tanh)", (stub, elu_right), "not done yet"),
    hostile("the stub (elu)", (tanh_right, stub), "not done yet"),
    hostile("None", (lambda x: None, elu_right), "None"),
    hostile("a crash", (crashes, elu_right), "RuntimeError"),
    hostile("NaN", (lambda x: torch.full_like(x, float("nan")), elu_right), "nan"),
    hostile("a grid's values typed in", (lambda x: (1 - torch.tanh(torch.linspace(-6, 6, 62)) ** 2)[:x.numel()]
                                         if x.numel() <= 62 else torch.zeros_like(x), elu_right), "does not match"),
    right("the closed forms", (tanh_right, elu_right)),
    right("float64", (tanh_float64, elu_right)),
    right("f(x) + alpha", (tanh_right, elu_via_function_value)),
    right("1 / cosh²", (tanh_cosh, elu_naive_exp)),
]


@pytest.mark.parametrize("case", ACTIVATIONS_CATALOGUE, ids=ids(ACTIVATIONS_CATALOGUE))
def test_activations_catalogue(case):
    assert_case(check_activation_derivatives, case)


CATALOGUES = {check_activation_derivatives: ACTIVATIONS_CATALOGUE}
