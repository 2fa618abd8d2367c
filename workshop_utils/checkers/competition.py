"""Checkers for notebook 08: a model built from a settings dict, predictions for the test images, and a
random search that picks by the validation score.

Each checker runs the attendee's function on small inputs, compares it with a reference, and names the
typical mistake when they differ (a setting ignored, widths hard-coded, scores instead of class indices,
the model left in training mode, the order of the images lost, the best picked by the training score or
the lowest score, one dict reused for every trial...).

The references are here (:func:`reference_build_model`, :func:`reference_random_search`) or in
:mod:`workshop_utils.leaderboard` (:func:`~workshop_utils.leaderboard.predict_classes`); notebook 08
falls back to them when an exercise is not finished yet, and says so.
"""

from __future__ import annotations

import copy
import numbers
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from ..leaderboard import predict_classes
from .core import AttemptError, Feedback, checker, failed, passed, run_attempt
from .probes import fresh_seed, probe_generator, probe_label, probe_random
from .tensor_checks import describe

EXERCISE_BUILD = "Exercise 08.1 (model from settings)"
EXERCISE_PREDICT = "Exercise 08.2 (test predictions)"
EXERCISE_SEARCH = "Exercise 08.3 (random search)"

NUM_CLASSES = 4

# --------------------------------------------------------------------------------------------------
# Exercise 08.1: a model from a settings dict
# --------------------------------------------------------------------------------------------------


def reference_build_model(settings: Mapping[str, Any]) -> nn.Sequential:
    """Notebook 05's CNN with its shape taken from ``settings``.

    For each width in ``settings["widths"]``: a 3 x 3 convolution with padding 1 (no bias when batch norm
    follows), ``BatchNorm2d`` if ``settings["batch_norm"]``, ReLU and 2 x 2 max pooling. Then global max
    pooling, flatten, ``Dropout(settings["dropout"])`` (only when > 0), a dense layer of
    ``settings["hidden"]`` units with ReLU, dropout again, and 4 class scores. With widths [16, 32, 64],
    128 hidden units, no dropout and no batch norm it is ``road_sign_cnn()``.
    """
    batch_norm, dropout = bool(settings["batch_norm"]), float(settings["dropout"])
    layers: list[nn.Module] = []
    channels = 3
    for width in settings["widths"]:
        layers.append(nn.Conv2d(channels, width, kernel_size=3, padding=1, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm2d(width))
        layers += [nn.ReLU(), nn.MaxPool2d(2)]
        channels = width
    layers += [nn.AdaptiveMaxPool2d(1), nn.Flatten()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers += [nn.Linear(channels, settings["hidden"]), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(settings["hidden"], NUM_CLASSES))
    return nn.Sequential(*layers)


BUILD_CASES: list[tuple[str, dict[str, Any]]] = [
    ("notebook 05's baseline (plus the training settings, which build_model ignores)",
     {"widths": [16, 32, 64], "hidden": 128, "dropout": 0.0, "batch_norm": False, "optimizer": "adam", "lr": 0.002,
      "epochs": 20, "augmentation": []}),
    ("two narrow blocks with batch norm and dropout 0.25",
     {"widths": [8, 16], "hidden": 32, "dropout": 0.25, "batch_norm": True}),
    ("four blocks, dropout 0.5, no batch norm",
     {"widths": [12, 24, 48, 96], "hidden": 64, "dropout": 0.5, "batch_norm": False}),
]


def _layer_signature(module: nn.Module) -> tuple | None:
    """What matters about one layer, e.g. ("Conv2d", 3, 16, 3, 1); None for layers that compute nothing."""
    if isinstance(module, nn.Conv2d):
        padding = module.padding
        if isinstance(padding, str):  # padding="same" is padding (k - 1) // 2 at stride 1; "valid" is 0
            padding = ((module.kernel_size[0] - 1) // 2,) if padding == "same" else (0,)
        return ("Conv2d", module.in_channels, module.out_channels, module.kernel_size[0], padding[0])
    if isinstance(module, nn.BatchNorm2d):
        return ("BatchNorm2d", module.num_features)
    if isinstance(module, nn.MaxPool2d):
        size = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
        return ("MaxPool2d", size)
    if isinstance(module, nn.Dropout):
        return ("Dropout", round(float(module.p), 6))
    if isinstance(module, nn.Linear):
        return ("Linear", module.in_features, module.out_features)
    if isinstance(module, (nn.Flatten, nn.Identity, nn.Sequential, nn.ModuleList, nn.ModuleDict)):
        return None  # reshaping, or an (empty) container: computes nothing itself
    return (type(module).__name__,)


def layer_calls(model: nn.Module, inputs: Tensor) -> tuple[Tensor, list[tuple]]:
    """Run ``model(inputs)`` and return its output and the signatures of the layers in the order they ran.

    Forward hooks see the real order (a custom ``forward`` may call layers in another order than they were
    defined); layers with sub-layers are skipped, only the leaves count.
    """
    calls: list[tuple] = []
    handles = []
    for module in model.modules():
        if next(module.children(), None) is None:
            handles.append(module.register_forward_hook(
                lambda layer, _inputs, _output: calls.append(_layer_signature(layer))))
    try:
        output = model(inputs)
    finally:
        for handle in handles:
            handle.remove()
    return output, [call for call in calls if call is not None]


def _names(calls: Sequence[tuple], kind: str) -> list[tuple]:
    return [call for call in calls if call[0] == kind]


def _compare_layers(settings: Mapping[str, Any], got: list[tuple], expected: list[tuple]) -> tuple[str, str] | None:
    """(message, hint) naming the first way ``got`` differs from ``expected``, or None when they match."""
    widths, hidden, dropout = list(settings["widths"]), settings["hidden"], float(settings["dropout"])
    got_widths = [call[2] for call in _names(got, "Conv2d")]
    if got_widths != widths:
        if got_widths == [16, 32, 64]:
            return (f"the convolutions have 16, 32 and 64 channels whatever the settings; settings['widths'] is "
                    f"{widths}.", "loop over settings['widths']: one block per width, each conv going from the "
                                  "previous width (3 for the first) to this one.")
        return (f"the convolutions have {got_widths} output channels; settings['widths'] asks for {widths}.",
                "one block per width in settings['widths'], in that order.")
    if any(call[3:] != (3, 1) for call in _names(got, "Conv2d")):
        return ("the convolutions should be 3 x 3 with padding 1.", "nn.Conv2d(in_channels, width, 3, padding=1)")
    norms = _names(got, "BatchNorm2d")
    if settings["batch_norm"] and not norms:
        return ("settings['batch_norm'] is True, but there is no BatchNorm2d.",
                "if settings['batch_norm']: add nn.BatchNorm2d(width) right after each convolution.")
    if not settings["batch_norm"] and norms:
        return ("settings['batch_norm'] is False, but the model has BatchNorm2d layers.",
                "add batch norm only when settings['batch_norm'] is True.")
    if [call[1] for call in norms] != (widths if settings["batch_norm"] else []):
        return ("one BatchNorm2d per convolution, with as many features as its channels.", "nn.BatchNorm2d(width)")
    order = [call[0] for call in got if call[0] in ("Conv2d", "BatchNorm2d", "ReLU")]
    if settings["batch_norm"] and "".join(name[0] for name in order[:3]) != "CBR":
        return ("batch norm comes after the ReLU; put it between the convolution and the ReLU.",
                "conv -> batch norm -> ReLU -> max pool, as in notebook 05.")
    if [call[1] for call in _names(got, "MaxPool2d")] != [2] * len(widths):
        return (f"expected {len(widths)} 2 x 2 max poolings (one per block), found "
                f"{len(_names(got, 'MaxPool2d'))}.", "end every block with nn.MaxPool2d(2).")
    if _names(got, "AdaptiveAvgPool2d") and not _names(got, "AdaptiveMaxPool2d"):
        return ("global average pooling; this model uses global MAX pooling (each channel's strongest response).",
                "nn.AdaptiveMaxPool2d(1) after the last block.")
    if len(_names(got, "AdaptiveMaxPool2d")) != 1:
        return ("expected one global max pooling after the last block.", "nn.AdaptiveMaxPool2d(1), then nn.Flatten().")
    dropouts = [call[1] for call in _names(got, "Dropout")]
    if dropout and not dropouts:
        return (f"settings['dropout'] is {dropout}, but the model has no dropout.",
                "if settings['dropout'] > 0: nn.Dropout(settings['dropout']) before each of the two linear layers.")
    if not dropout and dropouts:
        return ("settings['dropout'] is 0, but the model has Dropout layers.", "add dropout only when it is above 0.")
    if dropouts and any(p != round(dropout, 6) for p in dropouts):
        return (f"dropout probability {dropouts[0]}; settings['dropout'] is {dropout}.",
                "nn.Dropout(settings['dropout'])")
    if dropout and len(dropouts) != 2:
        return (f"{len(dropouts)} Dropout layer(s); expected 2, one before each linear layer.",
                "dropout, linear(hidden), ReLU, dropout, linear(4).")
    linears = _names(got, "Linear")
    if [call[2] for call in linears[:1]] != [hidden]:
        return (f"the dense layer has {linears[0][2] if linears else 'no'} units; settings['hidden'] is {hidden}.",
                "nn.Linear(last width, settings['hidden']).")
    if not linears or linears[-1][2] != NUM_CLASSES:
        return (f"the model must end with {NUM_CLASSES} class scores (crosswalk, speedlimit, stop, trafficlight).",
                f"the last layer: nn.Linear(settings['hidden'], {NUM_CLASSES}).")
    if len(linears) != 2:
        return (f"{len(linears)} linear layers; expected 2 (hidden, then class scores).", "see the exercise's list.")
    if len(_names(got, "ReLU")) != len(widths) + 1:
        return (f"{len(_names(got, 'ReLU'))} ReLUs; expected {len(widths) + 1}: one per block and one after the dense "
                "layer.", "nn.ReLU() after each convolution (or its batch norm) and after the hidden linear layer.")
    if got != expected:
        return ("the layers are all there, but in another order.",
                "per block: conv, [batch norm], ReLU, max pool; then global max pool, flatten, [dropout], linear, "
                "ReLU, [dropout], linear.")
    return None


def _format_layers(calls: Sequence[tuple]) -> str:
    return ", ".join(call[0] if len(call) == 1 else f"{call[0]}{call[1:]}" for call in calls)


@checker(EXERCISE_BUILD)
def check_build_model(build_model: Callable[[Mapping[str, Any]], nn.Module]) -> Feedback:
    """``build_model(settings)`` must build notebook 05's CNN shaped by ``settings`` (widths, batch_norm,
    dropout, hidden), for 3-channel images of any size, with 4 class scores; other keys are ignored."""
    torch.manual_seed(0)
    for description, settings in BUILD_CASES:
        given = copy.deepcopy(settings)
        tried = f"build_model({settings}): {description}"
        model = run_attempt(EXERCISE_BUILD, build_model, given, tried=tried)
        if not isinstance(model, nn.Module):
            hint = "return the model: return nn.Sequential(*layers)."
            if isinstance(model, (list, tuple)):
                hint = "wrap the list of layers in a model: nn.Sequential(*layers)."
            return failed(EXERCISE_BUILD, f"expected an nn.Module, got {describe(model)}.", tried=tried, hint=hint)
        if given != settings:
            return failed(EXERCISE_BUILD, "build_model changed the settings dict it was given.", tried=tried,
                          hint="read the settings; do not pop or assign keys (later cells reuse the dict).")
        model.eval()
        images = torch.rand(3, 3, 32, 32)
        with torch.no_grad():
            output, calls = run_attempt(EXERCISE_BUILD, layer_calls, model, images,
                                        tried=tried + ", then model(images) on 3 images of 3 x 32 x 32")
        reference = reference_build_model(settings).eval()
        with torch.no_grad():
            _, expected = layer_calls(reference, images)
        if not calls:
            return failed(EXERCISE_BUILD, "the model has no layers yet.", tried=tried,
                          expected=_format_layers(expected), hint="append the layers of each block to `layers` in the loop, then the rest after it.")
        if not torch.is_tensor(output) or tuple(output.shape) != (3, NUM_CLASSES):
            return failed(EXERCISE_BUILD, f"model(images) for 3 images should give 3 x {NUM_CLASSES} class scores, "
                                          f"got {describe(output)}.", tried=tried,
                          expected=_format_layers(expected), got=_format_layers(calls),
                          hint=f"end with nn.Linear(settings['hidden'], {NUM_CLASSES}).")
        problem = _compare_layers(settings, calls, expected)
        if problem is not None:
            message, hint = problem
            return failed(EXERCISE_BUILD, message, tried=tried, expected=_format_layers(expected),
                          got=_format_layers(calls), hint=hint)
        if not bool(torch.isfinite(output).all()):
            return failed(EXERCISE_BUILD, "the model's scores contain NaN or infinity.", tried=tried,
                          hint="build fresh layers (nn.Conv2d(...), nn.Linear(...)) and leave their weights as "
                               "PyTorch initializes them.")
        try:
            with torch.no_grad():
                model(torch.rand(2, 3, 64, 64))
        except Exception as error:  # a flatten sized for 32 px
            return failed(EXERCISE_BUILD, f"the model works on 32 x 32 images but raises {type(error).__name__} on "
                                          "64 x 64 ones.", tried=tried + ", then model on 2 images of 3 x 64 x 64",
                          hint="global max pooling (nn.AdaptiveMaxPool2d(1)) before flattening makes the model "
                               "independent of the image size.")
    return passed(EXERCISE_BUILD, "every setting shapes the model; with the baseline's settings it is notebook 05's "
                                  "road_sign_cnn, layer for layer.")


# --------------------------------------------------------------------------------------------------
# Exercise 08.2: predictions for the test images
# --------------------------------------------------------------------------------------------------


class _RecordingModel(nn.Module):
    """A small classifier whose answers depend on its mode (batch norm, dropout), recording how it is called."""

    def __init__(self, images: Tensor) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(2)
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(48, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5),
                                    nn.Linear(16, NUM_CLASSES))
        with torch.no_grad():
            for parameter in self.layers.parameters():
                parameter.copy_(torch.randn(parameter.shape, generator=generator))
            # Running statistics near, but not at, those of these images: evaluation mode gives every class,
            # training mode (each batch's own statistics, dropout) other answers.
            hidden = self.layers[1](self.layers[0](images))
            shift = 0.5 * hidden.std(0) * torch.randn(16, generator=generator)
            self.layers[2].running_mean.copy_(hidden.mean(0) + shift)
            self.layers[2].running_var.copy_(hidden.var(0) * (0.5 + 1.5 * torch.rand(16, generator=generator)))
        self.batch_sizes: list[int] = []
        self.modes: list[bool] = []
        self.grad_enabled: list[bool] = []

    def forward(self, images: Tensor) -> Tensor:
        self.batch_sizes.append(len(images))
        self.modes.append(self.training)
        self.grad_enabled.append(torch.is_grad_enabled())
        return self.layers(images)


TRAINING_MODE_MESSAGE = ("the model ran in training mode: batch norm then uses each batch's statistics and dropout "
                         "switches off random units, so the answers depend on the batch and on chance.")


def _prediction_case(seed: int, batch_size: int) -> tuple[_RecordingModel, Tensor]:
    """A new number of images on every call. The last batch is smaller (never a multiple of the batch size), not of
    one image (an error in training mode, not a wrong answer), and not of NUM_CLASSES images (then "only the last
    batch" and "one value per class" could not be told apart)."""
    count = probe_random(seed).choice([n for n in range(37, 64) if n % batch_size not in {0, 1, NUM_CLASSES}])
    images = torch.randn(count, 3, 4, 4, generator=probe_generator(seed))
    return _RecordingModel(images), images


def _is_integer(value: Any) -> bool:
    """A Python or NumPy integer, or a one-element integer tensor (not a bool)."""
    if torch.is_tensor(value):
        return value.numel() == 1 and not value.is_floating_point() and value.dtype != torch.bool
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and type(value).__name__ != "bool_"


def _as_prediction_tensor(result: Any) -> Tensor | None:
    if torch.is_tensor(result):
        return None if result.is_complex() else result.detach().cpu()
    if type(result).__module__ == "numpy" and hasattr(result, "shape"):
        try:  # an array (or a NumPy scalar) of numbers; an array of objects is no answer
            return torch.as_tensor(result)
        except (TypeError, RuntimeError):
            return None
    if isinstance(result, (list, tuple)) and all(_is_integer(v) for v in result):
        return torch.tensor([int(v) for v in result], dtype=torch.int64)
    return None


@checker(EXERCISE_PREDICT)
def check_predict_classes(predict_classes_fn: Callable[[nn.Module, Tensor, int], Any]) -> Feedback:
    """``predict_classes(model, images, batch_size)`` must return the class index the model predicts for each
    image, in the images' order (a 1-D int64 tensor), in evaluation mode without gradients, batch by batch."""
    batch_size = 16
    seed = fresh_seed()
    model, images = _prediction_case(seed, batch_size)
    expected = predict_classes(copy.deepcopy(model), images, batch_size=batch_size)
    with torch.no_grad():
        scores = copy.deepcopy(model).eval()(images)
    per_batch_dim0 = torch.cat([scores[start:start + batch_size].argmax(dim=0)
                                for start in range(0, len(images), batch_size)])
    tried = (f"predict_classes(model, images, batch_size={batch_size}) for {len(images)} images of 3 x 4 x 4 "
             f"({probe_label(seed)}) and a small model with batch norm and dropout")
    try:
        result = run_attempt(EXERCISE_PREDICT, predict_classes_fn, model, images.clone(), batch_size, tried=tried)
    except AttemptError as error:
        if any(model.modes) and "when training" in error.feedback.message:  # batch norm on a batch of one, training
            return failed(EXERCISE_PREDICT, TRAINING_MODE_MESSAGE, tried=tried, hint="call model.eval() before predicting.")
        raise
    if isinstance(result, (list, tuple)) and result and all(torch.is_tensor(item) and item.dim() >= 1
                                                            for item in result):
        return failed(EXERCISE_PREDICT, f"a {type(result).__name__} of {len(result)} tensors (one per batch).",
                      tried=tried, hint="join the batches' predictions into one tensor: torch.cat(predictions).")
    got = _as_prediction_tensor(result)
    if got is None:
        return failed(EXERCISE_PREDICT, f"expected a 1-D tensor of class indices, got {describe(result)}.", tried=tried,
                      hint="collect each batch's scores.argmax(dim=1) in a list and return torch.cat(...) of it.")
    if got.dim() == 2 and tuple(got.shape) == (len(images), NUM_CLASSES):
        values = got.double()
        one_hot = set(values.unique().tolist()) <= {0.0, 1.0} and torch.equal(values.sum(dim=1), torch.ones(len(got)))
        if not one_hot:
            return failed(EXERCISE_PREDICT, "these are the class scores (or probabilities), one row per image: the "
                                            "submission needs one class index per image.", tried=tried,
                          hint="scores.argmax(dim=1): the column of the highest score is the predicted class.")
        return failed(EXERCISE_PREDICT, "one-hot rows: the submission needs one class index per image.", tried=tried,
                      hint="return the indices themselves (argmax(dim=1)), not one-hot vectors.")
    if got.dim() != 1:
        return failed(EXERCISE_PREDICT, f"expected a 1-D tensor of {len(images)} class indices, got shape "
                                        f"{tuple(got.shape)}.", tried=tried,
                      hint="argmax(dim=1) of each batch's scores.")
    if len(got) != len(images):
        if len(got) == len(per_batch_dim0) and torch.equal(got.long(), per_batch_dim0):
            message, hint = (f"{len(got)} values for {len(images)} images: {NUM_CLASSES} per batch, one per class. "
                             "The argmax ran over dimension 0, the images of the batch.",
                             "argmax(dim=1): dimension 1 holds the classes, dimension 0 the images.")
        elif len(got) == NUM_CLASSES:
            message, hint = ("one value per class, not per image: the argmax ran over the images.",
                             "argmax(dim=1): dimension 1 holds the classes, dimension 0 the images.")
        elif len(got) == len(images) - len(images) % batch_size:
            message, hint = (f"{len(got)} predictions for {len(images)} images: the last, smaller batch is missing.",
                             "step through range(0, len(images), batch_size): the last slice may be shorter.")
        elif len(got) <= batch_size:
            message, hint = (f"{len(got)} predictions for {len(images)} images: only one batch was kept.",
                             "append each batch's predictions to a list, and torch.cat the list after the loop.")
        else:
            message, hint = (f"{len(got)} predictions for {len(images)} images.", "one prediction per image.")
        return failed(EXERCISE_PREDICT, message, tried=tried, expected=f"{len(images)} class indices", hint=hint)
    if got.is_floating_point():
        return failed(EXERCISE_PREDICT, f"class indices are whole numbers; got dtype {got.dtype}.", tried=tried,
                      hint="argmax already gives int64: leave out .float().")
    if any(model.modes):
        return failed(EXERCISE_PREDICT, TRAINING_MODE_MESSAGE, tried=tried, hint="call model.eval() before predicting.")
    if any(model.grad_enabled):
        return failed(EXERCISE_PREDICT, "the model ran with gradients on: predicting needs none, and keeping them "
                                        "costs memory and time.", tried=tried,
                      hint="put the loop inside `with torch.no_grad():`.")
    if max(model.batch_sizes, default=0) > batch_size:
        return failed(EXERCISE_PREDICT, f"the model got batches of up to {max(model.batch_sizes)} images with "
                                        f"batch_size={batch_size}.", tried=tried,
                      hint="predict batch by batch (images[start:start + batch_size]): a whole test set at once can "
                           "run out of memory on a GPU.")
    if not torch.equal(got.long(), expected):
        if torch.equal(torch.sort(got.long()).values, torch.sort(expected).values):
            message, hint = ("the right predictions, in another order: the submission must follow the images' "
                             "order.", "no shuffling: go through the images in order and keep the batches in order.")
        elif torch.equal(got.long(), scores.argmin(dim=1)):
            message, hint = ("argmin: the class with the LOWEST score.", "argmax(dim=1).")
        else:
            message, hint = ("wrong classes.", "model(batch).argmax(dim=1) for each batch, in order.")
        return failed(EXERCISE_PREDICT, message, tried=tried, expected=str(expected[:12].tolist())[:-1] + ", ...]",
                      got=str(got[:12].tolist())[:-1] + ", ...]", hint=hint)
    return passed(EXERCISE_PREDICT, "one class index per image, in order, in evaluation mode without gradients, "
                                    "batch by batch.")


# --------------------------------------------------------------------------------------------------
# Exercise 08.3: random search, picked by the validation score
# --------------------------------------------------------------------------------------------------


def reference_random_search(space: Mapping[str, Sequence[Any]], n_trials: int,
                            evaluate: Callable[[dict], Mapping[str, float]], seed: int = 0
                            ) -> tuple[dict, list[tuple[dict, Mapping[str, float]]]]:
    """Draw ``n_trials`` settings (each value uniformly from its list in ``space``, with
    ``random.Random(seed)``), score each with ``evaluate`` and return ``(best settings, trials)``.

    ``trials`` lists ``(settings, scores)`` in the order tried; the best has the highest
    ``scores["val_macro_f1"]`` (the first of equals). The test split plays no part.
    """
    rng = random.Random(seed)
    trials = []
    for _ in range(n_trials):
        settings = {name: rng.choice(list(values)) for name, values in space.items()}
        trials.append((settings, evaluate(settings)))
    best_settings, _ = max(trials, key=lambda trial: trial[1]["val_macro_f1"])
    return best_settings, trials


SEARCH_SPACE: dict[str, list[Any]] = {
    "lr": [0.0003, 0.001, 0.003, 0.01],
    "dropout": [0.0, 0.25, 0.5],
    "batch_norm": [False, True],
    "widths": [[16, 32, 64], [32, 64, 128]],
}
SEARCH_TRIALS = 6


def _fake_scores(settings: Mapping[str, Any]) -> dict[str, float]:
    """Made-up scores, a different one for each of the 48 combinations; training and validation scores rank
    the combinations in unrelated orders, so picking by one or the other gives different settings."""
    position = 0
    for name, values in SEARCH_SPACE.items():
        value = settings.get(name)
        position = position * len(values) + (values.index(value) if value in values else 0)
    validation = 0.30 + 0.01 * ((position * 37) % 48)  # 0.30 .. 0.77
    training = 0.50 + 0.01 * ((position * 11 + 7) % 48)  # 0.50 .. 0.97
    return {"train_macro_f1": round(training, 4), "val_macro_f1": round(validation, 4)}


# Seeds drawn until the trials tell the usual mistakes apart (a right search succeeds on about 3 seeds in 4).
SEED_DRAWS = 20


def _tells_mistakes_apart(calls: list[dict]) -> bool:
    """True when, among these trials, the best validation score, the best training score and the lowest
    validation score belong to three different settings: only then does picking by the wrong one show."""
    if len(calls) < 3:
        return False
    scores = [_fake_scores(settings) for settings in calls]
    picks = {max(range(len(calls)), key=lambda i: scores[i]["val_macro_f1"]),
             max(range(len(calls)), key=lambda i: scores[i]["train_macro_f1"]),
             min(range(len(calls)), key=lambda i: scores[i]["val_macro_f1"])}
    return len({repr(calls[i]) for i in picks}) == 3


class _RecordingEvaluate:
    """``evaluate`` for the checker: fake scores, and a copy of every settings dict it was given."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def __call__(self, settings: dict) -> dict[str, float]:
        self.calls.append(copy.deepcopy(settings))
        return _fake_scores(settings)


def _search(random_search: Callable, seed: int, tried: str) -> tuple[Any, _RecordingEvaluate]:
    evaluate = _RecordingEvaluate()
    result = run_attempt(EXERCISE_SEARCH, random_search, copy.deepcopy(SEARCH_SPACE), SEARCH_TRIALS, evaluate, seed,
                         tried=tried)
    return result, evaluate


@checker(EXERCISE_SEARCH)
def check_random_search(random_search: Callable) -> Feedback:
    """``random_search(space, n_trials, evaluate, seed)`` must evaluate ``n_trials`` settings drawn from
    ``space`` (repeatably for a seed), and return ``(best_settings, trials)``: the settings with the highest
    validation macro-F1, and the list of ``(settings, scores)`` tried."""
    for _ in range(SEED_DRAWS):
        seed = fresh_seed()
        tried = (f"random_search(space, n_trials={SEARCH_TRIALS}, evaluate, seed={seed}) with space = {SEARCH_SPACE} "
                 "and an evaluate that returns made-up scores")
        result, evaluate = _search(random_search, seed, tried)
        if _tells_mistakes_apart(evaluate.calls):
            break
    if not (isinstance(result, tuple) and len(result) == 2):
        return failed(EXERCISE_SEARCH, f"expected a pair (best_settings, trials), got {describe(result)}.", tried=tried,
                      hint="return best_settings, trials")
    best, trials = result
    calls = evaluate.calls
    if len(calls) != SEARCH_TRIALS:
        return failed(EXERCISE_SEARCH, f"evaluate was called {len(calls)} times for n_trials={SEARCH_TRIALS}.",
                      tried=tried, hint="one evaluate(settings) per trial, n_trials in all.")
    for settings in calls:
        if not isinstance(settings, dict) or set(settings) != set(SEARCH_SPACE):
            keys = sorted(settings) if isinstance(settings, dict) else describe(settings)
            return failed(EXERCISE_SEARCH, f"evaluate got {keys}; it needs a dict with one value for each key of the "
                                           f"space {sorted(SEARCH_SPACE)}.", tried=tried,
                          hint="{name: rng.choice(values) for name, values in space.items()}")
        for name, value in settings.items():
            if value not in SEARCH_SPACE[name]:
                return failed(EXERCISE_SEARCH, f"{name} = {value!r} is not one of the space's values "
                                               f"{SEARCH_SPACE[name]}.", tried=tried,
                              hint="pick each value from its list: rng.choice(values), not a number in between.")
    if all(settings == calls[0] for settings in calls):
        return failed(EXERCISE_SEARCH, f"all {SEARCH_TRIALS} trials evaluated the same settings.", tried=tried,
                      hint="draw new values for every trial, inside the loop.")
    if not isinstance(trials, (list, tuple)) or len(trials) != SEARCH_TRIALS or not all(
            isinstance(trial, (list, tuple)) and len(trial) == 2 for trial in trials):
        return failed(EXERCISE_SEARCH, f"trials should be a list of {SEARCH_TRIALS} (settings, scores) pairs, got "
                                       f"{describe(trials)}.", tried=tried,
                      hint="trials.append((settings, scores)) once per trial.")
    returned_settings = [trial[0] for trial in trials]
    if returned_settings != calls:
        if all(settings is returned_settings[0] for settings in returned_settings):
            return failed(EXERCISE_SEARCH, "every trial in your list is the same dict object, so they all show the "
                                           "last settings drawn.", tried=tried,
                          hint="build a new dict in each trial (settings = {...} inside the loop), instead of "
                               "updating one dict.")
        return failed(EXERCISE_SEARCH, "the settings in trials are not the ones evaluate was given, in that order.",
                      tried=tried, hint="append (settings, evaluate(settings)) right after evaluating.")
    if [trial[1] for trial in trials] != [_fake_scores(settings) for settings in calls]:
        return failed(EXERCISE_SEARCH, "the scores in trials are not what evaluate returned.", tried=tried,
                      hint="keep the whole dict evaluate returns, with its settings.")
    scores = [_fake_scores(settings) for settings in calls]
    expected = calls[max(range(len(calls)), key=lambda i: scores[i]["val_macro_f1"])]
    if best != expected:
        by_train = calls[max(range(len(calls)), key=lambda i: scores[i]["train_macro_f1"])]
        lowest = calls[min(range(len(calls)), key=lambda i: scores[i]["val_macro_f1"])]
        if isinstance(best, (int, float)) or isinstance(best, Mapping) and "val_macro_f1" in best:
            message, hint = "best_settings is a score, not the settings.", "return the settings of the best trial."
        elif isinstance(best, (list, tuple)) and len(best) == 2 and best[0] == expected:
            message, hint = "you returned the whole (settings, scores) pair as best_settings.", \
                "return its settings only: best_settings, _ = max(...)."
        elif best == by_train and best != lowest:
            message = ("you picked the best TRAINING score: it rewards the settings that memorize the training "
                       "images best.")
            hint = "pick by the validation score, scores['val_macro_f1']: images the model did not learn from."
        elif best == lowest:
            message, hint = ("you picked the lowest validation score: for a score, higher is better (lowest is for "
                             "losses)."), "max(..., key=...) instead of min, on scores['val_macro_f1']."
        else:
            message, hint = "best_settings is not the trial with the highest validation macro-F1.", \
                "max(trials, key=lambda trial: trial[1]['val_macro_f1'])"
        return failed(EXERCISE_SEARCH, message, tried=tried, expected=str(expected), got=repr(best), hint=hint)
    _, again = _search(random_search, seed, tried + ", twice")
    if again.calls != calls:
        return failed(EXERCISE_SEARCH, "two searches with the same seed tried different settings.",
                      tried=tried + ", twice",
                      hint="draw with rng = random.Random(seed) (one generator, made once before the loop).")
    other_seed = seed + 1
    _, other = _search(random_search, other_seed, tried.replace(f"seed={seed}", f"seed={other_seed}"))
    if other.calls == calls:
        return failed(EXERCISE_SEARCH, f"seed={other_seed} tried exactly the settings of seed={seed}: the seed is "
                                       "ignored.", tried=tried.replace(f"seed={seed}", f"seed={other_seed}"),
                      hint="random.Random(seed), not random.Random(0).")
    return passed(EXERCISE_SEARCH, f"{SEARCH_TRIALS} settings drawn from the space, repeatable for a seed, and the "
                                   "best picked by its validation score.")
