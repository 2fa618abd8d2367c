"""Checkers for notebook 05: RGBA to RGB, inverted dropout, early stopping and the worst mistakes.

Each checker runs the attendee's function on small made-up inputs next to a reference and, when the
answers differ, replays the typical mistakes (alpha dropped, dropout that keeps p instead of dropping
it, epochs counted from 0, correct predictions among the "mistakes"...) to say which one it was.

The references live here (:func:`reference_rgba_to_rgb`, :func:`reference_worst_mistakes`) or in
:mod:`workshop_utils.regularization` (dropout, the early-stopping rule); notebook 05 falls back to
them when an exercise is not finished yet, and says so.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from ..regularization import early_stopping_epochs
from .attempts import attempt_watched
from .core import Feedback, checker, failed, passed, run_attempt
from .forbidden import DROPOUT
from .probes import (TYPED_IN, as_float_tensor, fresh_seed, probe_generator, probe_label, probe_random,
                     same_values, typed_in_message)
from .tensor_checks import describe, tensor_problem

EXERCISE_RGBA = "Exercise 05.1 (RGBA to RGB)"
EXERCISE_DROPOUT = "Exercise 05.2 (inverted dropout)"
EXERCISE_EARLY_STOPPING = "Exercise 05.3 (early stopping)"
EXERCISE_WORST_MISTAKES = "Exercise 05.5 (worst mistakes)"


def _fmt(values: Tensor) -> str:
    return str(torch.round(values.detach().double(), decimals=3).tolist())


def _worst_pixel(image: Tensor, expected: Tensor, got: Tensor) -> tuple[str, str]:
    """('pixel (row, column) with alpha a: RGB [...]' expected, the same got) where the two differ most."""
    difference = (got.detach().double().cpu() - expected.double()).abs().sum(0)
    row, column = divmod(int(difference.argmax()), difference.shape[1])
    where = f"pixel ({row}, {column}), alpha {image[3, row, column].item():g}: RGB "
    return where + _fmt(expected[:, row, column]), where + _fmt(got[:, row, column])


# --------------------------------------------------------------------------------------------------
# Exercise 05.1: RGBA -> RGB on white
# --------------------------------------------------------------------------------------------------

def reference_rgba_to_rgb(image: Tensor) -> Tensor:
    """A float ``4 x H x W`` RGBA image in [0, 1] composited on white: ``rgb * alpha + 1 * (1 - alpha)``."""
    rgb, alpha = image[:3], image[3:4]
    return rgb * alpha + (1.0 - alpha)


def _rgba_cases(seed: int) -> list[tuple[str, Tensor]]:
    generator = torch.Generator().manual_seed(5)
    # Transparent pixels that hide red, not black: dropping alpha shows red, compositing on black shows black.
    hidden_red = torch.zeros(4, 2, 3)
    hidden_red[0] = 1.0                       # red everywhere in the RGB channels
    hidden_red[1:3, :, 0] = 0.5               # the first column grey
    hidden_red[3, :, 0] = 1.0                 # opaque first column, transparent rest
    partial = torch.rand(4, 3, 4, generator=generator)
    partial[3] = torch.tensor([0.0, 0.25, 0.5, 1.0]).repeat(3, 1)  # transparent, half-transparent, opaque
    opaque_and_clear = torch.rand(4, 5, 7, generator=generator)
    opaque_and_clear[3] = (torch.rand(5, 7, generator=generator) > 0.5).float()
    # A new probe on every call: a size and alphas of every kind (0, 1 and in between), so no typed-in answer fits.
    sizes = probe_random(seed)
    height, width = sizes.randint(2, 7), sizes.randint(3, 8)
    drawn = probe_generator(seed)
    probe = torch.rand(4, height, width, generator=drawn)
    kind = torch.randint(0, 3, (height, width), generator=drawn)
    probe[3] = torch.where(kind == 0, 0.0, torch.where(kind == 1, 1.0, probe[3]))
    probe[3, 0, 0], probe[3, -1, -1], probe[3, 0, -1] = 0.0, 1.0, 0.5
    return [
        ("a 4 x 2 x 3 image: the first column opaque grey, the rest fully transparent (alpha 0) over red RGB",
         hidden_red),
        ("a 4 x 5 x 7 image with opaque and fully transparent pixels", opaque_and_clear),
        ("a 4 x 3 x 4 image with half-transparent pixels (alpha 0, 0.25, 0.5, 1)", partial),
        (f"{probe_label(seed)}: a 4 x {height} x {width} image, alphas 0, 1 and in between", probe),
    ]


_RGBA_MISTAKES: dict[str, tuple[Callable[[Tensor], Tensor], str, str]] = {
    "threshold": (lambda x: torch.where(x[3:4] > 0, x[:3], torch.ones_like(x[:3])),
                  "half-transparent pixels are wrong: you only handled alpha 0 and 1.",
                  "blend: each pixel is alpha parts its colour and (1 - alpha) parts white, for any alpha."),
    "dropped": (lambda x: x[:3],
                "you dropped the alpha channel: transparent pixels show whatever colour they hide (red here).",
                "blend with white: rgb * alpha + 1 * (1 - alpha). Dropping alpha is what image.convert('RGB') does."),
    "black": (lambda x: x[:3] * x[3:4],
              "you composited on black: transparent pixels came out black, not white.",
              "add the white background's share: rgb * alpha + 1.0 * (1 - alpha)."),
    "inverted": (lambda x: x[:3] * (1 - x[3:4]) + x[3:4],
                 "alpha is the other way round: alpha 1 means opaque (the pixel's own colour), 0 transparent.",
                 "rgb * alpha + (1 - alpha), not rgb * (1 - alpha) + alpha."),
    "white 255": (lambda x: x[:3] * x[3:4] + 255 * (1 - x[3:4]),
                  "white came out as 255: these images are floats in [0, 1], so white is 1.0.",
                  "rgb * alpha + 1.0 * (1 - alpha)."),
    "unweighted": (lambda x: x[:3] + (1 - x[3:4]),
                   "the colours were not weighted by alpha: a half-transparent pixel is half its colour, half white.",
                   "multiply the colours by alpha too: rgb * alpha + (1 - alpha)."),
    "clamped unweighted": (lambda x: (x[:3] + (1 - x[3:4])).clamp(0, 1),
                           "the colours were not weighted by alpha: a half-transparent pixel is half its colour, "
                           "half white.", "multiply the colours by alpha too: rgb * alpha + (1 - alpha)."),
}


@checker(EXERCISE_RGBA)
def check_rgba_to_rgb(rgba_to_rgb: Callable[[Tensor], Tensor]) -> Feedback:
    """``rgba_to_rgb(image)`` must turn a float 4 x H x W RGBA tensor into the 3 x H x W RGB image on white,
    for opaque, transparent and half-transparent pixels, without changing its input; any float dtype passes."""
    earlier: list[tuple[str, Tensor]] = []
    for description, image in _rgba_cases(fresh_seed()):
        given = image.clone()
        tried = f"rgba_to_rgb(image) for {description}"
        got = run_attempt(EXERCISE_RGBA, rgba_to_rgb, given, tried=tried)
        expected = reference_rgba_to_rgb(image)
        typed_in = typed_in_message(got, earlier)
        if typed_in is not None:
            return failed(EXERCISE_RGBA, typed_in, tried=tried, hint="rgb * alpha + (1 - alpha) on the image given.")
        earlier.append((description.split(":")[0], expected))
        problem = tensor_problem(got, expected)
        if problem is not None:
            hint = problem.hint
            if problem.kind == "shape" and torch.is_tensor(got) and got.dim() > 0:
                shape = tuple(got.shape)
                if shape[0] == 4:
                    hint = "return the 3 colour channels only: the alpha channel is used up by compositing."
                elif shape[-1] == 3 and len(shape) == 3:
                    hint = ("keep channels first (C x H x W, as PyTorch images are): image[:3] are the colours, "
                            "image[3:4] (or image[3]) the alpha.")
            elif problem.kind == "dtype":
                hint = ("keep the floats in [0, 1]: the next cells show and train on float images (no .byte(), "
                        "no * 255).")
            return failed(EXERCISE_RGBA, problem.message, tried=tried, hint=hint)
        if not torch.equal(given, image):
            return failed(EXERCISE_RGBA, "your function changed its input image in place.", tried=tried,
                          hint="compute a new tensor (rgb * alpha + ...) instead of writing into image.")
        values = as_float_tensor(got)  # float64 on the CPU: a float64 or GPU answer compares too
        if not torch.allclose(values, expected.double(), atol=1e-5):
            pixel_expected, pixel_got = _worst_pixel(image, expected, values)
            for mistake, message, hint in _RGBA_MISTAKES.values():
                if torch.allclose(values, mistake(image.double()), atol=1e-5):
                    return failed(EXERCISE_RGBA, message, tried=tried, hint=hint, expected=pixel_expected,
                                  got=pixel_got)
            return failed(EXERCISE_RGBA, "wrong colours.", tried=tried, expected=pixel_expected, got=pixel_got,
                          hint="on white: rgb * alpha + 1.0 * (1 - alpha), pixel by pixel.")
    return passed(EXERCISE_RGBA, "transparent pixels are white, half-transparent ones blend with white, opaque "
                                 "ones keep their colour (on the examples and a random image).")


# --------------------------------------------------------------------------------------------------
# Exercise 05.2: inverted dropout
# --------------------------------------------------------------------------------------------------

# Library dropouts are watched while the attendee's function runs, whatever name they were imported under:
# the point is to write one.
DROPOUT_SIZE = 100_000  # enough for the dropped fraction to be within ±0.01 of p almost always


def _dropout_attempt(dropout: Callable, x: Tensor, p: float, training: bool, tried: str) -> Any:
    return attempt_watched(EXERCISE_DROPOUT, DROPOUT, "write dropout yourself from torch.rand; nn.Dropout is what "
                                                      "the checker compares with.",
                           "keep = torch.rand(x.shape) >= p, then x * keep / (1 - p).",
                           dropout, x, p, training, tried=tried)


def _survivor_message(value: float, p: float) -> tuple[str, str] | None:
    """Message and hint when the kept elements of a tensor of ones all equal ``value`` instead of 1/(1-p)."""
    known = {
        1.0: ("the kept elements are not scaled.",
              f"divide the kept elements by (1 - p): with p = {p} the mean of the output would otherwise drop to "
              f"{1 - p:g} times the input's, and the next layer would see smaller numbers in training than in "
              "evaluation."),
        1 - p: ("you multiplied the kept elements by (1 - p) instead of dividing.",
                "inverted dropout scales up while training: x * mask / (1 - p)."),
        1 / p: ("you divided by p: divide by (1 - p), the probability of keeping an element.",
                "x * mask / (1 - p)."),
        p: ("you multiplied the kept elements by p.", "x * mask / (1 - p)."),
    }
    for target, words in known.items():
        if math.isclose(value, target, rel_tol=1e-4):
            return words
    return None


@checker(EXERCISE_DROPOUT)
def check_inverted_dropout(dropout: Callable[[Tensor, float, bool], Tensor]) -> Feedback:
    """``dropout(x, p, training)`` must zero each element with probability ``p`` and scale the rest by
    ``1 / (1 - p)`` when training, return ``x`` unchanged when not, draw a new mask on every call, and
    leave ``x`` alone: the statistics of ``nn.Dropout``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        x = torch.randn(1000)
        tried = "dropout(x, p=0.2, training=False) on 1,000 random numbers"
        got = _dropout_attempt(dropout, x.clone(), 0.2, False, tried)
        problem = tensor_problem(got, x)
        if problem is not None:
            return failed(EXERCISE_DROPOUT, problem.message, tried=tried, hint=problem.hint)
        if not same_values(got, x):
            if same_values(got, x * 0.8):
                return failed(EXERCISE_DROPOUT, "in evaluation mode you scaled by (1 - p): that is the old, "
                                                "non-inverted dropout.", tried=tried,
                              hint="inverted dropout does its scaling while training (divide by 1 - p there), so "
                                   "evaluation is the identity: return x.")
            return failed(EXERCISE_DROPOUT, f"in evaluation mode the output is not x ({(got == 0).sum()} of 1000 "
                                            "elements are 0).", tried=tried,
                          hint="when training is False return x as it is: dropout only acts while training.")

        p = 0.2
        ones = torch.ones(DROPOUT_SIZE)
        tried = f"dropout(torch.ones({DROPOUT_SIZE:,}), p={p}, training=True)"
        got = _dropout_attempt(dropout, ones.clone(), p, True, tried)
        problem = tensor_problem(got, ones)
        if problem is not None:
            return failed(EXERCISE_DROPOUT, problem.message, tried=tried, hint=problem.hint)
        got = as_float_tensor(got)  # float64 on the CPU: a float64 answer is fine for the next cells
        dropped = (got == 0).float().mean().item()
        reference = torch.nn.Dropout(p).train()(ones)
        reference_dropped = (reference == 0).float().mean().item()
        statistics = f"nn.Dropout({p}) zeroes {reference_dropped:.1%} and scales the rest to {1 / (1 - p):g}"
        if dropped == 0:
            return failed(EXERCISE_DROPOUT, "in training mode nothing was dropped.", tried=tried,
                          expected=statistics, got=f"no zeros; values {_fmt(got.unique()[:5])}",
                          hint="keep = torch.rand(x.shape) >= p is True with probability 1 - p; multiply x by it.")
        if dropped == 1:
            return failed(EXERCISE_DROPOUT, "everything was dropped: the output is all zeros.", tried=tried,
                          expected=statistics,
                          hint="draw one random number per element (torch.rand(x.shape)), not one for the whole tensor.")
        if abs(dropped - (1 - p)) < 0.01:
            return failed(EXERCISE_DROPOUT, f"you dropped {dropped:.0%} of the elements with p = {p}: p is the "
                                            "probability of DROPPING an element, not of keeping it.", tried=tried,
                          expected=statistics, hint="keep an element when torch.rand(...) >= p.")
        if abs(dropped - p) > 0.01:
            return failed(EXERCISE_DROPOUT, f"{dropped:.1%} of the elements were dropped; with p = {p} it should be "
                                            f"about {p:.0%}.", tried=tried, expected=statistics,
                          hint="drop each element on its own with probability p: torch.rand(x.shape) < p.")
        kept = got[got != 0]
        if not torch.allclose(kept, torch.full_like(kept, 1 / (1 - p)), rtol=1e-4):
            words = _survivor_message(kept[0].item(), p) if torch.allclose(kept, kept[0]) else None
            message, hint = words or ("the kept elements have the wrong values.", "x * mask / (1 - p).")
            return failed(EXERCISE_DROPOUT, message, tried=tried, expected=statistics,
                          got=f"{dropped:.1%} zeroed, kept elements {_fmt(kept[:3])}...", hint=hint)

        again = _dropout_attempt(dropout, ones.clone(), p, True, tried + ", called twice")
        if torch.is_tensor(again) and same_values(again, got, atol=0, rtol=0):
            return failed(EXERCISE_DROPOUT, "two calls dropped exactly the same elements.", tried=tried + ", twice",
                          hint="draw a new random mask on every call (do not seed a generator inside the function).")

        seed = fresh_seed()
        sizes = probe_random(seed)
        p_probe = sizes.choice([0.3, 0.4, 0.6, 0.7])
        shape = (sizes.randint(2, 4), sizes.randint(2, 5), sizes.randint(40, 60))
        x = torch.randn(*shape, generator=probe_generator(seed))
        given = x.clone()
        tried = f"dropout(x, p={p_probe}, training=True) on random numbers of shape {shape} ({probe_label(seed)})"
        got = _dropout_attempt(dropout, given, p_probe, True, tried)
        problem = tensor_problem(got, x)
        if problem is not None:
            return failed(EXERCISE_DROPOUT, problem.message, tried=tried, hint=problem.hint)
        if not torch.equal(given, x):
            return failed(EXERCISE_DROPOUT, "your dropout changed its input x in place.", tried=tried,
                          hint="return a new tensor: x * keep / (1 - p), not x *= ... or x[mask] = 0.")
        got = as_float_tensor(got)
        kept = got != 0
        if not torch.allclose(got[kept], x.double()[kept] / (1 - p_probe), rtol=1e-4):
            return failed(EXERCISE_DROPOUT, "the kept elements are not x / (1 - p).", tried=tried,
                          hint="multiply x itself by the mask (then divide by 1 - p); do not return the mask.")

        tried = "dropout(x, p=0.0, training=True)"
        got = _dropout_attempt(dropout, x.clone(), 0.0, True, tried)
        if not same_values(got, x):
            return failed(EXERCISE_DROPOUT, "with p = 0 nothing should change.", tried=tried,
                          got=describe(got) if not torch.is_tensor(got) else None,
                          hint="with p = 0 every element is kept and 1 / (1 - p) = 1.")
    return passed(EXERCISE_DROPOUT, f"{dropped:.1%} of the elements dropped at p = {p} and the rest scaled to "
                                    f"{1 / (1 - p):g}, like nn.Dropout ({reference_dropped:.1%}); the identity in "
                                    "evaluation mode.")


# --------------------------------------------------------------------------------------------------
# Exercise 05.3: early stopping
# --------------------------------------------------------------------------------------------------

def _stop_at_first_rise(losses: Sequence[float], patience: int) -> tuple[int, int]:
    return early_stopping_epochs(losses, 1)


def _no_reset(losses: Sequence[float], patience: int) -> tuple[int, int]:
    best, best_epoch, worse = math.inf, 0, 0
    for epoch, loss in enumerate(losses, start=1):
        if loss < best:
            best, best_epoch = loss, epoch
        else:
            worse += 1
            if worse >= patience:
                return epoch, best_epoch
    return len(losses), best_epoch


def _against_previous(losses: Sequence[float], patience: int) -> tuple[int, int]:
    previous, waited = math.inf, 0
    best_epoch = min(range(len(losses)), key=lambda i: losses[i]) + 1
    for epoch, loss in enumerate(losses, start=1):
        waited = 0 if loss < previous else waited + 1
        previous = loss
        if waited >= patience:
            return epoch, min(range(epoch), key=lambda i: losses[i]) + 1
    return len(losses), best_epoch


def _ties_improve(losses: Sequence[float], patience: int) -> tuple[int, int]:
    best, best_epoch, waited = math.inf, 0, 0
    for epoch, loss in enumerate(losses, start=1):
        if loss <= best:
            best, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return epoch, best_epoch
    return len(losses), best_epoch


def _one_epoch_late(losses: Sequence[float], patience: int) -> tuple[int, int]:
    stop, best = early_stopping_epochs(losses, patience)
    return min(stop + 1, len(losses)), best


EARLY_STOPPING_CASES: list[tuple[str, list[float], int]] = [
    ("a validation loss that always improves", [0.9, 0.7, 0.6, 0.55, 0.52, 0.5], 2),
    ("a loss that bottoms out at epoch 3, then rises", [0.9, 0.6, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9], 3),
    ("a noisy loss: a new best at epoch 5 after two worse epochs", [0.9, 0.6, 0.65, 0.62, 0.55, 0.6, 0.58, 0.59, 0.7],
     3),
    ("a loss that repeats its best value (equal is not better)", [0.8, 0.5, 0.5, 0.5, 0.5, 0.4], 3),
    ("patience longer than the rest of the run", [0.8, 0.5, 0.6, 0.7], 5),
    ("patience 1", [0.8, 0.6, 0.7, 0.5, 0.4], 1),
]

_EARLY_STOPPING_MISTAKES: list[tuple[Callable, str, str]] = [
    (lambda losses, patience: tuple(epoch - 1 for epoch in early_stopping_epochs(losses, patience)),
     "both epochs are one too small: epochs are numbered from 1 (the first epoch is epoch 1).",
     "use enumerate(val_losses, start=1), or add 1 to Python's 0-based index."),
    (_stop_at_first_rise, "you stopped at the first epoch that did not improve: patience was ignored.",
     "count the epochs in a row without a new best, and stop when the count reaches patience."),
    (_no_reset, "your count of epochs without improvement never goes back to 0.",
     "reset the count to 0 whenever an epoch sets a new best: patience counts epochs IN A ROW."),
    (_against_previous, "you compared each loss with the previous epoch's; compare with the best loss so far.",
     "a slightly lower loss after a bad epoch is no improvement unless it beats the best so far."),
    (_ties_improve, "an epoch that only equals the best loss counted as an improvement.",
     "improve means strictly lower: loss < best_loss."),
    (_one_epoch_late, "you stopped one epoch late.",
     "stop as soon as the count of epochs without improvement reaches patience (>=, checked after that epoch)."),
]


def _as_epoch_pair(result: Any) -> tuple[int, int] | None:
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return None
    pair = []
    for value in result:
        if torch.is_tensor(value):
            if value.numel() != 1:
                return None
            value = value.item()
        if isinstance(value, bool) or not hasattr(value, "__index__"):
            return None
        pair.append(int(value))
    return pair[0], pair[1]


WORKED_EXAMPLE = ([0.9, 0.6, 0.5, 0.55, 0.6, 0.7, 0.8], 3)  # the exercise's example: (6, 3)


def _early_stopping_probe(seed: int) -> tuple[str, list[float], int]:
    """Random losses (2 decimals, so ties happen) that wander down, then up, and a random patience."""
    rng = probe_random(seed)
    losses, loss = [], rng.uniform(0.8, 1.2)
    for _ in range(rng.randint(7, 12)):
        loss = max(0.05, loss + rng.choice([-0.15, -0.1, -0.05, 0.0, 0.05, 0.08]))
        losses.append(round(loss, 2))
    return f"{probe_label(seed)}", losses, rng.randint(1, 4)


@checker(EXERCISE_EARLY_STOPPING)
def check_early_stopping(early_stopping: Callable[[Sequence[float], int], tuple[int, int]]) -> Feedback:
    """``early_stopping(val_losses, patience)`` must return ``(stop_epoch, best_epoch)``, epochs numbered from 1:
    stop after ``patience`` epochs in a row without a strictly lower loss than the best so far (or at the
    last epoch), and keep the epoch of the best loss."""
    worked_answer = early_stopping_epochs(*WORKED_EXAMPLE)
    for description, losses, patience in [*EARLY_STOPPING_CASES, _early_stopping_probe(fresh_seed())]:
        tried = f"early_stopping({losses}, patience={patience}): {description}"
        result = run_attempt(EXERCISE_EARLY_STOPPING, early_stopping, list(losses), patience, tried=tried)
        pair = _as_epoch_pair(result)
        expected = early_stopping_epochs(losses, patience)
        if pair is None:
            return failed(EXERCISE_EARLY_STOPPING, "return a pair of whole numbers: (stop_epoch, best_epoch).",
                          tried=tried, expected=str(expected), got=describe(result),
                          hint="return stop_epoch, best_epoch")
        if pair == expected:
            continue
        if pair == worked_answer:
            return failed(EXERCISE_EARLY_STOPPING, f"{pair} is the answer of the exercise's example, not of these "
                                                   "losses: the epochs must be computed from val_losses and patience.",
                          tried=tried, expected=str(expected), got=str(pair),
                          hint="loop over enumerate(val_losses, start=1) as in the exercise's skeleton.")
        if pair == expected[::-1]:
            return failed(EXERCISE_EARLY_STOPPING, "the two epochs are swapped.", tried=tried, expected=str(expected),
                          got=str(pair), hint="return (stop_epoch, best_epoch), in that order.")
        for mistake, message, hint in _EARLY_STOPPING_MISTAKES:
            if pair == mistake(losses, patience):
                return failed(EXERCISE_EARLY_STOPPING, message, tried=tried, expected=str(expected), got=str(pair),
                              hint=hint)
        if not (1 <= pair[0] <= len(losses) and 1 <= pair[1] <= pair[0]):
            return failed(EXERCISE_EARLY_STOPPING, f"{pair} cannot be right: both epochs must be between 1 and the "
                                                   f"number of epochs ({len(losses)}), and the best one cannot come "
                                                   "after the stop.", tried=tried, expected=str(expected),
                          got=str(pair), hint="whenever an epoch improves, remember its loss and its number "
                                              "(best_loss, best_epoch = loss, epoch).")
        if pair[0] == expected[0]:
            return failed(EXERCISE_EARLY_STOPPING, "the stop epoch is right, the best epoch is not.", tried=tried,
                          expected=str(expected), got=str(pair),
                          hint="best_epoch is the epoch of the lowest loss up to the stop (the first, on ties).")
        return failed(EXERCISE_EARLY_STOPPING, "wrong epochs.", tried=tried, expected=str(expected), got=str(pair),
                      hint="keep best_loss, best_epoch and a count of epochs without improvement; stop when the "
                           "count reaches patience, or return len(val_losses) at the end.")
    return passed(EXERCISE_EARLY_STOPPING, "patience counts epochs in a row without a new best, epochs count from 1, "
                                           "and a run that keeps improving goes to the end.")


# --------------------------------------------------------------------------------------------------
# Exercise 05.5: the worst mistakes
# --------------------------------------------------------------------------------------------------

def reference_worst_mistakes(probabilities: Tensor, labels: Tensor, k: int) -> Tensor:
    """Indices of at most ``k`` wrong predictions, highest loss ``-log p(true class)`` first."""
    losses = -torch.log(probabilities.gather(1, labels.view(-1, 1)).squeeze(1).clamp_min(1e-12))
    wrong = (probabilities.argmax(dim=1) != labels).nonzero().view(-1)
    order = torch.argsort(losses[wrong], descending=True, stable=True)
    return wrong[order][:k]


def _mistake_case() -> tuple[Tensor, Tensor]:
    """8 examples of 3 classes with 4 mistakes, built so that every shortcut gives another answer.

    By loss the mistakes rank 1, 6, 3, 4; by the confidence of the wrong prediction 6, 3, 1, 4; and
    example 5 is right but has a higher loss (0.87) than mistake 4 (0.80).
    """
    probabilities = torch.tensor([
        [0.90, 0.05, 0.05],   # 0: label 0, right
        [0.05, 0.60, 0.35],   # 1: label 0, predicted 1: loss -log 0.05 = 3.00, confidence 0.60
        [0.10, 0.80, 0.10],   # 2: label 1, right
        [0.30, 0.70, 0.00],   # 3: label 0, predicted 1: loss -log 0.30 = 1.20, confidence 0.70
        [0.55, 0.45, 0.00],   # 4: label 1, predicted 0: loss -log 0.45 = 0.80, confidence 0.55
        [0.42, 0.30, 0.28],   # 5: label 0, right, yet loss -log 0.42 = 0.87
        [0.10, 0.80, 0.10],   # 6: label 2, predicted 1: loss -log 0.10 = 2.30, confidence 0.80
        [0.20, 0.20, 0.60],   # 7: label 2, right
    ])
    labels = torch.tensor([0, 0, 1, 0, 1, 0, 2, 2])
    return probabilities, labels


def _is_index(value: Any) -> bool:
    """A Python or NumPy integer, or a one-element integer tensor (not a bool, not a float)."""
    if torch.is_tensor(value):
        return value.numel() == 1 and not value.is_floating_point() and value.dtype != torch.bool
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and type(value).__name__ != "bool_"


def _mistake_probe(seed: int) -> tuple[Tensor, Tensor]:
    """Random probabilities and labels with at least 3 mistakes and distinct losses."""
    generator = probe_generator(seed)
    rng = probe_random(seed)
    while True:
        n, c = rng.randint(10, 16), rng.randint(3, 5)
        probabilities = torch.softmax(2 * torch.randn(n, c, generator=generator), dim=1)
        labels = torch.randint(0, c, (n,), generator=generator)
        losses = -torch.log(probabilities[torch.arange(n), labels])
        wrong = int((probabilities.argmax(dim=1) != labels).sum())
        if 3 <= wrong < n - 1 and len(set(torch.round(losses, decimals=4).tolist())) == n:
            return probabilities, labels


def _as_index_list(result: Any) -> list[int] | None:
    if torch.is_tensor(result):
        if result.dtype == torch.bool or result.is_floating_point() or result.is_complex() or result.dim() != 1:
            return None
        return [int(i) for i in result.tolist()]
    if isinstance(result, (list, tuple)) and all(_is_index(i) for i in result):
        return [int(i) for i in result]
    if type(result).__module__ == "numpy" and getattr(result, "ndim", 0) == 1 and result.dtype.kind in "iu":
        return [int(i) for i in result.tolist()]
    return None


@checker(EXERCISE_WORST_MISTAKES)
def check_worst_mistakes(worst_mistakes: Callable[[Tensor, Tensor, int], Any]) -> Feedback:
    """``worst_mistakes(probabilities, labels, k)`` must return the indices of at most ``k`` WRONG
    predictions, highest loss (lowest probability of the true class) first."""
    fixed_probabilities, fixed_labels = _mistake_case()
    seed = fresh_seed()
    probe_probabilities, probe_labels = _mistake_probe(seed)
    probe_mistakes = int((probe_probabilities.argmax(dim=1) != probe_labels).sum())
    cases = [("8 examples of 3 classes", fixed_probabilities, fixed_labels, 4),
             ("8 examples of 3 classes", fixed_probabilities, fixed_labels, 10),
             (f"{probe_probabilities.shape[0]} examples of {probe_probabilities.shape[1]} classes, "
              f"{probe_label(seed)}", probe_probabilities, probe_labels, probe_mistakes - 1)]
    fixed_answer = reference_worst_mistakes(fixed_probabilities, fixed_labels, 4).tolist()
    for where, probabilities, labels, k in cases:
        predicted = probabilities.argmax(dim=1)
        losses = -torch.log(probabilities.gather(1, labels.view(-1, 1)).squeeze(1))
        tried = (f"worst_mistakes(probabilities, labels, k={k}) for {where}; labels "
                 f"{labels.tolist()}, predicted {predicted.tolist()}")
        result = run_attempt(EXERCISE_WORST_MISTAKES, worst_mistakes, probabilities.clone(), labels.clone(), k,
                             tried=tried)
        got = _as_index_list(result)
        expected = reference_worst_mistakes(probabilities, labels, k).tolist()
        if got is None:
            hint = "return the example indices as a 1-D tensor of integers (or a list of ints)."
            if torch.is_tensor(result) and result.dtype == torch.bool:
                hint = "you returned a mask: turn it into indices with .nonzero(), then sort them by loss."
            elif torch.is_tensor(result) and result.is_floating_point():
                hint = "you returned values (losses or probabilities?): return the indices, e.g. from torch.argsort."
            return failed(EXERCISE_WORST_MISTAKES, f"expected indices, got {describe(result)}.", tried=tried,
                          expected=str(expected), hint=hint)
        if got == expected:
            continue
        if probabilities is probe_probabilities and got[:len(fixed_answer)] == fixed_answer[:len(got)]:
            return failed(EXERCISE_WORST_MISTAKES, TYPED_IN.format(shown="the 8 examples of 3 classes"),
                          tried=tried, expected=str(expected), got=str(got),
                          hint="compute the losses and the mistakes from the probabilities and labels given.")
        right = [i for i in got if 0 <= i < len(labels) and predicted[i] == labels[i]]
        wrong_all = (predicted != labels).nonzero().view(-1).tolist()
        by_loss = sorted(wrong_all, key=lambda i: -losses[i].item())
        by_confidence = sorted(wrong_all, key=lambda i: -probabilities[i].max().item())
        if any(not 0 <= i < len(labels) for i in got):
            message, hint = "an index is out of range.", "return positions in the data set: 0 to N - 1."
        elif right:
            message = f"example {right[0]} is in your list, but its prediction is right."
            hint = "keep only the mistakes (predicted != labels) before sorting by loss."
        elif len(got) > min(k, len(wrong_all)):
            message = f"{len(got)} indices for k = {k}."
            hint = "return at most k indices: the k worst (or all the mistakes when there are fewer than k)."
        elif got == by_loss[::-1][:k] or got == by_loss[::-1][:len(got)]:
            message = "least bad first: the order is reversed."
            hint = "sort by loss in descending order (torch.argsort(..., descending=True))."
        elif len(got) < min(k, len(wrong_all)):
            message = f"only {len(got)} indices; there are {len(wrong_all)} mistakes and k = {k}."
            hint = "return min(k, number of mistakes) indices."
        elif got == sorted(got) and got != by_loss[:k]:
            message = "the mistakes are in the order of the data set, not sorted by loss."
            hint = "sort the mistakes by their loss, -log p(true class), highest first."
        elif got == by_confidence[:k]:
            message = ("sorted by the confidence of the (wrong) predicted class; the exercise sorts by the loss, "
                       "-log p(true class).")
            hint = ("a confident mistake can still give the true class some probability; the loss measures how "
                    "little the model believed the true label, which is what hunts wrong labels best.")
        else:
            message, hint = "wrong indices.", "mistakes only, sorted by -log p(true class), highest first, at most k."
        return failed(EXERCISE_WORST_MISTAKES, message, tried=tried, expected=str(expected), got=str(got), hint=hint)
    return passed(EXERCISE_WORST_MISTAKES, "mistakes only, highest loss first, at most k (fewer when there are "
                                           "fewer mistakes).")
