"""The transform explorer: the drawing function, and the widget driven headless."""

import ipywidgets as widgets
import matplotlib
import pytest
import torch
from matplotlib.figure import Figure

matplotlib.use("Agg")

from workshop_utils.widgets.transform_explorer import TransformExplorer, draw_augmented  # noqa: E402


def images(n: int = 3, size: int = 16) -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(n, 3, size, size)


def test_draw_augmented_shows_the_original_and_the_draws():
    axes = Figure().subplots(1, 4)
    image = images()[0]
    result = draw_augmented(axes, image, ["vertical flip", "rotation"], strength=1.0, seed=3, title="stop")
    assert result["draws"].shape == (3, 3, 16, 16)
    assert result["names"] == ["vertical flip", "rotation"] and result["unsafe"] == ["vertical flip"]
    assert axes[0].get_title() == "stop" and axes[3].get_title() == "draw 3"
    assert len(result["changes"]) == 3 and max(result["changes"]) > 0
    again = draw_augmented(Figure().subplots(1, 4), image, ["rotation", "vertical flip"], seed=3)
    assert torch.equal(again["draws"], result["draws"])  # the order ticked does not matter; the seed does


def test_no_augmentation_draws_the_image_unchanged():
    result = draw_augmented(Figure().subplots(1, 3), images()[1], [], seed=0)
    assert result["changes"] == [0.0, 0.0]


def test_explorer_redraws_on_every_control():
    explorer = TransformExplorer(images(), titles=["a", "b", "c"], draws=3)
    assert isinstance(explorer.show(), widgets.VBox)
    assert explorer.redraw_count == 1 and explorer.last_result["draws"].shape == (3, 3, 16, 16)
    assert explorer.chosen == ["rotation", "random resized crop", "colour jitter"]
    first = explorer.last_result["draws"]

    explorer.new_draws.click()  # the button moves the seed on
    assert explorer.controls["seed"].value == 1 and explorer.redraw_count == 2
    assert not torch.equal(explorer.last_result["draws"], first)

    for name in explorer.chosen:
        explorer.controls[name].value = False
    explorer.controls["horizontal flip"].value = True
    assert explorer.last_result["names"] == ["horizontal flip"]
    assert "direction" in explorer.notes.value  # the caveat is shown

    explorer.controls["strength"].value = 0.0
    assert explorer.last_result["changes"] == [0.0, 0.0, 0.0] and explorer.notes.value != ""
    explorer.controls["image"].value = 2
    assert torch.equal(explorer.last_result["draws"][0], images()[2])


def test_explorer_refuses_bad_input():
    with pytest.raises(ValueError, match="N x C x H x W"):
        TransformExplorer(torch.rand(3, 8, 8))
    with pytest.raises(ValueError, match="titles"):
        TransformExplorer(images(), titles=["a"])
    with pytest.raises(ValueError, match="Unknown augmentation"):
        TransformExplorer(images(), chosen=["zoom"])
