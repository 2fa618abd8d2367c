"""Save a model to a file and load it back, safely.

A checkpoint is one file holding the model's weights (its ``state_dict``), optionally the optimizer's
state, and a few numbers of your choice (the epoch, the validation loss...)::

    save_checkpoint("best.pt", model, optimizer, epoch=7, val_loss=0.31)
    ...
    info = load_checkpoint("best.pt", model, optimizer)   # fills model (and optimizer) in place
    info["epoch"], info["val_loss"]                        # -> 7, 0.31

Two safety rules:

- **Loading runs no code.** A ``.pt`` file is a Python pickle, and unpickling a file from someone else
  can run any code they put in it. ``torch.load(..., weights_only=True)`` only accepts tensors, numbers,
  strings and containers of them, which is all a checkpoint needs. (This is why we save the
  ``state_dict`` and not the model object: the object would need full unpickling.)
- **Saving never leaves half a file.** The checkpoint is written to a temporary file in the same
  folder, then renamed over the old one with ``os.replace``, which is atomic: a crash or a full disk
  mid-save leaves the previous checkpoint intact, never a truncated one. A save killed outright (the
  kernel restarted mid-write) can leave its hidden ``.<name>.*.tmp`` file; the next save into that
  folder deletes such leftovers once they are :data:`STALE_TEMPORARY_SECONDS` old.

When loading fails, :class:`CheckpointError` says what went wrong and what to do (missing file,
damaged file, a file that is not a workshop checkpoint, or weights that do not fit the model) instead
of PyTorch's wall of text.
"""

from __future__ import annotations

import errno
import glob
import os
import pickle
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

FORMAT = "workshop-checkpoint"
VERSION = 1
MAX_LISTED = 8  # keys listed per kind of mismatch; the rest are counted
#: A temporary file of ours untouched for this long belongs to a save that was killed: the next save removes it.
STALE_TEMPORARY_SECONDS = 300.0
#: Optimizer settings newer PyTorch versions add (and fill in when missing): not a sign of another optimizer.
_VERSION_FLAGS = frozenset({"foreach", "maximize", "capturable", "differentiable", "fused", "decoupled_weight_decay",
                            "initial_lr"})


class CheckpointError(ValueError):
    """A checkpoint could not be loaded or saved. ``reason`` is one of ``"missing"``, ``"corrupt"``,
    ``"not_a_checkpoint"``, ``"mismatch"``, ``"no_optimizer_state"`` and ``"unwritable"``; the message says
    what to do."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


# --------------------------------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------------------------------

def save_checkpoint(path: str | os.PathLike, model: nn.Module, optimizer: torch.optim.Optimizer | None = None,
                    **extra: Any) -> Path:
    """Write ``model``'s weights (and ``optimizer``'s state, and ``extra`` values) to ``path``, atomically.

    ``extra`` values must be plain data: numbers, strings, booleans, None, tensors, and lists, tuples or
    dicts of them (NumPy scalars are turned into Python numbers); anything else is refused here, because
    a safe load could not read it back. Missing parent folders are created. Returns the path.
    """
    path = Path(path)
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "model_state": model.state_dict(),
        "optimizer_state": optimizer.state_dict() if optimizer is not None else None,
        "optimizer_class": type(optimizer).__name__ if optimizer is not None else None,
        "extra": {name: _plain(value, name) for name, value in extra.items()},
    }
    check_checkpoint_path(path)
    atomic_torch_save(payload, path)
    return path


def check_checkpoint_path(path: str | os.PathLike) -> Path:
    """Make sure a checkpoint can be written at ``path`` (parent folders created); CheckpointError if not.

    ``fit`` calls it before the first epoch, so a bad ``checkpoint_path`` costs no training time.
    """
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"Cannot save a checkpoint to {path}: it is a folder. Pass a file name, e.g. "
                              f"checkpoint_path={str(path / 'best.pt')!r}.", "unwritable")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise CheckpointError(f"Cannot save a checkpoint in {path.parent} ({error.strerror or error}). Pass a "
                              "checkpoint_path in a folder you can write to, e.g. checkpoint_path='best.pt' (the "
                              "notebook's folder).", "unwritable") from None
    return path


def _remove_stale_temporaries(path: Path) -> None:
    """Delete our own temporary files for ``path`` left by saves that were killed midway."""
    cutoff = time.time() - STALE_TEMPORARY_SECONDS
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        try:
            if leftover.is_file() and leftover.stat().st_mtime < cutoff:
                leftover.unlink()
        except OSError:
            pass  # another process cleaned it up first


def atomic_torch_save(obj: Any, path: Path) -> None:
    """``torch.save(obj, path)`` through a temporary file in the same folder and ``os.replace``.

    The same folder matters: ``os.replace`` is only atomic within one file system. A failed write
    (disk full, folder read-only) raises CheckpointError naming the file and the free space.
    """
    _remove_stale_temporaries(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(obj, file)
            file.flush()
            os.fsync(file.fileno())  # on disk before the rename, so a power cut cannot leave an empty file
        os.replace(temporary, path)
    except BaseException as error:  # KeyboardInterrupt included: never leave the temporary file behind
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, (OSError, RuntimeError)):
            raise _write_failed(path, error) from None
        raise


def _write_failed(path: Path, error: BaseException) -> CheckpointError:
    """A readable message for a failed write (torch reports a full disk as a C++ 'enforce fail')."""
    try:
        free = f"{shutil.disk_usage(path.parent).free / 1e6:,.0f} MB free there"
    except OSError:
        free = "free space unknown"
    full = getattr(error, "errno", None) == errno.ENOSPC or "No space" in str(error) or "write" in str(error).lower()
    cause = "the disk is probably full" if full else f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"
    return CheckpointError(f"Could not write the checkpoint {path} ({cause}; {free}). The previous checkpoint, if "
                           "any, is intact. Free some disk space, or pass a checkpoint_path on another disk.",
                           "unwritable")


def _plain(value: Any, name: str) -> Any:
    """``value`` if ``torch.load(weights_only=True)`` can read it back (NumPy scalars converted), else TypeError."""
    if value is None or isinstance(value, (bool, int, float, str, torch.Tensor)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(item, name) for item in value)
    if isinstance(value, dict):
        return {key: _plain(item, name) for key, item in value.items()}
    raise TypeError(f"save_checkpoint cannot store {name}={value!r} (a {type(value).__name__}): a safe load "
                    "(weights_only=True) only reads numbers, strings, booleans, None, tensors and lists/dicts "
                    f"of them. Convert it first, e.g. {name}=float(...) or {name}=str(...).")


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------

def load_checkpoint(path: str | os.PathLike, model: nn.Module, optimizer: torch.optim.Optimizer | None = None,
                    *, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint` into ``model`` (and ``optimizer``), in place.

    Reads with ``torch.load(path, map_location=map_location, weights_only=True)``; the weights are then
    copied into the model's own parameters, wherever the model lives, so the default ``"cpu"`` works for
    checkpoints saved on a GPU too. Returns the ``extra`` values saved with it (e.g. ``{"epoch": 7}``).

    Raises :class:`CheckpointError` when the file is missing, damaged, not a workshop checkpoint, saved
    from a different architecture (the message lists the differing weights), or when ``optimizer`` is
    given but the checkpoint holds no optimizer state.
    """
    path = Path(path)
    checkpoint = read_checkpoint(path, map_location=map_location)
    problems = state_dict_mismatch(checkpoint["model_state"], model.state_dict())
    if problems:
        raise CheckpointError(
            f"The checkpoint {path} does not fit this model (a different architecture):\n  "
            + "\n  ".join(problems)
            + "\nBuild the model exactly as it was built when the checkpoint was saved (same layers, sizes "
              "and number of classes), or save a new checkpoint for this model.", "mismatch")
    model.load_state_dict(checkpoint["model_state"])
    if optimizer is not None:
        if checkpoint["optimizer_state"] is None:
            raise CheckpointError(f"The checkpoint {path} holds no optimizer state (it was saved without "
                                  "an optimizer). The model's weights were loaded; call load_checkpoint "
                                  "without optimizer=, or save with save_checkpoint(path, model, optimizer).",
                                  "no_optimizer_state")
        _check_optimizer_kind(path, checkpoint, optimizer)
        try:
            optimizer.load_state_dict(checkpoint["optimizer_state"])
        except (ValueError, KeyError) as error:
            raise CheckpointError(f"The optimizer state in {path} does not fit this optimizer ({error}). "
                                  "The model's weights were loaded; use the same kind of optimizer over the "
                                  "same parameters as when saving, or leave optimizer= out.", "mismatch") from None
    return dict(checkpoint.get("extra") or {})


def read_checkpoint(path: Path, *, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The checkpoint's contents as a dict (``format``, ``version``, ``model_state``, ``optimizer_state``,
    ``extra``), read with ``weights_only=True``; a :class:`CheckpointError` if it cannot be."""
    path = Path(path)
    if not path.is_file():
        where = "is a folder, not a file" if path.is_dir() else "does not exist"
        relative = "" if path.is_absolute() else f" (a relative path starts from {Path.cwd()})"
        raise CheckpointError(f"No checkpoint at {path}: the path {where}. Check the path{relative}, or train "
                              "first with fit(..., checkpoint_path=...) or save_checkpoint(...).", "missing")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        if "unsupported global" not in str(error).lower():  # e.g. "Unsupported operand": bytes that are no pickle
            raise _corrupt(path, error) from None
        raise CheckpointError(
            f"{path} is not a workshop checkpoint: it holds Python objects other than tensors and numbers "
            "(e.g. a whole model saved with torch.save(model)), which a safe load refuses to unpickle. "
            "Save the weights with save_checkpoint(path, model) instead; only unpickle files you trust.",
            "not_a_checkpoint") from None
    except Exception as error:  # miniz RuntimeError, EOFError, KeyError...: all mean a damaged file
        raise _corrupt(path, error) from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a workshop checkpoint (it holds {_describe(checkpoint)}). "
                              + _plain_state_dict_hint(checkpoint), "not_a_checkpoint")
    problems = _structure_problems(checkpoint)
    if problems:
        raise CheckpointError(f"{path} says it is a workshop checkpoint but is incomplete: {'; '.join(problems)}. "
                              "It was not written by save_checkpoint (a hand-made dict?): save it with "
                              "save_checkpoint(path, model, optimizer), which writes every part.", "not_a_checkpoint")
    return checkpoint


def _structure_problems(checkpoint: dict) -> list[str]:
    """What a dict with the workshop's ``format`` marker lacks to be loadable; empty when it is complete."""
    problems = []
    model_state = checkpoint.get("model_state")
    if "model_state" not in checkpoint:
        problems.append("no 'model_state' (the model's weights)")
    elif not isinstance(model_state, dict) or not all(isinstance(key, str) for key in model_state):
        problems.append(f"'model_state' is {_describe(model_state)}, not a state_dict (names -> tensors)")
    optimizer_state = checkpoint.get("optimizer_state")
    if optimizer_state is not None and not (isinstance(optimizer_state, dict) and "param_groups" in optimizer_state
                                            and "state" in optimizer_state):
        problems.append(f"'optimizer_state' is {_describe(optimizer_state)}, not an optimizer's state_dict")
    if not isinstance(checkpoint.get("extra", {}), dict):
        problems.append(f"'extra' is {_describe(checkpoint['extra'])}, not a dict")
    return problems


def _check_optimizer_kind(path: Path, checkpoint: dict, optimizer: torch.optim.Optimizer) -> None:
    """CheckpointError when the saved optimizer state comes from another kind of optimizer (SGD into Adam)."""
    saved_kind, wanted_kind = checkpoint.get("optimizer_class"), type(optimizer).__name__
    if saved_kind is None:  # older checkpoints: compare the settings each parameter group carries
        saved_groups = checkpoint["optimizer_state"].get("param_groups") or [{}]
        lacking = set(optimizer.param_groups[0]) - set(saved_groups[0]) - _VERSION_FLAGS - {"params"}
        if not lacking:
            return
        saved_kind = f"another optimizer (its settings lack {', '.join(sorted(lacking))})"
    elif saved_kind == wanted_kind:
        return
    raise CheckpointError(f"The optimizer state in {path} was saved by {saved_kind}, but you passed a {wanted_kind}: "
                          f"its state (e.g. momentum buffers) cannot continue a {wanted_kind}. The model's weights "
                          f"were loaded; build the same kind of optimizer as when saving, or leave optimizer= out "
                          "to start the optimizer afresh.", "mismatch")


def _corrupt(path: Path, error: Exception) -> CheckpointError:
    size = path.stat().st_size
    return CheckpointError(
        f"The checkpoint {path} is damaged ({size:,} bytes; {type(error).__name__}: {str(error)[:120]}). It was "
        "probably cut off while being copied or written. Copy or download it again, or retrain to write a new "
        "one.", "corrupt")


def _describe(content: Any) -> str:
    if isinstance(content, dict):
        keys = [str(key) for key in list(content)[:5]]
        return f"a dict with keys {keys}{'...' if len(content) > 5 else ''}"
    return f"a {type(content).__name__}"


def _plain_state_dict_hint(content: Any) -> str:
    if isinstance(content, dict) and content and all(isinstance(v, torch.Tensor) for v in content.values()):
        return ("It looks like a plain state_dict saved with torch.save(model.state_dict(), path): load it with "
                "model.load_state_dict(torch.load(path, weights_only=True)).")
    return "Only files written by save_checkpoint(...) (or fit(..., checkpoint_path=...)) can be loaded here."


def state_dict_mismatch(saved: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> list[str]:
    """Human-readable differences between two state_dicts: weights the model needs that the checkpoint
    lacks, weights the checkpoint has that the model does not, and shapes that differ. Empty when they fit."""
    missing = [key for key in expected if key not in saved]
    unexpected = [key for key in saved if key not in expected]
    shapes = [f"{key}: checkpoint {_shape(saved[key])}, model {_shape(expected[key])}"
              for key in expected if key in saved and _shape(saved[key]) != _shape(expected[key])]
    problems = []
    for title, items in (("missing from the checkpoint", missing), ("in the checkpoint but not in the model",
                                                                     unexpected), ("different shapes", shapes)):
        if items:
            listed = ", ".join(items[:MAX_LISTED]) + (f" (and {len(items) - MAX_LISTED} more)"
                                                      if len(items) > MAX_LISTED else "")
            problems.append(f"{title}: {listed}")
    return problems


def _shape(value: Any) -> tuple[int, ...] | None:
    shape = getattr(value, "shape", None)  # a module's _extra_state may be no tensor
    return tuple(shape) if shape is not None else None
