"""Checker for notebook 03's softmax exercise: values, batches, the right dimension, and stability."""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from .core import AttemptError, Feedback, checker, failed, passed, probe_seed
from .forbidden import LOG_SOFTMAX, SOFTMAX, attempt_forbidding, merge
from .tensor_checks import tensor_problem

EXERCISE = "Exercise 03.4 (softmax)"

WORKED_EXAMPLE = torch.tensor([0.1, 1.0, 5.0])  # the worked example in the notebook
WORKED_EXAMPLE_SOFTMAX = (0.00726, 0.01786, 0.97488)

# Library softmaxes are noticed, whatever name they were imported under, while the attendee's function
# runs: the point is to write one.
SOFTMAX_SHORTCUTS: dict[str, Any] = merge(SOFTMAX, LOG_SOFTMAX)

_MAX_TRICK = ("subtract the largest logit before exp: softmax(z) = softmax(z - max(z)), because the "
              "common factor exp(-max) cancels between numerator and denominator. Then the largest "
              "exponent is exp(0) = 1: nothing overflows, and the sum is at least 1, so no 0/0.")


def _fmt(values: Any) -> str:
    """Numbers rounded to 5 decimals, as nested lists; big tensors by shape only."""
    if not torch.is_tensor(values):
        return repr(values)
    rounded = torch.round(values.detach().double(), decimals=5)
    if values.numel() > 15:
        return f"shape {tuple(values.shape)}, first row {rounded.reshape(-1, values.shape[-1])[0].tolist()}"
    return str(rounded.tolist())


def _cases(seed: int) -> list[tuple[str, Tensor]]:
    generator = torch.Generator().manual_seed(3)
    probe = torch.Generator().manual_seed(seed)
    rows, columns = (int(v) for v in torch.randint(2, 7, (2,), generator=probe))
    return [
        ("the worked example", WORKED_EXAMPLE.clone()),
        ("a 1-D vector of 5 logits", torch.randn(5, generator=generator) * 2),
        ("a batch of 4 rows of 3 logits (shape (4, 3))", torch.randn(4, 3, generator=generator) * 2),
        ("a batch of shape (2, 3, 5): softmax over the last dimension", torch.randn(2, 3, 5, generator=generator)),
        ("large logits [1000, 1001, 1002]", torch.tensor([1000.0, 1001.0, 1002.0])),
        ("very negative logits [-1000, -1001, -1002]", torch.tensor([-1000.0, -1001.0, -1002.0])),
        ("a batch mixing a large and a small row", torch.tensor([[1000.0, 1001.0, 1002.0], [-2.0, 0.0, 2.0]])),
        (f"a random probe (seed {seed}), shape ({rows}, {columns})", torch.randn(rows, columns, generator=probe) * 4),
    ]


def _one_max_for_the_batch(z: Tensor) -> Tensor:
    """The classic half-fix: subtracting the largest logit of the whole batch instead of each row's."""
    exponentials = (z - z.max()).exp()
    return exponentials / exponentials.sum(dim=-1, keepdim=True)


def _diagnose(z: Tensor, got: Tensor, expected: Tensor) -> tuple[str, str]:
    """A message and hint for a softmax that has the right shape and finite values but wrong numbers."""
    sums_to_one = lambda sums: torch.allclose(sums, torch.ones_like(sums), atol=1e-4)  # noqa: E731
    for dim in range(z.dim() - 1):
        if sums_to_one(got.sum(dim=dim)):
            where = "over the batch dimension (dim=0)" if dim == 0 else f"over dim={dim}"
            return (f"the values sum to 1 {where}, not over the last dimension.",
                    "each row (the last dimension) holds one example's logits: normalize over dim=-1, "
                    "which is the last dimension whatever the number of dimensions.")
    if z.dim() >= 2 and sums_to_one(got.sum()):
        return ("the whole batch sums to 1: you divided by one sum over every element.",
                "sum over the last dimension only, and keep it for broadcasting: .sum(dim=-1, keepdim=True).")
    sums = got.sum(dim=-1)
    if not sums_to_one(sums):
        return (f"the probabilities do not sum to 1 along the last dimension (sums: {_fmt(sums)}).",
                "divide exp(z) by its sum over the last dimension.")
    return ("wrong values.", "softmax(z)_i = exp(z_i) / sum_j exp(z_j), along the last dimension.")


@checker(EXERCISE)
def check_softmax(softmax: Callable[[Tensor], Tensor]) -> Feedback:
    """``softmax(z)`` must equal ``torch.softmax(z, dim=-1)`` on vectors, batches and huge logits, keep
    the shape, not change ``z`` in place, and be written without the library softmax."""
    for description, z in _cases(probe_seed()):
        given = z.clone()
        tried = f"softmax(z) for {description}: z = {_fmt(z)}"
        try:
            got = attempt_forbidding(EXERCISE, SOFTMAX_SHORTCUTS, softmax, given, tried=tried,
                                     why="write softmax yourself; the library's is what the checker compares with.",
                                     hint="exp(z - each row's max), divided by its sum over the last dimension.")
        except AttemptError as error:
            if "must match the size" in error.feedback.message:  # the sum lost its dimension
                error.feedback.hint = ("the row sums have shape (rows,), which does not line up with (rows, classes): "
                                       "sum with keepdim=True so they stay a column and divide row by row.")
            raise
        expected = torch.softmax(z, dim=-1)
        problem = tensor_problem(got, expected)
        if (z.dim() == 2 and z.abs().max() >= 1000 and (problem is None or problem.kind == "nonfinite")
                and torch.allclose(got.double(), _one_max_for_the_batch(z).double(), equal_nan=True)):
            return failed(EXERCISE, "the small row came out wrong: you subtracted ONE max for the whole batch.",
                          tried=tried, expected=_fmt(expected), got=_fmt(got),
                          hint="subtract each row's own max: z.max(dim=-1, keepdim=True).values. With one "
                               "global max, every exp in a row far below it underflows to 0 (and 0/0 is nan).")
        if problem is not None:
            if problem.kind == "nonfinite" and z.abs().max() >= 1000:
                overflow = "exp(1000) is inf in float32, and inf/inf is nan" if z.max() > 0 else \
                    "exp(-1000) underflows to 0, and 0/0 is nan"
                return failed(EXERCISE, f"{problem.message[:-1]} for huge logits: {overflow}.", tried=tried,
                              expected=_fmt(expected), got=_fmt(got), hint=_MAX_TRICK)
            if problem.kind == "shape" and z.dim() >= 2:
                return failed(EXERCISE, problem.message, tried=tried,
                              hint="keep the summed dimension with keepdim=True so the division broadcasts "
                                   "row by row, and return a tensor shaped like z.")
            return failed(EXERCISE, problem.message, tried=tried, hint=problem.hint)
        if not torch.equal(given, z):
            return failed(EXERCISE, "your softmax changed its input z in place.", tried=tried,
                          hint="write z = z - z.max(...) (a new tensor), not z -= ... or z.sub_(...).")
        if not torch.allclose(got.double(), expected.double(), rtol=1e-4, atol=1e-6):
            message, hint = _diagnose(z, got, expected)
            return failed(EXERCISE, message, tried=tried, expected=_fmt(expected), got=_fmt(got), hint=hint)
    return passed(EXERCISE, "softmax([0.1, 1, 5]) = [0.00726, 0.01786, 0.97488], the worked example; batches, "
                            "the last dimension, huge logits and a random probe all work.")
