"""Notebook 08's checkers (model from settings, test predictions, random search) against right and wrong answers."""

import copy
import random

import pytest
import torch
from torch import nn

from workshop_utils.architectures import road_sign_cnn
from workshop_utils.checkers.competition import (BUILD_CASES, check_build_model, check_predict_classes,
                                                 check_random_search, reference_build_model, reference_random_search)
from workshop_utils.evaluation import parameter_count
from workshop_utils.leaderboard import predict_classes


def stub(*args):
    raise NotImplementedError("Exercise: replace this line with your solution")


def fails_with(check, attempt, words, label):
    feedback = check(attempt)
    assert not feedback
    assert feedback.text().startswith(f"❌ {label}"), feedback.text()
    assert words in feedback.text(), feedback.text()


# -- 08.1 a model from settings --------------------------------------------------------------------

BUILD = "Exercise 08.1 (model from settings)"


def test_reference_model_is_road_sign_cnn_for_the_baseline():
    baseline = BUILD_CASES[0][1]
    assert parameter_count(reference_build_model(baseline)) == parameter_count(road_sign_cnn(image_size=32))
    assert str(reference_build_model(baseline)) == str(road_sign_cnn(image_size=32))


class SettingsCNN(nn.Module):
    """A right answer written as a class with its own forward, using functional ReLU-free blocks."""

    def __init__(self, settings):
        super().__init__()
        blocks, channels = [], 3
        for width in settings["widths"]:
            norm = [nn.BatchNorm2d(width)] if settings["batch_norm"] else []
            blocks.append(nn.Sequential(nn.Conv2d(channels, width, 3, padding=1), *norm, nn.ReLU(), nn.MaxPool2d(2)))
            channels = width
        self.features = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveMaxPool2d(1)
        drop = settings["dropout"]
        self.head = nn.Sequential(*([nn.Dropout(drop)] if drop else []), nn.Linear(channels, settings["hidden"]),
                                  nn.ReLU(), *([nn.Dropout(drop)] if drop else []), nn.Linear(settings["hidden"], 4))

    def forward(self, images):
        return self.head(self.pool(self.features(images)).flatten(1))


def with_layers(settings, change):
    """The reference model with its list of layers passed through ``change(layers, settings)``."""
    return nn.Sequential(*change(list(reference_build_model(settings)), settings))


def relu_before_norm(layers, settings):
    for i, layer in enumerate(layers[:-1]):
        if isinstance(layer, nn.BatchNorm2d):
            layers[i], layers[i + 1] = layers[i + 1], layers[i]
    return layers


def flatten_without_global_pool(layers, settings):
    side = 32 // 2 ** len(settings["widths"])
    layers = [layer for layer in layers if not isinstance(layer, nn.AdaptiveMaxPool2d)]
    first_linear = next(i for i, layer in enumerate(layers) if isinstance(layer, nn.Linear))
    layers[first_linear] = nn.Linear(settings["widths"][-1] * side * side, settings["hidden"])
    return layers


def one_dropout(layers, settings):
    dropouts = [i for i, layer in enumerate(layers) if isinstance(layer, nn.Dropout)]
    return [layer for i, layer in enumerate(layers) if i not in dropouts[1:]]


def never_updates_channels(settings):
    layers = []
    for width in settings["widths"]:
        layers += [nn.Conv2d(3, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
    return nn.Sequential(*layers, nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(settings["widths"][-1], 4))


def pops_settings(settings):
    widths = settings.pop("widths")
    return reference_build_model({**settings, "widths": widths})


@pytest.mark.parametrize("answer", [reference_build_model, SettingsCNN])
def test_build_model_right_answers_pass(answer):
    feedback = check_build_model(answer)
    assert feedback, feedback.text()


@pytest.mark.parametrize("attempt, words", [
    (lambda s: reference_build_model({**s, "widths": [16, 32, 64]}), "16, 32 and 64 channels whatever the settings"),
    (lambda s: reference_build_model({**s, "widths": s["widths"][:-1] or [8]}), "output channels"),
    (lambda s: reference_build_model({**s, "batch_norm": False}), "there is no BatchNorm2d"),
    (lambda s: reference_build_model({**s, "batch_norm": True}), "settings['batch_norm'] is False, but"),
    (lambda s: reference_build_model({**s, "dropout": 0.0}), "but the model has no dropout"),
    (lambda s: reference_build_model({**s, "dropout": 0.5}), "settings['dropout'] is 0, but"),
    (lambda s: with_layers(s, one_dropout), "1 Dropout layer(s); expected 2"),
    (lambda s: reference_build_model({**s, "hidden": 128}), "settings['hidden'] is 32"),
    (lambda s: with_layers(s, relu_before_norm), "batch norm comes after the ReLU"),
    (lambda s: with_layers(s, flatten_without_global_pool), "expected one global max pooling"),
    (lambda s: with_layers(s, lambda layers, _: layers[:-1] + [nn.Linear(layers[-1].in_features, 10)]),
     "should give 3 x 4 class scores"),
    (lambda s: list(reference_build_model(s)), "nn.Sequential(*layers)"),
    (lambda s: None, "forget `return`"),
    (lambda s: nn.Sequential(*[]), "the model has no layers yet"),
    (never_updates_channels, "your code raised RuntimeError"),
    (pops_settings, "changed the settings dict"),
    (stub, "not done yet"),
])
def test_build_model_wrong_answers(attempt, words):
    fails_with(check_build_model, attempt, words, BUILD)


# -- 08.2 predictions for the test images ----------------------------------------------------------

PREDICT = "Exercise 08.2 (test predictions)"


def predict_right(model, images, batch_size):
    model.eval()
    batches = []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            batches.append(model(images[start:start + batch_size]).argmax(dim=1))
    return torch.cat(batches)


def batches_of(model, images, batch_size, *, last=True, train=False, no_grad=True):
    model.train(train)
    stop = len(images) if last else len(images) - batch_size + 1
    with torch.set_grad_enabled(not no_grad):
        return [model(images[start:start + batch_size]) for start in range(0, stop, batch_size)]


def scores_not_indices(model, images, batch_size):
    return torch.cat(batches_of(model, images, batch_size)).softmax(dim=1)


def shuffled(model, images, batch_size):
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    predicted = torch.empty(len(images), dtype=torch.int64)
    predicted[order] = torch.cat([b.argmax(1) for b in batches_of(model, images[order], batch_size)])
    return predicted[torch.randperm(len(images), generator=torch.Generator().manual_seed(1))]


@pytest.mark.parametrize("answer", [
    predict_right,
    lambda model, images, batch_size: predict_classes(model, images, batch_size=batch_size),
    lambda model, images, batch_size: [int(i) for i in predict_right(model, images, batch_size)],
    lambda model, images, batch_size: predict_right(model, images, batch_size).numpy(),
])
def test_predict_right_answers_pass(answer):
    feedback = check_predict_classes(answer)
    assert feedback, feedback.text()


@pytest.mark.parametrize("attempt, words", [
    (scores_not_indices, "class scores (or probabilities)"),
    (lambda m, x, b: torch.nn.functional.one_hot(predict_right(m, x, b), 4), "one-hot rows"),
    (shuffled, "in another order"),
    (lambda m, x, b: torch.cat([s.argmax(1) for s in batches_of(m, x, b, train=True)]), "call model.eval()"),
    (lambda m, x, b: torch.cat([s.argmax(1) for s in batches_of(m, x, b, no_grad=False)]), "torch.no_grad()"),
    (lambda m, x, b: torch.cat([s.argmax(1) for s in batches_of(m, x, b, last=False)]), "the last, smaller batch"),
    (lambda m, x, b: batches_of(m, x, b)[-1].argmax(1), "only one batch was kept"),
    (lambda m, x, b: [s.argmax(1) for s in batches_of(m, x, b)], "torch.cat(predictions)"),
    (lambda m, x, b: torch.cat(batches_of(m, x, len(x))).argmax(0), "the argmax ran over the images"),
    (lambda m, x, b: torch.cat(batches_of(m, x, len(x))).argmax(1), "batches of up to 50 images"),
    (lambda m, x, b: predict_right(m, x, b).float(), "whole numbers"),
    (lambda m, x, b: torch.cat([s.argmin(1) for s in batches_of(m, x, b)]), "argmin"),
    (lambda m, x, b: None, "forget `return`"),
    (lambda m, x, b: m(x.flatten()), "your code raised"),
    (stub, "not done yet"),
])
def test_predict_wrong_answers(attempt, words):
    fails_with(check_predict_classes, attempt, words, PREDICT)


# -- 08.3 random search ----------------------------------------------------------------------------

SEARCH = "Exercise 08.3 (random search)"


def search_written_out(space, n_trials, evaluate, seed=0):
    rng = random.Random(seed)
    trials = []
    for _ in range(n_trials):
        settings = {}
        for name, values in space.items():
            settings[name] = rng.choice(values)
        trials.append((settings, evaluate(settings)))
    best = max(trials, key=lambda trial: trial[1]["val_macro_f1"])
    return best[0], trials


def pick(trials, key, highest=True):
    return (max if highest else min)(trials, key=lambda trial: trial[1][key])[0]


def by_training_score(space, n_trials, evaluate, seed=0):
    _, trials = reference_random_search(space, n_trials, evaluate, seed)
    return pick(trials, "train_macro_f1"), trials


def lowest(space, n_trials, evaluate, seed=0):
    _, trials = reference_random_search(space, n_trials, evaluate, seed)
    return pick(trials, "val_macro_f1", highest=False), trials


def one_dict_for_all(space, n_trials, evaluate, seed=0):
    rng, settings, trials = random.Random(seed), {}, []
    for _ in range(n_trials):
        settings.update({name: rng.choice(values) for name, values in space.items()})
        trials.append((settings, evaluate(settings)))
    return copy.deepcopy(pick(trials, "val_macro_f1")), trials


def drawn_once(space, n_trials, evaluate, seed=0):
    rng = random.Random(seed)
    settings = {name: rng.choice(values) for name, values in space.items()}
    trials = [(dict(settings), evaluate(dict(settings))) for _ in range(n_trials)]
    return trials[0][0], trials


def in_between(space, n_trials, evaluate, seed=0):
    rng, trials = random.Random(seed), []
    for _ in range(n_trials):
        settings = {name: rng.uniform(min(values), max(values)) if name == "lr" else rng.choice(values)
                    for name, values in space.items()}
        trials.append((settings, evaluate(settings)))
    return pick(trials, "val_macro_f1"), trials


def unseeded(space, n_trials, evaluate, seed=0):
    return reference_random_search(space, n_trials, evaluate, seed=random.randrange(10**9))


def best_score(space, n_trials, evaluate, seed=0):
    _, trials = reference_random_search(space, n_trials, evaluate, seed)
    return max(trial[1]["val_macro_f1"] for trial in trials), trials


def best_pair(space, n_trials, evaluate, seed=0):
    _, trials = reference_random_search(space, n_trials, evaluate, seed)
    return max(trials, key=lambda trial: trial[1]["val_macro_f1"]), trials


@pytest.mark.parametrize("answer", [reference_random_search, search_written_out])
def test_search_right_answers_pass(answer):
    feedback = check_random_search(answer)
    assert feedback, feedback.text()


@pytest.mark.parametrize("attempt, words", [
    (by_training_score, "best TRAINING score"),
    (lowest, "lowest validation score"),
    (one_dict_for_all, "the same dict object"),
    (drawn_once, "evaluated the same settings"),
    (in_between, "is not one of the space's values"),
    (unseeded, "same seed tried different settings"),
    (lambda space, n, evaluate, seed=0: reference_random_search(space, n, evaluate, 0), "the seed is ignored"),
    (lambda space, n, evaluate, seed=0: reference_random_search(space, n - 1, evaluate, seed),
     "evaluate was called 5 times"),
    (lambda space, n, evaluate, seed=0: reference_random_search(space, n, evaluate, seed)[0],
     "expected a pair (best_settings, trials)"),
    (best_score, "is a score"),
    (best_pair, "the whole (settings, scores) pair"),
    (lambda space, n, evaluate, seed=0: (reference_random_search(space, n, evaluate, seed)[0], []),
     "list of 6 (settings, scores) pairs"),
    (lambda space, n, evaluate, seed=0: reference_random_search(space, n, lambda s: evaluate(s) and 1 / 0, seed),
     "your code raised ZeroDivisionError"),
    (stub, "not done yet"),
])
def test_search_wrong_answers(attempt, words):
    fails_with(check_random_search, attempt, words, SEARCH)
