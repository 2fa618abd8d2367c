"""Checker for notebook 05's class-weights exercise: inverse frequency, scaled to average 1 per example.

The reference is :func:`workshop_utils.imbalance.inverse_frequency_weights` (scikit-learn's
``class_weight="balanced"``): ``N / (K * n_c)`` for ``N`` examples, ``K`` classes and ``n_c`` examples
of class ``c``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from ..imbalance import inverse_frequency_weights
from .core import Feedback, checker, failed, passed, run_attempt
from .probes import as_float_tensor, fresh_seed, probe_label, probe_random, typed_in_message
from .tensor_checks import describe, tensor_problem

EXERCISE_CLASS_WEIGHTS = "Exercise 05.4 (class weights)"

CLASS_WEIGHT_CASES: list[tuple[str, list[int]]] = [
    ("the road-sign training counts (crosswalk, speedlimit, stop, trafficlight)", [62, 456, 52, 43]),
    ("three classes of 10", [10, 10, 10]),
    ("two classes, 3 and 1", [3, 1]),
    ("counts 5, 20, 75", [5, 20, 75]),
]


def _fmt(values: Tensor) -> str:
    return str(torch.round(values.detach().double(), decimals=4).tolist())


def _mistakes(counts: Tensor) -> list[tuple[Tensor, str, str]]:
    """(what the mistake returns, message, hint) for the usual wrong formulas."""
    n = counts.double()
    inverse = 1.0 / n
    return [
        (n / n.sum(), "these are the class frequencies: the commonest class gets the largest weight.",
         "invert them: a class's weight must shrink as its count grows, N / (K * n_c)."),
        (inverse, "the ratios are right (1 / n_c), but the weights are not scaled: they average far below 1 over "
                  "the training examples, which shrinks the loss and, with it, every gradient step.",
         "multiply by N / K: w_c = N / (K * n_c), so the weights average exactly 1 over the examples."),
        (inverse / inverse.sum(), "the ratios are right, but you scaled the weights to sum to 1.",
         "scale them so they average 1 over the training EXAMPLES: w_c = N / (K * n_c)."),
        (len(n) * inverse / inverse.sum(), "the ratios are right, but you scaled the weights to average 1 over the "
                                           "CLASSES.",
         "average 1 over the training examples instead (each example weighs its class's weight): "
         "w_c = N / (K * n_c)."),
        (n.max() / n, "the ratios are right, but you gave the commonest class weight 1.",
         "scale them so they average 1 over the training examples: w_c = N / (K * n_c)."),
        (n.sum() / n, "you forgot to divide by K, the number of classes.", "w_c = N / (K * n_c)."),
        (torch.floor(n.sum() / (len(n) * n)),
         "the weights were rounded down: integer division (//) drops the fractions.",
         "use / and floating-point numbers: counts.float()."),
    ]


def _probe_counts(seed: int) -> tuple[str, list[int]]:
    """Random counts, 3 to 6 classes, from rare to common (no two alike, so no class can be mixed up)."""
    rng = probe_random(seed)
    counts = rng.sample(range(3, 400), rng.randint(3, 6))
    return probe_label(seed), counts


@checker(EXERCISE_CLASS_WEIGHTS)
def check_class_weights(class_weights: Callable[[Tensor], Tensor]) -> Feedback:
    """``class_weights(counts)`` must return the float32 tensor ``N / (K * n_c)`` for an int64 tensor of class
    counts: inversely proportional to the counts, averaging 1 over the training examples. (float32, because
    the next cell gives them to ``nn.CrossEntropyLoss(weight=...)`` next to the model's float32 scores.)"""
    earlier: list[tuple[str, Tensor]] = []
    for description, values in [*CLASS_WEIGHT_CASES, _probe_counts(fresh_seed())]:
        counts = torch.tensor(values)
        tried = f"class_weights(torch.tensor({values})): {description}"
        got = run_attempt(EXERCISE_CLASS_WEIGHTS, class_weights, counts.clone(), tried=tried)
        expected = inverse_frequency_weights(counts)
        typed_in = typed_in_message(got, earlier)
        if typed_in is not None:
            return failed(EXERCISE_CLASS_WEIGHTS, typed_in, tried=tried, expected=_fmt(expected),
                          got=_fmt(as_float_tensor(got)), hint="w_c = N / (K * n_c) from the counts given.")
        earlier.append((description.split(" (")[0], expected))
        if type(got).__module__ == "numpy" and as_float_tensor(got) is not None:
            return failed(EXERCISE_CLASS_WEIGHTS, f"expected a tensor, got {describe(got)}.", tried=tried,
                          hint="nn.CrossEntropyLoss(weight=...) takes a tensor: torch.tensor(weights, "
                               "dtype=torch.float32), or stay in torch: counts.sum() / (len(counts) * counts.float()).")
        if torch.is_tensor(got) and not got.is_floating_point() and got.shape == expected.shape:
            got = got.detach().cpu().double()  # an integer answer: compare its values, to name integer division
            if torch.allclose(got, (counts.sum() // (len(counts) * counts)).double()):
                return failed(EXERCISE_CLASS_WEIGHTS, "the weights were rounded down to whole numbers: integer "
                                                      "division drops the fractions.", tried=tried,
                              expected=_fmt(expected), got=_fmt(got), hint="use / on floats: counts.float().")
            return failed(EXERCISE_CLASS_WEIGHTS, "expected floating-point weights, got integers.", tried=tried,
                          expected=_fmt(expected), got=_fmt(got), hint="convert the counts first: counts.float().")
        problem = tensor_problem(got, expected)
        if problem is None:
            got = got.detach().cpu()
        if problem is not None:
            hint = problem.hint
            if problem.kind == "type" and isinstance(got, (list, tuple)):
                hint = "return one tensor (torch.tensor(...) or tensor arithmetic on counts), not a list."
            return failed(EXERCISE_CLASS_WEIGHTS, problem.message, tried=tried, hint=hint)
        if torch.allclose(got.double(), expected.double(), rtol=1e-4):
            if got.dtype != torch.float32:
                return failed(EXERCISE_CLASS_WEIGHTS, f"the values are right, but the dtype is "
                                                      f"{str(got.dtype).replace('torch.', '')}: the next cell's "
                                                      "nn.CrossEntropyLoss(weight=weights) would raise \"expected "
                                                      "scalar type Float but found Double\".", tried=tried,
                              hint="return float32 weights: .float() at the end, or counts.float() at the start "
                                   "(the model's scores are float32, and the weights must match them).")
            continue
        for wrong, message, hint in _mistakes(counts):
            if torch.allclose(got.double(), wrong, rtol=1e-4):
                return failed(EXERCISE_CLASS_WEIGHTS, message, tried=tried, expected=_fmt(expected), got=_fmt(got),
                              hint=hint)
        ratio = got.double() / expected.double()
        if torch.allclose(ratio, ratio[0].expand_as(ratio), rtol=1e-4):
            return failed(EXERCISE_CLASS_WEIGHTS, f"the ratios are right, but every weight is {ratio[0].item():.4g} "
                                                  "times too large.", tried=tried, expected=_fmt(expected),
                          got=_fmt(got), hint="w_c = N / (K * n_c): N examples in all, K classes.")
        return failed(EXERCISE_CLASS_WEIGHTS, "wrong weights.", tried=tried, expected=_fmt(expected), got=_fmt(got),
                      hint="w_c = N / (K * n_c): N = counts.sum(), K = len(counts).")
    road = inverse_frequency_weights(torch.tensor(CLASS_WEIGHT_CASES[0][1]))
    return passed(EXERCISE_CLASS_WEIGHTS, f"N / (K * n_c): the road-sign weights are {_fmt(road)}; a traffic light "
                                          f"counts {road[3] / road[1]:.1f} times as much as a speed limit.")
