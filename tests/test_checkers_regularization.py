"""Notebook 05's checkers (RGBA to RGB, dropout, early stopping, worst mistakes) against right and wrong answers."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from workshop_utils.checkers.regularization import (check_early_stopping, check_inverted_dropout,
                                                    check_rgba_to_rgb, check_worst_mistakes, reference_rgba_to_rgb,
                                                    reference_worst_mistakes)
from workshop_utils.regularization import early_stopping_epochs, inverted_dropout


def stub(*args):
    raise NotImplementedError("Exercise: replace this line with your solution")


def fails_with(check, attempt, words, label):
    feedback = check(attempt)
    assert not feedback
    assert feedback.text().startswith(f"❌ {label}"), feedback.text()
    assert words in feedback.text(), feedback.text()


# -- 05.1 RGBA -> RGB ------------------------------------------------------------------------------

def rgba_right(image):
    rgb, alpha = image[:3], image[3]
    return rgb * alpha + (1 - alpha)


def rgba_in_place(image):
    image[:3] = image[:3] * image[3] + (1 - image[3])
    return image[:3]


def rgba_channels_last(image):
    return reference_rgba_to_rgb(image).permute(1, 2, 0)


@pytest.mark.parametrize("answer", [rgba_right, reference_rgba_to_rgb,
                                    lambda x: torch.lerp(torch.ones_like(x[:3]), x[:3], x[3:])])
def test_rgba_right_answers_pass(answer):
    feedback = check_rgba_to_rgb(answer)
    assert feedback, feedback.text()


@pytest.mark.parametrize("attempt, words", [
    (lambda x: x[:3], "dropped the alpha channel"),
    (lambda x: x[:3] * x[3], "composited on black"),
    (lambda x: x[:3] * (1 - x[3]) + x[3], "the other way round"),
    (lambda x: x[:3] * x[3] + 255 * (1 - x[3]), "white is 1.0"),
    (lambda x: torch.where(x[3] > 0, x[:3], torch.ones_like(x[:3])), "only handled alpha 0 and 1"),
    (lambda x: x * x[3] + (1 - x[3]), "the 3 colour channels only"),
    (rgba_channels_last, "channels first"),
    (rgba_in_place, "in place"),
    (lambda x: x[:3].numpy(), "NumPy"),
    (lambda x: x[:3] @ x[3], "your code raised RuntimeError"),
    (stub, "not done yet"),
])
def test_rgba_wrong_answers(attempt, words):
    fails_with(check_rgba_to_rgb, attempt, words, "Exercise 05.1 (RGBA to RGB)")


# -- 05.2 inverted dropout -------------------------------------------------------------------------

def dropout_right(x, p, training):
    if not training:
        return x
    keep = (torch.rand(x.shape) >= p).float()
    return x * keep / (1 - p)


def dropout_keeps_p(x, p, training):
    return x * (torch.rand(x.shape) < p) / (1 - p) if training else x


def dropout_unscaled(x, p, training):
    return x * (torch.rand(x.shape) >= p) if training else x


def dropout_times_keep(x, p, training):
    return x * (torch.rand(x.shape) >= p) * (1 - p) if training else x


def dropout_over_p(x, p, training):
    return x * (torch.rand(x.shape) >= p) / p if training and p > 0 else x


def dropout_always(x, p, training):
    return x * (torch.rand(x.shape) >= p) / (1 - p)


def dropout_old_style(x, p, training):
    return x * (torch.rand(x.shape) >= p) if training else x * (1 - p)


def dropout_one_draw(x, p, training):
    return x * (torch.rand(1) >= p) / (1 - p) if training else x


def dropout_fixed_seed(x, p, training):
    generator = torch.Generator().manual_seed(0)
    return x * (torch.rand(x.shape, generator=generator) >= p) / (1 - p) if training else x


def dropout_in_place(x, p, training):
    if training:
        x[torch.rand(x.shape) < p] = 0
        x /= 1 - p
    return x


def dropout_returns_mask(x, p, training):
    return (torch.rand(x.shape) >= p).float() / (1 - p) if training else x


def dropout_library(x, p, training):
    return F.dropout(x, p, training)


def dropout_module(x, p, training):
    layer = nn.Dropout(p)
    layer.train(training)
    return layer(x)


def dropout_no_drop(x, p, training):
    return x / (1 - p) if training else x


@pytest.mark.parametrize("answer", [dropout_right, inverted_dropout,
                                    lambda x, p, training: x * torch.bernoulli(torch.full_like(x, 1 - p)) / (1 - p)
                                    if training else x])
def test_dropout_right_answers_pass(answer):
    feedback = check_inverted_dropout(answer)
    assert feedback, feedback.text()
    assert "like nn.Dropout" in feedback.text()


@pytest.mark.parametrize("attempt, words", [
    (dropout_keeps_p, "probability of DROPPING"),
    (dropout_unscaled, "not scaled"),
    (dropout_times_keep, "multiplied the kept elements by (1 - p)"),
    (dropout_over_p, "divided by p"),
    (dropout_always, "in evaluation mode the output is not x"),
    (dropout_old_style, "non-inverted"),
    (dropout_one_draw, "torch.rand(x.shape)"),
    (dropout_fixed_seed, "exactly the same elements"),
    (dropout_in_place, "in place"),
    (dropout_returns_mask, "do not return the mask"),
    (dropout_library, "you called torch.nn.functional.dropout"),
    (dropout_module, "you called torch.nn.functional.dropout"),
    (dropout_no_drop, "nothing was dropped"),
    (lambda x, p, training: None, "forget `return`"),
    (lambda x, p, training: x.view(3, -1), "your code raised RuntimeError"),
    (stub, "not done yet"),
])
def test_dropout_wrong_answers(attempt, words):
    fails_with(check_inverted_dropout, attempt, words, "Exercise 05.2 (inverted dropout)")


def test_dropout_checker_leaves_the_global_generator_and_the_library_alone():
    torch.manual_seed(7)
    expected = torch.rand(2)
    torch.manual_seed(7)
    check_inverted_dropout(dropout_right)
    assert torch.equal(torch.rand(2), expected)
    check_inverted_dropout(dropout_library)
    assert F.dropout(torch.ones(4), 0.5, training=False).tolist() == [1.0] * 4


# -- 05.3 early stopping ---------------------------------------------------------------------------

def stopping_right(val_losses, patience):
    best_loss, best_epoch, waited = float("inf"), 0, 0
    for epoch, loss in enumerate(val_losses, start=1):
        if loss < best_loss:
            best_loss, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited == patience:
                return epoch, best_epoch
    return len(val_losses), best_epoch


def stopping_zero_based(val_losses, patience):
    stop, best = early_stopping_epochs(val_losses, patience)
    return stop - 1, best - 1


def stopping_first_rise(val_losses, patience):
    return early_stopping_epochs(val_losses, 1)


def stopping_no_reset(val_losses, patience):
    best_loss, best_epoch, worse = float("inf"), 0, 0
    for epoch, loss in enumerate(val_losses, start=1):
        if loss < best_loss:
            best_loss, best_epoch = loss, epoch
        else:
            worse += 1
            if worse == patience:
                return epoch, best_epoch
    return len(val_losses), best_epoch


def stopping_against_previous(val_losses, patience):
    waited = 0
    for epoch in range(2, len(val_losses) + 1):
        waited = 0 if val_losses[epoch - 1] < val_losses[epoch - 2] else waited + 1
        if waited == patience:
            return epoch, int(np.argmin(val_losses[:epoch])) + 1
    return len(val_losses), int(np.argmin(val_losses)) + 1


def stopping_ties_improve(val_losses, patience):
    best_loss, best_epoch, waited = float("inf"), 0, 0
    for epoch, loss in enumerate(val_losses, start=1):
        if loss <= best_loss:
            best_loss, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited == patience:
                return epoch, best_epoch
    return len(val_losses), best_epoch


def stopping_swapped(val_losses, patience):
    return early_stopping_epochs(val_losses, patience)[::-1]


def stopping_best_of_all(val_losses, patience):  # looks at epochs after the stop
    return early_stopping_epochs(val_losses, patience)[0], int(np.argmin(val_losses)) + 1


def stopping_skeleton(val_losses, patience):  # the student copy's skeleton, loop body not written
    best_epoch = 0
    for epoch, loss in enumerate(val_losses, start=1):
        ...
    return len(val_losses), best_epoch


def stopping_best_is_stop(val_losses, patience):  # keeps the last epoch's weights
    stop, _ = early_stopping_epochs(val_losses, patience)
    return stop, stop


def stopping_late(val_losses, patience):
    stop, best = early_stopping_epochs(val_losses, patience)
    return min(stop + 1, len(val_losses)), best


@pytest.mark.parametrize("answer", [stopping_right, early_stopping_epochs,
                                    lambda losses, patience: list(early_stopping_epochs(losses, patience)),
                                    lambda losses, patience: tuple(np.int64(e) for e in
                                                                   early_stopping_epochs(losses, patience))])
def test_early_stopping_right_answers_pass(answer):
    feedback = check_early_stopping(answer)
    assert feedback, feedback.text()


@pytest.mark.parametrize("attempt, words", [
    (stopping_zero_based, "numbered from 1"),
    (stopping_first_rise, "patience was ignored"),
    (stopping_no_reset, "never goes back to 0"),
    (stopping_against_previous, "best loss so far"),
    (stopping_ties_improve, "only equals the best loss"),
    (stopping_swapped, "swapped"),
    (stopping_best_of_all, "cannot come after the stop"),
    (stopping_late, "one epoch late"),
    (stopping_skeleton, "cannot be right"),
    (stopping_best_is_stop, "the best epoch is not"),
    (lambda losses, patience: len(losses), "a pair of whole numbers"),
    (lambda losses, patience: (2.5, 1.0), "a pair of whole numbers"),
    (lambda losses, patience: losses[patience + 10], "your code raised IndexError"),
    (stub, "not done yet"),
])
def test_early_stopping_wrong_answers(attempt, words):
    fails_with(check_early_stopping, attempt, words, "Exercise 05.3 (early stopping)")


# -- 05.5 worst mistakes ---------------------------------------------------------------------------

def mistakes_right(probabilities, labels, k):
    losses = F.nll_loss(probabilities.log(), labels, reduction="none")
    wrong = (probabilities.argmax(1) != labels).nonzero().flatten()
    return wrong[losses[wrong].argsort(descending=True)][:k]


def mistakes_list(probabilities, labels, k):
    return [int(i) for i in mistakes_right(probabilities, labels, k)]


def mistakes_including_right_ones(probabilities, labels, k):
    losses = F.nll_loss(probabilities.log(), labels, reduction="none")
    return losses.argsort(descending=True)[:k]


def mistakes_ascending(probabilities, labels, k):
    losses = F.nll_loss(probabilities.log(), labels, reduction="none")
    wrong = (probabilities.argmax(1) != labels).nonzero().flatten()
    return wrong[losses[wrong].argsort()][:k]


def mistakes_unsorted(probabilities, labels, k):
    return (probabilities.argmax(1) != labels).nonzero().flatten()[:k]


def mistakes_by_confidence(probabilities, labels, k):
    wrong = (probabilities.argmax(1) != labels).nonzero().flatten()
    return wrong[probabilities[wrong].max(1).values.argsort(descending=True)][:k]


def mistakes_ignore_k(probabilities, labels, k):
    return mistakes_including_right_ones(probabilities, labels, len(labels))


def mistakes_mask(probabilities, labels, k):
    return probabilities.argmax(1) != labels


def mistakes_losses(probabilities, labels, k):
    return F.nll_loss(probabilities.log(), labels, reduction="none")


@pytest.mark.parametrize("answer", [mistakes_right, mistakes_list, reference_worst_mistakes,
                                    lambda p, y, k: mistakes_right(p, y, k).numpy()])
def test_worst_mistakes_right_answers_pass(answer):
    feedback = check_worst_mistakes(answer)
    assert feedback, feedback.text()


@pytest.mark.parametrize("attempt, words", [
    (mistakes_including_right_ones, "but its prediction is right"),
    (mistakes_ascending, "order is reversed"),
    (mistakes_unsorted, "order of the data set"),
    (mistakes_by_confidence, "confidence of the (wrong) predicted class"),
    (mistakes_ignore_k, "but its prediction is right"),
    (mistakes_mask, "you returned a mask"),
    (mistakes_losses, "you returned values"),
    (lambda p, y, k: mistakes_right(p, y, k)[:1], "only 1 indices"),
    (lambda p, y, k: None, "forget `return`"),
    (lambda p, y, k: p[k + 100], "your code raised IndexError"),
    (stub, "not done yet"),
])
def test_worst_mistakes_wrong_answers(attempt, words):
    fails_with(check_worst_mistakes, attempt, words, "Exercise 05.5 (worst mistakes)")
