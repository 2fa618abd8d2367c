"""The IDX file format of MNIST and Fashion-MNIST: read and write, plain or gzip-compressed.

Layout (all integers big-endian)::

    bytes 0-1   0x00 0x00
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions n
    then        n sizes as uint32
    then        the elements, row-major

Fashion-MNIST's ``train-images-idx3-ubyte`` is type 0x08 with sizes (60000, 28, 28): 16 header bytes
and 47,040,000 pixel bytes. The reader checks every part of that and says which file is broken.
"""

from __future__ import annotations

import gzip
import os
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np

_GZIP_MAGIC = b"\x1f\x8b"

#: IDX element-type code -> NumPy big-endian dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class IdxFormatError(ValueError):
    """A file that is not a valid IDX file (the message names the file and what is wrong)."""


def decompressed_bytes(path: str | Path) -> bytes:
    """The bytes of ``path``, gunzipped when the file is gzip-compressed (detected by content, not name)."""
    path = Path(path)
    raw = path.read_bytes()
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise IdxFormatError(
            f"{path}: corrupt or truncated gzip data ({error}). Delete the file and download it again."
        ) from None


def parse_idx_bytes(data: bytes, source: str = "<bytes>") -> np.ndarray:
    """Decode uncompressed IDX ``data`` into an array of native byte order; ``source`` names it in errors."""
    if len(data) < 4:
        raise IdxFormatError(f"{source}: {len(data)} bytes is too short for an IDX header.")
    zero, type_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0:
        raise IdxFormatError(
            f"{source}: bad magic number 0x{data[:4].hex()} (an IDX file starts with 0x0000); "
            "is it an IDX file, or still compressed with something other than gzip?"
        )
    if type_code not in IDX_DTYPES:
        raise IdxFormatError(f"{source}: unknown IDX element type 0x{type_code:02x}.")
    if ndim == 0:
        raise IdxFormatError(f"{source}: an IDX file needs at least one dimension.")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise IdxFormatError(f"{source}: truncated header ({len(data)} bytes, {header_size} needed).")
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    dtype = IDX_DTYPES[type_code]
    expected = header_size + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise IdxFormatError(
            f"{source}: header says shape {shape} of {dtype.name} ({expected:,} bytes in all) "
            f"but the file has {len(data):,} bytes; it is truncated or corrupt."
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    # A native-order copy: writable, and what torch.from_numpy needs.
    return array.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | Path, expected_shape: tuple[int | None, ...] | None = None) -> np.ndarray:
    """Read an IDX file (``.gz`` or plain) into a NumPy array.

    ``expected_shape`` optionally checks the sizes; ``None`` entries match any size, e.g. ``(None, 28, 28)``.
    """
    path = Path(path)
    array = parse_idx_bytes(decompressed_bytes(path), source=str(path))
    if expected_shape is not None:
        matches = len(expected_shape) == array.ndim and all(
            want is None or want == got for want, got in zip(expected_shape, array.shape)
        )
        if not matches:
            raise IdxFormatError(f"{path}: shape {array.shape}, expected {expected_shape}.")
    return array


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` encoded as uncompressed IDX bytes."""
    array = np.asarray(array)
    type_codes = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in type_codes:
        raise TypeError(f"IDX cannot store dtype {array.dtype}; "
                        "use one of uint8, int8, int16, int32, float32, float64.")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"IDX needs 1 to 255 dimensions, got {array.ndim}.")
    header = struct.pack(f">HBB{array.ndim}I", 0, type_codes[native], array.ndim, *array.shape)
    body = np.ascontiguousarray(array, dtype=IDX_DTYPES[type_codes[native]]).tobytes()
    return header + body


def write_idx(array: np.ndarray, path: str | Path, *, compresslevel: int = 6) -> Path:
    """Write ``array`` as an IDX file, gzip-compressed when ``path`` ends in ``.gz``; returns the path.

    The file is written under a temporary name and renamed, so an interrupted write leaves no partial file.
    """
    path = Path(path)
    data = idx_bytes(array)
    if path.suffix == ".gz":
        # mtime=0 makes the compressed bytes depend on the contents only: same array, same file.
        data = gzip.compress(data, compresslevel=compresslevel, mtime=0)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)  # mkstemp makes files private; a cache file may be served to a room
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
