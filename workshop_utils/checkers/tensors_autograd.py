"""Checkers for notebook 01 (tensors and autograd).

Each checker calls the attendee's function on several inputs, edge cases included, and compares with
a reference. Typical mistakes (channels-last images, ``.view`` on a permuted tensor, the unbiased
standard deviation, a forgotten ``requires_grad``, gradients that pile up, gradient *ascent*, an
update outside ``torch.no_grad()``...) are recognised and explained with a hint.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

import torch

from .core import AttemptError, Feedback, checker, failed, passed, probe_seed, run_attempt
from .forbidden import AUTOGRAD, forbidden_calls
from .tensor_checks import describe

EX_IMAGE_BATCH = "Exercise 01.1 (a batch of images)"
EX_FLATTEN = "Exercise 01.2 (flatten a batch)"
EX_STANDARDIZE = "Exercise 01.3 (vectorize: standardize columns)"
EX_BY_HAND = "Exercise 01.4 (gradients by hand)"
EX_AUTOGRAD = "Exercise 01.5 (gradients with autograd)"
EX_CHAIN_RULE = "Exercise 01.6 (backward pass by hand)"
EX_DESCENT = "Exercise 01.7 (gradient descent)"
EX_SGD_STEP = "Exercise 01.8 (a parameter update under no_grad)"

# Pieces of PyTorch error messages, and what to do about them (in the attendee's words).
ERROR_HINTS = {
    "view size is not compatible": "`.view` only works on a tensor laid out contiguously in memory, and this "
                                   "batch came from a `permute`. Use `.reshape(...)` (it copies only when it "
                                   "has to) or `.flatten(start_dim=1)`.",
    "is invalid for input of size": "don't hard-code sizes: take the batch size from `images.shape[0]` and let "
                                    "`-1` work out the rest, e.g. `images.reshape(images.shape[0], -1)`.",
    "does not require grad and does not have a grad_fn":
        "autograd only tracks tensors created with `requires_grad=True`, e.g. "
        "`x = torch.tensor(x, requires_grad=True)`; without it there is nothing to differentiate.",
    "backward through the graph a second time":
        "call `.backward()` once per forward pass: it frees the graph. Compute f again for a second backward.",
    "Only Tensors of floating point": "gradients need floating-point tensors: `torch.tensor(2.0, "
                                      "requires_grad=True)`, not `torch.tensor(2, ...)`.",
    "leaf Variable that requires grad is being used in an in-place operation":
        "autograd refuses to record an in-place change of a parameter. Do the update inside "
        "`with torch.no_grad():`, where nothing is recorded.",
    "requires grad. Use tensor.detach()": "`.numpy()` and `float(...)` on a tensor that requires grad: call "
                                          "`.detach()` first (or `.item()` for one number).",
}


def _attempt(exercise: str, function: Callable[..., Any], *args: Any, tried: str) -> Any:
    """``run_attempt`` with hints for the PyTorch errors this notebook's exercises typically raise."""
    try:
        return run_attempt(exercise, function, *args, tried=tried)
    except AttemptError as error:
        for fragment, hint in ERROR_HINTS.items():
            if fragment in error.feedback.message:
                error.feedback.hint = hint
                break
        raise


@contextmanager
def _count_autograd_calls() -> Iterator[dict[str, int]]:
    """Count calls of autograd (``tensor.backward()``, ``torch.autograd.grad`` and friends) inside the block,
    whatever name they were imported under: did the attendee's code run autograd?"""
    counter = {"calls": 0}
    with forbidden_calls(AUTOGRAD) as seen:
        try:
            yield counter
        finally:
            counter["calls"] = len(seen.names)
    counter["calls"] = len(seen.names)


def _random(seed: int, count: int, scale: float = 3.0) -> list[float]:
    """``count`` numbers drawn for this call's probe, rounded to 2 decimals so the message stays readable."""
    generator = torch.Generator().manual_seed(seed)
    return [round(float(v), 2) for v in (torch.rand(count, generator=generator) * 2 - 1) * scale]


def _as_float(value: Any) -> float | None:
    """A number (int, float, NumPy scalar, one-element tensor) as a float; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, torch.Tensor):
        return float(value.detach().reshape(-1)[0]) if value.numel() == 1 else None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _close(a: float, b: float, tolerance: float = 1e-5) -> bool:
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)


def _numbers(values: Sequence[float], digits: int = 4) -> str:
    return "(" + ", ".join(f"{v:.{digits}g}" for v in values) + ")"


# --------------------------------------------------------------------------- 01.1: a batch of images

IMAGE_BATCH_SHAPE = (8, 3, 32, 32)


@checker(EX_IMAGE_BATCH)
def check_image_batch(make_image_batch: Callable[[], torch.Tensor]) -> Feedback:
    """``make_image_batch()`` must return zeros of shape (8, 3, 32, 32), dtype float32: a batch of 8 RGB
    images of 32x32 pixels, channels first (PyTorch's N, C, H, W)."""
    images = _attempt(EX_IMAGE_BATCH, make_image_batch, tried="make_image_batch()")
    expected = f"a float32 tensor of shape {IMAGE_BATCH_SHAPE}"
    if images is None:
        return failed(EX_IMAGE_BATCH, "make_image_batch() returned None.", expected=expected,
                      hint="end the function with `return images`.")
    if not isinstance(images, torch.Tensor):
        hint = ("build it with PyTorch: `torch.zeros(...)` (or convert with `torch.from_numpy`)."
                if type(images).__module__ == "numpy" else "build it with `torch.zeros(...)`.")
        return failed(EX_IMAGE_BATCH, "the batch must be a PyTorch tensor.", expected=expected,
                      got=describe(images), hint=hint)
    shape = tuple(images.shape)
    if shape != IMAGE_BATCH_SHAPE:
        return failed(EX_IMAGE_BATCH, _image_shape_problem(shape), expected=f"shape {IMAGE_BATCH_SHAPE}",
                      got=f"shape {shape}",
                      hint="PyTorch orders image batches as (N, C, H, W): images, channels, height, width.")
    if images.dtype != torch.float32:
        why = {torch.float64: "float64 (double precision) is what NumPy gives by default; models use float32, "
                              "which is half the memory and much faster on GPUs.",
               torch.int64: "integers cannot hold pixel values between 0 and 1, nor carry gradients."}
        return failed(EX_IMAGE_BATCH, f"the dtype is {images.dtype}. "
                      + why.get(images.dtype, "images for a network are float32."),
                      expected="torch.float32", got=str(images.dtype),
                      hint="`torch.zeros(...)` is float32 by default; or pass `dtype=torch.float32`.")
    if not bool((images == 0).all()):
        return failed(EX_IMAGE_BATCH, "the shape and dtype are right, but the values are not all zeros.",
                      expected="all zeros", got=f"values from {images.min().item():.3g} to {images.max().item():.3g}",
                      hint="use `torch.zeros(...)` (not `torch.rand` or `torch.empty`, whose values are "
                           "random or leftover memory).")
    size_kib = images.numel() * images.element_size() / 1024
    return passed(EX_IMAGE_BATCH, f"shape {shape}, float32: {images.numel():,} numbers, {size_kib:.0f} KiB. "
                                  "Channels first, as PyTorch expects.")


def _image_shape_problem(shape: tuple[int, ...]) -> str:
    """Explain a wrong shape for the (8, 3, 32, 32) batch."""
    if shape == (8, 32, 32, 3):
        return ("the channels are last (N, H, W, C): that is how NumPy, PIL and matplotlib store images, "
                "but PyTorch layers expect channels first (N, C, H, W).")
    if shape == (3, 8, 32, 32):
        return "the batch dimension must come first: (N, C, H, W), not (C, N, H, W)."
    if shape in ((3, 32, 32), (32, 32, 3)):
        return "that is one image; the exercise asks for a batch of 8, with the batch dimension first."
    if shape == (8, 32, 32):
        return "that is a batch of grey images: RGB images need a channel dimension of size 3."
    if shape in ((8, 3072), (8, 3, 1024), (24576,)):
        return "that batch is flattened; keep the 4 dimensions (N, C, H, W)."
    if sorted(shape) == sorted(IMAGE_BATCH_SHAPE):
        return "the right sizes, in the wrong order."
    return f"the shape should have 4 dimensions, (N, C, H, W) = {IMAGE_BATCH_SHAPE}."


# --------------------------------------------------------------------------- 01.2: flatten a batch

def _flatten_inputs() -> list[tuple[str, torch.Tensor]]:
    def counting(*shape: int) -> torch.Tensor:
        return torch.arange(math.prod(shape), dtype=torch.float32).reshape(shape)

    permuted = counting(2, 6, 5, 3).permute(0, 3, 1, 2)  # (2, 3, 6, 5), channels-last in memory
    return [("a batch of shape (8, 3, 32, 32)", counting(8, 3, 32, 32)),
            ("a batch of shape (5, 3, 4, 7) (not square)", counting(5, 3, 4, 7)),
            ("a single grey image, shape (1, 1, 28, 28)", counting(1, 1, 28, 28)),
            ("a batch of shape (2, 3, 6, 5) that came from a permute (not contiguous)", permuted),
            _random_batch(probe_seed(), counting)]


def _random_batch(seed: int, counting: Callable[..., torch.Tensor]) -> tuple[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    shape = tuple(int(v) for v in torch.randint(1, 7, (4,), generator=generator))
    return f"a random probe (seed {seed}): a batch of shape {shape}", counting(*shape)


@checker(EX_FLATTEN)
def check_flatten_images(flatten_images: Callable[[torch.Tensor], torch.Tensor]) -> Feedback:
    """``flatten_images(images)`` must turn (N, C, H, W) into (N, C*H*W), each row one image's values in
    their original order, for any sizes, including a non-contiguous batch; the input must not change."""
    for description, images in _flatten_inputs():
        before = images.clone()
        count = images.shape[0]
        expected = images.reshape(count, -1)
        got = _attempt(EX_FLATTEN, flatten_images, images, tried=f"flatten_images({description})")
        if not torch.equal(images, before):
            return failed(EX_FLATTEN, "flatten_images changed its input.", tried=description,
                          hint="return a new view or tensor; don't modify `images` in place.")
        if not isinstance(got, torch.Tensor):
            return failed(EX_FLATTEN, "flatten_images must return a tensor.", tried=description,
                          expected=f"a tensor of shape {tuple(expected.shape)}", got=describe(got),
                          hint="did you forget `return`?" if got is None else None)
        shape = tuple(got.shape)
        if shape != tuple(expected.shape):
            return failed(EX_FLATTEN, _flatten_shape_problem(shape, tuple(images.shape)), tried=description,
                          expected=f"shape {tuple(expected.shape)}", got=f"shape {shape}",
                          hint="`images.reshape(images.shape[0], -1)` keeps the batch dimension and "
                               "flattens the rest; so does `images.flatten(start_dim=1)`.")
        if not torch.equal(got.to(expected.dtype), expected):
            channels_last = images.permute(0, 2, 3, 1).reshape(count, -1)
            message = ("the values are in channels-last order (pixel by pixel, R G B): you permuted "
                       "before flattening." if torch.equal(got.to(expected.dtype), channels_last)
                       else "the shape is right but the values are not the image's values in order.")
            return failed(EX_FLATTEN, message, tried=description,
                          hint="flatten without reordering: row i must be `images[i]`'s values, channel "
                               "by channel, row by row.")
    return passed(EX_FLATTEN, "(N, C, H, W) -> (N, C·H·W) for every batch tried, including a single image "
                              "and one that came from a permute.")


def _flatten_shape_problem(shape: tuple[int, ...], input_shape: tuple[int, ...]) -> str:
    count, rest = input_shape[0], math.prod(input_shape[1:])
    if shape == (count * rest,):
        return "the result is 1-D: you flattened the batch dimension too. Keep one row per image."
    if shape == (rest, count):
        return "rows and columns are swapped: one row per image, (N, C·H·W)."
    return "the result must have one row per image and C·H·W columns."


# --------------------------------------------------------------------------- 01.3: standardize columns

def standardize_reference(X: torch.Tensor) -> torch.Tensor:
    """Each column minus its mean, divided by its (population) standard deviation; constant columns -> 0."""
    std = X.std(dim=0, correction=0)
    return (X - X.mean(dim=0)) / torch.where(std > 0, std, torch.ones_like(std))


def _standardize_inputs() -> list[tuple[str, torch.Tensor]]:
    generator = torch.Generator().manual_seed(1)
    scales, shifts = torch.tensor([1.0, 10.0, 0.1]), torch.tensor([0.0, 5.0, -2.0])
    with_constant = torch.randn(5, 3, generator=generator)
    with_constant[:, 1] = 5.0  # exactly representable: its mean is exactly 5 and its std exactly 0
    different_scales = torch.randn(6, 3, generator=generator) * scales + shifts
    return [("a 6×3 matrix with columns on different scales", different_scales),
            ("a 200×5 matrix", torch.randn(200, 5, generator=generator) * 3 + 1),
            ("a 5×3 matrix whose middle column is constant (all 5.0)", with_constant),
            ("a matrix with a single row, 1×4", torch.randn(1, 4, generator=generator)),
            ("a 7×1 matrix (one column)", torch.randn(7, 1, generator=generator) * 2),
            _random_matrix(probe_seed())]


def _random_matrix(seed: int) -> tuple[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    rows, columns = (int(v) for v in torch.randint(2, 9, (2,), generator=generator))
    return (f"a random probe (seed {seed}): a {rows}×{columns} matrix",
            torch.randn(rows, columns, generator=generator) * 5 + 2)


@checker(EX_STANDARDIZE)
def check_standardize_columns(standardize_columns: Callable[[torch.Tensor], torch.Tensor],
                              loop_version: Callable[[torch.Tensor], torch.Tensor] | None = None) -> Feedback:
    """``standardize_columns(X)`` must match the loop version: per column, subtract the mean and divide
    by the population standard deviation (divide by n), constant columns become 0; X must not change.

    With ``loop_version``, also measures how much faster the attendee's version is (reported, never
    required: timings vary from machine to machine)."""
    for description, X in _standardize_inputs():
        before = X.clone()
        expected = standardize_reference(X)
        given = X.clone()
        got = _attempt(EX_STANDARDIZE, standardize_columns, given, tried=f"standardize_columns({description})")
        if not torch.equal(given, before):
            return failed(EX_STANDARDIZE, "standardize_columns changed X itself.", tried=description,
                          hint="`X -= mean` works in place and changes the caller's data; `X - mean` makes "
                               "a new tensor. Keep X as it was.")
        if not isinstance(got, torch.Tensor):
            return failed(EX_STANDARDIZE, "standardize_columns must return a tensor.", tried=description,
                          expected=f"a tensor of shape {tuple(X.shape)}", got=describe(got),
                          hint="did you forget `return`?" if got is None else None)
        if tuple(got.shape) != tuple(X.shape):
            return failed(EX_STANDARDIZE, "the result must have the same shape as X.", tried=description,
                          expected=f"shape {tuple(X.shape)}", got=f"shape {tuple(got.shape)}",
                          hint="compute the means and stds per column (`dim=0`: one number per column), "
                               "then `(X - mean) / std` broadcasts them over the rows.")
        got = got.detach().to(torch.float32)
        if torch.isnan(got).any():
            return failed(EX_STANDARDIZE, "the result contains NaN.", tried=description,
                          details=["a constant column (or a single row) has standard deviation 0, and 0 / 0 is NaN."],
                          hint="the loop leaves such columns at 0: divide by "
                               "`torch.where(std > 0, std, torch.ones_like(std))` instead of std.")
        if not torch.allclose(got, expected, rtol=1e-4, atol=1e-5):
            return failed(EX_STANDARDIZE, _standardize_problem(X, got), tried=description,
                          expected=f"first row {_numbers(expected[0].tolist())}",
                          got=f"first row {_numbers(got[0].tolist())}")
    return passed(EX_STANDARDIZE, "matches the loop on every matrix tried (including a constant column and "
                                  "a single row)." + _speed_report(standardize_columns, loop_version))


def _standardize_problem(X: torch.Tensor, got: torch.Tensor) -> str:
    """Name the usual mistake behind a wrong standardization, or describe the difference."""
    n = X.shape[0]
    if n > 1:
        unbiased = X.std(dim=0)
        unbiased_version = (X - X.mean(dim=0)) / torch.where(unbiased > 0, unbiased, torch.ones_like(unbiased))
        if torch.allclose(got, unbiased_version, rtol=1e-4, atol=1e-5):
            return ("close, but divided by the sample std (n - 1): torch's `.std()` divides by n - 1 by "
                    "default, the loop divides by n. Use `X.std(dim=0, correction=0)` (or `unbiased=False`).")
    if X.shape[1] > 1:
        row_std = X.std(dim=1, correction=0, keepdim=True)
        by_rows = (X - X.mean(dim=1, keepdim=True)) / torch.where(row_std > 0, row_std, torch.ones_like(row_std))
        if torch.allclose(got, by_rows, rtol=1e-4, atol=1e-5):
            return ("you standardized each row. The mean and std must be per column: `dim=0` reduces over "
                    "the rows and leaves one number per column.")
    if torch.allclose(got, X - X.mean(dim=0), rtol=1e-4, atol=1e-5):
        return "each column has mean 0 now, but you did not divide by its standard deviation."
    return "the values differ from the loop version: subtract each column's mean, divide by its std (divide by n)."


def _speed_report(vectorized: Callable[[torch.Tensor], Any], loop_version: Callable[[torch.Tensor], Any] | None) -> str:
    """" On a 500×20 matrix: 0.05 ms against 90 ms for the loop, about 1800× faster." (or "")."""
    if loop_version is None:
        return ""
    from ..timing import time_call

    X = torch.randn(500, 20, generator=torch.Generator().manual_seed(2))
    try:
        loop_seconds = time_call(lambda: loop_version(X), repeat=1, warmup=0)
        fast_seconds = time_call(lambda: vectorized(X), repeat=5, warmup=1)
    except Exception:  # the loop version is the attendee's cell too: a report, never a failure
        return ""
    return (f" On a 500×20 matrix: {fast_seconds * 1e3:.2f} ms against {loop_seconds * 1e3:.0f} ms for the loop, "
            f"about {loop_seconds / max(fast_seconds, 1e-9):,.0f}× faster.")


# --------------------------------------------------------------------------- 01.4 and 01.5: f = (x + y) z

GRAPH_INPUTS = [(-2.0, 5.0, -4.0), (1.0, 2.0, 3.0), (0.5, -1.5, 2.0), (3.0, -3.0, 0.0)]
_GRAPH_HINTS = ("f = q·z with q = x + y. Chain rule: df/dx = df/dq · dq/dx = z · 1 = z.",
                "f = q·z with q = x + y. Chain rule: df/dy = df/dq · dq/dy = z · 1 = z.",
                "f is z times the number q = x + y, so df/dz = q = x + y.")


def graph_gradients(x: float, y: float, z: float) -> tuple[float, float, float]:
    """The reference: f = (x + y) z has gradient (z, z, x + y)."""
    return z, z, x + y


def _three_numbers(exercise: str, got: Any, tried: str, *, tensors: bool = False) -> list[float] | Feedback:
    """``got`` as three floats, or a Feedback explaining why it is not (three) numbers."""
    if got is None:
        return failed(exercise, "the function returned None.", tried=tried, expected="(df_dx, df_dy, df_dz)",
                      hint="end with `return df_dx, df_dy, df_dz`.")
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        return failed(exercise, "return three values: (df_dx, df_dy, df_dz).", tried=tried, got=describe(got))
    values = []
    for name, value in zip(("df_dx", "df_dy", "df_dz"), got):
        number = _as_float(value)
        if number is None:
            return failed(exercise, f"{name} must be a number.", tried=tried, got=describe(value))
        values.append(number)
    return values


@checker(EX_BY_HAND)
def check_grads_by_hand(grads_by_hand: Callable[[float, float, float], tuple[float, float, float]]) -> Feedback:
    """``grads_by_hand(x, y, z)`` must return (df/dx, df/dy, df/dz) of f = (x + y) z, on several inputs."""
    seed = probe_seed()
    for index, (x, y, z) in enumerate(GRAPH_INPUTS + [tuple(_random(seed, 3))]):
        probe = f"a random probe (seed {seed}): " if index == len(GRAPH_INPUTS) else ""
        tried = f"{probe}grads_by_hand(x={x}, y={y}, z={z})"
        got = _three_numbers(EX_BY_HAND, _attempt(EX_BY_HAND, grads_by_hand, x, y, z, tried=tried), tried)
        if isinstance(got, Feedback):
            return got
        expected = graph_gradients(x, y, z)
        wrong = [index for index in range(3) if not _close(got[index], expected[index])]
        if wrong:
            if _close(got[0], x + y) and _close(got[1], x + y) and _close(got[2], z):
                hint = "you swapped them: df/dx and df/dy are z, df/dz is x + y."
            elif all(_close(g, 1.0) for g in got[:2]) and 0 in wrong:
                hint = "dq/dx = 1 is only the local derivative: multiply by df/dq = z (chain rule)."
            else:
                hint = _GRAPH_HINTS[wrong[0]]
            names = ", ".join(("df/dx", "df/dy", "df/dz")[index] for index in wrong)
            return failed(EX_BY_HAND, f"{names} {'is' if len(wrong) == 1 else 'are'} wrong.", tried=tried,
                          expected=_numbers(expected), got=_numbers(got), hint=hint)
    return passed(EX_BY_HAND, "(z, z, x + y) on every input: the + gate copies the gradient to both inputs, "
                              "the × gate gives each input the other one.")


@checker(EX_AUTOGRAD)
def check_grads_with_autograd(grads_with_autograd: Callable[[float, float, float], tuple]) -> Feedback:
    """``grads_with_autograd(x, y, z)`` must build f = (x + y) z from tensors with ``requires_grad=True``,
    call ``backward()`` and return ``(x.grad, y.grad, z.grad)``; checked on several inputs."""
    seed = probe_seed()
    for index, (x, y, z) in enumerate(GRAPH_INPUTS[:3] + [tuple(_random(seed, 3))]):
        probe = f"a random probe (seed {seed}): " if index == 3 else ""
        tried = f"{probe}grads_with_autograd(x={x}, y={y}, z={z})"
        with _count_autograd_calls() as autograd:
            got = _attempt(EX_AUTOGRAD, grads_with_autograd, x, y, z, tried=tried)
        if isinstance(got, (tuple, list)) and len(got) == 3:
            for name, value in zip("xyz", got):
                if value is None:
                    return failed(EX_AUTOGRAD, f"{name}.grad is None.", tried=tried,
                                  hint=f"autograd fills `.grad` only for tensors created with requires_grad=True: "
                                       f"`{name} = torch.tensor({name}, requires_grad=True)`; and call "
                                       f"f.backward() before reading the grads.")
                if isinstance(value, torch.Tensor) and value.requires_grad:
                    return failed(EX_AUTOGRAD, f"the value for {name} is a tensor that requires grad: that is "
                                               f"{name} itself (or a result computed from it), not {name}.grad.",
                                  tried=tried, hint=f"return `{name}.grad`, the gradient autograd stored.")
                if not isinstance(value, torch.Tensor):
                    return failed(EX_AUTOGRAD, f"the value for {name} should be the tensor {name}.grad.",
                                  tried=tried, got=describe(value),
                                  hint="return `x.grad, y.grad, z.grad` as they are (tensors), not numbers.")
        values = _three_numbers(EX_AUTOGRAD, got, tried)
        if isinstance(values, Feedback):
            return values
        expected = graph_gradients(x, y, z)
        if autograd["calls"] == 0:
            return failed(EX_AUTOGRAD, "autograd never ran: neither .backward() nor torch.autograd.grad was called.",
                          tried=tried, hint="compute f from the tensors, then `f.backward()`; the gradients "
                                            "appear in `x.grad`, `y.grad`, `z.grad`.")
        if all(_close(g, e) for g, e in zip(values, expected)):
            continue
        ratios = {round(g / e, 6) for g, e in zip(values, expected) if abs(e) > 1e-9}
        if len(ratios) == 1 and (ratio := ratios.pop()) >= 2 and float(ratio).is_integer():
            return failed(EX_AUTOGRAD, f"{int(ratio)}× the right gradients: gradients accumulate.", tried=tried,
                          expected=_numbers(expected), got=_numbers(values),
                          hint="`.grad` adds up over backward() calls. Create fresh tensors inside the "
                               "function for each call (or zero their .grad), and call backward once.")
        return failed(EX_AUTOGRAD, "the gradients are wrong.", tried=tried, expected=_numbers(expected),
                      got=_numbers(values), hint="f must be `(x + y) * z`, built from the tensors themselves.")
    return passed(EX_AUTOGRAD, "autograd computed (z, z, x + y), the same as your hand derivation.")


# --------------------------------------------------------------------------- 01.6: backward pass by hand

CHAIN_RULE_INPUTS = [(1.5, 0.2, 0.8, -0.3, 1.2), (-2.0, 1.0, 0.5, 0.1, -0.7),
                     (0.7, -0.5, -1.3, 0.4, 2.0), (3.0, 0.9, 0.2, -1.0, 0.5)]


def sigmoid_net_reference(x: float, y: float, w1: float, b1: float, w2: float) -> tuple[float, float, float]:
    """(dL/dw1, dL/db1, dL/dw2) of L = (w2 · sigmoid(w1 x + b1) - y)², by autograd in float64."""
    w1_t, b1_t, w2_t = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (w1, b1, w2))
    loss = (w2_t * torch.sigmoid(w1_t * x + b1_t) - y) ** 2
    grads = torch.autograd.grad(loss, (w1_t, b1_t, w2_t))
    return tuple(float(g) for g in grads)  # type: ignore[return-value]


def _sigmoid_net_mistakes(x: float, y: float, w1: float, b1: float, w2: float) -> dict[str, tuple[float, ...]]:
    """What typical wrong derivations give, keyed by the hint that explains them."""
    h = 1.0 / (1.0 + math.exp(-(w1 * x + b1)))
    error = w2 * h - y
    local = h * (1 - h)
    return {
        "the factor 2 from the square is missing: d(e²)/de = 2e.":
            (error * w2 * local * x, error * w2 * local, error * h),
        "the sign is flipped: e = prediction - y, so dL/dprediction = 2 (prediction - y), not 2 (y - prediction).":
            (-2 * error * w2 * local * x, -2 * error * w2 * local, -2 * error * h),
        "the derivative of the sigmoid is σ(a)(1 - σ(a)), not σ(a).":
            (2 * error * w2 * h * x, 2 * error * w2 * h, 2 * error * h),
        "1 - σ(a)² is tanh's derivative (in terms of tanh); the sigmoid's is σ(a)(1 - σ(a)).":
            (2 * error * w2 * (1 - h * h) * x, 2 * error * w2 * (1 - h * h), 2 * error * h),
        "dL/db1 has no factor x: the last local derivative is d(w1·x + b1)/db1 = 1 (x belongs to dL/dw1 only).":
            (2 * error * w2 * local * x, 2 * error * w2 * local * x, 2 * error * h),
        "on the way back through p = w2·h, the gradient flowing to h is multiplied by w2: dL/dh = dL/dp · w2.":
            (2 * error * local * x, 2 * error * local, 2 * error * h),
    }


@checker(EX_CHAIN_RULE)
def check_sigmoid_net_grads(sigmoid_net_grads: Callable[..., tuple[float, float, float]]) -> Feedback:
    """``sigmoid_net_grads(x, y, w1, b1, w2)`` must return (dL/dw1, dL/db1, dL/dw2) of
    L = (w2 · sigmoid(w1 x + b1) - y)², computed by hand (no autograd), on several inputs."""
    names = ("dL/dw1", "dL/db1", "dL/dw2")
    seed = probe_seed()
    for index, inputs in enumerate(CHAIN_RULE_INPUTS + [tuple(_random(seed, 5, scale=2.0))]):
        x, y, w1, b1, w2 = inputs
        probe = f"a random probe (seed {seed}): " if index == len(CHAIN_RULE_INPUTS) else ""
        tried = f"{probe}sigmoid_net_grads(x={x}, y={y}, w1={w1}, b1={b1}, w2={w2})"
        with _count_autograd_calls() as autograd:
            got = _attempt(EX_CHAIN_RULE, sigmoid_net_grads, *inputs, tried=tried)
        if autograd["calls"]:
            return failed(EX_CHAIN_RULE, "this exercise is the backward pass by hand: your function called "
                                         "autograd (.backward() or torch.autograd.grad, however it was imported).",
                          tried=tried,
                          hint="multiply the local derivatives yourself, as in the worked tanh example above; "
                               "the checker compares your numbers with autograd's.")
        if got is None or not isinstance(got, (tuple, list)) or len(got) != 3:
            return failed(EX_CHAIN_RULE, "return three numbers: (dL_dw1, dL_db1, dL_dw2).", tried=tried,
                          got=describe(got), hint="did you forget `return`?" if got is None else None)
        values = [_as_float(value) for value in got]
        if any(value is None for value in values):
            bad = next(name for name, value in zip(names, values) if value is None)
            return failed(EX_CHAIN_RULE, f"{bad} must be a number.", tried=tried,
                          got=describe(got[values.index(None)]))
        expected = sigmoid_net_reference(*inputs)
        wrong = [name for name, g, e in zip(names, values, expected) if not _close(g, e)]
        if not wrong:
            continue
        hint = next((hint for hint, mistake in _sigmoid_net_mistakes(*inputs).items()
                     if all(_close(g, m) for g, m in zip(values, mistake))),
                    "walk backward: dL/dp = 2(p - y); dL/dw2 = dL/dp · h; dL/dh = dL/dp · w2; "
                    "dL/da = dL/dh · σ(a)(1 - σ(a)); dL/dw1 = dL/da · x; dL/db1 = dL/da · 1.")
        return failed(EX_CHAIN_RULE, f"{', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong.",
                      tried=tried, expected=_numbers(expected), got=_numbers(values), hint=hint)
    return passed(EX_CHAIN_RULE, "your backward pass matches autograd on every input: that is all backpropagation "
                                 "is, local derivatives multiplied from the loss back to each weight.")


# --------------------------------------------------------------------------- 01.7: gradient descent

DESCENT_CASES = [  # (what f is, its derivative, x0, lr, steps)
    ("f(x) = (x - 3)²", lambda x: 2 * (x - 3), 0.0, 0.1, 5),
    ("f(x) = x²", lambda x: 2 * x, 4.0, 0.25, 3),
    ("f(x) = x⁴", lambda x: 4 * x ** 3, 1.0, 0.05, 10),
    ("f(x) = cos(x)", lambda x: -math.sin(x), 1.0, 0.5, 8),
    ("f(x) = (x - 3)² with steps=0", lambda x: 2 * (x - 3), -1.0, 0.1, 0),
]


def descent_reference(grad: Callable[[float], float], x0: float, lr: float, steps: int) -> list[float]:
    """``[x0, x1, ..., x_steps]`` with ``x_{k+1} = x_k - lr * grad(x_k)``."""
    path = [float(x0)]
    for _ in range(steps):
        path.append(path[-1] - lr * grad(path[-1]))
    return path


def _safe(step: Callable[[], float]) -> float:
    """One replayed step of a wrong rule: a mistake can diverge (x**4 without lr overflows), never crash."""
    try:
        value = float(step())
    except (OverflowError, ZeroDivisionError, ValueError):
        return math.inf
    return value if math.isfinite(value) else math.inf


def _descent_mistakes(grad: Callable[[float], float], x0: float, lr: float, steps: int) -> dict[str, list[float]]:
    ascent, no_lr, frozen = [x0], [x0], [x0]
    for _ in range(steps):
        ascent.append(_safe(lambda: ascent[-1] + lr * grad(ascent[-1])))
        no_lr.append(_safe(lambda: no_lr[-1] - grad(no_lr[-1])))
        frozen.append(_safe(lambda: frozen[-1] - lr * grad(x0)))
    return {"the sign is wrong: that is gradient ascent. Step against the gradient: x = x - lr * grad(x).": ascent,
            "the learning rate is missing: x = x - lr * grad(x).": no_lr,
            "the gradient must be taken at the current x each step, not always at x0.": frozen}


@checker(EX_DESCENT)
def check_gradient_descent(gradient_descent: Callable[[Callable[[float], float], float, float, int], list]) -> Feedback:
    """``gradient_descent(grad, x0, lr, steps)`` must return the list ``[x0, x1, ..., x_steps]`` (steps + 1
    numbers) of plain gradient descent, for several functions, starts, learning rates and step counts."""
    seed = probe_seed()
    centre, x0_random = _random(seed, 2, scale=4.0)
    lr_random = round(0.05 + 0.3 * (abs(_random(seed + 1, 1)[0]) / 3), 3)
    random_case = (f"a random probe (seed {seed}): f(x) = (x - {centre})²", lambda x: 2 * (x - centre), x0_random,
                   lr_random, 4 + seed % 5)
    for what, grad, x0, lr, steps in DESCENT_CASES + [random_case]:
        tried = f"{what}: gradient_descent(grad, x0={x0}, lr={lr}, steps={steps})"
        got = _attempt(EX_DESCENT, gradient_descent, grad, x0, lr, steps, tried=tried)
        expected = descent_reference(grad, x0, lr, steps)
        if got is None:
            return failed(EX_DESCENT, "gradient_descent returned None.", tried=tried,
                          hint="end with `return path` (the list of all x values).")
        # A scalar, not a one-element list or array (NumPy < 2.1 turns an array of shape (1,) into a float too).
        if _as_float(got) is not None and not isinstance(got, (list, tuple)) and getattr(got, "ndim", 0) == 0:
            return failed(EX_DESCENT, "you returned one number (the last x?): return the whole list of x values, "
                                      "starting with x0.", tried=tried, expected=f"{steps + 1} values",
                          got=describe(got))
        try:
            values = [_as_float(value) for value in got]
        except TypeError:
            return failed(EX_DESCENT, "return a list of numbers.", tried=tried, got=describe(got))
        if any(value is None for value in values):
            return failed(EX_DESCENT, "every entry of the list must be a number.", tried=tried, got=describe(got))
        if len(values) != steps + 1:
            return failed(EX_DESCENT, _descent_length_problem(values, x0, steps), tried=tried,
                          expected=f"{steps + 1} values: x0 and one per step", got=f"{len(values)} values")
        if any(math.isnan(value) for value in values):
            return failed(EX_DESCENT, "the list contains NaN.", tried=tried, expected=_numbers(expected[:6]),
                          got=_numbers(values[:6]), hint="each step: x = x - lr * grad(x), starting from x0.")
        if len(values) > 2 and len(set(values)) == 1 and len(set(expected)) > 1:
            return failed(EX_DESCENT, "every entry is the same number.", tried=tried, got=_numbers(values),
                          hint="if x is a tensor, `x -= ...` changes it in place and every entry of the list "
                               "is that same tensor: append `float(x)` (or `x.item()`), or write `x = x - ...`.")
        if all(_close(g, e, 1e-6) for g, e in zip(values, expected)):
            continue
        hint = next((hint for hint, mistake in _descent_mistakes(grad, x0, lr, steps).items()
                     if all(_close(g, m, 1e-6) for g, m in zip(values, mistake))),
                    "each step: x = x - lr * grad(x), then append the new x.")
        first_wrong = next(k for k, (g, e) in enumerate(zip(values, expected)) if not _close(g, e, 1e-6))
        return failed(EX_DESCENT, f"x_{first_wrong} is wrong.", tried=tried, expected=_numbers(expected[:6]),
                      got=_numbers(values[:6]), hint=hint)
    example = descent_reference(*DESCENT_CASES[0][1:])
    return passed(EX_DESCENT, f"right on every case, e.g. (x - 3)² from 0 with lr 0.1: "
                              f"{' → '.join(f'{v:.3g}' for v in example)}.")


def _descent_length_problem(values: list[float], x0: float, steps: int) -> str:
    if len(values) == steps and values and not _close(values[0], x0):
        return "the list must start with x0 itself, then one new x per step."
    if len(values) == steps:
        return "one value short: the loop must run `steps` times, adding one x per step after x0."
    if len(values) == steps + 2:
        return "one value too many: `steps` updates give steps + 1 values, x0 included."
    return f"{steps} steps from x0 give {steps + 1} values."


# --------------------------------------------------------------------------- 01.8: an update under no_grad

def _sgd_problem() -> tuple[list[torch.Tensor], Callable[[], torch.Tensor]]:
    """Two parameters (w: 3 numbers, b: one) and a function computing a squared-error loss from them."""
    w = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    b = torch.tensor(0.1, requires_grad=True)
    X = torch.tensor([[1.0, 2.0, 0.5], [0.0, -1.0, 1.5], [2.0, 0.5, -0.5], [-1.0, 1.0, 1.0]])
    y = torch.tensor([1.0, -2.0, 0.5, 2.0])

    def loss() -> torch.Tensor:
        return ((X @ w + b - y) ** 2).mean()

    return [w, b], loss


# The learning rates the 01.8 checker draws from: never a round value (0.05, 0.1, 0.2) that an attendee might have
# written into the function, so a hard-coded rate always shows.
SGD_STEP_RATES = (0.03, 0.04, 0.06, 0.07, 0.08, 0.09, 0.11, 0.12, 0.13, 0.14, 0.16, 0.17, 0.18, 0.19)


@checker(EX_SGD_STEP)
def check_sgd_step(sgd_step: Callable[[list[torch.Tensor], float], Any]) -> Feedback:
    """``sgd_step(params, lr)`` must, for each parameter p, do ``p -= lr * p.grad`` in place inside
    ``torch.no_grad()`` and then reset ``p.grad``; the parameters must still require grad afterwards."""
    params, loss = _sgd_problem()
    lr = SGD_STEP_RATES[probe_seed() % len(SGD_STEP_RATES)]  # drawn per call: an lr written into the function shows
    for round_number in (1, 2):
        loss().backward()
        before = [p.detach().clone() for p in params]
        grads = [p.grad.clone() for p in params]
        tried = f"sgd_step([w, b], lr={lr}), update number {round_number}"
        returned = _attempt(EX_SGD_STEP, sgd_step, params, lr, tried=tried)
        for name, p, old, grad in zip(("w", "b"), params, before, grads):
            expected = old - lr * grad
            now = p.detach()
            if not p.requires_grad:
                return failed(EX_SGD_STEP, f"{name} no longer requires grad: the next forward pass could not "
                                           "compute its gradient.", tried=tried,
                              hint="`torch.no_grad()` is all you need; don't call requires_grad_(False) or detach_().")
            if torch.equal(now, old) and (p.grad is None or not bool((p.grad != 0).any())):
                return failed(EX_SGD_STEP, f"{name} did not change, and {name}.grad was reset: the gradient was "
                                           "cleared before it was used.", tried=tried,
                              hint="first `p -= lr * p.grad`, then `p.grad.zero_()`.")
            if torch.equal(now, old):
                hint = ("`p = p - lr * p.grad` makes a new tensor and leaves the model's parameter unchanged: "
                        "update in place with `p -= lr * p.grad` inside `with torch.no_grad():`.")
                if isinstance(returned, (list, tuple)) and returned and isinstance(returned[0], torch.Tensor):
                    hint += " (Returning new tensors does not help: the model holds the old ones.)"
                return failed(EX_SGD_STEP, f"{name} did not change.", tried=tried,
                              expected=_numbers(expected.reshape(-1).tolist()),
                              got=_numbers(now.reshape(-1).tolist()), hint=hint)
            if torch.allclose(now, old + lr * grad, atol=1e-6):
                return failed(EX_SGD_STEP, f"{name} moved uphill: p + lr·grad.", tried=tried,
                              hint="step against the gradient: `p -= lr * p.grad`.")
            if not torch.allclose(now, expected, atol=1e-6):
                return failed(EX_SGD_STEP, f"{name} changed, but not by -lr·grad.", tried=tried,
                              expected=_numbers(expected.reshape(-1).tolist()),
                              got=_numbers(now.reshape(-1).tolist()), hint="each parameter: `p -= lr * p.grad`.")
            if p.grad is not None and bool((p.grad != 0).any()):
                return failed(EX_SGD_STEP, f"the update is right, but {name}.grad still holds its gradient.",
                              tried=tried, hint="gradients add up over backward() calls: reset them after the "
                                                "update with `p.grad.zero_()` (or `p.grad = None`).")
    return passed(EX_SGD_STEP, "both parameters moved by -lr·grad in place, still require grad, and their "
                               "gradients were reset: the update loop of every training run.")
