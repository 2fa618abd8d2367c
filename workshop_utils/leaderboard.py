"""Notebook 08's tuning competition: the data attendees train on, and a leaderboard scored on a held-out test split.

- :func:`competition_data` gives the training and validation images **with** labels and the test images
  **without** them, in the order a submission must follow. Nothing the competition hands out holds the
  test labels: the scorer (:class:`HeldOut`, :func:`road_sign_held_out`) keeps them in a private table
  and only answers with scores.
- :func:`submit` scores a model (or its predictions) on the held-out test split and records macro-F1,
  accuracy, parameter count, training time and settings. Submitting again under the same name
  **replaces** that entry, better or worse: the latest submission counts, and the returned message says
  what it replaced. Each name has :func:`max_submissions` submissions per competition (``WORKSHOP_MAX_SUBMISSIONS``,
  default 10; the message shows the count); resubmitting predictions already submitted uses none. A
  submission that cannot be scored (wrong length, unknown classes, NaN, wrong type) raises
  :class:`SubmissionError`, saying what was wrong and what to pass, and writes nothing.
- :func:`leaderboard_table` is the board, best macro-F1 first (ties: accuracy, then who was first).

What a local board cannot prevent: the road-sign images and their annotations are on the attendee's
disk (the data set is public), and the split is the same for everyone, so someone determined can
rebuild the test labels (``load_road_signs`` with this module's split settings does it), or submit
under many names. The board keeps honest
attendees honest; for a ranking nobody can game, the instructor scores the final models on images
the room never saw (see ``docs/INSTRUCTORS.md``).

Names are compared as people read them: Unicode NFKC, case-folded, invisible characters (zero-width
spaces...) removed, so ``carol`` and ``carol\u200b``, ``émile`` and ``ÉMILE`` are one entry.

A board file that cannot be used (not SQLite, damaged, a folder, another program's table, read-only)
raises :class:`LeaderboardFileError` naming the file and the fix; a single damaged row is skipped with
a warning naming it, and the rest of the board stays readable.

Storage: one SQLite file (the standard library's ``sqlite3``; Linux, macOS and Windows), by default
:func:`workshop_utils.config.leaderboard_path`. Many kernels may submit at once: each submission is one
``BEGIN IMMEDIATE`` transaction, which takes the write lock at its start, so writers queue (each waits up
to :data:`BUSY_TIMEOUT_S`) instead of deadlocking, and an entry is replaced in the same transaction that
read it, so nothing is lost. The default rollback journal is used, not WAL: submissions are a few tiny
writes, the board stays one self-contained file an instructor can copy, and WAL's shared-memory file
fails on some file systems. Keep the file on a **local disk**: SQLite's locks are unreliable on network
shares (NFS, SMB); for a room-wide board use :mod:`workshop_utils.room_leaderboard` (Weights & Biases)
or one JupyterHub server's local disk (``WORKSHOP_LEADERBOARD``).

Entries of different test splits (smoke run, stand-in or real data) never mix: each entry records its
competition, a fingerprint of the test split, and the board shows the current one.

Scores are computed with NumPy (macro-F1 equals scikit-learn's ``f1_score(average="macro")``, tested),
so that scoring and storing need neither torch nor scikit-learn.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import numbers
import sqlite3
import sys
import warnings
import weakref
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from . import config, names

#: The competition's images are this many pixels on a side (small enough to tune on a laptop CPU).
IMAGE_SIZE = 32
#: The split is fixed for everyone: another seed would move test images into someone's training set.
VAL_FRACTION = 0.2
TEST_FRACTION = 0.2
SPLIT_SEED = 0
#: Seconds a submitter waits for another one's write before giving up.
BUSY_TIMEOUT_S = 60.0
MAX_NAME_LENGTH = names.MAX_NAME_LENGTH
SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    competition   TEXT NOT NULL,
    name          TEXT NOT NULL COLLATE NOCASE,
    macro_f1      REAL NOT NULL,
    accuracy      REAL NOT NULL,
    parameters    INTEGER,
    train_seconds REAL,
    settings      TEXT NOT NULL,
    submitted_at  TEXT NOT NULL,
    submissions   INTEGER NOT NULL,
    PRIMARY KEY (competition, name)
)
"""
#: A fingerprint of every set of predictions each name has submitted: the same predictions again tell nothing
#: new about the test labels, so they use no submission (rerunning a notebook does not eat the limit).
SEEN_SCHEMA = """
CREATE TABLE IF NOT EXISTS submitted_predictions (
    competition   TEXT NOT NULL,
    name_key      TEXT NOT NULL,
    predictions   TEXT NOT NULL,
    PRIMARY KEY (competition, name_key, predictions)
)
"""
COLUMNS = ("name", "macro_f1", "accuracy", "parameters", "train_seconds", "settings", "submitted_at",
           "submissions", "competition")
#: Submissions per name and competition when ``WORKSHOP_MAX_SUBMISSIONS`` is not set (0 there: no limit).
DEFAULT_MAX_SUBMISSIONS = 10


class SubmissionError(ValueError):
    """A submission that cannot be scored; the message says what was wrong and what to pass instead."""


class LeaderboardFileError(RuntimeError):
    """The leaderboard file cannot be read or written; the message names the file and the fix."""


def max_submissions() -> int:
    """Submissions allowed per name and competition: ``WORKSHOP_MAX_SUBMISSIONS`` (0: no limit), default 10."""
    return config.max_submissions(DEFAULT_MAX_SUBMISSIONS)


# --------------------------------------------------------------------------------------------------
# The data: what attendees train on, and the held-out split only this module reads
# --------------------------------------------------------------------------------------------------

@dataclass(eq=False)
class CompetitionData:
    """What an attendee trains, validates and predicts with; there are no test labels in here.

    ``train`` and ``val`` are :class:`~workshop_utils.data.ImageTensorDataset` (float C x H x W images
    in [0, 1] and labels; ``train_transform`` on ``train`` only). ``test_images`` is the float
    N x 3 x S x S tensor a submission predicts, in this order. ``*_files`` name the images of each
    split (they never overlap). ``competition`` identifies the test split on the leaderboard.
    """

    train: Any
    val: Any
    test_images: Any
    classes: list[str]
    image_size: int
    source: str
    smoke: bool
    competition: str
    train_files: list[str] = field(repr=False, default_factory=list)
    val_files: list[str] = field(repr=False, default_factory=list)
    test_files: list[str] = field(repr=False, default_factory=list)

    @property
    def is_standin(self) -> bool:
        from .data.loaders import SOURCE_STANDIN

        return self.source == SOURCE_STANDIN


# The labels of each HeldOut, outside the object: no attribute, repr or vars() of it shows them.
_LABELS: "weakref.WeakKeyDictionary[HeldOut, np.ndarray]" = weakref.WeakKeyDictionary()


class HeldOut:
    """A test split as the leaderboard sees it: a scorer, and the images to run models on.

    Built from ``labels`` (int64 class indices into ``classes``), which it keeps to itself: it answers
    :meth:`score` and ``len()``, never the labels. ``images`` (a float N x C x H x W tensor) may be None
    for a competition scored from predictions only. ``competition`` names the split on the board.
    """

    __slots__ = ("competition", "classes", "images", "_size", "__weakref__")

    def __init__(self, competition: str, labels, classes: Sequence[str], images: Any = None):
        labels = np.array(labels, dtype=np.int64)  # a copy: the caller's array can change, the scorer's not
        if labels.ndim != 1 or len(labels) == 0:
            raise ValueError("a held-out split needs a non-empty 1-D array of labels.")
        if images is not None and len(images) != len(labels):
            raise ValueError(f"{len(images)} held-out images but {len(labels)} labels.")
        labels.setflags(write=False)
        self.competition, self.classes, self.images, self._size = competition, tuple(classes), images, len(labels)
        _LABELS[self] = labels

    def score(self, predicted: np.ndarray) -> tuple[float, float]:
        """``(macro_f1, accuracy)`` of class indices ``predicted`` (one per example, in order)."""
        labels = _LABELS[self]
        return macro_f1_score(labels, predicted, len(self.classes)), accuracy_score(labels, predicted)

    def __len__(self) -> int:
        return self._size

    def __repr__(self) -> str:  # never print the labels
        return f"HeldOut({self.competition!r}, {len(self)} examples)"


_HELD_OUT: dict[tuple, HeldOut] = {}


def competition_key(dataset: str, source: str, smoke: bool, files: Sequence[str], labels: np.ndarray) -> str:
    """A readable name for a test split plus a fingerprint of its files and labels, e.g.
    ``"road signs (stand-in, smoke run): 60 test images #1a2b3c4d"``."""
    digest = hashlib.sha256()
    digest.update("\n".join(files).encode())
    digest.update(np.asarray(labels, dtype=np.int64).tobytes())
    where = source + (", smoke run" if smoke else "")
    return f"{dataset} ({where}): {len(labels)} test images #{digest.hexdigest()[:8]}"


def _cache_key(image_size: int) -> tuple:
    return (image_size, config.smoke_mode(), str(config.data_dir()), config.real_data_only())


def _load(image_size: int, train_transform: Callable | None = None):
    from .data import load_road_signs

    return load_road_signs(image_size=image_size, val_fraction=VAL_FRACTION, test_fraction=TEST_FRACTION,
                           seed=SPLIT_SEED, train_transform=train_transform)


def _remember_held_out(data) -> HeldOut:
    test_images, test_labels = data.test.tensors
    held_out = HeldOut(competition_key("road signs", data.source, data.smoke, data.test.files, test_labels.numpy()),
                       test_labels.numpy(), data.classes, images=test_images)
    _HELD_OUT[_cache_key(data.image_size)] = held_out
    return held_out


def road_sign_held_out(image_size: int | None = IMAGE_SIZE) -> HeldOut:
    """The road-sign competition's test split as a scorer: its images and :meth:`HeldOut.score`, no labels
    (loaded once per kernel and setting).

    ``image_size=None``: any size already loaded (the labels are the same at every size), else
    :data:`IMAGE_SIZE`; for scoring predictions and naming the competition, where no image is looked at.
    """
    if image_size is None:
        setting = _cache_key(0)[1:]
        loaded = [held_out for key, held_out in _HELD_OUT.items() if key[1:] == setting]
        if loaded:
            return loaded[0]
        image_size = IMAGE_SIZE
    held_out = _HELD_OUT.get(_cache_key(config.smoke_size(image_size, 32)))
    return held_out if held_out is not None else _remember_held_out(_load(image_size))


def competition_data(image_size: int = IMAGE_SIZE, *, train_transform: Callable | None = None) -> CompetitionData:
    """The road signs split for the competition: train and validation with labels, test images without.

    The split (``VAL_FRACTION``, ``TEST_FRACTION``, ``SPLIT_SEED``) is the same for everyone and cannot be
    changed here. ``image_size`` only changes how large the images are decoded (smoke mode: 32 px); pass
    the same ``image_size`` to :func:`submit` when you submit a model. ``train_transform`` is applied to
    the training images only.
    """
    data = _load(image_size, train_transform)
    held_out = _remember_held_out(data)
    return CompetitionData(train=data.train, val=data.val, test_images=held_out.images, classes=list(data.classes),
                           image_size=data.image_size, source=data.source, smoke=data.smoke,
                           competition=held_out.competition, train_files=list(data.train.files),
                           val_files=list(data.val.files), test_files=list(data.test.files))


# --------------------------------------------------------------------------------------------------
# Turning a submission into class indices
# --------------------------------------------------------------------------------------------------

def _torch_loaded() -> bool:
    return "torch" in sys.modules


def _is_module(value: Any) -> bool:
    if not _torch_loaded():
        return False
    from torch import nn

    return isinstance(value, nn.Module)


def predict_classes(model, images, batch_size: int = 256, *, preprocess: Callable | None = None,
                    require_finite: bool = False):
    """The class index ``model`` predicts for each image, in the images' order (an int64 tensor).

    Evaluation mode (dropout off, batch norm's running statistics) and no gradients, in batches of
    ``batch_size`` on the model's device; ``preprocess`` (e.g. a ``Normalize``) is applied to each batch
    first. Each batch is a copy, so a model that changes its input in place cannot change ``images``.
    The model's train/eval mode is put back afterwards. ``require_finite=True`` (what :func:`submit`
    uses): SubmissionError when any score is NaN or infinite, as for such predictions.
    """
    import torch

    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    if device.type == "meta":
        raise SubmissionError(_META_MESSAGE.format(what="the model's weights are"))
    dtype = parameter.dtype if parameter is not None and parameter.is_floating_point() else None
    was_training = model.training
    model.eval()
    predicted = []
    non_finite = 0
    try:
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                batch = images[start:start + batch_size].to(device, dtype=dtype, copy=True)
                if preprocess is not None:
                    batch = preprocess(batch)
                scores = model(batch)
                if not torch.is_tensor(scores) or scores.dim() != 2:
                    shape = tuple(scores.shape) if torch.is_tensor(scores) else type(scores).__name__
                    raise SubmissionError(f"the model returned {shape} for a batch of {len(batch)} images; it must "
                                          "return class scores of shape (batch, classes).")
                if scores.device.type == "meta":
                    raise SubmissionError(_META_MESSAGE.format(what="the model's outputs are"))
                if require_finite:
                    non_finite += int((~torch.isfinite(scores)).sum())
                predicted.append(scores.float().argmax(dim=1).cpu())
    finally:
        model.train(was_training)
    if non_finite:
        total = len(images) * (scores.shape[1] if predicted else 0)
        raise SubmissionError(f"the model's outputs contain NaN or infinite values ({non_finite} of {total} scores): "
                              "its weights blew up during training (a learning rate too high?). Retrain it, e.g. "
                              "with a lower learning rate, and check the validation loss is a number.")
    return torch.cat(predicted)


_META_MESSAGE = ("{what} on the 'meta' device, which holds shapes but no numbers, so there is nothing to score. "
                 "Build the model on the CPU (or GPU) and train or load its weights (load_checkpoint), e.g. "
                 "model.to_empty(device='cpu') then load_state_dict(...), before submitting.")


_WHAT_TO_PASS = ("Pass the trained model (an nn.Module), or its predictions for the test images in their order: "
                 "class indices (0 to {last}), class names ({names}), or an N x {n_classes} array of scores.")


def _to_array(submission: Any, what_to_pass: str) -> np.ndarray:
    """A NumPy array of the predictions, or SubmissionError for a type that cannot hold them."""
    if _torch_loaded():
        import torch

        if torch.is_tensor(submission):
            if submission.device.type == "meta":
                raise SubmissionError(_META_MESSAGE.format(what="the predictions are"))
            return submission.detach().cpu().numpy() if submission.dtype != torch.bfloat16 else \
                submission.detach().float().cpu().numpy()
    if hasattr(submission, "batch_size") and hasattr(submission, "__iter__"):
        raise SubmissionError(f"wrong type: a {type(submission).__name__} is a way to read data in batches, not "
                              "predictions. " + what_to_pass)
    if submission is None:
        raise SubmissionError("nothing to submit (None): did a function forget to `return`? " + what_to_pass)
    if isinstance(submission, (str, bytes)):
        raise SubmissionError(f"wrong type: a single {type(submission).__name__} ({str(submission)[:40]!r}). "
                              + what_to_pass)
    if isinstance(submission, Mapping):
        raise SubmissionError("wrong type: a dict. Submit predictions in the test images' order, not keyed by "
                              "name or file. " + what_to_pass)
    if isinstance(submission, (set, frozenset)):
        raise SubmissionError("wrong type: a set has no order. " + what_to_pass)
    if isinstance(submission, (numbers.Number, np.generic)):
        raise SubmissionError(f"wrong type: a single number ({submission!r}), not one prediction per test image. "
                              + what_to_pass)
    if type(submission).__module__.startswith("pandas"):
        submission = submission.to_numpy()
    if not isinstance(submission, (np.ndarray, list, tuple)):
        raise SubmissionError(f"wrong type: {type(submission).__module__}.{type(submission).__name__}. "
                              + what_to_pass)
    if isinstance(submission, (list, tuple)) and any(isinstance(item, str) for item in submission) \
            and not all(isinstance(item, str) for item in submission):
        kinds = sorted({type(item).__name__ for item in submission})
        raise SubmissionError(f"the predictions mix types ({', '.join(kinds)}): give all class names or all class "
                              "indices. " + what_to_pass)
    if isinstance(submission, (list, tuple)) and submission and all(
            getattr(item, "ndim", 0) >= 1 for item in submission):
        raise SubmissionError(f"a {type(submission).__name__} of {len(submission)} arrays or tensors (one per batch?): "
                              "join them into one, e.g. torch.cat(batches) or np.concatenate(batches).")
    try:
        array = np.asarray(submission)
    except ValueError as error:  # ragged nested lists
        raise SubmissionError(f"the predictions do not form a regular array ({error}). " + what_to_pass) from None
    if array.dtype == object:  # e.g. a pandas column of Python objects
        values = array.ravel()
        if all(isinstance(value, str) for value in values):
            return array.astype(str)
        if all(isinstance(value, numbers.Real) and not isinstance(value, bool) for value in values):
            return array.astype(float)
        kinds = sorted({type(value).__name__ for value in values})
        raise SubmissionError(f"the predictions mix types ({', '.join(kinds)}). " + what_to_pass)
    return array


def as_class_indices(submission: Any, classes: Sequence[str], n_examples: int) -> np.ndarray:
    """Validate ``submission`` (predictions, not a model) and return it as int64 class indices.

    Accepts class indices (integers, or floats that are whole numbers), class names, or an N x C array of
    scores or probabilities (the argmax of each row is taken). Raises :class:`SubmissionError` otherwise.
    """
    classes = list(classes)
    n_classes = len(classes)
    what_to_pass = _WHAT_TO_PASS.format(last=n_classes - 1, names=", ".join(map(repr, classes)), n_classes=n_classes)
    array = _to_array(submission, what_to_pass)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim == 0 or array.ndim > 2:
        raise SubmissionError(f"expected one prediction per test image (a 1-D array of {n_examples}) or an "
                              f"{n_examples} x {n_classes} array of scores; got an array of shape {array.shape}. "
                              + what_to_pass)
    if len(array) != n_examples:
        raise SubmissionError(f"wrong length: there are {n_examples} test images, the submission has {len(array)} "
                              "predictions. Predict every image of competition.test_images, in its order (not the "
                              "validation images, and no partial last batch dropped).")
    if array.dtype.kind in "US":
        if array.ndim != 1:
            raise SubmissionError(f"class names must form a 1-D array, got shape {array.shape}.")
        index = {name: i for i, name in enumerate(classes)}
        unknown = sorted({str(name) for name in array if name not in index})
        if unknown:
            raise SubmissionError(f"unknown class name(s) {unknown[:5]}; the classes are {classes} (exact spelling).")
        return np.array([index[name] for name in array], dtype=np.int64)
    if array.dtype.kind == "b":
        raise SubmissionError("the predictions are True/False values, not classes. " + what_to_pass)
    if array.dtype.kind not in "iuf":
        raise SubmissionError(f"predictions of dtype {array.dtype} cannot be classes. " + what_to_pass)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = "NaN" if np.isnan(array).any() else "infinite values"
        raise SubmissionError(f"the predictions contain {bad} ({int((~np.isfinite(array)).sum())} of {array.size}): "
                              "the model's outputs blew up, or something went wrong before the argmax.")
    if array.ndim == 2:
        if array.shape[1] != n_classes:
            raise SubmissionError(f"scores must have one column per class ({n_classes}: {classes}); got "
                                  f"{array.shape[1]} columns.")
        return array.argmax(axis=1).astype(np.int64)
    if array.dtype.kind == "f":
        if not np.all(array == np.round(array)):
            raise SubmissionError("the predictions are fractions, not class indices: pass whole numbers "
                                  f"0 to {n_classes - 1} (the argmax of each row of scores), or the N x {n_classes} "
                                  "scores themselves.")
    indices = array.astype(np.int64)
    outside = indices[(indices < 0) | (indices >= n_classes)]
    if len(outside):
        raise SubmissionError(f"class index {int(outside[0])} is out of range: there are {n_classes} classes, "
                              f"numbered 0 to {n_classes - 1} ({classes}).")
    return indices


# --------------------------------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------------------------------

def macro_f1_score(labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> float:
    """F1 of every class 0..n_classes-1, averaged with equal weight: scikit-learn's
    ``f1_score(labels, predicted, labels=range(n_classes), average="macro", zero_division=0)``."""
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    scores = []
    for k in range(n_classes):
        true_positive = np.sum((predicted == k) & (labels == k))
        predicted_k, actual_k = np.sum(predicted == k), np.sum(labels == k)
        denominator = predicted_k + actual_k
        scores.append(2.0 * true_positive / denominator if denominator else 0.0)
    return float(np.mean(scores))


def accuracy_score(labels: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean(np.asarray(labels) == np.asarray(predicted)))


# --------------------------------------------------------------------------------------------------
# Entries and validation of everything recorded with them
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One row of the board."""

    name: str
    macro_f1: float
    accuracy: float
    parameters: int | None
    train_seconds: float | None
    settings: dict
    submitted_at: str
    submissions: int
    competition: str


@dataclass(frozen=True)
class Submission:
    """What :func:`submit` recorded: the ``entry``, the ``previous`` one it replaced (or None), the entry's
    ``rank`` among ``entries`` of this competition, and the ``message`` printed."""

    entry: Entry
    previous: Entry | None
    rank: int
    entries: int
    message: str

    @property
    def replaced(self) -> bool:
        return self.previous is not None

    def __repr__(self) -> str:
        return self.message


def check_name(name: Any) -> str:
    """The name as shown (:func:`workshop_utils.names.display_name`); SubmissionError for an empty, overlong or
    non-string name."""
    try:
        return names.display_name(name)
    except names.InvalidName as error:
        raise SubmissionError(f"{error} Write it in MY_NAME.") from None


def name_key(name: str) -> str:
    """What two names must share to be one entry (:func:`workshop_utils.names.name_key`)."""
    check_name(name)
    return names.name_key(name)


def json_settings(settings: Any) -> dict:
    """``settings`` as plain JSON values (tuples become lists, NumPy and torch numbers Python numbers).

    SubmissionError names the first setting that is no plain value (a model, an optimizer, a function...):
    record what you chose (``"optimizer": "adamw"``), not the object.
    """
    if settings is None:
        return {}
    if not isinstance(settings, Mapping):
        raise SubmissionError(f"settings must be a dict of what you chose (e.g. {{'lr': 0.003, 'epochs': 20}}), got "
                              f"{type(settings).__name__}.")

    def plain(value: Any, where: str) -> Any:
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, np.generic) or (_torch_loaded() and _is_scalar_tensor(value)):
            value = value.item()
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, numbers.Real):
            if not math.isfinite(value):
                raise SubmissionError(f"setting {where} is {value}: record a finite number.")
            return float(value)
        if isinstance(value, Mapping):
            out = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    raise SubmissionError(f"setting names must be strings; {where or 'settings'} has the key {key!r}.")
                out[key] = plain(item, f"{where}[{key!r}]" if where else repr(key))
            return out
        if isinstance(value, (list, tuple)):
            return [plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
        raise SubmissionError(f"setting {where} is a {type(value).__module__}.{type(value).__name__}, which cannot "
                              "be recorded: write down what you chose as plain values (numbers, strings, lists), "
                              "e.g. 'optimizer': 'adamw' instead of the optimizer object.")

    return plain(dict(settings), "")


def _is_scalar_tensor(value: Any) -> bool:
    import torch

    return torch.is_tensor(value) and value.numel() == 1


def _check_seconds(train_seconds: Any) -> float | None:
    if train_seconds is None:
        return None
    if isinstance(train_seconds, bool) or not isinstance(train_seconds, numbers.Real) \
            or not math.isfinite(train_seconds) or train_seconds < 0:
        raise SubmissionError(f"train_seconds must be a number of seconds (0 or more), got {train_seconds!r}.")
    return float(train_seconds)


def _check_parameters(parameters: Any) -> int | None:
    if parameters is None:
        return None
    if isinstance(parameters, bool) or not isinstance(parameters, numbers.Integral) or parameters < 0:
        raise SubmissionError(f"parameters must be a whole number (0 or more), got {parameters!r}.")
    return int(parameters)


# --------------------------------------------------------------------------------------------------
# The file
# --------------------------------------------------------------------------------------------------

def _resolve(path: str | Path | None) -> Path:
    return Path(path) if path is not None else config.leaderboard_path()


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; we say BEGIN IMMEDIATE / COMMIT ourselves.
    return sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)


class _BadRow(ValueError):
    """A row of the board that does not hold a valid entry (hand-edited, or written by something else)."""


def _finite_fraction(value: Any, column: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise _BadRow(f"{column} is {value!r}, not a number from 0 to 1")
    return float(value)


def _entry_from_row(row: Sequence) -> Entry:
    """The Entry of a row of COLUMNS; _BadRow saying which value is wrong."""
    values = dict(zip(COLUMNS, row))
    if not isinstance(values["name"], str) or not values["name"].strip():
        raise _BadRow(f"name is {values['name']!r}")
    values["macro_f1"] = _finite_fraction(values["macro_f1"], "macro_f1")
    values["accuracy"] = _finite_fraction(values["accuracy"], "accuracy")
    for column, kind in (("parameters", numbers.Integral), ("train_seconds", numbers.Real)):
        if values[column] is not None and (isinstance(values[column], bool) or not isinstance(values[column], kind)):
            raise _BadRow(f"{column} is {values[column]!r}, not a number")
    if isinstance(values["submissions"], bool) or not isinstance(values["submissions"], int) \
            or values["submissions"] < 1:
        raise _BadRow(f"submissions is {values['submissions']!r}, not a count")
    try:
        values["settings"] = json.loads(values["settings"])
    except (TypeError, ValueError):
        raise _BadRow(f"settings is {str(values['settings'])[:40]!r}, not JSON") from None
    if not isinstance(values["settings"], dict):
        raise _BadRow("settings is not a JSON object")
    if not isinstance(values["submitted_at"], str) or not isinstance(values["competition"], str):
        raise _BadRow("submitted_at or competition is not text")
    return Entry(**values)


_INSERT = f"INSERT INTO entries ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
_ORDER = " ORDER BY macro_f1 DESC, accuracy DESC, submitted_at ASC, name ASC"
_MOVE_ASIDE = ("Move it aside (rename it, e.g. to {name}.broken, and keep it if the entries matter) and submit "
               "again to start a new board, or set WORKSHOP_LEADERBOARD to another file.")


def _file_error(path: Path, error: BaseException) -> Exception:
    """A readable LeaderboardFileError for what sqlite3 or the OS said about ``path`` (or a TimeoutError)."""
    text = str(error)
    fix = _MOVE_ASIDE.format(name=path.name)
    if "locked" in text or "busy" in text:
        return TimeoutError(f"the leaderboard {path} stayed locked for {BUSY_TIMEOUT_S:.0f} s ({error}): another "
                            "program is holding it (or it is on a network share, where SQLite's locks do not work; "
                            "keep it on a local disk).")
    if path.is_dir():
        return LeaderboardFileError(f"The leaderboard {path} is a folder, not a file. Set WORKSHOP_LEADERBOARD to a "
                                    f"file path, e.g. {path / 'leaderboard.sqlite3'}, or remove the folder.")
    if "readonly" in text or "read-only" in text or isinstance(error, PermissionError):
        return LeaderboardFileError(f"The leaderboard {path} cannot be written (read-only: {error}). Make it and "
                                    f"its folder writable (chmod u+w), or set WORKSHOP_LEADERBOARD to a file you "
                                    "can write to.")
    if "not a database" in text or "malformed" in text or "disk image" in text:
        return LeaderboardFileError(f"The leaderboard {path} is not a readable SQLite file ({error}): it was damaged "
                                    f"(cut short while copied?) or is another kind of file. {fix}")
    if "no such column" in text or "has no column" in text or "another schema" in text:
        return LeaderboardFileError(f"The leaderboard {path} holds an 'entries' table of another layout ({error}): "
                                    f"it was not written by this workshop's leaderboard. {fix}")
    if "unable to open" in text or isinstance(error, OSError):
        return LeaderboardFileError(f"The leaderboard {path} cannot be opened ({error}). Check that its folder "
                                    "exists and can be written, or set WORKSHOP_LEADERBOARD to another file.")
    return LeaderboardFileError(f"The leaderboard {path} cannot be used ({type(error).__name__}: {error}). {fix}")


def _check_schema(connection: sqlite3.Connection) -> set[str]:
    """The columns of the ``entries`` table (empty: no table yet); sqlite3.DatabaseError for another layout."""
    columns = {row[1] for row in connection.execute("PRAGMA table_info(entries)")}
    missing = [column for column in COLUMNS if column not in columns]
    if columns and missing:
        raise sqlite3.DatabaseError(f"another schema: no column(s) {', '.join(missing)}")
    return columns


def _rows(connection: sqlite3.Connection, path: Path, where: str = "", arguments: tuple = ()) -> list:
    """``(rowid, Entry)`` of each valid row; each invalid one is skipped with a warning naming it."""
    rows = []
    for rowid, *values in connection.execute(f"SELECT rowid, {', '.join(COLUMNS)} FROM entries{where}{_ORDER}",
                                             arguments).fetchall():
        try:
            rows.append((rowid, _entry_from_row(values)))
        except _BadRow as problem:
            warnings.warn(f"The leaderboard {path} has a damaged row (rowid {rowid}, name {values[0]!r}: {problem}); "
                          f"it is left out of the board. Delete it with: sqlite3 {path} \"DELETE FROM entries WHERE "
                          f"rowid = {rowid}\" (or submit again under that name to replace it).", stacklevel=3)
    return rows


def _write(path: Path, entry: Entry, fingerprint: str, limit: int) -> tuple[Entry, Entry | None, int, int]:
    """Insert or replace ``entry`` in one transaction; return (stored entry, previous entry, rank, count).

    The entry of the same name (by :func:`name_key`) is replaced. SubmissionError, writing nothing, when
    that name has used ``limit`` submissions already (0: no limit) and ``fingerprint`` (of the predictions)
    is new for it: predictions this name submitted before use no submission.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _file_error(path, error) from None
    try:
        with closing(_connect(path)) as connection:
            connection.execute("BEGIN IMMEDIATE")  # the write lock now: no lost update between SELECT and UPDATE
            try:
                if not _check_schema(connection):
                    connection.execute(SCHEMA)
                connection.execute(SEEN_SCHEMA)
                key = name_key(entry.name)
                mine = [row for row in _rows(connection, path, " WHERE competition = ?", (entry.competition,))
                        if name_key(row[1].name) == key]
                previous = mine[0][1] if mine else None
                same_predictions = connection.execute(
                    "SELECT COUNT(*) FROM submitted_predictions WHERE competition = ? AND name_key = ? AND "
                    "predictions = ?", (entry.competition, key, fingerprint)).fetchone()[0] > 0
                used = previous.submissions if previous else 0
                if limit and used >= limit and not same_predictions:
                    raise SubmissionError(
                        f"{previous.name!r} has used all {limit} submissions for this competition; your entry stays "
                        f"as it is (macro-F1 {previous.macro_f1:.3f}). The limit keeps the test split an exam rather "
                        "than something to tune on: choose your model by its validation score. The instructor can "
                        "raise it (WORKSHOP_MAX_SUBMISSIONS).")
                stored = replace(entry, submissions=used if same_predictions and previous else used + 1)
                connection.execute("INSERT OR IGNORE INTO submitted_predictions VALUES (?, ?, ?)",
                                   (entry.competition, key, fingerprint))
                connection.execute("DELETE FROM entries WHERE competition = ? AND name = ?",
                                   (entry.competition, entry.name))  # a damaged row of the same name, too
                for rowid, _ in mine:
                    connection.execute("DELETE FROM entries WHERE rowid = ?", (rowid,))
                connection.execute(_INSERT,
                                   (stored.name, stored.macro_f1, stored.accuracy, stored.parameters,
                                    stored.train_seconds, json.dumps(stored.settings, sort_keys=True),
                                    stored.submitted_at, stored.submissions, stored.competition))
                better = connection.execute(
                    "SELECT COUNT(*) FROM entries WHERE competition = ? AND (macro_f1 > ? OR (macro_f1 = ? AND "
                    "(accuracy > ? OR (accuracy = ? AND (submitted_at < ? OR (submitted_at = ? AND name < ?))))))",
                    (stored.competition, stored.macro_f1, stored.macro_f1, stored.accuracy, stored.accuracy,
                     stored.submitted_at, stored.submitted_at, stored.name)).fetchone()[0]
                count = connection.execute("SELECT COUNT(*) FROM entries WHERE competition = ?",
                                           (stored.competition,)).fetchone()[0]
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
    except (sqlite3.Error, OSError) as error:
        raise _file_error(path, error) from None
    return stored, previous, better + 1, count


def read_entries(path: str | Path | None = None, competition: str | None = None, *,
                 name: str | None = None) -> list[Entry]:
    """The entries in the file (of ``competition`` and ``name`` only, when given), best first. Creates no file.

    ``name`` matches as in :func:`submit` (:func:`name_key`). A damaged row is left out with a warning;
    a file that cannot be read raises :class:`LeaderboardFileError` naming it and the fix.
    """
    path = _resolve(path)
    if not path.exists():
        return []
    where, arguments = ("", ()) if competition is None else (" WHERE competition = ?", (competition,))
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S,
                                     isolation_level=None)) as connection:
            rows = _rows(connection, path, where, arguments) if _check_schema(connection) else []  # none yet
    except (sqlite3.Error, OSError) as error:
        raise _file_error(path, error) from None
    entries = [entry for _, entry in rows]
    if name is not None:
        key = name_key(name)
        entries = [entry for entry in entries if name_key(entry.name) == key]
    return entries


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------

def _fit_result_model(submission: Any):
    """``(model, seconds)`` when ``submission`` is a FitResult from ``training.fit``, else None."""
    if not _torch_loaded() or type(submission).__name__ != "FitResult":
        return None
    from .training import FitResult

    return (submission.model, submission.seconds) if isinstance(submission, FitResult) else None


def _check_limit(limit: Any) -> int:
    if isinstance(limit, bool) or not isinstance(limit, numbers.Integral) or limit < 0:
        raise ValueError(f"limit must be a whole number of submissions (0 for no limit), got {limit!r}.")
    return int(limit)


def _describe_change(previous: Entry, entry: Entry) -> str:
    if entry.submissions == previous.submissions:
        return (f"This replaced your earlier entry with predictions you had submitted before (macro-F1 "
                f"{entry.macro_f1:.3f}, was {previous.macro_f1:.3f}): it used no submission.")
    if entry.macro_f1 > previous.macro_f1:
        trend = "better"
    elif entry.macro_f1 < previous.macro_f1:
        trend = "worse: the latest submission counts, not the best"
    else:
        trend = "the same score"
    return (f"This replaced your earlier entry (submission {entry.submissions}): macro-F1 {previous.macro_f1:.3f} -> "
            f"{entry.macro_f1:.3f} ({trend}).")


def submit(name: str, submission: Any, settings: Mapping | None = None, *, train_seconds: float | None = None,
           parameters: int | None = None, preprocess: Callable | None = None, image_size: int = IMAGE_SIZE,
           batch_size: int = 256, path: str | Path | None = None, held_out: HeldOut | None = None,
           limit: int | None = None, verbose: bool = True) -> Submission:
    """Score ``submission`` on the held-out test split and put it on the board under ``name``.

    ``submission``: the trained model (an ``nn.Module``, run on the test images in eval mode without
    gradients, batched, on its own device; ``preprocess`` is applied to each batch first), a ``FitResult``
    from ``fit`` (its model; its training time when ``train_seconds`` is not given), or predictions for
    ``competition.test_images`` in their order: class indices, class names, or an N x C array of scores.
    ``settings``: a dict of what you chose (JSON-able values), stored with the entry. ``parameters``: the
    model's parameter count when you submit predictions (counted for a model). ``image_size``: the size
    you passed to :func:`competition_data`. ``path``: the leaderboard file (default
    ``config.leaderboard_path()``); ``held_out``: another test split (default: the road signs').

    Submitting again under the same name (case, spacing and invisible characters ignored: :func:`name_key`)
    **replaces** the entry, whether the new score is better or worse, and the message says so. ``limit``:
    submissions per name (default :func:`max_submissions`; 0 for none); predictions this name submitted
    before use none. Raises :class:`SubmissionError` (writing nothing) for a submission that cannot
    be scored or one over the limit, :class:`LeaderboardFileError` for a board file that cannot be used.
    """
    name = check_name(name)
    settings = json_settings(settings)
    train_seconds = _check_seconds(train_seconds)
    parameters = _check_parameters(parameters)
    from_fit = _fit_result_model(submission)
    if from_fit is not None:
        submission, fit_seconds = from_fit
        train_seconds = train_seconds if train_seconds is not None else float(fit_seconds)
    if held_out is None:  # the test images at the model's size; for predictions, any size will do
        held_out = road_sign_held_out(image_size if _is_module(submission) else None)
    if _is_module(submission):
        if held_out.images is None:
            raise SubmissionError("this competition is scored from predictions only: submit the predicted classes.")
        if parameters is None:
            parameters = sum(p.numel() for p in submission.parameters())
        try:
            submission = predict_classes(submission, held_out.images, batch_size=batch_size, preprocess=preprocess,
                                         require_finite=True)
        except SubmissionError:
            raise
        except Exception as error:  # the model cannot run on the test images: say what they are
            shape = "x".join(str(n) for n in held_out.images.shape[1:])
            raise SubmissionError(f"your model raised {type(error).__name__} on the test images (float {shape} "
                                  f"tensors in [0, 1], batches of {batch_size}): {error}. Were they prepared like "
                                  "your training images (size, preprocess=...)?") from error
    predicted = as_class_indices(submission, held_out.classes, len(held_out))
    macro_f1, accuracy = held_out.score(predicted)
    entry = Entry(name=name, macro_f1=macro_f1, accuracy=accuracy, parameters=parameters,
                  train_seconds=train_seconds, settings=settings,
                  submitted_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds"),
                  submissions=1, competition=held_out.competition)
    limit = max_submissions() if limit is None else _check_limit(limit)
    fingerprint = hashlib.sha256(np.ascontiguousarray(predicted, dtype=np.int64).tobytes()).hexdigest()
    stored, previous, rank, count = _write(_resolve(path), entry, fingerprint, limit)
    used = f"submission {stored.submissions} of {limit}" if limit else f"submission {stored.submissions}"
    message = (f"Submitted {stored.name!r} ({used}): macro-F1 {stored.macro_f1:.3f}, accuracy {stored.accuracy:.1%} "
               f"on {len(held_out)} held-out test images; rank {rank} of {count}.")
    if previous is not None:
        message += " " + _describe_change(previous, stored)
    else:
        message += " Submitting again under this name replaces this entry: only your latest submission counts."
    result = Submission(stored, previous, rank, count, message)
    if verbose:
        print(message)
    return result


def leaderboard_table(path: str | Path | None = None, *, competition: str | None = None,
                      all_competitions: bool = False):
    """The board as a DataFrame indexed by rank: best macro-F1 first, then accuracy, then who was first.

    Shows the current road-sign competition unless ``competition`` names another (or
    ``all_competitions=True``: every entry, with a ``competition`` column, ranked within each).
    """
    import pandas as pd

    if competition is None and not all_competitions:
        competition = road_sign_held_out(None).competition
    entries = read_entries(path, None if all_competitions else competition)
    columns = ["name", "macro_f1", "accuracy", "parameters", "train_seconds", "submissions", "submitted_at",
               "settings"] + (["competition"] if all_competitions else [])
    table = pd.DataFrame([{column: getattr(entry, column) for column in columns} for entry in entries],
                         columns=columns)
    table["parameters"] = table["parameters"].astype("Int64")
    if all_competitions:
        table["rank"] = table.groupby("competition").cumcount() + 1
    else:
        table["rank"] = range(1, len(table) + 1)
    return table.set_index("rank")


def leaderboard_entry(name: str, path: str | Path | None = None, *, competition: str | None = None) -> Entry | None:
    """The entry of ``name`` (case and spacing ignored, as in :func:`submit`) in the current competition, or None."""
    competition = competition if competition is not None else road_sign_held_out(None).competition
    entries = read_entries(path, competition, name=check_name(name))
    return entries[0] if entries else None
