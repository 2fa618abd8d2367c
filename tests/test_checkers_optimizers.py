"""Exercise 03.6's checker (SGD with momentum by hand) against the right answer and typical mistakes."""

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
