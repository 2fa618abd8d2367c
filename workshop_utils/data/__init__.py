"""The workshop's data layer: downloads, parsers, stand-ins and ready-to-train loaders.

Everything a notebook needs is importable from here::

    from workshop_utils.data import load_fashion_mnist, load_road_signs, TensorBatchLoader

Names are imported on first use (PEP 562), so ``import workshop_utils.data`` itself costs nothing:
the ``workshop-data`` command does not wait for torch, and nothing here imports torchvision,
kagglehub or wandb.

======================  ==========================================================================
module                  concern
======================  ==========================================================================
``manifest``            what every data set is, where it comes from, its checksums
``download``            fetching and verifying files into the cache (``DataUnavailable``)
``loaders``             one call per data set, tensors out, source stated
``synthetic``           generated 2-D data sets: XOR, linearly separable points, moons
``photos``              a real photo bundled with scikit-learn (notebook 04)
``standins``            synthetic stand-ins with the real formats, announced when used
``voc`` / ``idx``       the Pascal VOC and IDX (MNIST) file formats
``tensor_loader``       ``TensorBatchLoader``: batches of device-resident tensors
``banner``              the loud stand-in and smoke-mode announcements
``prefetch`` / ``cli``  notebook 00's fetch-everything table; the ``workshop-data`` command
======================  ==========================================================================
"""

from __future__ import annotations

import importlib

_EXPORTS: dict[str, str] = {
    # loaders
    "load_fashion_mnist": "loaders",
    "FashionMnistData": "loaders",
    "split_validation": "loaders",
    "load_road_signs": "loaders",
    "load_gtsrb_subset": "loaders",
    "RoadSignData": "loaders",
    "ImageTensorDataset": "loaders",
    "composite_on_white": "loaders",
    "GTSRB_TO_ROAD_SIGN": "loaders",
    "load_wine_frame": "loaders",
    "load_wine_2d": "loaders",
    "load_auto_mpg": "loaders",
    "load_digits_tensors": "loaders",
    # generated 2-D data sets
    "xor_points": "synthetic",
    "linearly_separable_points": "synthetic",
    "two_moons": "synthetic",
    "XOR_INPUTS": "synthetic",
    "XOR_LABELS": "synthetic",
    # a sample photo
    "load_sample_photo": "photos",
    "SAMPLE_PHOTOS": "photos",
    # batches on the device
    "TensorBatchLoader": "tensor_loader",
    # stand-ins
    "make_fashion_mnist_standin": "standins",
    "make_road_signs_standin": "standins",
    "make_gtsrb_standin_arrays": "standins",
    "render_sign": "standins",
    "FASHION_MNIST_CLASSES": "standins",
    "REAL_ROAD_SIGN_CLASS_COUNTS": "standins",
    # file formats
    "parse_voc_annotation": "voc",
    "image_label": "voc",
    "VocAnnotation": "voc",
    "VocObject": "voc",
    "VocFormatError": "voc",
    "CLASS_ALIASES": "voc",
    "ROAD_SIGN_CLASSES": "voc",
    "read_idx": "idx",
    "write_idx": "idx",
    "IdxFormatError": "idx",
    # announcements
    "announce_standin": "banner",
    "announce_smoke": "banner",
    # downloads
    "DataUnavailable": "download",
    "fetch_file": "download",
    "fetch_dataset": "download",
    "dataset_dir": "download",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
