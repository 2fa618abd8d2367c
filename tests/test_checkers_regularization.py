"""Notebook 05's checkers (RGBA to RGB, dropout, early stopping, worst mistakes) against mistakes catalogues:
what attendees get wrong, hostile returns, and right answers in other styles (see checker_catalogue.py)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn import Dropout as Drop  # aliases bound before any check runs, as in a notebook's first cell
from torch.nn.functional import dropout as drop

from workshop_utils.checkers.regularization import (check_early_stopping, check_inverted_dropout,
                                                    check_rgba_to_rgb, check_worst_mistakes, reference_rgba_to_rgb,
                                                    reference_worst_mistakes)
from workshop_utils.regularization import early_stopping_epochs, inverted_dropout

from checker_catalogue import NAN, assert_case, hostile, ids, mistake, raises, returns, right, stub

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny models: one thread is fastest on busy cores

# -- 05.1 RGBA -> RGB ------------------------------------------------------------------------------

def rgba_right(image):
    rgb, alpha = image[:3], image[3]
    return rgb * alpha + (1 - alpha)


def rgba_in_place(image):
    image[:3] = image[:3] * image[3] + (1 - image[3])
    return image[:3]


def rgba_channels_last(image):
    return reference_rgba_to_rgb(image).permute(1, 2, 0)


def rgba_pixel_loop(image):
    output = torch.empty(3, *image.shape[1:])
    for row in range(image.shape[1]):
        for column in range(image.shape[2]):
            alpha = image[3, row, column]
            output[:, row, column] = image[:3, row, column] * alpha + (1 - alpha)
    return output


def rgba_hard_coded(image):  # the first example's answer, typed in
    return torch.tensor([[[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]], [[0.5, 1.0, 1.0], [0.5, 1.0, 1.0]],
                         [[0.5, 1.0, 1.0], [0.5, 1.0, 1.0]]])


RGBA_CATALOGUE = [
    right("alpha as image[3]", rgba_right),
    right("the reference", reference_rgba_to_rgb),
    right("torch.lerp", lambda x: torch.lerp(torch.ones_like(x[:3]), x[:3], x[3:])),
    right("float64", lambda x: (x[:3].double() * x[3:4].double() + (1 - x[3:4].double()))),
    right("a loop over pixels", rgba_pixel_loop),
    right("torch.addcmul", lambda x: torch.addcmul(1 - x[3:4], x[:3], x[3:4])),
    mistake("alpha dropped", lambda x: x[:3], "dropped the alpha channel"),
    mistake("on black", lambda x: x[:3] * x[3], "composited on black"),
    mistake("alpha inverted", lambda x: x[:3] * (1 - x[3]) + x[3], "the other way round"),
    mistake("white as 255", lambda x: x[:3] * x[3] + 255 * (1 - x[3]), "white is 1.0"),
    mistake("only alpha 0 and 1", lambda x: torch.where(x[3] > 0, x[:3], torch.ones_like(x[:3])),
          "only handled alpha 0 and 1"),
    mistake("colours not weighted", lambda x: x[:3] + (1 - x[3:4]), "not weighted by alpha"),
    mistake("alpha channel kept", lambda x: x * x[3] + (1 - x[3]), "the 3 colour channels only"),
    mistake("channels last", rgba_channels_last, "channels first"),
    mistake("in place", rgba_in_place, "in place"),
    mistake("bytes", lambda x: (reference_rgba_to_rgb(x) * 255).byte(), "floating-point"),
    mistake("NumPy", lambda x: x[:3].numpy(), "NumPy"),
    mistake("shape error", lambda x: x[:3] @ x[3], "your code raised RuntimeError"),
    hostile("None", returns(None), "forget `return`"),
    hostile("stub", stub, "not done yet"),
    hostile("raises", raises, "raised ValueError"),
    hostile("a string", returns("white"), "expected a tensor"),
    hostile("NaN", lambda x: torch.full_like(x[:3], NAN), "contains nan"),
    hostile("the first example typed in", rgba_hard_coded, "answer of an earlier example"),
]


@pytest.mark.parametrize("case", RGBA_CATALOGUE, ids=ids(RGBA_CATALOGUE))
def test_rgba_catalogue(case):
    assert_case(check_rgba_to_rgb, case)


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


def dropout_alias(x, p, training):
    return drop(x, p, training)


def dropout_module_alias(x, p, training):
    return Drop(p).train(training)(x)


def dropout_float64(x, p, training):
    if not training:
        return x
    return x * (torch.rand(x.shape) >= p).double() / (1 - p)


DROPOUT_CATALOGUE = [
    right("float mask", dropout_right),
    right("the library's reference", inverted_dropout),
    right("bernoulli", lambda x, p, training: x * torch.bernoulli(torch.full_like(x, 1 - p)) / (1 - p)
          if training else x),
    right("float64 mask", dropout_float64),
    right("torch.where", lambda x, p, training: torch.where(torch.rand(x.shape) >= p, x / (1 - p), 0.0)
          if training else x),
    right("masked_fill", lambda x, p, training: x.masked_fill(torch.rand(x.shape) < p, 0) / (1 - p)
          if training else x.clone()),
    mistake("keeps with probability p", dropout_keeps_p, "probability of DROPPING"),
    mistake("not scaled", dropout_unscaled, "not scaled"),
    mistake("times 1 - p", dropout_times_keep, "multiplied the kept elements by (1 - p)"),
    mistake("divided by p", dropout_over_p, "divided by p"),
    mistake("also in evaluation", dropout_always, "in evaluation mode the output is not x"),
    mistake("old style", dropout_old_style, "non-inverted"),
    mistake("one draw for all", dropout_one_draw, "torch.rand(x.shape)"),
    mistake("seeded inside", dropout_fixed_seed, "exactly the same elements"),
    mistake("in place", dropout_in_place, "in place"),
    mistake("returns the mask", dropout_returns_mask, "do not return the mask"),
    mistake("F.dropout", dropout_library, "called torch.nn.functional.dropout"),
    mistake("nn.Dropout", dropout_module, "called nn.Dropout"),
    mistake("F.dropout under an alias", dropout_alias, "called torch.nn.functional.dropout"),
    mistake("nn.Dropout under an alias", dropout_module_alias, "called nn.Dropout"),
    mistake("nothing dropped", dropout_no_drop, "nothing was dropped"),
    mistake("shape error", lambda x, p, training: x.view(3, -1), "your code raised RuntimeError"),
    hostile("None", returns(None), "forget `return`"),
    hostile("stub", stub, "not done yet"),
    hostile("raises", raises, "raised ValueError"),
    hostile("a string", returns("dropout"), "expected a tensor"),
    hostile("NaN", lambda x, p, training: x * NAN, "contains nan"),
    hostile("x whatever the mode", lambda x, p, training: x, "nothing was dropped"),
]


@pytest.mark.parametrize("case", DROPOUT_CATALOGUE, ids=ids(DROPOUT_CATALOGUE))
def test_dropout_catalogue(case):
    assert_case(check_inverted_dropout, case)


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


def stopping_while_loop(val_losses, patience):
    best_epoch, epoch, waited = 1, 1, 0
    while epoch < len(val_losses) and waited < patience:
        epoch += 1
        if val_losses[epoch - 1] < val_losses[best_epoch - 1]:
            best_epoch, waited = epoch, 0
        else:
            waited += 1
    return epoch, best_epoch


def stopping_numpy(val_losses, patience):
    losses = np.array(val_losses)
    for stop in range(1, len(losses) + 1):
        best = int(np.argmin(losses[:stop])) + 1
        if stop - best >= patience:
            return stop, best
    return len(losses), int(np.argmin(losses)) + 1


EARLY_STOPPING_CATALOGUE = [
    right("loop with enumerate", stopping_right),
    right("the library's rule", early_stopping_epochs),
    right("a list", lambda losses, patience: list(early_stopping_epochs(losses, patience))),
    right("NumPy integers", lambda losses, patience: tuple(np.int64(e) for e in early_stopping_epochs(losses, patience))),
    right("a while loop", stopping_while_loop),
    right("NumPy argmin", stopping_numpy),
    mistake("0-based epochs", stopping_zero_based, "numbered from 1"),
    mistake("first rise", stopping_first_rise, "patience was ignored"),
    mistake("count never reset", stopping_no_reset, "never goes back to 0"),
    mistake("against the previous epoch", stopping_against_previous, "best loss so far"),
    mistake("ties improve", stopping_ties_improve, "only equals the best loss"),
    mistake("swapped", stopping_swapped, "swapped"),
    mistake("best after the stop", stopping_best_of_all, "cannot come after the stop"),
    mistake("one epoch late", stopping_late, "one epoch late"),
    mistake("the skeleton", stopping_skeleton, "cannot be right"),
    mistake("best is the stop", stopping_best_is_stop, "the best epoch is not"),
    mistake("one number", lambda losses, patience: len(losses), "a pair of whole numbers"),
    mistake("floats", lambda losses, patience: (2.5, 1.0), "a pair of whole numbers"),
    mistake("index error", lambda losses, patience: losses[patience + 10], "your code raised IndexError"),
    hostile("None", returns(None), "a pair of whole numbers"),
    hostile("stub", stub, "not done yet"),
    hostile("raises", raises, "raised ValueError"),
    hostile("a string", returns("6, 3"), "a pair of whole numbers"),
    hostile("NaN", returns((NAN, NAN)), "a pair of whole numbers"),
    hostile("the example typed in", returns((6, 3)), "answer of the exercise's example"),
]


@pytest.mark.parametrize("case", EARLY_STOPPING_CATALOGUE, ids=ids(EARLY_STOPPING_CATALOGUE))
def test_early_stopping_catalogue(case):
    assert_case(check_early_stopping, case)


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


def mistakes_topk(probabilities, labels, k):
    losses = -probabilities[torch.arange(len(labels)), labels].log()
    losses[probabilities.argmax(1) == labels] = -math.inf
    wrong_count = int((probabilities.argmax(1) != labels).sum())
    return losses.topk(min(k, wrong_count)).indices


def mistakes_python(probabilities, labels, k):
    rows = [(-math.log(row[label]), index) for index, (row, label) in
            enumerate(zip(probabilities.tolist(), labels.tolist())) if max(range(len(row)), key=row.__getitem__) != label]
    return [index for _, index in sorted(rows, reverse=True)[:k]]


def mistakes_all(probabilities, labels, k):
    return mistakes_right(probabilities, labels, len(labels))


WORST_MISTAKES_CATALOGUE = [
    right("tensor", mistakes_right),
    right("list of ints", mistakes_list),
    right("the reference", reference_worst_mistakes),
    right("NumPy array", lambda p, y, k: mistakes_right(p, y, k).numpy()),
    right("list of NumPy integers", lambda p, y, k: list(mistakes_right(p, y, k).numpy())),
    right("topk", mistakes_topk),
    right("plain Python", mistakes_python),
    mistake("right predictions included", mistakes_including_right_ones, "but its prediction is right"),
    mistake("ascending", mistakes_ascending, "order is reversed"),
    mistake("unsorted", mistakes_unsorted, "order of the data set"),
    mistake("by confidence", mistakes_by_confidence, "confidence of the (wrong) predicted class"),
    mistake("k ignored, right ones too", mistakes_ignore_k, "but its prediction is right"),
    mistake("k ignored", mistakes_all, "indices for k ="),
    mistake("a mask", mistakes_mask, "you returned a mask"),
    mistake("the losses", mistakes_losses, "you returned values"),
    mistake("only one", lambda p, y, k: mistakes_right(p, y, k)[:1], "only 1 indices"),
    mistake("index error", lambda p, y, k: p[k + 100], "your code raised IndexError"),
    hostile("None", returns(None), "forget `return`"),
    hostile("stub", stub, "not done yet"),
    hostile("raises", raises, "raised ValueError"),
    hostile("a string", returns("1, 6, 3, 4"), "expected indices"),
    hostile("NaN", lambda p, y, k: torch.full((k,), NAN), "you returned values"),
    hostile("the example typed in", lambda p, y, k: torch.tensor([1, 6, 3, 4])[:k], "answer of an earlier example"),
]


@pytest.mark.parametrize("case", WORST_MISTAKES_CATALOGUE, ids=ids(WORST_MISTAKES_CATALOGUE))
def test_worst_mistakes_catalogue(case):
    assert_case(check_worst_mistakes, case)


CATALOGUES = {check_rgba_to_rgb: RGBA_CATALOGUE, check_inverted_dropout: DROPOUT_CATALOGUE,
              check_early_stopping: EARLY_STOPPING_CATALOGUE, check_worst_mistakes: WORST_MISTAKES_CATALOGUE}
