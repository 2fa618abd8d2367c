"""Augmentation presets: every one keeps size and range, strength 0 is the identity, draws are repeatable."""

import pytest
import torch

from workshop_utils.augmentation import (PRESETS, ROAD_SIGN_AUGMENTATION, NoAugmentation, SameSizeResizedCrop,
                                         augmentation_table, augmented_copies, build_augmentation)
from workshop_utils.data.loaders import ImageTensorDataset


def picture(size: int = 24) -> torch.Tensor:
    """A float 3 x size x size image in [0, 1] with structure (a bright square on a gradient)."""
    image = torch.linspace(0, 1, size).repeat(3, size, 1)
    image[0, size // 4: size // 2, size // 4: size // 2] = 1.0
    return image


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_keeps_shape_dtype_and_range(name):
    torch.manual_seed(0)
    for size in (16, 24):
        image = picture(size)
        out = build_augmentation([name], strength=2.0)(image.clone())
        assert out.shape == image.shape and out.dtype == torch.float32
        assert out.min() >= -1e-6 and out.max() <= 1 + 1e-6


def test_presets_change_the_image_and_strength_zero_does_not():
    image = picture()
    for name in PRESETS:
        draws = augmented_copies(image, build_augmentation([name]), n=8, seed=1)
        assert any(not torch.allclose(draw, image, atol=1e-4) for draw in draws), name
        assert isinstance(build_augmentation([name], strength=0), NoAugmentation)
    assert torch.equal(build_augmentation([])(image), image)


def test_flips_mirror_exactly():
    image = picture()
    draws = augmented_copies(image, build_augmentation(["horizontal flip"]), n=20, seed=0)
    for draw in draws:
        assert torch.equal(draw, image) or torch.equal(draw, image.flip(-1))
    assert any(torch.equal(draw, image.flip(-1)) for draw in draws)


def test_stronger_means_bigger_changes():
    image = picture(32)
    change = {s: (augmented_copies(image, build_augmentation(["rotation"], strength=s), n=16, seed=0) - image)
              .abs().mean().item() for s in (0.3, 2.0)}
    assert change[2.0] > change[0.3]


def test_draws_are_repeatable_and_leave_the_global_generator_alone():
    image = picture()
    transform = build_augmentation(ROAD_SIGN_AUGMENTATION)
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    first = augmented_copies(image, transform, n=4, seed=7)
    assert torch.equal(torch.rand(3), expected_next)  # fork_rng: the caller's random stream is untouched
    assert torch.equal(first, augmented_copies(image, transform, n=4, seed=7))
    assert not torch.equal(first, augmented_copies(image, transform, n=4, seed=8))
    assert not torch.equal(first[0], first[1])  # different draws of one image


def test_same_size_crop_follows_the_input_size():
    crop = SameSizeResizedCrop(scale=(0.5, 1.0))
    assert crop(torch.rand(3, 20, 20)).shape == (3, 20, 20)
    assert crop(torch.rand(3, 12, 16)).shape == (3, 12, 16)
    assert "0.5" in repr(crop)


def test_bad_names_and_strengths_are_refused():
    with pytest.raises(ValueError, match="Unknown augmentation preset"):
        build_augmentation(["mirror"])
    with pytest.raises(ValueError, match="strength"):
        build_augmentation(["rotation"], strength=-1)
    assert isinstance(build_augmentation("rotation"), torch.nn.Module)  # one name as a string works too


def test_the_default_set_is_safe_and_the_table_says_why():
    assert all(PRESETS[name].safe for name in ROAD_SIGN_AUGMENTATION)
    assert not PRESETS["horizontal flip"].safe and not PRESETS["vertical flip"].safe
    assert not PRESETS["hue shift"].safe
    table = augmentation_table()
    assert list(table.index) == list(PRESETS)
    assert table.loc["horizontal flip", "keeps the label"] == "no"
    assert "direction" in table.loc["horizontal flip", "why"]


def test_the_dataset_applies_the_augmentation_to_its_items():
    images = (picture(16) * 255).to(torch.uint8).repeat(4, 1, 1, 1)
    train = ImageTensorDataset(images, torch.zeros(4, dtype=torch.long),
                               transform=build_augmentation(["vertical flip"], strength=1))
    torch.manual_seed(0)
    served = torch.stack([train[0][0] for _ in range(12)])
    assert any(torch.equal(item, train.tensors[0][0].flip(-2)) for item in served)
    assert torch.equal(train.tensors[0][0], images[0].float() / 255)  # .tensors never augments
