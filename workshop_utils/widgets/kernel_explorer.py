"""Notebook 04's kernel explorer: type a 3 x 3 kernel (or pick a preset) and see a photo filtered by it.

The work is done by plain, tested functions in :mod:`workshop_utils.convolution`
(:func:`~workshop_utils.convolution.filter_image` applies the kernel,
:func:`~workshop_utils.convolution.display_image` scales the answer for the eye); this widget only
lays out nine number boxes, a preset drop-down and the two pictures, and redraws on every change.
"""

from __future__ import annotations

from typing import Any

import torch

from ..convolution import (PRESET_KERNELS, as_kernel, display_image, filter_image, total_variation)
from .slider_plot import ControlledFigure

CUSTOM = "custom"
CELLS = [f"k{row}{column}" for row in range(3) for column in range(3)]  # k00 ... k22, row by row


def draw_filtered(axes, photo: torch.Tensor, kernel: torch.Tensor, title: str = "") -> dict[str, Any]:
    """Show ``photo`` and ``photo`` filtered by the 3 x 3 ``kernel`` on two axes; return the numbers.

    Returns ``kernel``, the raw ``filtered`` response (H x W), the ``shown`` image in [0, 1],
    ``scaling`` (how it was scaled) and the total variation of both (sharpness: blur lowers it).
    """
    kernel = as_kernel(kernel)
    filtered = filter_image(photo, kernel)
    shown, scaling = display_image(filtered, kernel)
    original = photo.reshape(photo.shape[-2], photo.shape[-1])
    axes[0].imshow(original.numpy(), cmap="gray", vmin=0, vmax=1)
    axes[0].set_title("photo")
    axes[1].imshow(shown.numpy(), cmap="gray", vmin=0, vmax=1)
    rows = "\n".join("[" + "  ".join(f"{value:g}" for value in row) + "]" for row in kernel.tolist())
    axes[1].set_title((f"{title}: " if title else "") + scaling, fontsize=10)
    axes[1].text(0.01, 0.99, rows, transform=axes[1].transAxes, va="top", ha="left", family="monospace",
                 fontsize=8, color="black", bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
    for ax in axes:
        ax.axis("off")
    return {"kernel": kernel, "filtered": filtered, "shown": shown, "scaling": scaling,
            "photo_variation": total_variation(original), "filtered_variation": total_variation(filtered)}


class KernelExplorer(ControlledFigure):
    """Nine number boxes (the 3 x 3 kernel, row by row) and a preset drop-down above a photo and its filtered self.

    Picking a preset fills the boxes (one redraw); editing a box redraws and, when the kernel no longer
    matches the preset, switches the drop-down to "custom". ``.show()`` displays it;
    ``.controls["preset"].value = name`` or ``.controls["k11"].value = 2.0`` drive it from code;
    ``.last_result`` holds :func:`draw_filtered`'s numbers plus ``preset``.
    """

    panels = 2

    def __init__(self, photo: torch.Tensor, preset: str = "edges: Sobel x (vertical edges)",
                 figsize: tuple[float, float] = (10, 3.8)):
        import ipywidgets as widgets

        if preset not in PRESET_KERNELS:
            raise ValueError(f"preset must be one of {list(PRESET_KERNELS)}, got {preset!r}")
        self.photo = photo.float()
        self.figsize = figsize
        self._filling = False
        start = PRESET_KERNELS[preset]
        boxes = {name: widgets.FloatText(value=float(start.flatten()[index]), step=0.1,
                                         layout=widgets.Layout(width="80px"))
                 for index, name in enumerate(CELLS)}
        dropdown = widgets.Dropdown(options=list(PRESET_KERNELS) + [CUSTOM], value=preset, description="preset",
                                    layout=widgets.Layout(width="360px"))
        controls = {"preset": dropdown, **boxes}
        rows = [[dropdown]] + [[boxes[name] for name in CELLS[row * 3:row * 3 + 3]] for row in range(3)]
        self._connect(controls, rows)

    @property
    def kernel(self) -> torch.Tensor:
        """The kernel in the nine boxes, 3 x 3."""
        return as_kernel([self.controls[name].value for name in CELLS])

    def _on_change(self, change=None) -> None:
        if self._filling:  # boxes being filled from a preset: one redraw at the end
            return
        owner = change.get("owner") if change is not None else None
        preset = self.controls["preset"].value
        if owner is self.controls["preset"]:
            if preset == CUSTOM:  # nothing to fill; the boxes already hold the custom kernel
                return
            self._set_quietly({name: float(v) for name, v in zip(CELLS, PRESET_KERNELS[preset].flatten())})
        elif preset != CUSTOM and not torch.allclose(self.kernel, PRESET_KERNELS[preset]):
            self._set_quietly({"preset": CUSTOM})
        self.redraw()

    def _set_quietly(self, values: dict[str, Any]) -> None:
        self._filling = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._filling = False

    def draw(self, axes) -> dict[str, Any]:
        preset = self.controls["preset"].value
        result = draw_filtered(axes, self.photo, self.kernel, title=preset)
        return {**result, "preset": preset}


def kernel_explorer(photo: torch.Tensor, preset: str = "edges: Sobel x (vertical edges)") -> KernelExplorer:
    """A :class:`KernelExplorer` on ``photo`` (grey, 1 x H x W or H x W); put it last in a cell."""
    return KernelExplorer(photo, preset)
