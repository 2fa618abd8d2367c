"""Pictures of convolutions: small matrices with their numbers, one step of a convolution, a layer's
learned filters, and the feature maps an image produces inside a CNN.

Functions that draw a grid of pictures make their own figure (or use ``fig`` if given) and return
the numbers they drew, with the ``figure``, so tests can check them without looking at pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from .style import OKABE_ITO


def plot_number_grid(ax, values: Tensor, *, highlight: tuple[int, int, int, int] | None = None,
                     title: str | None = None, cmap: str = "Blues", decimals: int = 2) -> dict[str, Any]:
    """A small 2-D tensor as coloured squares with each number written in, e.g. a 5 x 5 image.

    ``highlight = (row, column, height, width)`` outlines a block (a kernel's window). Returns the
    ``values`` drawn (as a NumPy array) and the ``highlight``.
    """
    array = values.detach().double().numpy() if torch.is_tensor(values) else np.asarray(values, dtype=float)
    span = max(float(np.abs(array).max()), 1e-12)
    diverging = array.min() < 0
    ax.imshow(array, cmap="PuOr" if diverging else cmap, vmin=-span if diverging else 0, vmax=span)
    for (row, column), value in np.ndenumerate(array):
        text = f"{round(value, decimals):g}"
        dark = abs(value) > 0.6 * span
        ax.text(column, row, text, ha="center", va="center", fontsize=10, color="white" if dark else "black")
    if highlight is not None:
        from matplotlib import patches

        row, column, height, width = highlight
        ax.add_patch(patches.Rectangle((column - 0.5, row - 0.5), width, height, fill=False,
                                       edgecolor=OKABE_ITO[3], linewidth=3))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if title:
        ax.set_title(title, fontsize=10)
    return {"values": array, "highlight": highlight}


def plot_convolution_step(axes, image: Tensor, kernel: Tensor, row: int, column: int, stride: int = 1,
                          padding: int = 0) -> dict[str, Any]:
    """One step of a convolution on three axes: the (padded) image with the kernel's window outlined,
    the window times the kernel, and the output with the cell it produces outlined.

    Returns the ``window``, the element-wise ``products`` and their sum, the output ``value``.
    """
    import torch.nn.functional as F

    from ..convolution import conv2d_reference

    padded = F.pad(image, (padding, padding, padding, padding))
    size = kernel.shape[0]
    top, left = row * stride, column * stride
    window = padded[top:top + size, left:left + size]
    products = window * kernel
    output = conv2d_reference(image, kernel, stride=stride, padding=padding)
    plot_number_grid(axes[0], padded, highlight=(top, left, size, size),
                     title="image" + (f" (padding {padding})" if padding else ""))
    plot_number_grid(axes[1], products, title="window x kernel", cmap="Oranges")
    plot_number_grid(axes[2], output, highlight=(row, column, 1, 1),
                     title=f"output: sum = {float(products.sum()):g}", cmap="Greens")
    return {"window": window, "products": products, "value": float(products.sum()), "output": output}


def _grid(count: int, ncols: int, fig=None, cell: float = 1.3):
    """A figure with ``count`` axes in rows of ``ncols`` (extra axes hidden)."""
    import matplotlib.pyplot as plt

    ncols = max(1, min(ncols, count))
    nrows = -(-count // ncols)
    if fig is None:
        fig = plt.figure(figsize=(cell * ncols, cell * nrows + 0.4))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.flat[count:]:
        ax.axis("off")
    return fig, list(axes.flat[:count])


def filter_weights(layer: nn.Module | Tensor) -> Tensor:
    """The filters of a convolution layer (or a weight tensor) as out x in x kH x kW, detached, on the CPU."""
    weight = layer.weight if isinstance(layer, nn.Module) else layer
    if weight.dim() != 4:
        raise ValueError(f"expected convolution weights of shape out x in x kH x kW, got {tuple(weight.shape)}")
    return weight.detach().float().cpu()


def plot_filters(layer: nn.Module | Tensor, *, ncols: int = 8, fig=None, title: str | None = None) -> dict[str, Any]:
    """Draw every filter of a convolution layer as a small picture, on one colour scale centred at 0.

    Orange is positive, purple negative (a colour-blind-safe diverging map). A filter with several
    input channels is drawn as the sum over them. Returns ``figure``, ``count`` (filters drawn),
    ``kernel_size`` and ``scale`` (the largest absolute weight, the colour scale's end).
    """
    weights = filter_weights(layer)
    pictures = weights.sum(dim=1)  # out x kH x kW
    scale = float(pictures.abs().max().clamp_min(1e-12))
    fig, axes = _grid(len(pictures), ncols, fig, cell=1.1)
    for index, (ax, picture) in enumerate(zip(axes, pictures)):
        ax.imshow(picture.numpy(), cmap="PuOr_r", vmin=-scale, vmax=scale)
        ax.set_title(f"filter {index}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    heading = title or f"{len(pictures)} learned {tuple(pictures.shape[1:])} filters"
    if weights.shape[1] > 1:
        heading += f" (sum over {weights.shape[1]} input channels)"
    fig.suptitle(heading, fontsize=11)
    return {"figure": fig, "count": len(pictures), "kernel_size": tuple(pictures.shape[1:]), "scale": scale}


def collect_feature_maps(model: nn.Module, image: Tensor,
                         layer_types: tuple[type, ...] = (nn.Conv2d,)) -> dict[str, Tensor]:
    """The outputs of every layer of ``model`` of one of ``layer_types`` for one ``image`` (C x H x W).

    Returns ``{layer name: C' x H' x W' tensor}`` in the order the layers ran (on the CPU). The model
    runs in evaluation mode without gradients and is put back in its previous mode.
    """
    maps: dict[str, Tensor] = {}
    hooks = []
    for name, module in model.named_modules():
        if isinstance(module, layer_types):
            def keep(module, inputs, output, name=name):
                maps[name] = output[0].detach().cpu()
            hooks.append(module.register_forward_hook(keep))
    was_training = model.training
    device = next(model.parameters(), torch.empty(0)).device
    try:
        model.eval()
        with torch.no_grad():
            model(image.unsqueeze(0).to(device))
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return maps


def plot_feature_maps(image: Tensor, maps: dict[str, Tensor], *, max_channels: int = 8, fig=None,
                      title: str | None = None) -> dict[str, Any]:
    """The input image, then one row per layer with its first ``max_channels`` feature maps.

    Each map is scaled on its own (brighter = stronger response). Returns ``figure``, ``shapes``
    (layer name -> C x H x W) and ``channels_drawn`` (layer name -> number of maps drawn).
    """
    import matplotlib.pyplot as plt

    columns = max(2, max_channels)
    if fig is None:
        fig = plt.figure(figsize=(1.35 * columns, 1.45 * (len(maps) + 1) + 0.3))
    axes = fig.subplots(len(maps) + 1, columns, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    picture = image.detach().float().cpu()
    axes[0, 0].imshow((picture[0] if picture.shape[0] == 1 else picture.permute(1, 2, 0)).numpy(), cmap="gray_r")
    axes[0, 0].set_title(f"input {tuple(picture.shape)}", fontsize=8)
    drawn = {}
    for row, (name, layer_maps) in enumerate(maps.items(), start=1):
        count = min(max_channels, layer_maps.shape[0])
        drawn[name] = count
        for channel in range(count):
            ax = axes[row, channel]
            ax.imshow(layer_maps[channel].numpy(), cmap="magma")
            label = f"{name} {tuple(layer_maps.shape)}\nmap {channel}" if channel == 0 else f"map {channel}"
            ax.set_title(label, fontsize=7)
    if title:
        fig.suptitle(title, fontsize=11)
    return {"figure": fig, "shapes": {name: tuple(m.shape) for name, m in maps.items()}, "channels_drawn": drawn}
