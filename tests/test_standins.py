"""Stand-in generators: the real formats, the real class mix, determinism and atomic writes."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from workshop_utils.data.idx import read_idx
from workshop_utils.data.standins import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_FILES,
    MARKER_FILE,
    REAL_ROAD_SIGN_CLASS_COUNTS,
    RoadSignStandin,
    _fashion_motifs,
    _generate_atomically,
    default_fashion_mnist_standin_dir,
    default_road_signs_standin_dir,
    fashion_mnist_standin_arrays,
    make_fashion_mnist_standin,
    make_gtsrb_standin_arrays,
    make_road_signs_standin,
    read_standin_manifest,
    render_sign,
)
from workshop_utils.data.voc import ROAD_SIGN_CLASSES, image_label, parse_voc_annotation

SMALL_COUNTS = {"crosswalk": 2, "speedlimit": 5, "stop": 2, "trafficlight": 2}


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKSHOP_OFFLINE", "1")
    monkeypatch.setenv("WORKSHOP_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(scope="module")
def road_standin(tmp_path_factory) -> RoadSignStandin:
    """The full default stand-in (877 images, ~10 s), in the session's shared data folder.

    test_loaders.py uses the same folder as its WORKSHOP_DATA_DIR, so in one pytest session the
    stand-in is drawn once and reused, as it is in a notebook session.
    """
    shared = tmp_path_factory.getbasetemp() / "shared-workshop-data"
    return make_road_signs_standin(shared / "road-signs-standin", progress=False)


def _hashes(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


# ------------------------------------------------------------------------------------------------
# Road signs
# ------------------------------------------------------------------------------------------------

def test_road_standin_has_kaggles_layout_and_formats(road_standin):
    images = sorted(road_standin.images_dir.glob("*.png"))
    annotations = sorted(road_standin.annotations_dir.glob("*.xml"))
    assert len(images) == len(annotations) == 877
    assert {p.stem for p in images} == {p.stem for p in annotations} == {f"road{i}" for i in range(877)}
    modes, sizes = Counter(), Counter()
    for xml in annotations:
        annotation = parse_voc_annotation(xml)
        assert annotation.filename == xml.stem + ".png" and annotation.depth == 3
        with Image.open(road_standin.images_dir / annotation.filename) as image:
            assert image.format == "PNG"
            assert image.size == (annotation.width, annotation.height)
            modes[image.mode] += 1
        sizes[image.size] += 1
        for obj in annotation.objects:
            assert 0 <= obj.xmin < obj.xmax <= annotation.width and 0 <= obj.ymin < obj.ymax <= annotation.height
    assert set(modes) == {"RGB", "RGBA"}
    assert 0.08 < modes["RGBA"] / 877 < 0.25
    assert sizes[(300, 400)] == 731  # the real size mix
    leftovers = [p.name for p in road_standin.root.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_road_standin_class_mix_is_the_real_one(road_standin):
    labels = Counter(image_label(parse_voc_annotation(p)) for p in road_standin.annotations_dir.glob("*.xml"))
    assert labels == REAL_ROAD_SIGN_CLASS_COUNTS == {"crosswalk": 88, "speedlimit": 652, "stop": 76,
                                                     "trafficlight": 61}
    assert Counter(record["label"] for record in road_standin.records) == REAL_ROAD_SIGN_CLASS_COUNTS
    assert Counter(record["n_objects"] for record in road_standin.records)[1] > 0.6 * 877


def test_road_standin_exposes_its_wrong_labels(road_standin):
    mislabeled = road_standin.mislabeled
    assert len(mislabeled) == round(0.03 * 877)
    manifest = read_standin_manifest(road_standin.root)
    assert manifest == road_standin.records
    for record in manifest:
        xml = road_standin.annotations_dir / record["file"].replace(".png", ".xml")
        written = image_label(parse_voc_annotation(xml))
        assert written == record["label"]
        assert (record["true_class"] != record["label"]) == record["mislabeled"]
    assert sorted(mislabeled) == sorted(r["file"] for r in manifest if r["mislabeled"])


def test_rgba_images_hide_black_under_transparent_margins(road_standin):
    rgba = [r["file"] for r in road_standin.records if r["rgba"]][:5]
    for name in rgba:
        pixels = np.asarray(Image.open(road_standin.images_dir / name))
        transparent = pixels[..., 3] == 0
        assert transparent.any() and not transparent.all()
        assert (pixels[transparent][:, :3] == 0).all()


def test_same_seed_same_bytes_other_seed_other_pictures(tmp_path):
    first = make_road_signs_standin(tmp_path / "a", seed=0, class_counts=SMALL_COUNTS, noisy_fraction=0.2,
                                    progress=False)
    second = make_road_signs_standin(tmp_path / "b", seed=0, class_counts=SMALL_COUNTS, noisy_fraction=0.2,
                                     progress=False)
    other = make_road_signs_standin(tmp_path / "c", seed=1, class_counts=SMALL_COUNTS, noisy_fraction=0.2,
                                    progress=False)
    assert _hashes(first.root) == _hashes(second.root)
    assert len(first.mislabeled) == 2
    images = lambda hashes: {k: v for k, v in hashes.items() if k.endswith(".png")}  # noqa: E731
    assert set(images(_hashes(first.root)).values()).isdisjoint(images(_hashes(other.root)).values())
    assert Counter(r["label"] for r in other.records) == SMALL_COUNTS


def test_complete_folder_is_reused_and_outdated_one_replaced(tmp_path):
    root = tmp_path / "signs"
    make_road_signs_standin(root, class_counts=SMALL_COUNTS, progress=False)
    stamp = (root / "images" / "road0.png").stat().st_mtime_ns
    make_road_signs_standin(root, class_counts=SMALL_COUNTS, progress=False)
    assert (root / "images" / "road0.png").stat().st_mtime_ns == stamp
    make_road_signs_standin(root, seed=5, class_counts=SMALL_COUNTS, progress=False)
    assert json.loads((root / MARKER_FILE).read_text())["seed"] == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["signs"]


def test_interrupted_generation_leaves_nothing_and_keeps_the_old_folder(tmp_path):
    target = tmp_path / "standin"

    def fail_halfway(folder: Path) -> None:
        (folder / "half-written.png").write_bytes(b"\x89PNG")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _generate_atomically(target, {"version": 1}, fail_halfway)
    assert list(tmp_path.iterdir()) == []

    _generate_atomically(target, {"version": 1}, lambda folder: (folder / "ok.txt").write_text("ok"))
    with pytest.raises(KeyboardInterrupt):
        _generate_atomically(target, {"version": 2}, fail_halfway)
    assert sorted(p.name for p in target.iterdir()) == [MARKER_FILE, "ok.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["standin"]


def test_a_copy_finished_meanwhile_by_another_process_is_kept_not_replaced(tmp_path):
    """Two notebooks (or xdist workers) draw the same stand-in at once: the one that finishes second must
    not move away the first one's folder, which the first process is reading by then."""
    target = tmp_path / "standin"
    spec = {"version": 1}

    def slow_fill(folder: Path) -> None:
        # While this process draws, "another process" finishes the same stand-in and starts reading it.
        _generate_atomically(target, spec, lambda other: (other / "theirs.txt").write_text("first"))
        (folder / "ours.txt").write_text("second")

    assert _generate_atomically(target, spec, slow_fill) == target
    assert sorted(p.name for p in target.iterdir()) == [MARKER_FILE, "theirs.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["standin"]  # our copy discarded, nothing left over


def test_unknown_class_is_refused(tmp_path):
    with pytest.raises(ValueError, match="stopp"):
        make_road_signs_standin(tmp_path / "x", class_counts={"stopp": 3}, progress=False)
    assert not (tmp_path / "x").exists()


def test_default_folders_follow_the_data_dir(tmp_path):
    assert default_road_signs_standin_dir() == (tmp_path / "data" / "road-signs-standin").resolve()
    assert default_fashion_mnist_standin_dir() == (tmp_path / "data" / "fashion-mnist-standin").resolve()


@pytest.mark.parametrize("kind, channel", [("speedlimit", 0), ("stop", 0), ("crosswalk", 2)])
def test_signs_have_their_colours(kind, channel):
    sign = np.asarray(render_sign(kind, 60, np.random.default_rng(0), max_rotation=0)).astype(int)
    opaque = sign[sign[..., 3] > 200][:, :3]
    assert len(opaque) > 0.5 * 60 * 60
    dominant = np.argmax(np.median(opaque, axis=0)) if kind != "speedlimit" else np.argmax(opaque.mean(axis=0))
    assert dominant == channel


def test_traffic_light_is_dark_and_tall():
    sign = render_sign("trafficlight", 60, np.random.default_rng(0), max_rotation=0)
    assert sign.mode == "RGBA" and sign.height > 1.7 * sign.width
    assert np.median(np.asarray(sign)[..., :3]) < 80
    with pytest.raises(ValueError, match="Unknown sign"):
        render_sign("yield", 60, np.random.default_rng(0))


# ------------------------------------------------------------------------------------------------
# Fashion-MNIST
# ------------------------------------------------------------------------------------------------

def test_fashion_standin_is_real_idx_with_the_real_names(tmp_path):
    folder = make_fashion_mnist_standin(tmp_path / "fm", n_train=500, n_test=100)
    assert sorted(p.name for p in folder.iterdir()) == sorted([*FASHION_MNIST_FILES.values(), MARKER_FILE])
    train_images = read_idx(folder / "train-images-idx3-ubyte.gz", expected_shape=(500, 28, 28))
    train_labels = read_idx(folder / "train-labels-idx1-ubyte.gz", expected_shape=(500,))
    test_images = read_idx(folder / "t10k-images-idx3-ubyte.gz", expected_shape=(100, 28, 28))
    assert train_images.dtype == train_labels.dtype == test_images.dtype == np.uint8
    assert np.bincount(train_labels).tolist() == [50] * 10
    assert 5 < train_images.mean() < 80 and train_images.max() > 200
    assert json.loads((folder / MARKER_FILE).read_text())["classes"] == list(FASHION_MNIST_CLASSES)
    assert [p.name for p in tmp_path.iterdir()] == ["fm"]


def test_fashion_standin_is_deterministic(tmp_path):
    first = make_fashion_mnist_standin(tmp_path / "a", n_train=200, n_test=50, seed=3)
    second = make_fashion_mnist_standin(tmp_path / "b", n_train=200, n_test=50, seed=3)
    other = make_fashion_mnist_standin(tmp_path / "c", n_train=200, n_test=50, seed=4)
    assert _hashes(first) == _hashes(second)
    name = "train-images-idx3-ubyte.gz"
    assert not np.array_equal(read_idx(first / name), read_idx(other / name))


def test_fashion_motifs_differ_from_each_other():
    motifs = _fashion_motifs().reshape(10, -1)
    distances = np.abs(motifs[:, None] - motifs[None]).sum(-1)
    assert (distances + np.eye(10) * 99 >= 6).all()


# ------------------------------------------------------------------------------------------------
# GTSRB
# ------------------------------------------------------------------------------------------------

def test_gtsrb_standin_arrays():
    train_images, train_labels, test_images, test_labels = make_gtsrb_standin_arrays(200, 80, image_size=32)
    assert train_images.shape[1:] == (32, 32, 3) and train_images.dtype == np.uint8
    assert len(train_images) == len(train_labels) == 200 and len(test_images) == len(test_labels) == 80
    counts = np.bincount(train_labels, minlength=4)
    assert (counts > 0).all() and counts.argmax() == ROAD_SIGN_CLASSES.index("speedlimit")
    again = make_gtsrb_standin_arrays(200, 80, image_size=32)
    assert np.array_equal(again[0], train_images) and np.array_equal(again[3], test_labels)


def test_fashion_standin_full_size_has_the_real_shapes_and_balance():
    train_images, train_labels, test_images, test_labels = fashion_mnist_standin_arrays()
    assert train_images.shape == (60000, 28, 28) and test_images.shape == (10000, 28, 28)
    assert train_images.dtype == test_images.dtype == np.uint8
    assert np.bincount(train_labels).tolist() == [6000] * 10
    assert np.bincount(test_labels).tolist() == [1000] * 10
    assert not np.array_equal(train_images[:100], test_images[:100])
