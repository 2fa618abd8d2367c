"""Helpers for checkers whose exercises return tensors: describe what came back, say why it cannot be
compared, point at the worst element, and switch off library shortcuts while the attendee's code runs."""

from __future__ import annotations

import contextlib
import math
from typing import Any, Callable, Iterator, NamedTuple

import torch
from torch import Tensor

from .core import AttemptError, failed, run_attempt


def describe(value: Any) -> str:
    """What the attendee's code returned, in words: type, and shape and dtype for tensors and arrays."""
    if value is None:
        return "None (did you forget `return`?)"
    if torch.is_tensor(value):
        return f"a tensor of shape {tuple(value.shape)}, dtype {str(value.dtype).replace('torch.', '')}"
    if type(value).__module__ == "numpy" and hasattr(value, "shape"):
        return f"a NumPy array of shape {tuple(value.shape)}, dtype {value.dtype}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} item(s)"
    if isinstance(value, bool):
        return f"a Python bool ({value})"
    if isinstance(value, (int, float)):
        return f"a Python {type(value).__name__} ({value:g})"
    return f"a {type(value).__module__}.{type(value).__name__}"


class Problem(NamedTuple):
    """Why a returned value cannot be compared: ``kind`` is "type", "shape", "dtype" or "nonfinite"."""

    kind: str
    message: str
    hint: str


def tensor_problem(got: Any, expected: Tensor) -> Problem | None:
    """Why ``got`` cannot be compared with ``expected``, or None when it can.

    Catches: not a tensor (None, tuple, float, NumPy array), wrong shape, non-float dtype, NaN or inf.
    """
    if not torch.is_tensor(got):
        hint = "return the result of torch operations on the input tensor."
        if isinstance(got, (tuple, list)):
            hint = "return one tensor, not a tuple or list (a trailing comma makes a tuple)."
        elif type(got).__module__ == "numpy":
            hint = "stay in torch: NumPy arrays carry no gradients. Use torch.exp, torch.log, ..."
        return Problem("type", f"expected a tensor, got {describe(got)}.", hint)
    if tuple(got.shape) != tuple(expected.shape):
        return Problem("shape", f"wrong shape: expected {tuple(expected.shape)}, got {tuple(got.shape)}.",
                       "work element-wise (or along the right dimension) so the shape is kept; check .sum() and "
                       "indexing for a lost or extra dimension.")
    if not got.is_floating_point():
        return Problem("dtype", f"expected floating-point values, got dtype {got.dtype}.",
                       "an integer result usually comes from a comparison or integer literals: use .float() or 1.0.")
    if not torch.isfinite(got).all():
        bad = "nan" if torch.isnan(got).any() else "inf"
        return Problem("nonfinite", f"the result contains {bad}.",
                       "see the input tried: large magnitudes overflow exp().")
    return None


def worst_point(inputs: Tensor, expected: Tensor, got: Tensor) -> str:
    """'at x = ...: expected ..., got ...' for the element where ``got`` is farthest from ``expected``."""
    difference = (got.detach().double() - expected.double()).abs()
    difference = torch.where(torch.isnan(difference), torch.full_like(difference, math.inf), difference)
    index = int(difference.flatten().argmax())
    return (f"at x = {float(inputs.flatten()[index]):g}: expected {float(expected.flatten()[index]):.6g}, "
            f"got {float(got.detach().flatten()[index]):.6g}")


class LibraryShortcut(Exception):
    """Raised inside the attendee's code by a library function the exercise asks them to write themselves."""


@contextlib.contextmanager
def forbid_calls(targets: dict[str, tuple[Any, str]]) -> Iterator[list[str]]:
    """Switch off library functions while the attendee's code runs; yields the list of names it called.

    ``targets`` maps a readable name ("torch.softmax") to (object, attribute) to replace. Each
    replacement records its name and raises :class:`LibraryShortcut`. Everything is restored on exit.
    """
    used: list[str] = []
    saved = []
    for readable, (owner, attribute) in targets.items():
        if not hasattr(owner, attribute):
            continue

        def refuse(*args, _name=readable, **kwargs):
            used.append(_name)
            raise LibraryShortcut(f"{_name} is switched off for this exercise")

        # Remember whether the attribute is the owner's own (a module's function) or inherited (a
        # Tensor method defined on its C base class): an inherited one is restored by deleting ours.
        own = attribute in vars(owner)
        saved.append((owner, attribute, getattr(owner, attribute), own))
        setattr(owner, attribute, refuse)
    try:
        yield used
    finally:
        for owner, attribute, original, own in reversed(saved):
            if own:
                setattr(owner, attribute, original)
            else:
                delattr(owner, attribute)


def attempt_without(exercise: str, targets: dict[str, tuple[Any, str]], shortcut_message: str,
                    function: Callable[..., Any], *args: Any, tried: str) -> Any:
    """``run_attempt`` with ``targets`` switched off; calling one of them gives ``shortcut_message``.

    The functions are recognised as objects (see :mod:`.forbidden`), so a shortcut imported under
    another name (``from torch.nn.functional import conv2d as c2d``) is caught too.
    """
    from .forbidden import ForbiddenCall, forbidden_calls

    objects = {name: getattr(owner, attribute) for name, (owner, attribute) in targets.items()
               if hasattr(owner, attribute)}
    with forbidden_calls(objects, refuse=True) as seen:
        try:
            result = run_attempt(exercise, function, *args, tried=tried)
        except AttemptError:
            if not seen:
                raise
            result = None
        except ForbiddenCall:  # raised where the attendee's code cannot catch it first
            result = None
    if seen:
        raise AttemptError(failed(exercise, f"you called {seen.names[0]} (however it was imported): {shortcut_message}",
                                  tried=tried, hint="build it from torch.exp, torch.log, .max, .sum and indexing.")
                           ) from None
    return result
