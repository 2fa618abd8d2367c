"""The kernel explorer, headless: presets fill the boxes, edits switch to "custom", one redraw per change."""

import ipywidgets as widgets
import matplotlib
import pytest
import torch
from matplotlib.figure import Figure

matplotlib.use("Agg")

from workshop_utils.convolution import PRESET_KERNELS
from workshop_utils.widgets.kernel_explorer import (CELLS, CUSTOM, KernelExplorer, draw_filtered, kernel_explorer)


@pytest.fixture
def photo():
    generator = torch.Generator().manual_seed(0)
    image = torch.zeros(1, 24, 32)
    image[:, :, 16:] = 0.8  # a vertical edge
    return (image + 0.05 * torch.rand(1, 24, 32, generator=generator)).clamp(0, 1)


def test_draw_filtered_returns_what_it_shows(photo):
    axes = Figure().subplots(1, 2)
    result = draw_filtered(axes, photo, PRESET_KERNELS["blur (box)"], title="blur")
    assert result["filtered"].shape == (24, 32) and result["shown"].shape == (24, 32)
    assert 0 <= result["shown"].min() and result["shown"].max() <= 1
    assert result["filtered_variation"] < result["photo_variation"]
    assert axes[1].get_title().startswith("blur: ")


def test_presets_fill_the_boxes_with_one_redraw(photo):
    explorer = kernel_explorer(photo)
    assert isinstance(explorer.show(), widgets.VBox)
    assert explorer.redraw_count == 1
    assert torch.equal(explorer.kernel, PRESET_KERNELS["edges: Sobel x (vertical edges)"])
    vertical = explorer.last_result["filtered"].abs().max()
    explorer.controls["preset"].value = "edges: Sobel y (horizontal edges)"
    assert explorer.redraw_count == 2  # nine boxes changed, one redraw
    assert explorer.last_result["preset"] == "edges: Sobel y (horizontal edges)"
    assert explorer.last_result["filtered"].abs().max() < vertical / 2  # no horizontal edge in the picture
    assert [explorer.controls[name].value for name in CELLS] == PRESET_KERNELS["edges: Sobel y (horizontal edges)"].flatten().tolist()


def test_editing_a_box_redraws_and_switches_to_custom(photo):
    explorer = KernelExplorer(photo, preset="identity")
    explorer.show()
    explorer.controls["k11"].value = 2.0
    assert explorer.redraw_count == 2
    assert explorer.controls["preset"].value == CUSTOM and explorer.last_result["preset"] == CUSTOM
    assert torch.allclose(explorer.last_result["filtered"], 2 * photo[0])
    explorer.controls["preset"].value = CUSTOM  # already custom: nothing to do
    assert explorer.redraw_count == 2
    explorer.controls["preset"].value = "sharpen"
    assert explorer.redraw_count == 3 and explorer.controls["k11"].value == 5.0
    explorer.controls["k01"].value = -2.0
    assert explorer.controls["preset"].value == CUSTOM and explorer.redraw_count == 4
    explorer.controls["k01"].value = -1.0  # back to the sharpen kernel: the drop-down stays "custom", no harm
    assert explorer.redraw_count == 5 and torch.equal(explorer.kernel, PRESET_KERNELS["sharpen"])


def test_unknown_preset_is_refused(photo):
    with pytest.raises(ValueError, match="preset"):
        KernelExplorer(photo, preset="emboss")
