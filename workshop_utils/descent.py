"""Gradient descent on functions of one variable: run it, and say how the run went.

Notebook 01 has attendees write the update loop themselves; this module is the library's own
version, behind the learning-rate explorer and the side-by-side figure. Everything here is a plain
function on floats: easy to test, no plotting, no widgets.

The update is :math:`x_{k+1} = x_k - \\eta\\, f'(x_k)` with learning rate :math:`\\eta`. A run is
classified by what happens to the distance between :math:`x_k` and the minimum (see
:func:`classify_descent`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

CONVERGES = "converges"
OSCILLATES = "oscillates (but converges)"
DIVERGES = "diverges"
TOO_SLOW = "too slow"
LABELS = (CONVERGES, OSCILLATES, DIVERGES, TOO_SLOW)

#: Where a run counts as blown up: it stops there, so the numbers never overflow to inf.
BLOW_UP = 1e6


@dataclass(frozen=True)
class Function1D:
    """A function of one variable, its derivative and its minima (the global one first).

    ``formula`` is matplotlib mathtext for titles; ``x_range`` is the interval worth plotting;
    ``start`` is a good default starting point.
    """

    name: str
    formula: str
    f: Callable[[float], float]
    df: Callable[[float], float]
    minima: tuple[float, ...]
    x_range: tuple[float, float]
    start: float

    @property
    def minimum(self) -> float:
        """The global minimum."""
        return self.minima[0]


def _asymmetric(x: float) -> float:
    u = (x - 3.0) / 2.0
    return 4.0 * (math.exp(min(u, 700.0)) - u - 1.0)


def _asymmetric_slope(x: float) -> float:
    return 2.0 * (math.exp(min((x - 3.0) / 2.0, 700.0)) - 1.0)  # min(): no OverflowError far right


FUNCTIONS: dict[str, Function1D] = {
    function.name: function
    for function in (
        Function1D("quadratic", r"$(x-3)^2$", lambda x: (x - 3.0) ** 2, lambda x: 2.0 * (x - 3.0),
                   (3.0,), (-3.0, 9.0), -2.0),
        # Steep right of the minimum, almost flat left of it: no single learning rate suits both sides.
        Function1D("asymmetric", r"$4\,(e^{(x-3)/2} - (x-3)/2 - 1)$", _asymmetric, _asymmetric_slope,
                   (3.0,), (-4.0, 8.0), -2.0),
        # A global minimum (left) and a local one (right): where you start decides where you end.
        Function1D("double well", r"$(x^2-4)^2/16 + x/4$", lambda x: (x * x - 4.0) ** 2 / 16.0 + x / 4.0,
                   lambda x: (x ** 3 - 4.0 * x + 1.0) / 4.0,
                   (-2.1149075414767555, 1.860805853111703), (-3.5, 3.5), 3.0),
    )
}


def get_function(function: str | Function1D) -> Function1D:
    """A :class:`Function1D` from its name (see ``FUNCTIONS``), or the function itself."""
    if isinstance(function, Function1D):
        return function
    try:
        return FUNCTIONS[function]
    except KeyError:
        raise ValueError(f"unknown function {function!r}; choose one of {list(FUNCTIONS)}") from None


def gradient_descent_path(df: Callable[[float], float], x0: float, lr: float, steps: int, *,
                          blow_up: float = BLOW_UP) -> list[float]:
    """``[x_0, x_1, ..., x_steps]`` with ``x_{k+1} = x_k - lr * df(x_k)``: ``steps + 1`` values.

    Stops early, after the first value that is not finite or whose size exceeds ``blow_up`` (a
    diverging run would otherwise overflow), so a diverged path can be shorter.
    """
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    x = float(x0)
    path = [x]
    for _ in range(steps):
        x = x - lr * float(df(x))
        path.append(x)
        if not math.isfinite(x) or abs(x) > blow_up:
            break
    return path


def _sign_changes(offsets: Sequence[float], tolerance: float) -> int:
    """How often consecutive offsets from the minimum switch sides (ignoring those within tolerance)."""
    signs = [offset > 0 for offset in offsets if abs(offset) > tolerance]
    return sum(1 for before, after in zip(signs, signs[1:]) if before != after)


def nearest_minimum(x: float, minima: float | Sequence[float]) -> float:
    """The minimum closest to ``x`` (the first one when ``x`` is not finite)."""
    candidates = [float(minima)] if isinstance(minima, (int, float)) else [float(m) for m in minima]
    if not candidates:
        raise ValueError("give at least one minimum")
    if not math.isfinite(x):
        return candidates[0]
    return min(candidates, key=lambda m: abs(x - m))


def _still_shrinking(distances: Sequence[float], per_step: float = 0.99) -> bool:
    """Whether the distances clearly shrink: the largest of the last quarter of the run must be below the
    largest of the quarter before it by ``per_step`` per step (1% by default). Windows hold at least 2
    values, so a 2-cycle does not look like progress; a run settling onto a cycle shrinks too little."""
    window = max(2, len(distances) // 4)
    if 2 * window > len(distances):  # a short run: compare its end with its start
        return distances[-1] < distances[0] * per_step ** (len(distances) - 1)
    return max(distances[-window:]) < max(distances[-2 * window:-window]) * per_step ** window


def classify_descent(path: Sequence[float], minimum: float | Sequence[float], *,
                     tolerance: float = 1e-2) -> str:
    """How a gradient-descent run went, as one of ``LABELS``.

    ``minimum`` is one point or several (for a function with local minima: the one nearest the
    last ``x`` is used). With ``d_k = |x_k - minimum|``:

    - ``"converges"``: the last ``d`` is within ``tolerance``, approached from one side;
    - ``"oscillates (but converges)"``: it jumps from one side of the minimum to the other (at least
      twice) while the jumps clearly get smaller, whether or not it is already within ``tolerance``;
    - ``"diverges"``: a value blew up, or it keeps jumping across the minimum without the jumps
      getting clearly smaller (growing, or bouncing on a cycle forever), or it moves away from the
      minimum (ends farther than it started, and farther than halfway through);
    - ``"too slow"``: it heads for the minimum from one side but has not arrived (a learning rate
      too small, too few steps, or a flat region).
    """
    xs = [float(x) for x in path]
    if not xs:
        raise ValueError("the path is empty: it should at least hold the starting point")
    if tolerance <= 0:
        raise ValueError(f"tolerance must be positive, got {tolerance}")
    if any(not math.isfinite(x) or abs(x) > BLOW_UP for x in xs):
        return DIVERGES
    target = nearest_minimum(xs[-1], minimum)
    offsets = [x - target for x in xs]
    distances = [abs(offset) for offset in offsets]
    oscillating = _sign_changes(offsets, tolerance) >= 2
    if distances[-1] <= tolerance:
        return OSCILLATES if oscillating else CONVERGES
    if oscillating:
        return OSCILLATES if _still_shrinking(distances) else DIVERGES
    start, middle, end = distances[0], distances[len(distances) // 2], distances[-1]
    moving_away = end > start * (1 + 1e-9) and end >= middle * (1 - 1e-9)
    return DIVERGES if moving_away else TOO_SLOW


@dataclass(frozen=True)
class DescentRun:
    """One run of gradient descent on a named function, and its classification."""

    function: str
    x0: float
    lr: float
    steps: int
    path: list[float] = field(repr=False)
    minimum: float
    label: str
    local_minimum: bool = False  # the minimum it heads for is not the function's lowest point

    @property
    def final_x(self) -> float:
        return self.path[-1]

    def summary(self) -> str:
        """One line, e.g. ``lr = 0.1, 40 steps from x0 = -2: converges (x_40 = 2.9993, minimum 3)``."""
        last = len(self.path) - 1
        stopped = "" if last == self.steps else f", stopped after {last} steps (blew up)"
        which = "local minimum" if self.local_minimum else "minimum"
        return (f"lr = {self.lr:.3g}, {self.steps} steps from x0 = {self.x0:g}: {self.label} "
                f"(x_{last} = {self.final_x:.5g}, {which} {self.minimum:.4g}{stopped})")


def explore_descent(function: str | Function1D, x0: float | None = None, lr: float = 0.1, steps: int = 20, *,
                    tolerance: float = 1e-2) -> DescentRun:
    """Run gradient descent on one of ``FUNCTIONS`` (by name) from ``x0`` (default: its ``start``) and classify it."""
    chosen = get_function(function)
    start = chosen.start if x0 is None else float(x0)
    path = gradient_descent_path(chosen.df, start, lr, steps)
    label = classify_descent(path, chosen.minima, tolerance=tolerance)
    minimum = nearest_minimum(path[-1], chosen.minima)
    return DescentRun(chosen.name, start, float(lr), int(steps), path, minimum, label,
                      local_minimum=minimum != chosen.minimum)
