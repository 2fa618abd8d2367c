"""Augmentation of a whole batch at once, on the device the batch is on.

:mod:`workshop_utils.augmentation`'s presets transform one image at a time on the CPU, inside a
``DataLoader``: fine on a laptop, but on a GPU the training step waits for them. Here the same presets
are applied to an ``N x C x H x W`` batch in a few tensor operations on its own device: every geometric
preset (flips, rotation, shift, random resized crop) becomes one affine warp of the whole batch
(``affine_grid`` + ``grid_sample``), colour jitter a few multiplications, erasing one mask. Each image
still gets its own random draw.

Randomness comes from a private generator on the batch's device, seeded: the same seed on the same
device gives the same augmented batches, whatever else uses torch's global generator. The labels are
not touched (these presets keep a road sign's label, see ``augmentation.PRESETS``); sizes, dtype and
the [0, 1] range are kept.

    augment = BatchAugmentation(ROAD_SIGN_AUGMENTATION, seed=0)
    loader = TensorBatchLoader(images, labels, batch_size=64, shuffle=True, device=device, augment=augment)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from .augmentation import PRESETS, ROAD_SIGN_AUGMENTATION

#: Presets this module applies to batches; the others (hue shift, blur) stay per image.
BATCHED_PRESETS = ("horizontal flip", "vertical flip", "rotation", "shift", "random resized crop",
                   "colour jitter", "erasing")
_GREY = (0.299, 0.587, 0.114)  # ITU-R 601 luma, as torchvision's rgb_to_grayscale


class BatchAugmentation:
    """Apply augmentation presets to a batch of float images in [0, 1], on the batch's device.

    ``names`` are presets of :data:`workshop_utils.augmentation.PRESETS` (those in
    :data:`BATCHED_PRESETS`), ``strength`` scales them as there (0: the identity), ``seed`` makes the
    draws repeatable (None: drawn from torch's global generator's seed).
    """

    def __init__(self, names: Sequence[str] = ROAD_SIGN_AUGMENTATION, strength: float = 1.0,
                 seed: int | None = None) -> None:
        names = [names] if isinstance(names, str) else list(names)
        unknown = [name for name in names if name not in PRESETS]
        if unknown:
            raise ValueError(f"Unknown augmentation preset(s) {unknown}; the presets are {list(PRESETS)}.")
        per_image = [name for name in names if name not in BATCHED_PRESETS]
        if per_image:
            raise ValueError(f"{per_image} are applied per image only (workshop_utils.augmentation."
                             f"build_augmentation); on batches: {list(BATCHED_PRESETS)}.")
        if not (isinstance(strength, (int, float)) and strength >= 0):
            raise ValueError(f"strength must be 0 or more, got {strength!r}.")
        self.names = frozenset(names)
        self.strength = float(strength)
        self.seed = seed if seed is not None else int(torch.initial_seed() % (2**63))
        self._generators: dict[str, torch.Generator] = {}

    def __repr__(self) -> str:
        chosen = [name for name in BATCHED_PRESETS if name in self.names]
        return f"BatchAugmentation({chosen}, strength={self.strength:g}, seed={self.seed})"

    def _generator(self, device: torch.device) -> torch.Generator:
        key = str(device)
        if key not in self._generators:
            self._generators[key] = torch.Generator(device=device).manual_seed(self.seed)
        return self._generators[key]

    def _uniform(self, n: int, low: float, high: float, generator: torch.Generator, device) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, generator=generator, device=device)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        if not isinstance(images, torch.Tensor) or images.dim() != 4 or not images.is_floating_point():
            raise ValueError("BatchAugmentation needs a float N x C x H x W batch in [0, 1]; got "
                             f"{type(images).__name__} {tuple(getattr(images, 'shape', ()))} "
                             f"{getattr(images, 'dtype', '')}. Convert with images.float() / 255.")
        if self.strength == 0 or not self.names or len(images) == 0:
            return images
        generator = self._generator(images.device)
        out = self._geometry(images, generator)
        if "colour jitter" in self.names:
            out = self._colour_jitter(out, generator)
        if "erasing" in self.names:
            out = self._erasing(out, generator)
        return out

    # -- the presets -----------------------------------------------------------------------------------

    def _geometry(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Flips, rotation, shift and random resized crop as one affine warp per image."""
        geometric = self.names & {"horizontal flip", "vertical flip", "rotation", "shift", "random resized crop"}
        if not geometric:
            return images
        n, device, s = len(images), images.device, self.strength
        ones = torch.ones(n, device=device)
        flip_x = flip_y = ones
        if "horizontal flip" in geometric:
            flip_x = torch.where(torch.rand(n, generator=generator, device=device) < 0.5, -ones, ones)
        if "vertical flip" in geometric:
            flip_y = torch.where(torch.rand(n, generator=generator, device=device) < 0.5, -ones, ones)
        angle = torch.zeros(n, device=device)
        if "rotation" in geometric:
            angle = torch.deg2rad(self._uniform(n, -15.0 * s, 15.0 * s, generator, device))
        width = height = ones
        centre_x = centre_y = torch.zeros(n, device=device)
        if "random resized crop" in geometric:
            area = self._uniform(n, max(0.05, 1.0 - 0.25 * s), 1.0, generator, device)
            ratio = torch.exp(self._uniform(n, math.log(3 / 4), math.log(4 / 3), generator, device))
            width = torch.sqrt(area * ratio).clamp(max=1.0)  # fractions of the image's width and height
            height = torch.sqrt(area / ratio).clamp(max=1.0)
            centre_x = (1 - width) * self._uniform(n, -1.0, 1.0, generator, device)  # the crop stays inside
            centre_y = (1 - height) * self._uniform(n, -1.0, 1.0, generator, device)
        if "shift" in geometric:
            fraction = min(0.1 * s, 1.0)  # of the size; the image spans 2 in affine_grid's coordinates
            centre_x = centre_x + self._uniform(n, -2 * fraction, 2 * fraction, generator, device)
            centre_y = centre_y + self._uniform(n, -2 * fraction, 2 * fraction, generator, device)
        cos, sin = torch.cos(angle), torch.sin(angle)
        # Output pixel (x, y) reads input (cos*w*fx*x - sin*h*fy*y + cx, sin*w*fx*x + cos*h*fy*y + cy).
        theta = torch.stack([
            torch.stack([cos * width * flip_x, -sin * height * flip_y, centre_x], dim=1),
            torch.stack([sin * width * flip_x, cos * height * flip_y, centre_y], dim=1),
        ], dim=1).to(images.dtype)
        grid = F.affine_grid(theta, list(images.shape), align_corners=False)
        return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    def _colour_jitter(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Brightness, contrast and saturation, each by a factor in 1 ± 0.3 x strength per image."""
        n, device, spread = len(images), images.device, 0.3 * self.strength
        low, high = max(0.0, 1 - spread), 1 + spread
        shape = (n, 1, 1, 1)
        brightness = self._uniform(n, low, high, generator, device).view(shape).to(images.dtype)
        contrast = self._uniform(n, low, high, generator, device).view(shape).to(images.dtype)
        saturation = self._uniform(n, low, high, generator, device).view(shape).to(images.dtype)
        out = (images * brightness).clamp(0, 1)
        mean = _grey(out).mean(dim=(1, 2, 3), keepdim=True)  # contrast scales around the image's mean grey
        out = ((out - mean) * contrast + mean).clamp(0, 1)
        if out.shape[1] == 3:
            grey = _grey(out)
            out = ((out - grey) * saturation + grey).clamp(0, 1)
        return out

    def _erasing(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Half of the images get a grey (0.5) rectangle over 2% to 10% x strength of their area."""
        n, _, h, w = images.shape
        device = images.device
        area = self._uniform(n, 0.02, max(0.02, min(0.1 * self.strength, 0.9)), generator, device) * (h * w)
        ratio = torch.exp(self._uniform(n, math.log(0.3), math.log(3.3), generator, device))
        box_h = torch.sqrt(area * ratio).clamp(1, h).floor()
        box_w = torch.sqrt(area / ratio).clamp(1, w).floor()
        top = ((h - box_h + 1) * torch.rand(n, generator=generator, device=device)).floor()
        left = ((w - box_w + 1) * torch.rand(n, generator=generator, device=device)).floor()
        erase = torch.rand(n, generator=generator, device=device) < 0.5
        rows = torch.arange(h, device=device).view(1, h, 1)
        cols = torch.arange(w, device=device).view(1, 1, w)
        inside = ((rows >= top.view(n, 1, 1)) & (rows < (top + box_h).view(n, 1, 1))
                  & (cols >= left.view(n, 1, 1)) & (cols < (left + box_w).view(n, 1, 1)) & erase.view(n, 1, 1))
        return torch.where(inside.unsqueeze(1), torch.full_like(images, 0.5), images)


def _grey(images: torch.Tensor) -> torch.Tensor:
    """The luma of RGB images (N x 1 x H x W); grey images are their own."""
    if images.shape[1] != 3:
        return images.mean(dim=1, keepdim=True)
    weights = torch.tensor(_GREY, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    return (images * weights).sum(dim=1, keepdim=True)
