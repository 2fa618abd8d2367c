"""Pictures of images: a grid of samples, a grid of mistakes ("True: X / Pred: Y"), a confusion matrix.

Images are tensors or arrays, ``C x H x W`` (PyTorch's layout, 1 or 3 channels) or ``H x W``, with
values in [0, 1]. Each function returns what it drew, so tests need no pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch


def image_to_display(image) -> tuple[np.ndarray, str | None]:
    """``(H x W or H x W x 3 array, colour map)`` ready for ``imshow``, from a C x H x W or H x W image."""
    array = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    array = array.astype(np.float32, copy=False)
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (3, 4):
        array = np.moveaxis(array, 0, -1)  # C x H x W -> H x W x C
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ValueError(f"Cannot show an image of shape {image.shape}: expected H x W, or C x H x W with 1, 3 or "
                         "4 channels.")
    return np.clip(array, 0.0, 1.0), ("gray_r" if array.ndim == 2 else None)


def plot_image_grid(images, titles: Sequence[str] | None = None, *, ncols: int = 8, size: float = 1.6,
                    title_size: float = 9, suptitle: str | None = None, title_colours: Sequence[str] | None = None):
    """A figure with one small panel per image (and its title); returns ``(figure, axes)``.

    Grey images use a reversed grey map (dark ink on white, like Fashion-MNIST's pictures).
    """
    import matplotlib.pyplot as plt

    count = len(images)
    if count == 0:
        raise ValueError("No images to show.")
    if titles is not None and len(titles) != count:
        raise ValueError(f"{count} images but {len(titles)} titles.")
    ncols = max(1, min(ncols, count))
    nrows = math.ceil(count / ncols)
    title_lines = max((str(t).count("\n") + 1 for t in titles), default=0) if titles is not None else 0
    figure, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (size + 0.2 * title_lines) * nrows),
                                squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= count:
            continue
        array, cmap = image_to_display(images[index])
        ax.imshow(array, cmap=cmap, vmin=0, vmax=1)
        if titles is not None:
            colour = {"color": title_colours[index]} if title_colours is not None else {}
            ax.set_title(titles[index], fontsize=title_size, **colour)
    if suptitle:
        figure.suptitle(suptitle)
    figure.tight_layout()
    return figure, axes


def mistake_titles(labels, predicted, classes: Sequence[str], indices, extra: Sequence[str] | None = None) -> list[str]:
    """``"True: X\\nPred: Y"`` for each index (plus a third line from ``extra`` when given)."""
    titles = []
    for position, index in enumerate(indices):
        index = int(index)
        title = f"True: {classes[int(labels[index])]}\nPred: {classes[int(predicted[index])]}"
        if extra is not None:
            title += f"\n{extra[position]}"
        titles.append(title)
    return titles


def plot_mistakes(images, labels, predicted, classes: Sequence[str], indices, *, ncols: int = 5,
                  extra: Sequence[str] | None = None, suptitle: str | None = None):
    """The images at ``indices`` titled "True: X / Pred: Y" (wrong predictions in red); returns
    ``(figure, titles)``. ``extra`` adds a line per image, e.g. the model's confidence.
    """
    indices = [int(i) for i in indices]
    if not indices:
        raise ValueError("No mistakes to show (indices is empty): the model got every example right.")
    titles = mistake_titles(labels, predicted, classes, indices, extra)
    colours = ["#D55E00" if int(labels[i]) != int(predicted[i]) else "black" for i in indices]
    figure, _ = plot_image_grid([images[i] for i in indices], titles, ncols=ncols, size=2.0,
                                title_colours=colours, suptitle=suptitle)
    return figure, titles


def plot_confusion_matrix(ax, labels, predicted, classes: Sequence[str], *, normalize: bool = True,
                          title: str | None = None) -> np.ndarray:
    """A class x class matrix: row = true class, column = predicted class; returns the matrix drawn.

    With ``normalize`` each row is divided by its class's count, so the diagonal is the per-class
    accuracy (recall) and a rare class is as visible as a frequent one.
    """
    from sklearn.metrics import confusion_matrix

    to_numpy = (lambda v: v.cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v))
    matrix = confusion_matrix(to_numpy(labels), to_numpy(predicted), labels=np.arange(len(classes)))
    if normalize:
        totals = matrix.sum(axis=1, keepdims=True)
        matrix = np.divide(matrix, totals, out=np.zeros(matrix.shape, dtype=float), where=totals > 0)
    shown = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    ax.figure.colorbar(shown, ax=ax, fraction=0.046, pad=0.04)
    ticks = np.arange(len(classes))
    ax.set_xticks(ticks, labels=list(classes), rotation=45, ha="right")
    ax.set_yticks(ticks, labels=list(classes))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.grid(False)
    threshold = (matrix.max() if matrix.size else 0) / 2
    for row in range(len(classes)):
        for column in range(len(classes)):
            value = matrix[row, column]
            text = f"{value:.2f}" if normalize else f"{int(value)}"
            ax.text(column, row, text, ha="center", va="center", fontsize=8,
                    color="white" if value > threshold else "black")
    ax.set_title(title or ("confusion matrix (each row sums to 1)" if normalize else "confusion matrix (counts)"))
    return matrix
