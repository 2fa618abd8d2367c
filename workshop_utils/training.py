"""``fit()``: the training loop you wrote in notebook 03, plus the chores around it.

From notebook 04 on, models train with one call::

    result = fit(model, train_loader, val_loader, epochs=10)
    result.history          # one row per epoch: a table you can plot or compare
    result.model            # the trained model (by default: its best epoch's weights)

Nothing is hidden: for every epoch, ``fit`` runs the two functions of notebook 03.

1. :func:`train_epoch` (03's ``train_one_epoch``): ``model.train()``, then for each batch
   ``(inputs, labels)``: move it to the device, ``optimizer.zero_grad()``, ``outputs = model(inputs)``,
   ``loss = loss_fn(outputs, labels)``, ``loss.backward()``, ``optimizer.step()``. It returns the mean
   loss per example and the accuracy over the epoch's batches.
2. :func:`evaluate_loss_accuracy` (03's ``evaluate``): ``model.eval()`` and ``torch.no_grad()``, then
   the mean loss per example and the accuracy on the validation loader, without learning anything.

What ``fit`` adds, each optional:

- **a progress bar** over the epochs (tqdm) with the latest numbers; ``progress=False`` silences it;
- **live curves** of loss and accuracy, redrawn after every epoch (``live_plot=False`` turns them off);
- **a history table** (pandas): ``epoch, train_loss, train_acc, val_loss, val_acc, lr, seconds``;
- **clean training numbers**: with ``train_eval_loader``, ``train_loss``/``train_acc`` are measured in
  evaluation mode after the epoch (no dropout, no augmentation), comparable to the validation numbers;
- **a learning-rate schedule**, stepped after each epoch (or each batch);
- **early stopping**: stop when ``monitor`` (the validation loss by default) has not improved for
  ``early_stopping_patience`` epochs; and, by default, **the best epoch's weights** are put back at the end;
- **checkpoints**: the best model written to a file whenever it improves (see :mod:`.checkpoints`);
- **mixed precision (AMP)** on CUDA GPUs: the forward pass in 16-bit floats, faster on modern GPUs;
- **Weights & Biases** logging, only when you pass a run (``workshop_utils.tracking.start_run``).
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import torch
from torch import nn
from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau
from tqdm.auto import tqdm

from .checkpoints import CheckpointError, check_checkpoint_path, save_checkpoint
from .device import pick_device
from .seeding import seed_everything

MONITORS = ("val_loss", "val_acc", "train_loss", "train_acc")
METRIC_COLUMNS = ("train_loss", "train_acc", "val_loss", "val_acc")


class TrainingDiverged(FloatingPointError):
    """The training loss became NaN or infinite: the weights blew up, usually because the learning rate is too high."""


# --------------------------------------------------------------------------------------------------
# Mixed precision and devices
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AmpChoice:
    """Whether to use mixed precision: ``enabled``, the 16-bit ``dtype``, whether a GradScaler is needed, and why."""

    enabled: bool
    dtype: torch.dtype | None = None
    use_scaler: bool = False
    reason: str = "off"


AMP_OFF = AmpChoice(False, reason="off")


def choose_amp(amp: bool | str, device_type: str, bf16_supported: bool = False) -> AmpChoice:
    """Decide on mixed precision for ``amp`` (``"auto"``, ``True`` or ``False``) on a device of ``device_type``.

    ``"auto"`` turns it on only on CUDA: bfloat16 where the GPU supports it (same range as float32, so no
    loss scaling), else float16 with a GradScaler (float16 gradients would underflow to zero without it).
    On CPU and Apple GPUs mixed precision rarely speeds these models up, so ``amp=True`` there is an error.
    """
    if not (amp is True or amp is False or amp == "auto"):
        raise ValueError(f"amp must be 'auto', True or False, got {amp!r}.")
    if amp is False:
        return AmpChoice(False, reason="off (amp=False)")
    if device_type != "cuda":
        if amp is True:
            raise ValueError(f"amp=True asks for mixed precision, which fit() only uses on CUDA GPUs; the device "
                             f"here is {device_type!r}. Use amp='auto' (on where it helps) or amp=False.")
        return AmpChoice(False, reason=f"off: mixed precision only pays off on CUDA GPUs, this is {device_type}")
    if bf16_supported:
        return AmpChoice(True, torch.bfloat16, False, "on: bfloat16 autocast (no loss scaling needed)")
    return AmpChoice(True, torch.float16, True, "on: float16 autocast with a GradScaler (no bfloat16 on this GPU)")


def has_fast_bf16(device: torch.device) -> bool:
    """Whether the CUDA GPU computes in bfloat16 in hardware (compute capability 8.0, Ampere, and newer).

    Not ``torch.cuda.is_bf16_supported()``: it also says True for older GPUs such as Colab's T4, which only
    emulate bfloat16, slowly; float16 with a GradScaler is the fast choice there.
    """
    return torch.cuda.get_device_capability(device)[0] >= 8


def amp_for_device(amp: bool | str, device: torch.device | str) -> AmpChoice:
    """:func:`choose_amp` for a real ``device``: on CUDA, bfloat16 only where the GPU has it in hardware
    (:func:`has_fast_bf16`: Ampere and newer), float16 with a GradScaler elsewhere (a T4); off on CPU and MPS,
    which so never get a GradScaler or any other CUDA-only option."""
    device = torch.device(device)
    return choose_amp(amp, device.type, device.type == "cuda" and has_fast_bf16(device))


def autocast(amp: AmpChoice, device: torch.device):
    """The autocast context for ``amp`` on ``device``; a context that does nothing when AMP is off."""
    if not amp.enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=amp.dtype)


def make_grad_scaler(device: torch.device):
    """A GradScaler for float16 training on ``device`` (``torch.amp`` since torch 2.3, ``torch.cuda.amp`` before)."""
    if hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler(device.type)
    return torch.cuda.amp.GradScaler()


def resolve_device(model: nn.Module, device: torch.device | str | None = None) -> torch.device:
    """``device`` if given; else where the model already is when that is a GPU; else :func:`pick_device`'s choice."""
    if device is not None:
        return torch.device(device)
    for parameter in model.parameters():
        if parameter.device.type != "cpu":
            return parameter.device
    return pick_device().device


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter (CPU for a model without parameters)."""
    return next((parameter.device for parameter in model.parameters()), torch.device("cpu"))


# --------------------------------------------------------------------------------------------------
# One epoch of training, one pass of evaluation (notebook 03's loop)
# --------------------------------------------------------------------------------------------------

def check_labels(loss_fn: Callable, outputs: torch.Tensor, labels: torch.Tensor) -> None:
    """Raise a clear TypeError when cross-entropy gets class indices that are not int64."""
    cross_entropy = isinstance(loss_fn, nn.CrossEntropyLoss) or loss_fn is nn.functional.cross_entropy
    indices = labels.dim() == outputs.dim() - 1  # one class index per example (not one probability per class)
    if cross_entropy and indices and labels.dtype != torch.long:
        raise TypeError(f"CrossEntropyLoss got labels of dtype {labels.dtype}: labels must be int64 class indices "
                        "(0, 1, 2, ...). Convert them where the data set is built, e.g. labels.long() or "
                        "torch.tensor(labels, dtype=torch.long).")


def count_correct(outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor | None:
    """How many rows of ``outputs`` (N x classes) have their highest score at ``labels`` (N class indices),
    as a tensor on the device; None when the outputs are not class scores, so accuracy does not apply."""
    if outputs.dim() != 2 or labels.dim() != 1 or labels.is_floating_point():
        return None
    return (outputs.argmax(dim=1) == labels).sum()


class EpochTotals:
    """Sums over one epoch's batches for the mean loss per example and the accuracy.

    The sums stay tensors on the device: a ``loss.item()`` per batch, as in notebook 03, would make the CPU
    wait for the GPU at every step; here it waits once per epoch.
    """

    def __init__(self) -> None:
        self.loss_sum: torch.Tensor | float = 0.0
        self.correct: torch.Tensor | int | None = 0  # None once some batch had no accuracy
        self.examples = 0

    def add(self, loss: torch.Tensor, outputs: torch.Tensor, labels: torch.Tensor) -> None:
        batch_size = len(labels)
        self.loss_sum = self.loss_sum + loss.detach().float() * batch_size  # the batch's mean loss times its size
        hits = count_correct(outputs.detach(), labels)
        self.correct = None if hits is None or self.correct is None else self.correct + hits
        self.examples += batch_size

    def result(self, what: str) -> tuple[float, float]:
        """``(mean loss per example, accuracy)``; accuracy is NaN when it does not apply."""
        if self.examples == 0:
            raise ValueError(f"{what}: the loader yielded no batches. Is the data set empty, or smaller than "
                             "batch_size with drop_last=True?")
        accuracy = math.nan if self.correct is None else float(self.correct) / self.examples
        return float(self.loss_sum) / self.examples, accuracy


def train_epoch(model: nn.Module, loader, loss_fn: Callable, optimizer: torch.optim.Optimizer, *,
                device: torch.device | str | None = None, amp: AmpChoice = AMP_OFF,
                scaler: Any = None, scheduler: Any = None,
                grad_clip: float | None = None) -> tuple[float, float]:
    """One pass over ``loader``, one optimizer step per batch; returns ``(mean loss per example, accuracy)``.

    The loop of notebook 03's ``train_one_epoch``. Extras, all off by default: ``amp`` runs the forward
    pass under autocast and ``scaler`` scales the loss for float16; ``scheduler`` is stepped after every
    batch (OneCycleLR-style schedules); ``grad_clip`` caps the gradients' total norm before each step.
    ``device`` defaults to the model's. The numbers are running averages over the epoch, with the
    model changing as it goes (and dropout on): use :func:`evaluate_loss_accuracy` for exact ones.
    """
    device = torch.device(device) if device is not None else model_device(model)
    model.train()  # dropout (and batch norm) in training mode
    totals = EpochTotals()
    for inputs, labels in loader:
        inputs = inputs.to(device, non_blocking=True)
        labels = labels.to(device, non_blocking=True)
        optimizer.zero_grad()  # gradients add up in .grad otherwise
        with autocast(amp, device):
            outputs = model(inputs)
            check_labels(loss_fn, outputs, labels)
            loss = loss_fn(outputs, labels)
        if scaler is None:
            loss.backward()
            clip_gradients(model, grad_clip)
            optimizer.step()
        else:  # float16: scale the loss up so small gradients survive, unscale before the step
            scaler.scale(loss).backward()
            if grad_clip is not None:
                scaler.unscale_(optimizer)
                clip_gradients(model, grad_clip)
            scaler.step(optimizer)  # skips the step if a gradient overflowed, and lowers the scale
            scaler.update()
        if scheduler is not None:
            scheduler.step()
        totals.add(loss, outputs, labels)
    return totals.result("training")


def clip_gradients(model: nn.Module, max_norm: float | None) -> None:
    """Scale all gradients down together so their total norm is at most ``max_norm`` (None: do nothing)."""
    if max_norm is not None:
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)


def evaluate_loss_accuracy(model: nn.Module, loader, loss_fn: Callable | None = None, *,
                           device: torch.device | str | None = None, amp: AmpChoice = AMP_OFF) -> tuple[float, float]:
    """Mean loss per example and accuracy (a fraction) of ``model`` on ``loader``, without learning.

    Notebook 03's ``evaluate``: ``model.eval()`` (dropout off), ``torch.no_grad()`` (no graph kept).
    ``loss_fn`` defaults to cross-entropy; accuracy is NaN when outputs are not class scores.
    """
    loss_fn = loss_fn if loss_fn is not None else nn.CrossEntropyLoss()
    device = torch.device(device) if device is not None else model_device(model)
    model.eval()  # dropout off: the model as it will be used
    totals = EpochTotals()
    with torch.no_grad():  # no graph, no gradients: faster, and nothing can leak into training
        for inputs, labels in loader:
            inputs = inputs.to(device, non_blocking=True)
            labels = labels.to(device, non_blocking=True)
            with autocast(amp, device):
                outputs = model(inputs)
                check_labels(loss_fn, outputs, labels)
                loss = loss_fn(outputs, labels)
            totals.add(loss, outputs, labels)
    return totals.result("evaluation")


# --------------------------------------------------------------------------------------------------
# Early stopping and learning-rate schedules
# --------------------------------------------------------------------------------------------------

def lower_is_better(monitor: str) -> bool:
    """True for losses (``val_loss``), False for accuracies (``val_acc``)."""
    return monitor.endswith("loss")


class EarlyStopping:
    """Follows ``monitor`` epoch after epoch: the best value so far, its epoch, and when to stop.

    An epoch improves when its value beats the best by more than ``min_delta`` (lower for a loss,
    higher for an accuracy). With ``patience=N``, :attr:`should_stop` turns True after N epochs in a
    row without improvement; ``patience=None`` only keeps track of the best epoch.

    >>> stopper = EarlyStopping("val_loss", patience=2)
    >>> [stopper.update(epoch, value) for epoch, value in enumerate([0.9, 0.7, 0.8, 0.75], start=1)]
    [True, True, False, False]
    >>> stopper.best_epoch, stopper.should_stop
    (2, True)
    """

    def __init__(self, monitor: str = "val_loss", patience: int | None = None, min_delta: float = 0.0):
        if patience is not None and (isinstance(patience, bool) or not isinstance(patience, int) or patience < 1):
            raise ValueError(f"early_stopping_patience must be an integer >= 1 (or None), got {patience!r}.")
        if not min_delta >= 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta!r}.")
        self.monitor = monitor
        self.patience = patience
        self.min_delta = min_delta
        self.lower_is_better = lower_is_better(monitor)
        self.best_value: float | None = None
        self.best_epoch: int | None = None
        self.epochs_without_improvement = 0

    def is_improvement(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.best_value is None:
            return True
        if self.lower_is_better:
            return value < self.best_value - self.min_delta
        return value > self.best_value + self.min_delta

    def update(self, epoch: int, value: float) -> bool:
        """Record ``epoch``'s value; return True when it is the best so far."""
        improved = self.is_improvement(value)
        if improved:
            self.best_value, self.best_epoch = value, epoch
            self.epochs_without_improvement = 0
        else:
            self.epochs_without_improvement += 1
        return improved

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.epochs_without_improvement >= self.patience


def build_scheduler(scheduler: Any, optimizer: torch.optim.Optimizer, per_batch: bool = False, *,
                    monitor: str = "val_loss"):
    """The scheduler for ``optimizer`` from ``scheduler``: a function ``optimizer -> scheduler`` (built here,
    because fit may build the optimizer itself), or a scheduler already built on that same optimizer."""
    if scheduler is None:
        return None
    if isinstance(scheduler, (LRScheduler, ReduceLROnPlateau)):
        if scheduler.optimizer is not optimizer:
            raise TypeError("scheduler= was built for another optimizer than the one fit() uses. Pass a function "
                            "that builds it, e.g. scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, 5, 0.5).")
        built = scheduler
    elif callable(scheduler):
        built = scheduler(optimizer)
        if not hasattr(built, "step"):
            raise TypeError(f"scheduler(optimizer) returned {built!r}, which has no .step(): return a "
                            "torch.optim.lr_scheduler object.")
    else:
        raise TypeError(f"scheduler must be a function optimizer -> scheduler, e.g. lambda opt: "
                        f"torch.optim.lr_scheduler.StepLR(opt, 5, 0.5); got {scheduler!r}.")
    if isinstance(built, ReduceLROnPlateau):
        if per_batch:
            raise ValueError("ReduceLROnPlateau reacts to a monitored value once per epoch: use "
                             "scheduler_per_batch=False with it.")
        wanted = "min" if lower_is_better(monitor) else "max"
        if built.mode != wanted:
            raise ValueError(f"ReduceLROnPlateau(mode={built.mode!r}) but monitor={monitor!r} is "
                             f"{'lower' if wanted == 'min' else 'higher'} is better: build it with mode={wanted!r}.")
    return built


def step_scheduler(scheduler: Any, monitored_value: float | None) -> None:
    """One end-of-epoch step: ReduceLROnPlateau needs the monitored value, other schedules only count epochs."""
    if isinstance(scheduler, ReduceLROnPlateau):
        scheduler.step(monitored_value)
    else:
        scheduler.step()


def current_lr(optimizer: torch.optim.Optimizer) -> float:
    """The learning rate of the optimizer's first parameter group."""
    return float(optimizer.param_groups[0]["lr"])


# --------------------------------------------------------------------------------------------------
# fit
# --------------------------------------------------------------------------------------------------

@dataclass
class FitResult:
    """What :func:`fit` returns. ``best_epoch``/``best_value`` are None when ``monitor`` was not measured
    (e.g. ``val_loss`` without a validation loader)."""

    model: nn.Module
    history: pd.DataFrame
    best_epoch: int | None
    best_value: float | None
    monitor: str
    stopped_early: bool
    seconds: float
    checkpoint_path: Path | None
    device: torch.device
    amp: AmpChoice
    curves: Any = field(default=None, repr=False)  # the LiveCurves, when live_plot=True

    def summary(self) -> str:
        """One sentence: how many epochs, where, the best one, whether it stopped early."""
        epochs = len(self.history)
        text = f"{epochs} epoch{'s' if epochs != 1 else ''} in {self.seconds:.1f} s on {self.device}"
        if self.stopped_early:
            text += " (stopped early)"
        if self.best_epoch is not None:
            text += f"; best {self.monitor} {self.best_value:.4f} at epoch {self.best_epoch}"
        return text + "."

    def __repr__(self) -> str:
        return f"FitResult({self.summary()})"


def fit(model: nn.Module, train_loader, val_loader=None, *, epochs: int,
        optimizer: torch.optim.Optimizer | None = None, lr: float = 1e-3, loss_fn: Callable | None = None,
        scheduler: Any = None, scheduler_per_batch: bool = False, device: torch.device | str | None = None,
        train_eval_loader=None, early_stopping_patience: int | None = None, monitor: str = "val_loss",
        min_delta: float = 0.0, restore_best: bool = True, checkpoint_path: str | Path | None = None,
        amp: bool | str = "auto", grad_clip: float | None = None, live_plot: bool = True, progress: bool = True,
        wandb_run: Any = None, title: str | None = None, seed: int | None = None) -> FitResult:
    """Train ``model`` for up to ``epochs`` epochs; return a :class:`FitResult` (model, history, best epoch...).

    Each epoch:

    1. ``train_epoch``: ``model.train()``; per batch of ``train_loader``: ``optimizer.zero_grad()``,
       ``outputs = model(inputs)``, ``loss = loss_fn(outputs, labels)``, ``loss.backward()``,
       ``optimizer.step()`` (notebook 03's ``train_one_epoch``). A NaN or infinite loss stops training
       with :class:`TrainingDiverged`.
    2. with ``train_eval_loader``: ``evaluate_loss_accuracy`` on it gives ``train_loss``/``train_acc`` in
       eval mode (clean numbers: no dropout or augmentation); otherwise they are the epoch's running averages.
    3. with ``val_loader``: ``evaluate_loss_accuracy`` (``model.eval()`` + ``torch.no_grad()``, 03's
       ``evaluate``) gives ``val_loss``/``val_acc``.
    4. the history gets a row; if ``monitor`` improved, the weights are remembered (``restore_best``) and
       written to ``checkpoint_path``; the scheduler steps; bar, curves and W&B are updated; with
       ``early_stopping_patience=N`` training stops after N epochs without improvement.

    At the end, with ``restore_best=True``, the model gets back the weights of its best epoch (whether or
    not it stopped early) and is left in evaluation mode.

    Arguments
        loaders: anything that yields ``(inputs, labels)`` batches: a DataLoader or a TensorBatchLoader.
        optimizer: default ``Adam(model.parameters(), lr=lr)``. loss_fn: default ``nn.CrossEntropyLoss()``.
        scheduler: a function ``optimizer -> scheduler``, e.g. ``lambda opt: StepLR(opt, 5, 0.5)``, stepped
            after each epoch (ReduceLROnPlateau gets the monitored value), or after each batch with
            ``scheduler_per_batch=True`` (OneCycleLR). The ``lr`` column is the rate at the epoch's start.
        monitor: ``"val_loss"`` (lower is better), ``"val_acc"`` (higher is better), ``"train_loss"`` or
            ``"train_acc"``; an epoch improves when it beats the best by more than ``min_delta``.
        device: default: where the model is if that is a GPU, else :func:`pick_device`. The model is
            moved there; each batch is moved with ``.to(device, non_blocking=True)``.
        amp: ``"auto"``: mixed precision on CUDA only (bfloat16 where supported, else float16 with a
            GradScaler); ``False``: off; ``True`` on a non-CUDA device is an error.
        grad_clip: cap on the gradients' total norm (None: no clipping).
        wandb_run: a run from ``tracking.start_run``: each epoch's row is logged with ``run.log(row, step=epoch)``.
        seed: ``seed_everything(seed)`` before training, so dropout and shuffling repeat (build the model
            after seeding too, for the same initial weights).
    """
    check_fit_arguments(train_loader, val_loader, train_eval_loader, epochs=epochs, monitor=monitor,
                        early_stopping_patience=early_stopping_patience, checkpoint_path=checkpoint_path,
                        scheduler=scheduler)
    device = resolve_device(model, device)
    amp_choice = amp_for_device(amp, device)
    if seed is not None:
        seed_everything(seed)
    model.to(device)
    loss_fn = loss_fn if loss_fn is not None else nn.CrossEntropyLoss()
    optimizer = optimizer if optimizer is not None else torch.optim.Adam(model.parameters(), lr=lr)
    schedule = build_scheduler(scheduler, optimizer, scheduler_per_batch, monitor=monitor)
    check_monitor_measured(monitor, val_loader, plateau=isinstance(schedule, ReduceLROnPlateau))
    scaler = make_grad_scaler(device) if amp_choice.use_scaler else None
    tracker = EarlyStopping(monitor, early_stopping_patience, min_delta)
    monitor_measured = val_loader is not None or monitor.startswith("train")
    # A checkpoint that cannot be written fails now, not after the first epoch's training time.
    checkpoint_path = check_checkpoint_path(checkpoint_path) if checkpoint_path is not None else None
    saving_checkpoints = True
    curves = None
    if live_plot:
        from .plots.curves import LiveCurves  # matplotlib only when curves are wanted

        curves = LiveCurves(total_epochs=epochs, title=title)

    rows: list[dict[str, float]] = []
    best_state = None
    stopped_early = False
    start = time.perf_counter()
    with tqdm(total=epochs, desc=title or "training", unit="epoch", disable=not progress) as bar:
        for epoch in range(1, epochs + 1):
            lr_now = current_lr(optimizer)
            # 1. one pass over the training data, one optimizer step per batch (03's train_one_epoch)
            train_loss, train_acc = train_epoch(model, train_loader, loss_fn, optimizer, device=device,
                                                amp=amp_choice, scaler=scaler, grad_clip=grad_clip,
                                                scheduler=schedule if scheduler_per_batch else None)
            if not math.isfinite(train_loss):
                if best_state is not None:
                    model.load_state_dict(best_state)
                raise TrainingDiverged(diverged_message(train_loss, epoch, lr_now, tracker.best_epoch
                                                        if best_state is not None else None))
            # 2. and 3. measure without learning (03's evaluate)
            if train_eval_loader is not None:
                train_loss, train_acc = evaluate_loss_accuracy(model, train_eval_loader, loss_fn, device=device,
                                                               amp=amp_choice)
            row = {"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc}
            if val_loader is not None:
                row["val_loss"], row["val_acc"] = evaluate_loss_accuracy(model, val_loader, loss_fn, device=device,
                                                                         amp=amp_choice)
            row["lr"] = lr_now
            row["seconds"] = time.perf_counter() - start
            rows.append(row)

            # 4. bookkeeping: best weights, checkpoint, schedule, reports, early stopping
            if monitor_measured and tracker.update(epoch, row[monitor]):
                if restore_best:  # a copy on the CPU: the next epochs change the model's own tensors
                    best_state = {name: value.detach().to("cpu", copy=True)
                                  for name, value in model.state_dict().items()}
                if checkpoint_path is not None and saving_checkpoints:
                    try:
                        save_checkpoint(checkpoint_path, model, optimizer, epoch=epoch, monitor=monitor,
                                        value=row[monitor])
                    except CheckpointError as error:  # e.g. the disk filled up: keep training and the history
                        warnings.warn(f"{error} Training goes on without saving checkpoints.", stacklevel=2)
                        saving_checkpoints = False
            if schedule is not None and not scheduler_per_batch:
                step_scheduler(schedule, row.get(monitor))
            report_epoch(row, bar=bar, curves=curves, wandb_run=wandb_run)
            if tracker.should_stop:
                stopped_early = True
                break

    if restore_best and best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    result = FitResult(model=model, history=pd.DataFrame(rows), best_epoch=tracker.best_epoch,
                       best_value=tracker.best_value, monitor=monitor, stopped_early=stopped_early,
                       seconds=time.perf_counter() - start, checkpoint_path=checkpoint_path, device=device,
                       amp=amp_choice, curves=curves)
    if progress:
        print(final_message(result, restored=restore_best and best_state is not None,
                            patience=early_stopping_patience))
    return result


def check_fit_arguments(train_loader, val_loader, train_eval_loader, *, epochs, monitor, early_stopping_patience,
                        checkpoint_path, scheduler) -> None:
    """Raise a clear error for arguments fit() cannot work with, before any training happens."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}.")
    if monitor not in MONITORS:
        raise ValueError(f"monitor must be one of {list(MONITORS)}, got {monitor!r}.")
    for name, loader in (("train_loader", train_loader), ("val_loader", val_loader),
                         ("train_eval_loader", train_eval_loader)):
        check_loader(name, loader, required=name == "train_loader")
    check_monitor_measured(monitor, val_loader, early_stopping=early_stopping_patience is not None,
                           checkpoints=checkpoint_path is not None, plateau=isinstance(scheduler, ReduceLROnPlateau))


def check_monitor_measured(monitor: str, val_loader, *, early_stopping: bool = False, checkpoints: bool = False,
                           plateau: bool = False) -> None:
    """Early stopping, checkpoints and ReduceLROnPlateau watch ``monitor``: a ``val_*`` one needs a val_loader."""
    if not monitor.startswith("val") or val_loader is not None:
        return
    needs = [what for what, wanted in (("early stopping", early_stopping), ("checkpoints", checkpoints),
                                       ("ReduceLROnPlateau", plateau)) if wanted]
    if needs:
        raise ValueError(f"{' and '.join(needs)} watch monitor={monitor!r}, which needs validation data: "
                         "pass val_loader=... (or monitor='train_loss' to watch the training loss).")


def check_loader(name: str, loader, required: bool = False) -> None:
    """A loader must yield batches: not be None (when required), not a Dataset, not empty."""
    if loader is None:
        if required:
            raise ValueError(f"{name} is None: pass a DataLoader or TensorBatchLoader of (inputs, labels) batches.")
        return
    if isinstance(loader, torch.utils.data.Dataset):
        raise TypeError(f"{name} is a data set ({type(loader).__name__}), which yields single examples: wrap it "
                        "in a loader, e.g. DataLoader(dataset, batch_size=128, shuffle=True) or "
                        "TensorBatchLoader(dataset, batch_size=128, shuffle=True).")
    if not hasattr(loader, "__iter__"):
        raise TypeError(f"{name} must yield (inputs, labels) batches; got a {type(loader).__name__}.")
    try:
        batches = len(loader)
    except TypeError:  # an iterable without a length: checked when the first epoch ends
        return
    if batches == 0:
        raise ValueError(f"{name} has no batches: its data set is empty (or smaller than batch_size with "
                         "drop_last=True). Check how it was built.")


def report_epoch(row: dict[str, float], *, bar=None, curves=None, wandb_run=None) -> None:
    """Show one epoch's numbers: in the progress bar, on the live curves, and in W&B when a run is given."""
    metrics = {name: row[name] for name in METRIC_COLUMNS if name in row and not math.isnan(row[name])}
    if bar is not None:
        bar.set_postfix({name: f"{value:.4f}" for name, value in metrics.items()}, refresh=False)
        bar.update(1)
    if curves is not None and metrics:
        curves.update(row["epoch"], **metrics)
    if wandb_run is not None:
        wandb_run.log({name: value for name, value in row.items() if not (isinstance(value, float)
                                                                             and math.isnan(value))},
                      step=int(row["epoch"]))


def diverged_message(loss: float, epoch: int, lr: float, restored_epoch: int | None) -> str:
    restored = (f" The model was put back to its best epoch's weights (epoch {restored_epoch})."
                if restored_epoch is not None else "")
    return (f"The training loss became {loss} in epoch {epoch}: training diverged (the weights blew up). "
            f"Lower the learning rate (it was {lr:g}; try {lr / 10:g}), and check the inputs hold no NaN "
            f"values.{restored}")


def final_message(result: FitResult, *, restored: bool, patience: int | None) -> str:
    """What fit() prints at the end: the summary, why it stopped early, which weights the model holds."""
    text = f"Trained {result.summary()}"
    if result.stopped_early:
        text += f" It stopped because {result.monitor} did not improve for {patience} epochs."
    if restored and result.best_epoch != len(result.history):
        text += f" The model holds the weights of epoch {result.best_epoch}, the best."
    return text
