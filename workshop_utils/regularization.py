"""Small reference implementations behind notebook 05's regularization lessons.

- :func:`inverted_dropout`: what ``nn.Dropout`` does, written out (the exercise's reference);
- :func:`early_stopping_epochs`: when a patience rule stops training, and which epoch it keeps;
- :func:`weight_norm`: the size of a model's weights, which weight decay keeps small;
- :func:`train_val_gap`: training minus validation accuracy, the overfitting number.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def inverted_dropout(x: torch.Tensor, p: float, training: bool = True,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """Zero each element of ``x`` with probability ``p`` and scale the survivors by ``1 / (1 - p)``.

    Scaling while training ("inverted" dropout) keeps every element's expected value unchanged, so
    that evaluation (``training=False``) is simply the identity: nothing to rescale at test time.
    Returns a new tensor; ``x`` is not changed.
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"p is the probability of dropping an element: 0 <= p < 1, got {p}.")
    if not training or p == 0.0:
        return x.clone()
    random = torch.rand(x.shape, generator=generator, device=x.device if generator is None else "cpu")
    keep = (random >= p).to(x.device)  # True with probability 1 - p
    return x * keep / (1.0 - p)


def early_stopping_epochs(val_losses: Sequence[float], patience: int, min_delta: float = 0.0) -> tuple[int, int]:
    """``(stop_epoch, best_epoch)`` for a run with these validation losses, epochs numbered from 1.

    The rule: remember the lowest loss so far; an epoch *improves* when its loss is lower than that
    by more than ``min_delta``. Training stops after the first epoch that ends ``patience`` epochs
    in a row without an improvement, and keeps the weights of ``best_epoch``, the last epoch that
    improved. When that never happens, training runs to the end: ``stop_epoch = len(val_losses)``.
    """
    if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
        raise ValueError(f"patience must be a whole number of epochs, at least 1, got {patience!r}.")
    losses = [float(loss) for loss in val_losses]
    if not losses:
        raise ValueError("val_losses is empty: there is no epoch to stop at.")
    best_loss, best_epoch, waited = float("inf"), 0, 0
    for epoch, loss in enumerate(losses, start=1):
        if loss < best_loss - min_delta:
            best_loss, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return epoch, best_epoch
    return len(losses), best_epoch


def weight_norm(model: nn.Module) -> float:
    """The L2 norm of the model's weight matrices and kernels (biases and norm-layer scales left out).

    Weight decay adds ``weight_decay * w`` to every gradient, pulling weights towards 0: this number
    shows how far it held them back.
    """
    squares = [param.detach().double().pow(2).sum() for name, param in model.named_parameters()
               if name.endswith("weight") and param.dim() > 1]
    return float(torch.stack(squares).sum().sqrt()) if squares else 0.0


def train_val_gap(train_accuracy: float, val_accuracy: float) -> float:
    """Training minus validation accuracy: near 0 for a model that generalizes, large when it memorizes."""
    return float(train_accuracy) - float(val_accuracy)
