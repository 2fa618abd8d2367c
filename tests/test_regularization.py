"""Reference dropout against nn.Dropout, the early-stopping rule, weight norms and the gap."""

import pytest
import torch
from torch import nn

from workshop_utils.regularization import early_stopping_epochs, inverted_dropout, train_val_gap, weight_norm


def test_inverted_dropout_statistics_match_nn_dropout():
    x = torch.ones(200_000)
    torch.manual_seed(0)
    ours = inverted_dropout(x, 0.3)
    theirs = nn.Dropout(0.3).train()(x)
    for out in (ours, theirs):
        assert (out == 0).float().mean().item() == pytest.approx(0.3, abs=0.01)
        assert out.unique().tolist() == [0.0, pytest.approx(1 / 0.7)]  # dropped, or scaled by 1 / (1 - p)
        assert out.mean().item() == pytest.approx(1.0, abs=0.02)  # the expected value is kept


def test_inverted_dropout_in_evaluation_is_the_identity_and_never_changes_its_input():
    x = torch.randn(5, 4)
    before = x.clone()
    out = inverted_dropout(x, 0.5, training=False)
    assert torch.equal(out, x) and out is not x
    inverted_dropout(x, 0.5)
    assert torch.equal(x, before)
    assert torch.equal(inverted_dropout(x, 0.0), x)


def test_inverted_dropout_with_a_generator_is_repeatable():
    x = torch.ones(50)
    first = inverted_dropout(x, 0.5, generator=torch.Generator().manual_seed(1))
    again = inverted_dropout(x, 0.5, generator=torch.Generator().manual_seed(1))
    assert torch.equal(first, again)
    with pytest.raises(ValueError, match="0 <= p < 1"):
        inverted_dropout(x, 1.0)


@pytest.mark.parametrize("losses, patience, expected", [
    ([5, 4, 3, 2, 1], 2, (5, 5)),            # always improving: run to the end
    ([5, 3, 4, 4, 4, 4], 3, (5, 2)),         # best at 2, three epochs without improving: stop after 5
    ([5, 3, 4, 2.5, 4, 4, 4], 3, (7, 4)),    # an improvement at 4 resets the count
    ([3, 3, 3], 2, (3, 1)),                  # an equal loss is no improvement
    ([1, 2], 5, (2, 1)),                     # patience longer than the run
    ([4, 2, 9], 1, (3, 2)),                  # patience 1: the first epoch without improvement
])
def test_early_stopping_epochs(losses, patience, expected):
    assert early_stopping_epochs(losses, patience) == expected


def test_early_stopping_min_delta_and_bad_arguments():
    assert early_stopping_epochs([1.0, 0.99, 0.98, 0.97], patience=2, min_delta=0.05) == (3, 1)
    for patience in (0, 1.5, True):
        with pytest.raises(ValueError, match="patience"):
            early_stopping_epochs([1.0], patience)
    with pytest.raises(ValueError, match="empty"):
        early_stopping_epochs([], 2)


def test_weight_norm_counts_weight_matrices_only():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2), nn.Linear(2, 1))
    with torch.no_grad():
        for param in model.parameters():
            param.fill_(1.0)
    assert weight_norm(model) == pytest.approx((4 + 2) ** 0.5)  # 2x2 and 1x2 weights; no biases, no BN scale
    assert weight_norm(nn.ReLU()) == 0.0


def test_train_val_gap():
    assert train_val_gap(0.99, 0.8) == pytest.approx(0.19)
