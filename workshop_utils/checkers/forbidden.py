"""Notice library functions an exercise asks attendees to write themselves, whatever name they were
imported under.

Replacing ``torch.sigmoid`` by ``setattr`` misses ``from torch import sigmoid as s``: the alias still
points at the original function object. So nothing is replaced here; the function *objects* are
recognised when they run:

- torch functions, Tensor methods and the ``torch.nn.functional`` functions that dispatch on tensors
  are seen by a :class:`torch.overrides.TorchFunctionMode` (``torch.sigmoid``, ``x.sigmoid()``,
  ``F.conv2d``, ``F.cross_entropy``, ``F.dropout``, ``Tensor.backward``, ``torch.autograd.grad``...);
- plain Python functions and methods (``torch.optim.SGD.step``, ``F.sigmoid``) are seen by their code
  object through ``sys.setprofile``, which also sees builtins called directly;
- classes (``nn.Sigmoid``, ``torch.optim.SGD``) are seen when an instance is made: their ``__init__``
  is wrapped for the duration of the check and restored afterwards.

Usage::

    with forbidden_calls(SIGMOID) as seen:
        result = run_attempt(...)
    if seen:
        ... seen.names == ["torch.sigmoid"] ...

The checker must compute its own expected values *outside* the ``with`` block.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
import types
from typing import Any, Iterator, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.overrides import TorchFunctionMode

__all__ = ["ForbiddenCall", "Seen", "forbidden_calls", "SIGMOID", "LOG_SIGMOID", "BINARY_CROSS_ENTROPY",
           "SOFTMAX", "LOG_SOFTMAX", "CROSS_ENTROPY", "CONV2D", "MAX_POOL2D", "BATCH_NORM", "DROPOUT",
           "AUTOGRAD", "OPTIMIZERS", "ACTIVATIONS", "merge", "shortcut_message", "attempt_forbidding"]


class ForbiddenCall(Exception):
    """Raised inside the attendee's code, when ``refuse=True``, by a function the exercise forbids."""


class Seen:
    """What the attendee's code called among the forbidden targets: ``names`` in order of first call."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def record(self, name: str) -> None:
        if name not in self.names:
            self.names.append(name)

    def __bool__(self) -> bool:
        return bool(self.names)

    def __repr__(self) -> str:
        return f"Seen({self.names!r})"


def _innermost(function: Any) -> Any:
    """The function under any ``functools.wraps`` decorators (a shared wrapper's code would match too much)."""
    try:
        return inspect.unwrap(function)
    except ValueError:  # a cycle of __wrapped__
        return function


class _Watcher(TorchFunctionMode):
    def __init__(self, by_object: dict[int, tuple[Any, str]], seen: Seen, refuse: bool):
        super().__init__()
        self.by_object = by_object
        self.seen = seen
        self.refuse = refuse

    def note(self, obj: Any) -> None:
        entry = self.by_object.get(id(obj))
        if entry is not None and entry[0] is obj:
            self.seen.record(entry[1])
            if self.refuse:
                raise ForbiddenCall(f"{entry[1]} is switched off for this exercise")

    def __torch_function__(self, func, types_, args=(), kwargs=None):
        self.note(func)
        return func(*args, **(kwargs or {}))


@contextlib.contextmanager
def forbidden_calls(targets: Mapping[str, Any], *, refuse: bool = False) -> Iterator[Seen]:
    """Record calls of ``targets`` (readable name -> function, method or class) while the block runs.

    With ``refuse=True`` the first forbidden call also raises :class:`ForbiddenCall` inside the
    attendee's code (useful when a shortcut would otherwise run for long). Everything is restored on
    exit, whatever happens inside.
    """
    seen = Seen()
    by_object: dict[int, tuple[Any, str]] = {}
    by_code: dict[types.CodeType, str] = {}
    classes: list[tuple[type, str]] = []
    for name, target in targets.items():
        if target is None:
            continue
        if isinstance(target, type):
            classes.append((target, name))
            continue
        by_object.setdefault(id(target), (target, name))  # one object, several spellings: the first named
        inner = _innermost(target)
        code = getattr(inner, "__code__", None)
        # A closure shares its code with every function its factory made (F.max_pool2d and
        # F.max_pool1d are both boolean_dispatch's ``fn``): those are left to the TorchFunctionMode.
        if isinstance(code, types.CodeType) and getattr(inner, "__closure__", None) is None:
            by_code.setdefault(code, name)

    watcher = _Watcher(by_object, seen, refuse)

    def profile(frame, event, arg):
        # Never raises: an exception from a profile function would switch profiling off. Refusing is
        # left to the TorchFunctionMode and the class wrappers; the checker reads ``seen`` in any case.
        if event == "call":
            name = by_code.get(frame.f_code)
            if name is not None:
                seen.record(name)
        elif event == "c_call":
            entry = by_object.get(id(arg))
            if entry is not None and entry[0] is arg:
                seen.record(entry[1])

    patched: list[tuple[type, bool, Any]] = []
    previous_profile = sys.getprofile()
    try:
        for cls, name in classes:
            own = "__init__" in vars(cls)
            original = cls.__init__

            def init(self, *args, _original=original, _name=name, **kwargs):
                seen.record(_name)
                if refuse:
                    raise ForbiddenCall(f"{_name} is switched off for this exercise")
                _original(self, *args, **kwargs)

            patched.append((cls, own, original))
            cls.__init__ = init
        if by_code or by_object:
            sys.setprofile(profile if previous_profile is None else _chain(previous_profile, profile))
        with watcher:
            yield seen
    finally:
        sys.setprofile(previous_profile)
        for cls, own, original in reversed(patched):
            if own:
                cls.__init__ = original
            else:
                del cls.__init__


def _chain(first, second):
    def both(frame, event, arg):
        first(frame, event, arg)
        second(frame, event, arg)
    return both


def merge(*groups: Mapping[str, Any]) -> dict[str, Any]:
    """One targets mapping from several groups."""
    merged: dict[str, Any] = {}
    for group in groups:
        merged.update(group)
    return merged


def shortcut_message(seen: Seen, what: str) -> str:
    """'your code called torch.sigmoid (under whatever name it was imported): <what>'."""
    called = ", ".join(seen.names)
    return f"your code called {called} (however it was imported): {what}"


def _maybe(owner: Any, attribute: str) -> Any:
    return getattr(owner, attribute, None)


# Groups of the library's spellings of one shortcut: a function, its Tensor method, its in-place
# variant, its torch.nn.functional and torch.special spellings, and its nn.Module class.
SIGMOID = {
    "torch.sigmoid": torch.sigmoid, "Tensor.sigmoid": Tensor.sigmoid, "Tensor.sigmoid_": Tensor.sigmoid_,
    "torch.sigmoid_": _maybe(torch, "sigmoid_"), "torch.special.expit": torch.special.expit,
    "torch.nn.functional.sigmoid": F.sigmoid, "nn.Sigmoid": nn.Sigmoid,
}
LOG_SIGMOID = {"torch.nn.functional.logsigmoid": F.logsigmoid, "nn.LogSigmoid": nn.LogSigmoid}
BINARY_CROSS_ENTROPY = {
    "torch.nn.functional.binary_cross_entropy": F.binary_cross_entropy,
    "torch.nn.functional.binary_cross_entropy_with_logits": F.binary_cross_entropy_with_logits,
    "torch.binary_cross_entropy_with_logits": _maybe(torch, "binary_cross_entropy_with_logits"),
    "nn.BCELoss": nn.BCELoss, "nn.BCEWithLogitsLoss": nn.BCEWithLogitsLoss,
}
SOFTMAX = {
    "torch.softmax": torch.softmax, "Tensor.softmax": Tensor.softmax, "torch.nn.functional.softmax": F.softmax,
    "torch.special.softmax": torch.special.softmax, "nn.Softmax": nn.Softmax,
}
LOG_SOFTMAX = {
    "torch.log_softmax": torch.log_softmax, "Tensor.log_softmax": Tensor.log_softmax,
    "torch.nn.functional.log_softmax": F.log_softmax, "torch.special.log_softmax": torch.special.log_softmax,
    "nn.LogSoftmax": nn.LogSoftmax,
}
CROSS_ENTROPY = {
    "torch.nn.functional.cross_entropy": F.cross_entropy, "torch.nn.functional.nll_loss": F.nll_loss,
    "nn.CrossEntropyLoss": nn.CrossEntropyLoss, "nn.NLLLoss": nn.NLLLoss,
}
CONV2D = {
    "torch.nn.functional.conv2d": F.conv2d, "torch.conv2d": torch.conv2d,
    "torch.convolution": torch.convolution, "nn.Conv2d": nn.Conv2d,
}
MAX_POOL2D = {
    "torch.nn.functional.max_pool2d": F.max_pool2d, "torch.max_pool2d": torch.max_pool2d,
    "torch.nn.functional.max_pool2d_with_indices": F.max_pool2d_with_indices,
    "torch.nn.functional.adaptive_max_pool2d": F.adaptive_max_pool2d,
    "nn.MaxPool2d": nn.MaxPool2d, "nn.AdaptiveMaxPool2d": nn.AdaptiveMaxPool2d,
}
BATCH_NORM = {
    "torch.nn.functional.batch_norm": F.batch_norm, "torch.batch_norm": torch.batch_norm,
    "torch.nn.functional.layer_norm": F.layer_norm, "torch.nn.functional.instance_norm": F.instance_norm,
    "nn.BatchNorm1d": nn.BatchNorm1d, "nn.BatchNorm2d": nn.BatchNorm2d,
}
DROPOUT = {
    "torch.nn.functional.dropout": F.dropout, "torch.dropout": torch.dropout, "torch.dropout_": _maybe(torch, "dropout_"),
    "torch.nn.functional.dropout2d": F.dropout2d, "torch.nn.functional.alpha_dropout": F.alpha_dropout,
    "nn.Dropout": nn.Dropout, "nn.Dropout2d": nn.Dropout2d,
}
AUTOGRAD = {
    "Tensor.backward": Tensor.backward, "torch.autograd.grad": torch.autograd.grad,
    "torch.autograd.backward": torch.autograd.backward,
    "torch.autograd.functional.jacobian": torch.autograd.functional.jacobian,
    "torch.func.grad": torch.func.grad, "torch.func.vjp": torch.func.vjp,
}
OPTIMIZERS = {
    f"torch.optim.{name}": getattr(torch.optim, name)
    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD")
    if hasattr(torch.optim, name)
}
ACTIVATIONS = merge(SIGMOID, {
    "torch.tanh": torch.tanh, "Tensor.tanh": Tensor.tanh, "torch.nn.functional.tanh": F.tanh, "nn.Tanh": nn.Tanh,
    "torch.relu": torch.relu, "Tensor.relu": Tensor.relu, "torch.nn.functional.relu": F.relu, "nn.ReLU": nn.ReLU,
})


def attempt_forbidding(exercise: str, targets: Mapping[str, Any], function: Any, *args: Any, tried: str | None,
                       why: str, hint: str | None = None, **kwargs: Any) -> Any:
    """``run_attempt`` while noticing ``targets``; a forbidden call fails with a message naming it.

    ``why`` finishes the sentence "your code called torch.sigmoid (however it was imported): ..."; the
    attendee's own error, when there is one and no forbidden call, is explained as usual.
    """
    from .core import AttemptError, failed, run_attempt  # here, so that core never depends on torch modes

    with forbidden_calls(targets) as seen:
        try:
            result = run_attempt(exercise, function, *args, tried=tried, **kwargs)
        except AttemptError:
            if not seen:
                raise
            result = None
    if seen:
        raise AttemptError(failed(exercise, shortcut_message(seen, why), tried=tried, hint=hint)) from None
    return result
