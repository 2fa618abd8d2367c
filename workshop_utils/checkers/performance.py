"""Checkers for notebook 07: throughput and speed-up, honest timing on a GPU, a decode-once cache, freezing.

Each checker runs the attendee's function on small made-up inputs next to a reference, and when the
answers differ it replays the typical mistakes (seconds per image instead of images per second, the
warm-up timed too, the speed-up upside down, the clock read before the GPU finished, images left in
height x width x channels order, transparent pixels turned black, the wrong layer left learning...) to
say which one it was.

The timing exercise is checked by behaviour on any machine: a simulated GPU whose work only counts when
something waits for it (like a real one: ``loss.backward()`` queues work and returns at once) stands in
for the device, and the clock is the simulation's.

The references live in :mod:`workshop_utils.performance` (:func:`~workshop_utils.performance.decode_png_cache`,
:func:`~workshop_utils.performance.freeze_all_but_last`) or here (:func:`reference_images_per_second`,
:func:`reference_speedup`, :func:`reference_time_training`); notebook 07 falls back to them when an
exercise is not finished yet, and says so.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import torch
from torch import nn

from .. import performance
from ..performance import decode_png_cache, synchronize
from .core import Feedback, checker, failed, passed, run_attempt
from .probes import TYPED_IN, fresh_seed, probe_label, probe_random
from .tensor_checks import describe

EXERCISE_THROUGHPUT = "Exercise 07.1 (throughput and speed-up)"
EXERCISE_TIMING = "Exercise 07.2 (timing a GPU honestly)"
EXERCISE_CACHE = "Exercise 07.3 (decode-once cache)"
EXERCISE_FREEZE = "Exercise 07.4 (freeze all but the last layer)"


def _as_number(exercise: str, got: Any, tried: str, hint: str) -> float | Feedback:
    """The answer as a float (one-element tensors and NumPy numbers unwrapped), or the failure to report."""
    if (torch.is_tensor(got) and got.numel() == 1) or (isinstance(got, np.ndarray) and got.size == 1):
        got = got.item()
    if got is Ellipsis:
        return failed(exercise, "not done yet: the function still returns the `...` placeholder.", tried=tried,
                      hint=hint)
    if got is None or isinstance(got, bool) or not isinstance(got, numbers.Real):
        return failed(exercise, f"expected a number, got {describe(got)}.", tried=tried, hint=hint)
    value = float(got)
    if not math.isfinite(value):
        return failed(exercise, f"the result is {value}.", tried=tried, hint=hint)
    return value


def _close(value: float, target: float) -> bool:
    return math.isclose(value, target, rel_tol=1e-6, abs_tol=1e-12)


# --------------------------------------------------------------------------------------------------
# Exercise 07.1: images per second and speed-up
# --------------------------------------------------------------------------------------------------

def reference_images_per_second(step_seconds: Sequence[float], batch_sizes: Sequence[int], warmup: int) -> float:
    """Images per second over the steps after the first ``warmup``: all their images over all their seconds."""
    return sum(batch_sizes[warmup:]) / sum(step_seconds[warmup:])


def reference_speedup(images_per_second: float, baseline_images_per_second: float) -> float:
    """How many times faster than the baseline: 2.0 means twice as many images per second."""
    return images_per_second / baseline_images_per_second


# (step seconds, batch sizes, warm-up): a slow first step (compilation, allocation), a smaller last batch.
THROUGHPUT_CASES: list[tuple[list[float], list[int], int]] = [
    ([2.0, 0.5, 0.10, 0.10, 0.12, 0.05], [64, 64, 64, 64, 64, 32], 2),
    ([1.5, 0.04, 0.05, 0.03], [32, 32, 32, 32], 1),
    ([0.2, 0.3], [10, 10], 0),
]

_THROUGHPUT_MISTAKES: list[tuple[Callable[[list[float], list[int], int], float], str, str]] = [
    (lambda s, b, w: sum(s[w:]) / sum(b[w:]),
     "that is seconds per image, not images per second.",
     "turn it over: images / seconds."),
    (lambda s, b, w: sum(b) / sum(s),
     "the warm-up steps were counted: the first steps are slow once (allocation, compilation) and say nothing "
     "about the speed of training.",
     "skip the first `warmup` entries of both lists: step_seconds[warmup:], batch_sizes[warmup:]."),
    (lambda s, b, w: len(s[w:]) / sum(s[w:]),
     "that is batches per second: throughput counts images.",
     "sum the batch sizes of the timed steps, then divide by their seconds."),
    (lambda s, b, w: statistics.mean(n / t for n, t in zip(b[w:], s[w:])),
     "you averaged each step's rate: the small last batch then weighs as much as a full one.",
     "divide the total images by the total seconds."),
    (lambda s, b, w: b[0] * len(s[w:]) / sum(s[w:]),
     "you assumed every batch is full: the last batch is often smaller (here 32 of 64).",
     "sum the actual batch sizes, batch_sizes[warmup:]."),
    (lambda s, b, w: sum(b[w + 1:]) / sum(s[w + 1:]),
     "one step too many was skipped: `warmup` steps are warm-up, the rest are timed.",
     "slice from index warmup: step_seconds[warmup:]."),
    (lambda s, b, w: sum(b[max(w - 1, 0):]) / sum(s[max(w - 1, 0):]),
     "one warm-up step was timed: the first `warmup` steps must all be skipped.",
     "slice from index warmup: step_seconds[warmup:]."),
]

SPEEDUP_CASES: list[tuple[float, float]] = [(1200.0, 400.0), (300.0, 600.0), (500.0, 500.0)]

_SPEEDUP_MISTAKES: list[tuple[Callable[[float, float], float], str, str]] = [
    (lambda new, base: base / new, "the speed-up is upside down: 1,200 images/s against a baseline of 400 is "
                                   "3 times faster, not 0.33.",
     "new / baseline for rates (for times it is the other way round: baseline seconds / new seconds)."),
    (lambda new, base: new - base, "that is a difference in images/s, not a ratio.",
     "divide: images_per_second / baseline_images_per_second."),
    (lambda new, base: (new - base) / base, "that is the gain (3x as fast is a gain of 2, i.e. +200%); the "
                                            "speed-up is the ratio itself.",
     "images_per_second / baseline_images_per_second, without subtracting 1."),
    (lambda new, base: 100 * (new - base) / base, "that is a percentage gain; the speed-up is the ratio.",
     "images_per_second / baseline_images_per_second."),
    (lambda new, base: 100 * new / base, "that is a percentage; the speed-up is a plain ratio (3.0, not 300).",
     "leave out the * 100."),
]


def _throughput_probe(seed: int) -> tuple[list[float], list[int], int]:
    """Random step times (a slow start, then steady), full batches and a smaller last one, a random warm-up."""
    rng = probe_random(seed)
    warmup = rng.randint(1, 3)
    steps = warmup + rng.randint(3, 6)
    batch = rng.choice([16, 32, 64, 128])
    seconds = [round(rng.uniform(0.5, 2.0), 3) for _ in range(warmup)]
    seconds += [round(rng.uniform(0.02, 0.2), 3) for _ in range(steps - warmup)]
    sizes = [batch] * (steps - 1) + [rng.randint(1, batch - 1)]
    return seconds, sizes, warmup


def _speedup_probe(seed: int) -> tuple[float, float]:
    rng = probe_random(seed + 1)
    return float(rng.randint(101, 3000)), float(rng.randint(101, 3000))


@checker(EXERCISE_THROUGHPUT)
def check_throughput(images_per_second_fn: Callable[..., float], speedup_fn: Callable[[float, float], float]
                     ) -> Feedback:
    """``images_per_second(step_seconds, batch_sizes, warmup)`` must give the timed steps' images over their
    seconds; ``speedup(images_per_second, baseline_images_per_second)`` the ratio of the two."""
    seed = fresh_seed()
    earlier: list[float] = []
    for step_seconds, batch_sizes, warmup in [*THROUGHPUT_CASES, _throughput_probe(seed)]:
        seconds_copy, sizes_copy = list(step_seconds), list(batch_sizes)
        tried = f"images_per_second({step_seconds}, {batch_sizes}, warmup={warmup})"
        if len(earlier) == len(THROUGHPUT_CASES):
            tried += f" ({probe_label(seed)})"
        got = _as_number(EXERCISE_THROUGHPUT,
                         run_attempt(EXERCISE_THROUGHPUT, images_per_second_fn, seconds_copy, sizes_copy, warmup,
                                     tried=tried),
                         tried, hint="return one number: the timed steps' images divided by their seconds.")
        if isinstance(got, Feedback):
            return got
        if seconds_copy != step_seconds or sizes_copy != batch_sizes:
            return failed(EXERCISE_THROUGHPUT, "your function changed the lists it was given.", tried=tried,
                          hint="slice them (step_seconds[warmup:]) instead of popping or deleting items.")
        expected = reference_images_per_second(step_seconds, batch_sizes, warmup)
        if not _close(got, expected) and any(_close(got, value) for value in earlier):
            return failed(EXERCISE_THROUGHPUT, TYPED_IN.format(shown="an earlier example"), tried=tried,
                          expected=f"{expected:.6g}", got=f"{got:.6g}",
                          hint="compute it from the lists given: sum(batch_sizes[warmup:]) / sum(step_seconds[warmup:]).")
        earlier.append(expected)
        if not _close(got, expected):
            for mistake, message, hint in _THROUGHPUT_MISTAKES:
                if _close(got, mistake(step_seconds, batch_sizes, warmup)):
                    return failed(EXERCISE_THROUGHPUT, message, tried=tried, expected=f"{expected:.6g}",
                                  got=f"{got:.6g}", hint=hint)
            return failed(EXERCISE_THROUGHPUT, "wrong number of images per second.", tried=tried,
                          expected=f"{expected:.6g}", got=f"{got:.6g}",
                          hint="sum(batch_sizes[warmup:]) / sum(step_seconds[warmup:]).")
    earlier = []
    for new, base in [*SPEEDUP_CASES, _speedup_probe(seed)]:
        tried = f"speedup({new:g}, baseline_images_per_second={base:g})"
        got = _as_number(EXERCISE_THROUGHPUT, run_attempt(EXERCISE_THROUGHPUT, speedup_fn, new, base, tried=tried),
                         tried, hint="return one number: how many times faster than the baseline.")
        if isinstance(got, Feedback):
            return got
        expected = reference_speedup(new, base)
        if not _close(got, expected) and any(_close(got, value) for value in earlier):
            return failed(EXERCISE_THROUGHPUT, TYPED_IN.format(shown="an earlier example"), tried=tried,
                          expected=f"{expected:g}", got=f"{got:g}",
                          hint="images_per_second / baseline_images_per_second, from the arguments.")
        earlier.append(expected)
        if not _close(got, expected):
            for mistake, message, hint in _SPEEDUP_MISTAKES:
                if _close(got, mistake(new, base)):
                    return failed(EXERCISE_THROUGHPUT, message, tried=tried, expected=f"{expected:g}",
                                  got=f"{got:g}", hint=hint)
            return failed(EXERCISE_THROUGHPUT, "wrong speed-up.", tried=tried, expected=f"{expected:g}",
                          got=f"{got:g}", hint="images_per_second / baseline_images_per_second.")
    return passed(EXERCISE_THROUGHPUT, "warm-up skipped, images (not batches) over seconds, and the speed-up "
                                       "the right way up.")


# --------------------------------------------------------------------------------------------------
# Exercise 07.2: timing training on an asynchronous device
# --------------------------------------------------------------------------------------------------

def reference_time_training(train_step: Callable[[torch.Tensor, torch.Tensor], Any],
                            batches: Sequence[tuple[torch.Tensor, torch.Tensor]], device: torch.device | str,
                            warmup: int = 2) -> float:
    """Images per second of ``train_step`` over ``batches[warmup:]``, each batch copied with ``non_blocking=True``,
    the device waited for before each reading of the clock."""
    for images, labels in batches[:warmup]:  # warm-up: first allocations, cuDNN's search, compilation
        train_step(images.to(device, non_blocking=True), labels.to(device, non_blocking=True))
    synchronize(device)  # the warm-up work must be finished before the clock starts
    started = time.perf_counter()
    images_seen = 0
    for images, labels in batches[warmup:]:
        train_step(images.to(device, non_blocking=True), labels.to(device, non_blocking=True))
        images_seen += len(images)
    synchronize(device)  # the last steps may still be queued on the GPU
    return images_seen / (time.perf_counter() - started)


TIMING_BATCH_SIZES = [8, 8, 8, 8, 8, 4]
TIMING_WARMUP = 2
WARMUP_STEP_SECONDS = 0.5      # a slow first step, as with cuDNN's algorithm search or compilation
SECONDS_PER_IMAGE = 0.001      # the simulated device trains 1,000 images per second
TIMED_IMAGES = sum(TIMING_BATCH_SIZES[TIMING_WARMUP:])
TIMING_EXPECTED = TIMED_IMAGES / (TIMED_IMAGES * SECONDS_PER_IMAGE)


class SimulatedDevice:
    """A GPU stand-in: a train step only *queues* its seconds; they reach the clock when someone waits.

    ``events`` records, in order, ``("step", index)``, ``("sync", how)`` and ``("clock", time)``.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self.pending = 0.0
        self.events: list[tuple[str, Any]] = []
        self.steps = 0
        self.unmoved = 0
        self.bad_inputs: list[str] = []

    def clock(self) -> float:
        self.now += 1e-7  # reading the clock costs a little, and two readings never coincide
        self.events.append(("clock", self.now))
        return self.now

    def wait(self, how: str) -> None:
        self.now += self.pending
        self.pending = 0.0
        self.events.append(("sync", how))

    def train_step(self, images: Any, labels: Any = None) -> None:
        if isinstance(images, BatchSpy) or isinstance(labels, BatchSpy):
            self.unmoved += 1
        elif not torch.is_tensor(images):
            self.bad_inputs.append(describe(images))
        self.pending += WARMUP_STEP_SECONDS if self.steps < TIMING_WARMUP else SECONDS_PER_IMAGE * len(images)
        self.events.append(("step", self.steps))
        self.steps += 1


class BatchSpy:
    """A host batch that records how it is copied: ``.to(device, non_blocking=...)`` gives the real tensor."""

    def __init__(self, tensor: torch.Tensor, copies: list[tuple[str, bool]]) -> None:
        self._tensor = tensor
        self._copies = copies

    def to(self, *args: Any, non_blocking: bool = False, **kwargs: Any) -> torch.Tensor:
        target = kwargs.get("device", args[0] if args else None)
        if len(args) > 1 and isinstance(args[1], bool):  # .to(device, True): non_blocking given by position
            non_blocking = args[1]
        self._copies.append((str(torch.device(target)) if isinstance(target, (str, torch.device)) else repr(target),
                             bool(non_blocking)))
        return self._tensor.clone()

    def cuda(self, *args: Any, non_blocking: bool = False, **kwargs: Any) -> torch.Tensor:
        self._copies.append(("cuda", bool(non_blocking)))
        return self._tensor.clone()

    def __len__(self) -> int:
        return len(self._tensor)

    def __getattr__(self, name: str) -> Any:  # shape, size(), dtype...: those of the tensor
        return getattr(self._tensor, name)


def _timing_batches(copies: list[tuple[str, bool]]) -> list[tuple[BatchSpy, BatchSpy]]:
    generator = torch.Generator().manual_seed(7)
    return [(BatchSpy(torch.rand(size, 3, 4, 4, generator=generator), copies),
             BatchSpy(torch.randint(0, 4, (size,), generator=generator), copies)) for size in TIMING_BATCH_SIZES]


def _in_this_thread(simulated: Callable[[], float], real: Callable[[], float]) -> Callable[[], float]:
    """A clock that is the simulation's in the calling thread only: a notebook kernel's own threads (its output
    and event loops read time.monotonic and time.time) keep the real clock."""
    owner = threading.get_ident()

    def clock() -> float:
        return simulated() if threading.get_ident() == owner else real()

    return clock


CLOCKS_IN_SECONDS = ("perf_counter", "time", "monotonic")
CLOCKS_IN_NANOSECONDS = ("perf_counter_ns", "time_ns", "monotonic_ns")


def _simulated_clocks(device_sim: SimulatedDevice) -> dict[int, tuple[Any, Callable[[], float]]]:
    """id(real clock function) -> (the real one, its simulated stand-in), for every clock of ``time``."""
    clocks: dict[int, tuple[Any, Callable[[], float]]] = {}
    for name in CLOCKS_IN_SECONDS + CLOCKS_IN_NANOSECONDS:
        real = getattr(time, name, None)
        if real is None:
            continue
        simulated = device_sim.clock if name in CLOCKS_IN_SECONDS else (lambda: int(round(device_sim.clock() * 1e9)))
        clocks[id(real)] = (real, _in_this_thread(simulated, real))
    return clocks


@contextlib.contextmanager
def _simulated(device_sim: SimulatedDevice, function: Callable | None = None):
    """The simulation's clock for every clock of ``time`` (seconds and nanoseconds) and ``timeit.default_timer``,
    however the attendee imported it (``from time import perf_counter`` binds the function in their own
    globals: those names are switched too); its wait for synchronize()."""
    import timeit

    clocks = _simulated_clocks(device_sim)
    with contextlib.ExitStack() as stack:
        for name in CLOCKS_IN_SECONDS + CLOCKS_IN_NANOSECONDS:
            real = getattr(time, name, None)
            if real is not None:
                stack.enter_context(mock.patch.object(time, name, clocks[id(real)][1]))
        if id(timeit.default_timer) in clocks:
            stack.enter_context(mock.patch.object(timeit, "default_timer", clocks[id(timeit.default_timer)][1]))
        stack.enter_context(mock.patch.object(performance, "_device_synchronize",
                                              lambda device: device_sim.wait("synchronize(device)")))
        stack.enter_context(mock.patch.object(torch.cuda, "synchronize",
                                              lambda *args, **kwargs: device_sim.wait("torch.cuda.synchronize")))
        namespace = getattr(function, "__globals__", None)
        saved: dict[str, Any] = {}
        if isinstance(namespace, dict):
            for key, value in list(namespace.items()):
                entry = clocks.get(id(value))
                if entry is not None and entry[0] is value:
                    saved[key] = value
                    namespace[key] = entry[1]
        try:
            yield
        finally:
            for key, value in saved.items():
                namespace[key] = value


def _timing_order_problem(events: list[tuple[str, Any]]) -> tuple[str, str] | None:
    """(message, hint) when the clock was read while warm-up or timed work could still be queued."""
    clocks = [index for index, (kind, _) in enumerate(events) if kind == "clock"]
    steps = [index for index, (kind, _) in enumerate(events) if kind == "step"]
    if len(clocks) < 2 or len(steps) < len(TIMING_BATCH_SIZES):
        return None
    start, stop = clocks[0], clocks[-1]
    last_warmup, last_step = steps[TIMING_WARMUP - 1], steps[-1]
    if start < last_warmup:
        return ("the clock started before the warm-up steps: they were timed too.",
                "run the warm-up steps first, then synchronize(device), then start the clock.")
    if not any(kind == "sync" for kind, _ in events[last_warmup:start]):
        return ("the clock started while the warm-up steps were still queued on the device: their seconds were "
                "counted in the timed part.",
                "call synchronize(device) after the warm-up steps, before `started = time.perf_counter()`.")
    if stop < last_step or not any(kind == "sync" for kind, _ in events[last_step:stop]):
        return ("the clock was read before the device had finished: on a GPU the steps only queue work, so "
                "this measures how fast Python queues it (here absurdly fast).",
                "call synchronize(device) after the last step, before reading the clock.")
    return None


_TIMING_MISTAKES: list[tuple[float, str, str]] = [
    (TIMED_IMAGES * SECONDS_PER_IMAGE / TIMED_IMAGES, "that is seconds per image, not images per second.",
     "divide the images by the seconds."),
    ((len(TIMING_BATCH_SIZES) - TIMING_WARMUP) / (TIMED_IMAGES * SECONDS_PER_IMAGE),
     "that is batches per second: count the images (len(images) per batch; the last batch is smaller).",
     "add len(images) for every timed batch."),
    (sum(TIMING_BATCH_SIZES) / (TIMED_IMAGES * SECONDS_PER_IMAGE),
     "the warm-up batches' images were counted, but not their time.",
     "count only the images of the timed batches, batches[warmup:]."),
    (TIMING_BATCH_SIZES[0] * (len(TIMING_BATCH_SIZES) - TIMING_WARMUP) / (TIMED_IMAGES * SECONDS_PER_IMAGE),
     "you assumed every batch is full: the last one has 4 images, not 8.",
     "add len(images) for every timed batch."),
]


@checker(EXERCISE_TIMING)
def check_timed_training(time_training_fn: Callable[..., float]) -> Feedback:
    """``time_training(train_step, batches, device, warmup=2)`` must copy every batch with
    ``.to(device, non_blocking=True)``, run ``train_step`` on each, and return the images per second of the
    batches after the warm-up, waiting for the device (``synchronize(device)``) before each clock reading.

    Checked on a simulated GPU: a step's seconds only reach the clock when something waits for the device.
    """
    device = torch.device("cpu")
    simulation = SimulatedDevice()
    copies: list[tuple[str, bool]] = []
    batches = _timing_batches(copies)
    tried = (f"time_training(train_step, batches, device='cpu', warmup={TIMING_WARMUP}) with batches of "
             f"{TIMING_BATCH_SIZES} images on a simulated GPU: a warm-up step takes {WARMUP_STEP_SECONDS} s, "
             f"then {SECONDS_PER_IMAGE * 1000:g} ms per image")
    with _simulated(simulation, time_training_fn):
        result = run_attempt(EXERCISE_TIMING, time_training_fn, simulation.train_step, batches, device,
                             warmup=TIMING_WARMUP, tried=tried)
    got = _as_number(EXERCISE_TIMING, result, tried, hint="return the images per second (one number).")
    if isinstance(got, Feedback):
        return got
    if simulation.steps != len(TIMING_BATCH_SIZES):
        return failed(EXERCISE_TIMING, f"train_step was called {simulation.steps} times for "
                                       f"{len(TIMING_BATCH_SIZES)} batches.", tried=tried,
                      hint="call train_step once per batch: the warm-up batches, then the timed ones.")
    if simulation.unmoved or simulation.bad_inputs:
        what = ("the batches as they came, not copied to the device" if simulation.unmoved
                else simulation.bad_inputs[0])
        return failed(EXERCISE_TIMING, f"train_step got {what}.", tried=tried,
                      hint="pass images.to(device, non_blocking=True) and labels.to(device, non_blocking=True).")
    if any(target == "cuda" for target, _ in copies):
        return failed(EXERCISE_TIMING, "you copied with .cuda(): that fails on a machine without CUDA, and "
                                       "ignores the device asked for.", tried=tried,
                      hint="images.to(device, non_blocking=True) works for every device.")
    if any(target != str(device) for target, _ in copies):
        return failed(EXERCISE_TIMING, f"a batch was copied to {next(t for t, _ in copies if t != str(device))}, "
                                       f"not to the device given ({device}).", tried=tried,
                      hint="use the `device` argument: images.to(device, non_blocking=True).")
    if len(copies) < 2 * len(TIMING_BATCH_SIZES) or not all(non_blocking for _, non_blocking in copies):
        return failed(EXERCISE_TIMING, "copy every batch, images and labels, with non_blocking=True.", tried=tried,
                      hint="from pinned memory, a non-blocking copy runs while the GPU still computes the previous "
                           "step: images.to(device, non_blocking=True).")
    if any(how == "torch.cuda.synchronize" for kind, how in simulation.events if kind == "sync"):
        return failed(EXERCISE_TIMING, "torch.cuda.synchronize() raises on a machine without CUDA (and does not "
                                       "wait for an Apple GPU).", tried=tried,
                      hint="call synchronize(device) from workshop_utils.performance: it waits for CUDA or MPS, "
                           "and does nothing on the CPU.")
    order = _timing_order_problem(simulation.events)
    if order is not None:
        message, hint = order
        return failed(EXERCISE_TIMING, message, tried=tried, expected=f"{TIMING_EXPECTED:g} images/s",
                      got=f"{got:.6g}", hint=hint)
    if not math.isclose(got, TIMING_EXPECTED, rel_tol=1e-3):
        for value, message, hint in _TIMING_MISTAKES:
            if math.isclose(got, value, rel_tol=1e-3):
                return failed(EXERCISE_TIMING, message, tried=tried, expected=f"{TIMING_EXPECTED:g} images/s",
                              got=f"{got:.6g}", hint=hint)
        return failed(EXERCISE_TIMING, "wrong number of images per second.", tried=tried,
                      expected=f"{TIMING_EXPECTED:g} images/s", got=f"{got:.6g}",
                      hint="the timed batches' images divided by the seconds between the two clock readings.")
    return passed(EXERCISE_TIMING, "non-blocking copies, warm-up excluded, and the device waited for before each "
                                   "reading of the clock: 1,000 images/s, as simulated.")


# --------------------------------------------------------------------------------------------------
# Exercise 07.3: decode the image files once into a uint8 cache
# --------------------------------------------------------------------------------------------------

CACHE_IMAGE_SIZES = (12, 14, 16, 18, 20)


def _write_probe_images(folder: Path) -> list[Path]:
    """Three small PNG files: RGB, RGBA with a fully transparent half over black, and greyscale; different sizes."""
    from PIL import Image

    rows, columns = np.mgrid[0:30, 0:40]
    rgb = np.stack([columns * 6, rows * 8, (rows + columns) * 3], axis=-1).astype(np.uint8)
    rgb[5:15, 10:22] = [200, 30, 30]
    rgba = np.zeros((36, 36, 4), np.uint8)
    rgba[:, :18] = [20, 60, 200, 255]  # opaque blue left half; the right half transparent, black underneath
    grey = (np.add.outer(np.arange(24), np.arange(20)) * 5).astype(np.uint8)
    paths = [folder / "road1.png", folder / "road2.png", folder / "road3.png"]
    Image.fromarray(rgb, "RGB").save(paths[0])
    Image.fromarray(rgba, "RGBA").save(paths[1])
    Image.fromarray(grey, "L").save(paths[2])
    return paths


@checker(EXERCISE_CACHE)
def check_decoded_cache(build_decoded_cache_fn: Callable[[Sequence[Path], int], torch.Tensor]) -> Feedback:
    """``build_decoded_cache(paths, image_size)`` must decode every file once into one
    ``N x 3 x image_size x image_size`` uint8 tensor, in the order of ``paths``, transparent pixels white."""
    with tempfile.TemporaryDirectory() as folder:
        paths = _write_probe_images(Path(folder))
        seed = fresh_seed()
        size = probe_random(seed).choice(CACHE_IMAGE_SIZES)  # a new size on most calls: no shape can be typed in
        tried = (f"build_decoded_cache(paths, image_size={size}) for 3 PNG files: RGB 40 x 30, RGBA "
                 f"36 x 36 (right half transparent), greyscale 20 x 24 ({probe_label(seed)})")
        got = run_attempt(EXERCISE_CACHE, build_decoded_cache_fn, list(paths), size, tried=tried)
        expected = decode_png_cache(paths, size)
    shape = tuple(expected.shape)
    if isinstance(got, (list, tuple)):
        return failed(EXERCISE_CACHE, f"expected one tensor, got {describe(got)}.", tried=tried,
                      hint="torch.stack(list_of_images) makes one N x 3 x S x S tensor of them.")
    if isinstance(got, np.ndarray):
        return failed(EXERCISE_CACHE, f"expected a torch tensor, got {describe(got)}.", tried=tried,
                      hint="torch.from_numpy(array) turns each decoded image into a tensor (no copy).")
    if not torch.is_tensor(got):
        return failed(EXERCISE_CACHE, f"expected a tensor, got {describe(got)}.", tried=tried,
                      hint="return torch.stack([...]) of the decoded images.")
    got_shape = tuple(got.shape)
    if got_shape != shape:
        hint = "N images x 3 colour channels x image_size x image_size."
        if got.dim() == 4 and got_shape[-1] in (3, 4) and got_shape[1:3] == shape[2:]:
            hint = ("PIL and NumPy give height x width x channels; PyTorch's layers want channels first: "
                    ".permute(2, 0, 1) each image (or .permute(0, 3, 1, 2) the stack).")
        elif got.dim() == 4 and got_shape[1] == 4:
            hint = ("4 channels: the alpha channel is still there. composite_on_white(image) gives RGB with "
                    "transparent pixels white.")
        elif got.dim() == 4 and got_shape[:2] == shape[:2]:
            hint = (f"resize every image to {size} x {size}: "
                    "image.resize((image_size, image_size)).")
        elif got.dim() == 4 and got_shape[0] != shape[0]:
            hint = "one image per path, all of them, in order."
        return failed(EXERCISE_CACHE, f"wrong shape: expected {shape}, got {got_shape}.", tried=tried, hint=hint)
    if got.dtype != torch.uint8:
        hint = "keep the bytes as they are: torch.from_numpy(np.array(image)) is uint8."
        if got.is_floating_point():
            hint = ("keep the cache in uint8: it is 4 times smaller than float32; convert a batch when you use it "
                    "(images.float() / 255).")
        return failed(EXERCISE_CACHE, f"expected dtype uint8, got {str(got.dtype).replace('torch.', '')}.",
                      tried=tried, hint=hint)
    difference = (got.float() - expected.float()).abs()
    if difference.mean() <= 3.0:  # another resampling filter (bicubic, nearest...) is fine
        return passed(EXERCISE_CACHE, f"{shape[0]} images decoded once into one {shape} uint8 tensor "
                                      f"({got.numel():,} bytes), transparent pixels white.")
    per_image = difference.flatten(1).mean(1)
    worst = int(per_image.argmax())
    for order in ([1, 0, 2], [0, 2, 1], [2, 1, 0], [1, 2, 0], [2, 0, 1]):
        if (got.float() - expected[order].float()).abs().mean() <= 3.0:
            return failed(EXERCISE_CACHE, "the images are in another order than the paths.", tried=tried,
                          hint="image i of the cache must be paths[i] (its label is labels[i]): do not sort or shuffle.")
    if worst == 1:
        half = size // 2
        right_half = got[1, :, :, half + 1:].float()
        left_half_right = (got[1, :, :, :half - 1].float() - expected[1, :, :, :half - 1].float()).abs().mean() <= 3
        if right_half.mean() < 40 and left_half_right:
            return failed(EXERCISE_CACHE, "the transparent pixels came out black: image.convert('RGB') drops the "
                                          "alpha channel and shows what the transparent pixels hide.",
                          tried=tried, expected="white (255) on the right half of the RGBA image",
                          got=f"mean {right_half.mean():.0f}",
                          hint="rgb, _ = composite_on_white(image) puts transparent pixels on white.")
    return failed(EXERCISE_CACHE, f"image {worst} ({Path(paths[worst]).name}) differs from the file's pixels "
                                  f"(mean difference {per_image[worst]:.0f} of 255).", tried=tried,
                  hint="open, composite_on_white, resize, np.array, torch.from_numpy, .permute(2, 0, 1).")


# --------------------------------------------------------------------------------------------------
# Exercise 07.4: freeze all but the last layer
# --------------------------------------------------------------------------------------------------

def _freeze_probe_models() -> list[tuple[str, nn.Module]]:
    from ..architectures import road_sign_cnn

    torch.manual_seed(0)
    with_batch_norm = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                                    nn.Linear(4 * 6 * 6, 8), nn.ReLU(), nn.Linear(8, 3))
    return [("road_sign_cnn(image_size=16)", road_sign_cnn(image_size=16)),
            ("Sequential(Conv2d, BatchNorm2d, ReLU, Flatten, Linear, ReLU, Linear) on 3 x 8 x 8 images",
             with_batch_norm)]


def _last_layer(model: nn.Module) -> nn.Module:
    return [module for module in model.modules() if any(True for _ in module.parameters(recurse=False))][-1]


@checker(EXERCISE_FREEZE)
def check_freeze_all_but_last(freeze_fn: Callable[[nn.Module], Any]) -> Feedback:
    """``freeze_all_but_last(model)`` must set ``requires_grad=False`` on every parameter except the last layer's
    (weight and bias), so that backpropagation gives gradients to the last layer only."""
    for description, model in _freeze_probe_models():
        tried = f"freeze_all_but_last({description})"
        original = [(name, parameter) for name, parameter in model.named_parameters()]
        returned = run_attempt(EXERCISE_FREEZE, freeze_fn, model, tried=tried)
        if not isinstance(returned, nn.Module):
            return failed(EXERCISE_FREEZE, f"freeze_all_but_last returned {describe(returned)}: the next cell trains "
                                           "what it returns, so end with `return model`.", tried=tried,
                          hint="set requires_grad on the model's parameters, then `return model`.")
        if returned is not model and any(returned is module for module in model.modules()):
            return failed(EXERCISE_FREEZE, f"you returned a part of the model ({type(returned).__name__}), not the "
                                           "model: the next cell trains what freeze_all_but_last returns.",
                          tried=tried, hint="`return model`, the whole network, after changing its parameters' "
                                            "requires_grad.")
        if returned is model and [(name, id(parameter)) for name, parameter in model.named_parameters()] != \
                [(name, id(parameter)) for name, parameter in original]:
            return failed(EXERCISE_FREEZE, "the model's layers or parameters were replaced: freezing only changes "
                                           "the requires_grad flag of the parameters that are there.", tried=tried,
                          hint="for parameter in model.parameters(): parameter.requires_grad = False, then True for "
                               "model[-1].parameters(); do not build new layers.")
        frozen = returned
        if not any(True for _ in frozen.parameters()):
            return failed(EXERCISE_FREEZE, "the returned model has no parameters at all.", tried=tried,
                          hint="return the model you were given, after changing its parameters' requires_grad.")
        last = _last_layer(frozen)
        last_ids = {id(parameter) for parameter in last.parameters()}
        parameters = list(frozen.named_parameters())
        trainable = [name for name, parameter in parameters if parameter.requires_grad]
        expected = [name for name, parameter in parameters if id(parameter) in last_ids]
        if trainable == expected:
            images = torch.rand(2, 3, 16, 16) if "road_sign" in description else torch.rand(2, 3, 8, 8)
            frozen.zero_grad(set_to_none=True)
            run_attempt(EXERCISE_FREEZE, lambda: frozen(images).sum().backward(),
                        tried=tried + ", then a forward and backward pass on 2 images")
            with_gradient = [name for name, parameter in parameters if parameter.grad is not None]
            if with_gradient != expected:
                return failed(EXERCISE_FREEZE, "after a backward pass other parameters than the last layer's had "
                                               "gradients.", tried=tried, expected=str(expected),
                              got=str(with_gradient), hint="set requires_grad on the parameters themselves.")
            continue
        if len(trainable) == len(parameters):
            return failed(EXERCISE_FREEZE, "nothing was frozen: every parameter still has requires_grad=True.",
                          tried=tried, hint="for parameter in model.parameters(): parameter.requires_grad = False. "
                                            "(model.requires_grad = False only sets a new attribute; model.eval() and "
                                            "torch.no_grad() freeze nothing.)")
        if not trainable:
            return failed(EXERCISE_FREEZE, "everything was frozen: the last layer must still learn.", tried=tried,
                          hint="after freezing all, set requires_grad = True on the parameters of model[-1].")
        missing = [name for name in expected if name not in trainable]
        extra = [name for name in trainable if name not in expected]
        if extra and missing == expected:
            return failed(EXERCISE_FREEZE, f"the wrong layer learns: {', '.join(extra)} instead of the last layer.",
                          tried=tried, expected=str(expected), got=str(trainable),
                          hint="the last layer is model[-1] in an nn.Sequential (the class scores).")
        if missing and not extra:
            return failed(EXERCISE_FREEZE, f"part of the last layer is frozen too: {', '.join(missing)}.",
                          tried=tried, expected=str(expected), got=str(trainable),
                          hint="unfreeze all of the last layer's parameters, its weight and its bias: "
                               "for parameter in model[-1].parameters(): parameter.requires_grad = True.")
        if extra:
            return failed(EXERCISE_FREEZE, f"some earlier parameters still learn: {', '.join(extra)}.",
                          tried=tried, expected=str(expected), got=str(trainable),
                          hint="freeze every parameter first (batch norm's weight and bias too), then unfreeze the "
                               "last layer.")
        return failed(EXERCISE_FREEZE, "the wrong parameters learn.", tried=tried, expected=str(expected),
                      got=str(trainable), hint="freeze all parameters, then unfreeze model[-1]'s.")
    return passed(EXERCISE_FREEZE, "only the last layer learns: backpropagation stops there, and the frozen layers "
                                   "cost a forward pass only.")
