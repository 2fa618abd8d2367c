"""Notebook 01's checkers: the right answer passes; typical wrong answers fail, each with its explanation."""

import math

import numpy as np
import pytest
import torch

from workshop_utils.checkers.tensors_autograd import (
    check_flatten_images,
    check_gradient_descent,
    check_grads_by_hand,
    check_grads_with_autograd,
    check_image_batch,
    check_sgd_step,
    check_sigmoid_net_grads,
    check_standardize_columns,
    sigmoid_net_reference,
)


def stub(*_args):
    raise NotImplementedError("Exercise: replace this line with your solution")


def assert_fails(check, attempt, *words):
    feedback = check(attempt)
    assert not feedback, (getattr(attempt, "__name__", attempt), feedback.text())
    for word in words:
        assert word in feedback.text(), (getattr(attempt, "__name__", attempt), word, feedback.text())
    return feedback


def assert_passes(check, attempt):
    feedback = check(attempt)
    assert feedback, feedback.text()
    assert "✅" in feedback.text()
    return feedback


# --------------------------------------------------------------------------- 01.1

@pytest.mark.parametrize("attempt, words", [
    (lambda: torch.zeros(8, 32, 32, 3), ["channels are last", "(8, 32, 32, 3)"]),
    (lambda: torch.zeros(3, 8, 32, 32), ["batch dimension must come first"]),
    (lambda: torch.zeros(3, 32, 32), ["one image"]),
    (lambda: torch.zeros(8, 32, 32), ["grey"]),
    (lambda: torch.zeros(8, 3072), ["flattened"]),
    (lambda: torch.zeros(8, 3, 32, 32, dtype=torch.float64), ["float64", "NumPy"]),
    (lambda: torch.zeros(8, 3, 32, 32, dtype=torch.int64), ["integers"]),
    (lambda: torch.rand(8, 3, 32, 32), ["not all zeros"]),
    (lambda: np.zeros((8, 3, 32, 32), dtype=np.float32), ["PyTorch tensor", "NumPy array"]),
    (lambda: None, ["returned None"]),
    (stub, ["not done yet"]),
    (lambda: torch.zeros(8, 3, 32, 32) @ torch.zeros(3), ["RuntimeError"]),
])
def test_image_batch_mistakes(attempt, words):
    assert_fails(check_image_batch, attempt, *words)


def test_image_batch_right():
    assert_passes(check_image_batch, lambda: torch.zeros(8, 3, 32, 32))
    assert_passes(check_image_batch, lambda: torch.zeros((8, 3, 32, 32), dtype=torch.float32))


# --------------------------------------------------------------------------- 01.2

@pytest.mark.parametrize("attempt, words", [
    (lambda images: images.view(images.shape[0], -1), ["view size is not compatible", "reshape"]),
    (lambda images: images.flatten(), ["1-D"]),
    (lambda images: images.reshape(8, -1), ["don't hard-code sizes"]),
    (lambda images: images.reshape(-1, 3072), ["don't hard-code sizes"]),
    (lambda images: images.reshape(-1, images.shape[0]), ["swapped"]),
    (lambda images: images.permute(0, 2, 3, 1).reshape(images.shape[0], -1), ["channels-last order"]),
    (lambda images: images.reshape(images.shape[0], -1).numpy(), ["must return a tensor", "NumPy"]),
    (lambda images: images.flatten(start_dim=1).mul_(1).add_(1), ["changed its input"]),
    (lambda images: None, ["forget `return`"]),
    (stub, ["not done yet"]),
])
def test_flatten_mistakes(attempt, words):
    assert_fails(check_flatten_images, attempt, *words)


def test_flatten_right():
    assert_passes(check_flatten_images, lambda images: images.reshape(images.shape[0], -1))
    assert_passes(check_flatten_images, lambda images: images.flatten(start_dim=1))
    assert_passes(check_flatten_images, lambda images: torch.flatten(images, 1))


# --------------------------------------------------------------------------- 01.3

def standardize_loop(X):
    n, m = X.shape
    result = torch.empty_like(X)
    for j in range(m):
        mean = sum(X[i, j].item() for i in range(n)) / n
        std = math.sqrt(sum((X[i, j].item() - mean) ** 2 for i in range(n)) / n)
        for i in range(n):
            result[i, j] = (X[i, j].item() - mean) / std if std > 0 else 0.0
    return result


def standardize_right(X):
    std = X.std(dim=0, correction=0)
    return (X - X.mean(dim=0)) / torch.where(std > 0, std, torch.ones_like(std))


def standardize_in_place(X):
    std = X.std(dim=0, correction=0)
    X -= X.mean(dim=0)
    X /= torch.where(std > 0, std, torch.ones_like(std))
    return X


@pytest.mark.parametrize("attempt, words", [
    (lambda X: (X - X.mean(dim=0)) / X.std(dim=0, correction=0), ["NaN", "torch.where"]),
    (lambda X: (X - X.mean(dim=0)) / X.std(dim=0).clamp_min(1e-12), ["n - 1", "correction=0"]),
    (lambda X: (X - X.mean(dim=1, keepdim=True)) / X.std(dim=1, correction=0, keepdim=True).clamp_min(1e-12),
     ["each row", "dim=0"]),
    (lambda X: X - X.mean(dim=0), ["did not divide"]),
    (lambda X: X.mean(dim=0), ["same shape"]),
    (standardize_in_place, ["changed X itself"]),
    (lambda X: standardize_right(X).numpy(), ["must return a tensor"]),
    (lambda X: standardize_right(X) * 2, ["differ from the loop"]),
    (stub, ["not done yet"]),
    (lambda X: X @ torch.ones(99), ["RuntimeError"]),
])
def test_standardize_mistakes(attempt, words):
    assert_fails(check_standardize_columns, attempt, *words)


def test_standardize_right_reports_the_speed_up_only_with_a_loop():
    assert standardize_loop(torch.ones(3, 2)).eq(0).all()
    quiet = assert_passes(check_standardize_columns, standardize_right)
    assert "faster" not in quiet.text()
    feedback = check_standardize_columns(standardize_right, loop_version=standardize_loop)
    assert feedback and "faster" in feedback.text(), feedback.text()
    # The attendee's loop is not graded: a broken one just means no speed report.
    broken_loop = check_standardize_columns(standardize_right, loop_version=stub)
    assert broken_loop and "faster" not in broken_loop.text()


def test_standardize_the_loop_itself_passes():
    assert_passes(check_standardize_columns, standardize_loop)


# --------------------------------------------------------------------------- 01.4

@pytest.mark.parametrize("attempt, words", [
    (lambda x, y, z: (x + y, x + y, z), ["swapped"]),
    (lambda x, y, z: (1.0, 1.0, x + y), ["df/dx, df/dy are wrong", "multiply by df/dq = z"]),
    (lambda x, y, z: (z, z, x * y), ["df/dz is wrong", "x + y"]),
    (lambda x, y, z: (z, y, x + y), ["df/dy is wrong"]),
    (lambda x, y, z: (z, z), ["three values"]),
    (lambda x, y, z: (z, z, "x + y"), ["df_dz must be a number"]),
    (lambda x, y, z: None, ["returned None"]),
    (stub, ["not done yet"]),
    (lambda x, y, z: (z / 0, z, x + y), ["ZeroDivisionError"]),
])
def test_grads_by_hand_mistakes(attempt, words):
    assert_fails(check_grads_by_hand, attempt, *words)


def test_grads_by_hand_right():
    assert_passes(check_grads_by_hand, lambda x, y, z: (z, z, x + y))
    assert_passes(check_grads_by_hand, lambda x, y, z: (torch.tensor(z), torch.tensor(z), torch.tensor(x + y)))


# --------------------------------------------------------------------------- 01.5

def autograd_right(x, y, z):
    x, y, z = (torch.tensor(v, requires_grad=True) for v in (x, y, z))
    f = (x + y) * z
    f.backward()
    return x.grad, y.grad, z.grad


def autograd_no_requires_grad(x, y, z):
    x, y, z = (torch.tensor(v) for v in (x, y, z))
    f = (x + y) * z
    f.backward()
    return x.grad, y.grad, z.grad


def autograd_forgets_z(x, y, z):
    x, y = (torch.tensor(v, requires_grad=True) for v in (x, y))
    z = torch.tensor(z)
    ((x + y) * z).backward()
    return x.grad, y.grad, z.grad


def autograd_backward_twice(x, y, z):
    x, y, z = (torch.tensor(v, requires_grad=True) for v in (x, y, z))
    f = (x + y) * z
    f.backward()
    f.backward()
    return x.grad, y.grad, z.grad


def autograd_accumulates(x, y, z):
    x, y, z = (torch.tensor(v, requires_grad=True) for v in (x, y, z))
    f = (x + y) * z
    f.backward(retain_graph=True)
    f.backward()
    return x.grad, y.grad, z.grad


def autograd_returns_inputs(x, y, z):
    x, y, z = (torch.tensor(v, requires_grad=True) for v in (x, y, z))
    ((x + y) * z).backward()
    return x, y, z


def autograd_returns_numbers(x, y, z):
    return tuple(g.item() for g in autograd_right(x, y, z))


def autograd_integers(x, y, z):
    x = torch.tensor(int(x), requires_grad=True)
    return x.grad, x.grad, x.grad


@pytest.mark.parametrize("attempt, words", [
    (autograd_no_requires_grad, ["does not require grad", "requires_grad=True"]),
    (autograd_forgets_z, ["z.grad is None", "requires_grad=True"]),
    (autograd_backward_twice, ["a second time", "once per forward pass"]),
    (autograd_accumulates, ["2× the right gradients", "accumulate"]),
    (autograd_returns_inputs, ["not x.grad"]),
    (autograd_returns_numbers, ["should be the tensor x.grad"]),
    (lambda x, y, z: (torch.tensor(z), torch.tensor(z), torch.tensor(x + y)), ["autograd never ran"]),
    (autograd_integers, ["floating point"]),
    (stub, ["not done yet"]),
])
def test_grads_with_autograd_mistakes(attempt, words):
    assert_fails(check_grads_with_autograd, attempt, *words)


def test_grads_with_autograd_right_and_torch_left_as_it_was():
    backward, grad = torch.autograd.backward, torch.autograd.grad
    assert_passes(check_grads_with_autograd, autograd_right)
    assert_fails(check_grads_with_autograd, stub, "not done yet")
    assert torch.autograd.backward is backward and torch.autograd.grad is grad  # the counter was removed


# --------------------------------------------------------------------------- 01.6

def sigmoid_net_by_hand(x, y, w1, b1, w2):
    a = w1 * x + b1
    h = 1 / (1 + math.exp(-a))
    p = w2 * h
    dL_dp = 2 * (p - y)
    dL_dw2 = dL_dp * h
    dL_da = dL_dp * w2 * h * (1 - h)
    return dL_da * x, dL_da, dL_dw2


def mistake(change):
    """The right derivation with one typical change applied to the three gradients."""
    def attempt(x, y, w1, b1, w2):
        h = 1 / (1 + math.exp(-(w1 * x + b1)))
        return change(x, y, w1, b1, w2, h, w2 * h - y)
    return attempt


@pytest.mark.parametrize("attempt, words", [
    (mistake(lambda x, y, w1, b1, w2, h, e: (e * w2 * h * (1 - h) * x, e * w2 * h * (1 - h), e * h)), ["factor 2"]),
    (mistake(lambda x, y, w1, b1, w2, h, e: (-2 * e * w2 * h * (1 - h) * x, -2 * e * w2 * h * (1 - h), -2 * e * h)),
     ["sign is flipped"]),
    (mistake(lambda x, y, w1, b1, w2, h, e: (2 * e * w2 * h * x, 2 * e * w2 * h, 2 * e * h)), ["σ(a)(1 - σ(a))"]),
    (mistake(lambda x, y, w1, b1, w2, h, e: (2 * e * w2 * (1 - h * h) * x, 2 * e * w2 * (1 - h * h), 2 * e * h)),
     ["tanh's derivative"]),
    (mistake(lambda x, y, w1, b1, w2, h, e: (2 * e * w2 * h * (1 - h) * x,) * 2 + (2 * e * h,)), ["no factor x"]),
    (mistake(lambda x, y, w1, b1, w2, h, e: (2 * e * h * (1 - h) * x, 2 * e * h * (1 - h), 2 * e * h)),
     ["multiplied by w2"]),
    (mistake(lambda x, y, w1, b1, w2, h, e: (2 * e * w2 * h * (1 - h) * x, 2 * e * w2 * h * (1 - h), 2 * e)),
     ["dL/dw2 is wrong", "walk backward"]),
    (lambda x, y, w1, b1, w2: sigmoid_net_reference(x, y, w1, b1, w2), ["by hand", "called autograd"]),
    (lambda x, y, w1, b1, w2: (1.0, 2.0), ["three numbers"]),
    (lambda x, y, w1, b1, w2: (1.0, None, 2.0), ["dL/db1 must be a number"]),
    (stub, ["not done yet"]),
    (lambda x, y, w1, b1, w2: math.log(-x), ["ValueError"]),
])
def test_sigmoid_net_mistakes(attempt, words):
    assert_fails(check_sigmoid_net_grads, attempt, *words)


def test_sigmoid_net_right():
    assert_passes(check_sigmoid_net_grads, sigmoid_net_by_hand)

    def with_tensors(x, y, w1, b1, w2):
        return tuple(torch.tensor(g) for g in sigmoid_net_by_hand(x, y, w1, b1, w2))

    assert_passes(check_sigmoid_net_grads, with_tensors)


# --------------------------------------------------------------------------- 01.7

def descent_right(grad, x0, lr, steps):
    path = [x0]
    x = x0
    for _ in range(steps):
        x = x - lr * grad(x)
        path.append(x)
    return path


def descent_final_only(grad, x0, lr, steps):
    return descent_right(grad, x0, lr, steps)[-1]


def descent_one_short(grad, x0, lr, steps):
    return descent_right(grad, x0, lr, steps)[:-1] if steps else []


def descent_without_x0(grad, x0, lr, steps):
    return descent_right(grad, x0, lr, steps)[1:]


def descent_one_too_many(grad, x0, lr, steps):
    return descent_right(grad, x0, lr, steps + 1)


def descent_ascent(grad, x0, lr, steps):
    return descent_right(lambda x: -grad(x), x0, lr, steps)


def descent_no_lr(grad, x0, lr, steps):
    return descent_right(grad, x0, 1.0, steps)


def descent_frozen_gradient(grad, x0, lr, steps):
    path = [x0]
    for _ in range(steps):
        path.append(path[-1] - lr * grad(x0))
    return path


def descent_same_tensor(grad, x0, lr, steps):
    x = torch.tensor(float(x0))
    path = [x]
    for _ in range(steps):
        x -= lr * grad(x)
        path.append(x)
    return path


@pytest.mark.parametrize("attempt, words", [
    (descent_final_only, ["one number", "whole list"]),
    (descent_one_short, ["one value short"]),
    (descent_without_x0, ["start with x0"]),
    (descent_one_too_many, ["one value too many"]),
    (descent_ascent, ["gradient ascent"]),
    (descent_no_lr, ["learning rate is missing"]),
    (descent_frozen_gradient, ["not always at x0"]),
    (descent_same_tensor, ["same number", "float(x)"]),
    (lambda grad, x0, lr, steps: None, ["returned None"]),
    (lambda grad, x0, lr, steps: [x0, "x1"], ["must be a number"]),
    (stub, ["not done yet"]),
    (lambda grad, x0, lr, steps: [grad(x0, lr)], ["TypeError"]),
])
def test_gradient_descent_mistakes(attempt, words):
    assert_fails(check_gradient_descent, attempt, *words)


def test_gradient_descent_right():
    assert_passes(check_gradient_descent, descent_right)

    def with_tensors(grad, x0, lr, steps):
        x = torch.tensor(float(x0))
        path = [x.item()]
        for _ in range(steps):
            x = x - lr * grad(x)
            path.append(x.item())
        return path

    assert_passes(check_gradient_descent, with_tensors)
    assert_passes(check_gradient_descent, lambda *args: np.array(descent_right(*args)))


# --------------------------------------------------------------------------- 01.8

def sgd_right(params, lr):
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad.zero_()


def sgd_without_no_grad(params, lr):
    for p in params:
        p -= lr * p.grad
        p.grad.zero_()


def sgd_rebinds(params, lr):
    with torch.no_grad():
        for p in params:
            p = p - lr * p.grad
            p.grad = None


def sgd_returns_new(params, lr):
    with torch.no_grad():
        return [p - lr * p.grad for p in params]


def sgd_keeps_grads(params, lr):
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad


def sgd_uphill(params, lr):
    with torch.no_grad():
        for p in params:
            p += lr * p.grad
            p.grad.zero_()


def sgd_detaches(params, lr):
    for p in params:
        p.requires_grad_(False)
        p -= lr * p.grad
        p.grad = None


def sgd_zeroes_first(params, lr):
    with torch.no_grad():
        for p in params:
            p.grad.zero_()
            p -= lr * p.grad


def sgd_double_lr(params, lr):
    sgd_right(params, 2 * lr)


@pytest.mark.parametrize("attempt, words", [
    (sgd_without_no_grad, ["in-place operation", "torch.no_grad()"]),
    (sgd_rebinds, ["did not change", "new tensor"]),
    (sgd_returns_new, ["did not change", "Returning new tensors"]),
    (sgd_keeps_grads, ["still holds its gradient", "zero_()"]),
    (sgd_uphill, ["uphill"]),
    (sgd_detaches, ["no longer requires grad"]),
    (sgd_zeroes_first, ["cleared before it was used"]),
    (sgd_double_lr, ["not by -lr·grad"]),
    (stub, ["not done yet"]),
])
def test_sgd_step_mistakes(attempt, words):
    assert_fails(check_sgd_step, attempt, *words)


def test_sgd_step_right():
    assert_passes(check_sgd_step, sgd_right)

    def with_none(params, lr):
        with torch.no_grad():
            for p in params:
                p.sub_(lr * p.grad)
        for p in params:
            p.grad = None

    assert_passes(check_sgd_step, with_none)


def test_every_checker_prints_its_feedback(capsys):
    check_image_batch(stub)
    assert "❌ Exercise 01.1" in capsys.readouterr().out


# --------------------------------------------------------------------------- the mistakes catalogues

from checker_catalogue import assert_case, hostile, ids, mistake as wrong, right  # noqa: E402

IMAGE_BATCH_CATALOGUE = [
    wrong("channels last", lambda: torch.zeros(8, 32, 32, 3), "channels are last"),
    wrong("batch second", lambda: torch.zeros(3, 8, 32, 32), "batch dimension must come first"),
    wrong("one image", lambda: torch.zeros(3, 32, 32), "one image"),
    wrong("grey", lambda: torch.zeros(8, 32, 32), "grey"),
    wrong("flattened", lambda: torch.zeros(8, 3072), "flattened"),
    wrong("float64", lambda: torch.zeros(8, 3, 32, 32, dtype=torch.float64), "float64"),
    wrong("integers", lambda: torch.zeros(8, 3, 32, 32, dtype=torch.int64), "integers"),
    wrong("random values", lambda: torch.rand(8, 3, 32, 32), "not all zeros"),
    wrong("NumPy", lambda: np.zeros((8, 3, 32, 32), dtype=np.float32), "PyTorch tensor"),
    wrong("sizes in another order", lambda: torch.zeros(32, 3, 8, 32), "wrong order"),
    hostile("None", lambda: None, "returned None"),
    hostile("the stub", stub, "not done yet"),
    hostile("a crash", lambda: torch.zeros(8, 3, 32, 32) @ torch.zeros(3), "RuntimeError"),
    hostile("a string", lambda: "zeros", "PyTorch tensor"),
    hostile("NaN", lambda: torch.full((8, 3, 32, 32), float("nan")), "not all zeros"),
    right("torch.zeros", lambda: torch.zeros(8, 3, 32, 32)),
    right("zeros from NumPy, converted", lambda: torch.from_numpy(np.zeros((8, 3, 32, 32), dtype=np.float32))),
    right("a tuple shape and dtype", lambda: torch.zeros((8, 3, 32, 32), dtype=torch.float32)),
    right("new_zeros, requires_grad", lambda: torch.empty(0).new_zeros(8, 3, 32, 32).requires_grad_()),
]

FLATTEN_CATALOGUE = [
    wrong("view after a permute", lambda images: images.view(images.shape[0], -1), "view size is not compatible"),
    wrong("flatten everything", lambda images: images.flatten(), "1-D"),
    wrong("8 written in", lambda images: images.reshape(8, -1), "don't hard-code sizes"),
    wrong("3072 written in", lambda images: images.reshape(-1, 3072), "don't hard-code sizes"),
    wrong("rows and columns swapped", lambda images: images.reshape(-1, images.shape[0]), "swapped"),
    wrong("channels last first", lambda images: images.permute(0, 2, 3, 1).reshape(images.shape[0], -1),
          "channels-last order"),
    wrong("NumPy", lambda images: images.reshape(images.shape[0], -1).numpy(), "must return a tensor"),
    wrong("changed in place", lambda images: images.flatten(start_dim=1).mul_(1).add_(1), "changed its input"),
    wrong("transposed rows", lambda images: images.reshape(images.shape[0], -1).flip(1), "not the image's values"),
    hostile("None", lambda images: None, "forget `return`"),
    hostile("the stub", stub, "not done yet"),
    hostile("a list", lambda images: images.reshape(images.shape[0], -1).tolist(), "must return a tensor"),
    hostile("NaN", lambda images: torch.full((images.shape[0], images[0].numel()), float("nan")),
            "not the image's values"),
    hostile("the first batch's shape typed in", lambda images: torch.zeros(8, 3072), "shape"),
    right("reshape", lambda images: images.reshape(images.shape[0], -1)),
    right("flatten(start_dim=1)", lambda images: images.flatten(start_dim=1)),
    right("contiguous().view, float64", lambda images: images.contiguous().view(len(images), -1).double()),
]

STANDARDIZE_CATALOGUE = [
    wrong("0 / 0 on a constant column", lambda X: (X - X.mean(dim=0)) / X.std(dim=0, correction=0), "NaN"),
    wrong("n - 1", lambda X: (X - X.mean(dim=0)) / X.std(dim=0).clamp_min(1e-12), "n - 1"),
    wrong("per row", lambda X: (X - X.mean(dim=1, keepdim=True))
          / X.std(dim=1, correction=0, keepdim=True).clamp_min(1e-12), "each row"),
    wrong("no division", lambda X: X - X.mean(dim=0), "did not divide"),
    wrong("the means only", lambda X: X.mean(dim=0), "same shape"),
    wrong("in place", standardize_in_place, "changed X itself"),
    wrong("NumPy", lambda X: standardize_right(X).numpy(), "must return a tensor"),
    wrong("twice too big", lambda X: standardize_right(X) * 2, "differ from the loop"),
    wrong("divided by the variance", lambda X: (X - X.mean(dim=0)) / X.var(dim=0, correction=0).clamp_min(1e-12),
          "differ from the loop"),
    hostile("None", lambda X: None, "forget `return`"),
    hostile("the stub", stub, "not done yet"),
    hostile("a crash", lambda X: X @ torch.ones(99), "RuntimeError"),
    hostile("NaN", lambda X: torch.full_like(X, float("nan")), "NaN"),
    hostile("zeros", lambda X: torch.zeros_like(X), "differ from the loop"),
    right("torch.where on std", standardize_right),
    right("the loop itself", standardize_loop),
    right("float64 with clamp", lambda X: ((X.double() - X.double().mean(0))
                                           / torch.where(X.double().std(0, unbiased=False) > 0,
                                                         X.double().std(0, unbiased=False), 1.0))),
]

GRADS_BY_HAND_CATALOGUE = [
    wrong("swapped", lambda x, y, z: (x + y, x + y, z), "swapped"),
    wrong("local derivatives only", lambda x, y, z: (1.0, 1.0, x + y), "multiply by df/dq = z"),
    wrong("x * y", lambda x, y, z: (z, z, x * y), "df/dz is wrong"),
    wrong("y for df/dy", lambda x, y, z: (z, y, x + y), "df/dy is wrong"),
    wrong("two values", lambda x, y, z: (z, z), "three values"),
    wrong("a string", lambda x, y, z: (z, z, "x + y"), "df_dz must be a number"),
    wrong("f itself", lambda x, y, z: ((x + y) * z,) * 3, "wrong"),
    wrong("a dict", lambda x, y, z: {"x": z, "y": z, "z": x + y}, "three values"),
    hostile("None", lambda x, y, z: None, "returned None"),
    hostile("the stub", stub, "not done yet"),
    hostile("a crash", lambda x, y, z: (z / 0, z, x + y), "ZeroDivisionError"),
    hostile("NaN", lambda x, y, z: (math.nan,) * 3, "wrong"),
    hostile("the shown example typed in", lambda x, y, z: (-4.0, -4.0, 3.0), "wrong"),
    right("floats", lambda x, y, z: (z, z, x + y)),
    right("tensors", lambda x, y, z: (torch.tensor(z), torch.tensor(z), torch.tensor(x + y))),
    right("a NumPy array", lambda x, y, z: list(np.array([z, z, x + y]))),
]


def autograd_alias(x, y, z):
    from torch.autograd import grad as g
    x, y, z = (torch.tensor(v, requires_grad=True) for v in (x, y, z))
    return g((x + y) * z, (x, y, z))


def autograd_float64(x, y, z):
    x, y, z = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, y, z))
    ((x + y) * z).backward()
    return x.grad, y.grad, z.grad


AUTOGRAD_CATALOGUE = [
    wrong("no requires_grad", autograd_no_requires_grad, "does not require grad"),
    wrong("z forgotten", autograd_forgets_z, "z.grad is None"),
    wrong("backward twice", autograd_backward_twice, "a second time"),
    wrong("gradients accumulate", autograd_accumulates, "accumulate"),
    wrong("the inputs returned", autograd_returns_inputs, "not x.grad"),
    wrong("numbers", autograd_returns_numbers, "should be the tensor x.grad"),
    wrong("by hand, no autograd", lambda x, y, z: (torch.tensor(z), torch.tensor(z), torch.tensor(x + y)),
          "autograd never ran"),
    wrong("integers", autograd_integers, "floating point"),
    hostile("None", lambda x, y, z: None, "returned None"),
    hostile("the stub", stub, "not done yet"),
    hostile("a string", lambda x, y, z: "grads", "three values"),
    hostile("NaN", lambda x, y, z: (torch.tensor(math.nan),) * 3, "x.grad"),
    hostile("the first example typed in", lambda x, y, z: (torch.tensor(-4.0), torch.tensor(-4.0), torch.tensor(3.0)),
            "autograd never ran"),
    right("backward", autograd_right),
    right("torch.autograd.grad under another name", autograd_alias),
    right("float64", autograd_float64),
]


def sigmoid_net_with_backward(x, y, w1, b1, w2):
    w1, b1, w2 = (torch.tensor(v, requires_grad=True) for v in (w1, b1, w2))
    ((w2 * torch.sigmoid(w1 * x + b1) - y) ** 2).backward()
    return w1.grad, b1.grad, w2.grad


def sigmoid_net_with_grad_alias(x, y, w1, b1, w2):
    from torch.autograd import grad as g
    w1, b1, w2 = (torch.tensor(v, requires_grad=True) for v in (w1, b1, w2))
    return g((w2 * torch.sigmoid(w1 * x + b1) - y) ** 2, (w1, b1, w2))


def sigmoid_net_numpy(x, y, w1, b1, w2):
    h = 1 / (1 + np.exp(-(w1 * x + b1)))
    d = 2 * (w2 * h - y)
    return np.float32(d * w2 * h * (1 - h) * x), np.float64(d * w2 * h * (1 - h)), d * h


SIGMOID_NET_CATALOGUE = [
    wrong("no factor 2", mistake(lambda x, y, w1, b1, w2, h, e: (e * w2 * h * (1 - h) * x, e * w2 * h * (1 - h),
                                                                  e * h)), "factor 2"),
    wrong("sign flipped", mistake(lambda x, y, w1, b1, w2, h, e: (-2 * e * w2 * h * (1 - h) * x,
                                                                   -2 * e * w2 * h * (1 - h), -2 * e * h)),
          "sign is flipped"),
    wrong("σ as its own derivative", mistake(lambda x, y, w1, b1, w2, h, e: (2 * e * w2 * h * x, 2 * e * w2 * h,
                                                                              2 * e * h)), "σ(a)(1 - σ(a))"),
    wrong("tanh's derivative", mistake(lambda x, y, w1, b1, w2, h, e: (2 * e * w2 * (1 - h * h) * x,
                                                                        2 * e * w2 * (1 - h * h), 2 * e * h)),
          "tanh's derivative"),
    wrong("x in dL/db1", mistake(lambda x, y, w1, b1, w2, h, e: (2 * e * w2 * h * (1 - h) * x,) * 2 + (2 * e * h,)),
          "no factor x"),
    wrong("w2 forgotten", mistake(lambda x, y, w1, b1, w2, h, e: (2 * e * h * (1 - h) * x, 2 * e * h * (1 - h),
                                                                   2 * e * h)), "multiplied by w2"),
    wrong("dL/dw2 without h", mistake(lambda x, y, w1, b1, w2, h, e: (2 * e * w2 * h * (1 - h) * x,
                                                                       2 * e * w2 * h * (1 - h), 2 * e)),
          "dL/dw2 is wrong"),
    wrong("autograd, backward", sigmoid_net_with_backward, "called autograd"),
    wrong("autograd.grad under another name", sigmoid_net_with_grad_alias, "called autograd"),
    wrong("two numbers", lambda x, y, w1, b1, w2: (1.0, 2.0), "three numbers"),
    wrong("None inside", lambda x, y, w1, b1, w2: (1.0, None, 2.0), "dL/db1 must be a number"),
    hostile("None", lambda x, y, w1, b1, w2: None, "three numbers"),
    hostile("the stub", stub, "not done yet"),
    hostile("a crash", lambda x, y, w1, b1, w2: math.log(-x), "ValueError"),
    hostile("NaN", lambda x, y, w1, b1, w2: (math.nan,) * 3, "wrong"),
    hostile("the first case typed in", lambda x, y, w1, b1, w2: sigmoid_net_by_hand(1.5, 0.2, 0.8, -0.3, 1.2),
            "wrong"),
    right("by hand", sigmoid_net_by_hand),
    right("tensors", lambda *a: tuple(torch.tensor(g) for g in sigmoid_net_by_hand(*a))),
    right("NumPy scalars", sigmoid_net_numpy),
]


def descent_overflowing(grad, x0, lr, steps):
    path = [x0]
    for _ in range(steps):
        path.append(path[-1] - grad(path[-1]))  # the learning rate missing: x**4 blows up to inf
    return path


def descent_generator(grad, x0, lr, steps):
    x = x0
    yield x
    for _ in range(steps):
        x -= lr * grad(x)
        yield x


DESCENT_CATALOGUE = [
    wrong("the last x only", descent_final_only, "whole list"),
    wrong("one short", descent_one_short, "one value short"),
    wrong("no x0", descent_without_x0, "start with x0"),
    wrong("one too many", descent_one_too_many, "one value too many"),
    wrong("ascent", descent_ascent, "gradient ascent"),
    wrong("no lr", descent_no_lr, "learning rate is missing"),
    wrong("no lr, overflowing on x⁴", descent_overflowing, "learning rate is missing"),
    wrong("gradient at x0 only", descent_frozen_gradient, "not always at x0"),
    wrong("one tensor appended", descent_same_tensor, "same number"),
    wrong("a string inside", lambda grad, x0, lr, steps: [x0, "x1"], "must be a number"),
    hostile("None", lambda grad, x0, lr, steps: None, "returned None"),
    hostile("the stub", stub, "not done yet"),
    hostile("a crash", lambda grad, x0, lr, steps: [grad(x0, lr)], "TypeError"),
    hostile("NaN", lambda grad, x0, lr, steps: [math.nan] * (steps + 1), "NaN"),
    hostile("the first case typed in", lambda grad, x0, lr, steps: [0.0, 0.6, 1.08, 1.464, 1.7712, 2.01696],
            "values"),
    right("a list", descent_right),
    right("NumPy array", lambda *args: np.array(descent_right(*args))),
    right("a generator", descent_generator),
]


def sgd_with_data(params, lr):
    for p in params:
        p.data -= lr * p.grad.data
        p.grad = None


SGD_STEP_CATALOGUE = [
    wrong("outside no_grad", sgd_without_no_grad, "torch.no_grad()"),
    wrong("rebinds p", sgd_rebinds, "did not change"),
    wrong("returns new tensors", sgd_returns_new, "Returning new tensors"),
    wrong("keeps the grads", sgd_keeps_grads, "still holds its gradient"),
    wrong("uphill", sgd_uphill, "uphill"),
    wrong("requires_grad switched off", sgd_detaches, "no longer requires grad"),
    wrong("zeroes first", sgd_zeroes_first, "cleared before it was used"),
    wrong("twice the lr", sgd_double_lr, "not by -lr·grad"),
    wrong("a fixed lr of 0.1", lambda params, lr: sgd_right(params, 0.1), "not by -lr·grad"),
    hostile("does nothing", lambda params, lr: None, "did not change"),
    hostile("the stub", stub, "not done yet"),
    hostile("a crash", lambda params, lr: params[0] @ params[1], "RuntimeError"),
    hostile("NaN", lambda params, lr: [p.data.fill_(math.nan) for p in params], "changed, but not"),
    hostile("the first update typed in", lambda params, lr: [p.data.copy_(torch.full_like(p, 0.4)) for p in params],
            "changed, but not"),
    hostile("returns a string, changes nothing", lambda params, lr: "done", "did not change"),
    right("in place under no_grad", sgd_right),
    right("sub_ then grad = None", lambda params, lr: [p.grad.zero_() for p in params if
                                                       (torch.no_grad().__enter__(), p.sub_(lr * p.grad),
                                                        torch.set_grad_enabled(True))]),
    right(".data", sgd_with_data),
]


@pytest.mark.parametrize("check, case", [
    *((check_image_batch, case) for case in IMAGE_BATCH_CATALOGUE),
    *((check_flatten_images, case) for case in FLATTEN_CATALOGUE),
    *((check_standardize_columns, case) for case in STANDARDIZE_CATALOGUE),
    *((check_grads_by_hand, case) for case in GRADS_BY_HAND_CATALOGUE),
    *((check_grads_with_autograd, case) for case in AUTOGRAD_CATALOGUE),
    *((check_sigmoid_net_grads, case) for case in SIGMOID_NET_CATALOGUE),
    *((check_gradient_descent, case) for case in DESCENT_CATALOGUE),
    *((check_sgd_step, case) for case in SGD_STEP_CATALOGUE),
], ids=[f"{name}-{case}" for name, catalogue in (
    ("01.1", IMAGE_BATCH_CATALOGUE), ("01.2", FLATTEN_CATALOGUE), ("01.3", STANDARDIZE_CATALOGUE),
    ("01.4", GRADS_BY_HAND_CATALOGUE), ("01.5", AUTOGRAD_CATALOGUE), ("01.6", SIGMOID_NET_CATALOGUE),
    ("01.7", DESCENT_CATALOGUE), ("01.8", SGD_STEP_CATALOGUE)) for case in ids(catalogue)])
def test_catalogue(check, case):
    assert_case(check, case)


CATALOGUES = {check_image_batch: IMAGE_BATCH_CATALOGUE, check_flatten_images: FLATTEN_CATALOGUE,
              check_standardize_columns: STANDARDIZE_CATALOGUE, check_grads_by_hand: GRADS_BY_HAND_CATALOGUE,
              check_grads_with_autograd: AUTOGRAD_CATALOGUE, check_sigmoid_net_grads: SIGMOID_NET_CATALOGUE,
              check_gradient_descent: DESCENT_CATALOGUE, check_sgd_step: SGD_STEP_CATALOGUE}


def test_replaying_a_diverging_mistake_never_crashes():
    from workshop_utils.checkers.tensors_autograd import _descent_mistakes
    replays = _descent_mistakes(lambda x: 4 * x ** 3, 1.0, 0.05, 10)  # no lr on x⁴: 1, -3, 105, ... overflow
    assert math.inf in next(path for hint, path in replays.items() if "learning rate" in hint)

    def wrong_only_on_x4(grad, x0, lr, steps):  # right on the first cases, then a different path: replays run
        path = descent_right(grad, x0, lr, steps)
        return path if grad(2.0) != 32.0 else [x0] + [v + 1 for v in path[1:]]

    assert_fails(check_gradient_descent, wrong_only_on_x4, "x_1 is wrong")
