import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from workshop_utils.plots.images import (image_to_display, mistake_titles, plot_confusion_matrix,  # noqa: E402
                                         plot_image_grid, plot_mistakes)


def test_image_to_display_handles_grey_colour_and_channel_first():
    grey, cmap = image_to_display(torch.rand(1, 5, 6))
    assert grey.shape == (5, 6) and cmap == "gray_r"
    colour, cmap = image_to_display(torch.rand(3, 5, 6))
    assert colour.shape == (5, 6, 3) and cmap is None
    clipped, _ = image_to_display(np.full((4, 4), 2.0))
    assert clipped.max() == 1.0
    with pytest.raises(ValueError, match="Cannot show"):
        image_to_display(torch.rand(2, 5, 6))


def test_image_grid_lays_out_panels_and_hides_spares():
    figure, axes = plot_image_grid(torch.rand(5, 1, 8, 8), [f"n{i}" for i in range(5)], ncols=3)
    assert axes.shape == (2, 3)
    assert [ax.get_title() for ax in axes.flat][:5] == ["n0", "n1", "n2", "n3", "n4"]
    assert len(axes.flat[5].images) == 0
    plt.close(figure)
    with pytest.raises(ValueError, match="2 images but 1 titles"):
        plot_image_grid(torch.rand(2, 1, 8, 8), ["only one"])


def test_mistakes_are_titled_true_and_predicted():
    classes = ["cat", "dog", "bird"]
    labels, predicted = torch.tensor([0, 1, 2]), torch.tensor([0, 2, 1])
    assert mistake_titles(labels, predicted, classes, [1, 2]) == ["True: dog\nPred: bird", "True: bird\nPred: dog"]
    figure, titles = plot_mistakes(torch.rand(3, 3, 8, 8), labels, predicted, classes, [1], extra=["p = 0.90"])
    assert titles == ["True: dog\nPred: bird\np = 0.90"]
    plt.close(figure)
    with pytest.raises(ValueError, match="got every example right"):
        plot_mistakes(torch.rand(3, 3, 8, 8), labels, predicted, classes, [])


def test_confusion_matrix_rows_are_per_class_accuracy():
    figure, ax = plt.subplots()
    labels = [0, 0, 0, 0, 1, 1, 2]
    predicted = [0, 0, 0, 1, 1, 1, 0]
    matrix = plot_confusion_matrix(ax, labels, predicted, ["a", "b", "c"])
    assert matrix.diagonal().tolist() == pytest.approx([0.75, 1.0, 0.0])
    assert matrix.sum(axis=1).tolist() == pytest.approx([1.0, 1.0, 1.0])
    counts = plot_confusion_matrix(ax, labels, predicted, ["a", "b", "c", "d"], normalize=False)
    assert counts[3].tolist() == [0, 0, 0, 0]  # a class with no examples: a row of zeros, no division error
    plt.close(figure)
