"""Time small pieces of code fairly: warm up first, repeat, report the median.

Used to compare a Python loop with its vectorized version (notebook 01) and, later, the speed tricks of
notebook 07. The median of several runs ignores the odd slow run (another program, the garbage
collector); the warm-up runs pay one-off costs (first allocation, a GPU's start-up) before timing.
"""

from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

if TYPE_CHECKING:  # pandas and torch only when used: importing workshop_utils stays light
    import pandas as pd
    import torch


def _synchronize(device: "torch.device | str | None") -> None:
    """Wait for queued GPU work: CUDA and MPS run asynchronously, so the clock would stop too early."""
    if device is None:
        return
    import torch

    kind = torch.device(device).type
    if kind == "cuda":
        torch.cuda.synchronize()
    elif kind == "mps":
        torch.mps.synchronize()


def time_call(function: Callable[[], Any], *, repeat: int = 5, warmup: int = 1,
              device: "torch.device | str | None" = None) -> float:
    """The median wall-clock seconds of ``repeat`` calls of ``function()``, after ``warmup`` untimed calls.

    Pass ``device`` when ``function`` runs on a GPU, so each measurement waits for the GPU to finish.
    """
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, got {repeat}")
    if warmup < 0:
        raise ValueError(f"warmup must be >= 0, got {warmup}")
    for _ in range(warmup):
        function()
    _synchronize(device)
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        _synchronize(device)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def compare_timings(methods: Mapping[str, Callable[[Any], Any]], make_input: Callable[[int], Any],
                    sizes: Sequence[int], *, baseline: str | None = None, repeat: int = 3, warmup: int = 1,
                    device: "torch.device | str | None" = None) -> "pd.DataFrame":
    """Time every method on inputs of every size; one row per (method, size).

    ``methods`` maps a name to a function of one argument, the input ``make_input(size)`` builds (one
    input per size, shared by all methods, built outside the clock). The ``speed-up`` column is the
    baseline's seconds divided by the method's, at the same size (1.0 for the baseline itself);
    ``baseline`` defaults to the first method.

    Returns a DataFrame with columns ``method``, ``size``, ``seconds``, ``speed-up``.
    """
    import pandas as pd

    if not methods:
        raise ValueError("methods is empty: give at least one {name: function}")
    if not sizes:
        raise ValueError("sizes is empty: give at least one input size")
    baseline = next(iter(methods)) if baseline is None else baseline
    if baseline not in methods:
        raise ValueError(f"baseline {baseline!r} is not one of the methods: {list(methods)}")
    rows = []
    for size in sizes:
        data = make_input(size)
        seconds = {name: time_call(lambda method=method: method(data), repeat=repeat, warmup=warmup,
                                   device=device)
                   for name, method in methods.items()}
        for name, value in seconds.items():
            rows.append({"method": name, "size": size, "seconds": value,
                         "speed-up": seconds[baseline] / value if value > 0 else float("inf")})
    return pd.DataFrame(rows, columns=["method", "size", "seconds", "speed-up"])
