"""Notebook 08's checkers (model from settings, test predictions, random search) against mistakes catalogues: what
attendees get wrong, hostile returns, and right answers in other styles (see checker_catalogue.py)."""

import copy
import random

import numpy as np
import pytest
import torch
from torch import nn

from workshop_utils.architectures import road_sign_cnn
from workshop_utils.checkers.competition import (BUILD_CASES, check_build_model, check_predict_classes,
                                                 check_random_search, reference_build_model, reference_random_search)
from workshop_utils.evaluation import parameter_count
from workshop_utils.leaderboard import predict_classes

from checker_catalogue import NAN, assert_case, hostile, ids, mistake, raises, returns, right, stub

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny models: one thread is fastest on busy cores

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


def same_padding(settings):
    model = reference_build_model(settings)
    for layer in model:
        if isinstance(layer, nn.Conv2d):
            layer.padding, layer._reversed_padding_repeated_twice = "same", [1, 1, 1, 1]
    return model


def same_padding_built(settings):
    layers, channels = [], 3
    for width in settings["widths"]:
        layers += [nn.Conv2d(channels, width, kernel_size=(3, 3), padding="same", bias=not settings["batch_norm"])]
        layers += [nn.BatchNorm2d(width)] if settings["batch_norm"] else []
        layers += [nn.ReLU(inplace=True), nn.MaxPool2d(kernel_size=2, stride=2)]
        channels = width
    layers += [nn.AdaptiveMaxPool2d((1, 1)), nn.Flatten()]
    dropout = [nn.Dropout(p=settings["dropout"])] if settings["dropout"] > 0 else []
    layers += [*dropout, nn.Linear(channels, settings["hidden"]), nn.ReLU(), *dropout,
               nn.Linear(settings["hidden"], 4)]
    return nn.Sequential(*layers)


def nan_weights(settings):
    model = reference_build_model(settings)
    with torch.no_grad():
        model[-1].weight.fill_(NAN)
    return model


BUILD_CATALOGUE = [
    right("the reference", reference_build_model),
    right("a class with its own forward", SettingsCNN),
    right("padding='same', tuples, keyword arguments", same_padding_built),
    right("conv biases kept", lambda s: reference_build_model({**s, "batch_norm": False}) if not s["batch_norm"]
          else with_layers(s, lambda layers, _: [nn.Conv2d(l.in_channels, l.out_channels, 3, padding=1)
                                                  if isinstance(l, nn.Conv2d) else l for l in layers])),
    mistake("widths hard-coded", lambda s: reference_build_model({**s, "widths": [16, 32, 64]}),
            "16, 32 and 64 channels whatever the settings"),
    mistake("a width missing", lambda s: reference_build_model({**s, "widths": s["widths"][:-1] or [8]}), "output channels"),
    mistake("batch norm ignored", lambda s: reference_build_model({**s, "batch_norm": False}), "there is no BatchNorm2d"),
    mistake("batch norm always", lambda s: reference_build_model({**s, "batch_norm": True}),
            "settings['batch_norm'] is False, but"),
    mistake("dropout ignored", lambda s: reference_build_model({**s, "dropout": 0.0}), "but the model has no dropout"),
    mistake("dropout always", lambda s: reference_build_model({**s, "dropout": 0.5}), "settings['dropout'] is 0, but"),
    mistake("one dropout", lambda s: with_layers(s, one_dropout), "1 Dropout layer(s); expected 2"),
    mistake("hidden hard-coded", lambda s: reference_build_model({**s, "hidden": 128}), "settings['hidden'] is 32"),
    mistake("ReLU before batch norm", lambda s: with_layers(s, relu_before_norm), "batch norm comes after the ReLU"),
    mistake("no global pooling", lambda s: with_layers(s, flatten_without_global_pool), "expected one global max pooling"),
    mistake("10 classes", lambda s: with_layers(s, lambda layers, _: layers[:-1] + [nn.Linear(layers[-1].in_features, 10)]),
            "should give 3 x 4 class scores"),
    mistake("a list of layers", lambda s: list(reference_build_model(s)), "nn.Sequential(*layers)"),
    mistake("empty", lambda s: nn.Sequential(*[]), "the model has no layers yet"),
    mistake("channels never updated", never_updates_channels, "your code raised RuntimeError"),
    mistake("pops the settings", pops_settings, "changed the settings dict"),
    mistake("padding 0", lambda s: with_layers(s, lambda layers, _: [
        nn.Conv2d(l.in_channels, l.out_channels, 3) if isinstance(l, nn.Conv2d) else l for l in layers]),
        "3 x 3 with padding 1"),
    hostile("None", returns(None), "forget `return`"),
    hostile("stub", stub, "not done yet"),
    hostile("raises", raises, "raised ValueError"),
    hostile("a string", returns("cnn"), "expected an nn.Module"),
    hostile("NaN weights", nan_weights, "contain NaN"),
    hostile("the baseline typed in", lambda s: road_sign_cnn(), "whatever the settings"),
]


@pytest.mark.parametrize("case", BUILD_CATALOGUE, ids=ids(BUILD_CATALOGUE))
def test_build_model_catalogue(case):
    assert_case(check_build_model, case)


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


def predict_wrong_dim(model, images, batch_size):
    model.eval()
    with torch.no_grad():
        return torch.cat([model(images[start:start + batch_size]).argmax(dim=0)
                          for start in range(0, len(images), batch_size)])


def predict_split(model, images, batch_size):
    model.eval()
    with torch.inference_mode():
        return torch.cat([model(batch).max(dim=1).indices for batch in images.split(batch_size)])


PREDICT_CATALOGUE = [
    right("loop and cat", predict_right),
    right("the library's", lambda model, images, batch_size: predict_classes(model, images, batch_size=batch_size)),
    right("a list of ints", lambda model, images, batch_size: [int(i) for i in predict_right(model, images, batch_size)]),
    right("a NumPy array", lambda model, images, batch_size: predict_right(model, images, batch_size).numpy()),
    right("a list of NumPy integers", lambda m, x, b: list(predict_right(m, x, b).numpy())),
    right("split, inference_mode, max", predict_split),
    mistake("scores", scores_not_indices, "class scores (or probabilities)"),
    mistake("one-hot", lambda m, x, b: torch.nn.functional.one_hot(predict_right(m, x, b), 4), "one-hot rows"),
    mistake("shuffled", shuffled, "in another order"),
    mistake("training mode", lambda m, x, b: torch.cat([s.argmax(1) for s in batches_of(m, x, b, train=True)]),
            "call model.eval()"),
    mistake("gradients on", lambda m, x, b: torch.cat([s.argmax(1) for s in batches_of(m, x, b, no_grad=False)]),
            "torch.no_grad()"),
    mistake("last batch lost", lambda m, x, b: torch.cat([s.argmax(1) for s in batches_of(m, x, b, last=False)]),
            "the last, smaller batch"),
    mistake("only the last batch", lambda m, x, b: batches_of(m, x, b)[-1].argmax(1), "only one batch was kept"),
    mistake("not concatenated", lambda m, x, b: [s.argmax(1) for s in batches_of(m, x, b)], "torch.cat(predictions)"),
    mistake("argmax over the images, all at once", lambda m, x, b: torch.cat(batches_of(m, x, len(x))).argmax(0),
            "the argmax ran over the images"),
    mistake("argmax over the images, per batch", predict_wrong_dim, "argmax ran over dimension 0"),
    mistake("all at once", lambda m, x, b: torch.cat(batches_of(m, x, len(x))).argmax(1), "batches of up to"),
    mistake("floats", lambda m, x, b: predict_right(m, x, b).float(), "whole numbers"),
    mistake("argmin", lambda m, x, b: torch.cat([s.argmin(1) for s in batches_of(m, x, b)]), "argmin"),
    mistake("flattened input", lambda m, x, b: m(x.flatten()), "your code raised"),
    hostile("None", returns(None), "forget `return`"),
    hostile("stub", stub, "not done yet"),
    hostile("raises", raises, "raised ValueError"),
    hostile("a string", returns("0 1 2 3"), "expected a 1-D tensor of class indices"),
    hostile("NaN", lambda m, x, b: torch.full((len(x),), NAN), "whole numbers"),
    hostile("64 answers typed in", returns(torch.zeros(64, dtype=torch.int64)), "predictions for"),  # never the count drawn
]


@pytest.mark.parametrize("case", PREDICT_CATALOGUE, ids=ids(PREDICT_CATALOGUE))
def test_predict_catalogue(case):
    assert_case(check_predict_classes, case)


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


def search_numpy(space, n_trials, evaluate, seed=0):
    rng = np.random.default_rng(seed)
    trials = []
    for _ in range(n_trials):
        settings = {name: values[rng.integers(len(values))] for name, values in space.items()}
        trials.append((settings, evaluate(settings)))
    scores = [scores["val_macro_f1"] for _, scores in trials]
    return trials[int(np.argmax(scores))][0], trials


def search_global_random(space, n_trials, evaluate, seed=0):
    random.seed(seed)
    trials = [(settings, evaluate(settings)) for settings in
              ({name: random.choice(values) for name, values in space.items()} for _ in range(n_trials))]
    return sorted(trials, key=lambda trial: -trial[1]["val_macro_f1"])[0][0], trials


def search_typed_in(space, n_trials, evaluate, seed=0):
    settings = [{"lr": 0.001, "dropout": 0.25, "batch_norm": True, "widths": [16, 32, 64]} for _ in range(n_trials)]
    trials = [(s, evaluate(s)) for s in settings]
    return settings[0], trials


SEARCH_CATALOGUE = [
    right("the reference", reference_random_search),
    right("written out", search_written_out),
    right("NumPy's generator", search_numpy),
    right("random.seed and sorted", search_global_random),
    mistake("by the training score", by_training_score, "best TRAINING score"),
    mistake("the lowest score", lowest, "lowest validation score"),
    mistake("one dict for all", one_dict_for_all, "the same dict object"),
    mistake("drawn once", drawn_once, "evaluated the same settings"),
    mistake("values in between", in_between, "is not one of the space's values"),
    mistake("unseeded", unseeded, "same seed tried different settings"),
    mistake("seed 0 always", lambda space, n, evaluate, seed=0: reference_random_search(space, n, evaluate, 0),
            "the seed is ignored"),
    mistake("one trial short", lambda space, n, evaluate, seed=0: reference_random_search(space, n - 1, evaluate, seed),
            "evaluate was called 5 times"),
    mistake("only the best", lambda space, n, evaluate, seed=0: reference_random_search(space, n, evaluate, seed)[0],
            "expected a pair (best_settings, trials)"),
    mistake("the best score", best_score, "is a score"),
    mistake("the best pair", best_pair, "the whole (settings, scores) pair"),
    mistake("no trials", lambda space, n, evaluate, seed=0: (reference_random_search(space, n, evaluate, seed)[0], []),
            "list of 6 (settings, scores) pairs"),
    mistake("error in evaluate's use", lambda space, n, evaluate, seed=0:
            reference_random_search(space, n, lambda s: evaluate(s) and 1 / 0, seed), "raised ZeroDivisionError"),
    hostile("None", returns(None), "expected a pair"),
    hostile("stub", stub, "not done yet"),
    hostile("raises", raises, "raised ValueError"),
    hostile("a string", returns("best"), "expected a pair"),
    hostile("NaN", returns((NAN, NAN)), "evaluate was called 0 times"),
    hostile("settings typed in", search_typed_in, "evaluated the same settings"),
]


@pytest.mark.parametrize("case", SEARCH_CATALOGUE, ids=ids(SEARCH_CATALOGUE))
def test_search_catalogue(case):
    assert_case(check_random_search, case)


CATALOGUES = {check_build_model: BUILD_CATALOGUE, check_predict_classes: PREDICT_CATALOGUE,
              check_random_search: SEARCH_CATALOGUE}
