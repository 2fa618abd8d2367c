"""The transform explorer of notebook 05: one image, the augmentations you tick, several random draws.

:func:`draw_augmented` does the work (plain and tested): it applies
:func:`~workshop_utils.augmentation.build_augmentation` to one image several times, with a seed, and
draws the original next to the draws. :class:`TransformExplorer` wires controls to it: a checkbox
per preset, a strength slider, the image and the seed, and a button for new random draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ..augmentation import PRESETS, ROAD_SIGN_AUGMENTATION, augmented_copies, build_augmentation
from .slider_plot import ControlledFigure


def _show(ax, image: torch.Tensor, title: str) -> None:
    ax.imshow(image.detach().permute(1, 2, 0).clamp(0, 1).cpu().numpy())
    ax.set_title(title, fontsize=9)
    ax.axis("off")


def draw_augmented(axes, image: torch.Tensor, names: Sequence[str], strength: float = 1.0, seed: int = 0,
                   title: str = "original") -> dict[str, Any]:
    """Draw ``image`` on ``axes[0]`` and one random draw of the chosen augmentation on each other axis.

    ``image`` is a float C x H x W tensor in [0, 1]. Returns ``{"names", "strength", "seed", "draws"
    (n x C x H x W), "changes" (mean absolute pixel change of each draw), "unsafe" (the chosen presets
    that can change a road sign's meaning)}``.
    """
    axes = list(axes) if hasattr(axes, "__len__") else [axes]
    names = [name for name in PRESETS if name in set(names)]  # application order, unknown names refused below
    transform = build_augmentation(names, strength=strength)
    draws = augmented_copies(image, transform, n=len(axes) - 1, seed=seed)
    _show(axes[0], image, title)
    for k, (ax, draw) in enumerate(zip(axes[1:], draws), start=1):
        _show(ax, draw, f"draw {k}")
    changes = (draws - image.unsqueeze(0)).abs().flatten(1).mean(1)
    return {"names": names, "strength": strength, "seed": seed, "draws": draws, "changes": changes.tolist(),
            "unsafe": [name for name in names if not PRESETS[name].safe]}


class TransformExplorer(ControlledFigure):
    """Tick augmentations and see the same image under several random draws of them, next to the original.

    ``images`` is an ``N x C x H x W`` float tensor (e.g. ``data.train.tensors[0]``), ``titles`` one
    caption per image (e.g. its class). Controls: ``image`` (which one), one Checkbox per preset of
    :data:`~workshop_utils.augmentation.PRESETS`, ``strength`` and ``seed``; the "new draws" button
    moves the seed on. ``last_result`` is :func:`draw_augmented`'s dictionary.
    """

    def __init__(self, images: torch.Tensor, titles: Sequence[str] | None = None, *, index: int = 0,
                 chosen: Sequence[str] = ROAD_SIGN_AUGMENTATION, strength: float = 1.0, seed: int = 0,
                 draws: int = 5, figsize: tuple[float, float] | None = None):
        import ipywidgets as widgets  # lazy: importing workshop_utils must not need a front-end

        if images.dim() != 4:
            raise ValueError(f"images must be an N x C x H x W tensor, got shape {tuple(images.shape)}.")
        if titles is not None and len(titles) != len(images):
            raise ValueError(f"{len(images)} images but {len(titles)} titles.")
        unknown = [name for name in chosen if name not in PRESETS]
        if unknown:
            raise ValueError(f"Unknown augmentation preset(s) {unknown}; the presets are {list(PRESETS)}.")
        self.images = images
        self.titles = list(titles) if titles is not None else None
        self.panels = 1 + draws
        self.figsize = figsize or (2.0 * self.panels, 2.4)
        controls: dict[str, Any] = {
            "image": widgets.IntSlider(value=index, min=0, max=len(images) - 1, description="image",
                                       continuous_update=False),
            "strength": widgets.FloatSlider(value=strength, min=0.0, max=2.0, step=0.1, description="strength",
                                            continuous_update=False),
            "seed": widgets.IntSlider(value=seed, min=0, max=10_000, description="seed", continuous_update=False),
        }
        for name in PRESETS:
            controls[name] = widgets.Checkbox(value=name in chosen, description=name, indent=False,
                                              layout=widgets.Layout(width="160px"))
        self.new_draws = widgets.Button(description="new draws", tooltip="draw again with the next seed")
        self.new_draws.on_click(self._next_seed)
        self.notes = widgets.HTML()
        preset_boxes = [controls[name] for name in PRESETS]
        half = (len(preset_boxes) + 1) // 2
        self._connect(controls, [[controls["image"], controls["strength"]], [controls["seed"], self.new_draws],
                                 preset_boxes[:half], preset_boxes[half:]], extra=[self.notes])

    @property
    def chosen(self) -> list[str]:
        return [name for name in PRESETS if self.controls[name].value]

    def _next_seed(self, _button=None) -> None:
        seed = self.controls["seed"]
        seed.value = seed.value + 1 if seed.value < seed.max else 0  # the change redraws

    def draw(self, axes) -> dict[str, Any]:
        """Draw the current image and its augmented copies; say which ticked presets can change a label."""
        values = self.values
        index = values["image"]
        title = f"original ({self.titles[index]})" if self.titles is not None else "original"
        result = draw_augmented(axes, self.images[index], self.chosen, values["strength"], values["seed"], title)
        warnings = [f"<b>{name}</b>: {PRESETS[name].note}" for name in result["unsafe"]]
        self.notes.value = ("Careful, these can change what a road sign means:<br>" + "<br>".join(warnings)
                            if warnings else "")
        return result
