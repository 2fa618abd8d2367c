"""Linear classifiers from scratch: the perceptron and logistic regression, with hand-written gradients.

Notebook 02 has attendees write these pieces themselves; the versions here are the library's
references. Later cells of the notebook use them so that they still run while an exercise is unfinished,
and the checkers compare the attendee's answers with them.

Conventions, the same everywhere in the lesson:

- points ``X`` are an ``N x d`` float tensor, labels ``y`` are 0 or 1 (any dtype);
- the perceptron's output is the **step** of the score: 1 when ``w·x + b >= 0``, else 0 (the slides'
  ``sign`` gives -1/+1 instead; with 0/1 labels the step is the same model, and the learning rule is
  the same up to a factor 2 that the learning rate absorbs);
- logistic regression predicts ``p = sigmoid(w·x + b)``, the probability of class 1, and is trained
  on the mean log loss (binary cross-entropy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import torch

from .descent import CONVERGES, DIVERGES, TOO_SLOW

#: Probabilities are clamped into [EPSILON, 1 - EPSILON] before taking logs. 1e-7, not smaller: in
#: float32, ``1 - 1e-12`` rounds to exactly 1 and ``log(1 - p)`` would still be ``-inf``.
EPSILON = 1e-7

# Run labels: the words of notebook 01's gradient-descent explorer, but one. 01 sees the path of x and
# can tell "oscillates (but converges)"; a loss curve only shows that the loss goes up and down.
OSCILLATES = "oscillates"
RUN_LABELS = (TOO_SLOW, CONVERGES, OSCILLATES, DIVERGES)


# --------------------------------------------------------------------------------------------- perceptron

def perceptron_output(X: torch.Tensor, w: torch.Tensor, b: float | torch.Tensor) -> torch.Tensor:
    """The perceptron's outputs for the rows of ``X``: 1.0 where ``w·x + b >= 0``, else 0.0 (float, shape (N,))."""
    scores = torch.as_tensor(X, dtype=torch.float32) @ torch.as_tensor(w, dtype=torch.float32).reshape(-1)
    return (scores + float(b) >= 0).float()


@dataclass
class PerceptronRun:
    """What :func:`fit_perceptron` learned, and how it got there.

    ``mistakes_per_epoch[k]`` is how many points epoch ``k`` got wrong (and so updated on);
    ``weights_per_epoch[k]`` and ``bias_per_epoch[k]`` are the line at the end of epoch ``k``.
    """

    weights: torch.Tensor
    bias: float
    mistakes_per_epoch: list[int]
    weights_per_epoch: list[torch.Tensor] = field(repr=False)
    bias_per_epoch: list[float] = field(repr=False)

    @property
    def converged(self) -> bool:
        """True when the last epoch made no mistake: every point is on its side of the line."""
        return bool(self.mistakes_per_epoch) and self.mistakes_per_epoch[-1] == 0


def fit_perceptron(X: torch.Tensor, y: torch.Tensor, lr: float = 1.0, epochs: int = 10) -> PerceptronRun:
    """The perceptron learning algorithm, point by point, in the order given (no shuffling).

    Starts from ``w = 0, b = 0``. For each point: output = step(w·x + b); if it differs from the
    target, ``w <- w + lr (target - output) x`` and ``b <- b + lr (target - output)``. All ``epochs``
    passes run (once a pass makes no mistake, nothing changes any more).
    """
    X = torch.as_tensor(X, dtype=torch.float32)
    targets = torch.as_tensor(y).float().reshape(-1)
    if X.dim() != 2 or len(X) != len(targets):
        raise ValueError(f"X must be N x d with one label per row; got X {tuple(X.shape)}, y {tuple(targets.shape)}.")
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}.")
    w = torch.zeros(X.shape[1])
    b = 0.0
    run = PerceptronRun(w, b, [], [], [])
    for _ in range(epochs):
        mistakes = 0
        for x_i, target in zip(X, targets):
            output = 1.0 if float(w @ x_i) + b >= 0 else 0.0
            error = float(target) - output  # 0 when right, +1 or -1 when wrong
            if error != 0:
                w = w + lr * error * x_i
                b = b + lr * error
                mistakes += 1
        run.mistakes_per_epoch.append(mistakes)
        run.weights_per_epoch.append(w.clone())
        run.bias_per_epoch.append(b)
    run.weights, run.bias = w, b
    return run


# ------------------------------------------------------------------------------------ logistic regression

def sigmoid(z: torch.Tensor) -> torch.Tensor:
    """``1 / (1 + exp(-z))`` without overflow: ``exp`` only ever sees a number <= 0.

    For ``z >= 0`` it computes ``1 / (1 + e)``, for ``z < 0`` the equal ``e / (1 + e)``, with
    ``e = exp(-|z|)`` in (0, 1]. Both branches stay finite, so the gradient is finite too (``torch.where``
    would pass a NaN from the branch it did not pick into the gradient).
    """
    z = torch.as_tensor(z)
    positive = z >= 0
    e = torch.exp(torch.where(positive, -z, z))
    return torch.where(positive, 1 / (1 + e), e / (1 + e))


def log_loss(p: torch.Tensor, y: torch.Tensor, eps: float = EPSILON) -> torch.Tensor:
    """Mean binary cross-entropy of probabilities ``p`` (of class 1) against labels ``y`` (0 or 1).

    ``-mean(y log p + (1 - y) log(1 - p))``; ``p`` is clamped into ``[eps, 1 - eps]`` first so that a
    confident wrong answer costs a lot (``-log(eps)`` is about 16) instead of infinity.
    """
    p = torch.as_tensor(p).clamp(eps, 1 - eps)
    y = torch.as_tensor(y, dtype=p.dtype).reshape(p.shape)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()


def log_loss_gradients(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: float | torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradient of the mean log loss of ``p = sigmoid(X w + b)``: ``(X^T (p - y) / n, mean(p - y))``.

    ``w`` has shape (d,), and so has the returned ``grad_w``; ``grad_b`` is a 0-d tensor.
    """
    X = torch.as_tensor(X, dtype=torch.float32)
    w = torch.as_tensor(w, dtype=X.dtype)
    y = torch.as_tensor(y, dtype=X.dtype).reshape(-1)
    error = sigmoid(X @ w + b) - y  # dL/dz_i, times n
    return X.T @ error / len(y), error.mean()


def accuracy(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: float | torch.Tensor) -> float:
    """Share of points on their class's side: predicted class 1 where ``w·x + b >= 0`` (that is p >= 0.5)."""
    predicted = perceptron_output(X, w, b)
    return (predicted == torch.as_tensor(y).float().reshape(-1)).float().mean().item()


@dataclass
class LogisticRun:
    """The history of :func:`fit_logistic_regression`.

    ``losses[k]`` is the mean log loss on the **whole** data set after ``k`` steps (``losses[0]``: before
    the first step), and ``examples_seen[k]`` how many examples the gradients of those ``k`` steps read:
    the cost of training so far. Evaluating the loss for the plot is not counted.
    """

    lr: float
    batch_size: int | None
    losses: list[float]
    examples_seen: list[int]
    weights: torch.Tensor
    bias: float

    @property
    def steps(self) -> int:
        return len(self.losses) - 1

    @property
    def final_loss(self) -> float:
        return self.losses[-1]

    def examples_to_reach(self, loss: float) -> int | None:
        """Examples read before the full-data loss first got to ``loss`` or below; None if it never did."""
        for seen, value in zip(self.examples_seen, self.losses):
            if value <= loss:
                return seen
        return None

    def steps_to_reach(self, loss: float) -> int | None:
        """Steps taken before the full-data loss first got to ``loss`` or below; None if it never did."""
        for step, value in enumerate(self.losses):
            if value <= loss:
                return step
        return None


def fit_logistic_regression(X: torch.Tensor, y: torch.Tensor, lr: float, steps: int, batch_size: int | None = None,
                            seed: int = 0, init: tuple[torch.Tensor, float | torch.Tensor] | None = None
                            ) -> LogisticRun:
    """Train ``p = sigmoid(X w + b)`` with gradient descent, using the hand-written gradient.

    ``batch_size=None`` is full-batch gradient descent: every step reads all N examples. An integer is
    mini-batch SGD: each step reads ``batch_size`` examples, taken in order from a shuffle of the data
    that is redrawn (seeded by ``seed``) whenever fewer than ``batch_size`` unread examples remain, so
    every mini-batch has the same size. ``init=(w, b)`` sets the starting point (default zeros).
    """
    X = torch.as_tensor(X, dtype=torch.float32)
    y = torch.as_tensor(y, dtype=torch.float32).reshape(-1)
    n = len(y)
    if X.dim() != 2 or len(X) != n:
        raise ValueError(f"X must be N x d with one label per row; got X {tuple(X.shape)}, y {tuple(y.shape)}.")
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}.")
    if batch_size is not None and not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be between 1 and {n} (or None for full batch), got {batch_size}.")
    if init is None:
        w, b = torch.zeros(X.shape[1]), torch.zeros(())
    else:
        w = torch.as_tensor(init[0], dtype=torch.float32).reshape(-1).clone()
        b = torch.as_tensor(init[1], dtype=torch.float32).reshape(()).clone()
    generator = torch.Generator().manual_seed(seed)
    order, position = torch.randperm(n, generator=generator), 0
    losses = [log_loss(sigmoid(X @ w + b), y).item()]
    examples_seen = [0]
    for _ in range(steps):
        if batch_size is None:
            X_batch, y_batch = X, y
        else:
            if position + batch_size > n:
                order, position = torch.randperm(n, generator=generator), 0
            chosen = order[position:position + batch_size]
            position += batch_size
            X_batch, y_batch = X[chosen], y[chosen]
        grad_w, grad_b = log_loss_gradients(X_batch, y_batch, w, b)
        w, b = w - lr * grad_w, b - lr * grad_b
        losses.append(log_loss(sigmoid(X @ w + b), y).item())
        examples_seen.append(examples_seen[-1] + len(y_batch))
    return LogisticRun(float(lr), batch_size, losses, examples_seen, w, float(b))


def classify_training_run(losses: Sequence[float], *, best_loss: float | None = None,
                          oscillation: float = 0.05, slow: float = 0.005, gap: float = 0.05) -> str:
    """How a full-batch training run went, from its loss curve: one of ``RUN_LABELS``.

    With ``drop`` the largest improvement on the starting loss (``losses[0] - min(losses)``):

    - ``"diverges"``: a loss is not finite, or the run ends worse than it started;
    - ``"oscillates"``: the loss goes up and down: its rises add up to more than ``oscillation`` x
      ``drop`` (gradient descent with a small enough step only ever goes down);
    - ``"too slow"``: still clearly going down at the end. Without ``best_loss``: the last 10% of the
      steps still gained more than ``slow`` x ``drop``. With ``best_loss`` (the lowest loss there is): the
      final loss is still more than ``gap`` of the way from ``best_loss`` back to the start;
    - ``"converges"``: otherwise, it has settled.

    Meant for full-batch gradient descent: a mini-batch run's curve jiggles by design.
    """
    values = [float(v) for v in losses]
    if len(values) < 2:
        raise ValueError("a loss curve needs at least two values: before and after one step.")
    if not all(math.isfinite(v) for v in values):
        return DIVERGES
    start, end = values[0], values[-1]
    if end > start + 1e-9 * max(1.0, abs(start)):
        return DIVERGES
    drop = start - min(values)
    if drop <= 1e-12:
        return TOO_SLOW  # flat: lr so small (or zero) that nothing happened
    rises = sum(max(0.0, after - before) for before, after in zip(values, values[1:]))
    if rises > oscillation * drop:
        return OSCILLATES
    if best_loss is not None:
        return TOO_SLOW if end - best_loss > gap * (start - best_loss) else CONVERGES
    tail = max(1, (len(values) - 1) // 10)
    return TOO_SLOW if values[-1 - tail] - end > slow * drop else CONVERGES
