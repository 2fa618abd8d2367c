"""A real photo to filter, with no download: scikit-learn ships two JPEGs inside its package.

``china.jpg`` (a temple in China, 427 x 640) and ``flower.jpg`` (640 x 427) are under
``sklearn/datasets/images``; :func:`load_sample_photo` returns one as a float tensor in [0, 1],
grey or in colour, optionally resized.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

SAMPLE_PHOTOS = ("china.jpg", "flower.jpg")

# ITU-R 601 luma weights, what PIL's convert("L") uses: the eye is most sensitive to green.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def load_sample_photo(grey: bool = True, size: int | Sequence[int] | None = None,
                      name: str = "china.jpg") -> torch.Tensor:
    """One of scikit-learn's bundled photos as a float32 tensor in [0, 1], channels first.

    Returns 1 x H x W when ``grey`` (luma: 0.299 R + 0.587 G + 0.114 B), else 3 x H x W (RGB).
    ``size``: ``None`` keeps the original (427 x 640 for ``china.jpg``); an int makes the *shorter*
    side that long, keeping the aspect ratio; ``(height, width)`` resizes to exactly that.
    """
    from PIL import Image
    from sklearn.datasets import load_sample_image

    if name not in SAMPLE_PHOTOS:
        raise ValueError(f"name must be one of {SAMPLE_PHOTOS}, got {name!r}")
    pixels = load_sample_image(name)  # H x W x 3, uint8
    if size is not None:
        height, width = _target_size(pixels.shape[:2], size)
        pixels = np.asarray(Image.fromarray(pixels).resize((width, height), Image.Resampling.LANCZOS))
    photo = torch.from_numpy(np.array(pixels)).permute(2, 0, 1).float() / 255  # np.array: a writable copy
    if grey:
        photo = (torch.tensor(LUMA_WEIGHTS).reshape(3, 1, 1) * photo).sum(dim=0, keepdim=True)
    return photo.clamp(0, 1)


def _target_size(shape: Sequence[int], size: int | Sequence[int]) -> tuple[int, int]:
    """(height, width) for ``size``: an int for the shorter side (aspect kept), or an explicit pair."""
    height, width = int(shape[0]), int(shape[1])
    if isinstance(size, (int, np.integer)):
        if size < 1:
            raise ValueError(f"size must be positive, got {size}")
        scale = size / min(height, width)
        return max(1, round(height * scale)), max(1, round(width * scale))
    target = tuple(int(v) for v in size)
    if len(target) != 2 or min(target) < 1:
        raise ValueError(f"size must be an int or a (height, width) pair of positive ints, got {size!r}")
    return target[0], target[1]
