"""The manifest: well-formed entries, and facts cross-checked against torchvision and Debian's real files."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from workshop_utils.data import download, manifest
from workshop_utils.data.manifest import DATASETS, get_dataset_info

DOWNLOADABLE = [info for info in DATASETS.values() if info.kind != "bundled"]
ALL_FILES = [(info.name, remote) for info in DOWNLOADABLE for remote in info.files]


def test_the_curriculum_entries_are_all_there():
    assert set(DATASETS) == {"wine", "digits", "auto-mpg", "fashion-mnist", "road-signs", "gtsrb",
                             "resnet18", "mobilenet_v3_small"}


@pytest.mark.parametrize("info", DATASETS.values(), ids=list(DATASETS))
def test_every_entry_is_described_and_cited(info):
    assert info.kind in manifest.KINDS
    assert DATASETS[info.name] is info
    assert info.title and info.source and info.license and info.description
    if info.kind == "bundled":
        assert info.files == () and info.download_size == 0 and not info.downloadable
    else:
        assert info.files and info.download_size > 0 and info.downloadable


@pytest.mark.parametrize("dataset, remote", ALL_FILES, ids=[f"{d}/{r.name}" for d, r in ALL_FILES])
def test_every_download_has_a_url_a_size_and_a_checksum_or_a_reason(dataset, remote):
    assert urlparse(remote.url).scheme in {"http", "https"} and urlparse(remote.url).netloc
    assert all(urlparse(url).scheme in {"http", "https"} for url in remote.mirrors)
    assert remote.size > 0
    assert re.fullmatch(r"[A-Za-z0-9._-]+", remote.name), "names become cache paths and mirror URLs"
    if remote.known_hash is None:
        assert "checksum" in remote.note.lower()
        assert get_dataset_info(dataset).expected_layout, "no checksum: the structure must be checked instead"
    else:
        algorithm, digest = download.parse_known_hash(remote.known_hash)
        expected_length = {"md5": 32, "sha256": 64}.get(algorithm)
        assert expected_length is None or len(digest) == expected_length


def test_weight_files_follow_torch_hubs_naming_and_hash_prefix():
    for info in DATASETS.values():
        if info.kind != "weights":
            continue
        (remote,) = info.files
        assert remote.url.rsplit("/", 1)[1] == remote.name
        prefix = re.search(r"-([a-f0-9]+)\.", remote.name).group(1)  # torch.hub's HASH_REGEX
        algorithm, digest = download.parse_known_hash(remote.known_hash)
        assert algorithm == "sha256" and digest.startswith(prefix)


def test_fashion_mnist_matches_torchvision():
    from torchvision.datasets import FashionMNIST

    info = get_dataset_info("fashion-mnist")
    assert {remote.name: remote.known_hash for remote in info.files} == {
        name: f"md5:{md5}" for name, md5 in FashionMNIST.resources}
    assert all(remote.url == FashionMNIST.mirrors[0] + remote.name for remote in info.files)


def test_weights_match_torchvision():
    from torchvision.models import MobileNet_V3_Small_Weights, ResNet18_Weights

    for name, weights in (("resnet18", ResNet18_Weights.IMAGENET1K_V1),
                          ("mobilenet_v3_small", MobileNet_V3_Small_Weights.IMAGENET1K_V1)):
        (remote,) = get_dataset_info(name).files
        assert remote.url == weights.url
        assert remote.size / 2**20 == pytest.approx(weights.meta["_file_size"], abs=0.001)


def test_debian_checksums_match_the_installed_files():
    if not manifest.DEBIAN_FASHION_MNIST_DIR.is_dir():
        pytest.skip("Debian's dataset-fashion-mnist package is not installed")
    for name, expected in manifest.DEBIAN_FASHION_MNIST_SHA256.items():
        assert download.gzip_content_sha256(manifest.DEBIAN_FASHION_MNIST_DIR / name) == expected


def test_road_signs_facts():
    info = get_dataset_info("road-signs")
    assert info.kind == "kaggle" and info.kaggle_handle == "andrewmvd/road-sign-detection"
    assert info.license == "CC0-1.0"
    assert [(rule.folder, rule.count) for rule in info.expected_layout] == [("images", 877), ("annotations", 877)]
    (remote,) = info.files
    assert remote.name == "road-sign-detection.zip" and remote.is_archive
    assert remote.url == "https://www.kaggle.com/api/v1/datasets/download/andrewmvd/road-sign-detection"


def test_unknown_names_get_a_helpful_error():
    with pytest.raises(ValueError, match="unknown data set 'cifar10'; known names: wine, digits"):
        get_dataset_info("cifar10")
    with pytest.raises(ValueError, match="has no file 'x.zip'; its files: GTSRB-Training_fixed.zip"):
        get_dataset_info("gtsrb").file("x.zip")
    assert manifest.downloadable_names() == ["fashion-mnist", "road-signs", "gtsrb", "resnet18", "mobilenet_v3_small"]
