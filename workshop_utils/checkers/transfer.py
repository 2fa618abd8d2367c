"""Checkers for notebook 06: ImageNet normalization, a new head, freezing the backbone, a fine-tuning optimizer.

Each checker runs the attendee's function on a small input next to a reference and, when the answers
differ, replays the typical mistakes (pixels left in 0..255, mean and std swapped, ``model.eval()`` taken for
freezing, one learning rate for everything...) to say which one it was. The references are here
(``reference_*``), written for a torchvision ResNet (its head is ``model.fc``); the library's versions for
any backbone are in :mod:`workshop_utils.transfer`. Notebook 06 falls back to them, saying so, while an
exercise is not finished.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from .. import transfer
from .core import AttemptError, Feedback, checker, failed, passed, run_attempt
from .probes import fresh_seed, probe_generator, probe_label, probe_random, typed_in_message
from .tensor_checks import describe, tensor_problem

EXERCISE_NORMALIZE = "Exercise 06.1 (ImageNet normalization)"
EXERCISE_HEAD = "Exercise 06.2 (a new head)"
EXERCISE_FREEZE = "Exercise 06.3 (freezing the backbone)"
EXERCISE_OPTIMIZER = "Exercise 06.4 (fine-tuning learning rates)"

#: torchvision's ImageNet statistics (the checker reads them from the weights, like the notebook).
BACKBONE = "resnet18"


def _fmt(values: Tensor) -> str:
    return str(torch.round(values.detach().double(), decimals=3).tolist())


# --------------------------------------------------------------------------------------------------
# Exercise 06.1: ImageNet normalization of a uint8 batch
# --------------------------------------------------------------------------------------------------

def reference_normalize_batch(images: Tensor, mean: Sequence[float], std: Sequence[float]) -> Tensor:
    """A uint8 ``N x 3 x H x W`` batch (0..255) as floats in [0, 1], normalized per channel: ``(x - mean) / std``."""
    x = images.float() / 255
    mean_t = torch.as_tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    std_t = torch.as_tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    return (x - mean_t) / std_t


def _channel(values: Sequence[float]) -> Tensor:
    return torch.as_tensor(values, dtype=torch.float32).view(1, -1, 1, 1)


def _batch_statistics(x: Tensor) -> Tensor:
    x = x.float() / 255
    return (x - x.mean(dim=(0, 2, 3), keepdim=True)) / x.std(dim=(0, 2, 3), keepdim=True)


_NORMALIZE_MISTAKES: list[tuple[Callable[[Tensor, Sequence[float], Sequence[float]], Tensor], str, str]] = [
    (lambda x, m, s: (x.float() - _channel(m)) / _channel(s),
     "the pixels were not scaled to [0, 1] first: the mean and std are for values between 0 and 1.",
     "divide the uint8 images by 255 (as floats) before subtracting the mean: (images.float() / 255 - mean) / std."),
    (lambda x, m, s: (x.float() / 255 - torch.as_tensor(m)) / torch.as_tensor(s),
     "the mean and std lined up with the last dimension (the image width), not with the colour channels.",
     "a list of 3 numbers broadcasts against the LAST dimension; reshape it to (3, 1, 1) or (1, 3, 1, 1): "
     "torch.tensor(mean).view(1, 3, 1, 1)."),
    (lambda x, m, s: (x.float() / 255 - _channel(s)) / _channel(m),
     "the mean and std are swapped.", "subtract the mean, then divide by the standard deviation."),
    (lambda x, m, s: (x.float() / 255 - _channel(m)) * _channel(s),
     "you multiplied by the std instead of dividing.", "(x - mean) / std."),
    (lambda x, m, s: x.float() / 255 - _channel(m),
     "you subtracted the mean but did not divide by the std.", "(x - mean) / std."),
    (lambda x, m, s: (x.float() - _channel(m)) / _channel(s) / 255,
     "you divided by 255 after normalizing: scale to [0, 1] first.", "(images.float() / 255 - mean) / std."),
    (lambda x, m, s: _batch_statistics(x),
     "you normalized with the batch's own mean and std: use the ones you are given, the statistics of the "
     "data the network was pretrained on.",
     "a pretrained network expects its inputs exactly as in its pretraining: (x - mean) / std with the "
     "weights' mean and std."),
    (lambda x, m, s: (x.float() / 255 - _channel([0.485, 0.456, 0.406])) / _channel([0.229, 0.224, 0.225]),
     "you typed in ImageNet's numbers instead of using the mean and std passed to the function.",
     "use the arguments mean and std: another backbone's weights may expect other values."),
]


@functools.lru_cache(maxsize=None)
def _imagenet_statistics() -> tuple[list[float], list[float]]:
    """The mean and std the weights expect (read once: torchvision's lookup takes a noticeable fraction of a second)."""
    mean, std = transfer.imagenet_normalization(BACKBONE)
    return list(mean), list(std)


def _normalize_probe(seed: int) -> tuple[str, Tensor, list[float], list[float]]:
    rng = probe_random(seed)
    shape = (rng.randint(1, 4), 3, rng.randint(2, 6), rng.randint(2, 6))
    mean = [round(rng.uniform(0.3, 0.6), 3) for _ in range(3)]
    std = [round(rng.uniform(0.15, 0.35), 3) for _ in range(3)]
    images = torch.randint(0, 256, shape, dtype=torch.uint8, generator=probe_generator(seed))
    return (f"{probe_label(seed)}: a uint8 batch of shape {shape}, mean {mean} and std {std}", images, mean, std)


def _normalize_cases() -> list[tuple[str, Tensor, list[float], list[float]]]:
    generator = torch.Generator().manual_seed(6)
    imagenet_mean, imagenet_std = _imagenet_statistics()
    small = torch.randint(0, 256, (2, 3, 4, 3), dtype=torch.uint8, generator=generator)
    larger = torch.randint(0, 256, (5, 3, 6, 7), dtype=torch.uint8, generator=generator)
    return [
        ("a uint8 batch of 2 images, 3 x 4 x 3 (channels, height, width), ImageNet's mean and std", small,
         imagenet_mean, imagenet_std),
        ("a uint8 batch of 5 images, 3 x 6 x 7, mean [0.5, 0.4, 0.3] and std [0.2, 0.25, 0.3]", larger,
         [0.5, 0.4, 0.3], [0.2, 0.25, 0.3]),
    ]


def _same(got: Tensor, mistake: Callable, *args: Any) -> bool:
    """True when ``mistake(*args)`` gives ``got`` (False when that mistake cannot even run on these shapes)."""
    try:
        return torch.allclose(got, mistake(*args), atol=1e-4)
    except RuntimeError:
        return False


@checker(EXERCISE_NORMALIZE)
def check_normalize_batch(normalize_batch: Callable[[Tensor, Sequence[float], Sequence[float]], Tensor]) -> Feedback:
    """``normalize_batch(images, mean, std)`` must turn a uint8 ``N x 3 x H x W`` batch into floats in [0, 1] and
    normalize each colour channel with the given mean and std, without changing ``images``."""
    earlier: list[tuple[str, Tensor]] = []
    for description, images, mean, std in [*_normalize_cases(), _normalize_probe(fresh_seed())]:
        given = images.clone()
        tried = f"normalize_batch(images, mean={mean}, std={std}) for {description}"
        got = run_attempt(EXERCISE_NORMALIZE, normalize_batch, given, list(mean), list(std), tried=tried)
        expected = reference_normalize_batch(images, mean, std)
        typed_in = typed_in_message(got, earlier)
        if typed_in is not None:
            return failed(EXERCISE_NORMALIZE, typed_in, tried=tried, hint="normalize the images given.")
        earlier.append((description.split(",")[0], expected))
        problem = tensor_problem(got, expected)
        if problem is not None:
            hint = problem.hint
            if problem.kind == "dtype":
                hint = "uint8 images hold whole numbers 0..255: convert first, images.float() / 255."
            elif problem.kind == "shape" and torch.is_tensor(got) and got.dim() == 4 and got.shape[-1] == 3:
                hint = "keep channels first (N x C x H x W), as PyTorch images are."
            return failed(EXERCISE_NORMALIZE, problem.message, tried=tried, hint=hint)
        if not torch.equal(given, images):
            return failed(EXERCISE_NORMALIZE, "your function changed its input images in place.", tried=tried,
                          hint="compute a new tensor: images.float() / 255 makes a copy.")
        got_float = got.detach().cpu().float()
        if not torch.allclose(got_float, expected, atol=1e-4):
            where = f"image 0, top-left pixel: {_fmt(expected[0, :, 0, 0])}"
            for mistake, message, hint in _NORMALIZE_MISTAKES:
                if _same(got_float, mistake, images, mean, std):
                    return failed(EXERCISE_NORMALIZE, message, tried=tried, hint=hint, expected=where,
                                  got=f"image 0, top-left pixel: {_fmt(got_float[0, :, 0, 0])}")
            return failed(EXERCISE_NORMALIZE, "wrong values.", tried=tried, expected=where,
                          got=f"image 0, top-left pixel: {_fmt(got_float[0, :, 0, 0])}",
                          hint="(images.float() / 255 - mean) / std, with mean and std shaped (1, 3, 1, 1).")
    return passed(EXERCISE_NORMALIZE, "pixels scaled to [0, 1], then each channel shifted by its mean and divided "
                                      "by its std, exactly as the pretrained weights expect.")


# --------------------------------------------------------------------------------------------------
# Models for the other checkers: built once, copied for each attempt (a ResNet-18 takes 0.1-0.3 s)
# --------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _template(kind: str) -> nn.Module:
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(6)
        if kind == "imagenet-shaped":  # the 1000-class model torchvision builds
            return transfer.backbone_spec(BACKBONE).build()
        if kind == "narrow":  # a ResNet whose features are 256 wide: catches a hard-coded 512
            model = transfer.backbone_spec(BACKBONE).build()
            model.layer4 = nn.Identity()
            model.fc = nn.Linear(256, 1000)
            return model
        if kind == "with-head":  # ResNet-18 with a 4-class head, as the notebook builds it
            return transfer.build_backbone(BACKBONE, 4)
        raise ValueError(kind)
    finally:
        torch.random.set_rng_state(generator_state)


def _fresh(kind: str) -> nn.Module:
    return copy.deepcopy(_template(kind))


# --------------------------------------------------------------------------------------------------
# Exercise 06.2: a new head
# --------------------------------------------------------------------------------------------------

def reference_replace_head(model: nn.Module, num_classes: int) -> nn.Module:
    """A torchvision ResNet with its last layer replaced by a new ``num_classes``-output ``nn.Linear``."""
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model


def _contains_softmax(module: nn.Module) -> bool:
    return any(isinstance(layer, (nn.Softmax, nn.LogSoftmax)) for layer in module.modules())


@checker(EXERCISE_HEAD)
def check_replace_head(replace_head: Callable[[nn.Module, int], nn.Module]) -> Feedback:
    """``replace_head(model, num_classes)`` must replace a ResNet's ``model.fc`` by a new ``nn.Linear`` from
    ``model.fc.in_features`` to ``num_classes`` outputs, keep every other (pretrained) weight, and return the model."""
    seed = fresh_seed()
    random_classes = probe_random(seed).choice([3, 5, 6, 9, 12, 20])
    cases = [("imagenet-shaped", 4, "a ResNet-18 with its 1000-class ImageNet head, num_classes=4"),
             ("narrow", 7, "a narrower ResNet (256 features go into its 1000-class head), num_classes=7"),
             ("imagenet-shaped", random_classes, f"a ResNet-18, num_classes={random_classes} ({probe_label(seed)})")]
    for kind, num_classes, description in cases:
        model = _fresh(kind)
        features = model.fc.in_features
        before = model.conv1.weight.detach().clone()
        tried = f"replace_head(model, {num_classes}) for {description}"
        result = run_attempt(EXERCISE_HEAD, replace_head, model, num_classes, tried=tried)
        if result is None:
            return failed(EXERCISE_HEAD, "your function returned None.", tried=tried,
                          hint="end with `return model` (after model.fc = ...).")
        if not isinstance(result, nn.Module):
            return failed(EXERCISE_HEAD, f"expected the model (an nn.Module), got {describe(result)}.", tried=tried,
                          hint="return model, the network whose fc you replaced.")
        if isinstance(result, nn.Sequential) and any(layer is model for layer in result):
            return failed(EXERCISE_HEAD, "you stacked a new layer after the model: its 1000 ImageNet scores are still "
                                         "computed, and your layer classifies those.", tried=tried,
                          hint="replace the last layer itself: model.fc = nn.Linear(model.fc.in_features, num_classes).")
        conv1 = getattr(result, "conv1", None)
        if not isinstance(conv1, nn.Conv2d) or not torch.equal(conv1.weight.detach().cpu(), before):
            return failed(EXERCISE_HEAD, "the returned network does not keep the original weights: you built a new one, "
                                         "and the pretrained features would be lost.", tried=tried,
                          hint="change the model you are given, in place: model.fc = ..., then return model.")
        head = getattr(result, "fc", None)
        if isinstance(head, nn.Module) and _contains_softmax(head):
            return failed(EXERCISE_HEAD, "the new head ends with a softmax: the loss expects raw scores (logits).",
                          tried=tried, hint="nn.CrossEntropyLoss applies log-softmax itself: the head is one nn.Linear.")
        if not isinstance(head, nn.Linear):
            return failed(EXERCISE_HEAD, f"model.fc should be an nn.Linear, got {type(head).__name__}.", tried=tried,
                          hint="model.fc = nn.Linear(model.fc.in_features, num_classes)")
        if head.out_features != num_classes:
            if head.out_features == 1000:
                message = "the head still has 1000 outputs (ImageNet's classes)."
            elif head.out_features in (4, 7):
                message = (f"the head has {head.out_features} outputs for num_classes={num_classes}: the number of "
                           "classes is hard-coded.")
            else:
                message = f"the head has {head.out_features} outputs, expected num_classes = {num_classes}."
            return failed(EXERCISE_HEAD, message, tried=tried, expected=f"nn.Linear({features}, {num_classes})",
                          got=repr(head), hint="the head's outputs are the target task's classes: num_classes.")
        if head.in_features != features:
            message = (f"the head takes {head.in_features} inputs, but {features} features reach it.")
            if head.in_features == 1000:
                message += " 1000 is the OLD head's output size, not its input size."
            elif head.in_features == 512 and kind == "narrow":
                message += " 512 is hard-coded: this network's features are 256 wide."
            return failed(EXERCISE_HEAD, message, tried=tried, expected=f"nn.Linear({features}, {num_classes})",
                          got=repr(head), hint="read the size from the old head: model.fc.in_features.")
        with torch.no_grad():
            outputs = run_attempt(EXERCISE_HEAD, result.eval(), torch.randn(2, 3, 32, 32).to(conv1.weight.device),
                                  tried=tried + ", then model(a batch of 2 images of 32 x 32)")
        if torch.is_tensor(outputs) and outputs.is_floating_point() and not bool(torch.isfinite(outputs).all()):
            return failed(EXERCISE_HEAD, "the model's scores contain NaN or infinity.", tried=tried,
                          hint="a new nn.Linear(model.fc.in_features, num_classes), with the weights PyTorch gives it.")
        if not torch.is_tensor(outputs) or tuple(outputs.shape) != (2, num_classes):
            return failed(EXERCISE_HEAD, "the model does not return one score per class.", tried=tried,
                          expected=f"shape (2, {num_classes})", got=describe(outputs),
                          hint="model.fc = nn.Linear(model.fc.in_features, num_classes).")
    return passed(EXERCISE_HEAD, "model.fc is a new nn.Linear(model.fc.in_features, num_classes) and every other "
                                 "weight is the pretrained one.")


# --------------------------------------------------------------------------------------------------
# Exercise 06.3: freezing the backbone
# --------------------------------------------------------------------------------------------------

def reference_freeze_backbone(model: nn.Module) -> nn.Module:
    """Freeze every parameter of a ResNet but its head ``model.fc``; returns the model."""
    for parameter in model.parameters():
        parameter.requires_grad = False
    for parameter in model.fc.parameters():
        parameter.requires_grad = True
    return model


def _trainable(model: nn.Module) -> tuple[list[str], list[str], int, int]:
    """(trainable backbone parameter names, frozen head parameter names, backbone count, head count)."""
    backbone_trainable, head_frozen, backbone_count, head_count = [], [], 0, 0
    for name, parameter in model.named_parameters():
        if name.startswith("fc."):
            head_count += parameter.numel()
            if not parameter.requires_grad:
                head_frozen.append(name)
        else:
            backbone_count += parameter.numel()
            if parameter.requires_grad:
                backbone_trainable.append(name)
    return backbone_trainable, head_frozen, backbone_count, head_count


@checker(EXERCISE_FREEZE)
def check_freeze_backbone(freeze_backbone: Callable[[nn.Module], Any]) -> Feedback:
    """``freeze_backbone(model)`` must set ``requires_grad = False`` on every parameter of a ResNet except those of
    its head ``model.fc``, which stay trainable."""
    model = _fresh("with-head")
    parameters = dict(model.named_parameters())
    tried = "freeze_backbone(model) for a ResNet-18 with a new 4-class head (model.fc)"
    returned = run_attempt(EXERCISE_FREEZE, freeze_backbone, model, tried=tried)
    all_names = [name for name in parameters if not name.startswith("fc.")]
    if isinstance(returned, nn.Module) and returned is not model and all(p.requires_grad for p in model.parameters()) \
            and not all(p.requires_grad for p in returned.parameters()):
        return failed(EXERCISE_FREEZE, "you froze a copy: the model you were given still trains everything, and that "
                                       "is the one the next cells train.", tried=tried,
                      hint="change the flags of model's own parameters (no copy.deepcopy, no new model).")
    backbone_trainable, head_frozen, backbone_count, head_count = _trainable(model)
    head_names = [name for name in parameters if name.startswith("fc.")]
    if any(parameter is not parameters.get(name) for name, parameter in model.named_parameters()):
        return failed(EXERCISE_FREEZE, "the model's parameters were replaced by other tensors.", tried=tried,
                      hint="change the flag of the parameters themselves: parameter.requires_grad = False.")
    if model.__dict__.get("requires_grad") is False:
        return failed(EXERCISE_FREEZE, "you set an attribute called requires_grad on the model itself: PyTorch ignores "
                                       "it, every parameter still requires gradients.", tried=tried,
                      hint="loop over the parameters (for p in model.parameters(): p.requires_grad = False) or call "
                           "model.requires_grad_(False), then unfreeze model.fc's parameters.")
    if len(backbone_trainable) == len(all_names) and not head_frozen:
        if not model.training:
            return failed(EXERCISE_FREEZE, "model.eval() does not freeze anything: it switches batch norm and dropout to "
                                           "their evaluation behaviour, but every weight still gets gradients.",
                          tried=tried, hint="set requires_grad = False on the backbone's parameters.")
        return failed(EXERCISE_FREEZE, "nothing is frozen: every parameter still requires gradients.", tried=tried,
                      hint="for p in model.parameters(): p.requires_grad = False, then the same with True for "
                           "model.fc.parameters(). (torch.no_grad() only affects the code inside its block.)")
    if len(head_frozen) == len(head_names) and not backbone_trainable:
        return failed(EXERCISE_FREEZE, "the head is frozen too: nothing would learn.", tried=tried,
                      expected=f"{head_count:,} trainable parameters (model.fc)", got="0 trainable parameters",
                      hint="after freezing everything, set requires_grad = True on model.fc.parameters().")
    if len(head_frozen) == len(head_names) and len(backbone_trainable) == len(all_names):
        return failed(EXERCISE_FREEZE, "it is the other way round: the head is frozen and the backbone trains.",
                      tried=tried, hint="freeze the backbone (everything but model.fc), train the head.")
    if head_frozen:
        return failed(EXERCISE_FREEZE, f"the head's {', '.join(head_frozen)} is frozen: the new head must learn.",
                      tried=tried, hint="set requires_grad = True on every parameter of model.fc.")
    if backbone_trainable:
        kinds = sorted({name.rsplit(".", 1)[-1] for name in backbone_trainable})
        return failed(EXERCISE_FREEZE, f"{len(backbone_trainable)} of the backbone's {len(all_names)} parameter "
                                       f"tensors still train, e.g. {backbone_trainable[0]} ({', '.join(kinds)}).",
                      tried=tried, hint="freeze every parameter, batch norm's weight and bias included: loop over "
                                        "model.parameters(), not over some layers.")
    return passed(EXERCISE_FREEZE, f"{backbone_count:,} backbone parameters frozen, the head's {head_count:,} "
                                   "trainable.")


# --------------------------------------------------------------------------------------------------
# Exercise 06.4: an optimizer with two learning rates
# --------------------------------------------------------------------------------------------------

def reference_fine_tuning_optimizer(model: nn.Module, backbone_lr: float, head_lr: float) -> torch.optim.Optimizer:
    """Adam with the ResNet's backbone at ``backbone_lr`` and its head ``model.fc`` at ``head_lr``."""
    head = list(model.fc.parameters())
    backbone = [parameter for name, parameter in model.named_parameters() if not name.startswith("fc.")]
    return torch.optim.Adam([{"params": backbone, "lr": backbone_lr}, {"params": head, "lr": head_lr}])


def _learning_rates(optimizer: torch.optim.Optimizer) -> dict[int, float]:
    rates: dict[int, float] = {}
    for group in optimizer.param_groups:
        for parameter in group["params"]:
            rates[id(parameter)] = group["lr"]
    return rates


@checker(EXERCISE_OPTIMIZER)
def check_fine_tuning_optimizer(fine_tuning_optimizer: Callable[[nn.Module, float, float], Any]) -> Feedback:
    """``fine_tuning_optimizer(model, backbone_lr, head_lr)`` must return an optimizer (Adam) over every parameter of
    a ResNet: the head ``model.fc`` at ``head_lr``, all the others at ``backbone_lr``."""
    rng = probe_random(fresh_seed())
    probe_backbone_lr = round(rng.uniform(1e-5, 9e-5), 7)
    probe_rates = (probe_backbone_lr, round(probe_backbone_lr * rng.randint(5, 50), 7))
    for backbone_lr, head_lr in ((1e-4, 1e-3), (3e-5, 3e-3), probe_rates):
        model = _fresh("with-head")
        tried = f"fine_tuning_optimizer(model, backbone_lr={backbone_lr:g}, head_lr={head_lr:g}) for a ResNet-18"
        try:
            optimizer = run_attempt(EXERCISE_OPTIMIZER, fine_tuning_optimizer, model, backbone_lr, head_lr,
                                    tried=tried)
        except AttemptError as error:
            if "more than one parameter group" in error.feedback.message:
                return failed(EXERCISE_OPTIMIZER, "the head's parameters are in both groups: torch refuses a parameter "
                                                  "in two groups.", tried=tried,
                              hint="the backbone group must leave model.fc out: [p for name, p in "
                                   "model.named_parameters() if not name.startswith('fc.')].")
            raise
        if not isinstance(optimizer, torch.optim.Optimizer):
            return failed(EXERCISE_OPTIMIZER, f"expected an optimizer, got {describe(optimizer)}.", tried=tried,
                          hint="return torch.optim.Adam([{'params': ..., 'lr': backbone_lr}, {'params': ..., "
                               "'lr': head_lr}]).")
        rates = _learning_rates(optimizer)
        head_ids = {id(parameter) for parameter in model.fc.parameters()}
        backbone = [(name, parameter) for name, parameter in model.named_parameters() if not name.startswith("fc.")]
        head_rates = {rates.get(identity) for identity in head_ids}
        backbone_rates = {rates.get(id(parameter)) for _, parameter in backbone}
        expected = f"head (model.fc) at {head_lr:g}, the other {len(backbone)} parameter tensors at {backbone_lr:g}"
        got = (f"head at {sorted(head_rates, key=str)}, backbone at {sorted(backbone_rates, key=str)} "
               "(None: not in the optimizer)")
        if backbone_rates == {None}:
            return failed(EXERCISE_OPTIMIZER, "the backbone is not in the optimizer: it would not change at all, which "
                                              "is the frozen feature extractor, not fine-tuning.", tried=tried,
                          expected=expected, got=got, hint="add a group with the backbone's parameters at backbone_lr.")
        if head_rates == {None}:
            return failed(EXERCISE_OPTIMIZER, "the head is not in the optimizer: the new, random layer would never "
                                              "learn.", tried=tried, expected=expected, got=got,
                          hint="add a group {'params': model.fc.parameters(), 'lr': head_lr}.")
        if None in backbone_rates:
            missing = next(name for name, parameter in backbone if rates.get(id(parameter)) is None)
            return failed(EXERCISE_OPTIMIZER, f"some backbone parameters are missing from the optimizer, e.g. {missing}.",
                          tried=tried, expected=expected, got=got,
                          hint="take every parameter that is not the head's: model.named_parameters() minus 'fc.'.")
        if head_rates == {backbone_lr} and backbone_rates == {head_lr}:
            return failed(EXERCISE_OPTIMIZER, "the two learning rates are swapped.", tried=tried, expected=expected,
                          got=got, hint="the small rate is for the pretrained backbone, the larger one for the new head.")
        if head_rates == backbone_rates and len(head_rates) == 1:
            rate = next(iter(head_rates))
            which = ("the large one: the pretrained weights would move as fast as the random head, and could "
                     "'unlearn' their features" if rate == head_lr else "the small one: the new head would learn "
                     "slowly" if rate == backbone_lr else f"{rate:g}")
            return failed(EXERCISE_OPTIMIZER, f"one learning rate for everything ({which}).", tried=tried,
                          expected=expected, got=got,
                          hint="two parameter groups, each a dict with its own 'lr'.")
        if head_rates != {head_lr} or backbone_rates != {backbone_lr}:
            return failed(EXERCISE_OPTIMIZER, "wrong learning rates.", tried=tried, expected=expected, got=got,
                          hint="use the arguments backbone_lr and head_lr, not numbers typed in.")
    return passed(EXERCISE_OPTIMIZER, "two parameter groups: the pretrained backbone at the small rate, the new head "
                                      "at the larger one.")
