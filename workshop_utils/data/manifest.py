"""Every data set and weight file the workshop uses: where it comes from, its licence, its checksums.

This module is pure data (no I/O). ``download.py`` fetches what is listed here; ``data_download.py``
lists, downloads, verifies and serves it.

Checksums (``RemoteFile.known_hash``) use pooch's ``"algorithm:hexdigest"`` notation:

``"md5:<32 hex>"`` / ``"sha256:<64 hex>"``
    the whole file must hash to exactly this value (Fashion-MNIST and GTSRB: the md5s that
    torchvision checks; weights: the full sha256, see below).
``"sha256-prefix:<hex>"``
    the file's sha256 must *start with* these hex digits. This is what ``torch.hub`` itself checks for
    ``https://download.pytorch.org/models/NAME-<first 8 hex of sha256>.pth``; supported for weight
    files whose full digest is not known. 8 hex digits still catch any truncation or corruption
    (a random file passes with probability 2**-32), but not a deliberate forgery.
``None``
    upstream publishes no checksum (the Kaggle road-sign archive: Kaggle re-zips on its side). The
    file's ``note`` says so, and the data set's ``expected_layout`` is checked after extraction instead.

Where the facts come from (checked, not guessed):

* Fashion-MNIST URLs and md5s: ``torchvision/datasets/mnist.py`` (class ``FashionMNIST``). Sizes are
  the original files' byte counts; Debian's re-compressed copies are 23-24 bytes smaller (their gzip
  headers drop the file name), hence different md5s: ``DEBIAN_FASHION_MNIST_SHA256`` records the
  sha256 of the *decompressed* bytes, identical in both.
* GTSRB URLs and md5s: ``torchvision/datasets/gtsrb.py``.
* Weights URLs: ``torchvision/models/resnet.py`` and ``mobilenetv3.py`` (``*_Weights.IMAGENET1K_V1``);
  torchvision's ``_file_size`` gives 44.661 MiB and 9.829 MiB. The full sha256 digests and exact byte
  counts below start with the 8-digit prefix in torchvision's file names and match those sizes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: The kinds of entry: shipped inside an installed package, a plain download, a Kaggle data set,
#: pretrained model weights (cached where ``torch.hub`` looks for them).
KINDS = ("bundled", "download", "kaggle", "weights")

#: Hash algorithms ``download.py`` can check (see the module docstring).
HASH_ALGORITHMS = ("md5", "sha256", "sha256-prefix")

_MB = 1_000_000


@dataclass(frozen=True)
class RemoteFile:
    """One file to download.

    ``name`` is the file name in the cache (and on a room mirror: ``{mirror}/{dataset}/{name}``).
    ``size`` is in bytes; exact when ``size_exact`` (then also checked after download), else an
    estimate for the disk-space column of ``data_download.py list``. ``mirrors`` are further public
    URLs tried after ``url``. ``decompressed_sha256`` is the sha256 of a ``.gz`` file's content.
    """

    name: str
    url: str
    size: int
    known_hash: str | None
    mirrors: tuple[str, ...] = ()
    note: str = ""
    size_exact: bool = False
    decompressed_sha256: str | None = None

    @property
    def urls(self) -> tuple[str, ...]:
        """The public URLs, in the order they are tried."""
        return (self.url, *self.mirrors)

    @property
    def is_archive(self) -> bool:
        """True for ``.zip`` / ``.tar`` / ``.tar.gz`` / ``.tgz`` files, which are extracted after download."""
        return self.name.endswith((".zip", ".tar", ".tar.gz", ".tgz"))


@dataclass(frozen=True)
class ExpectedFolder:
    """A structural check of extracted data: ``folder`` holds exactly ``count`` files matching ``pattern``."""

    folder: str
    pattern: str
    count: int


@dataclass(frozen=True)
class DatasetInfo:
    """A data set or weight file of the workshop, with everything needed to fetch and cite it."""

    name: str
    title: str
    source: str
    license: str
    kind: str
    files: tuple[RemoteFile, ...] = ()
    description: str = ""
    kaggle_handle: str | None = None
    expected_layout: tuple[ExpectedFolder, ...] = ()
    notes: str = ""

    @property
    def download_size(self) -> int:
        """Total bytes to download (0 for bundled data)."""
        return sum(remote.size for remote in self.files)

    @property
    def downloadable(self) -> bool:
        """True when there is something to download (every kind but ``bundled``)."""
        return self.kind != "bundled"

    def file(self, filename: str) -> RemoteFile:
        """The ``RemoteFile`` called ``filename``; ValueError naming the known files otherwise."""
        for remote in self.files:
            if remote.name == filename:
                return remote
        known = ", ".join(remote.name for remote in self.files) or "none"
        raise ValueError(f"{self.name} has no file {filename!r}; its files: {known}")


# --------------------------------------------------------------------------------------------------
# Fashion-MNIST
# --------------------------------------------------------------------------------------------------

_FASHION_MNIST_BASE = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

#: Where Debian's ``dataset-fashion-mnist`` package installs the real files (re-compressed .gz).
DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

#: sha256 of the DECOMPRESSED bytes of each file, the same for torchvision's and Debian's copies
#: (Debian re-compressed them, so the .gz md5s differ from torchvision's).
DEBIAN_FASHION_MNIST_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}


def _fashion_mnist_file(name: str, size: int, md5: str) -> RemoteFile:
    return RemoteFile(
        name=name,
        url=_FASHION_MNIST_BASE + name,
        size=size,
        known_hash=f"md5:{md5}",
        size_exact=True,
        decompressed_sha256=DEBIAN_FASHION_MNIST_SHA256[name],
    )


FASHION_MNIST = DatasetInfo(
    name="fashion-mnist",
    title="Fashion-MNIST",
    source="https://github.com/zalandoresearch/fashion-mnist",
    license="MIT",
    kind="download",
    files=(
        _fashion_mnist_file("train-images-idx3-ubyte.gz", 26_421_880, "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        _fashion_mnist_file("train-labels-idx1-ubyte.gz", 29_515, "25c81989df183df01b3e8a0aad5dffbe"),
        _fashion_mnist_file("t10k-images-idx3-ubyte.gz", 4_422_102, "bef4ecab320f06d8554ea6380940ec79"),
        _fashion_mnist_file("t10k-labels-idx1-ubyte.gz", 5_148, "bb300cfdad3c16e7a12a480ee83cd310"),
    ),
    description="70,000 28x28 grey images of clothes (60k train / 10k test), 10 classes, IDX format.",
    notes=(f"On Debian/Ubuntu, `apt-get install dataset-fashion-mnist` installs the real files in "
           f"{DEBIAN_FASHION_MNIST_DIR} (re-compressed: check DEBIAN_FASHION_MNIST_SHA256 on the "
           f"decompressed bytes)."),
)

# --------------------------------------------------------------------------------------------------
# Road signs (Kaggle)
# --------------------------------------------------------------------------------------------------

ROAD_SIGNS_KAGGLE_HANDLE = "andrewmvd/road-sign-detection"
ROAD_SIGNS_IMAGES = 877

ROAD_SIGNS = DatasetInfo(
    name="road-signs",
    title="Road Sign Detection (Kaggle)",
    source=f"https://www.kaggle.com/datasets/{ROAD_SIGNS_KAGGLE_HANDLE}",
    license="CC0-1.0",
    kind="kaggle",
    files=(
        RemoteFile(
            name="road-sign-detection.zip",
            url=f"https://www.kaggle.com/api/v1/datasets/download/{ROAD_SIGNS_KAGGLE_HANDLE}",
            size=218 * _MB,
            known_hash=None,
            note=("Kaggle publishes no checksum for its archives (it re-zips them), so integrity is "
                  "checked after extraction: 877 images/*.png and 877 annotations/*.xml. "
                  "Size approximate."),
        ),
    ),
    description=("877 PNG photos (mostly 300x400, some RGBA) with Pascal VOC XML boxes: speedlimit, "
                 "crosswalk, trafficlight, stop. No predefined split."),
    kaggle_handle=ROAD_SIGNS_KAGGLE_HANDLE,
    expected_layout=(
        ExpectedFolder("images", "*.png", ROAD_SIGNS_IMAGES),
        ExpectedFolder("annotations", "*.xml", ROAD_SIGNS_IMAGES),
    ),
)

# --------------------------------------------------------------------------------------------------
# GTSRB (torchvision's archives)
# --------------------------------------------------------------------------------------------------

_GTSRB_BASE = "https://sid.erda.dk/public/archives/daaeac0d7ce1152aea9b61d9f1e19370/"

GTSRB = DatasetInfo(
    name="gtsrb",
    title="German Traffic Sign Recognition Benchmark (GTSRB)",
    source="https://benchmark.ini.rub.de/gtsrb_dataset.html",
    license="research use (no SPDX licence)",
    kind="download",
    files=(
        RemoteFile("GTSRB-Training_fixed.zip", _GTSRB_BASE + "GTSRB-Training_fixed.zip", 187 * _MB,
                   "md5:513f3c79a4c5141765e10e952eaa2478", note="Size approximate."),
        RemoteFile("GTSRB_Final_Test_Images.zip", _GTSRB_BASE + "GTSRB_Final_Test_Images.zip", 89 * _MB,
                   "md5:c7e4e6327067d32654124b0fe9e82185", note="Size approximate."),
        RemoteFile("GTSRB_Final_Test_GT.zip", _GTSRB_BASE + "GTSRB_Final_Test_GT.zip", 100_000,
                   "md5:fe31e9c9270bbcd7b84b7f21a9d9d9e5", note="Size approximate."),
    ),
    description=("43 classes of cropped German traffic signs (PPM). Extracted in torchvision's layout: "
                 "torchvision.datasets.GTSRB(root=<data dir>) reads it. Classes 0-8 speed limits, "
                 "14 stop, 26 traffic signals, 27 pedestrians: a 4-class road-sign alternative."),
    notes=("Free for research; cite Stallkamp et al., Neural Networks 32 (2012). The training archive "
           "is torchvision's: the IJCNN 2011 training set (26,640 images), not the 39,209-image "
           "'Final Training' set."),
)

# --------------------------------------------------------------------------------------------------
# Pretrained weights (torchvision, ImageNet-1k)
# --------------------------------------------------------------------------------------------------

_WEIGHTS_LICENSE = "BSD-3-Clause + ImageNet terms"
_WEIGHTS_NOTES = ("Code and weights published by torchvision (BSD-3-Clause); trained on ImageNet-1k, whose "
                  "terms allow non-commercial research and education.")

RESNET18 = DatasetInfo(
    name="resnet18",
    title="ResNet-18 ImageNet weights (torchvision IMAGENET1K_V1)",
    source="https://pytorch.org/vision/stable/models/generated/torchvision.models.resnet18.html",
    license=_WEIGHTS_LICENSE,
    kind="weights",
    files=(
        RemoteFile(
            name="resnet18-f37072fd.pth",
            url="https://download.pytorch.org/models/resnet18-f37072fd.pth",
            size=46_830_571,
            known_hash="sha256:f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec",
            size_exact=True,
            note="torch.hub checks the sha256 prefix f37072fd in the name; this is the full digest.",
        ),
    ),
    description="torchvision.models.resnet18(weights=ResNet18_Weights.IMAGENET1K_V1): 11.7M parameters.",
    notes=_WEIGHTS_NOTES,
)

MOBILENET_V3_SMALL = DatasetInfo(
    name="mobilenet_v3_small",
    title="MobileNetV3-Small ImageNet weights (torchvision IMAGENET1K_V1)",
    source="https://pytorch.org/vision/stable/models/generated/torchvision.models.mobilenet_v3_small.html",
    license=_WEIGHTS_LICENSE,
    kind="weights",
    files=(
        RemoteFile(
            name="mobilenet_v3_small-047dcff4.pth",
            url="https://download.pytorch.org/models/mobilenet_v3_small-047dcff4.pth",
            size=10_306_551,
            known_hash="sha256:047dcff4addef86ea5bc2eff13c9614dc11f47ab1160d0a71a25e7db994f4e1f",
            size_exact=True,
            note="torch.hub checks the sha256 prefix 047dcff4 in the name; this is the full digest.",
        ),
    ),
    description=("torchvision.models.mobilenet_v3_small(weights=MobileNet_V3_Small_Weights.IMAGENET1K_V1): "
                 "2.5M parameters, fast on CPU."),
    notes=_WEIGHTS_NOTES,
)

# --------------------------------------------------------------------------------------------------
# Bundled data sets (inside installed wheels: nothing to download)
# --------------------------------------------------------------------------------------------------

WINE = DatasetInfo(
    name="wine",
    title="Wine recognition (UCI)",
    source="sklearn.datasets.load_wine (bundled with scikit-learn)",
    license="CC-BY-4.0",
    kind="bundled",
    description="178 wines x 13 chemical measurements, 3 cultivars; proline and alcohol for 2-D plots.",
    notes="From the UCI Machine Learning Repository (CC BY 4.0).",
)

DIGITS = DatasetInfo(
    name="digits",
    title="Optical recognition of handwritten digits (UCI)",
    source="sklearn.datasets.load_digits (bundled with scikit-learn)",
    license="CC-BY-4.0",
    kind="bundled",
    description="1,797 8x8 grey images of digits, 10 classes: a real image set with no download.",
    notes="From the UCI Machine Learning Repository (CC BY 4.0).",
)

AUTO_MPG = DatasetInfo(
    name="auto-mpg",
    title="Auto MPG (UCI), as vega_datasets' cars.json",
    source="vega_datasets.data.cars (cars.json bundled in the vega_datasets wheel)",
    license="CC-BY-4.0",
    kind="bundled",
    description="406 cars: Miles_per_Gallon (8 missing), Weight_in_lbs, Horsepower (6 missing), ...",
    notes="From the UCI Machine Learning Repository (CC BY 4.0); read with pd.read_json(data.cars.filepath).",
)

#: Every entry, by name, in the order ``data_download.py list`` shows them.
DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (WINE, DIGITS, AUTO_MPG, FASHION_MNIST, ROAD_SIGNS, GTSRB, RESNET18, MOBILENET_V3_SMALL)
}


def get_dataset_info(name: str) -> DatasetInfo:
    """The manifest entry called ``name``; ValueError listing the known names otherwise."""
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(DATASETS)
        raise ValueError(f"unknown data set {name!r}; known names: {known}") from None


def downloadable_names() -> list[str]:
    """Names of the entries that have files to download (everything but the bundled ones)."""
    return [name for name, info in DATASETS.items() if info.downloadable]
