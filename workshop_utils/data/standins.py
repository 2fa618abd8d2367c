"""Synthetic stand-ins for the image data sets that cannot always be downloaded.

A stand-in has the real data set's *format* (file names, file types, image sizes, class names and
class mix) so that every line of a notebook runs unchanged, and it keeps the *lessons* true:

* **Fashion-MNIST** (:func:`make_fashion_mnist_standin`): IDX ``.gz`` files with 60,000 / 10,000 images
  of 28x28 grey pixels and 10 balanced classes named like the real ones. Each class is a small motif
  (bars, a ring, a cross, a checker...) stamped at *random positions* among random distractor strokes,
  so a class is told by local shape, wherever it is: a small CNN clearly beats a much larger MLP.
* **Road signs** (:func:`make_road_signs_standin`): 877 PNG images (RGB and some RGBA, mostly
  300x400) with Pascal VOC annotations in Kaggle's layout, ``images/roadN.png`` and
  ``annotations/roadN.xml``. Drawn speed-limit, stop, crosswalk and traffic-light signs on cluttered
  backgrounds, small and at random places, with the real class imbalance and ~3% wrong labels: a small
  CNN overfits it, imbalance matters, and the noisy-label lesson finds real mistakes.
* **GTSRB 4-class subset** (:func:`make_gtsrb_standin_arrays`): the same sign renderer, tight 32x32 crops.

Everything is deterministic for a given seed. Files are generated in a temporary folder beside the
target and renamed into place at the end, so an interrupted run leaves nothing half-written; a complete
folder (its ``STANDIN.json`` matches the request) is reused.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from .. import config
from .idx import write_idx
from .voc import ROAD_SIGN_CLASSES, VocAnnotation, VocObject, write_voc_annotation

# --------------------------------------------------------------------------------------------------
# Shared: atomic, reusable generation folders
# --------------------------------------------------------------------------------------------------

MARKER_FILE = "STANDIN.json"


def _is_complete(folder: Path, spec: dict) -> bool:
    """True when ``folder`` holds a finished stand-in generated from exactly ``spec``."""
    try:
        return json.loads((folder / MARKER_FILE).read_text(encoding="utf-8")) == spec
    except (OSError, ValueError):
        return False


def _generate_atomically(target: Path, spec: dict, fill: Callable[[Path], None]) -> Path:
    """Make ``target`` by calling ``fill(temporary_folder)`` and renaming the folder into place.

    ``spec`` (JSON-able) describes what was generated; it is written last, as ``STANDIN.json``, and a
    folder is reused only when its marker equals ``spec``. Safe when two processes (e.g. two notebooks
    run in parallel by CI) generate at once: the loser of the rename discards its copy.
    """
    if _is_complete(target, spec):
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part"))
        os.chmod(temporary, 0o755)  # mkdtemp makes it private; the finished folder may be shared or served
    except OSError as error:
        raise OSError(
            f"Cannot write the stand-in data set into {target.parent} ({error}). "
            "Set WORKSHOP_DATA_DIR to a writable folder."
        ) from None
    try:
        fill(temporary)
        (temporary / MARKER_FILE).write_text(json.dumps(spec, indent=2, sort_keys=True), encoding="utf-8")
        if _is_complete(target, spec):
            # Another process (a second notebook, a pytest-xdist worker) finished the same stand-in
            # while we were drawing and may be reading it now: keep its copy, discard ours.
            return target
        if target.exists():
            # An outdated or unfinished folder from an older version or an interrupted copy: move it
            # aside first so that the rename below cannot land inside it.
            stale = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".stale"))
            try:
                target.rename(stale / "old")
            except OSError:
                pass  # another process replaced it in the meantime; checked below
            shutil.rmtree(stale, ignore_errors=True)
        try:
            temporary.rename(target)
        except OSError:
            if not _is_complete(target, spec):  # another process won the race with the same content: fine
                raise
    finally:
        if temporary.exists():
            shutil.rmtree(temporary, ignore_errors=True)
    return target


def _progress(iterable, total: int, description: str, enabled: bool):
    """``iterable`` wrapped in a tqdm progress bar when ``enabled`` (tqdm imported only then)."""
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=description, leave=False)


# --------------------------------------------------------------------------------------------------
# Fashion-MNIST stand-in
# --------------------------------------------------------------------------------------------------

#: The real Fashion-MNIST class names, in label order.
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

#: File names of the four IDX files, the same for the real data set and the stand-in.
FASHION_MNIST_FILES: dict[str, str] = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}

FASHION_MNIST_STANDIN_VERSION = 1
_MOTIF_SIZE = 7
# Difficulty, tuned so that with the full 60k training images an MLP 784-256-128 reaches ~84% test
# accuracy (and overfits) while a 9k-parameter 2-conv CNN reaches ~95% in 5 epochs of Adam.
_DISTRACTOR_STROKES = 8
_PIXEL_NOISE = 0.06


def _fashion_motifs() -> np.ndarray:
    """Ten 7x7 motifs, one per class, told apart by local shape only (10x7x7 floats in [0, 1])."""
    size = _MOTIF_SIZE
    yy, xx = np.mgrid[:size, :size]
    radius = np.hypot(yy - 3, xx - 3)
    motifs = np.zeros((10, size, size), np.float32)
    motifs[0, [1, 5], :] = 1                                      # two horizontal bars
    motifs[1, :, [1, 5]] = 1                                      # two vertical bars
    motifs[2] = (np.abs(yy - xx) <= 0.5) | (xx - yy == 1)        # thick falling diagonal
    motifs[3] = motifs[2][:, ::-1]                                # thick rising diagonal
    motifs[4] = (radius > 1.8) & (radius < 3.2)                   # ring
    motifs[5, 3, :] = 1                                           # plus
    motifs[5, :, 3] = 1
    motifs[6] = (yy == xx) | (yy == size - 1 - xx)                # X
    motifs[7] = (yy + xx) % 2 == 0                                # checker
    motifs[8, [0, -1], :] = 1                                     # square outline
    motifs[8, :, [0, -1]] = 1
    motifs[9] = ((yy >= 3) & (np.abs(xx - 3) <= yy - 3)) | ((yy < 3) & (xx == 3))  # arrow head on a stem
    return motifs


def fashion_mnist_standin_arrays(n_train: int = 60_000, n_test: int = 10_000, seed: int = 0):
    """The stand-in's images and labels as arrays: ``(train_images, train_labels, test_images, test_labels)``.

    Images are uint8 ``N x 28 x 28``, labels uint8 with every class equally often (like the real set).
    Vectorized: 70,000 images take a few seconds.
    """
    return (*_fashion_split(n_train, np.random.default_rng([seed, 0])),
            *_fashion_split(n_test, np.random.default_rng([seed, 1])))


def _fashion_split(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``count`` stand-in images and their balanced labels drawn from ``rng``."""
    motifs, size, side = _fashion_motifs(), _MOTIF_SIZE, 28
    labels = rng.permutation(np.resize(np.arange(10, dtype=np.uint8), count))
    # The 28x28 image sits at [1:29, 1:29] of a larger canvas: a 1-pixel border for the blur below
    # and room on the right and bottom so a motif never wraps. Pixels are addressed by flat index
    # (image, row, column) -> one number: ~10x faster than fancy indexing with three arrays.
    canvas_rows, canvas_cols = 1 + side + size, 1 + side + size
    canvas = np.zeros(count * canvas_rows * canvas_cols, np.float32)
    image_base = np.arange(count) * (canvas_rows * canvas_cols)
    patterns = motifs[labels].reshape(count, size * size)

    def stamp(top: np.ndarray, left: np.ndarray, offsets: list, values: np.ndarray) -> None:
        """Max ``values`` into each image at ``(top, left) + offset``; offsets may differ per image."""
        base = image_base + (top + 1) * canvas_cols + (left + 1)
        for k, (dy, dx) in enumerate(offsets):
            index = base + dy * canvas_cols + dx
            value = values[:, k] if values.ndim == 2 else values
            canvas[index] = np.maximum(canvas[index], value)

    # One to three copies of the class motif at random places and strengths.
    offsets = [(dy, dx) for dy in range(size) for dx in range(size)]
    for copy in range(3):
        present = rng.random(count) < (1.0 if copy == 0 else 0.5)
        top = rng.integers(0, side - size + 1, count)
        left = rng.integers(0, side - size + 1, count)
        strength = rng.uniform(0.5, 1.0, count).astype(np.float32) * present
        stamp(top, left, offsets, patterns * strength[:, None])
    # Short strokes (4 pixels, in 4 directions) shared by all classes: they hide the motifs from
    # pixel-wise models.
    for _ in range(_DISTRACTOR_STROKES):
        direction = rng.integers(0, 4, count)
        step_y, step_x = np.array([0, 1, 1, 1])[direction], np.array([1, 0, 1, -1])[direction]
        top = rng.integers(0, side - 3 * step_y)
        left = rng.integers(np.where(step_x < 0, 3, 0), side - 3 * np.maximum(step_x, 0))
        strength = rng.uniform(0.3, 0.9, count).astype(np.float32)
        stamp(top, left, [(t * step_y, t * step_x) for t in range(4)], strength)
    canvas = canvas.reshape(count, canvas_rows, canvas_cols)
    centre = canvas[:, 1:side + 1, 1:side + 1]
    blurred = (4 * centre + canvas[:, :side, 1:side + 1] + canvas[:, 2:side + 2, 1:side + 1]
               + canvas[:, 1:side + 1, :side] + canvas[:, 1:side + 1, 2:side + 2]) * (255 / 8)
    blurred += rng.standard_normal(blurred.shape, dtype=np.float32) * (255 * _PIXEL_NOISE)
    pixels = np.clip(blurred + 0.5, 0, 255).astype(np.uint8)
    return pixels, labels


def default_fashion_mnist_standin_dir() -> Path:
    """Where the Fashion-MNIST stand-in is cached: ``data_dir()/fashion-mnist-standin``."""
    return config.data_dir() / "fashion-mnist-standin"


def make_fashion_mnist_standin(
    root: str | Path | None = None, *, seed: int = 0, n_train: int = 60_000, n_test: int = 10_000
) -> Path:
    """Write (or reuse) the Fashion-MNIST stand-in as the four real IDX ``.gz`` file names; returns the folder.

    Read it back with :func:`workshop_utils.data.idx.read_idx`, exactly like the real files.
    """
    target = Path(root) if root is not None else default_fashion_mnist_standin_dir()
    spec = {
        "dataset": "fashion-mnist stand-in",
        "version": FASHION_MNIST_STANDIN_VERSION,
        "seed": seed,
        "n_train": n_train,
        "n_test": n_test,
        "classes": list(FASHION_MNIST_CLASSES),
    }

    def fill(folder: Path) -> None:
        train_images, train_labels, test_images, test_labels = fashion_mnist_standin_arrays(n_train, n_test, seed)
        arrays = {"train_images": train_images, "train_labels": train_labels,
                  "test_images": test_images, "test_labels": test_labels}
        for key, array in arrays.items():
            # Level 1: noisy pixels barely compress anyway, and level 9 would take ~10x longer.
            write_idx(array, folder / FASHION_MNIST_FILES[key], compresslevel=1)

    return _generate_atomically(target, spec, fill)


# --------------------------------------------------------------------------------------------------
# Sign renderer (road signs and GTSRB)
# --------------------------------------------------------------------------------------------------

# Seven-segment strokes in a unit box: (x0, y0, x1, y1). Hand-drawn with lines rather than a font, so
# the pictures are the same with every Pillow version and need no font file.
_SEGMENTS = {
    "a": (0, 0, 1, 0), "b": (1, 0, 1, 0.5), "c": (1, 0.5, 1, 1), "d": (0, 1, 1, 1),
    "e": (0, 0.5, 0, 1), "f": (0, 0, 0, 0.5), "g": (0, 0.5, 1, 0.5), "t": (0.5, 0, 0.5, 1),
}
_GLYPHS = {
    "0": "abcdef", "1": "bc", "2": "abged", "3": "abgcd", "4": "fgbc", "5": "afgcd", "6": "afgedc",
    "7": "abc", "8": "abcdefg", "9": "abcdfg", "S": "afgcd", "T": "at", "O": "abcdef", "P": "abfge",
}
_SPEEDS = ("20", "30", "40", "50", "60", "70", "80", "90", "100", "120")
_RED = (200, 20, 30)
_BLUE = (20, 80, 170)


def _draw_text(draw: ImageDraw.ImageDraw, text: str, center: tuple[float, float], height: float,
               fill: tuple[int, int, int]) -> None:
    """``text`` in seven-segment glyphs centred on ``center``."""
    glyph_width, gap, stroke = 0.5 * height, 0.18 * height, max(1, round(0.13 * height))
    total = len(text) * glyph_width + (len(text) - 1) * gap
    left, top = center[0] - total / 2, center[1] - height / 2
    for index, char in enumerate(text):
        x = left + index * (glyph_width + gap)
        for segment in _GLYPHS[char]:
            x0, y0, x1, y1 = _SEGMENTS[segment]
            draw.line([(x + x0 * glyph_width, top + y0 * height), (x + x1 * glyph_width, top + y1 * height)],
                      fill=fill, width=stroke)


def _regular_polygon(center: tuple[float, float], radius: float, sides: int, rotation: float) -> list:
    """Corner points of a regular polygon."""
    cx, cy = center
    return [(cx + radius * math.cos(rotation + 2 * math.pi * k / sides),
             cy + radius * math.sin(rotation + 2 * math.pi * k / sides)) for k in range(sides)]


def _sign_canvas(width: int, height: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    return image, ImageDraw.Draw(image)


def _draw_speedlimit(size: int, rng: np.random.Generator) -> Image.Image:
    image, draw = _sign_canvas(size, size)
    draw.ellipse([0, 0, size - 1, size - 1], fill=_RED)
    ring = 0.13 * size
    draw.ellipse([ring, ring, size - 1 - ring, size - 1 - ring], fill=(245, 245, 240))
    speed = _SPEEDS[rng.integers(len(_SPEEDS))]
    text_height = 0.38 * size if len(speed) == 2 else 0.3 * size
    _draw_text(draw, speed, (size / 2, size / 2), text_height, (20, 20, 20))
    return image


def _draw_stop(size: int, rng: np.random.Generator) -> Image.Image:
    image, draw = _sign_canvas(size, size)
    center, rotation = (size / 2, size / 2), math.pi / 8
    draw.polygon(_regular_polygon(center, size / 2, 8, rotation), fill=(240, 240, 240))
    draw.polygon(_regular_polygon(center, size / 2 * 0.92, 8, rotation), fill=_RED)
    _draw_text(draw, "STOP", center, 0.26 * size, (250, 250, 250))
    return image


def _draw_crosswalk(size: int, rng: np.random.Generator) -> Image.Image:
    image, draw = _sign_canvas(size, size)
    draw.rounded_rectangle([0, 0, size - 1, size - 1], radius=0.08 * size, fill=_BLUE)
    margin = 0.1 * size
    draw.polygon([(size / 2, margin), (size - margin, size - margin), (margin, size - margin)],
                 fill=(250, 250, 250))
    # Zebra stripes and a walking figure inside the triangle.
    stripe_top, stripe_bottom = 0.8 * size, 0.86 * size
    for k in range(4):
        x0 = 0.3 * size + k * 0.11 * size
        draw.rectangle([x0, stripe_top, x0 + 0.06 * size, stripe_bottom], fill=(20, 20, 20))
    stroke = max(1, round(0.05 * size))
    head = (0.5 * size, 0.38 * size)
    draw.ellipse([head[0] - 0.05 * size, head[1] - 0.05 * size, head[0] + 0.05 * size, head[1] + 0.05 * size],
                 fill=(20, 20, 20))
    hip = (0.49 * size, 0.62 * size)
    lean = rng.uniform(-0.04, 0.04) * size
    draw.line([(head[0], head[1] + 0.05 * size), hip], fill=(20, 20, 20), width=stroke)
    draw.line([hip, (hip[0] - 0.1 * size + lean, 0.77 * size)], fill=(20, 20, 20), width=stroke)
    draw.line([hip, (hip[0] + 0.1 * size + lean, 0.77 * size)], fill=(20, 20, 20), width=stroke)
    draw.line([(0.38 * size, 0.55 * size), (0.5 * size, 0.47 * size), (0.61 * size, 0.56 * size)],
              fill=(20, 20, 20), width=stroke)
    return image


def _draw_trafficlight(size: int, rng: np.random.Generator) -> Image.Image:
    width = size // 2
    image, draw = _sign_canvas(width, size)
    draw.rounded_rectangle([0, 0, width - 1, size - 1], radius=0.12 * width, fill=(30, 32, 30))
    lit = rng.integers(3)  # red, amber or green, like the redlight / unlight / greenlight relabelling
    colours = ((235, 30, 25), (245, 170, 20), (40, 220, 90))
    lamp = 0.34 * width
    for k, colour in enumerate(colours):
        cx, cy = width / 2, size * (0.19 + 0.31 * k)
        shade = colour if k == lit else tuple(c // 5 + 15 for c in colour)
        draw.ellipse([cx - lamp, cy - lamp, cx + lamp, cy + lamp], fill=shade)
    return image


_SIGN_PAINTERS = {
    "crosswalk": _draw_crosswalk,
    "speedlimit": _draw_speedlimit,
    "stop": _draw_stop,
    "trafficlight": _draw_trafficlight,
}


def render_sign(kind: str, size: int, rng: np.random.Generator, *, max_rotation: float = 12.0) -> Image.Image:
    """One sign of class ``kind``, ``size`` pixels tall, on a transparent RGBA canvas.

    Drawn at 2x and downsampled (anti-aliased edges), then tinted, rotated by up to ``max_rotation``
    degrees and cropped to its visible pixels.
    """
    if kind not in _SIGN_PAINTERS:
        raise ValueError(f"Unknown sign {kind!r}; choose one of {sorted(_SIGN_PAINTERS)}.")
    size = max(int(size), 6)
    large = _SIGN_PAINTERS[kind](2 * size, rng)
    sign = large.resize((max(1, large.width // 2), max(1, large.height // 2)), Image.Resampling.BOX)
    # Faded paint and shadows: scale the colour channels, keep the alpha.
    pixels = np.asarray(sign).astype(np.float32)
    pixels[..., :3] *= rng.uniform(0.55, 1.1) * rng.uniform(0.85, 1.15, size=3)
    sign = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGBA")
    angle = rng.uniform(-max_rotation, max_rotation)
    sign = sign.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    return sign.crop(sign.getbbox())


def _clutter(draw: ImageDraw.ImageDraw, width: int, height: int, rng: np.random.Generator, count: int) -> None:
    """Random buildings, foliage, poles, wires and sign-coloured decoys, drawn on ``draw``."""
    for _ in range(count):
        kind = rng.random()
        x, y = rng.uniform(-0.1, 1.0) * width, rng.uniform(-0.1, 1.0) * height
        w, h = rng.uniform(0.05, 0.5) * width, rng.uniform(0.05, 0.5) * height
        if kind < 0.38:  # buildings, cars, walls: muted colours
            colour = tuple(int(c) for c in rng.integers(40, 200, 3))
            draw.rectangle([x, y, x + w, y + h], fill=colour)
        elif kind < 0.65:  # foliage
            colour = (int(rng.integers(20, 90)), int(rng.integers(70, 160)), int(rng.integers(20, 80)))
            draw.ellipse([x, y, x + w, y + h], fill=colour)
        elif kind < 0.9:  # poles and wires
            colour = tuple(int(c) for c in rng.integers(60, 140, 3))
            end = (x + rng.uniform(-0.3, 0.3) * width, y + rng.uniform(0.2, 0.8) * height)
            draw.line([(x, y), end], fill=colour, width=int(rng.integers(1, 6)))
        else:  # decoys in sign colours: red and blue blobs, white boards, yellow panels
            colour = [_RED, _BLUE, (235, 235, 235), (230, 190, 30)][rng.integers(4)]
            small_w, small_h = w / 3, h / 3
            if rng.random() < 0.5:
                draw.ellipse([x, y, x + small_w, y + small_h], fill=colour)
            else:
                draw.rectangle([x, y, x + small_w, y + small_h], fill=colour)


def _background(width: int, height: int, rng: np.random.Generator, clutter: int) -> Image.Image:
    """A street-ish RGB background: a sky-to-ground gradient with random clutter on top."""
    sky = rng.uniform([90, 110, 130], [200, 215, 245])
    ground = rng.uniform([50, 50, 40], [150, 140, 120])
    horizon = rng.uniform(0.3, 0.7)
    rows = np.linspace(0, 1, height)[:, None]
    mix = np.clip((rows - horizon) * 4 + 0.5, 0, 1)
    column = (1 - mix) * sky + mix * ground  # height x 3
    # One column of pixels stretched sideways: much cheaper than building the full array.
    image = Image.fromarray(column[:, None, :].astype(np.uint8), "RGB")
    image = image.resize((width, height), Image.Resampling.NEAREST)
    _clutter(ImageDraw.Draw(image), width, height, rng, clutter)
    return image


def _finish(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """An RGB image out of focus half of the time, and unevenly lit (a darkening gradient).

    No pixel noise: it makes PNG files ~5x larger and slower to write, and the clutter already gives
    a network plenty of irrelevant detail to memorise. PIL does the arithmetic on uint8 (no float copies).
    """
    if rng.random() < 0.5:  # out of focus; a box blur is 3x cheaper than a Gaussian and looks the same here
        image = image.filter(ImageFilter.BoxBlur(rng.uniform(0.5, 1.2)))
    width, height = image.size
    direction = rng.uniform(0, 2 * math.pi)
    ramp = (np.cos(direction) * np.linspace(-0.5, 0.5, width, dtype=np.float32)[None, :]
            + np.sin(direction) * np.linspace(-0.5, 0.5, height, dtype=np.float32)[:, None])
    light = np.clip((rng.uniform(0.65, 1.0) + rng.uniform(0.0, 0.6) * ramp) * 255, 0, 255).astype(np.uint8)
    shade = Image.fromarray(light, "L")
    return ImageChops.multiply(image, Image.merge("RGB", (shade, shade, shade)))


def _add_noise(pixels: np.ndarray, rng: np.random.Generator, noise_tile: np.ndarray) -> np.ndarray:
    """Sensor noise from a random window of one pre-drawn tile (cheaper than fresh normals per image)."""
    height, width = pixels.shape[:2]
    top = rng.integers(0, noise_tile.shape[0] - height + 1)
    left = rng.integers(0, noise_tile.shape[1] - width + 1)
    noisy = pixels + rng.uniform(3, 12) * noise_tile[top:top + height, left:left + width]
    return np.clip(noisy + 0.5, 0, 255).astype(np.uint8)


def _noise_tile(rng: np.random.Generator, side: int) -> np.ndarray:
    return rng.standard_normal((side, side, 3), dtype=np.float32)


# --------------------------------------------------------------------------------------------------
# Road-sign stand-in (Kaggle andrewmvd/road-sign-detection layout)
# --------------------------------------------------------------------------------------------------

#: One label per image (the first object), counted once from the 877 real annotation files (in the
#: public re-labelled copy, trafficlight = redlight 26 + unlight 22 + greenlight 13); the tests
#: re-count them when the reference files are present.
REAL_ROAD_SIGN_CLASS_COUNTS: dict[str, int] = {"crosswalk": 88, "speedlimit": 652, "stop": 76, "trafficlight": 61}

#: Image sizes (width, height) of the real images, counted from the same annotations; the 42 images
#: with rarer sizes get a random landscape height between 200 and 340 instead.
REAL_ROAD_SIGN_SIZES: dict[tuple[int, int], int] = {
    (300, 400): 731, (400, 267): 31, (267, 400): 29, (400, 301): 13, (400, 300): 7,
    (320, 400): 6, (268, 400): 5, (400, 225): 5, (400, 400): 4, (400, 269): 4,
}

#: Number of objects per image in the real annotations (1: 629, 2: 186, 3: 46, 4 or more: 16).
_OBJECT_COUNT_WEIGHTS = {1: 629, 2: 186, 3: 46, 4: 16}

#: Sign height as a fraction of the image's shorter side, per class: (low, high) of a log-uniform draw,
#: roughly the 10th and 90th percentiles of the real first-object boxes.
_SIGN_SCALE = {"speedlimit": (0.12, 0.45), "crosswalk": (0.14, 0.5), "stop": (0.2, 0.65),
               "trafficlight": (0.18, 0.6)}

#: Fraction of images stored as RGBA with transparent borders. The real set has "some" RGBA PNGs; the
#: exact share is not known here. Transparent pixels hold black RGB, as many tools write them, so that
#: dropping the alpha channel shows black where compositing on white shows white.
ROAD_SIGN_RGBA_FRACTION = 0.15

#: Fraction of images whose label is deliberately wrong (for the noisy-labels lesson).
ROAD_SIGN_NOISY_FRACTION = 0.03

ROAD_SIGN_STANDIN_VERSION = 1
STANDIN_MANIFEST = "standin_manifest.csv"


@dataclass(frozen=True)
class RoadSignStandin:
    """What :func:`make_road_signs_standin` produced.

    ``records`` has one dict per image (the rows of ``standin_manifest.csv``): ``file``, ``label`` (as
    written in the annotation), ``true_class`` (what the image shows), ``mislabeled``, ``rgba``,
    ``width``, ``height``, ``n_objects``. ``mislabeled`` lists the image files whose label is wrong.
    """

    root: Path
    records: list[dict]

    @property
    def mislabeled(self) -> list[str]:
        return [record["file"] for record in self.records if record["mislabeled"]]

    @property
    def images_dir(self) -> Path:
        return self.root / "images"

    @property
    def annotations_dir(self) -> Path:
        return self.root / "annotations"


def default_road_signs_standin_dir() -> Path:
    """Where the road-sign stand-in is cached: ``data_dir()/road-signs-standin``."""
    return config.data_dir() / "road-signs-standin"


def _image_sizes(count: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """``count`` (width, height) pairs with the real size mix, scaled when ``count`` is not 877."""
    total = sum(REAL_ROAD_SIGN_CLASS_COUNTS.values())
    sizes: list[tuple[int, int]] = []
    for size, n in REAL_ROAD_SIGN_SIZES.items():
        sizes += [size] * round(n * count / total)
    sizes = sizes[:count]
    while len(sizes) < count:
        sizes.append((400, int(rng.integers(200, 341))))
    return [sizes[i] for i in rng.permutation(count)]


def _plan_road_signs(class_counts: dict[str, int], seed: int, noisy_fraction: float,
                     rgba_fraction: float) -> list[dict]:
    """Decide, per image, the written label, the class actually drawn, size, alpha and object count."""
    rng = np.random.default_rng([seed, 0])
    labels = [name for name in ROAD_SIGN_CLASSES for _ in range(class_counts.get(name, 0))]
    labels = [labels[i] for i in rng.permutation(len(labels))]
    count = len(labels)
    sizes = _image_sizes(count, rng)
    noisy = set(rng.choice(count, size=round(noisy_fraction * count), replace=False).tolist())
    rgba = rng.random(count) < rgba_fraction
    object_counts = rng.choice(list(_OBJECT_COUNT_WEIGHTS), size=count,
                               p=np.array(list(_OBJECT_COUNT_WEIGHTS.values())) / sum(_OBJECT_COUNT_WEIGHTS.values()))
    plan = []
    for index, label in enumerate(labels):
        drawn = label
        if index in noisy:
            others = [name for name in ROAD_SIGN_CLASSES if name != label]
            drawn = others[rng.integers(len(others))]
        plan.append({
            "file": f"road{index}.png", "label": label, "true_class": drawn, "mislabeled": index in noisy,
            "rgba": bool(rgba[index]), "width": sizes[index][0], "height": sizes[index][1],
            "n_objects": int(object_counts[index]),
        })
    return plan


def _place(sign: Image.Image, width: int, height: int, taken: list[tuple], rng: np.random.Generator):
    """A top-left corner for ``sign`` inside the image that overlaps the ``taken`` boxes little, or None."""
    if sign.width >= width or sign.height >= height:
        return None
    for _ in range(20):
        x, y = int(rng.integers(0, width - sign.width)), int(rng.integers(0, height - sign.height))
        box = (x, y, x + sign.width, y + sign.height)
        if all(box[2] <= t[0] or box[0] >= t[2] or box[3] <= t[1] or box[1] >= t[3] for t in taken):
            return x, y
    return None


def _render_road_sign_image(record: dict, seed: int, index: int):
    """The picture (PIL image, RGB or RGBA) and its VOC annotation for one planned ``record``."""
    rng = np.random.default_rng([seed, 1, index])  # per image: any subset renders identically
    width, height = record["width"], record["height"]
    canvas = _background(width, height, rng, clutter=int(rng.integers(6, 16))).convert("RGBA")
    short_side = min(width, height)
    objects, taken = [], []
    for k in range(record["n_objects"]):
        if k == 0:
            kind = record["true_class"]
        else:  # real multi-sign photos mostly repeat the class (pairs of crosswalk signs, ...)
            kind = record["true_class"] if rng.random() < 0.7 else ROAD_SIGN_CLASSES[rng.integers(4)]
        low, high = _SIGN_SCALE[kind]
        scale = math.exp(rng.uniform(math.log(low), math.log(high))) * (1.0 if k == 0 else 0.8)
        sign = render_sign(kind, round(scale * short_side), rng)
        corner = _place(sign, width, height, taken, rng)
        if corner is None:
            if k == 0:  # the labelled sign must exist: shrink until it fits
                sign = sign.resize((max(1, sign.width // 2), max(1, sign.height // 2)))
                corner = (int(rng.integers(0, width - sign.width)), int(rng.integers(0, height - sign.height)))
            else:
                continue
        x, y = corner
        if kind != "trafficlight" and rng.random() < 0.6:  # a grey post under the sign
            post = ImageDraw.Draw(canvas)
            post.rectangle([x + sign.width // 2 - max(1, sign.width // 14), y + sign.height // 2,
                            x + sign.width // 2 + max(1, sign.width // 14), height], fill=(110, 110, 110, 255))
        canvas.alpha_composite(sign, (x, y))
        taken.append((x, y, x + sign.width, y + sign.height))
        name = record["label"] if k == 0 else kind
        objects.append(VocObject(name, x, y, x + sign.width, y + sign.height))

    image = _finish(canvas.convert("RGB"), rng)
    if record["rgba"]:
        # Transparent margins along one or two edges, as in cut-out photos and screenshots; their
        # colour is black, as many tools store fully transparent pixels.
        image = image.convert("RGBA")
        draw = ImageDraw.Draw(image)
        for edge in rng.choice(4, size=int(rng.integers(1, 3)), replace=False):
            depth = int(rng.uniform(0.04, 0.15) * (width if edge < 2 else height))
            box = ((0, 0, depth - 1, height - 1), (width - depth, 0, width - 1, height - 1),
                   (0, 0, width - 1, depth - 1), (0, height - depth, width - 1, height - 1))[edge]
            draw.rectangle(box, fill=(0, 0, 0, 0))
    annotation = VocAnnotation(record["file"], width, height, 3, objects)
    return image, annotation


def make_road_signs_standin(
    root: str | Path | None = None,
    *,
    seed: int = 0,
    class_counts: dict[str, int] | None = None,
    noisy_fraction: float = ROAD_SIGN_NOISY_FRACTION,
    rgba_fraction: float = ROAD_SIGN_RGBA_FRACTION,
    progress: bool = True,
) -> RoadSignStandin:
    """Write (or reuse) the road-sign stand-in in Kaggle's layout and return what it holds.

    ``root/images/roadN.png``, ``root/annotations/roadN.xml`` (Pascal VOC), plus
    ``root/standin_manifest.csv`` (the truth about every image, for tests and instructors) and
    ``root/STANDIN.json``. ``class_counts`` defaults to the real one-label-per-image mix
    (:data:`REAL_ROAD_SIGN_CLASS_COUNTS`, 877 images); smaller counts make quick test sets.
    """
    target = Path(root) if root is not None else default_road_signs_standin_dir()
    counts = dict(REAL_ROAD_SIGN_CLASS_COUNTS if class_counts is None else class_counts)
    unknown = set(counts) - set(ROAD_SIGN_CLASSES)
    if unknown:
        raise ValueError(f"Unknown road-sign classes {sorted(unknown)}; the classes are {list(ROAD_SIGN_CLASSES)}.")
    spec = {
        "dataset": "road-signs stand-in",
        "version": ROAD_SIGN_STANDIN_VERSION,
        "seed": seed,
        "class_counts": {name: counts.get(name, 0) for name in ROAD_SIGN_CLASSES},
        "noisy_fraction": noisy_fraction,
        "rgba_fraction": rgba_fraction,
    }
    plan = _plan_road_signs(counts, seed, noisy_fraction, rgba_fraction)

    def fill(folder: Path) -> None:
        (folder / "images").mkdir()
        (folder / "annotations").mkdir()
        for index, record in _progress(enumerate(plan), len(plan), "Drawing road-sign stand-in", progress):
            image, annotation = _render_road_sign_image(record, seed, index)
            # zlib level 1 with the run-length strategy (compress_type 3, Z_RLE): 2x faster than the
            # defaults, and these drawn images still compress to ~30 kB.
            image.save(folder / "images" / record["file"], compress_level=1, compress_type=3)
            write_voc_annotation(annotation, folder / "annotations" / record["file"].replace(".png", ".xml"))
        with open(folder / STANDIN_MANIFEST, "w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=list(plan[0]) if plan else ["file"])
            writer.writeheader()
            writer.writerows(plan)

    _generate_atomically(target, spec, fill)
    return RoadSignStandin(root=target, records=plan)


def read_standin_manifest(root: str | Path) -> list[dict]:
    """The rows of ``standin_manifest.csv`` in a road-sign stand-in folder, with booleans and ints parsed."""
    with open(Path(root) / STANDIN_MANIFEST, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        for key in ("mislabeled", "rgba"):
            row[key] = row[key] == "True"
        for key in ("width", "height", "n_objects"):
            row[key] = int(row[key])
    return rows


def is_standin_folder(root: str | Path) -> bool:
    """True when ``root`` was made by one of the stand-in generators (it has a ``STANDIN.json``)."""
    return (Path(root) / MARKER_FILE).is_file()


# --------------------------------------------------------------------------------------------------
# GTSRB 4-class stand-in
# --------------------------------------------------------------------------------------------------

#: Class shares of the GTSRB training images of the four workshop classes (speed limits 0-8: 13,200,
#: stop 14: 780, traffic signals 26: 600, pedestrians 27: 240, in the 39,209-image training release).
GTSRB_CLASS_SHARES: dict[str, float] = {"crosswalk": 240 / 14820, "speedlimit": 13200 / 14820,
                                        "stop": 780 / 14820, "trafficlight": 600 / 14820}


def _gtsrb_split(count: int, image_size: int, rng: np.random.Generator,
                 noise_tile: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    shares = np.array([GTSRB_CLASS_SHARES[name] for name in ROAD_SIGN_CLASSES])
    per_class = np.maximum(1, np.floor(shares * count)).astype(int)
    per_class[np.argmax(shares)] += count - per_class.sum()  # exactly ``count`` images
    labels = rng.permutation(np.repeat(np.arange(len(ROAD_SIGN_CLASSES)), per_class))
    images = np.empty((len(labels), image_size, image_size, 3), np.uint8)
    work = 2 * image_size  # draw at 2x, like a camera crop that is then scaled down
    for index, label in enumerate(labels):
        canvas = _background(work, work, rng, clutter=int(rng.integers(2, 6))).convert("RGBA")
        sign = render_sign(ROAD_SIGN_CLASSES[label], round(rng.uniform(0.55, 0.85) * work), rng)
        x = int(rng.integers(0, max(1, work - sign.width)))
        y = int(rng.integers(0, max(1, work - sign.height)))
        canvas.alpha_composite(sign, (min(x, work - 1), min(y, work - 1)))
        small = canvas.convert("RGB").resize((image_size, image_size), Image.Resampling.BILINEAR)
        images[index] = _add_noise(np.asarray(_finish(small, rng)), rng, noise_tile)
    return images, labels.astype(np.int64)


def make_gtsrb_standin_arrays(n_train: int = 3000, n_test: int = 1000, *, image_size: int = 32, seed: int = 0):
    """A GTSRB-like 4-class stand-in in memory: ``(train_images, train_labels, test_images, test_labels)``.

    Tight crops of one sign each, uint8 ``N x S x S x 3``, labels index :data:`ROAD_SIGN_CLASSES`, with
    GTSRB's class imbalance (:data:`GTSRB_CLASS_SHARES`). About 1 ms per image.
    """
    noise_tile = _noise_tile(np.random.default_rng([seed, 2]), max(64, image_size))
    train = _gtsrb_split(n_train, image_size, np.random.default_rng([seed, 10]), noise_tile)
    test = _gtsrb_split(n_test, image_size, np.random.default_rng([seed, 11]), noise_tile)
    return (*train, *test)
