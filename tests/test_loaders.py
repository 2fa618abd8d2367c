"""Ready loaders: real Fashion-MNIST from Debian, announced stand-ins, errors, splits and transforms."""

from __future__ import annotations

import contextlib
import gzip
import io
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from workshop_utils.data.download import DataUnavailable
from workshop_utils.data.idx import idx_bytes, read_idx
from workshop_utils.data.loaders import (
    GTSRB_TO_ROAD_SIGN,
    ImageTensorDataset,
    _decode_gtsrb,
    _gtsrb_real_files,
    composite_on_white,
    load_auto_mpg,
    load_digits_tensors,
    load_fashion_mnist,
    load_gtsrb_subset,
    load_road_signs,
    load_wine_2d,
    load_wine_frame,
    split_validation,
)
from workshop_utils.data.manifest import DEBIAN_FASHION_MNIST_DIR
from workshop_utils.data.standins import (
    FASHION_MNIST_FILES,
    REAL_ROAD_SIGN_CLASS_COUNTS,
    make_road_signs_standin,
    read_standin_manifest,
)

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
ROAD_CLASSES = ["crosswalk", "speedlimit", "stop", "trafficlight"]
SETTINGS = ("WORKSHOP_OFFLINE", "WORKSHOP_DATA_DIR", "WORKSHOP_SMOKE", "WORKSHOP_REAL_DATA_ONLY", "WORKSHOP_MIRROR")


def _isolate(patch: pytest.MonkeyPatch, data_dir: Path) -> None:
    for name in SETTINGS:
        patch.delenv(name, raising=False)
    patch.setenv("WORKSHOP_OFFLINE", "1")
    patch.setenv("WORKSHOP_DATA_DIR", str(data_dir))


@pytest.fixture(autouse=True)
def data_dir(monkeypatch, tmp_path) -> Path:
    """Offline, with an empty cache of our own: nothing real but the Debian copy can be found."""
    _isolate(monkeypatch, tmp_path / "data")
    return tmp_path / "data"


@pytest.fixture(scope="module")
def road_signs(tmp_path_factory):
    """``load_road_signs()`` with nothing real available: the announced stand-in, through the normal path.

    The data folder is the one test_standins.py fills, so in one session the stand-in is drawn once.
    """
    shared = tmp_path_factory.getbasetemp() / "shared-workshop-data"
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        _isolate(patch, shared)
        data = load_road_signs(progress=False)
    return data, printed.getvalue()


# ------------------------------------------------------------------------------------------------
# Fashion-MNIST
# ------------------------------------------------------------------------------------------------

def test_fashion_mnist_real_files_from_debian():
    if not all((DEBIAN_FASHION_MNIST_DIR / name).is_file() for name in FASHION_MNIST_FILES.values()):
        pytest.skip(f"Debian's dataset-fashion-mnist is not installed in {DEBIAN_FASHION_MNIST_DIR}")
    data = load_fashion_mnist(progress=False)
    assert data.source == "Debian package" and not data.is_standin
    assert data.classes == FASHION_CLASSES
    images, labels = data.train.tensors
    assert images.shape == (60000, 1, 28, 28) and images.dtype == torch.float32
    assert labels.shape == (60000,) and labels.dtype == torch.int64
    assert 0.0 <= float(images.min()) and float(images.max()) == 1.0
    assert torch.bincount(labels).tolist() == [6000] * 10
    assert data.test.tensors[0].shape == (10000, 1, 28, 28)
    # The very first training image is an ankle boot, as in every copy of Fashion-MNIST.
    assert data.classes[int(labels[0])] == "Ankle boot"

    train, val = data.validation_split(val_size=6000, seed=0)
    assert len(train) == 54000 and len(val) == 6000
    assert torch.bincount(val.tensors[1]).tolist() == [600] * 10
    again = data.validation_split(val_size=6000, seed=0)[1]
    assert torch.equal(again.tensors[0], val.tensors[0])


def test_fashion_mnist_standin_is_announced_and_shaped_like_the_real_one(monkeypatch, capsys, data_dir):
    monkeypatch.setenv("WORKSHOP_SMOKE", "1")
    data = load_fashion_mnist(debian_dir=None, progress=False)
    printed = capsys.readouterr().out
    assert "STAND-IN DATA: Fashion-MNIST" in printed and "WORKSHOP_OFFLINE=1" in printed
    assert "SMOKE MODE" in printed
    assert data.source == "stand-in" and data.is_standin and data.smoke
    assert data.classes == FASHION_CLASSES
    images, labels = data.train.tensors
    assert images.shape == (2000, 1, 28, 28) and images.dtype == torch.float32
    assert torch.bincount(labels).tolist() == [200] * 10
    assert torch.bincount(data.test.tensors[1]).tolist() == [50] * 10
    # Read back from real IDX files in the cache.
    assert data.folder.parent == data_dir.resolve()
    assert read_idx(data.folder / "train-labels-idx1-ubyte.gz").shape == (2000,)


def test_real_data_only_says_what_to_do_and_draws_nothing(monkeypatch, tmp_path, data_dir):
    monkeypatch.setenv("WORKSHOP_REAL_DATA_ONLY", "1")
    with pytest.raises(DataUnavailable) as error:
        load_fashion_mnist(debian_dir=tmp_path / "nowhere", progress=False)
    message = str(error.value)
    for hint in ("WORKSHOP_REAL_DATA_ONLY", "data_download.py download fashion-mnist", "WORKSHOP_MIRROR",
                 "apt-get install dataset-fashion-mnist", "WORKSHOP_OFFLINE=1", str(tmp_path / "nowhere")):
        assert hint in message
    assert not (data_dir / "fashion-mnist-standin").exists()


def test_a_debian_copy_with_other_content_is_not_trusted(monkeypatch, tmp_path):
    fake = tmp_path / "debian"
    fake.mkdir()
    arrays = {"train_images": np.zeros((10, 28, 28), np.uint8), "train_labels": np.zeros(10, np.uint8),
              "test_images": np.zeros((10, 28, 28), np.uint8), "test_labels": np.zeros(10, np.uint8)}
    for key, name in FASHION_MNIST_FILES.items():
        (fake / name).write_bytes(gzip.compress(idx_bytes(arrays[key])))
    monkeypatch.setenv("WORKSHOP_REAL_DATA_ONLY", "1")
    with pytest.raises(DataUnavailable, match="not the expected file"):
        load_fashion_mnist(debian_dir=fake, progress=False)


def test_split_validation_takes_counts_or_fractions():
    dataset = torch.utils.data.TensorDataset(torch.arange(100).float(), torch.arange(100) % 4)
    train, val = split_validation(dataset, val_size=0.2, seed=1)
    assert len(train) == 80 and len(val) == 20
    assert torch.bincount(val.tensors[1]).tolist() == [5, 5, 5, 5]
    assert set(train.tensors[0].tolist()).isdisjoint(val.tensors[0].tolist())
    with pytest.raises(ValueError, match="between 0 and 1"):
        split_validation(dataset, val_size=1.5)


# ------------------------------------------------------------------------------------------------
# Road signs
# ------------------------------------------------------------------------------------------------

def test_road_signs_fall_back_to_the_announced_standin(road_signs):
    data, printed = road_signs
    assert "STAND-IN DATA: road signs" in printed and "data_download.py download road-signs" in printed
    assert data.source == "stand-in" and data.is_standin
    assert data.classes == ROAD_CLASSES
    assert data.class_counts["total"].to_dict() == REAL_ROAD_SIGN_CLASS_COUNTS
    assert len(data.table) == 877
    assert list(data.table.columns) == ["file", "label", "width", "height", "had_alpha", "n_objects", "split",
                                        "split_index"]
    assert (len(data.train), len(data.val), len(data.test)) == (613, 132, 132)
    assert data.train.images.shape == (613, 3, 64, 64) and data.train.images.dtype == torch.uint8


def test_road_sign_split_is_stratified_and_fixed_by_the_seed(road_signs):
    data, _ = road_signs
    counts = data.class_counts
    for split, fraction in (("train", 0.70), ("val", 0.15), ("test", 0.15)):
        for name in ROAD_CLASSES:
            assert abs(counts.loc[name, split] - fraction * counts.loc[name, "total"]) <= 1.5, (name, split)
    for split, dataset in data.splits.items():
        rows = data.table[data.table["split"] == split].sort_values("split_index")
        assert rows["file"].tolist() == dataset.files
        assert [ROAD_CLASSES[int(label)] for label in dataset.labels] == rows["label"].astype(str).tolist()
    same = load_road_signs(root=data.root, progress=False)
    assert same.table.equals(data.table)
    other = load_road_signs(seed=1, root=data.root, progress=False)
    assert not other.table["split"].equals(data.table["split"])


def test_rgba_images_become_rgb_on_white(road_signs):
    data, _ = road_signs
    manifest = read_standin_manifest(data.root)
    assert data.table["had_alpha"].sum() == sum(row["rgba"] for row in manifest) > 0
    for row in data.table[data.table["had_alpha"]].itertuples():
        with Image.open(data.root / "images" / row.file) as image:
            alpha = np.asarray(image)[..., 3]
            rgb, had_alpha = composite_on_white(image)
            naive = np.asarray(image.convert("RGB"))
        if (alpha[:, 0] == 0).all():  # a transparent left margin
            break
    else:
        pytest.fail("no RGBA stand-in image with a transparent left margin")
    assert had_alpha and rgb.mode == "RGB"
    assert (np.asarray(rgb)[:, 0] == 255).all() and (naive[:, 0] == 0).all()
    decoded = data.splits[row.split].images[row.split_index]
    assert (decoded[:, :, 0] == 255).all()


def test_transform_touches_the_training_split_only(road_signs):
    data, _ = road_signs
    calls = []

    def mirror(image: torch.Tensor) -> torch.Tensor:
        calls.append(image.shape)
        return image.flip(-1)

    augmented = load_road_signs(train_transform=mirror, root=data.root, progress=False)
    image, label = augmented.train[0]
    assert torch.equal(image, (augmented.train.images[0].float() / 255).flip(-1))
    assert label.dtype == torch.int64 and calls == [(3, 64, 64)]
    for split in (augmented.val, augmented.test):
        assert split.transform is None
        assert torch.equal(split[0][0], split.images[0].float() / 255)
    assert len(calls) == 1


def test_smoke_mode_shrinks_road_signs(monkeypatch, capsys, tmp_path):
    counts = {name: 2 * count for name, count in {"crosswalk": 5, "speedlimit": 30, "stop": 5,
                                                  "trafficlight": 5}.items()}
    folder = make_road_signs_standin(tmp_path / "signs", class_counts=counts, progress=False).root
    monkeypatch.setenv("WORKSHOP_SMOKE", "1")
    data = load_road_signs(image_size=64, root=folder, progress=False)
    assert "SMOKE MODE" in capsys.readouterr().out
    assert data.smoke and data.image_size == 32 and data.source == "stand-in"
    assert data.train.images.shape[1:] == (3, 32, 32)
    assert data.class_counts["total"].to_dict() == counts


def test_road_signs_real_data_only_and_bad_arguments(monkeypatch, tmp_path, data_dir):
    with pytest.raises(DataUnavailable, match="images/ and annotations/"):
        load_road_signs(root=tmp_path, progress=False)
    with pytest.raises(ValueError, match="image_size"):
        load_road_signs(image_size=0, root=tmp_path, progress=False)
    monkeypatch.setenv("WORKSHOP_REAL_DATA_ONLY", "1")
    with pytest.raises(DataUnavailable) as error:
        load_road_signs(progress=False)
    assert "road signs" in str(error.value) and "WORKSHOP_REAL_DATA_ONLY" in str(error.value)
    assert "data_download.py download road-signs" in str(error.value)
    assert not (data_dir / "road-signs-standin").exists()


def test_image_tensor_dataset_checks_its_input():
    with pytest.raises(ValueError, match="uint8"):
        ImageTensorDataset(torch.zeros(2, 3, 8, 8), torch.zeros(2, dtype=torch.int64))
    with pytest.raises(ValueError, match="2 images but 3 labels"):
        ImageTensorDataset(torch.zeros(2, 3, 8, 8, dtype=torch.uint8), torch.zeros(3, dtype=torch.int64))


# ------------------------------------------------------------------------------------------------
# GTSRB
# ------------------------------------------------------------------------------------------------

def test_gtsrb_subset_standin_in_smoke_mode(monkeypatch, capsys):
    monkeypatch.setenv("WORKSHOP_SMOKE", "1")
    data = load_gtsrb_subset(train_transform=lambda image: image * 0, progress=False)
    printed = capsys.readouterr().out
    assert "STAND-IN DATA: GTSRB" in printed and "SMOKE MODE" in printed
    assert data.source == "stand-in" and data.classes == ROAD_CLASSES
    assert data.train.images.shape[1:] == (3, 32, 32)
    assert len(data.test) == 200 and len(data.train) + len(data.val) == 600
    assert float(data.train[0][0].sum()) == 0.0 and float(data.val[0][0].sum()) > 0.0
    assert data.class_counts["total"].idxmax() == "speedlimit"


def test_gtsrb_class_mapping():
    assert Counter(GTSRB_TO_ROAD_SIGN.values()) == {"speedlimit": 9, "stop": 1, "trafficlight": 1, "crosswalk": 1}
    assert GTSRB_TO_ROAD_SIGN[14] == "stop" and GTSRB_TO_ROAD_SIGN[27] == "crosswalk"


def test_gtsrb_files_in_torchvisions_layout_are_read_and_mapped(tmp_path):
    """A miniature of the extracted archives: classes outside the four are left out."""
    base = tmp_path / "gtsrb"
    for cls in (0, 8, 14, 26, 27, 30):
        folder = base / "GTSRB" / "Training" / f"{cls:05d}"
        folder.mkdir(parents=True)
        Image.new("RGB", (40, 30), (cls * 8, 0, 0)).save(folder / f"{cls:05d}_00000.ppm")
        (folder / f"GT-{cls:05d}.csv").write_text("Filename;ClassId\n")
    images = base / "GTSRB" / "Final_Test" / "Images"
    images.mkdir(parents=True)
    rows = ["Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId"]
    for index, cls in enumerate((14, 42, 3)):
        Image.new("RGB", (25, 25)).save(images / f"{index:05d}.ppm")
        rows.append(f"{index:05d}.ppm;25;25;1;1;24;24;{cls}")
    (base / "GT-final_test.csv").write_text("\n".join(rows) + "\n")

    files = _gtsrb_real_files(base)
    assert [cls for _, cls in files["train"]] == [0, 8, 14, 26, 27, 30]
    assert [cls for _, cls in files["test"]] == [14, 42, 3]
    train_images, train_labels, train_rows = _decode_gtsrb(files["train"], 32, progress=False)
    assert train_images.shape == (5, 32, 32, 3)
    assert [ROAD_CLASSES[label] for label in train_labels] == ["speedlimit", "speedlimit", "stop",
                                                               "trafficlight", "crosswalk"]
    assert [row["gtsrb_class"] for row in train_rows] == [0, 8, 14, 26, 27]
    _, test_labels, _ = _decode_gtsrb(files["test"], 32, progress=False)
    assert [ROAD_CLASSES[label] for label in test_labels] == ["stop", "speedlimit"]
    with pytest.raises(DataUnavailable, match="extracted GTSRB"):
        _gtsrb_real_files(tmp_path / "empty")


# ------------------------------------------------------------------------------------------------
# Tables and bundled data
# ------------------------------------------------------------------------------------------------

def test_wine_frame_and_2d_tensors():
    frame = load_wine_frame()
    assert frame.shape == (178, 15)
    assert {"proline", "alcohol", "target", "target_name"} <= set(frame.columns)
    assert frame["target_name"].value_counts().to_dict() == {"class_1": 71, "class_0": 59, "class_2": 48}
    X, y, names = load_wine_2d()
    assert X.shape == (178, 2) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert names == ["proline", "alcohol"]
    assert torch.allclose(X.mean(0), torch.zeros(2), atol=1e-5) and torch.allclose(X.std(0, unbiased=False),
                                                                                      torch.ones(2), atol=1e-4)
    raw = load_wine_2d(standardize=False).X
    assert float(raw[0, 0]) == 1065.0 and abs(float(raw[0, 1]) - 14.23) < 1e-5
    with pytest.raises(ValueError, match="prolin"):
        load_wine_2d(features=("prolin", "alcohol"))


def test_auto_mpg_and_digits():
    cars = load_auto_mpg()
    assert len(cars) == 406
    assert cars["Miles_per_Gallon"].isna().sum() == 8 and cars["Horsepower"].isna().sum() == 6
    assert len(load_auto_mpg(dropna=True)) == 392
    images, labels = load_digits_tensors()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == torch.float32
    assert float(images.min()) == 0.0 and float(images.max()) == 1.0
    assert labels.dtype == torch.int64 and set(labels.tolist()) == set(range(10))


def test_banners_are_boxed_and_returned(capsys):
    from workshop_utils.data.banner import announce_smoke, announce_standin

    reason = "offline, and /a/very/long/path/" + "x" * 120 + "/file.gz is not cached"
    text = announce_standin("road signs", reason, "run `python data_download.py download road-signs`")
    assert capsys.readouterr().out.strip() == text
    lines = text.splitlines()
    assert len({len(line) for line in lines}) == 1  # a closed box, whatever the text
    assert "STAND-IN DATA: road signs is NOT the real data set" in text
    assert "data_download.py download road-signs" in text.replace("#", "").replace("\n", " ")
    smoke = announce_smoke("road signs: 300 images")
    assert "SMOKE MODE" in smoke and "road signs: 300 images" in smoke
