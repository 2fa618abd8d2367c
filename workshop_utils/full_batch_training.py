"""Full-batch training for small data sets: every step sees the whole training set at once.

With a few hundred examples (XOR points, cars, wines) one gradient step on all of them is cheap, so
there is no need for mini-batches: ``model(X_train)`` runs every example through the network in one
vectorized pass. :func:`train_full_batch` is the loop notebook 03 writes out by hand once, kept here so
later cells can train many models in one line each.
"""

from __future__ import annotations

from typing import Callable, Iterable, Mapping

import pandas as pd
import torch
from torch import nn

Metric = Callable[[torch.Tensor, torch.Tensor], float]

OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}


def classification_accuracy(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """The fraction of examples whose predicted class is the target class.

    ``outputs`` of shape ``(N, k)`` with k >= 2 are scores per class (the highest wins); shape ``(N,)``
    or ``(N, 1)`` holds probabilities of class 1 (class 1 when above 0.5). ``targets`` are class
    labels 0..k-1, as integers or floats, of shape ``(N,)`` or ``(N, 1)``.
    """
    outputs = outputs.detach()
    targets = targets.detach().reshape(-1)
    if outputs.dim() == 2 and outputs.shape[1] > 1:
        predicted = outputs.argmax(dim=1)
    else:
        predicted = (outputs.reshape(-1) > 0.5).long()
    if len(predicted) != len(targets):
        raise ValueError(f"{len(predicted)} predictions for {len(targets)} targets.")
    return (predicted == targets.long()).float().mean().item()


def make_optimizer(optimizer: str | torch.optim.Optimizer, parameters: Iterable[torch.nn.Parameter],
                   lr: float) -> torch.optim.Optimizer:
    """``"adam"`` or ``"sgd"`` (plain gradient descent) with learning rate ``lr``; an optimizer passes through."""
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    try:
        return OPTIMIZERS[optimizer.lower()](parameters, lr=lr)
    except (KeyError, AttributeError):
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)} or a torch.optim.Optimizer, "
                         f"got {optimizer!r}.") from None


def train_full_batch(model: nn.Module, X: torch.Tensor, y: torch.Tensor,
                     loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], *, epochs: int,
                     lr: float = 0.01, X_val: torch.Tensor | None = None, y_val: torch.Tensor | None = None,
                     optimizer: str | torch.optim.Optimizer = "adam",
                     metrics: Mapping[str, Metric] | None = None, threads: int | None = 1) -> pd.DataFrame:
    """Train ``model`` in place for ``epochs`` full-batch steps; return the history, one row per epoch.

    Each epoch is one gradient step on all of ``(X, y)``: zero the gradients, forward pass, loss,
    backward pass, optimizer step. Then, when ``X_val`` and ``y_val`` are given, the validation loss
    is measured in evaluation mode without recording gradients.

    ``optimizer`` is ``"adam"``, ``"sgd"`` (built with ``lr``) or an optimizer you built yourself.
    ``metrics`` maps a name to a function ``(outputs, targets) -> float``, e.g.
    ``{"acc": classification_accuracy}``.

    ``threads`` is how many CPU threads torch may use meanwhile (restored afterwards): tiny models
    train fastest on one, because starting threads costs more than the work (and a second core busy
    with something else can make it ten times slower); ``None`` keeps torch's setting.

    The history's columns: ``epoch`` (1, 2, ...), ``train_loss`` (the loss the step was computed
    from, i.e. just before the step), ``val_loss``, and ``train_<name>`` / ``val_<name>`` for each
    metric. The model is left in evaluation mode.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}.")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} examples but y has {len(y)}.")
    validate = X_val is not None and y_val is not None
    if (X_val is None) != (y_val is None):
        raise ValueError("give both X_val and y_val, or neither.")
    if validate and len(X_val) != len(y_val):
        raise ValueError(f"X_val has {len(X_val)} examples but y_val has {len(y_val)}.")
    metrics = dict(metrics or {})
    step = make_optimizer(optimizer, model.parameters(), lr)
    threads_before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        rows = _train(model, X, y, loss_fn, step, epochs, X_val, y_val, metrics)
    finally:
        torch.set_num_threads(threads_before)
    model.eval()
    return pd.DataFrame(rows)


def _train(model, X, y, loss_fn, step, epochs, X_val, y_val, metrics) -> list[dict[str, float]]:
    validate = X_val is not None
    rows = []
    for epoch in range(1, epochs + 1):
        model.train()
        step.zero_grad()
        outputs = model(X)  # the whole training set in one vectorized pass
        loss = loss_fn(outputs, y)
        loss.backward()
        step.step()
        row = {"epoch": epoch, "train_loss": loss.item()}
        row.update({f"train_{name}": metric(outputs, y) for name, metric in metrics.items()})
        if validate:
            model.eval()
            with torch.no_grad():
                val_outputs = model(X_val)
                row["val_loss"] = loss_fn(val_outputs, y_val).item()
                row.update({f"val_{name}": metric(val_outputs, y_val) for name, metric in metrics.items()})
        rows.append(row)
    return rows
