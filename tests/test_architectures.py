import pytest
import torch

from workshop_utils.architectures import (COMPACT_CNN_RECIPE, compact_fashion_cnn, fashion_mlp, lenet5, road_sign_cnn,
                                         vgg_block)
from workshop_utils.evaluation import parameter_count


def test_the_compact_cnn_has_under_a_tenth_of_the_mlps_parameters():
    assert parameter_count(fashion_mlp()) == 235_146  # notebook 03's 784-256-128-10
    assert parameter_count(compact_fashion_cnn()) == 17_018
    assert parameter_count(compact_fashion_cnn()) <= parameter_count(fashion_mlp()) / 10
    assert parameter_count(lenet5()) == 61_706


def test_pooling_first_keeps_the_parameters_and_moves_each_pool_after_its_conv():
    fast = compact_fashion_cnn(pool_first=True)
    assert parameter_count(fast) == 17_018
    assert fast(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    kinds = [type(layer).__name__ for layer in fast][:4]
    assert kinds == ["Conv2d", "MaxPool2d", "BatchNorm2d", "ReLU"]
    assert [type(layer).__name__ for layer in compact_fashion_cnn()][:4] == ["Conv2d", "BatchNorm2d", "ReLU",
                                                                              "MaxPool2d"]


def test_the_compact_recipe_is_complete_and_channels_last_changes_no_result():
    assert {"epochs", "batch_size", "max_lr", "channels_last", "autocast"} <= set(COMPACT_CNN_RECIPE)
    assert COMPACT_CNN_RECIPE["autocast"] in {"auto", "none", "bfloat16", "float16"}
    torch.manual_seed(0)
    model, images = compact_fashion_cnn().eval(), torch.rand(4, 1, 28, 28)
    expected = model(images)
    model = model.to(memory_format=torch.channels_last)
    assert torch.allclose(model(images.contiguous(memory_format=torch.channels_last)), expected, atol=1e-5)


@pytest.mark.parametrize("build", [fashion_mlp, compact_fashion_cnn, lenet5])
def test_fashion_models_map_images_to_ten_scores(build):
    assert build()(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_vgg_block_halves_the_size_and_sets_the_channels():
    block = vgg_block(3, 8, convs=2)
    assert block(torch.zeros(1, 3, 16, 16)).shape == (1, 8, 8, 8)
    assert sum(isinstance(layer, torch.nn.Conv2d) for layer in block) == 2
    with pytest.raises(ValueError):
        vgg_block(3, 8, convs=0)


@pytest.mark.parametrize("size", [32, 64])
def test_road_sign_cnn_variants(size):
    plain = road_sign_cnn(image_size=size)
    assert plain(torch.zeros(2, 3, size, size)).shape == (2, 4)
    assert not any(isinstance(m, (torch.nn.Dropout, torch.nn.BatchNorm2d)) for m in plain.modules())
    regularized = road_sign_cnn(image_size=size, dropout=0.5, batch_norm=True)
    assert sum(isinstance(m, torch.nn.Dropout) for m in regularized.modules()) == 2
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in regularized.modules()) == 3
    assert regularized(torch.zeros(2, 3, size, size)).shape == (2, 4)


def test_road_sign_cnn_rejects_bad_settings():
    with pytest.raises(ValueError, match="multiple of 8"):
        road_sign_cnn(image_size=30)
    with pytest.raises(ValueError, match="probability"):
        road_sign_cnn(dropout=1.5)


def test_road_sign_cnn_finds_signs_anywhere_with_global_max_pooling():
    pooled = road_sign_cnn(image_size=32)
    assert any(isinstance(m, torch.nn.AdaptiveMaxPool2d) for m in pooled.modules())
    assert parameter_count(pooled) == parameter_count(road_sign_cnn(image_size=64)) == 32_420  # any image size
    flat = road_sign_cnn(image_size=32, global_pool=False)
    assert parameter_count(flat) == 155_300 and flat(torch.zeros(2, 3, 32, 32)).shape == (2, 4)
