"""Pictures of convolutions: number grids, one convolution step, learned filters and feature maps."""

import matplotlib
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

matplotlib.use("Agg")

from workshop_utils.convolution import DECK_IMAGE, DECK_KERNEL
from workshop_utils.plots.feature_maps import (collect_feature_maps, filter_weights, plot_convolution_step,
                                               plot_feature_maps, plot_filters, plot_number_grid)


def small_cnn():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 14 * 14, 10))


def test_number_grid_writes_every_number():
    ax = Figure().add_subplot()
    result = plot_number_grid(ax, DECK_IMAGE, highlight=(0, 0, 3, 3), title="image")
    assert len(ax.texts) == 25 and ax.texts[0].get_text() == "1" and len(ax.patches) == 1
    assert result["highlight"] == (0, 0, 3, 3) and ax.get_title() == "image"


def test_convolution_step_shows_the_slide():
    axes = Figure().subplots(1, 3)
    result = plot_convolution_step(axes, DECK_IMAGE, DECK_KERNEL, 0, 0)
    assert result["value"] == 4 and "sum = 4" in axes[2].get_title()
    padded = plot_convolution_step(Figure().subplots(1, 3), DECK_IMAGE, DECK_KERNEL, 1, 2, stride=2, padding=1)
    assert padded["output"].shape == (3, 3)
    assert padded["value"] == padded["output"][1, 2]


def test_plot_filters_draws_one_picture_per_filter():
    model = small_cnn()
    result = plot_filters(model[0], ncols=4, fig=Figure())
    assert result["count"] == 6 and result["kernel_size"] == (3, 3)
    assert result["scale"] == pytest.approx(float(model[0].weight.detach().abs().max()))
    deeper = plot_filters(model[3].weight, fig=Figure())
    assert deeper["count"] == 4 and "6 input channels" in deeper["figure"]._suptitle.get_text()
    with pytest.raises(ValueError):
        filter_weights(torch.zeros(3, 3))


def test_feature_maps_are_collected_in_order_and_drawn():
    model = small_cnn().train()
    image = torch.rand(1, 28, 28)
    maps = collect_feature_maps(model, image)
    assert list(maps) == ["0", "3"] and maps["0"].shape == (6, 28, 28) and maps["3"].shape == (4, 14, 14)
    assert model.training  # back in its mode
    after_relu = collect_feature_maps(model, image, layer_types=(nn.ReLU,))
    assert all(m.min() >= 0 for m in after_relu.values())
    result = plot_feature_maps(image, maps, max_channels=5, fig=Figure())
    assert result["channels_drawn"] == {"0": 5, "3": 4}
    assert result["shapes"]["3"] == (4, 14, 14)
