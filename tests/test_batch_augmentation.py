"""Batched, on-device augmentation: repeatable, label- and range-preserving, the road-sign rules kept."""

from __future__ import annotations

import pytest
import torch

from workshop_utils.augmentation import PRESETS, ROAD_SIGN_AUGMENTATION
from workshop_utils.batch_augmentation import BATCHED_PRESETS, BatchAugmentation
from workshop_utils.data import TensorBatchLoader


def batch(n: int = 16, channels: int = 3, size: int = 32, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, channels, size, size, generator=torch.Generator().manual_seed(seed))


def test_the_same_seed_gives_the_same_batches_whatever_the_global_generator_does():
    images = batch()
    first, second = BatchAugmentation(seed=3), BatchAugmentation(seed=3)
    torch.manual_seed(0)
    a = [first(images) for _ in range(3)]
    torch.manual_seed(99)
    torch.rand(1000)
    b = [second(images) for _ in range(3)]
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a[0], a[1])  # successive batches get new draws
    assert not torch.equal(a[0], BatchAugmentation(seed=4)(images))


@pytest.mark.parametrize("names", [[name] for name in BATCHED_PRESETS] + [list(BATCHED_PRESETS)])
@pytest.mark.parametrize("channels", [1, 3])
def test_size_dtype_device_and_range_are_kept(names, channels):
    images = batch(channels=channels)
    out = BatchAugmentation(names, strength=2.0, seed=0)(images)
    assert out.shape == images.shape and out.dtype == images.dtype and out.device == images.device
    assert out.min() >= 0 and out.max() <= 1
    assert not torch.equal(out, images)  # it did something
    assert torch.equal(images, batch(channels=channels))  # the input is untouched


def test_each_image_gets_its_own_draw():
    same = batch(n=1).expand(8, -1, -1, -1).contiguous()
    out = BatchAugmentation(["rotation", "colour jitter"], seed=0)(same)
    assert len({out[i].sum().item() for i in range(8)}) == 8


def test_strength_zero_is_the_identity():
    images = batch()
    assert torch.equal(BatchAugmentation(strength=0)(images), images)


def test_the_road_sign_presets_never_flip():
    """A flip mirrors text and turns 'keep left' into 'keep right': the road-sign choice must not flip."""
    assert not {"horizontal flip", "vertical flip", "hue shift"} & set(ROAD_SIGN_AUGMENTATION)
    assert all(PRESETS[name].safe for name in ROAD_SIGN_AUGMENTATION)
    # An asymmetric image (bright left half): with rotation <= 15° and a crop, the left stays brighter.
    images = torch.zeros(64, 3, 32, 32)
    images[..., :16] = 1.0
    out = BatchAugmentation(ROAD_SIGN_AUGMENTATION, seed=0)(images)
    assert (out[..., :8].mean(dim=(1, 2, 3)) > out[..., -8:].mean(dim=(1, 2, 3))).all()
    flipped = BatchAugmentation(["horizontal flip"], seed=0)(images)
    mirrored = (flipped[..., :8].mean(dim=(1, 2, 3)) < flipped[..., -8:].mean(dim=(1, 2, 3)))
    assert 10 < mirrored.sum() < 54  # about half of them


def test_a_horizontal_flip_is_an_exact_mirror():
    images = batch(n=64)
    out = BatchAugmentation(["horizontal flip"], seed=1)(images)
    for image, result in zip(images, out):
        assert torch.allclose(result, image, atol=1e-5) or torch.allclose(result, image.flip(-1), atol=1e-5)


def test_per_image_presets_and_bad_input_are_explained():
    with pytest.raises(ValueError, match="per image only"):
        BatchAugmentation(["blur"])
    with pytest.raises(ValueError, match="Unknown augmentation"):
        BatchAugmentation(["mixup"])
    with pytest.raises(ValueError, match=r"float N x C x H x W.*255"):
        BatchAugmentation(seed=0)(torch.zeros(2, 3, 8, 8, dtype=torch.uint8))


def test_the_loader_augments_training_batches_and_keeps_labels_and_stored_images():
    images, labels = batch(n=20), torch.arange(20)
    loader = TensorBatchLoader(images, labels, batch_size=8, shuffle=True, seed=0,
                               augment=BatchAugmentation(seed=0))
    seen = []
    for x, y in loader:
        assert not torch.equal(x, images[y])  # augmented...
        assert x.shape == images[y].shape
        seen.extend(y.tolist())
    assert sorted(seen) == list(range(20))  # ...with every label where it was
    assert torch.equal(loader.tensors[0], images)

    def in_place(x):
        return x.mul_(0)

    plain = TensorBatchLoader(images, labels, batch_size=8, augment=in_place)
    list(plain)
    assert torch.equal(plain.tensors[0], images)  # an in-place augmentation gets a copy of the slice


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU: checks the batch stays on it")
def test_on_a_gpu_the_batch_is_augmented_where_it_is():
    images = batch().cuda()
    out = BatchAugmentation(seed=0)(images)
    assert out.device == images.device
    assert torch.equal(out, BatchAugmentation(seed=0)(images))
