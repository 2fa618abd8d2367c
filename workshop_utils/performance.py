"""Notebook 07's measurements: how fast does a model train, and which tricks make it faster?

Every trick is one function that trains notebook 05's road-sign CNN on the same road-sign images and
returns a :class:`SpeedRow`: the training throughput in images per second (forward, backward and
optimizer step, warm-up excluded, the GPU waited for), or the reason there is no number (a trick that
needs CUDA on a machine without it, a compiler that is missing, a step skipped in smoke mode). A row is
never silently left out: :func:`run_speed_suite` returns one row per entry of :data:`SPEED_ROWS`, and
:func:`speed_table` turns them into a table with each row's speed-up over its group's baseline.

==========================  =======================================================================
group                       rows (the first is the group's baseline)
==========================  =======================================================================
``GPU vs CPU``              the CPU; the GPU (CUDA or Apple MPS)
``host -> GPU copy``        copying a batch from ordinary (pageable) memory; from pinned memory
``input pipeline``          decoding PNG files every epoch with 0, 2 or 4 DataLoader workers; a
                            cache of decoded uint8 tensors
``batches to the device``   a DataLoader over the cache; with ``pin_memory`` and ``non_blocking``
                            copies; batches sliced from tensors already on the device
``compute``                 float32; AMP bfloat16; AMP float16 + GradScaler; channels_last;
                            ``cudnn.benchmark``; ``torch.compile`` (compile time apart); all but the
                            last layer frozen
==========================  =======================================================================

The same suite runs in the notebook and as a script (``benchmarks/training_speed.py``), so a GPU
machine can print its own table to compare with.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import statistics
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from .timing import _synchronize, time_call

if TYPE_CHECKING:
    import pandas as pd


# --------------------------------------------------------------------------------------------------
# Rows and the table
# --------------------------------------------------------------------------------------------------

@dataclass
class SpeedRow:
    """One measurement: ``images_per_second``, or the ``reason`` there is none (never both missing).

    ``key`` names the row for code (``"decoded-cache"``), ``name`` for people. ``baseline`` marks the row
    its group's speed-ups are relative to. ``note`` remarks on a measured number (e.g. more workers
    than CPU cores), ``settings`` says what was measured (batch size, image size, device...), and
    ``extra`` holds other numbers (``compile_seconds``, ``gigabytes_per_second``...).
    """

    key: str
    name: str
    group: str
    images_per_second: float | None = None
    reason: str | None = None
    baseline: bool = False
    note: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.images_per_second is not None:
            self.images_per_second = float(self.images_per_second)
            if not self.images_per_second > 0 or not math.isfinite(self.images_per_second):
                raise ValueError(f"{self.key}: images_per_second must be a positive number, got "
                                 f"{self.images_per_second!r}.")
        if self.images_per_second is None and not (self.reason or "").strip():
            raise ValueError(f"{self.key}: a row needs a number or a reason why there is none.")

    @property
    def measured(self) -> bool:
        return self.images_per_second is not None


@dataclass(frozen=True)
class RowSpec:
    """What a row of the suite measures: its key, display name, group, and whether it is the baseline."""

    key: str
    name: str
    group: str
    baseline: bool = False


GROUP_HARDWARE = "GPU vs CPU"
GROUP_COPY = "host -> GPU copy"
GROUP_PIPELINE = "input pipeline"
GROUP_TRANSFER = "batches to the device"
GROUP_AUGMENT = "augmentation"
GROUP_COMPUTE = "compute"

#: Every row of the suite, in the order of the table; the first row of each group is its baseline.
SPEED_ROWS: tuple[RowSpec, ...] = (
    RowSpec("cpu", "CPU", GROUP_HARDWARE, baseline=True),
    RowSpec("gpu", "GPU", GROUP_HARDWARE),
    RowSpec("copy-pageable", "copy from pageable memory", GROUP_COPY, baseline=True),
    RowSpec("copy-pinned", "copy from pinned memory", GROUP_COPY),
    RowSpec("png-workers-0", "decode PNGs every epoch, 0 workers", GROUP_PIPELINE, baseline=True),
    RowSpec("png-workers-2", "decode PNGs every epoch, 2 workers", GROUP_PIPELINE),
    RowSpec("png-workers-4", "decode PNGs every epoch, 4 workers", GROUP_PIPELINE),
    RowSpec("decoded-cache", "cache of decoded uint8 tensors", GROUP_PIPELINE),
    RowSpec("dataloader", "DataLoader over the cache", GROUP_TRANSFER, baseline=True),
    RowSpec("pinned-non-blocking", "+ pin_memory, non_blocking copies", GROUP_TRANSFER),
    RowSpec("device-resident", "tensors on the device (TensorBatchLoader)", GROUP_TRANSFER),
    RowSpec("augment-per-image", "augmented image by image on the CPU (DataLoader)", GROUP_AUGMENT, baseline=True),
    RowSpec("augment-batched", "augmented in whole batches on the device", GROUP_AUGMENT),
    RowSpec("float32", "float32, eager", GROUP_COMPUTE, baseline=True),
    RowSpec("amp-bf16", "AMP bfloat16", GROUP_COMPUTE),
    RowSpec("amp-fp16", "AMP float16 + GradScaler", GROUP_COMPUTE),
    RowSpec("channels-last", "channels_last", GROUP_COMPUTE),
    RowSpec("cudnn-benchmark", "cudnn.benchmark", GROUP_COMPUTE),
    RowSpec("compile", "torch.compile", GROUP_COMPUTE),
    RowSpec("frozen", "frozen: all but the last layer", GROUP_COMPUTE),
)
ROW_KEYS: tuple[str, ...] = tuple(spec.key for spec in SPEED_ROWS)
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(spec.group for spec in SPEED_ROWS))
_SPECS = {spec.key: spec for spec in SPEED_ROWS}


def speed_table(rows: Iterable[SpeedRow], baseline: dict[str, str] | None = None) -> pd.DataFrame:
    """The rows as a table, one line per row, indexed by key, with each row's speed-up over its group's baseline.

    Columns: ``group``, ``row`` (the name), ``images/s``, ``speedup`` (the row's images/s divided by its
    group baseline's; NaN when either has no number, or when a group of :data:`SPEED_ROWS` lacks its
    baseline row; a group of other rows without a marked baseline compares with its first row); when
    some row measured them, ``data wait`` (the share of an epoch spent waiting for the loader's next
    batch), ``GB/s`` (copy bandwidth) and ``compile s``; last ``note`` (the reason for a missing number,
    or a remark on a measured one).
    ``table.attrs["baselines"]`` maps each group to its baseline's key. ``baseline``
    maps a group to the key of another baseline row than the one marked in the rows.
    """
    import pandas as pd

    rows = list(rows)
    keys = [row.key for row in rows]
    if len(set(keys)) != len(keys):
        raise ValueError(f"two rows share a key: {sorted({key for key in keys if keys.count(key) > 1})}")
    by_key = {row.key: row for row in rows}
    baselines: dict[str, SpeedRow] = {}
    for row in rows:
        if row.baseline and row.group not in baselines:
            baselines[row.group] = row
    for group, key in (baseline or {}).items():
        if key not in by_key or by_key[key].group != group:
            raise ValueError(f"baseline {key!r} for group {group!r} is not one of that group's rows")
        baselines[group] = by_key[key]
    suite_baselines = {spec.group: spec for spec in SPEED_ROWS if spec.baseline}
    for row in rows:  # a group of the suite whose baseline was not run has none; another group: its first row
        if row.group not in suite_baselines:
            baselines.setdefault(row.group, row)

    records = []
    for row in rows:
        base = baselines.get(row.group)
        speedup = (row.images_per_second / base.images_per_second
                   if row.measured and base is not None and base.measured else math.nan)
        note = row.reason if not row.measured else row.note
        if row.measured and base is None:
            missing = f"no speed-up: its baseline ({suite_baselines[row.group].name}) was not run"
            note = "; ".join(filter(None, [note, missing]))
        elif row.measured and not base.measured:
            note = "; ".join(filter(None, [note, f"no speed-up: the baseline ({base.name}) was not measured"]))
        records.append({"key": row.key, "group": row.group, "row": row.name,
                        "images/s": row.images_per_second if row.measured else math.nan,
                        "speedup": speedup, "note": note or "",
                        "data wait": row.extra.get("waiting_for_data", math.nan),
                        "GB/s": row.extra.get("gigabytes_per_second", math.nan),
                        "compile s": row.extra.get("compile_seconds", math.nan)})
    optional = ["data wait", "GB/s", "compile s"]
    table = pd.DataFrame(records, columns=["key", "group", "row", "images/s", "speedup", *optional, "note"])
    table = table.set_index("key")
    table = table.drop(columns=[column for column in optional if table[column].isna().all()])
    table.attrs["baselines"] = {group: row.key for group, row in baselines.items()}  # for plots
    return table


def _shown(table: pd.DataFrame, note_width: int | None) -> pd.DataFrame:
    """The table with its numbers as text: ``1,234``, ``2.31x``, ``85%``, ``-`` where there is no number."""
    shown = table.copy()
    shown["images/s"] = shown["images/s"].map(lambda value: "-" if math.isnan(value) else f"{value:,.0f}")
    shown["speedup"] = shown["speedup"].map(lambda value: "-" if math.isnan(value) else f"{value:.2f}x")
    formats = {"data wait": "{:.0%}", "GB/s": "{:.1f}", "compile s": "{:.1f}"}
    for column, text in formats.items():
        if column in shown:
            shown[column] = shown[column].map(lambda value, text=text: "" if math.isnan(value) else text.format(value))
    if note_width is not None:
        shown["note"] = shown["note"].map(
            lambda text: text if len(text) <= note_width else text[:note_width - 3] + "...")
    return shown


def format_speed_table(table: pd.DataFrame, note_width: int | None = 70) -> str:
    """The table as aligned text (what the script prints): rounded numbers, notes cut to ``note_width``."""
    return _shown(table, note_width).to_string(justify="left")


def markdown_speed_table(table: pd.DataFrame) -> str:
    """The table as Markdown (for an issue or a README), notes in full."""
    shown = _shown(table, None).reset_index()
    lines = ["| " + " | ".join(shown.columns) + " |", "|" + "---|" * len(shown.columns)]
    lines += ["| " + " | ".join(str(value).replace("|", "\\|") for value in row) + " |"
              for row in shown.itertuples(index=False)]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# What the input-pipeline rows show, on whatever device they ran on
# --------------------------------------------------------------------------------------------------

#: The cache must give at least this many times the images per second of decoding every epoch to count as
#: "clearly faster": well above run-to-run noise, well below what decoding once gives on a CPU or a GPU.
CACHE_MIN_SPEEDUP = 1.5
#: A loop that waits for its data at least this share of an epoch is held up by the data, not the model.
DATA_BOUND_WAIT = 0.5


@dataclass(frozen=True)
class CacheVerdict:
    """What the decoded-cache row shows against decoding every epoch, in terms that hold on any device.

    ``holds``: the cache trains clearly faster (``speedup`` >= the minimum) **and** the loop waits less for its
    data (``wait_cached`` < ``wait_decoding``). How much less it waits depends on the device: on a CPU the
    model's own arithmetic is slow, so the wait almost disappears; on a fast GPU an epoch takes so little
    compute that even the cache's DataLoader (one item at a time, then collate) keeps the loop waiting
    (``still_data_bound``). So the ratio is printed, never asserted. ``reason`` says why there is no verdict
    when a row has no number.
    """

    holds: bool
    speedup: float
    wait_decoding: float
    wait_cached: float
    reason: str = ""

    @property
    def still_data_bound(self) -> bool:
        """With the cache, the loop still waits for data most of the epoch (what a fast GPU shows)."""
        return self.wait_cached >= DATA_BOUND_WAIT

    def measured(self) -> str:
        """The numbers behind the verdict, in one phrase."""
        if self.reason:
            return self.reason
        return (f"{self.speedup:.1f} times the images per second; waiting for data {self.wait_decoding:.0%} of "
                f"each epoch -> {self.wait_cached:.0%}")


def judge_decoded_cache(table: pd.DataFrame, *, decoding: str = "png-workers-0", cached: str = "decoded-cache",
                        min_speedup: float = CACHE_MIN_SPEEDUP) -> CacheVerdict:
    """Does caching the decoded images beat decoding them every epoch, as measured in ``table``?

    ``table`` is a :func:`speed_table` with the rows ``decoding`` and ``cached`` (both with a ``data wait``).
    The verdict asks what holds on every device: clearly more images per second, and less waiting for data.
    It never asks for a fixed ratio of the waits, which depends on how fast the device computes.
    """
    missing = [key for key in (decoding, cached) if key not in table.index]
    if missing:
        raise ValueError(f"the table has no row {missing[0]!r}: measure the input-pipeline rows first "
                         f"(rows: {list(table.index)})")
    if "data wait" not in table.columns:
        return CacheVerdict(False, math.nan, math.nan, math.nan, "no data-wait column: neither row was measured")
    speeds = table.loc[[decoding, cached], "images/s"].astype(float)
    waits = table.loc[[decoding, cached], "data wait"].astype(float)
    if speeds.isna().any() or waits.isna().any():
        unmeasured = [key for key in (decoding, cached) if math.isnan(speeds[key]) or math.isnan(waits[key])]
        notes = "; ".join(f"{key}: {table.loc[key, 'note'] or 'no number'}" for key in unmeasured)
        return CacheVerdict(False, math.nan, math.nan, math.nan, f"not measured ({notes})")
    speedup = speeds[cached] / speeds[decoding]
    holds = bool(speedup >= min_speedup and waits[cached] < waits[decoding])
    return CacheVerdict(holds, float(speedup), float(waits[decoding]), float(waits[cached]))


# --------------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------------

def _device_synchronize(device: torch.device) -> None:
    """The actual wait (a separate function so that a checker can watch it)."""
    _synchronize(device)


def synchronize(device: torch.device | str) -> None:
    """Wait until the GPU has finished the work queued so far; nothing to wait for on the CPU.

    CUDA and MPS run asynchronously: a call such as ``loss.backward()`` only *queues* the work and returns
    at once. Reading the clock without waiting measures how fast Python queues work, not how fast the
    GPU does it.
    """
    _device_synchronize(torch.device(device))


def measure_images_per_second(run_pass: Callable[[], Any], images_per_pass: int, *, device: torch.device,
                              repeat: int = 3, warmup: int = 1) -> float:
    """``images_per_pass`` divided by the median seconds of ``repeat`` calls of ``run_pass()``.

    ``warmup`` untimed passes come first (first allocations, cuDNN's algorithm search, worker start-up),
    and the clock waits for ``device`` before it is read (:func:`workshop_utils.timing.time_call`).
    """
    seconds = time_call(run_pass, repeat=repeat, warmup=warmup, device=device)
    return images_per_pass / max(seconds, 1e-9)


def make_train_step(model: nn.Module, optimizer: torch.optim.Optimizer, device: torch.device, *,
                    amp_dtype: torch.dtype | None = None, scaler: Any = None, channels_last: bool = False,
                    non_blocking: bool = False) -> Callable[[torch.Tensor, torch.Tensor], int]:
    """A function ``step(images, labels) -> batch size`` doing one training step of ``model`` on ``device``.

    The batch is copied to the device (``non_blocking`` lets the copy overlap with the GPU's work when the
    batch is in pinned memory), then zero_grad, forward (under autocast in ``amp_dtype`` if given),
    cross-entropy, backward (through ``scaler`` for float16), optimizer step.
    """
    loss_fn = nn.CrossEntropyLoss()

    def step(images: torch.Tensor, labels: torch.Tensor) -> int:
        images = images.to(device, non_blocking=non_blocking)
        labels = labels.to(device, non_blocking=non_blocking)
        if channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        optimizer.zero_grad(set_to_none=True)
        autocast = (torch.autocast(device_type=device.type, dtype=amp_dtype) if amp_dtype is not None
                    else contextlib.nullcontext())
        with autocast:
            loss = loss_fn(model(images), labels)
        if scaler is not None:  # float16: scale the loss so that small gradients do not underflow to zero
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        return len(labels)

    return step


def loader_pass(step: Callable[[torch.Tensor, torch.Tensor], int], loader: Iterable,
                waits: list[float] | None = None) -> Callable[[], int]:
    """A function that runs ``step`` on every batch of ``loader`` once (one epoch) and returns the images seen.

    With a list ``waits``, each pass appends the seconds it spent waiting for the loader's next batch
    (decoding, collating...): the part of an epoch that faster compute cannot shorten.
    """

    def run() -> int:
        seen, waited = 0, 0.0
        batches = iter(loader)
        while True:
            asked = time.perf_counter()
            batch = next(batches, None)
            waited += time.perf_counter() - asked
            if batch is None:
                break
            seen += step(*batch)
        if waits is not None:
            waits.append(waited)
        return seen

    return run


# --------------------------------------------------------------------------------------------------
# Data: PNG files decoded every time, or once into a cache
# --------------------------------------------------------------------------------------------------

def decode_png(path: str | Path, image_size: int) -> torch.Tensor:
    """One image file as a ``3 x image_size x image_size`` uint8 tensor (transparent pixels made white).

    The same decoding as :func:`workshop_utils.data.load_road_signs`: open, composite RGBA on white,
    resize (bilinear), then HWC (what PIL and NumPy use) to CHW (what PyTorch's layers expect).
    """
    from PIL import Image

    from .data.loaders import composite_on_white

    with Image.open(path) as opened:
        rgb, _ = composite_on_white(opened)
    resized = rgb.resize((image_size, image_size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return torch.from_numpy(np.asarray(resized).copy()).permute(2, 0, 1).contiguous()


def decode_png_cache(paths: Sequence[str | Path], image_size: int) -> torch.Tensor:
    """Decode every file once into one ``N x 3 x S x S`` uint8 tensor: the decoded-tensor cache.

    uint8 keeps it 4 times smaller than float32 (road signs at 64 px: 10 MB instead of 40 MB); convert a
    batch to float (``/ 255``) when it is used.
    """
    if not paths:
        raise ValueError("no image files to decode")
    return torch.stack([decode_png(path, image_size) for path in paths])


class PngImageDataset(Dataset):
    """Image files decoded on every access: ``dataset[i]`` opens, decodes and resizes file ``i`` again.

    What a folder-of-images Dataset does (torchvision's ``ImageFolder`` too): it costs no memory, but the
    decoding is paid on every epoch. Defined in a module, not a notebook, so that DataLoader worker
    processes started with "spawn" (Windows, macOS) can import it.
    """

    def __init__(self, paths: Sequence[str | Path], labels: Sequence[int] | torch.Tensor, image_size: int) -> None:
        if len(paths) != len(labels):
            raise ValueError(f"{len(paths)} files but {len(labels)} labels")
        self.paths = [str(path) for path in paths]
        self.labels = torch.as_tensor(labels, dtype=torch.long)
        self.image_size = image_size

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = decode_png(self.paths[index], self.image_size).float().div_(255)
        return image, self.labels[index]


@dataclass
class SpeedData:
    """The images every row trains on.

    ``png_paths``/``png_labels``: the files the input-pipeline rows decode (``pipeline_image_size``).
    ``images``/``labels``: decoded float images in [0, 1] for the compute rows, a whole number of batches.
    ``source``: where the road signs came from (the real data set or the stand-in).
    """

    png_paths: list[str]
    png_labels: torch.Tensor
    images: torch.Tensor
    labels: torch.Tensor
    source: str
    decoded: torch.Tensor | None = field(default=None, repr=False)  # the PNGs decoded once, when first needed


@dataclass(frozen=True)
class SuiteConfig:
    """How much to measure. ``for_mode`` gives the notebook's smoke and full sizes.

    ``batch_size`` images per step; ``compute_images`` images per timed pass of the compute rows (a
    multiple of the batch size, so every batch has the same shape) at ``compute_image_size`` pixels;
    ``pipeline_images`` PNG files per pass of the input-pipeline rows, at ``pipeline_image_size``;
    ``repeat`` timed passes (their median counts) after ``warmup`` untimed ones; ``copy_megabytes`` per
    timed host -> GPU copy; ``compile`` whether to run ``torch.compile`` (15 s or more on a CPU the first time);
    ``threads`` the CPU threads torch may use while measuring (None: leave torch's setting).
    """

    batch_size: int = 64
    compute_image_size: int = 64
    compute_images: int = 256
    pipeline_image_size: int = 32
    pipeline_images: int = 256
    repeat: int = 3
    warmup: int = 1
    copy_megabytes: int = 64
    compile: bool = True
    threads: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.repeat < 1 or self.warmup < 0:
            raise ValueError("batch_size and repeat must be >= 1 and warmup >= 0")
        if self.compute_images < self.batch_size or self.compute_images % self.batch_size:
            raise ValueError(f"compute_images ({self.compute_images}) must be a multiple of batch_size "
                             f"({self.batch_size}): batches of one shape (torch.compile recompiles for a new one)")
        if self.compute_image_size % 8 or self.pipeline_image_size % 8:
            raise ValueError("image sizes must be multiples of 8 (the CNN pools three times)")

    @classmethod
    def for_mode(cls, smoke: bool, device: torch.device | str = "cpu") -> SuiteConfig:
        """Smoke: a few batches per row, 32 px, no compilation. Full: enough to be stable; larger on CUDA.

        On a machine with 2 CPU cores or fewer (CI, Colab's CPU runtime) the CPU rows use one thread: two
        threads need both cores at once, and when anything else runs (CI runs two notebooks side by side,
        Jupyter, a browser) they keep waiting for each other, which makes small models many times slower.
        """
        few_cores = (os.cpu_count() or 1) <= 2
        if smoke:
            return cls(batch_size=32, compute_image_size=32, compute_images=96, pipeline_images=96, repeat=2,
                       warmup=1, copy_megabytes=16, compile=False, threads=1 if few_cores else None)
        if torch.device(device).type == "cuda":  # a GPU finishes a CPU-sized pass in milliseconds
            return cls(batch_size=256, compute_images=4096, pipeline_images=512, repeat=5, warmup=2,
                       copy_megabytes=256)
        return cls(repeat=5, threads=1 if few_cores else None)


def load_speed_data(config: SuiteConfig, *, progress: bool = False) -> SpeedData:
    """The road-sign training images: file paths for the pipeline rows, decoded tensors for the compute rows.

    Uses :func:`workshop_utils.data.load_road_signs` (the real data set, or its announced stand-in). The
    compute images are repeated when the split has fewer than ``compute_images``.
    """
    from .data import load_road_signs

    road = load_road_signs(image_size=config.compute_image_size, progress=progress)
    train_rows = road.table[road.table["split"] == "train"]
    paths = [str(road.root / "images" / name) for name in train_rows["file"]]
    labels = torch.as_tensor([road.classes.index(label) for label in train_rows["label"]], dtype=torch.long)
    repeats = math.ceil(config.pipeline_images / len(paths))
    paths, labels = (paths * repeats)[:config.pipeline_images], labels.repeat(repeats)[:config.pipeline_images]

    images, image_labels = road.train.tensors
    if images.shape[-1] != config.compute_image_size:  # smoke mode loads 32 px whatever was asked
        images = nn.functional.interpolate(images, size=config.compute_image_size, mode="bilinear",
                                           align_corners=False)
    repeats = math.ceil(config.compute_images / len(images))
    images = images.repeat(repeats, 1, 1, 1)[:config.compute_images].contiguous()
    image_labels = image_labels.repeat(repeats)[:config.compute_images]
    return SpeedData(paths, labels, images, image_labels, road.source)


# --------------------------------------------------------------------------------------------------
# The model and small helpers
# --------------------------------------------------------------------------------------------------

def speed_model(image_size: int, seed: int = 0) -> nn.Sequential:
    """Notebook 05's road-sign CNN (32,420 parameters), the same initial weights for every row.

    The weights come from a generator seeded with ``seed``; the global random state is left as it was.
    """
    from .architectures import road_sign_cnn

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return road_sign_cnn(image_size=image_size)


def freeze_all_but_last(model: nn.Module) -> nn.Module:
    """Freeze every parameter except those of the last layer that has parameters; return the model.

    Frozen parameters (``requires_grad=False``) get no gradient: backpropagation stops at the first
    layer that still learns, so the backward pass through the frozen layers is skipped.
    """
    layers = [module for module in model.modules() if any(True for _ in module.parameters(recurse=False))]
    if not layers:
        raise ValueError("the model has no parameters to freeze")
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    for parameter in layers[-1].parameters():
        parameter.requires_grad_(True)
    return model


def first_line(error: BaseException) -> str:
    """``"TypeName: first line of the message"`` (compiler errors run to pages)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0] if lines else '(no message)'}"


def needs_cuda(device: torch.device, what: str) -> str | None:
    """The reason a CUDA-only row is skipped on ``device``, or None on CUDA."""
    if device.type == "cuda":
        return None
    return f"needs CUDA: {what} (this run is on {device.type})"


def _seeded_generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _row(key: str, images_per_second: float | None = None, reason: str | None = None, **fields) -> SpeedRow:
    spec = _SPECS[key]
    return SpeedRow(key=key, name=fields.pop("name", spec.name), group=spec.group, baseline=spec.baseline,
                    images_per_second=images_per_second, reason=reason, **fields)


def _settings(config: SuiteConfig, device: torch.device, image_size: int, **more) -> dict[str, Any]:
    return {"device": str(device), "batch size": config.batch_size, "image size": image_size,
            "CPU threads": torch.get_num_threads(), **more}


def _compute_loader(data: SpeedData, config: SuiteConfig, device: torch.device):
    from .data import TensorBatchLoader

    return TensorBatchLoader(data.images, data.labels, batch_size=config.batch_size, shuffle=True,
                             seed=config.seed, device=device)


def _measure_compute(data: SpeedData, config: SuiteConfig, device: torch.device, *,
                     model: nn.Module | None = None, amp_dtype: torch.dtype | None = None, scaler: Any = None,
                     channels_last: bool = False) -> float:
    """Images per second of the compute rows' training: data already on ``device``, batches sliced there."""
    model = (model if model is not None else speed_model(config.compute_image_size, config.seed)).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    step = make_train_step(model, optimizer, device, amp_dtype=amp_dtype, scaler=scaler,
                           channels_last=channels_last)
    loader = _compute_loader(data, config, device)
    return measure_images_per_second(loader_pass(step, loader), len(data.images), device=device,
                                     repeat=config.repeat, warmup=config.warmup)


def _measure_loader(loader, config: SuiteConfig, device: torch.device, *,
                    non_blocking: bool = False) -> tuple[float, float]:
    """``(images per second, share of the time spent waiting for data)`` of training the pipeline-size CNN
    from ``loader`` (one pass = one epoch)."""
    model = speed_model(config.pipeline_image_size, config.seed).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    step = make_train_step(model, optimizer, device, non_blocking=non_blocking)
    waits: list[float] = []
    speed = measure_images_per_second(loader_pass(step, loader, waits), len(loader.dataset), device=device,
                                      repeat=config.repeat, warmup=config.warmup)
    seconds_per_pass = len(loader.dataset) / speed
    waiting = min(statistics.median(waits[config.warmup:]) / seconds_per_pass, 1.0)
    return speed, waiting


# --------------------------------------------------------------------------------------------------
# One function per row
# --------------------------------------------------------------------------------------------------

def measure_cpu(data: SpeedData, config: SuiteConfig, device: torch.device) -> SpeedRow:
    """The float32 training of the compute rows, on the CPU whatever ``device`` is."""
    cpu = torch.device("cpu")
    return _row("cpu", _measure_compute(data, config, cpu),
                settings=_settings(config, cpu, config.compute_image_size))


def measure_gpu(data: SpeedData, config: SuiteConfig, device: torch.device) -> SpeedRow:
    """The same training on the GPU (CUDA or Apple MPS), or why there is none."""
    if device.type == "cpu":
        return _row("gpu", reason="needs a GPU (CUDA or Apple MPS): this run is on the CPU. In Colab: Runtime > "
                                  "Change runtime type > T4 GPU, then run benchmarks/training_speed.py")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "Apple MPS"
    return _row("gpu", _measure_compute(data, config, device), name=f"GPU ({name})",
                settings=_settings(config, device, config.compute_image_size))


def measure_copy(data: SpeedData, config: SuiteConfig, device: torch.device, *, pinned: bool) -> SpeedRow:
    """Host -> GPU copy speed of float32 images, from pageable (ordinary) or pinned (page-locked) memory.

    The GPU copies by DMA from page-locked memory only: from pageable memory the driver first copies
    into a pinned staging buffer, then to the GPU. ``images_per_second`` counts images of the compute
    rows' size; ``extra["gigabytes_per_second"]`` the bandwidth.
    """
    key = "copy-pinned" if pinned else "copy-pageable"
    reason = needs_cuda(device, "a copy from host memory to the GPU's memory")
    if reason:
        return _row(key, reason=reason)
    size = config.compute_image_size
    count = max(1, config.copy_megabytes * 2**20 // (3 * size * size * 4))
    host = torch.rand(count, 3, size, size)
    if pinned:
        host = host.pin_memory()
    seconds = time_call(lambda: host.to(device, non_blocking=pinned), repeat=config.repeat,
                        warmup=config.warmup, device=device)
    seconds = max(seconds, 1e-9)
    return _row(key, count / seconds, extra={"gigabytes_per_second": host.nbytes / seconds / 1e9},
                settings={"device": str(device), "megabytes": round(host.nbytes / 2**20), "image size": size})


def measure_png_workers(data: SpeedData, config: SuiteConfig, device: torch.device, *, workers: int) -> SpeedRow:
    """Training from a DataLoader that decodes the PNG files every epoch, with ``workers`` worker processes.

    Workers decode the next batches in parallel while the main process trains; they are kept alive
    between epochs (``persistent_workers``), so their start-up is paid once, in the warm-up epoch. A
    request :func:`workshop_utils.device.safe_num_workers` turns down is reported, not measured.
    """
    from .device import safe_num_workers

    key = f"png-workers-{workers}"
    granted, why = safe_num_workers(workers)
    if granted < workers:
        return _row(key, reason=f"not measured: {why}")
    cpus = os.cpu_count() or 1
    note = f"{workers} worker processes on {cpus} CPU cores" if workers > cpus - 1 and workers else ""
    dataset = PngImageDataset(data.png_paths, data.png_labels, config.pipeline_image_size)
    with warnings.catch_warnings():  # "more workers than suggested": the note says so, once
        warnings.filterwarnings("ignore", message="This DataLoader will create", category=UserWarning)
        loader = DataLoader(dataset, batch_size=config.batch_size, shuffle=True, num_workers=workers,
                            persistent_workers=workers > 0, generator=_seeded_generator(config.seed))
        try:
            speed, waiting = _measure_loader(loader, config, device)
        finally:
            del loader  # shuts persistent workers down
    return _row(key, speed, note=note, extra={"waiting_for_data": waiting},
                settings=_settings(config, device, config.pipeline_image_size, workers=workers,
                                   files=len(dataset)))


def measure_decoded_cache(data: SpeedData, config: SuiteConfig, device: torch.device) -> SpeedRow:
    """Training from a DataLoader over the same files decoded once, before training, into a uint8 tensor."""
    from .data import ImageTensorDataset

    started = time.perf_counter()
    cache = decode_png_cache(data.png_paths, config.pipeline_image_size)
    decode_seconds = time.perf_counter() - started
    data.decoded = cache  # the next group's rows start from this cache
    loader = DataLoader(ImageTensorDataset(cache, data.png_labels), batch_size=config.batch_size, shuffle=True,
                        generator=_seeded_generator(config.seed))
    speed, waiting = _measure_loader(loader, config, device)
    return _row("decoded-cache", speed, note=f"decoding once took {decode_seconds:.1f} s",
                extra={"decode_once_seconds": decode_seconds, "waiting_for_data": waiting},
                settings=_settings(config, device, config.pipeline_image_size, workers=0,
                                   megabytes=round(cache.nbytes / 2**20, 1)))


def _cached_dataset(data: SpeedData, config: SuiteConfig):
    """The decoded PNG files as a Dataset of uint8 images served as float (decoded now if no row did yet)."""
    from .data import ImageTensorDataset

    if data.decoded is None or data.decoded.shape[-1] != config.pipeline_image_size:
        data.decoded = decode_png_cache(data.png_paths, config.pipeline_image_size)
    return ImageTensorDataset(data.decoded, data.png_labels)


def measure_dataloader(data: SpeedData, config: SuiteConfig, device: torch.device, *,
                       pinned: bool = False) -> SpeedRow:
    """A DataLoader over decoded uint8 images: per item, index, convert to float, collate, copy the batch.

    ``pinned=True`` (CUDA only): ``pin_memory=True`` puts each batch in page-locked memory, and
    ``.to(device, non_blocking=True)`` copies it while the GPU still works on the previous step.
    """
    key = "pinned-non-blocking" if pinned else "dataloader"
    if pinned:
        reason = needs_cuda(device, "pinned (page-locked) memory speeds up copies to a CUDA GPU; on the CPU "
                                    "there is no copy to speed up")
        if reason:
            return _row(key, reason=reason)
    dataset = _cached_dataset(data, config)
    loader = DataLoader(dataset, batch_size=config.batch_size, shuffle=True, pin_memory=pinned,
                        generator=_seeded_generator(config.seed))
    speed, waiting = _measure_loader(loader, config, device, non_blocking=pinned)
    return _row(key, speed,  extra={"waiting_for_data": waiting},
                settings=_settings(config, device, config.pipeline_image_size, pin_memory=pinned))


def measure_device_resident(data: SpeedData, config: SuiteConfig, device: torch.device) -> SpeedRow:
    """The images moved to the device once; each batch is a slice there (no per-item Python, no copies)."""
    from .data import TensorBatchLoader

    images, labels = _cached_dataset(data, config).tensors
    loader = TensorBatchLoader(images, labels, batch_size=config.batch_size, shuffle=True, seed=config.seed,
                               device=device)
    speed, waiting = _measure_loader(loader, config, device)
    note = "" if device.type != "cpu" else "on the CPU there is no copy to save, only the DataLoader's per-item work"
    return _row("device-resident", speed, note=note, extra={"waiting_for_data": waiting},
                settings=_settings(config, device, config.pipeline_image_size))


def measure_augmentation(data: SpeedData, config: SuiteConfig, device: torch.device, *, batched: bool) -> SpeedRow:
    """Training with notebook 05's road-sign augmentation: per image on the CPU in a DataLoader (the usual way),
    or on whole batches on the training device (:class:`~workshop_utils.batch_augmentation.BatchAugmentation`)."""
    from .augmentation import ROAD_SIGN_AUGMENTATION, build_augmentation
    from .batch_augmentation import BatchAugmentation
    from .data import ImageTensorDataset, TensorBatchLoader

    cached = _cached_dataset(data, config)
    if batched:
        images, labels = cached.tensors
        loader = TensorBatchLoader(images, labels, batch_size=config.batch_size, shuffle=True, seed=config.seed,
                                   device=device, augment=BatchAugmentation(ROAD_SIGN_AUGMENTATION, seed=config.seed))
    else:
        dataset = ImageTensorDataset(data.decoded, data.png_labels, transform=build_augmentation(ROAD_SIGN_AUGMENTATION))
        loader = DataLoader(dataset, batch_size=config.batch_size, shuffle=True,
                            generator=_seeded_generator(config.seed))
    speed, waiting = _measure_loader(loader, config, device)
    return _row("augment-batched" if batched else "augment-per-image", speed, extra={"waiting_for_data": waiting},
                settings=_settings(config, device, config.pipeline_image_size,
                                   presets=", ".join(ROAD_SIGN_AUGMENTATION)))


def measure_float32(data: SpeedData, config: SuiteConfig, device: torch.device) -> SpeedRow:
    """The compute rows' baseline: float32, eager (no compilation), data on the device."""
    return _row("float32", _measure_compute(data, config, device),
                settings=_settings(config, device, config.compute_image_size))


def measure_amp(data: SpeedData, config: SuiteConfig, device: torch.device, *, dtype: torch.dtype) -> SpeedRow:
    """Mixed precision: the forward pass under ``torch.autocast`` in bfloat16, or float16 with a GradScaler.

    bfloat16 is measured only where the GPU computes it in hardware (compute capability 8.0 and newer:
    A100, RTX 30xx, H100...); float16 on every CUDA GPU (a T4 has float16 tensor cores).
    """
    from .training import has_fast_bf16, make_grad_scaler

    key = "amp-bf16" if dtype == torch.bfloat16 else "amp-fp16"
    reason = needs_cuda(device, "16-bit tensor-core arithmetic on an NVIDIA GPU; autocast on a CPU "
                                "rarely trains these models faster")
    if reason:
        return _row(key, reason=reason)
    if dtype == torch.bfloat16 and not has_fast_bf16(device):
        major, minor = torch.cuda.get_device_capability(device)
        return _row(key, reason=f"this GPU (compute capability {major}.{minor}) has no fast bfloat16, which "
                                "needs 8.0 or newer: see the float16 row")
    scaler = make_grad_scaler(device) if dtype == torch.float16 else None
    return _row(key, _measure_compute(data, config, device, amp_dtype=dtype, scaler=scaler),
                settings=_settings(config, device, config.compute_image_size, dtype=str(dtype)))


def measure_channels_last(data: SpeedData, config: SuiteConfig, device: torch.device) -> SpeedRow:
    """Images and weights stored height x width x channels in memory (the layout tensor cores prefer)."""
    return _row("channels-last", _measure_compute(data, config, device, channels_last=True),
                settings=_settings(config, device, config.compute_image_size))


def measure_cudnn_benchmark(data: SpeedData, config: SuiteConfig, device: torch.device) -> SpeedRow:
    """``torch.backends.cudnn.benchmark = True``: cuDNN times its convolution algorithms for each new input
    shape (in the warm-up) and keeps the fastest. Restored afterwards."""
    reason = needs_cuda(device, "cudnn.benchmark chooses among cuDNN's convolution algorithms; cuDNN is "
                                "NVIDIA's GPU library, unused on the CPU")
    if reason:
        return _row("cudnn-benchmark", reason=reason)
    before = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = True
    try:
        speed = _measure_compute(data, config, device)
    finally:
        torch.backends.cudnn.benchmark = before
    return _row("cudnn-benchmark", speed, settings=_settings(config, device, config.compute_image_size))


def measure_compile(data: SpeedData, config: SuiteConfig, device: torch.device) -> SpeedRow:
    """``torch.compile(model)``: steady-state throughput, and the compile time apart (``compile_seconds``).

    The first training step traces the model and generates code (tens of seconds the first time; torch
    caches the generated code on disk, so a later run on the same machine compiles faster); that step's
    time minus an ordinary step's is the compile time. A compiler error becomes the row's reason.
    """
    if not config.compile:
        return _row("compile", reason="skipped in smoke mode: compiling first takes 15 s or more on a CPU; a full "
                                      "run measures it (WORKSHOP_SMOKE=0, or benchmarks/training_speed.py without "
                                      "--smoke)")
    if not hasattr(torch, "compile"):
        return _row("compile", reason=f"torch {torch.__version__} has no torch.compile (needs 2.0 or newer)")
    model = speed_model(config.compute_image_size, config.seed).to(device)
    quiet = logging.getLogger("torch.utils.cpp_extension")  # "No CUDA runtime is found" on CPU-only machines
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        compiled = torch.compile(model)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        step = make_train_step(compiled, optimizer, device)
        loader = _compute_loader(data, config, device)
        images, labels = next(iter(loader))
        synchronize(device)
        started = time.perf_counter()
        step(images, labels)  # traces, compiles, and runs one step
        synchronize(device)
        first_step = time.perf_counter() - started
        speed = measure_images_per_second(loader_pass(step, loader), len(data.images), device=device,
                                          repeat=config.repeat, warmup=config.warmup)
    except Exception as error:  # a missing C++ compiler, an unsupported Python or platform...
        return _row("compile", reason=f"torch.compile failed: {first_line(error)}")
    finally:
        quiet.setLevel(level)
        with contextlib.suppress(Exception):
            torch._dynamo.reset()  # drop the compiled code: later rows run eager
    compile_seconds = max(first_step - config.batch_size / speed, 0.0)
    return _row("compile", speed, note=f"compiling took {compile_seconds:.0f} s before the first step (compiled "
                                       "code is cached on disk: a second run compiles faster)",
                extra={"compile_seconds": compile_seconds},
                settings=_settings(config, device, config.compute_image_size))


def measure_frozen(data: SpeedData, config: SuiteConfig, device: torch.device) -> SpeedRow:
    """Only the last layer learns (:func:`freeze_all_but_last`): no backward pass through the convolutions."""
    model = freeze_all_but_last(speed_model(config.compute_image_size, config.seed))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return _row("frozen", _measure_compute(data, config, device, model=model),
                note=f"{trainable:,} of {total:,} parameters learn",
                settings=_settings(config, device, config.compute_image_size, trainable=trainable))


MEASUREMENTS: dict[str, Callable[[SpeedData, SuiteConfig, torch.device], SpeedRow]] = {
    "cpu": measure_cpu,
    "gpu": measure_gpu,
    "copy-pageable": lambda data, config, device: measure_copy(data, config, device, pinned=False),
    "copy-pinned": lambda data, config, device: measure_copy(data, config, device, pinned=True),
    "png-workers-0": lambda data, config, device: measure_png_workers(data, config, device, workers=0),
    "png-workers-2": lambda data, config, device: measure_png_workers(data, config, device, workers=2),
    "png-workers-4": lambda data, config, device: measure_png_workers(data, config, device, workers=4),
    "decoded-cache": measure_decoded_cache,
    "dataloader": measure_dataloader,
    "pinned-non-blocking": lambda data, config, device: measure_dataloader(data, config, device, pinned=True),
    "device-resident": measure_device_resident,
    "augment-per-image": lambda data, config, device: measure_augmentation(data, config, device, batched=False),
    "augment-batched": lambda data, config, device: measure_augmentation(data, config, device, batched=True),
    "float32": measure_float32,
    "amp-bf16": lambda data, config, device: measure_amp(data, config, device, dtype=torch.bfloat16),
    "amp-fp16": lambda data, config, device: measure_amp(data, config, device, dtype=torch.float16),
    "channels-last": measure_channels_last,
    "cudnn-benchmark": measure_cudnn_benchmark,
    "compile": measure_compile,
    "frozen": measure_frozen,
}


def select_rows(rows: Iterable[str] | None = None) -> list[str]:
    """The row keys to run, in table order: ``rows`` may name keys and groups; None means all."""
    if rows is None:
        return list(ROW_KEYS)
    wanted: set[str] = set()
    for name in rows:
        if name in _SPECS:
            wanted.add(name)
        elif name in GROUPS:
            wanted.update(spec.key for spec in SPEED_ROWS if spec.group == name)
        else:
            raise ValueError(f"unknown row {name!r}: choose among the keys {list(ROW_KEYS)} or the groups "
                             f"{list(GROUPS)}")
    return [key for key in ROW_KEYS if key in wanted]


def measure_row(key: str, data: SpeedData, config: SuiteConfig, device: torch.device) -> SpeedRow:
    """Run one row's measurement; an unexpected error becomes the row's reason instead of stopping the suite."""
    try:
        row = MEASUREMENTS[key](data, config, device)
    except Exception as error:  # one broken trick must not hide the others' numbers
        row = _row(key, reason=f"failed: {first_line(error)}")
    if row.key != key:
        raise AssertionError(f"measurement for {key!r} returned the row {row.key!r}")
    return row


def run_speed_suite(device: torch.device | str, *, smoke: bool | None = None, rows: Iterable[str] | None = None,
                    config: SuiteConfig | None = None, data: SpeedData | None = None,
                    progress: Callable[[SpeedRow], Any] | None = None) -> list[SpeedRow]:
    """Measure the chosen ``rows`` (keys or groups; default all) on ``device``: one :class:`SpeedRow` each.

    ``config`` defaults to :meth:`SuiteConfig.for_mode` (``smoke`` sizes, or full ones; ``smoke=None``: the
    ``WORKSHOP_SMOKE`` setting), ``data`` to :func:`load_speed_data`. ``smoke`` is not used when ``config`` is
    given. ``progress`` is called with each row as soon as it is measured.
    """
    device = torch.device(device)
    if config is None:
        from . import config as settings  # the module, not this function's ``config`` argument
        config = SuiteConfig.for_mode(settings.smoke_mode() if smoke is None else smoke, device)
    keys = select_rows(rows)
    data = data if data is not None else load_speed_data(config)
    measured = []
    threads_before = torch.get_num_threads()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    try:
        for key in keys:
            row = measure_row(key, data, config, device)
            measured.append(row)
            if progress is not None:
                progress(row)
    finally:
        torch.set_num_threads(threads_before)
    return measured


def describe_config(config: SuiteConfig, device: torch.device | str, data: SpeedData | None = None) -> str:
    """One paragraph: what the rows train, on what, how long."""
    threads = config.threads if config.threads is not None else torch.get_num_threads()
    text = (f"notebook 05's road-sign CNN on {torch.device(device)}, {threads} CPU thread{'s' * (threads != 1)}; "
            f"batches of {config.batch_size}; compute rows: {config.compute_images} images of "
            f"{config.compute_image_size} px per pass; pipeline rows: {config.pipeline_images} PNG files at "
            f"{config.pipeline_image_size} px per epoch; median of {config.repeat} passes after {config.warmup} "
            "warm-up")
    if data is not None:
        text += f"; road signs: {data.source}"
    return text
