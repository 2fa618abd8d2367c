"""Unbalanced classes: count them, weight the loss, or resample the training set.

Two remedies for a training set where one class is far more common than the others (road signs:
about 650 speed limits for 60 traffic lights):

- **a class-weighted loss**: ``nn.CrossEntropyLoss(weight=inverse_frequency_weights(counts))``
  makes a mistake on a rare class cost as much, in total, as one on a common class;
- **a weighted sampler**: :func:`balanced_sampler` draws the training examples with replacement so
  that every class appears about equally often per epoch (rare images are seen several times each).

:func:`inverse_frequency_weights` is the reference that notebook 05's exercise is checked against.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.utils.data import WeightedRandomSampler


def _as_labels(labels) -> torch.Tensor:
    labels = torch.as_tensor(labels)
    if labels.dim() != 1 or labels.is_floating_point() or labels.dtype == torch.bool:
        raise ValueError(f"labels must be a 1-D tensor of class indices, got {labels.dtype} {tuple(labels.shape)}.")
    if len(labels) and labels.min() < 0:
        raise ValueError("labels must be class indices 0, 1, 2, ...; got a negative one.")
    return labels.long()


def class_counts(labels, num_classes: int | None = None) -> torch.Tensor:
    """How many examples of each class: an int64 tensor of length ``num_classes`` (default: largest label + 1)."""
    labels = _as_labels(labels)
    minlength = num_classes if num_classes is not None else 0
    counts = torch.bincount(labels, minlength=minlength)
    if num_classes is not None and len(counts) > num_classes:
        raise ValueError(f"a label is {len(counts) - 1}, but there are only {num_classes} classes.")
    return counts


def inverse_frequency_weights(counts) -> torch.Tensor:
    """Class weights ``N / (K * n_c)`` for class counts ``n_c`` (``N`` examples, ``K`` classes), float32.

    A class's weight is inversely proportional to its count, so every class adds the same total
    weight, ``N / K``, to the loss. Over the training examples the weights average exactly 1, so the
    loss keeps its usual scale (this is scikit-learn's ``class_weight="balanced"``). A class with no
    examples gets weight 0: it has nothing to weigh.
    """
    counts = torch.as_tensor(counts)
    if counts.dim() != 1 or len(counts) == 0:
        raise ValueError(f"counts must be a 1-D sequence with one count per class, got shape {tuple(counts.shape)}.")
    counts = counts.double()
    if (counts < 0).any() or counts.sum() == 0:
        raise ValueError(f"counts must be non-negative with at least one example, got {counts.tolist()}.")
    present = counts > 0
    weights = torch.zeros_like(counts)
    weights[present] = counts.sum() / (len(counts) * counts[present])
    return weights.float()


def example_weights(labels, class_weights) -> torch.Tensor:
    """Each example's weight: the weight of its class (float64, what ``WeightedRandomSampler`` takes)."""
    labels = _as_labels(labels)
    class_weights = torch.as_tensor(class_weights, dtype=torch.float64)
    if len(labels) and labels.max() >= len(class_weights):
        raise ValueError(f"a label is {int(labels.max())}, but there are only {len(class_weights)} class weights.")
    return class_weights[labels]


def balanced_sampler(labels, num_samples: int | None = None, *, generator: torch.Generator | None = None,
                     seed: int | None = None) -> WeightedRandomSampler:
    """A sampler that draws every class about equally often: ``DataLoader(train_set, sampler=...)``.

    Each example is drawn with probability proportional to its class's inverse frequency, with
    replacement, ``num_samples`` times per epoch (default: as many as there are examples). Give a
    ``generator`` or a ``seed`` to make the draws repeatable. Do not also pass ``shuffle=True`` to the
    DataLoader: the sampler already draws in random order.
    """
    if seed is not None and generator is not None:
        raise ValueError("Give either seed or generator, not both.")
    labels = _as_labels(labels)
    weights = example_weights(labels, inverse_frequency_weights(class_counts(labels)))
    if seed is not None:
        generator = torch.Generator().manual_seed(seed)
    return WeightedRandomSampler(weights, num_samples=num_samples or len(labels), replacement=True,
                                 generator=generator)


def sampled_class_counts(sampler: WeightedRandomSampler, labels, num_classes: int | None = None) -> torch.Tensor:
    """How many examples of each class one epoch of ``sampler`` draws (one pass over it)."""
    labels = _as_labels(labels)
    drawn = torch.tensor(list(iter(sampler)), dtype=torch.long)
    return class_counts(labels[drawn], num_classes if num_classes is not None else int(labels.max()) + 1)


def imbalance_ratio(counts: Sequence[int] | torch.Tensor) -> float:
    """Largest class count over smallest non-zero one (1.0 = balanced)."""
    counts = torch.as_tensor(counts)
    present = counts[counts > 0]
    return float(present.max() / present.min())
