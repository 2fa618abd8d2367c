"""Small binary classifiers for 2-D points: build one of any width and depth, train it, read its surface.

Used by notebook 03's decision surfaces (a static grid of models and the explorer widget). Training is
:func:`~workshop_utils.full_batch_training.train_full_batch`: full-batch Adam on binary cross-entropy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from .full_batch_training import classification_accuracy, train_full_batch

# The hidden layers' non-linearity; "none" leaves the layers linear, to see that depth alone adds nothing.
HIDDEN_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "none": nn.Identity}


def make_binary_classifier(width: int, depth: int, activation: str = "relu", in_features: int = 2) -> nn.Sequential:
    """``depth`` hidden layers of ``width`` neurons with ``activation``, then one output neuron + sigmoid.

    ``depth=0`` is logistic regression, ``Linear(in_features, 1) + Sigmoid``: a straight boundary.
    The output is the probability of class 1: the network ends with ``nn.Sigmoid()``.
    """
    if activation not in HIDDEN_ACTIVATIONS:
        raise ValueError(f"activation must be one of {list(HIDDEN_ACTIVATIONS)}, got {activation!r}.")
    if depth < 0 or (depth > 0 and width < 1):
        raise ValueError(f"depth must be >= 0 and width >= 1, got depth={depth}, width={width}.")
    layers: list[nn.Module] = []
    features = in_features
    for _ in range(depth):
        layers += [nn.Linear(features, width), HIDDEN_ACTIVATIONS[activation]()]
        features = width
    layers += [nn.Linear(features, 1), nn.Sigmoid()]
    return nn.Sequential(*layers)


def count_parameters(model: nn.Module) -> int:
    """The number of trainable numbers (weights and biases) in ``model``."""
    return sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)


def train_binary_classifier(model: nn.Module, X_train: torch.Tensor, y_train: torch.Tensor,
                            X_val: torch.Tensor | None = None, y_val: torch.Tensor | None = None, *,
                            epochs: int = 500, lr: float = 0.02) -> pd.DataFrame:
    """Full-batch Adam on binary cross-entropy; labels 0/1 of shape ``(N,)``. Returns the history
    (``train_loss``, ``val_loss``, ``train_acc``, ``val_acc`` per epoch)."""
    targets = y_train.float().reshape(-1, 1)
    val_targets = y_val.float().reshape(-1, 1) if y_val is not None else None
    return train_full_batch(model, X_train, targets, nn.BCELoss(), epochs=epochs, lr=lr, X_val=X_val,
                            y_val=val_targets, metrics={"acc": classification_accuracy})


def count_regions(grid_classes: np.ndarray) -> int:
    """How many separate (4-connected) patches the classes get on a grid of predicted classes.

    A straight boundary cuts the plane into 2 patches (1 if it misses the grid); more patches than
    classes means some class got islands (non-contiguous regions), usually a sign of overfitting.
    """
    from scipy import ndimage  # scikit-learn's own dependency

    grid_classes = np.asarray(grid_classes)
    return int(sum(ndimage.label(grid_classes == label)[1] for label in np.unique(grid_classes)))
