"""An optimizer race: real ``torch.optim`` optimizers minimizing a 2-D loss surface, step by step.

Each surface is a plain torch function of a point ``p`` whose last dimension holds (x, y), so the
same function evaluates one parameter (shape ``(2,)``) during the race and a whole grid for the
contour plot. Every surface has its minimum value 0, so "loss" is also "distance to the best loss".

>>> results = race("valley", {"SGD": (torch.optim.SGD, {"lr": 0.1})}, steps=10)
>>> results["SGD"].path.shape, results["SGD"].losses.shape
(torch.Size([11, 2]), torch.Size([11]))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import Tensor

# A loss above this (or a non-finite one) ends an optimizer's race: it has diverged.
DIVERGED_LOSS = 1e6


def _rotated_quadratic(curvature_along: float, curvature_across: float, degrees: float) -> Callable[[Tensor], Tensor]:
    """0.5 (a u^2 + b v^2) in coordinates (u, v) rotated by ``degrees``: a straight valley."""
    cos, sin = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))

    def loss(p: Tensor) -> Tensor:
        along = cos * p[..., 0] + sin * p[..., 1]
        across = -sin * p[..., 0] + cos * p[..., 1]
        return 0.5 * (curvature_along * along ** 2 + curvature_across * across ** 2)

    return loss


def _rosenbrock(p: Tensor) -> Tensor:
    """A tenth of Rosenbrock's banana with b = 10: a curved valley, minimum 0 at (1, 1)."""
    return 0.1 * ((1 - p[..., 0]) ** 2 + 10 * (p[..., 1] - p[..., 0] ** 2) ** 2)


@dataclass(frozen=True)
class Surface:
    """A named 2-D loss surface with a starting point, its minimum and a good window to look at it."""

    name: str
    loss: Callable[[Tensor], Tensor]
    start: tuple[float, float]
    minimum: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    description: str
    default_lr: float = 0.1
    log_levels: bool = False  # contour levels spaced on a log scale (banana-shaped surfaces)

    def __call__(self, p: Tensor) -> Tensor:
        return self.loss(p)


SURFACES: dict[str, Surface] = {s.name: s for s in [
    Surface("valley", _rotated_quadratic(0.1, 5.0, 30.0), start=(-3.0, 0.5), minimum=(0.0, 0.0),
            xlim=(-3.6, 1.6), ylim=(-1.6, 1.6),
            description="a long straight valley, tilted 30°: 50 times steeper across than along"),
    Surface("stretched bowl", _rotated_quadratic(0.1, 5.0, 0.0), start=(-3.0, 1.0), minimum=(0.0, 0.0),
            xlim=(-3.6, 1.6), ylim=(-1.6, 1.6),
            description="the same valley along the x axis: steep in y, flat in x"),
    Surface("rosenbrock", _rosenbrock, start=(-1.5, 2.0), minimum=(1.0, 1.0), xlim=(-2.0, 2.0),
            ylim=(-1.0, 3.0), log_levels=True,
            description="a curved, banana-shaped valley (Rosenbrock's function); minimum at (1, 1)"),
]}


def get_surface(surface: str | Surface) -> Surface:
    """The :class:`Surface` called ``surface`` (or ``surface`` itself); a KeyError lists the names."""
    if isinstance(surface, Surface):
        return surface
    if surface not in SURFACES:
        raise KeyError(f"no surface called {surface!r}; choose one of {list(SURFACES)}")
    return SURFACES[surface]


@dataclass
class RaceResult:
    """One optimizer's race: the points it visited, the loss at each, and its state at the end.

    ``path[k]`` is the parameter after k steps (``path[0]`` is the start), ``losses[k]`` the loss
    there. A diverged run stops early: both are shorter than ``steps + 1``.
    """

    path: Tensor
    losses: Tensor
    diverged: bool
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def final_loss(self) -> float:
        return math.inf if self.diverged else float(self.losses[-1])


def run_optimizer(surface: str | Surface, optimizer_class: type[torch.optim.Optimizer], options: dict[str, Any],
                  *, start: tuple[float, float] | None = None, steps: int = 100) -> RaceResult:
    """Minimize ``surface`` from ``start`` with ``optimizer_class(**options)`` on a 2-element parameter.

    The ordinary training loop: ``zero_grad``, loss, ``backward``, ``step``. Runs in float64 so that
    paths are identical on every machine. ``state`` is a copy of ``optimizer.state[param]`` at the
    end (e.g. SGD's ``momentum_buffer``, Adam's ``exp_avg``).
    """
    surface = get_surface(surface)
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    point = torch.tensor(surface.start if start is None else start, dtype=torch.float64, requires_grad=True)
    optimizer = optimizer_class([point], **options)
    path, losses, diverged = [point.detach().clone()], [], False
    for step in range(steps + 1):
        optimizer.zero_grad()
        loss = surface(point)
        losses.append(loss.detach().clone())
        if not torch.isfinite(loss) or loss.item() > DIVERGED_LOSS:
            diverged = True
            break
        if step == steps:
            break
        loss.backward()
        optimizer.step()
        path.append(point.detach().clone())
    if diverged:  # keep only the points whose loss is known and finite
        path, losses = path[:len(losses) - 1], losses[:-1]
    state = {key: value.detach().clone() if torch.is_tensor(value) else value
             for key, value in optimizer.state[point].items()}
    return RaceResult(torch.stack(path) if path else torch.empty(0, 2, dtype=torch.float64),
                      torch.stack(losses) if losses else torch.empty(0, dtype=torch.float64), diverged, state)


def race(surface: str | Surface, optimizers: dict[str, tuple[type[torch.optim.Optimizer], dict[str, Any]]],
         *, start: tuple[float, float] | None = None, steps: int = 100) -> dict[str, RaceResult]:
    """Run every optimizer in ``optimizers`` (name -> (torch.optim class, options)) from the same start."""
    return {name: run_optimizer(surface, optimizer_class, options, start=start, steps=steps)
            for name, (optimizer_class, options) in optimizers.items()}


OPTIMIZER_NAMES = ("SGD", "Momentum", "Adagrad", "RMSProp", "Adam")


def standard_optimizers(lr: float, names: tuple[str, ...] | list[str] = OPTIMIZER_NAMES
                        ) -> dict[str, tuple[type[torch.optim.Optimizer], dict[str, Any]]]:
    """The five optimizers of the lesson, all with learning rate ``lr`` and PyTorch's other defaults.

    "Momentum" is ``SGD(momentum=0.9)``. Keeps the order of ``OPTIMIZER_NAMES``.
    """
    table = {
        "SGD": (torch.optim.SGD, {"lr": lr}),
        "Momentum": (torch.optim.SGD, {"lr": lr, "momentum": 0.9}),
        "Adagrad": (torch.optim.Adagrad, {"lr": lr}),
        "RMSProp": (torch.optim.RMSprop, {"lr": lr}),
        "Adam": (torch.optim.Adam, {"lr": lr}),
    }
    unknown = [name for name in names if name not in table]
    if unknown:
        raise KeyError(f"unknown optimizers {unknown}; choose from {list(table)}")
    return {name: table[name] for name in OPTIMIZER_NAMES if name in names}


def final_losses(results: dict[str, RaceResult]) -> dict[str, float]:
    """Each optimizer's loss at the end of the race (``inf`` where it diverged)."""
    return {name: result.final_loss for name, result in results.items()}
