"""Checkers for notebook 04: convolution by hand, output sizes, parameter counts, max pooling, batch
normalization, and a CNN ten times smaller than notebook 03's MLP.

Each checker compares the attendee's function with PyTorch (``F.conv2d``, ``nn.Conv2d``,
``F.max_pool2d``, ``nn.BatchNorm2d``) on a few cases, and when the answer differs, replays the usual
mistakes (a flipped kernel, a stride that moves one pixel, the unbiased variance, ...) to say which
one it was. The library's own layers are switched off while the attendee's code runs where the
exercise is to write them.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..convolution import (DECK_IMAGE, DECK_KERNEL, batch_norm_reference, conv2d_reference, conv_output_size,
                           conv_parameter_count, max_pool2d_reference)
from .attempts import attempt_watched
from .core import AttemptError, Feedback, checker, failed, passed, run_attempt
from .forbidden import BATCH_NORM, CONV2D, MAX_POOL2D
from .probes import fresh_seed, probe_generator, probe_label, probe_random, typed_in_message
from .tensor_checks import describe, tensor_problem

EXERCISE_CONV = "Exercise 04.1 (convolution by hand)"
EXERCISE_SIZE = "Exercise 04.2 (output size)"
EXERCISE_PARAMETERS = "Exercise 04.3 (parameter count)"
EXERCISE_POOL = "Exercise 04.6 (max pooling)"
EXERCISE_BATCH_NORM = "Exercise 04.4 (batch normalization)"
EXERCISE_CNN = "Exercise 04.5 (a compact CNN)"

MLP_PARAMETERS = 235_146  # notebook 03's 784-256-128-10 MLP
MAX_CNN_PARAMETERS = MLP_PARAMETERS // 10  # 23,514

# The library's versions are watched while the attendee's code runs, whatever name they were imported under
# (``from torch.nn.functional import conv2d as c2d`` included): the exercise is to write them.
CONV_SHORTCUTS = CONV2D
POOL_SHORTCUTS = MAX_POOL2D
BATCH_NORM_SHORTCUTS = BATCH_NORM


def _fmt(values: Any) -> str:
    """A small tensor as nested lists rounded to 4 decimals; a big one by shape and first row."""
    if not torch.is_tensor(values):
        return repr(values)
    rounded = torch.round(values.detach().double(), decimals=4)
    if values.numel() > 25:
        first = rounded.reshape(-1, values.shape[-1])[0].tolist()
        return f"shape {tuple(values.shape)}, first row {first}"
    return str(rounded.tolist())


def _close(got: Tensor, expected: Tensor, atol: float = 1e-4) -> bool:
    return tuple(got.shape) == tuple(expected.shape) and torch.allclose(got.detach().cpu().double(),
                                                                        expected.detach().cpu().double(),
                                                                        atol=atol, rtol=1e-4)


# --------------------------------------------------------------------------------------------------
# Exercise 04.1: convolution by hand
# --------------------------------------------------------------------------------------------------

def _conv_probe(seed: int) -> tuple[str, Tensor, Tensor, int, int]:
    """A random image (odd or even sides), kernel, stride and padding: a new one on every call."""
    rng, generator = probe_random(seed), probe_generator(seed)
    height, width = rng.randint(4, 9), rng.randint(4, 9)
    kernel_height, kernel_width = rng.randint(1, 3), rng.randint(2, 3)
    stride, padding = rng.randint(1, 3), rng.randint(0, 2)
    return (f"{probe_label(seed)}: a {height} x {width} image, a {kernel_height} x {kernel_width} kernel, stride "
            f"{stride}, padding {padding}", torch.randn(height, width, generator=generator),
            torch.randn(kernel_height, kernel_width, generator=generator), stride, padding)


WORKED_EXAMPLE = "the worked example's 5 x 5 image and 3 x 3 kernel"


def _conv_cases() -> list[tuple[str, Tensor, Tensor, int, int]]:
    generator = torch.Generator().manual_seed(4)
    asymmetric = torch.tensor([[1.0, 2.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 3.0]])  # flipping changes it
    return [
        (WORKED_EXAMPLE, DECK_IMAGE.clone(), DECK_KERNEL.clone(), 1, 0),
        ("a 6 x 7 image, an asymmetric 3 x 3 kernel", torch.randint(0, 4, (6, 7), generator=generator).float(),
         asymmetric, 1, 0),
        ("a 7 x 7 image, stride 2", torch.randn(7, 7, generator=generator), torch.randn(3, 3, generator=generator),
         2, 0),
        ("a 5 x 6 image, padding 1", torch.randn(5, 6, generator=generator), torch.randn(3, 3, generator=generator),
         1, 1),
        ("a 6 x 9 image, a 2 x 2 kernel, stride 3, padding 2", torch.randn(6, 9, generator=generator),
         torch.randn(2, 2, generator=generator), 3, 2),
    ]


def _conv_shape_hint(image: Tensor, kernel: Tensor, stride: int, padding: int, got_shape: tuple) -> str:
    """Why the output has ``got_shape``: the size formula with a term left out, or rows and columns swapped."""
    def shape(stride=stride, padding=padding, extra=0):
        return tuple(conv_output_size(n, k, stride, padding) + extra for n, k in zip(image.shape, kernel.shape))

    expected = shape()
    if len(got_shape) == 4 and got_shape[:2] == (1, 1) and got_shape[2:] == expected:
        return "return the 2-D result (H_out x W_out): drop F.conv2d-style batch and channel dimensions with [0, 0]."
    if got_shape == shape(extra=-1):
        return ("one position short in each direction: there are (n + 2p - k) // s + 1 window positions "
                "(range(n - k) misses the last one; use range(out_height) with the formula).")
    if stride != 1 and got_shape == shape(stride=1):
        return "the stride is ignored: with stride s the window jumps s pixels, so there are (n + 2p - k) // s + 1 positions."
    if padding != 0 and got_shape == shape(padding=0):
        return "the padding is ignored: add p zeros on every side first (F.pad(image, (p, p, p, p)))."
    if got_shape == expected[::-1]:
        return "rows and columns are swapped: the output is H_out x W_out, with i the row (height) and j the column."
    return "the output is (n + 2p - k) // s + 1 positions along each side: rows from the height, columns from the width."


def _conv_value_hint(image: Tensor, kernel: Tensor, stride: int, padding: int, got: Tensor) -> str | None:
    """Recognize a wrong answer of the right shape by replaying the usual mistakes."""
    if _close(got, conv2d_reference(image, kernel.flip(0, 1), stride, padding)):
        return ("you flipped the kernel: that is the mathematicians' convolution. PyTorch's conv2d (like every "
                "deep-learning library) computes a cross-correlation: multiply each window by the kernel as it is.")
    if got.shape[0] == got.shape[1] and _close(got.T, conv2d_reference(image, kernel, stride, padding)):
        return "rows and columns are swapped: output[i, j] comes from the window whose top-left corner is row i * s, column j * s."
    if stride != 1:
        full = conv2d_reference(image, kernel, 1, padding)
        if _close(got, full[:got.shape[0], :got.shape[1]]):
            return "the window moves one pixel at a time: it should jump `stride` pixels (top = i * stride, left = j * stride)."
    if padding != 0:
        ones = F.pad(image, (padding,) * 4, value=1.0)
        if _close(got, conv2d_reference(ones, kernel, stride, 0)):
            return "pad with zeros, not ones."
    return None


@checker(EXERCISE_CONV)
def check_conv2d(conv2d: Callable[..., Tensor]) -> Feedback:
    """``conv2d(image, kernel, stride=1, padding=0)`` must equal ``F.conv2d`` on 2-D images and kernels,
    written without ``F.conv2d`` / ``nn.Conv2d``."""
    earlier: list[tuple[str, Tensor]] = []
    for description, image, kernel, stride, padding in [*_conv_cases(), _conv_probe(fresh_seed())]:
        tried = f"conv2d(image, kernel, stride={stride}, padding={padding}) for {description}"
        given_image, given_kernel = image.clone(), kernel.clone()
        got = attempt_watched(EXERCISE_CONV, CONV_SHORTCUTS,
                              "write the loops yourself; F.conv2d is what the checker compares with.",
                              "move the kernel over the padded image with two for loops (or F.unfold).",
                              conv2d, given_image, given_kernel, stride, padding, tried=tried)
        expected = F.conv2d(image[None, None], kernel[None, None], stride=stride, padding=padding)[0, 0]
        typed_in = typed_in_message(got, earlier)
        if typed_in is not None:
            return failed(EXERCISE_CONV, typed_in, tried=tried, expected=_fmt(expected), got=_fmt(got),
                          hint="compute the output from the image, kernel, stride and padding given.")
        earlier.append((description.split(",")[0], expected))
        problem = tensor_problem(got, expected)
        if problem is not None:
            hint = _conv_shape_hint(image, kernel, stride, padding, tuple(got.shape)) if problem.kind == "shape" \
                else problem.hint
            return failed(EXERCISE_CONV, problem.message, tried=tried, hint=hint)
        if not (torch.equal(given_image, image) and torch.equal(given_kernel, kernel)):
            return failed(EXERCISE_CONV, "your function changed the image or the kernel in place.", tried=tried,
                          hint="build the output in a new tensor; pad into a new tensor (F.pad returns one).")
        if not _close(got, expected):
            hint = _conv_value_hint(image, kernel, stride, padding, got)
            first = " (the first output of the worked example is 4)" if description == WORKED_EXAMPLE else ""
            return failed(EXERCISE_CONV, "wrong values" + first + ".", tried=tried, expected=_fmt(expected),
                          got=_fmt(got), hint=hint or "each output is the sum of (window * kernel), the window "
                                                      "starting at row i * stride, column j * stride of the padded image.")
    return passed(EXERCISE_CONV, "the worked example gives [[4, 3, 4], [2, 4, 3], [2, 3, 4]], and strides, paddings and "
                                 "a random image match F.conv2d.")


# --------------------------------------------------------------------------------------------------
# Exercise 04.2: output size
# --------------------------------------------------------------------------------------------------

SIZE_CASES = [  # (n, k, stride, padding)
    (5, 3, 1, 0), (28, 3, 1, 1), (28, 5, 1, 0), (7, 3, 2, 0), (8, 3, 2, 1), (224, 7, 2, 3), (32, 5, 1, 2),
    (10, 4, 3, 0), (1080, 3, 2, 1), (13, 2, 2, 0),
    # (n + 2p - k) / s + 1 = 3.5, 5.5, 3.67: round() and floor give different sizes (Python rounds 4.5 to 4,
    # so x.5 cases with an even whole part cannot tell them apart)
    (8, 3, 2, 0), (12, 3, 2, 0), (11, 3, 3, 0),
]


def _size_probes(seed: int) -> list[tuple[int, int, int, int]]:
    """Three random cases, one with a stride of 2 whose division leaves a remainder of 1 (an x.5 case)."""
    rng = probe_random(seed)
    cases = []
    for _ in range(2):
        k, s, p = rng.choice([1, 2, 3, 5, 7]), rng.randint(1, 4), rng.randint(0, 3)
        cases.append((rng.randint(max(k - 2 * p, 1) + 1, 300), k, s, p))
    k, p = rng.choice([3, 5]), rng.randint(0, 2)
    whole = 2 * rng.randint(1, 60) + 1  # odd: (n + 2p - k) / 2 + 1 = whole + 0.5
    cases.append((2 * (whole - 1) + 1 + k - 2 * p, k, 2, p))
    return cases

_SIZE_MISTAKES: list[tuple[Callable[[int, int, int, int], float], str]] = [
    (lambda n, k, s, p: (n + 2 * p - k) // s, "one short: count the first position too, add 1 after dividing."),
    (lambda n, k, s, p: (n + p - k) // s + 1, "padding adds p pixels on *both* sides: n + 2p."),
    (lambda n, k, s, p: (n - k) // s + 1, "the padding is missing: the padded input is n + 2p long."),
    (lambda n, k, s, p: n + 2 * p - k + 1, "the stride is missing: divide by s (floor division) before adding 1."),
    (lambda n, k, s, p: (n + 2 * p - k + 1) // s, "add 1 *after* the division: (n + 2p - k) // s + 1."),
    (lambda n, k, s, p: -(-(n + 2 * p - k) // s) + 1, "round down, not up: a window that does not fit is dropped "
                                                      "(floor division //)."),
    (lambda n, k, s, p: (n + 2 * p - k) / s + 1, "use floor division //: a size is a whole number of positions."),
    (lambda n, k, s, p: round((n + 2 * p - k) / s + 1), "round() rounds 3.5 up to 4: a window that does not fit is "
                                                         "dropped, so round down with floor division //."),
    (lambda n, k, s, p: round((n + 2 * p - k) / s) + 1, "round() rounds 2.5 up to 3 (or to the even neighbour): a "
                                                         "window that does not fit is dropped, so round down with //."),
    (lambda n, k, s, p: int((n + 2 * p - k) / s + 1.5), "you rounded to the nearest whole number: a window that does "
                                                         "not fit is dropped, so round down with //."),
]


def _as_number(exercise: str, got: Any, tried: str, hint: str) -> numbers.Real | Feedback:
    """The attendee's answer as a plain number (a one-element tensor is unwrapped), or the failure to report."""
    if torch.is_tensor(got) and got.numel() == 1:
        got = got.item()
    if got is None or isinstance(got, bool) or not isinstance(got, numbers.Real):
        return failed(exercise, f"expected a whole number, got {describe(got)}.", tried=tried, hint=hint)
    return got


@checker(EXERCISE_SIZE)
def check_conv_output_size(conv_output_size_fn: Callable[..., int]) -> Feedback:
    """``conv_output_size(n, kernel_size, stride=1, padding=0)`` must return the int ``nn.Conv2d`` gives."""
    seed = fresh_seed()
    cases = SIZE_CASES + _size_probes(seed)
    answers = []
    for n, k, s, p in cases:
        tried = f"conv_output_size({n}, kernel_size={k}, stride={s}, padding={p})"
        got = _as_number(EXERCISE_SIZE, run_attempt(EXERCISE_SIZE, conv_output_size_fn, n, k, s, p, tried=tried),
                         tried, hint="return (n + 2 * padding - kernel_size) // stride + 1.")
        if isinstance(got, Feedback):
            return got
        answers.append(got)
    expected = [conv_output_size(n, k, s, p) for n, k, s, p in cases]
    if answers == expected and not all(isinstance(a, numbers.Integral) for a in answers):
        return failed(EXERCISE_SIZE, "the values are right but not all are ints (a float came back).",
                      tried="the cases " + ", ".join(map(str, cases)),
                      hint="use // (floor division), or int(...): layers take whole numbers of pixels.")
    for index, ((n, k, s, p), got, want) in enumerate(zip(cases, answers, expected)):
        if got != want:
            tried = f"conv_output_size({n}, kernel_size={k}, stride={s}, padding={p})"
            if index >= len(SIZE_CASES):
                tried += f" ({probe_label(seed)})"
            hint = next((text for mistake, text in _SIZE_MISTAKES
                         if all(mistake(*case) == answer for case, answer in zip(cases, answers))), None)
            if hint is None and len(set(answers)) == 1:
                hint = (f"every call returned {answers[0]!r}: compute the size from n, kernel_size, stride and "
                        "padding, not a number typed in.")
            return failed(EXERCISE_SIZE, "wrong size.", tried=tried, expected=want, got=got,
                          hint=hint or "count the positions of the window: floor((n + 2p - k) / s) + 1.")
    return passed(EXERCISE_SIZE, "(n + 2p - k) // s + 1, as nn.Conv2d computes it: 28 -> 28 with a 3 x 3 kernel and "
                                 "padding 1, 224 -> 112 with a 7 x 7 kernel, stride 2 and padding 3.")


# --------------------------------------------------------------------------------------------------
# Exercise 04.3: parameter count
# --------------------------------------------------------------------------------------------------

PARAMETER_CASES = [  # (in_channels, out_channels, kernel_size, bias)
    (1, 1, 3, True), (1, 8, 3, True), (3, 64, 3, True), (64, 128, 3, True), (16, 32, 5, True), (3, 64, 3, False),
    (8, 16, 1, True),
]

_PARAMETER_MISTAKES: list[tuple[Callable[[int, int, int, bool], int], str]] = [
    (lambda i, o, k, b: o * i * k * k, "the biases are missing: one bias per filter (out_channels of them)."),
    (lambda i, o, k, b: o * i * k * k + o, "bias=False means no biases at all."),
    (lambda i, o, k, b: o * k * k + (o if b else 0), "each filter has one k x k kernel *per input channel*: "
                                                     "multiply by in_channels too."),
    (lambda i, o, k, b: o * i * k + (o if b else 0), "a kernel has k x k weights: square the kernel size."),
    (lambda i, o, k, b: o * i * k * k + (o * i if b else 0), "one bias per filter (per output channel), not one per "
                                                             "kernel."),
    (lambda i, o, k, b: o * i * k * k + (1 if b else 0), "one bias per filter: out_channels biases, not one for the layer."),
    (lambda i, o, k, b: o * i * k * k + (i if b else 0), "one bias per filter: out_channels biases, not "
                                                         "in_channels."),
]


@checker(EXERCISE_PARAMETERS)
def check_conv_parameter_count(conv_parameters: Callable[..., int]) -> Feedback:
    """``conv_parameters(in_channels, out_channels, kernel_size, bias=True)`` must count the weights and
    biases of ``nn.Conv2d(in_channels, out_channels, kernel_size, bias=bias)``."""
    rng = probe_random(seed := fresh_seed())
    probes = [(rng.randint(2, 64), rng.randint(2, 128), rng.choice([1, 3, 5, 7]), rng.random() < 0.5) for _ in range(2)]
    cases = PARAMETER_CASES + probes
    answers = []
    for i, o, k, b in cases:
        tried = f"conv_parameters({i}, {o}, {k}, bias={b})"
        got = _as_number(EXERCISE_PARAMETERS, run_attempt(EXERCISE_PARAMETERS, conv_parameters, i, o, k, bias=b,
                                                          tried=tried),
                         tried, hint="return an int: weights plus biases.")
        if isinstance(got, Feedback):
            return got
        answers.append(got)
    expected = [sum(p.numel() for p in nn.Conv2d(i, o, k, bias=b).parameters()) for i, o, k, b in cases]
    for index, ((i, o, k, b), got, want) in enumerate(zip(cases, answers, expected)):
        if got != want:
            hint = next((text for mistake, text in _PARAMETER_MISTAKES
                         if all(mistake(*case) == answer for case, answer in zip(cases, answers))), None)
            if hint is None and len(set(answers)) == 1:
                hint = (f"every call returned {answers[0]!r}: count from the arguments, not a number typed in.")
            probe = f" ({probe_label(seed)})" if index >= len(PARAMETER_CASES) else ""
            return failed(EXERCISE_PARAMETERS, "wrong count.", tried=f"conv_parameters({i}, {o}, {k}, bias={b}){probe}",
                          expected=f"{want:,} (= sum(p.numel() for p in nn.Conv2d({i}, {o}, {k}, bias={b}).parameters()))",
                          got=f"{got:,}" if isinstance(got, numbers.Integral) else repr(got),
                          hint=hint or "out_channels filters, each in_channels x k x k weights, plus one bias per filter.")
    if not all(isinstance(a, numbers.Integral) for a in answers):
        return failed(EXERCISE_PARAMETERS, "the values are right but not all are ints.", hint="return an int.")
    return passed(EXERCISE_PARAMETERS, "out x in x k x k weights + out biases: nn.Conv2d(3, 64, 3) has 1,792 "
                                       "parameters, whatever the size of the image.")


# --------------------------------------------------------------------------------------------------
# Exercise 04.4: max pooling
# --------------------------------------------------------------------------------------------------

def _pool_probe(seed: int) -> tuple[str, Tensor, int]:
    rng = probe_random(seed)
    size = rng.choice([2, 2, 3])
    height, width = rng.randint(size, 4 * size + 1), rng.randint(size, 4 * size + 1)
    return (f"{probe_label(seed)}: a {height} x {width} map, size {size}",
            torch.randn(height, width, generator=probe_generator(seed)), size)


def _pool_cases() -> list[tuple[str, Tensor, int]]:
    generator = torch.Generator().manual_seed(5)
    four = torch.tensor([[1.0, 3.0, 2.0, 1.0], [4.0, 6.0, 5.0, 0.0], [3.0, 1.0, 1.0, 0.0], [2.0, 8.0, 1.0, 2.0]])
    return [
        ("a 4 x 4 map, size 2", four, 2),
        ("a 6 x 8 map, size 2", torch.randn(6, 8, generator=generator), 2),
        ("a 5 x 5 map, size 2 (the last row and column fit no window)", torch.randn(5, 5, generator=generator), 2),
        ("a 6 x 9 map, size 3", torch.randn(6, 9, generator=generator), 3),
        ("a map of negative numbers, size 2", -torch.rand(4, 6, generator=generator) - 1, 2),
    ]


def _pool_hint(x: Tensor, size: int, got: Tensor) -> str | None:
    windows = x[: x.shape[0] // size * size, : x.shape[1] // size * size]
    windows = windows.reshape(x.shape[0] // size, size, x.shape[1] // size, size)
    if _close(got, windows.mean(dim=(1, 3))):
        return "that is average pooling: take the largest value of each window (.max())."
    if _close(got, windows.amin(dim=(1, 3))):
        return "that is the smallest value of each window: take the largest (.max())."
    if _close(got, windows.abs().amax(dim=(1, 3))):
        return "take the largest value, not the largest absolute value: negative maps show the difference."
    if got.shape[0] == got.shape[1] and _close(got.T, max_pool2d_reference(x, size)):
        return "rows and columns are swapped."
    return None


@checker(EXERCISE_POOL)
def check_max_pool(max_pool2d: Callable[..., Tensor]) -> Feedback:
    """``max_pool2d(x, size=2)`` must equal ``F.max_pool2d(x, size)`` (stride = size) on 2-D maps, written
    without the library's pooling."""
    earlier: list[tuple[str, Tensor]] = []
    for description, x, size in [*_pool_cases(), _pool_probe(fresh_seed())]:
        tried = f"max_pool2d(x, size={size}) for {description}"
        given = x.clone()
        got = attempt_watched(EXERCISE_POOL, POOL_SHORTCUTS,
                              "write the windows yourself; F.max_pool2d is what the checker compares with.",
                              "two for loops over the windows and .max(), or reshape and .amax().",
                              max_pool2d, given, size, tried=tried)
        expected = F.max_pool2d(x[None, None], size)[0, 0]
        typed_in = typed_in_message(got, earlier)
        if typed_in is not None:
            return failed(EXERCISE_POOL, typed_in, tried=tried, expected=_fmt(expected), got=_fmt(got),
                          hint="compute the maxima from the map given.")
        earlier.append((description.split(",")[0], expected))
        problem = tensor_problem(got, expected)
        if problem is not None:
            hint = problem.hint
            if problem.kind == "shape":
                height, width = x.shape
                if tuple(got.shape) == (height - size + 1, width - size + 1):
                    hint = "the windows overlap: they must not. Move `size` pixels at a time (stride = size)."
                elif tuple(got.shape) == (-(-height // size), -(-width // size)):
                    hint = ("a window that does not fit is dropped (PyTorch's default, ceil_mode=False): "
                            "there are H // size rows of windows.")
                elif tuple(got.shape) == expected.shape[::-1]:
                    hint = "rows and columns are swapped."
                else:
                    hint = "one output per size x size window: H // size rows, W // size columns."
            return failed(EXERCISE_POOL, problem.message, tried=tried, hint=hint)
        if not torch.equal(given, x):
            return failed(EXERCISE_POOL, "your function changed its input in place.", tried=tried,
                          hint="read the windows; write the maxima into a new tensor.")
        if not _close(got, expected):
            return failed(EXERCISE_POOL, "wrong values.", tried=tried, expected=_fmt(expected), got=_fmt(got),
                          hint=_pool_hint(x, size, got) or "output[i, j] = x[i*size:(i+1)*size, j*size:(j+1)*size].max().")
    return passed(EXERCISE_POOL, "each size x size window keeps its largest value, as F.max_pool2d does.")


# --------------------------------------------------------------------------------------------------
# Exercise 04.5: batch normalization (training mode)
# --------------------------------------------------------------------------------------------------

def _batch_norm_probe(seed: int) -> tuple[str, Tensor, Tensor, Tensor]:
    rng, generator = probe_random(seed), probe_generator(seed)
    shape = (rng.randint(2, 6), rng.randint(2, 5), rng.randint(2, 5), rng.randint(2, 5))
    x = torch.randn(*shape, generator=generator) * (torch.rand(shape[1], generator=generator) * 4 + 0.5).reshape(
        1, -1, 1, 1) + torch.randn(shape[1], generator=generator).reshape(1, -1, 1, 1) * 3
    return (f"{probe_label(seed)}: x of shape {shape}, random gamma and beta", x,
            torch.rand(shape[1], generator=generator) + 0.5, torch.randn(shape[1], generator=generator))


def _batch_norm_cases() -> list[tuple[str, Tensor, Tensor, Tensor]]:
    generator = torch.Generator().manual_seed(6)
    # channels with very different means and spreads, so that normalizing per channel matters
    offsets = torch.tensor([5.0, -3.0, 0.5]).reshape(1, 3, 1, 1)
    spreads = torch.tensor([2.0, 0.5, 10.0]).reshape(1, 3, 1, 1)
    first = torch.randn(8, 3, 4, 5, generator=generator) * spreads + offsets
    second = torch.randn(2, 4, 3, 6, generator=generator) * 3 + 1
    constant = torch.randn(4, 2, 3, 5, generator=generator)
    constant[:, 1] = 7.0  # a channel with no variance: only eps keeps the division finite
    tiny = torch.randn(6, 2, 3, 4, generator=generator)
    tiny[:, 0] *= 1e-3  # variance 1e-6, below eps = 1e-5: where eps is added matters
    return [
        ("x of shape (8, 3, 4, 5), gamma = 1, beta = 0", first, torch.ones(3), torch.zeros(3)),
        ("x of shape (8, 3, 4, 5), gamma = [2, 0.5, 1], beta = [1, -1, 0.3]", first, torch.tensor([2.0, 0.5, 1.0]),
         torch.tensor([1.0, -1.0, 0.3])),
        ("x of shape (2, 4, 3, 6), random gamma and beta", second, torch.rand(4, generator=generator) + 0.5,
         torch.randn(4, generator=generator)),
        ("x of shape (4, 2, 3, 5) whose channel 1 is constant", constant, torch.ones(2), torch.zeros(2)),
        ("x of shape (6, 2, 3, 4) whose channel 0 varies very little (variance about 1e-6)", tiny, torch.ones(2),
         torch.zeros(2)),
    ]


def _expected_batch_norm(x: Tensor, gamma: Tensor, beta: Tensor, eps: float) -> Tensor:
    layer = nn.BatchNorm2d(x.shape[1], eps=eps).double().train()
    with torch.no_grad():
        layer.weight.copy_(gamma)
        layer.bias.copy_(beta)
        return layer(x.double()).float()


def _normalized(x: Tensor, gamma: Tensor, beta: Tensor, dims, *, unbiased: bool = False, eps: float = 1e-5,
                eps_outside: bool = False, affine: bool = True) -> Tensor:
    x = x.double()
    mean = x.mean(dim=dims, keepdim=True)
    variance = x.var(dim=dims, keepdim=True, unbiased=unbiased)
    scale = (variance.sqrt() + eps) if eps_outside else (variance + eps).sqrt()
    normalized = (x - mean) / scale
    if not affine:
        return normalized
    return gamma.double().reshape(1, -1, 1, 1) * normalized + beta.double().reshape(1, -1, 1, 1)


def _batch_norm_hint(x: Tensor, gamma: Tensor, beta: Tensor, eps: float, got: Tensor) -> str | None:
    candidates = [
        ({"dims": (0, 2, 3), "unbiased": True},
         "that is the unbiased variance (divided by m - 1): torch.var and .var() do that by default. Batch norm "
         "divides by m: .var(..., unbiased=False) (or correction=0), or ((x - mean) ** 2).mean(...)."),
        ({"dims": (0, 1, 2, 3)},
         "one mean and variance for the whole batch: batch norm computes them per channel, over dims (0, 2, 3) "
         "(the batch, the height and the width)."),
        ({"dims": (2, 3)},
         "each image is normalized on its own (over H and W): batch norm averages over the batch too: "
         "dims (0, 2, 3)."),
        ({"dims": (1, 2, 3)},
         "each example is normalized over its channels (that is layer norm): batch norm works per channel, "
         "over dims (0, 2, 3)."),
        ({"dims": 0},
         "over the batch only (one mean per channel *and position*): average over H and W as well, dims (0, 2, 3)."),
        ({"dims": (0, 2, 3), "eps_outside": True}, "eps goes inside the square root: sqrt(variance + eps)."),
        ({"dims": (0, 2, 3), "eps": 0.0},
         "eps is missing: divide by sqrt(variance + eps); it matters when a channel hardly varies."),
        ({"dims": (0, 2, 3), "affine": False},
         "gamma and beta are not applied: scale the normalized values by gamma and shift them by beta (one of each "
         "per channel)."),
    ]
    for options, hint in candidates:
        options = {"eps": eps, **options}
        if _close(got, _normalized(x, gamma, beta, **options).float(), atol=1e-3):
            return hint
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    variance = x.var(dim=(0, 2, 3), keepdim=True, unbiased=False)
    no_sqrt = gamma.reshape(1, -1, 1, 1) * (x - mean) / (variance + eps) + beta.reshape(1, -1, 1, 1)
    if _close(got, no_sqrt, atol=1e-3):
        return "divide by the standard deviation, sqrt(variance + eps), not by the variance."
    return None


@checker(EXERCISE_BATCH_NORM)
def check_batch_norm(batch_norm_train: Callable[..., Tensor]) -> Feedback:
    """``batch_norm_train(x, gamma, beta, eps=1e-5)`` must equal ``nn.BatchNorm2d`` in training mode (with
    ``weight = gamma`` and ``bias = beta``) on N x C x H x W batches, written without the library's norms."""
    eps = 1e-5
    earlier: list[tuple[str, Tensor]] = []
    for description, x, gamma, beta in [*_batch_norm_cases(), _batch_norm_probe(fresh_seed())]:
        tried = f"batch_norm_train(x, gamma, beta) for {description}"
        given = (x.clone(), gamma.clone(), beta.clone())
        try:
            got = attempt_watched(EXERCISE_BATCH_NORM, BATCH_NORM_SHORTCUTS,
                                  "compute the mean and variance yourself; nn.BatchNorm2d is what the checker "
                                  "compares with.", "x.mean(dim=(0, 2, 3), keepdim=True) and "
                                                    "x.var(dim=(0, 2, 3), keepdim=True, unbiased=False).",
                                  batch_norm_train, *given, tried=tried)
        except AttemptError as error:
            if "must match the size" in error.feedback.message:
                error.feedback.hint = ("a tensor of shape (C,) lines up with the *last* dimension (W), not the channels: "
                                       "keep the reduced dimensions (keepdim=True) and reshape gamma and beta to "
                                       "(1, C, 1, 1).")
            raise
        expected = _expected_batch_norm(x, gamma, beta, eps)
        # Checked after the usual mistakes: without gamma and beta, the second case's answer is the first's.
        typed_in = typed_in_message(got, earlier)
        earlier.append((description.split(",")[0], expected))
        problem = tensor_problem(got, expected)
        if typed_in is not None and problem is not None and problem.kind == "shape":
            return failed(EXERCISE_BATCH_NORM, typed_in, tried=tried, hint="normalize the x given.")
        if problem is not None:
            hint = problem.hint
            if problem.kind == "nonfinite":
                hint = ("a channel with no variance divides by zero: add eps inside the square root, "
                        "sqrt(variance + eps).")
            elif problem.kind == "shape":
                hint = ("return a tensor shaped like x: compute the statistics with keepdim=True (shape 1 x C x 1 x 1) "
                        "so they broadcast over x.")
            return failed(EXERCISE_BATCH_NORM, problem.message, tried=tried, hint=hint)
        if not all(torch.equal(a, b) for a, b in zip(given, (x, gamma, beta))):
            return failed(EXERCISE_BATCH_NORM, "your function changed its inputs in place.", tried=tried,
                          hint="write x_hat = (x - mean) / ..., a new tensor, not x -= mean.")
        if not _close(got, expected, atol=1e-4):
            hint = _batch_norm_hint(x, gamma, beta, eps, got)
            if hint is None and typed_in is not None:
                return failed(EXERCISE_BATCH_NORM, typed_in, tried=tried, hint="normalize the x given.")
            return failed(EXERCISE_BATCH_NORM, "the values differ from nn.BatchNorm2d in training mode.", tried=tried,
                          expected=_fmt(expected), got=_fmt(got),
                          hint=hint
                          or "per channel: mean and biased variance over dims (0, 2, 3), then "
                             "gamma * (x - mean) / sqrt(variance + eps) + beta.")
    return passed(EXERCISE_BATCH_NORM, "per channel, over the batch and every position, with the biased variance: "
                                       "the same as nn.BatchNorm2d in training mode.")


# --------------------------------------------------------------------------------------------------
# Exercise 04.6: a CNN with at most a tenth of the MLP's parameters
# --------------------------------------------------------------------------------------------------

def _parameter_lines(model: nn.Module) -> list[str]:
    lines = []
    for name, module in model.named_modules():
        count = sum(p.numel() for p in module.parameters(recurse=False))
        if count:
            lines.append(f"{name or type(model).__name__} ({type(module).__name__}): {count:,} parameters")
    return lines[:12]


def _forward_error_hint(message: str, other_batch_size: bool) -> str | None:
    """A hint for the usual errors of a CNN's forward pass."""
    if "mat1 and mat2" in message:
        return ("the Linear layer after nn.Flatten() must take channels x height x width inputs of the last feature "
                "maps: compute them with the output-size formula (or print x.shape before flattening).")
    if other_batch_size and ("invalid for input of size" in message or "size mismatch" in message):
        return ("it worked with 5 images but not with another number: flatten with nn.Flatten() or x.flatten(1), "
                "never with a fixed batch size such as x.view(5, -1).")
    return None


@checker(EXERCISE_CNN)
def check_compact_cnn(build_cnn: Callable[[], nn.Module], max_parameters: int = MAX_CNN_PARAMETERS) -> Feedback:
    """``build_cnn()`` must return a new ``nn.Module`` with ``nn.Conv2d`` layers and at most
    ``max_parameters`` parameters (a tenth of notebook 03's MLP) that maps N x 1 x 28 x 28 images to
    N x 10 class scores (logits), in training and in evaluation mode, for any batch size."""
    torch.manual_seed(0)
    model = run_attempt(EXERCISE_CNN, build_cnn, tried="build_cnn()")
    if not isinstance(model, nn.Module):
        return failed(EXERCISE_CNN, f"build_cnn() should return an nn.Module, got {describe(model)}.",
                      tried="build_cnn()", hint="return nn.Sequential(...) (or an instance of your nn.Module class).")
    if not list(model.children()) and not list(model.parameters()):
        return failed(EXERCISE_CNN, "not done yet: the model is empty (it has no layers).", tried="build_cnn()",
                      hint="put layers inside nn.Sequential(...): convolution blocks, nn.Flatten(), nn.Linear(..., 10).")
    if not any(isinstance(module, nn.Conv2d) for module in model.modules()):
        return failed(EXERCISE_CNN, "the model has no nn.Conv2d layer: that is not a convolutional network.",
                      tried="build_cnn()", details=[repr(model)[:300]],
                      hint="start with nn.Conv2d(1, 8, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2).")
    device = next(model.parameters(), torch.empty(0)).device
    generator = torch.Generator().manual_seed(1)
    outputs = {}
    for batch in (5, 1):
        images = torch.rand(batch, 1, 28, 28, generator=generator).to(device)
        tried = f"model.eval(); model(images) with images of shape ({batch}, 1, 28, 28)"
        model.eval()
        with torch.no_grad():
            try:
                got = run_attempt(EXERCISE_CNN, model, images, tried=tried)
            except AttemptError as error:
                hint = _forward_error_hint(error.feedback.message, batch != 5)
                if hint:  # the failing line is inside torch's layer, not the attendee's: the hint says more
                    error.feedback.hint, error.feedback.details = hint, []
                raise
        if not torch.is_tensor(got):
            return failed(EXERCISE_CNN, f"the model returned {describe(got)}, not a tensor.", tried=tried,
                          hint="forward must return the class scores.")
        if tuple(got.shape) != (batch, 10):
            hint = "the last layer must give 10 numbers per image: nn.Linear(..., 10)."
            if got.dim() == 4 and got.shape[:2] == (batch, 10):
                hint = "flatten the feature maps (nn.Flatten()) and end with nn.Linear(..., 10)."
            elif got.dim() >= 1 and got.shape[0] != batch:
                hint = ("one row per image: flatten with nn.Flatten() or x.flatten(1), never with a fixed batch "
                        "size such as x.view(64, -1).")
            return failed(EXERCISE_CNN, f"wrong output shape: expected ({batch}, 10), got {tuple(got.shape)}.",
                          tried=tried, hint=hint)
        outputs[batch] = got
    if not all(bool(torch.isfinite(output).all()) for output in outputs.values()):
        return failed(EXERCISE_CNN, "the model's scores contain NaN or infinity.", tried="model(images)",
                      hint="build fresh layers and leave their weights as PyTorch initializes them.")
    count = sum(p.numel() for p in model.parameters())  # after the forward pass: lazy layers have a size now
    if count > max_parameters:
        return failed(EXERCISE_CNN, f"{count:,} parameters: more than {max_parameters:,}, a tenth of the MLP's "
                                    f"{MLP_PARAMETERS:,}.", tried="build_cnn()", details=_parameter_lines(model),
                      hint="the Linear layer after the flattening usually costs the most: shrink the maps first "
                           "(nn.MaxPool2d(2) after each block, or global average pooling) and keep few channels.")
    probabilities = outputs[5]
    if bool(((probabilities >= 0) & (probabilities <= 1)).all()) and torch.allclose(
            probabilities.sum(dim=1), torch.ones(5, device=device), atol=1e-4):
        return failed(EXERCISE_CNN, "the outputs are probabilities (each row sums to 1): a softmax ends the model.",
                      tried="model(images)", hint="return raw scores (logits): nn.CrossEntropyLoss applies the "
                                                  "softmax itself. Remove the final nn.Softmax.")
    if not any(p.requires_grad for p in model.parameters()):
        return failed(EXERCISE_CNN, "no parameter requires a gradient: the model cannot learn.", tried="build_cnn()",
                      hint="do not freeze the layers (requires_grad_(False)) of a model you want to train.")
    model.train()
    run_attempt(EXERCISE_CNN, model, torch.rand(4, 1, 28, 28, generator=generator).to(device),
                tried="model.train(); model(images) with images of shape (4, 1, 28, 28)")
    return passed(EXERCISE_CNN, f"{count:,} parameters ({count / MLP_PARAMETERS:.1%} of the MLP's), N x 1 x 28 x 28 "
                                f"images in, N x 10 scores out.")


# The reference answers, for notebooks that fall back on them when an exercise is not done yet.
reference_conv2d = conv2d_reference
reference_conv_output_size = conv_output_size
reference_conv_parameter_count = conv_parameter_count
reference_max_pool2d = max_pool2d_reference
reference_batch_norm = batch_norm_reference
