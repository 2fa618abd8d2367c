"""Class counts, inverse-frequency weights and the balanced sampler."""

import pytest
import torch
from sklearn.utils.class_weight import compute_class_weight
from torch.utils.data import DataLoader, TensorDataset

from workshop_utils.imbalance import (balanced_sampler, class_counts, example_weights, imbalance_ratio,
                                      inverse_frequency_weights, sampled_class_counts)

ROAD_SIGN_TRAIN_COUNTS = [62, 456, 52, 43]


def labels_from(counts):
    return torch.cat([torch.full((n,), k) for k, n in enumerate(counts)])


def test_class_counts():
    labels = torch.tensor([0, 2, 2, 1, 2])
    assert class_counts(labels).tolist() == [1, 1, 3]
    assert class_counts(labels, num_classes=5).tolist() == [1, 1, 3, 0, 0]
    assert class_counts([3, 3]).tolist() == [0, 0, 0, 2]  # lists work too
    with pytest.raises(ValueError, match="only 2 classes"):
        class_counts(labels, num_classes=2)
    with pytest.raises(ValueError, match="class indices"):
        class_counts(torch.tensor([0.5, 1.0]))


def test_weights_match_scikit_learn_balanced_and_average_one():
    labels = labels_from(ROAD_SIGN_TRAIN_COUNTS)
    weights = inverse_frequency_weights(class_counts(labels))
    expected = compute_class_weight("balanced", classes=torch.arange(4).numpy(), y=labels.numpy())
    assert weights.dtype == torch.float32
    assert torch.allclose(weights, torch.tensor(expected, dtype=torch.float32))
    assert example_weights(labels, weights).mean().item() == pytest.approx(1.0)
    # every class adds the same total weight N / K
    totals = weights * torch.tensor(ROAD_SIGN_TRAIN_COUNTS)
    assert torch.allclose(totals, torch.full((4,), len(labels) / 4))
    assert weights.argmax() == 3 and weights.argmin() == 1  # rarest heaviest, commonest lightest


def test_balanced_counts_give_ones_and_empty_classes_zero():
    assert inverse_frequency_weights([5, 5, 5]).tolist() == [1.0, 1.0, 1.0]
    weights = inverse_frequency_weights([4, 0, 2])
    assert weights[1] == 0 and torch.isfinite(weights).all()
    for bad in ([], [0, 0], [-1, 3], [[1, 2]]):
        with pytest.raises(ValueError):
            inverse_frequency_weights(bad)


def test_weighted_loss_gives_each_class_the_same_total_weight():
    labels = labels_from([30, 3])
    logits = torch.zeros(len(labels), 2)
    weights = inverse_frequency_weights(class_counts(labels))
    losses = torch.nn.functional.cross_entropy(logits, labels, weight=weights, reduction="none")
    per_class = [losses[labels == k].sum().item() for k in (0, 1)]
    assert per_class[0] == pytest.approx(per_class[1])


def test_balanced_sampler_draws_classes_about_equally_and_repeatably():
    labels = labels_from(ROAD_SIGN_TRAIN_COUNTS)
    sampler = balanced_sampler(labels, seed=0)
    assert len(sampler) == len(labels)
    counts = sampled_class_counts(sampler, labels)
    assert counts.sum() == len(labels)
    assert counts.min() >= 0.6 * len(labels) / 4 and counts.max() <= 1.4 * len(labels) / 4, counts
    assert torch.equal(torch.tensor(list(balanced_sampler(labels, seed=0))), torch.tensor(list(balanced_sampler(labels, seed=0))))
    assert len(balanced_sampler(labels, num_samples=40, seed=1)) == 40
    with pytest.raises(ValueError, match="either seed or generator"):
        balanced_sampler(labels, seed=0, generator=torch.Generator())


def test_balanced_sampler_in_a_dataloader():
    labels = labels_from([50, 5])
    dataset = TensorDataset(torch.arange(len(labels)).float(), labels)
    loader = DataLoader(dataset, batch_size=11, sampler=balanced_sampler(labels, seed=3))
    seen = torch.cat([batch_labels for _, batch_labels in loader])
    assert len(seen) == 55 and 15 <= (seen == 1).sum() <= 40  # the rare class: ~27 of 55 instead of 5


def test_example_weights_and_ratio():
    assert example_weights(torch.tensor([1, 0, 1]), [0.5, 2.0]).tolist() == [2.0, 0.5, 2.0]
    with pytest.raises(ValueError, match="class weights"):
        example_weights(torch.tensor([2]), [1.0, 1.0])
    assert imbalance_ratio(ROAD_SIGN_TRAIN_COUNTS) == pytest.approx(456 / 43)
    assert imbalance_ratio([3, 0, 3]) == 1.0
