"""Ready-to-train data sets for the notebooks: one call, tensors out, the source always stated.

Image data sets come back **preloaded** as tensors (decoded once, kept in memory), never as a
per-item Dataset that decodes files on the hot path: on 2 CPU cores that is several times faster.

==================  ==========================================================================
loader              sources, in order (the first that works)
==================  ==========================================================================
Fashion-MNIST       cached verified files -> Debian's ``dataset-fashion-mnist`` package ->
                    download (unless ``WORKSHOP_OFFLINE=1``) -> stand-in
road signs          ``fetch_dataset("road-signs")`` (cache, room mirror, kagglehub, Kaggle) -> stand-in
GTSRB (4 classes)   ``fetch_dataset("gtsrb")`` -> stand-in
wine, digits        scikit-learn's bundled copies
Auto MPG            vega_datasets' bundled ``cars.json``
==================  ==========================================================================

A stand-in is announced with a loud banner, and ``WORKSHOP_REAL_DATA_ONLY=1`` turns it into an
error that says how to get the real data. ``WORKSHOP_SMOKE=1`` loads small subsets (announced too).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch.utils.data import Dataset, TensorDataset

from .. import config
from .banner import announce_smoke, announce_standin
from .download import DataUnavailable, fetch_dataset, fetch_file
from .idx import IdxFormatError, decompressed_bytes, parse_idx_bytes, read_idx
from .manifest import DEBIAN_FASHION_MNIST_DIR, get_dataset_info
from .standins import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_FILES,
    is_standin_folder,
    make_fashion_mnist_standin,
    make_gtsrb_standin_arrays,
    make_road_signs_standin,
)
from .voc import ROAD_SIGN_CLASSES, VocFormatError, image_label, parse_voc_annotation

SOURCE_CACHE = "download cache"
SOURCE_DEBIAN = "Debian package"
SOURCE_STANDIN = "stand-in"
SOURCE_FOLDER = "local folder"


def _stratified_subset(labels: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Sorted indices of ``size`` examples with (nearly) the class proportions of ``labels``."""
    if size >= len(labels):
        return np.arange(len(labels))
    from sklearn.model_selection import train_test_split  # imported when needed: sklearn is slow to import

    chosen, _ = train_test_split(np.arange(len(labels)), train_size=size, stratify=labels, random_state=seed)
    return np.sort(chosen)


def _real_data_required(dataset: str, reasons: list[str], what_to_do: str) -> DataUnavailable:
    """The error raised instead of a stand-in when ``WORKSHOP_REAL_DATA_ONLY=1``."""
    tried = "\n".join(f"  - {reason}" for reason in reasons)
    return DataUnavailable(
        f"The real {dataset} data set is not available, and WORKSHOP_REAL_DATA_ONLY=1 forbids the "
        f"stand-in.\nTried:\n{tried}\nWhat to do: {what_to_do}\n"
        f"Or unset WORKSHOP_REAL_DATA_ONLY to continue with the announced synthetic stand-in."
    )


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


# --------------------------------------------------------------------------------------------------
# Fashion-MNIST
# --------------------------------------------------------------------------------------------------

FASHION_MNIST_WHAT_TO_DO = (
    "on a machine with internet run `python data_download.py download fashion-mnist` (or unset "
    "WORKSHOP_OFFLINE); in a classroom set WORKSHOP_MIRROR to the room mirror; on Debian/Ubuntu "
    "`sudo apt-get install dataset-fashion-mnist` installs the real files."
)


@dataclass
class FashionMnistData:
    """Fashion-MNIST as tensors.

    ``train`` and ``test`` are TensorDatasets of ``(images, labels)``: float32 ``N x 1 x 28 x 28`` in
    [0, 1] and int64 labels 0-9 naming ``classes[label]``. ``source`` is ``"download cache"``,
    ``"Debian package"`` or ``"stand-in"``; ``folder`` is where the IDX files were read.
    """

    train: TensorDataset
    test: TensorDataset
    classes: list[str]
    source: str
    folder: Path
    smoke: bool = False

    @property
    def is_standin(self) -> bool:
        return self.source == SOURCE_STANDIN

    def validation_split(self, val_size: float | int = 0.1, seed: int = 0) -> tuple[TensorDataset, TensorDataset]:
        """``(train, validation)`` carved from the training set, stratified, the same for the same seed."""
        return split_validation(self.train, val_size=val_size, seed=seed)


def split_validation(dataset: TensorDataset, val_size: float | int = 0.1,
                     seed: int = 0) -> tuple[TensorDataset, TensorDataset]:
    """Split a ``(inputs, labels)`` TensorDataset into stratified ``(train, validation)`` TensorDatasets.

    ``val_size`` is a fraction (``0.1``) or a number of examples (``5000``); ``seed`` fixes the split.
    """
    from sklearn.model_selection import train_test_split

    labels = dataset.tensors[-1]
    if isinstance(val_size, float) and not 0.0 < val_size < 1.0:
        raise ValueError(f"val_size as a fraction must be between 0 and 1, got {val_size}.")
    keep, held_out = train_test_split(np.arange(len(labels)), test_size=val_size,
                                      stratify=labels.numpy(), random_state=seed)
    keep, held_out = torch.from_numpy(np.sort(keep)), torch.from_numpy(np.sort(held_out))
    return (TensorDataset(*(t[keep] for t in dataset.tensors)),
            TensorDataset(*(t[held_out] for t in dataset.tensors)))


def _verified_debian_arrays(debian_dir: Path) -> dict[str, np.ndarray]:
    """The four arrays from Debian's copy, each checked by the sha256 of its decompressed bytes.

    Raises DataUnavailable saying which file is missing or different.
    """
    expected = {name: get_dataset_info("fashion-mnist").file(name).decompressed_sha256
                for name in FASHION_MNIST_FILES.values()}
    arrays = {}
    for key, name in FASHION_MNIST_FILES.items():
        path = debian_dir / name
        if not path.is_file():
            raise DataUnavailable(f"no Debian copy: {path} does not exist")
        try:
            data = decompressed_bytes(path)
        except (OSError, IdxFormatError) as error:
            raise DataUnavailable(f"Debian copy unreadable: {_first_line(error)}") from None
        digest = hashlib.sha256(data).hexdigest()
        if digest != expected[name]:
            raise DataUnavailable(f"Debian copy {path} is not the expected file "
                                  f"(sha256 of its content {digest[:12]}..., expected {expected[name][:12]}...)")
        arrays[key] = parse_idx_bytes(data, source=str(path))
    return arrays


def _cached_or_downloaded_arrays(*, allow_download: bool, progress: bool) -> tuple[dict[str, np.ndarray], Path]:
    """The four arrays through ``fetch_file``, which verifies them.

    Without ``allow_download`` it refuses to start when a file is missing from the cache (so that the
    Debian copy is tried before the network); ``fetch_file`` still replaces a corrupt cached file.
    """
    folder = config.data_dir() / "fashion-mnist"  # only looked at: a read-only cache with the files is fine
    names = list(FASHION_MNIST_FILES.values())
    missing = [name for name in names if not (folder / name).is_file()]
    if not allow_download and missing:
        raise DataUnavailable(f"{len(missing)} of the 4 files are not in {folder}")
    paths = {key: fetch_file("fashion-mnist", name, progress=progress) for key, name in FASHION_MNIST_FILES.items()}
    return {key: read_idx(path) for key, path in paths.items()}, folder


def _check_fashion_arrays(arrays: dict[str, np.ndarray], where: Path) -> None:
    """ValueError unless the arrays have Fashion-MNIST's shapes and label range."""
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
            raise IdxFormatError(f"{where}: {split} images have shape {images.shape} {images.dtype}, "
                                 "expected N x 28 x 28 uint8.")
        if labels.shape != (len(images),) or labels.size and labels.max() >= len(FASHION_MNIST_CLASSES):
            raise IdxFormatError(f"{where}: {split} labels do not match the images (shape {labels.shape}, "
                                 f"{len(images)} images, labels must be 0-9).")


def _fashion_standin_folder() -> Path:
    """The stand-in's folder, generated on first use: full size, or 2,000 / 500 images in smoke mode.

    Smoke mode only ever uses 2,000 / 500 images, so it draws no more (in a folder of its own).
    """
    if config.smoke_mode():
        return make_fashion_mnist_standin(config.data_dir() / "fashion-mnist-standin-smoke", n_train=2000, n_test=500)
    return make_fashion_mnist_standin()


def load_fashion_mnist(*, train_size: int | None = None, test_size: int | None = None, seed: int = 0,
                       debian_dir: str | Path | None = DEBIAN_FASHION_MNIST_DIR,
                       progress: bool = True) -> FashionMnistData:
    """Fashion-MNIST as preloaded tensors (see :class:`FashionMnistData`).

    Sources, in order: verified files already in the download cache; Debian's package in
    ``debian_dir`` (checked by the sha256 of the decompressed files; ``None`` skips it); a download
    (the room mirror or the public URL; not with ``WORKSHOP_OFFLINE=1``); else the synthetic stand-in,
    announced (or DataUnavailable when ``WORKSHOP_REAL_DATA_ONLY=1``). The local copies come before
    the network so that a machine with the files never waits for a slow connection.

    ``train_size`` / ``test_size`` take stratified subsets (fixed by ``seed``); smoke mode caps
    them at 2,000 / 500.
    """
    reasons: list[str] = []
    arrays, folder, source = None, None, None
    attempts: list[tuple[str, Callable]] = [
        (SOURCE_CACHE, lambda: _cached_or_downloaded_arrays(allow_download=False, progress=progress))]
    if debian_dir is not None:
        attempts.append((SOURCE_DEBIAN, lambda: (_verified_debian_arrays(Path(debian_dir)), Path(debian_dir))))
    if not config.offline():
        attempts.append(("download", lambda: _cached_or_downloaded_arrays(allow_download=True, progress=progress)))
    for name, attempt in attempts:
        try:
            arrays, folder = attempt()
            source = SOURCE_DEBIAN if name == SOURCE_DEBIAN else SOURCE_CACHE
            break
        except (DataUnavailable, IdxFormatError) as error:
            reasons.append(f"{name}: {_first_line(error)}")
    if arrays is None and config.offline():
        reasons.append("download: not tried, WORKSHOP_OFFLINE=1")

    if arrays is None:
        if config.real_data_only():
            raise _real_data_required("Fashion-MNIST", reasons, FASHION_MNIST_WHAT_TO_DO)
        announce_standin("Fashion-MNIST", "the real files are not available here (" + "; ".join(reasons) + ").",
                         FASHION_MNIST_WHAT_TO_DO)
        folder = _fashion_standin_folder()
        arrays = {key: read_idx(folder / name) for key, name in FASHION_MNIST_FILES.items()}
        source = SOURCE_STANDIN
    _check_fashion_arrays(arrays, folder)

    sizes = {"train": train_size, "test": test_size}
    if config.smoke_mode():
        sizes = {"train": min(train_size or 2000, 2000), "test": min(test_size or 500, 500)}
    splits = {}
    for split, size in sizes.items():
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"].astype(np.int64)
        if size is not None:
            chosen = _stratified_subset(labels, size, seed)
            images, labels = images[chosen], labels[chosen]
        tensor_images = torch.from_numpy(images).unsqueeze(1).float().div_(255)
        splits[split] = TensorDataset(tensor_images, torch.from_numpy(labels))
    if config.smoke_mode():
        announce_smoke(f"Fashion-MNIST ({source}): {len(splits['train']):,} training and "
                       f"{len(splits['test']):,} test images, all 10 classes (of 60,000 / 10,000).")
    return FashionMnistData(splits["train"], splits["test"], list(FASHION_MNIST_CLASSES), source, Path(folder),
                            smoke=config.smoke_mode())


# --------------------------------------------------------------------------------------------------
# Road signs (and the GTSRB alternative): image tensors with a transform on the training split only
# --------------------------------------------------------------------------------------------------

ROAD_SIGNS_WHAT_TO_DO = (
    "on a machine with internet run `python data_download.py download road-signs` (Kaggle, no account "
    "needed; or unset WORKSHOP_OFFLINE); in a classroom set WORKSHOP_MIRROR to the room mirror; or pass "
    "root= a folder with images/ and annotations/ from Kaggle's andrewmvd/road-sign-detection."
)


class ImageTensorDataset(Dataset):
    """Decoded images kept as a uint8 tensor, served as float32 in [0, 1] with an optional transform.

    ``images`` is ``N x 3 x S x S`` uint8, ``labels`` int64. Item ``i`` is ``(image, label)`` where
    ``image = transform(images[i] / 255)`` (``transform`` works on a float C x H x W tensor, like the
    tensor transforms of torchvision). The loaders set a transform on the **training split only**:
    augmentation must never touch validation or test data.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, transform: Callable | None = None,
                 files: Sequence[str] | None = None) -> None:
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError(f"images must be a uint8 N x C x H x W tensor, got {images.dtype} {tuple(images.shape)}.")
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels.")
        self.images = images
        self.labels = labels
        self.transform = transform
        self.files = list(files) if files is not None else None

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = self.images[index].float().div_(255)
        if self.transform is not None:
            image = self.transform(image)
        return image, self.labels[index]

    @property
    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(float images in [0, 1], labels)`` of the whole split, **without** the transform.

        For plots and :class:`TensorBatchLoader` (which refuses a data set that has a transform, since
        it would silently skip it).
        """
        return self.images.float().div_(255), self.labels

    def __repr__(self) -> str:
        return (f"ImageTensorDataset({len(self)} images of {tuple(self.images.shape[1:])}, "
                f"transform={self.transform!r})")


@dataclass
class RoadSignData:
    """An image-classification data set split three ways, with its bookkeeping.

    ``train`` / ``val`` / ``test`` are :class:`ImageTensorDataset` (only ``train`` gets
    ``train_transform``). ``table`` has one row per image: ``file``, ``label``, ``width``, ``height``,
    ``had_alpha``, ``n_objects``, ``split`` and ``split_index`` (its position in that split's data
    set). ``class_counts`` is a class x split table of image counts. ``source`` says where the images
    came from (``"download cache"``, ``"stand-in"``, ``"local folder"``).
    """

    train: ImageTensorDataset
    val: ImageTensorDataset
    test: ImageTensorDataset
    classes: list[str]
    table: pd.DataFrame
    class_counts: pd.DataFrame
    source: str
    image_size: int
    root: Path | None = None
    smoke: bool = False

    @property
    def is_standin(self) -> bool:
        return self.source == SOURCE_STANDIN

    @property
    def splits(self) -> dict[str, ImageTensorDataset]:
        return {"train": self.train, "val": self.val, "test": self.test}


def composite_on_white(image: Image.Image) -> tuple[Image.Image, bool]:
    """``(RGB image, had_alpha)``: transparent pixels become white instead of whatever RGB they hide.

    ``image.convert("RGB")`` would simply drop the alpha channel, and fully transparent pixels are
    often stored as black.
    """
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if not has_alpha:
        return image.convert("RGB"), False
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB"), True


def _natural_key(path: Path) -> tuple:
    """Sort ``road2`` before ``road10``."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name))


#: Decoded road-sign folders, kept for the life of the kernel: re-running a cell costs nothing.
_DECODED: dict[tuple, dict] = {}


def _decode_road_sign_folder(root: Path, image_size: int, progress: bool) -> dict:
    """Parse every annotation in ``root`` and decode every image once, to ``image_size`` squares."""
    annotations_dir, images_dir = root / "annotations", root / "images"
    xml_files = sorted(annotations_dir.glob("*.xml"), key=_natural_key)
    if not xml_files:
        raise DataUnavailable(f"{annotations_dir} holds no .xml annotation files; expected Kaggle's layout "
                              "images/roadN.png + annotations/roadN.xml.")
    key = (str(root.resolve()), image_size, len(xml_files),
           max(path.stat().st_mtime_ns for path in xml_files))
    if key in _DECODED:
        return _DECODED[key]

    images = np.empty((len(xml_files), image_size, image_size, 3), np.uint8)
    rows = []
    iterator = xml_files
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(xml_files, desc=f"Decoding {root.name} images", leave=False)
    for index, xml_path in enumerate(iterator):
        annotation = parse_voc_annotation(xml_path)
        label = image_label(annotation)
        if label not in ROAD_SIGN_CLASSES:
            raise VocFormatError(f"{xml_path}: class {label!r} is not one of {list(ROAD_SIGN_CLASSES)}.")
        image_path = images_dir / annotation.filename
        if not image_path.is_file():  # some copies rename images; fall back to the annotation's stem
            image_path = images_dir / f"{xml_path.stem}.png"
        try:
            with Image.open(image_path) as opened:
                rgb, had_alpha = composite_on_white(opened)
        except (OSError, SyntaxError) as error:  # PIL raises SyntaxError for some broken PNG headers
            raise DataUnavailable(f"Cannot read the image {image_path} ({error}); the download is incomplete or "
                                  "corrupt: delete the folder and fetch the data set again.") from None
        images[index] = np.asarray(rgb.resize((image_size, image_size), Image.Resampling.BILINEAR,
                                              reducing_gap=2.0))
        rows.append({"file": image_path.name, "label": label, "width": rgb.width, "height": rgb.height,
                     "had_alpha": had_alpha, "n_objects": len(annotation.objects)})
    decoded = {"images": torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(),
               "labels": np.array([ROAD_SIGN_CLASSES.index(row["label"]) for row in rows], np.int64),
               "table": pd.DataFrame(rows)}
    _DECODED[key] = decoded
    return decoded


def _three_way_split(labels: np.ndarray, val_fraction: float, test_fraction: float,
                     seed: int) -> dict[str, np.ndarray]:
    """Stratified, sorted train / val / test indices."""
    from sklearn.model_selection import train_test_split

    if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError(f"val_fraction ({val_fraction}) and test_fraction ({test_fraction}) must be between 0 "
                         "and 1 and leave some training data.")
    everything = np.arange(len(labels))
    rest, test = train_test_split(everything, test_size=test_fraction, stratify=labels, random_state=seed)
    train, val = train_test_split(rest, test_size=val_fraction / (1 - test_fraction), stratify=labels[rest],
                                  random_state=seed)
    return {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test)}


def _assemble(images: torch.Tensor, labels: np.ndarray, table: pd.DataFrame, split_indices: dict[str, np.ndarray],
              train_transform: Callable | None, **info) -> RoadSignData:
    """The RoadSignData for already decoded ``images`` and a split into ``split_indices``."""
    table = table.copy()
    table["split"] = ""
    table["split_index"] = -1
    datasets = {}
    for split, indices in split_indices.items():
        table.loc[indices, "split"] = split
        table.loc[indices, "split_index"] = np.arange(len(indices))
        chosen = torch.from_numpy(indices)
        datasets[split] = ImageTensorDataset(images[chosen], torch.from_numpy(labels[indices]),
                                             transform=train_transform if split == "train" else None,
                                             files=table["file"].iloc[indices].tolist())
    table = table[table["split"] != ""].reset_index(drop=True)
    table["label"] = pd.Categorical(table["label"], categories=list(ROAD_SIGN_CLASSES))
    counts = pd.crosstab(table["label"], table["split"]).reindex(columns=["train", "val", "test"], fill_value=0)
    counts = counts.reindex(list(ROAD_SIGN_CLASSES), fill_value=0)
    counts["total"] = counts.sum(axis=1)
    counts.index.name, counts.columns.name = "class", "split"
    return RoadSignData(datasets["train"], datasets["val"], datasets["test"], list(ROAD_SIGN_CLASSES), table,
                        counts, **info)


def _check_image_size(image_size: int) -> None:
    if isinstance(image_size, bool) or not isinstance(image_size, int) or not 8 <= image_size <= 1024:
        raise ValueError(f"image_size must be a whole number of pixels between 8 and 1024, got {image_size!r}.")


def _road_signs_folder(root: str | Path | None, progress: bool) -> tuple[Path, str]:
    """The folder to read and its source: ``root``, the real data set, or the announced stand-in."""
    if root is not None:
        root = Path(root)
        if not (root / "annotations").is_dir() or not (root / "images").is_dir():
            raise DataUnavailable(f"{root} should hold images/ and annotations/ (Kaggle's road-sign-detection layout).")
        return root, SOURCE_STANDIN if is_standin_folder(root) else SOURCE_FOLDER
    try:
        return fetch_dataset("road-signs", progress=progress), SOURCE_CACHE
    except DataUnavailable as error:
        reasons = [line.strip() for line in str(error).splitlines()[:4] if line.strip()]
    if config.real_data_only():
        raise _real_data_required("road signs", reasons, ROAD_SIGNS_WHAT_TO_DO)
    announce_standin("road signs", "the Kaggle data set is not available here (" + reasons[0] + ").",
                     ROAD_SIGNS_WHAT_TO_DO)
    return make_road_signs_standin(progress=progress).root, SOURCE_STANDIN


def load_road_signs(image_size: int = 64, val_fraction: float = 0.15, test_fraction: float = 0.15, seed: int = 0,
                    *, train_transform: Callable | None = None, root: str | Path | None = None,
                    progress: bool = True) -> RoadSignData:
    """The road-sign images as ``image_size`` squares, one label per image, split three ways.

    Sources: ``root`` when given (a folder with ``images/`` and ``annotations/``); else the real
    Kaggle data set through ``fetch_dataset("road-signs")``; else the synthetic stand-in, announced
    (DataUnavailable instead when ``WORKSHOP_REAL_DATA_ONLY=1``).

    Each image's label is its first annotated object; classes are always
    ``["crosswalk", "speedlimit", "stop", "trafficlight"]``. RGBA images are composited on white
    (``table.had_alpha`` records which). Images are decoded once per kernel and kept in memory. The
    split is stratified (``sklearn.model_selection.train_test_split``) and fixed by ``seed``.
    ``train_transform`` (a callable on float C x H x W tensors, e.g. torchvision transforms) is
    applied to the training split only. Smoke mode uses at most 32 px and 300 images.
    """
    _check_image_size(image_size)
    folder, source = _road_signs_folder(root, progress)
    smoke = config.smoke_mode()
    size = config.smoke_size(image_size, 32)
    decoded = _decode_road_sign_folder(folder, size, progress)
    images, labels, table = decoded["images"], decoded["labels"], decoded["table"]
    if smoke:
        keep = _stratified_subset(labels, 300, seed)
        images, labels = images[torch.from_numpy(keep)], labels[keep]
        table = table.iloc[keep].reset_index(drop=True)
        announce_smoke(f"road signs ({source}): {len(keep)} of {len(decoded['labels'])} images at "
                       f"{size}x{size} pixels (asked for {image_size}x{image_size}).")
    split_indices = _three_way_split(labels, val_fraction, test_fraction, seed)
    return _assemble(images, labels, table, split_indices, train_transform, source=source, image_size=size,
                     root=folder, smoke=smoke)


# --------------------------------------------------------------------------------------------------
# GTSRB, reduced to the four road-sign classes
# --------------------------------------------------------------------------------------------------

#: GTSRB class id -> workshop class: 0-8 are speed limits, 14 stop, 26 traffic signals, 27 pedestrians.
GTSRB_TO_ROAD_SIGN: dict[int, str] = {**{k: "speedlimit" for k in range(9)}, 14: "stop", 26: "trafficlight",
                                      27: "crosswalk"}

GTSRB_WHAT_TO_DO = (
    "on a machine with internet run `python data_download.py download gtsrb` (or unset WORKSHOP_OFFLINE); "
    "in a classroom set WORKSHOP_MIRROR to the room mirror."
)


def _gtsrb_real_files(base: Path) -> dict[str, list[tuple[Path, int]]]:
    """``{"train": [(ppm path, GTSRB class)], "test": [...]}`` in torchvision's GTSRB layout under ``base``.

    The layout of ``torchvision.datasets.GTSRB(root)``, with ``base = root/"gtsrb"``: training images in
    ``GTSRB/Training/000NN/*.ppm`` (the folder is the class), test images in ``GTSRB/Final_Test/Images``
    with their classes in ``GT-final_test.csv``.
    """
    import csv

    training = base / "GTSRB" / "Training"
    test_images, test_truth = base / "GTSRB" / "Final_Test" / "Images", base / "GT-final_test.csv"
    if not training.is_dir() or not test_images.is_dir() or not test_truth.is_file():
        raise DataUnavailable(f"{base} does not hold the extracted GTSRB archives "
                              "(GTSRB/Training, GTSRB/Final_Test/Images, GT-final_test.csv).")
    train = [(path, int(folder.name)) for folder in sorted(training.iterdir()) if folder.is_dir()
             and folder.name.isdigit() for path in sorted(folder.glob("*.ppm"))]
    with open(test_truth, newline="", encoding="utf-8") as file:
        test = [(test_images / row["Filename"], int(row["ClassId"]))
                for row in csv.DictReader(file, delimiter=";", skipinitialspace=True)]
    return {"train": train, "test": test}


def _decode_gtsrb(files: list[tuple[Path, int]], image_size: int, progress: bool):
    """Decode the images of the four workshop classes; returns uint8 N x S x S x 3, labels, table rows."""
    chosen = [(path, cls) for path, cls in files if cls in GTSRB_TO_ROAD_SIGN]
    images = np.empty((len(chosen), image_size, image_size, 3), np.uint8)
    rows = []
    iterator = chosen
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(chosen, desc="Decoding GTSRB", leave=False)
    for index, (path, cls) in enumerate(iterator):
        with Image.open(path) as opened:
            rgb = opened.convert("RGB")
        images[index] = np.asarray(rgb.resize((image_size, image_size), Image.Resampling.BILINEAR))
        rows.append({"file": f"{path.parent.name}/{path.name}", "label": GTSRB_TO_ROAD_SIGN[cls], "gtsrb_class": cls,
                     "width": rgb.width, "height": rgb.height, "had_alpha": False, "n_objects": 1})
    labels = np.array([ROAD_SIGN_CLASSES.index(row["label"]) for row in rows], np.int64)
    return images, labels, rows


def _gtsrb_arrays(image_size: int, seed: int, progress: bool):
    """``(train images, train labels, train rows, test images, test labels, test rows, source, root)``."""
    reasons = []
    try:
        folder = fetch_dataset("gtsrb", progress=progress)
        files = _gtsrb_real_files(folder)
        key = ("gtsrb", str(folder.resolve()), image_size)
        if key not in _DECODED:
            _DECODED[key] = {split: _decode_gtsrb(files[split], image_size, progress) for split in ("train", "test")}
        decoded = _DECODED[key]
        return (*decoded["train"], *decoded["test"], SOURCE_CACHE, folder)
    except DataUnavailable as error:
        reasons.append(_first_line(error))
    if config.real_data_only():
        raise _real_data_required("GTSRB", reasons, GTSRB_WHAT_TO_DO)
    announce_standin("GTSRB (4 road-sign classes)", f"the GTSRB archives are not available here ({reasons[0]}).",
                     GTSRB_WHAT_TO_DO)
    n_train, n_test = config.smoke_size(3000, 600), config.smoke_size(1000, 200)
    key = ("gtsrb-standin", image_size, seed, n_train, n_test)
    if key not in _DECODED:
        _DECODED[key] = make_gtsrb_standin_arrays(n_train, n_test, image_size=image_size, seed=seed)
    train_images, train_labels, test_images, test_labels = _DECODED[key]

    def rows(split: str, labels: np.ndarray) -> list[dict]:
        return [{"file": f"standin/{split}/{i:05d}", "label": ROAD_SIGN_CLASSES[label], "gtsrb_class": -1,
                 "width": image_size, "height": image_size, "had_alpha": False, "n_objects": 1}
                for i, label in enumerate(labels)]

    return (train_images, train_labels, rows("train", train_labels), test_images, test_labels,
            rows("test", test_labels), SOURCE_STANDIN, None)


def load_gtsrb_subset(image_size: int = 32, val_fraction: float = 0.15, seed: int = 0, *,
                      train_transform: Callable | None = None, progress: bool = True) -> RoadSignData:
    """GTSRB reduced to the four road-sign classes, as a :class:`RoadSignData`.

    Real data via ``fetch_dataset("gtsrb")`` (torchvision's archives, extracted in torchvision's
    layout), classes mapped by :data:`GTSRB_TO_ROAD_SIGN`; otherwise a stand-in drawn with the same
    sign renderer as the road-sign stand-in (3,000 / 1,000 crops), announced. The official test set is
    the test split; validation is carved from the training images (stratified, ``seed``).
    ``table.gtsrb_class`` keeps the original class id (-1 for the stand-in).
    """
    _check_image_size(image_size)
    (train_images, train_labels, train_rows, test_images, test_labels, test_rows,
     source, root) = _gtsrb_arrays(image_size, seed, progress)
    images = torch.from_numpy(np.concatenate([train_images, test_images])).permute(0, 3, 1, 2).contiguous()
    labels = np.concatenate([train_labels, test_labels])
    table = pd.DataFrame(train_rows + test_rows)
    n_train = len(train_labels)
    from sklearn.model_selection import train_test_split

    train, val = train_test_split(np.arange(n_train), test_size=val_fraction, stratify=train_labels,
                                  random_state=seed)
    split_indices = {"train": np.sort(train), "val": np.sort(val), "test": np.arange(n_train, len(labels))}
    if config.smoke_mode() and source != SOURCE_STANDIN:
        split_indices = {split: idx[_stratified_subset(labels[idx], 300 if split == "train" else 100, seed)]
                         for split, idx in split_indices.items()}
    if config.smoke_mode():
        announce_smoke(f"GTSRB ({source}): {len(split_indices['train'])} training, {len(split_indices['val'])} "
                       f"validation and {len(split_indices['test'])} test images.")
    return _assemble(images, labels, table, split_indices, train_transform, source=source, image_size=image_size,
                     root=root, smoke=config.smoke_mode())


# --------------------------------------------------------------------------------------------------
# Tables and small bundled data sets
# --------------------------------------------------------------------------------------------------

def load_wine_frame() -> pd.DataFrame:
    """The wine data set (178 wines x 13 measurements) with ``target`` (0-2) and ``target_name`` columns."""
    from sklearn.datasets import load_wine

    bunch = load_wine(as_frame=True)
    frame = bunch.frame.copy()
    frame["target_name"] = pd.Categorical.from_codes(frame["target"], categories=list(bunch.target_names))
    return frame


class Wine2D(NamedTuple):
    """Two wine features as tensors: ``X`` float32 N x 2, ``y`` int64 cultivar 0-2, feature ``names``."""

    X: torch.Tensor
    y: torch.Tensor
    names: list[str]


def load_wine_2d(features: Sequence[str] = ("proline", "alcohol"), standardize: bool = True) -> Wine2D:
    """Two (or more) wine features as a float32 tensor, for 2-D plots of decision boundaries.

    ``standardize=True`` rescales each column to mean 0 and standard deviation 1: proline is in the
    hundreds and alcohol around 13, and gradient descent on raw values would crawl.
    """
    frame = load_wine_frame()
    unknown = [name for name in features if name not in frame.columns or name in ("target", "target_name")]
    if unknown:
        options = [c for c in frame.columns if c not in ("target", "target_name")]
        raise ValueError(f"Unknown wine feature(s) {unknown}; choose from {options}.")
    values = frame[list(features)].to_numpy(np.float64)
    if standardize:
        values = (values - values.mean(axis=0)) / values.std(axis=0)
    values = np.ascontiguousarray(values)  # pandas may hand out a reversed-stride view torch cannot wrap
    labels = torch.tensor(frame["target"].to_numpy(), dtype=torch.int64)
    return Wine2D(torch.tensor(values, dtype=torch.float32), labels, list(features))


def load_auto_mpg(dropna: bool = False) -> pd.DataFrame:
    """The Auto MPG cars (406 rows) from vega_datasets' bundled ``cars.json``.

    Columns: Name, Miles_per_Gallon (8 missing), Cylinders, Displacement, Horsepower (6 missing),
    Weight_in_lbs, Acceleration, Year, Origin. ``dropna=True`` drops the 14 rows with a missing value.
    """
    try:
        from vega_datasets import data
    except ImportError as error:  # an optional package: only this loader needs it
        raise ImportError("The Auto MPG cars come bundled with the vega_datasets package, which is not installed: "
                          "run `pip install vega_datasets` (in a notebook: %pip install vega_datasets) and restart "
                          "the kernel.") from error

    frame = pd.read_json(data.cars.filepath)  # the file path, not data.cars(): no pandas warning
    return frame.dropna().reset_index(drop=True) if dropna else frame


class Digits(NamedTuple):
    """scikit-learn's 8x8 digits: ``images`` float32 N x 1 x 8 x 8 in [0, 1], ``labels`` int64 0-9."""

    images: torch.Tensor
    labels: torch.Tensor


def load_digits_tensors() -> Digits:
    """The 1,797 8x8 handwritten digits bundled with scikit-learn, as tensors (pixel values 0-16 scaled to [0, 1])."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    return Digits(images, torch.tensor(bunch.target, dtype=torch.int64))
