"""Exercise 03.8's checker (SGD with momentum by hand) against the right answer and typical mistakes."""

import pytest
import torch

from workshop_utils.checkers.optimizers import check_momentum_descent


def momentum_loop(update, *, velocity_in_loop=False, use_backward=False, keep_start=True, copy_points=True):
    """A momentum_descent built from one ``update(theta, velocity, grad, lr, momentum) -> velocity`` rule
    (which moves theta in place) and a few loop-level mistakes."""

    def momentum_descent(loss_fn, start, lr, momentum, steps):
        theta = torch.tensor(start, requires_grad=True)
        velocity = torch.zeros(2)
        path = [theta.detach().clone()] if keep_start else []
        for _ in range(steps):
            if velocity_in_loop:
                velocity = torch.zeros(2)  # forgets the previous steps
            if use_backward:
                loss_fn(theta).backward()  # ... and never clears theta.grad
                grad = theta.grad.clone()
            else:
                (grad,) = torch.autograd.grad(loss_fn(theta), theta)
            with torch.no_grad():
                velocity = update(theta, velocity, grad, lr, momentum)
            path.append(theta.detach().clone() if copy_points else theta)
        return torch.stack(path) if copy_points else path, velocity

    return momentum_descent


def torch_rule(theta, velocity, grad, lr, momentum):
    velocity = momentum * velocity + grad
    theta -= lr * velocity
    return velocity


def wrong_sign(theta, velocity, grad, lr, momentum):
    velocity = momentum * velocity + grad
    theta += lr * velocity
    return velocity


def dampened(theta, velocity, grad, lr, momentum):
    velocity = momentum * velocity + (1 - momentum) * grad
    theta -= lr * velocity
    return velocity


def stale_velocity(theta, velocity, grad, lr, momentum):
    theta -= lr * velocity
    return momentum * velocity + grad


def lr_inside(theta, velocity, grad, lr, momentum):
    velocity = momentum * velocity - lr * grad
    theta += velocity
    return velocity


def hard_coded_momentum(theta, velocity, grad, lr, momentum):
    return torch_rule(theta, velocity, grad, lr, 0.9)


def never_moves(theta, velocity, grad, lr, momentum):
    return momentum * velocity + grad


def only_the_path(loss_fn, start, lr, momentum, steps):
    return momentum_loop(torch_rule)(loss_fn, start, lr, momentum, steps)[0]


def new_theta_without_grad(loss_fn, start, lr, momentum, steps):
    theta = torch.tensor(start, requires_grad=True)
    velocity = torch.zeros(2)
    path = [theta.detach().clone()]
    for _ in range(steps):
        (grad,) = torch.autograd.grad(loss_fn(theta), theta)
        velocity = momentum * velocity + grad
        with torch.no_grad():
            theta = theta - lr * velocity  # a new tensor, not tracked by autograd
        path.append(theta.detach().clone())
    return torch.stack(path), velocity


def stub(loss_fn, start, lr, momentum, steps):
    raise NotImplementedError("Exercise: replace this line with your solution")


def test_right_answer_passes():
    feedback = check_momentum_descent(momentum_loop(torch_rule))
    assert feedback, feedback.text()


def test_a_list_of_points_is_accepted_as_the_path():
    def as_list(loss_fn, start, lr, momentum, steps):
        path, velocity = momentum_loop(torch_rule)(loss_fn, start, lr, momentum, steps)
        return list(path), velocity

    assert check_momentum_descent(as_list)


@pytest.mark.parametrize("attempt, words", [
    (momentum_loop(torch_rule, velocity_in_loop=True), "plain SGD's"),
    (momentum_loop(wrong_sign), "wrong sign"),
    (momentum_loop(dampened), "dampening=0"),
    (momentum_loop(stale_velocity), "NEW velocity"),
    (momentum_loop(lr_inside), "keep lr inside the velocity"),
    (momentum_loop(torch_rule, use_backward=True), "ADDS to theta.grad"),
    (momentum_loop(hard_coded_momentum), "use the momentum argument"),
    (momentum_loop(never_moves), "theta never moves"),
    (momentum_loop(torch_rule, keep_start=False), "steps + 1"),
    (momentum_loop(torch_rule, copy_points=False), "theta.detach().clone()"),
    (only_the_path, "must return a pair"),
    (new_theta_without_grad, "does not track"),
    (stub, "not done yet"),
])
def test_wrong_answers_fail_with_the_right_explanation(attempt, words):
    feedback = check_momentum_descent(attempt)
    assert not feedback
    assert words in feedback.text(), feedback.text()


def test_a_path_mismatch_says_where_it_starts():
    text = check_momentum_descent(momentum_loop(stale_velocity)).text()
    assert "first difference after 1 step(s)" in text and "got [-3.0, 0.5]" in text


# ------------------------------------------------------------------ the mistakes catalogue

from checker_catalogue import assert_case, hostile, ids, mistake, right  # noqa: E402


def no_copy_anywhere(loss_fn, start, lr, momentum, steps):
    """Appends theta itself, the start included: every row is the final theta."""
    theta = torch.tensor(start, requires_grad=True)
    velocity, path = torch.zeros(2), [theta]
    for _ in range(steps):
        (grad,) = torch.autograd.grad(loss_fn(theta), theta)
        with torch.no_grad():
            velocity = momentum * velocity + grad
            theta -= lr * velocity
        path.append(theta)
    return torch.stack(path).detach(), velocity


def with_torch_optim(loss_fn, start, lr, momentum, steps):
    from torch.optim import SGD as Plain  # imported under another name
    theta = torch.tensor(start, requires_grad=True)
    optimizer = Plain([theta], lr=lr, momentum=momentum)
    path = [theta.detach().clone()]
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(theta).backward()
        optimizer.step()
        path.append(theta.detach().clone())
    return torch.stack(path), optimizer.state[theta]["momentum_buffer"]


def float64_rule(loss_fn, start, lr, momentum, steps):
    theta = torch.tensor(start, dtype=torch.float64)
    velocity, path = torch.zeros(2, dtype=torch.float64), [theta.clone()]
    for _ in range(steps):
        point = theta.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(loss_fn(point), point)
        velocity = momentum * velocity + grad
        theta = theta - lr * velocity
        path.append(theta.clone())
    return path, velocity  # a list of points is fine


def textbook_form_outside(loss_fn, start, lr, momentum, steps):
    """v = mu v + g, theta = theta - lr v, written with a new theta each step (not in place)."""
    theta = torch.tensor(start, requires_grad=True)
    velocity, path = torch.zeros(2), [theta.detach().clone()]
    for _ in range(steps):
        (grad,) = torch.autograd.grad(loss_fn(theta), theta)
        velocity = momentum * velocity + grad
        theta = (theta - lr * velocity).detach().requires_grad_(True)
        path.append(theta.detach().clone())
    return torch.stack(path), velocity


MOMENTUM_CATALOGUE = [
    mistake("velocity reset every step", momentum_loop(torch_rule, velocity_in_loop=True), "plain SGD's"),
    mistake("uphill", momentum_loop(wrong_sign), "wrong sign"),
    mistake("dampened", momentum_loop(dampened), "dampening=0"),
    mistake("stale velocity", momentum_loop(stale_velocity), "NEW velocity"),
    mistake("lr inside the velocity", momentum_loop(lr_inside), "keep lr inside the velocity"),
    mistake("backward without clearing grad", momentum_loop(torch_rule, use_backward=True), "ADDS to theta.grad"),
    mistake("momentum fixed at 0.9", momentum_loop(hard_coded_momentum), "use the momentum argument"),
    mistake("theta never moves", momentum_loop(never_moves), "theta never moves"),
    mistake("no start in the path", momentum_loop(torch_rule, keep_start=False), "steps + 1"),
    mistake("points appended without a copy", momentum_loop(torch_rule, copy_points=False), "theta.detach().clone()"),
    mistake("theta itself appended, start included", no_copy_anywhere, "you appended theta itself"),
    mistake("path only", only_the_path, "must return a pair"),
    mistake("new theta outside autograd", new_theta_without_grad, "does not track"),
    mistake("torch.optim.SGD under another name", with_torch_optim, "torch.optim.SGD"),
    hostile("None", lambda *args: None, "must return a pair"),
    hostile("the stub", stub, "not done yet"),
    hostile("a string", lambda *args: ("path", "velocity"), "one row (x, y) per point"),
    hostile("NaN path", lambda loss_fn, start, lr, momentum, steps: (torch.full((steps + 1, 2), float("nan")),
                                                                     torch.zeros(2)), "nan"),
    hostile("the first case's path typed in", lambda loss_fn, start, lr, momentum, steps: (
        torch.stack([torch.linspace(-3, 0, 26), torch.linspace(0.5, 0, 26)], dim=1), torch.zeros(2)),
        "differs from torch.optim.SGD"),
    right("torch's rule in place", momentum_loop(torch_rule)),
    right("float64, a list of points", float64_rule),
    right("a new theta each step", textbook_form_outside),
]


@pytest.mark.parametrize("case", MOMENTUM_CATALOGUE, ids=ids(MOMENTUM_CATALOGUE))
def test_momentum_catalogue(case):
    assert_case(check_momentum_descent, case)


CATALOGUES = {check_momentum_descent: MOMENTUM_CATALOGUE}
