"""Named data-augmentation presets for image tensors, built from ``torchvision.transforms.v2``.

Every preset works on one float ``C x H x W`` image in [0, 1] (what
:class:`~workshop_utils.data.loaders.ImageTensorDataset` hands its transform) and keeps its size and
range. ``strength`` scales how far each one goes: 0 changes nothing, 1 is the default, 2 is a lot.

=====================  ======================================  =================================
preset                 what it does (strength 1)               keeps a road sign's label?
=====================  ======================================  =================================
horizontal flip        mirror left-right, half of the time     no: mirrors text and arrows
vertical flip          upside down, half of the time           no: signs are never upside down
rotation               rotate by up to ±15°                    yes
shift                  move by up to 10% of the size           yes
random resized crop    zoom into 75-100% of the area           yes, while the sign stays inside
colour jitter          brightness, contrast, saturation ±30%   yes
hue shift              rotate the colour wheel by up to ±0.1   no: colour is part of the meaning
blur                   Gaussian blur, sigma up to 1 pixel      yes
erasing                a grey rectangle over up to 10%         mostly (it can hide the sign)
=====================  ======================================  =================================

A horizontal flip keeps the class of the four workshop signs (a mirrored stop sign is still a stop
sign), but it writes "POTS" and mirrored digits that never occur on a road, and for signs whose
meaning has a direction (turn left / turn right, keep left / keep right) it turns one class into
another. :data:`ROAD_SIGN_AUGMENTATION` holds only presets that are safe for any road sign.

Augmentation is for the **training** images only: validation and test images show the model as it
will be used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
import torch
from torchvision.transforms import v2


class SameSizeResizedCrop:
    """A random resized crop back to the input's own size (``RandomResizedCrop`` needs the size up front).

    ``scale`` is the range of the cropped area as a fraction of the image, ``ratio`` that of its
    aspect ratio.
    """

    def __init__(self, scale: tuple[float, float], ratio: tuple[float, float] = (3 / 4, 4 / 3)) -> None:
        self.scale = scale
        self.ratio = ratio
        self._by_size: dict[tuple[int, int], v2.RandomResizedCrop] = {}

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        size = tuple(image.shape[-2:])
        if size not in self._by_size:
            self._by_size[size] = v2.RandomResizedCrop(size, scale=self.scale, ratio=self.ratio, antialias=True)
        return self._by_size[size](image)

    def __repr__(self) -> str:
        return f"SameSizeResizedCrop(scale={self.scale}, ratio=({self.ratio[0]:.3g}, {self.ratio[1]:.3g}))"


class NoAugmentation:
    """The identity, for an empty choice of presets (``v2.Compose`` refuses an empty list)."""

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        return image

    def __repr__(self) -> str:
        return "NoAugmentation()"


@dataclass(frozen=True)
class AugmentationPreset:
    """One named augmentation: ``make(strength)`` builds the transform; ``safe`` says whether it keeps
    the label of any road sign, ``note`` why or why not."""

    name: str
    what: str
    safe: bool
    note: str
    make: Callable[[float], Callable]


def _presets() -> dict[str, AugmentationPreset]:
    # The order is the order of application: geometry first, then colour, then erasing (which should
    # cover whatever the other transforms produced).
    presets = [
        AugmentationPreset("horizontal flip", "mirror left-right, half of the time", False,
                           "keeps these four classes, but mirrors text and digits; wrong for signs with a "
                           "direction (turn left / turn right)",
                           lambda s: v2.RandomHorizontalFlip(p=0.5 if s > 0 else 0.0)),
        AugmentationPreset("vertical flip", "turn upside down, half of the time", False,
                           "road signs are never upside down: the model learns pictures it will never see",
                           lambda s: v2.RandomVerticalFlip(p=0.5 if s > 0 else 0.0)),
        AugmentationPreset("rotation", "rotate by up to ±15° x strength", True,
                           "a camera is rarely level; the corners are filled with black",
                           lambda s: v2.RandomRotation(degrees=15.0 * s)),
        AugmentationPreset("shift", "move by up to 10% x strength of the size", True,
                           "a sign can be anywhere in the picture",
                           lambda s: v2.RandomAffine(degrees=0.0, translate=(min(0.1 * s, 1.0),) * 2)),
        AugmentationPreset("random resized crop", "zoom into 100% - 25% x strength of the area", True,
                           "signs come in all sizes; a strong crop can cut a small sign out of the picture",
                           lambda s: SameSizeResizedCrop(scale=(max(0.05, 1.0 - 0.25 * s), 1.0))),
        AugmentationPreset("colour jitter", "brightness, contrast and saturation ±30% x strength", True,
                           "sunlight, shade, dusk and cameras differ",
                           lambda s: v2.ColorJitter(brightness=0.3 * s, contrast=0.3 * s, saturation=0.3 * s)),
        AugmentationPreset("hue shift", "turn the colour wheel by up to ±0.1 x strength", False,
                           "colour is part of a sign's meaning: a red stop sign turns orange or green",
                           lambda s: v2.ColorJitter(hue=min(0.1 * s, 0.5))),
        AugmentationPreset("blur", "Gaussian blur, sigma up to 1 pixel x strength", True,
                           "out of focus or moving camera",
                           lambda s: v2.GaussianBlur(kernel_size=5, sigma=(0.01, max(0.01, 1.0 * s)))),
        AugmentationPreset("erasing", "a grey rectangle over up to 10% x strength of the image, half of the time",
                           True, "something in front of the sign; a big rectangle can hide it entirely",
                           lambda s: v2.RandomErasing(p=0.5 if s > 0 else 0.0,
                                                      scale=(0.02, max(0.02, min(0.1 * s, 0.9))), value=0.5)),
    ]
    return {preset.name: preset for preset in presets}


#: Every preset by name, in the order :func:`build_augmentation` applies them.
PRESETS: dict[str, AugmentationPreset] = _presets()

#: The presets notebook 05 trains with: each keeps the label of any road sign.
ROAD_SIGN_AUGMENTATION: tuple[str, ...] = ("rotation", "random resized crop", "colour jitter")


def _check_names(names: Sequence[str]) -> list[str]:
    if isinstance(names, str):
        names = [names]
    unknown = [name for name in names if name not in PRESETS]
    if unknown:
        raise ValueError(f"Unknown augmentation preset(s) {unknown}; the presets are {list(PRESETS)}.")
    return list(names)


def build_augmentation(names: Sequence[str] = ROAD_SIGN_AUGMENTATION, strength: float = 1.0) -> Callable:
    """One transform that applies the presets ``names`` (in :data:`PRESETS` order) to a float C x H x W image.

    ``strength`` (>= 0) scales every preset; 0 or no names give the identity. Pass the result as
    ``load_road_signs(train_transform=...)`` or set it as ``dataset.transform`` of the **training** set.
    Randomness comes from torch's global generator, so ``torch.manual_seed`` makes the draws repeatable.
    """
    chosen = set(_check_names(names))
    if not strength >= 0:
        raise ValueError(f"strength must be 0 or more, got {strength!r}.")
    transforms = [preset.make(float(strength)) for name, preset in PRESETS.items() if name in chosen]
    if not transforms or strength == 0:
        return NoAugmentation()
    return v2.Compose(transforms)


def augmented_copies(image: torch.Tensor, transform: Callable, n: int = 6, seed: int = 0) -> torch.Tensor:
    """``n`` random draws of ``transform`` on the same ``image``, as an ``n x C x H x W`` tensor.

    Seeded (the same ``seed`` gives the same draws) without disturbing torch's global random state.
    """
    if image.dim() != 3:
        raise ValueError(f"image must be one C x H x W tensor, got shape {tuple(image.shape)}.")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.stack([transform(image.clone()) for _ in range(n)])


def augmentation_table() -> pd.DataFrame:
    """The presets as a table: name, what it does, whether it keeps a road sign's label, and why."""
    return pd.DataFrame([{"preset": p.name, "what it does": p.what, "keeps the label": "yes" if p.safe else "no",
                          "why": p.note} for p in PRESETS.values()]).set_index("preset")
