"""Checker for notebook 03's cross-entropy exercise: the mean log loss from logits, written from scratch."""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from .core import AttemptError, Feedback, checker, failed, passed, probe_seed
from .forbidden import CROSS_ENTROPY, attempt_forbidding, merge
from .softmax import SOFTMAX_SHORTCUTS
from .tensor_checks import describe

EXERCISE = "Exercise 03.5 (cross-entropy from scratch)"

# Noticed whatever name they were imported under (torch.logsumexp stays allowed).
CROSS_ENTROPY_SHORTCUTS: dict[str, Any] = merge(SOFTMAX_SHORTCUTS, CROSS_ENTROPY)
_WHY = "write it from scratch; F.cross_entropy is what the checker compares with."
_INSTEAD = "log-probabilities: z - m - torch.logsumexp(z - m, dim=1, keepdim=True), then pick one entry per row."

_STABLE = ("Compute log-probabilities directly, never log(softmax): log_softmax(z) = z - m - log(sum(exp(z - m))) "
           "with m = z.max(dim=1, keepdim=True).values (or use torch.logsumexp(z, dim=1, keepdim=True)).")


def _cases(seed: int) -> list[tuple[str, Tensor, Tensor]]:
    generator = torch.Generator().manual_seed(7)
    probe = torch.Generator().manual_seed(seed)
    count, classes = int(torch.randint(2, 9, (), generator=probe)), int(torch.randint(2, 7, (), generator=probe))
    return [
        ("4 examples, 3 classes", torch.randn(4, 3, generator=generator) * 2, torch.tensor([0, 2, 1, 2])),
        ("1 example, 5 classes", torch.randn(1, 5, generator=generator), torch.tensor([3])),
        ("5 examples, 4 classes; class 3 never appears in the targets",
         torch.randn(5, 4, generator=generator), torch.tensor([0, 1, 1, 0, 2])),
        ("large logits: a confident mistake and a close call",
         torch.tensor([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 999.0]]), torch.tensor([2, 2])),
        ("float64 logits", torch.randn(3, 4, generator=generator, dtype=torch.float64), torch.tensor([1, 3, 0])),
        ("int32 targets (as NumPy and pandas often give labels)",
         torch.randn(4, 3, generator=generator), torch.tensor([2, 0, 1, 1], dtype=torch.int32)),
        (f"a random probe (seed {seed}): {count} examples, {classes} classes",
         torch.randn(count, classes, generator=probe) * 3, torch.randint(0, classes, (count,), generator=probe)),
    ]


def _show(tensor: Tensor) -> str:
    return str(torch.round(tensor.detach().double(), decimals=4).tolist())


def _tried(description: str, logits: Tensor, targets: Tensor) -> str:
    return (f"cross_entropy(logits, targets) with {description}: logits = {_show(logits)}, "
            f"targets = {targets.tolist()} ({str(targets.dtype).replace('torch.', '')})")


def _mistakes(logits: Tensor, targets: Tensor) -> list[tuple[Tensor, str, str]]:
    """Typical wrong answers for this input: (value, message, hint), each computed the wrong way on purpose."""
    log_probs = torch.log_softmax(logits.double(), dim=1)
    rows = torch.arange(len(targets))
    picked = log_probs[rows, targets]
    probabilities = log_probs.exp()
    classes = logits.shape[1]
    return [
        (-picked.sum(), "you summed the losses of the batch instead of averaging them.",
         "divide by the number of examples: .mean() instead of .sum(). A mean keeps the loss (and the learning "
         "rate) independent of the batch size."),
        (-probabilities[rows, targets].mean(), "you averaged -p (the probability), not -log p.",
         "cross-entropy is the mean of -log(probability of the true class): take the log."),
        (-log_probs[:, targets].mean(), "your indexing picked a whole block, not one entry per row.",
         "log_probs[:, targets] takes every row's columns `targets` (an N×N block). Pair each row with its own "
         "target: log_probs[torch.arange(N), targets]."),
        (-picked.mean() / classes, "the loss is divided by the number of classes too.",
         "with a one-hot matrix, sum over classes first (one term per example), then average over examples: "
         "(one_hot * log_probs).sum(dim=1).mean()."),
        (picked.mean(), "the sign is wrong: a loss must be >= 0.", "cross-entropy is MINUS the mean log-probability."),
        (-torch.log_softmax(logits.double(), dim=0)[rows, targets].mean(),
         "you normalized over the batch (dim=0), not over the classes.",
         "each row holds one example's class scores: softmax / log-softmax over dim=1."),
    ]


def _check_case(cross_entropy: Callable[[Tensor, Tensor], Tensor], description: str, logits: Tensor,
                targets: Tensor) -> Feedback | None:
    tried = _tried(description, logits, targets)
    expected = F.cross_entropy(logits, targets.long())
    try:
        got = attempt_forbidding(EXERCISE, CROSS_ENTROPY_SHORTCUTS, cross_entropy, logits.clone(), targets.clone(),
                                 tried=tried, why=_WHY, hint=_INSTEAD)
    except AttemptError as error:
        if "however it was imported" in error.feedback.message:
            raise
        if targets.dtype != torch.int64:
            error.feedback.hint = ("your function works with int64 targets but not int32 ones: convert inside it "
                                   "with targets = targets.long() (F.cross_entropy insists on int64 too).")
        elif "one_hot" in (error.feedback.details[0] if error.feedback.details else "") or \
                "size of tensor" in error.feedback.message:
            error.feedback.hint = ("if you used F.one_hot, give it num_classes=logits.shape[1]: without it, the "
                                   "number of columns is the largest target + 1, too few when the last class is missing.")
        raise
    if not torch.is_tensor(got):
        hint = "keep the loss a tensor: .item(), float() or NumPy cut it off from autograd, so backward() fails."
        if isinstance(got, (tuple, list)):
            hint = "return one tensor, not a tuple or list."
        return failed(EXERCISE, f"expected a 0-dimensional tensor, got {describe(got)}.", tried=tried, hint=hint)
    if got.dim() != 0:
        if tuple(got.shape) == (len(targets),):
            return failed(EXERCISE, "you returned one loss per example: the mean is missing.", tried=tried,
                          expected=f"{expected.item():.4f}", got=_show(got),
                          hint="finish with .mean(): F.cross_entropy's default reduction averages over the batch.")
        return failed(EXERCISE, f"expected one number (a 0-dimensional tensor), got shape {tuple(got.shape)}.",
                      tried=tried, expected=f"{expected.item():.4f}", hint="average the per-example losses.")
    value = got.detach().double()
    if not torch.isfinite(value):
        if logits.abs().max() >= 1000:
            return failed(EXERCISE, f"the loss is {value.item()} for large logits.", tried=tried,
                          expected=f"{expected.item():.4f}", got=f"{value.item()}",
                          hint="exp(1000) overflows to inf, and softmax rounds tiny probabilities to exactly 0, "
                               "whose log is -inf. " + _STABLE)
        return failed(EXERCISE, f"the loss is {value.item()}.", tried=tried, expected=f"{expected.item():.4f}",
                      hint=_STABLE)
    if torch.isclose(value, expected.double(), rtol=1e-4, atol=1e-5):
        return None
    for wrong, message, hint in _mistakes(logits, targets.long()):
        if torch.isclose(value, wrong, rtol=1e-4, atol=1e-5):
            return failed(EXERCISE, message, tried=tried, expected=f"{expected.item():.4f}",
                          got=f"{value.item():.4f}", hint=hint)
    return failed(EXERCISE, "wrong value.", tried=tried, expected=f"{expected.item():.4f}", got=f"{value.item():.4f}",
                  hint="loss_i = -log softmax(logits_i)[target_i]; return the mean over the batch. " + _STABLE)


def _check_gradient(cross_entropy: Callable[[Tensor, Tensor], Tensor]) -> Feedback | None:
    """The loss must stay connected to the logits so that ``loss.backward()`` trains a model."""
    logits = torch.randn(3, 4, generator=torch.Generator().manual_seed(11)).requires_grad_(True)
    targets = torch.tensor([0, 3, 1])
    tried = _tried("logits that require grad", logits, targets)
    got = attempt_forbidding(EXERCISE, CROSS_ENTROPY_SHORTCUTS, cross_entropy, logits, targets, tried=tried,
                             why=_WHY, hint=_INSTEAD)
    cut_off = failed(EXERCISE, "the loss is cut off from autograd: loss.backward() could not train anything.",
                     tried=tried, hint="no .item(), .detach(), .numpy() or torch.tensor(...) inside: stay with "
                                       "torch operations on the logits from start to end.")
    if not (torch.is_tensor(got) and got.requires_grad and got.numel() == 1 and got.is_floating_point()):
        return cut_off
    (grad,) = torch.autograd.grad(got.reshape(()), logits, allow_unused=True)
    if grad is None:  # computed from a detached copy that requires grad again: a graph, but not to the logits
        cut_off.details = ["the loss has a graph, but it does not lead back to the logits you were given "
                           "(a .detach() or a copy somewhere)."]
        return cut_off
    reference_logits = logits.detach().clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(F.cross_entropy(reference_logits, targets), reference_logits)
    if not torch.allclose(grad, expected, rtol=1e-4, atol=1e-6):
        return failed(EXERCISE, "the value is right but its gradient is not.", tried=tried,
                      expected=_show(expected), got=_show(grad),
                      hint="a constant computed outside autograd (e.g. with .item()) may have slipped into the formula.")
    return None


@checker(EXERCISE)
def check_cross_entropy(cross_entropy: Callable[[Tensor, Tensor], Tensor]) -> Feedback:
    """``cross_entropy(logits, targets)`` (logits ``(N, C)``, class indices ``(N,)``) must return the mean
    cross-entropy, equal to ``F.cross_entropy``, for small and huge logits, float64, int32 targets, and
    keep the gradient."""
    for description, logits, targets in _cases(probe_seed()):
        feedback = _check_case(cross_entropy, description, logits, targets)
        if feedback is not None:
            return feedback
    feedback = _check_gradient(cross_entropy)
    if feedback is not None:
        return feedback
    return passed(EXERCISE, "equal to F.cross_entropy on every input, stable for logits of 1000 "
                            "(the confident mistake costs 2000), and its gradient flows.")
