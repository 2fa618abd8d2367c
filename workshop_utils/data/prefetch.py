"""Fetch every data set a notebook will need, once, and say where each one came from.

What notebook 00 runs: it goes through the real loaders (so what it reports is exactly what the
lessons will get: real data, Debian's copy, or an announced stand-in) and returns a table.
"""

from __future__ import annotations

import time
from typing import Callable

import pandas as pd

from .download import DataUnavailable, fetch_weights
from .manifest import DATASETS

# Data sets not every lesson needs: fetched only when asked (GTSRB alone is ~276 MB).
OPTIONAL = frozenset({"gtsrb"})


def _describe_fashion_mnist() -> tuple[str, str]:
    from .loaders import load_fashion_mnist

    data = load_fashion_mnist()
    return data.source, f"{len(data.train):,} train / {len(data.test):,} test images, {len(data.classes)} classes"


def _describe_road_signs() -> tuple[str, str]:
    from .loaders import load_road_signs

    data = load_road_signs()
    counts = ", ".join(f"{name} {count}" for name, count in data.table["label"].value_counts().items())
    return data.source, f"{len(data.table)} images: {counts}"


def _describe_gtsrb() -> tuple[str, str]:
    from .loaders import load_gtsrb_subset

    data = load_gtsrb_subset()
    return data.source, f"{len(data.table)} images in 4 classes"


def _describe_bundled(name: str) -> tuple[str, str]:
    from . import loaders

    if name == "wine":
        frame = loaders.load_wine_frame()
        return "bundled (scikit-learn)", f"{len(frame)} wines, {frame.shape[1] - 2} features"
    if name == "digits":
        digits = loaders.load_digits_tensors()
        return "bundled (scikit-learn)", f"{len(digits[0])} images of 8x8 pixels"
    if name == "auto-mpg":
        frame = loaders.load_auto_mpg()
        return "bundled (vega_datasets)", f"{len(frame)} cars"
    raise ValueError(f"no bundled loader for {name!r}")


def _describe_weights(name: str) -> tuple[str, str]:
    path = fetch_weights(name, progress=True)
    return "download cache", f"{path.stat().st_size / 1e6:.1f} MB in {path.parent}"


def _describer(name: str) -> Callable[[], tuple[str, str]]:
    kind = DATASETS[name].kind
    if kind == "bundled":
        return lambda: _describe_bundled(name)
    if kind == "weights":
        return lambda: _describe_weights(name)
    return {"fashion-mnist": _describe_fashion_mnist, "road-signs": _describe_road_signs,
            "gtsrb": _describe_gtsrb}[name]


def prefetch_all(names: list[str] | None = None, include_optional: bool = False) -> pd.DataFrame:
    """Load or fetch each data set; return one row per data set: status, source, details, seconds.

    ``status`` is ``ready`` (real data), ``stand-in`` (announced synthetic copy), ``unavailable``
    (weights that could not be fetched: the message says what to do), ``skipped`` (optional and not
    asked for) or ``failed`` (an unexpected error: the message is shown, nothing is hidden).
    """
    unknown = sorted(set(names or ()) - set(DATASETS))
    if unknown:
        raise ValueError(f"unknown data set(s) {unknown}; known: {', '.join(DATASETS)}")
    rows = []
    for name in names or list(DATASETS):
        info = DATASETS[name]
        row = {"data set": name, "title": info.title, "status": "", "source": "", "details": "", "seconds": 0.0}
        if name in OPTIONAL and not include_optional and not names:
            row.update(status="skipped", details=f"optional: `python data_download.py download {name}`")
            rows.append(row)
            continue
        print(f"--- {name}: {info.title}")
        started = time.perf_counter()
        try:
            source, details = _describer(name)()
            row.update(status="stand-in" if source == "stand-in" else "ready", source=source, details=details)
        except DataUnavailable as error:
            row.update(status="unavailable", details=str(error).splitlines()[0])
            print(f"    {name}: unavailable: {error}")
        except Exception as error:  # shown in the table and printed; the summary cell asserts none failed
            row.update(status="failed", details=f"{type(error).__name__}: {error}")
            print(f"    {name}: FAILED: {type(error).__name__}: {error}")
        row["seconds"] = round(time.perf_counter() - started, 1)
        rows.append(row)
    return pd.DataFrame(rows)
