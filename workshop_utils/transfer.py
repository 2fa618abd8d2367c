"""Transfer learning with torchvision backbones (notebook 06): weights, heads, freezing, cached features.

A *backbone* is a network trained on a large source task (ImageNet-1k for torchvision's weights); its
*head* is the last layer, the one that turns features into the source task's class scores. Transfer
learning keeps the backbone and gives it a new head for the target task. This module holds the small
steps, each a plain function:

- :data:`BACKBONES`: ResNet-18 and MobileNetV3-small, with their torchvision builder, weights enum and
  where their head sits (``fc`` and ``classifier.3``);
- :func:`imagenet_normalization`: the mean and standard deviation the weights expect, read from the
  weights' own ``transforms()`` (no download needed);
- :func:`load_imagenet_weights`: the ImageNet state dict through the data layer's verified cache, which
  is torchvision's own (``$TORCH_HOME/hub/checkpoints``), or the reason it is unavailable;
- :func:`standin_pretrained_weights`: when it is, a backbone pretrained here on a larger stand-in source
  task (GTSRB crops), cached atomically so that a re-run loads it in a second;
- :func:`pretrained_weights`: one of the two, announced (an error with ``WORKSHOP_REAL_DATA_ONLY=1``);
- :func:`build_backbone`, :func:`get_head`, :func:`replace_head`: a model with a new head;
- :func:`freeze`, :func:`unfreeze`, :func:`freeze_backbone`, :func:`head_parameters`,
  :func:`fine_tuning_optimizer`: what learns, and how fast;
- :func:`extract_features`: the frozen backbone's features, computed once (then a linear head trains
  on them in seconds);
- :func:`small_training_subset`: a small, stratified target training set;
- :func:`snapshot_state`, :func:`what_changed`: which tensors a training run changed;
- :func:`time_inference`, :func:`memory_kept_for_backward`: a forward pass with and without gradient tracking.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import config

#: What the notebook says to do when the ImageNet weights are not in the cache.
WEIGHTS_WHAT_TO_DO = (
    "on a machine with internet run `python data_download.py download resnet18 mobilenet_v3_small` (or unset "
    "WORKSHOP_OFFLINE and re-run this cell); in a classroom set WORKSHOP_MIRROR to the room mirror; or copy "
    "torchvision's files (resnet18-f37072fd.pth, mobilenet_v3_small-047dcff4.pth) into $TORCH_HOME/hub/checkpoints "
    "(by default ~/.cache/torch/hub/checkpoints)."
)

#: Bump when the stand-in pretraining recipe changes, so that old cached backbones are not reused.
STANDIN_RECIPE_VERSION = 3
#: The cache folder (under ``config.data_dir()``) of the backbones pretrained on the stand-in source task.
STANDIN_CACHE_FOLDER = "pretrained-standins"


# --------------------------------------------------------------------------------------------------
# The backbones
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BackboneSpec:
    """How to build one torchvision backbone and find its head.

    ``builder`` and ``weights_enum`` are the names of torchvision's builder function and weights enum in
    ``torchvision.models`` (looked up when used, so importing this module does not import torchvision);
    ``head`` is the dotted path of the last layer (``"fc"``, ``"classifier.3"``).
    """

    name: str
    builder: str
    weights_enum: str
    head: str
    title: str

    def build(self, num_classes: int = 1000) -> nn.Module:
        """The network with random weights and a ``num_classes`` head (torchvision's defaults otherwise)."""
        import torchvision.models

        return getattr(torchvision.models, self.builder)(weights=None, num_classes=num_classes)

    @property
    def weights(self):
        """torchvision's ImageNet weights entry (``IMAGENET1K_V1``): its ``url``, ``meta`` and ``transforms()``."""
        import torchvision.models

        return getattr(torchvision.models, self.weights_enum).IMAGENET1K_V1


BACKBONES: dict[str, BackboneSpec] = {
    "resnet18": BackboneSpec("resnet18", "resnet18", "ResNet18_Weights", "fc", "ResNet-18"),
    "mobilenet_v3_small": BackboneSpec("mobilenet_v3_small", "mobilenet_v3_small", "MobileNet_V3_Small_Weights",
                                       "classifier.3", "MobileNetV3-small"),
}


def backbone_spec(name: str) -> BackboneSpec:
    """The :class:`BackboneSpec` called ``name``; ValueError listing the known ones otherwise."""
    try:
        return BACKBONES[name]
    except KeyError:
        raise ValueError(f"unknown backbone {name!r}; known: {', '.join(BACKBONES)}") from None


def imagenet_normalization(name: str) -> tuple[list[float], list[float]]:
    """``(mean, std)`` per colour channel that backbone ``name``'s ImageNet weights expect.

    Read from the weights' own preprocessing (``weights.transforms()``), not typed in: for torchvision's
    ImageNet weights, mean [0.485, 0.456, 0.406] and std [0.229, 0.224, 0.225] of RGB values in [0, 1].
    Needs no download.
    """
    preprocessing = backbone_spec(name).weights.transforms()
    return [float(value) for value in preprocessing.mean], [float(value) for value in preprocessing.std]


def normalize_images(images: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """``(images - mean) / std`` per channel for a float ``N x C x H x W`` batch in [0, 1] (a new tensor)."""
    if images.dim() != 4 or not images.is_floating_point():
        raise ValueError(f"images must be a float N x C x H x W batch in [0, 1], got {images.dtype} "
                         f"{tuple(images.shape)}.")
    shape = (1, -1, 1, 1)
    mean_t = torch.as_tensor(mean, dtype=images.dtype, device=images.device).view(shape)
    std_t = torch.as_tensor(std, dtype=images.dtype, device=images.device).view(shape)
    return (images - mean_t) / std_t


# --------------------------------------------------------------------------------------------------
# Heads
# --------------------------------------------------------------------------------------------------

def _parent_and_attribute(model: nn.Module, path: str) -> tuple[nn.Module, str]:
    parent_path, _, attribute = path.rpartition(".")
    return (model.get_submodule(parent_path) if parent_path else model), attribute


def get_head(model: nn.Module, name: str) -> nn.Module:
    """The last layer of backbone ``name`` (``model.fc`` for ResNet-18, ``model.classifier[3]`` for MobileNetV3)."""
    return model.get_submodule(backbone_spec(name).head)


def replace_head(model: nn.Module, name: str, head: nn.Module) -> nn.Module:
    """Put ``head`` where backbone ``name``'s last layer is, in place; returns the old head."""
    parent, attribute = _parent_and_attribute(model, backbone_spec(name).head)
    old = getattr(parent, attribute)
    setattr(parent, attribute, head)
    return old


def new_head(model: nn.Module, name: str, num_classes: int) -> nn.Linear:
    """A fresh ``nn.Linear`` from the head's input features to ``num_classes`` scores (not yet in the model)."""
    return nn.Linear(get_head(model, name).in_features, num_classes)


def head_prefix(name: str) -> str:
    """The ``state_dict`` key prefix of the head's tensors: ``"fc."``, ``"classifier.3."``."""
    return backbone_spec(name).head + "."


@contextlib.contextmanager
def head_removed(model: nn.Module, name: str) -> Iterator[nn.Module]:
    """Inside the block, the model ends with ``nn.Identity()`` instead of its head: it returns features."""
    head = replace_head(model, name, nn.Identity())
    try:
        yield model
    finally:
        replace_head(model, name, head)


def load_backbone_state(model: nn.Module, state: dict[str, torch.Tensor], name: str) -> None:
    """Load every tensor of ``state`` except the head's into ``model`` (the head belongs to the source task).

    ValueError when anything other than the head is missing, unexpected or of another shape: the
    weights were saved from another architecture.
    """
    prefix = head_prefix(name)
    body = {key: value for key, value in state.items() if not key.startswith(prefix)}
    own = {key: value for key, value in model.state_dict().items() if not key.startswith(prefix)}
    from .checkpoints import state_dict_mismatch

    problems = state_dict_mismatch(body, own)
    if problems:
        raise ValueError(f"these weights do not fit a {backbone_spec(name).title} backbone: " + "; ".join(problems))
    model.load_state_dict(body, strict=False)


def build_backbone(name: str, num_classes: int, weights_state: dict[str, torch.Tensor] | None = None) -> nn.Module:
    """Backbone ``name`` with a new, randomly initialized ``num_classes`` head.

    With ``weights_state`` (ImageNet's state dict, or a stand-in's) the rest of the network starts from
    those weights; without, from random ones (training "from scratch"). Seed first for repeatable heads.
    """
    spec = backbone_spec(name)
    model = spec.build()
    if weights_state is not None:
        load_backbone_state(model, weights_state, name)
    replace_head(model, name, new_head(model, name, num_classes))
    return model


# --------------------------------------------------------------------------------------------------
# Freezing and optimizers
# --------------------------------------------------------------------------------------------------

def freeze(module: nn.Module) -> nn.Module:
    """``requires_grad = False`` for every parameter of ``module``: autograd computes no gradient for them,
    so no optimizer changes them. (Batch norm's running statistics are buffers, not parameters: see
    :func:`what_changed`.) Returns ``module``."""
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return module


def unfreeze(module: nn.Module) -> nn.Module:
    """``requires_grad = True`` for every parameter of ``module``; returns it."""
    for parameter in module.parameters():
        parameter.requires_grad_(True)
    return module


def freeze_backbone(model: nn.Module, name: str) -> nn.Module:
    """Freeze everything but the head (a fixed feature extractor); returns ``model``."""
    freeze(model)
    unfreeze(get_head(model, name))
    return model


def head_parameters(model: nn.Module, name: str) -> list[nn.Parameter]:
    """The head's parameters (weight and bias of the last layer)."""
    return list(get_head(model, name).parameters())


def backbone_parameters(model: nn.Module, name: str) -> list[nn.Parameter]:
    """Every parameter that is not the head's."""
    in_head = {id(parameter) for parameter in head_parameters(model, name)}
    return [parameter for parameter in model.parameters() if id(parameter) not in in_head]


def fine_tuning_optimizer(model: nn.Module, name: str, backbone_lr: float, head_lr: float,
                          **adam_options: Any) -> torch.optim.Adam:
    """Adam with two parameter groups: the pretrained backbone at a small ``backbone_lr`` (so that it does not
    "unlearn" its features), the new head at a larger ``head_lr`` (it starts from random weights)."""
    return torch.optim.Adam([{"params": backbone_parameters(model, name), "lr": backbone_lr},
                             {"params": head_parameters(model, name), "lr": head_lr}], **adam_options)


# --------------------------------------------------------------------------------------------------
# Features, states, timing
# --------------------------------------------------------------------------------------------------

def extract_features(model: nn.Module, name: str, images: torch.Tensor, *, batch_size: int = 256,
                     device: torch.device | str | None = None) -> torch.Tensor:
    """The backbone's features for ``images`` (already normalized): what goes into the head, ``N x D``, on the CPU.

    Runs once in evaluation mode (batch norm uses its stored statistics, dropout is off) under
    ``torch.no_grad()``: a frozen backbone gives the same features every epoch, so they can be computed once
    and a head trained on them many times over. The model is left in evaluation mode, head in place.
    """
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device).eval()
    chunks = []
    with head_removed(model, name), torch.no_grad():
        for start in range(0, len(images), batch_size):
            chunks.append(model(images[start:start + batch_size].to(device)).float().cpu())
    return torch.cat(chunks)


def small_training_subset(labels: torch.Tensor, size: int, seed: int = 0) -> torch.Tensor:
    """Sorted indices of ``size`` examples drawn with the class proportions of ``labels`` (stratified, seeded)."""
    if size >= len(labels):
        return torch.arange(len(labels))
    from sklearn.model_selection import train_test_split  # imported when needed: sklearn is slow to import

    chosen, _ = train_test_split(range(len(labels)), train_size=size, stratify=labels.numpy(), random_state=seed)
    return torch.as_tensor(sorted(chosen))


def snapshot_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """A CPU copy of every tensor of ``model.state_dict()`` (parameters and buffers), to compare later."""
    return {key: value.detach().to("cpu", copy=True) for key, value in model.state_dict().items()}


@dataclass
class StateChanges:
    """Names of the ``state_dict`` tensors that differ between two snapshots, sorted into three kinds."""

    head: list[str] = field(default_factory=list)
    backbone_parameters: list[str] = field(default_factory=list)
    backbone_buffers: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def what_changed(before: dict[str, torch.Tensor], model: nn.Module, name: str) -> StateChanges:
    """Which tensors of ``model`` differ from the snapshot ``before`` (see :func:`snapshot_state`).

    ``backbone_buffers`` are batch norm's running means, variances and batch counters: they change in
    training mode, whether or not the parameters are frozen.
    """
    after = snapshot_state(model)
    parameters = {key for key, _ in model.named_parameters()}
    prefix = head_prefix(name)
    changes = StateChanges()
    for key, value in after.items():
        if torch.equal(value, before[key]):
            changes.unchanged.append(key)
        elif key.startswith(prefix):
            changes.head.append(key)
        elif key in parameters:
            changes.backbone_parameters.append(key)
        else:
            changes.backbone_buffers.append(key)
    return changes


def memory_kept_for_backward(model: nn.Module, images: torch.Tensor, *, grad_enabled: bool) -> int:
    """Bytes of intermediate results one forward pass keeps for a backward pass (0 under ``torch.no_grad()``).

    Counted with ``torch.autograd.graph.saved_tensors_hooks``: every tensor autograd saves for the gradient
    computation passes through the hook. (Tensors saved twice are counted twice: an upper bound.)
    """
    saved = 0

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        nonlocal saved
        saved += tensor.numel() * tensor.element_size()
        return tensor

    model.eval()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor), torch.set_grad_enabled(grad_enabled):
        model(images)
    return saved


def time_inference(model: nn.Module, images: torch.Tensor, *, grad_enabled: bool, repeat: int = 5,
                   warmup: int = 1, device: torch.device | str | None = None) -> float:
    """Median seconds of one forward pass of ``images`` in evaluation mode, with or without gradient tracking.

    ``grad_enabled=False`` is ``torch.no_grad()``: no graph is recorded for a backward pass, which saves the
    memory of the intermediate results and some time.
    """
    from .timing import time_call

    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device).eval()
    images = images.to(device)

    def forward():
        with torch.set_grad_enabled(grad_enabled):
            return model(images)

    return time_call(forward, repeat=repeat, warmup=warmup, device=device)


# --------------------------------------------------------------------------------------------------
# The stand-in source task's augmentation
# --------------------------------------------------------------------------------------------------

#: Smallest zoom factor of :func:`zoom_out` in the stand-in pretraining (1 = no zoom).
ZOOM_MIN_SCALE = 0.25


def zoom_out(images: torch.Tensor, min_scale: float, generator: torch.Generator) -> torch.Tensor:
    """Each image shrunk by a random factor in [``min_scale``, 1] and pasted at a random place on a background.

    The background of image ``i`` is another image of the batch, magnified twice (its top-left quarter):
    scenery, sometimes with part of another sign, as in a road-sign photo. Turns GTSRB's tight crops into
    small signs in a scene, which is what the road-sign photos show. Returns a new batch.
    """
    count, _, height, width = images.shape
    order = torch.randperm(count, generator=generator).to(images.device)
    canvas = nn.functional.interpolate(images[order], scale_factor=2, mode="bilinear")[:, :, :height, :width]
    scales = min_scale + (1 - min_scale) * torch.rand(count, generator=generator)
    for index in range(count):
        size = max(1, round(height * scales[index].item())), max(1, round(width * scales[index].item()))
        small = nn.functional.interpolate(images[index:index + 1], size=size, mode="bilinear", antialias=True)
        top = int(torch.randint(0, height - size[0] + 1, (1,), generator=generator))
        left = int(torch.randint(0, width - size[1] + 1, (1,), generator=generator))
        canvas[index, :, top:top + size[0], left:left + size[1]] = small[0]
    return canvas


class ZoomOutBatches:
    """The batches of ``loader`` with :func:`zoom_out` applied to the inputs (a new draw every epoch)."""

    def __init__(self, loader, *, min_scale: float, seed: int) -> None:
        self.loader, self.min_scale = loader, min_scale
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        for inputs, labels in self.loader:
            yield zoom_out(inputs, self.min_scale, self.generator), labels


# --------------------------------------------------------------------------------------------------
# Pretrained weights: ImageNet through the cache, or a stand-in pretrained here
# --------------------------------------------------------------------------------------------------

@dataclass
class PretrainedWeights:
    """A backbone's pretrained weights and where they come from.

    ``state`` is a state dict (with the source task's head, which :func:`build_backbone` drops), or None
    when ImageNet's weights are unavailable (``reason`` says why). ``source`` describes them in a sentence;
    ``is_standin`` is True for the stand-in pretraining; ``path`` is the file they were read from.
    """

    name: str
    state: dict[str, torch.Tensor] | None
    source: str
    is_standin: bool = False
    path: Path | None = None
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def available(self) -> bool:
        return self.state is not None


def imagenet_weights_file(name: str) -> Path:
    """Where torchvision (and the data layer) keep backbone ``name``'s ImageNet weights, present or not."""
    from .data.download import cached_path
    from .data.manifest import get_dataset_info

    return cached_path(name, get_dataset_info(name).files[0].name)


def load_imagenet_weights(name: str, *, progress: bool = False) -> PretrainedWeights:
    """ImageNet weights of backbone ``name``, through :func:`workshop_utils.data.download.fetch_weights`.

    That is the verified cache in torchvision's own layout (``$TORCH_HOME/hub/checkpoints/<torchvision's
    file name>``): a file placed there loads with no network, and ``torchvision.models.resnet18(
    weights="IMAGENET1K_V1")`` finds it too. Downloads unless ``WORKSHOP_OFFLINE=1`` (room mirror first).
    Never raises for a missing file: the result's ``state`` is None and ``reason`` says why.
    """
    from .data.download import DataUnavailable, fetch_weights

    spec = backbone_spec(name)
    try:
        path = fetch_weights(name, progress=progress)
    except DataUnavailable as error:
        first = next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)
        return PretrainedWeights(name, None, f"{spec.title}: ImageNet weights unavailable", reason=first,
                                 path=imagenet_weights_file(name))
    state = torch.load(path, map_location="cpu", weights_only=True)  # verified file; weights_only runs no code
    return PretrainedWeights(name, state, f"ImageNet-1k (torchvision {spec.weights_enum}.IMAGENET1K_V1)",
                             path=path)


def announce_missing_weights(name: str, reason: str) -> str:
    """Print and return the loud banner: ImageNet weights unavailable, a stand-in pretraining replaces them."""
    from .data.banner import boxed_banner  # the same box as the data stand-ins, worded for weights

    title = backbone_spec(name).title
    text = boxed_banner(
        f"STAND-IN WEIGHTS: no ImageNet weights for {title}",
        [
            f"Why: {reason}",
            f"Instead, {title} is pretrained right here on a larger stand-in source task (4-class sign crops "
            "from GTSRB, or its synthetic stand-in). Transfer from it works like transfer from ImageNet, but its "
            "features are narrower and its numbers are not ImageNet's.",
            f"To use the ImageNet weights: {WEIGHTS_WHAT_TO_DO}",
        ],
        edge="#",
    )
    print(text, flush=True)
    return text


def standin_checkpoint_path(name: str, image_size: int, epochs: int, seed: int, *, smoke: bool,
                            real_source: bool, zoom_min_scale: float = ZOOM_MIN_SCALE) -> Path:
    """The cache file of a stand-in pretraining: one per backbone, source data, size, epochs, zoom, seed and mode."""
    from .data.download import dataset_dir

    source = "gtsrb" if real_source else "gtsrb-standin"
    mode = "-smoke" if smoke else ""
    return dataset_dir(STANDIN_CACHE_FOLDER) / (f"{name}-{source}-{image_size}px-{epochs}ep-zoom{zoom_min_scale:g}"
                                                f"-seed{seed}{mode}-v{STANDIN_RECIPE_VERSION}.pt")


def _real_gtsrb_cached() -> bool:
    from .data.download import cache_status

    return cache_status("gtsrb", verify=False).ok


def standin_pretrained_weights(name: str, *, image_size: int = 32, epochs: int = 6, seed: int = 0,
                               batch_size: int = 64, lr: float = 1e-3, zoom_min_scale: float = ZOOM_MIN_SCALE,
                               device: torch.device | str | None = None, progress: bool = True) -> PretrainedWeights:
    """Backbone ``name`` pretrained here on the 4 sign classes of GTSRB (``load_gtsrb_subset``), cached.

    The source task: thousands of tight sign crops (the real GTSRB when it is cached, else its stand-in),
    at ``image_size`` pixels, normalized like ImageNet so that the rest of the notebook is the same either
    way. Each training batch is zoomed out (:func:`zoom_out`): in the road-sign photos the signs are small
    parts of a scene, while GTSRB's crops are filled by their sign. The weights are saved atomically (``save_checkpoint``) under ``data_dir()/pretrained-standins``, keyed
    by backbone, source, size, epochs, seed and smoke mode: a second run loads them instead of training,
    and a crash mid-save leaves no half-written file. ``details`` has the source's validation accuracy,
    the training seconds and whether the file was cached.
    """
    from .checkpoints import CheckpointError, load_checkpoint, save_checkpoint

    spec = backbone_spec(name)
    smoke = config.smoke_mode()
    path = standin_checkpoint_path(name, image_size, epochs, seed, smoke=smoke, real_source=_real_gtsrb_cached(),
                                   zoom_min_scale=zoom_min_scale)
    model = spec.build(num_classes=4)
    if path.is_file():
        try:
            extra = load_checkpoint(path, model)
        except CheckpointError as error:
            print(f"the cached stand-in backbone cannot be used ({error}); training it again")
        else:
            print(f"{spec.title}: stand-in pretraining loaded from the cache ({path})")
            return PretrainedWeights(name, model.state_dict(), extra["description"], is_standin=True, path=path,
                                     details={**extra, "cached": True})
    return _pretrain_on_gtsrb(name, path, image_size=image_size, epochs=epochs, seed=seed, batch_size=batch_size,
                              lr=lr, zoom_min_scale=zoom_min_scale, device=device, progress=progress,
                              save=save_checkpoint)


def _pretrain_on_gtsrb(name: str, path: Path, *, image_size: int, epochs: int, seed: int, batch_size: int,
                       lr: float, zoom_min_scale: float, device, progress: bool, save: Callable) -> PretrainedWeights:
    from .data import TensorBatchLoader, load_gtsrb_subset
    from .device import pick_device
    from .evaluation import macro_f1, predict
    from .seeding import seed_everything
    from .training import fit

    source = load_gtsrb_subset(image_size=image_size, seed=seed, progress=progress)
    mean, std = imagenet_normalization(name)
    device = torch.device(device) if device is not None else pick_device().device
    train_images, train_labels = source.train.tensors
    val_images, val_labels = source.val.tensors
    train_inputs, val_inputs = normalize_images(train_images, mean, std), normalize_images(val_images, mean, std)
    seed_everything(seed)
    model = backbone_spec(name).build(num_classes=len(source.classes))  # after seeding: repeatable weights
    batches = TensorBatchLoader(train_inputs, train_labels, batch_size=batch_size, shuffle=True, seed=seed,
                                device=device)
    result = fit(model, ZoomOutBatches(batches, min_scale=zoom_min_scale, seed=seed),
                 TensorBatchLoader(val_inputs, val_labels, batch_size=512, device=device), epochs=epochs, lr=lr,
                 restore_best=False, live_plot=False, progress=progress, device=device, seed=seed,
                 title=f"pretraining {backbone_spec(name).title} on the source task")
    validation = predict(model, (val_inputs, val_labels))
    description = (f"stand-in: {backbone_spec(name).title} pretrained here on GTSRB's 4 sign classes "
                   f"({source.source}, {len(train_labels):,} crops of {image_size} px zoomed out, {epochs} epochs)")
    details = {"description": description, "source": source.source, "source_images": len(train_labels),
               "image_size": image_size, "epochs": epochs, "zoom_min_scale": zoom_min_scale, "seed": seed,
               "seconds": float(result.seconds),
               "source_val_acc": float(validation.accuracy),
               "source_val_macro_f1": float(macro_f1(val_labels, validation.predicted, len(source.classes)))}
    model.cpu()
    save(path, model, **details)
    return PretrainedWeights(name, {key: value.detach().clone() for key, value in model.state_dict().items()},
                             description, is_standin=True, path=path, details={**details, "cached": False})


def pretrained_weights(name: str, *, standin_image_size: int = 32, standin_epochs: int = 6, seed: int = 0,
                       device: torch.device | str | None = None, progress: bool = True) -> PretrainedWeights:
    """ImageNet weights for backbone ``name`` when they can be had, else a stand-in pretraining, announced.

    With ``WORKSHOP_REAL_DATA_ONLY=1`` and no ImageNet weights: DataUnavailable saying what to do (no
    silent fallback).
    """
    from .data.download import DataUnavailable

    imagenet = load_imagenet_weights(name, progress=progress)
    if imagenet.available:
        print(f"{backbone_spec(name).title}: {imagenet.source} weights from {imagenet.path}")
        return imagenet
    if config.real_data_only():
        raise DataUnavailable(f"The ImageNet weights of {backbone_spec(name).title} are not available "
                              f"({imagenet.reason}), and WORKSHOP_REAL_DATA_ONLY=1 forbids the stand-in.\n"
                              f"What to do: {WEIGHTS_WHAT_TO_DO}\nOr unset WORKSHOP_REAL_DATA_ONLY to continue "
                              "with a backbone pretrained here on a stand-in source task.")
    announce_missing_weights(name, imagenet.reason)
    return standin_pretrained_weights(name, image_size=standin_image_size, epochs=standin_epochs, seed=seed,
                                      device=device, progress=progress)
