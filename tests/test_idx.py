"""IDX reader and writer: round trips, and clear errors for every kind of broken file."""

from __future__ import annotations

import gzip
import hashlib
import struct

import numpy as np
import pytest

from workshop_utils.data.idx import IdxFormatError, decompressed_bytes, idx_bytes, read_idx, write_idx
from workshop_utils.data.manifest import DEBIAN_FASHION_MNIST_DIR, DEBIAN_FASHION_MNIST_SHA256


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", [".gz", ""])
def test_round_trip(tmp_path, dtype, suffix):
    array = (np.arange(2 * 3 * 5) - 7).astype(dtype).reshape(2, 3, 5)
    path = write_idx(array, tmp_path / f"data-idx3{suffix}")
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (2, 3, 5)
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_header_layout_is_the_mnist_one():
    data = idx_bytes(np.zeros((60000, 28, 28), np.uint8))
    assert data[:4] == b"\x00\x00\x08\x03"
    assert struct.unpack(">3I", data[4:16]) == (60000, 28, 28)
    assert len(data) == 16 + 60000 * 28 * 28


def test_gz_output_is_deterministic(tmp_path):
    array = np.arange(100, dtype=np.uint8)
    first = write_idx(array, tmp_path / "a.gz").read_bytes()
    second = write_idx(array, tmp_path / "b.gz").read_bytes()
    assert first == second


def test_bad_magic_number(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x12\x34\x08\x01" + struct.pack(">I", 3) + b"abc")
    with pytest.raises(IdxFormatError, match=r"bad\b.*magic number 0x12340801"):
        read_idx(path)


def test_unknown_type_and_zero_dimensions(tmp_path):
    unknown = tmp_path / "unknown"
    unknown.write_bytes(b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"a")
    with pytest.raises(IdxFormatError, match="element type 0x07"):
        read_idx(unknown)
    flat = tmp_path / "flat"
    flat.write_bytes(b"\x00\x00\x08\x00")
    with pytest.raises(IdxFormatError, match="at least one dimension"):
        read_idx(flat)


def test_truncated_and_oversized_files(tmp_path):
    good = idx_bytes(np.zeros((4, 28, 28), np.uint8))
    short = tmp_path / "short"
    short.write_bytes(good[:-1])
    with pytest.raises(IdxFormatError, match="truncated or corrupt"):
        read_idx(short)
    long = tmp_path / "long"
    long.write_bytes(good + b"\x00")
    with pytest.raises(IdxFormatError, match=r"\(4, 28, 28\)"):
        read_idx(long)
    header = tmp_path / "header"
    header.write_bytes(good[:10])
    with pytest.raises(IdxFormatError, match="truncated header"):
        read_idx(header)
    tiny = tmp_path / "tiny"
    tiny.write_bytes(b"\x00")
    with pytest.raises(IdxFormatError, match="too short"):
        read_idx(tiny)


def test_corrupt_gzip_says_download_again(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(1000, np.uint8)))[:-20])
    with pytest.raises(IdxFormatError, match="download it again"):
        read_idx(path)


def test_expected_shape(tmp_path):
    path = write_idx(np.zeros((3, 28, 28), np.uint8), tmp_path / "x.gz")
    assert read_idx(path, expected_shape=(None, 28, 28)).shape == (3, 28, 28)
    with pytest.raises(IdxFormatError, match="expected"):
        read_idx(path, expected_shape=(None, 32, 32))


def test_unsupported_dtype_is_refused(tmp_path):
    with pytest.raises(TypeError, match="uint8"):
        write_idx(np.zeros(3, np.uint64), tmp_path / "x")
    assert not list(tmp_path.iterdir())


def test_debian_fashion_mnist_labels_read_and_verify():
    path = DEBIAN_FASHION_MNIST_DIR / "t10k-labels-idx1-ubyte.gz"
    if not path.is_file():
        pytest.skip(f"Debian's dataset-fashion-mnist is not installed ({path})")
    data = decompressed_bytes(path)
    assert hashlib.sha256(data).hexdigest() == DEBIAN_FASHION_MNIST_SHA256[path.name]
    labels = read_idx(path, expected_shape=(10000,))
    assert labels.dtype == np.uint8
    assert np.bincount(labels).tolist() == [1000] * 10
