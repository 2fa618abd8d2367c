"""Download, verify, cache and extract the files listed in ``manifest.py``.

Where a file comes from, in order:

1. the cache (``config.data_dir()/<data set>/<file>``; weights: ``torch.hub.get_dir()/checkpoints``),
   re-verified on every use: a corrupt cached file is deleted and fetched again;
2. the room mirror ``{WORKSHOP_MIRROR}/<data set>/<file>`` when ``WORKSHOP_MIRROR`` is set
   (``python data_download.py serve`` serves exactly that layout; a ``file://`` URL of a folder
   in that layout works too, e.g. a USB stick with a copy of an instructor's cache);
3. the public URL, then its public mirrors.

With ``WORKSHOP_OFFLINE=1`` only the cache counts. Each URL gets ``1 + len(RETRY_DELAYS)`` tries
when the failure may be transient (5xx, 429, timeouts, cut connections) and one try otherwise
(404, wrong bytes, unknown host). A download goes to a hidden temporary file beside its final
place and is renamed into place only once its size and checksum match, so a failure at any point
leaves nothing in the cache. Archives are extracted the same way: into a temporary folder first,
checked, then moved into place.

The code uses ``urllib`` rather than ``pooch.retrieve``: pooch retries every error alike (a 404 as
often as a 503), cannot check a truncated body against ``Content-Length`` and does not know the
``sha256-prefix`` check of torch.hub's file names.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import http.client
import os
import re
import shutil
import socket
import ssl
import stat
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .. import config
from . import manifest
from .manifest import DatasetInfo, RemoteFile, get_dataset_info

from tqdm.auto import tqdm

#: Seconds to wait for a connection or for the next bytes of a response.
TIMEOUT_SECONDS: float = 30.0
#: Every download from one URL must finish within ``DEADLINE_BASE_SECONDS + size / MIN_BYTES_PER_SECOND``
#: (the manifest's size): a server trickling a few bytes at a time fails in bounded time, not never.
DEADLINE_BASE_SECONDS: float = 120.0
MIN_BYTES_PER_SECOND: float = 20_000.0
#: When the manifest's size is an estimate, a body may be at most this factor larger (plus SIZE_SLACK_BYTES).
SIZE_TOLERANCE: float = 2.0
SIZE_SLACK_BYTES: int = 16 << 20
#: Archives may expand at most this much (total uncompressed / archive size) and to at most
#: MAX_EXTRACTED_BYTES: a "zip bomb" of a few kB that expands to terabytes is refused before writing.
MAX_COMPRESSION_RATIO: float = 100.0
MAX_EXTRACTED_BYTES: int = 20 << 30
#: Pauses between the tries of one URL: 3 retries after 1 s, 2 s and 4 s (4 tries in all).
RETRY_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0)
#: HTTP statuses worth retrying: the server may answer differently a moment later.
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
#: Use ``kagglehub`` (preinstalled on Colab) for Kaggle data sets when no room mirror is set.
USE_KAGGLEHUB: bool = True
#: Leftover ``.part`` files older than this (a killed download) are removed before a new download.
STALE_PARTIAL_SECONDS: float = 6 * 3600

CHUNK_SIZE = 1 << 20
USER_AGENT = "workshop-utils/0.1 (dl-workshop data downloader; python-urllib)"


class DataUnavailable(RuntimeError):
    """A data set or file cannot be had: the message says what happened and what to do."""


class UnsafeArchive(DataUnavailable):
    """An archive holds a member that would land outside the extraction folder, or expands absurdly."""


class DiskFull(DataUnavailable):
    """The cache's disk filled up (or would): the files already there, the archive included, are kept."""


# --------------------------------------------------------------------------------------------------
# Cache locations
# --------------------------------------------------------------------------------------------------

def _check_folder_name(name: str) -> None:
    """ValueError unless ``name`` is a plain folder name (no separators, not '.' or '..')."""
    if not name or name in {".", ".."} or "/" in name or "\\" in name:
        raise ValueError(f"not a valid data set folder name: {name!r}")


def _ensure_writable_dir(path: Path, setting: str) -> Path:
    """Create ``path`` and prove it writable, else DataUnavailable naming the ``setting`` to change."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise DataUnavailable(
            f"The cache folder {path} cannot be written ({reason}).\n"
            f"Set {setting} to a folder you can write to (e.g. `export {setting}=$HOME/workshop_data`, or "
            f"in a notebook `%env {setting}=...` before importing workshop_utils), or fix its permissions."
        ) from error
    return path


def dataset_dir(name: str) -> Path:
    """``config.data_dir()/name``, created; DataUnavailable naming WORKSHOP_DATA_DIR if it cannot be written."""
    _check_folder_name(name)
    return _ensure_writable_dir(config.data_dir() / name, "WORKSHOP_DATA_DIR")


def torch_checkpoints_dir() -> Path:
    """``torch.hub.get_dir()/checkpoints``: where torchvision looks for pretrained weights (not created)."""
    import torch.hub  # imported here: torch takes seconds to import and only weights need it

    return Path(torch.hub.get_dir()) / "checkpoints"


def cached_path(dataset: str, filename: str) -> Path:
    """Where ``filename`` of ``dataset`` lives in the cache (whether or not it is there yet)."""
    info = get_dataset_info(dataset)
    info.file(filename)  # ValueError for a file the manifest does not list
    if info.kind == "weights":
        return torch_checkpoints_dir() / filename
    return config.data_dir() / dataset / filename


def _cache_folder(info: DatasetInfo) -> Path:
    """The folder that receives ``info``'s files, created and writable."""
    if info.kind == "weights":
        return _ensure_writable_dir(torch_checkpoints_dir(), "TORCH_HOME")
    return dataset_dir(info.name)


def _readable_folder(info: DatasetInfo) -> Path:
    """Where ``info``'s files are looked for: the cache folder, neither created nor required writable, so
    that a read-only cache (a lab's shared folder, a JupyterHub volume) that holds the data is used as is."""
    if info.kind == "weights":
        return torch_checkpoints_dir()
    _check_folder_name(info.name)
    return config.data_dir() / info.name


def _folder_in_the_way(path: Path, dataset: str) -> DataUnavailable:
    return DataUnavailable(
        f"{path} is a folder, but the cache keeps the file {path.name} of {dataset} there. Move or delete that "
        f"folder (e.g. `rm -r \"{path}\"` if it holds nothing you need), then run again.")


# --------------------------------------------------------------------------------------------------
# Checksums
# --------------------------------------------------------------------------------------------------

def parse_known_hash(known_hash: str) -> tuple[str, str]:
    """``"md5:ab12..."`` -> ``("md5", "ab12...")``; ValueError for an unknown algorithm or a non-hex digest."""
    algorithm, _, digest = known_hash.partition(":")
    algorithm, digest = algorithm.strip().lower(), digest.strip().lower()
    if algorithm not in manifest.HASH_ALGORITHMS or not re.fullmatch(r"[0-9a-f]+", digest):
        raise ValueError(f"not a known_hash this module can check: {known_hash!r} "
                         f"(expected one of {', '.join(manifest.HASH_ALGORITHMS)} followed by ':' and hex digits)")
    return algorithm, digest


def _new_hasher(known_hash: str):
    """A hashlib object for ``known_hash``'s algorithm (sha256 for ``sha256-prefix``)."""
    algorithm, _ = parse_known_hash(known_hash)
    return hashlib.md5() if algorithm == "md5" else hashlib.sha256()


def _digest_problem(known_hash: str, hexdigest: str) -> str | None:
    """None when ``hexdigest`` satisfies ``known_hash``, else a short description of the mismatch."""
    algorithm, expected = parse_known_hash(known_hash)
    matches = hexdigest.startswith(expected) if algorithm == "sha256-prefix" else hexdigest == expected
    if matches:
        return None
    shown = "sha256" if algorithm == "sha256-prefix" else algorithm
    return f"{shown} mismatch: got {hexdigest[:16]}..., expected {expected[:16]}..."


def file_digest(path: Path, known_hash: str) -> str:
    """The hex digest of ``path`` with ``known_hash``'s algorithm."""
    hasher = _new_hasher(known_hash)
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK_SIZE), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def verify_file(path: Path, remote: RemoteFile) -> str | None:
    """None when ``path`` is ``remote``'s file (exact size if known, checksum if known), else why not."""
    if path.is_dir():
        return "a folder is where the file should be"
    if not path.is_file():
        return "missing"
    size = path.stat().st_size
    if remote.size_exact and size != remote.size:
        return f"size {size:,} bytes, expected {remote.size:,}"
    if remote.known_hash is None:
        return None
    return _digest_problem(remote.known_hash, file_digest(path, remote.known_hash))


def gzip_content_sha256(path: Path) -> str:
    """sha256 of the decompressed content of the gzip file ``path``."""
    hasher = hashlib.sha256()
    with gzip.open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK_SIZE), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def local_copy(dataset: str, filename: str, *, verify: bool = True) -> Path | None:
    """A system-wide copy of a manifest file outside the cache, or None.

    Only Fashion-MNIST has one: Debian's ``dataset-fashion-mnist`` package in
    ``manifest.DEBIAN_FASHION_MNIST_DIR``. Its .gz files were re-compressed, so they are checked
    on their decompressed content (``verify=True``), not with torchvision's md5s.
    """
    remote = get_dataset_info(dataset).file(filename)
    if dataset != manifest.FASHION_MNIST.name or remote.decompressed_sha256 is None:
        return None
    path = manifest.DEBIAN_FASHION_MNIST_DIR / filename
    if not path.is_file():
        return None
    if verify:
        try:
            if gzip_content_sha256(path) != remote.decompressed_sha256:
                return None
        except (OSError, EOFError):  # not a readable gzip file: not a usable copy
            return None
    return path


# --------------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------------

def _say(message: str) -> None:
    print(message, flush=True)


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def _what_to_do(dataset: str, target: Path) -> str:
    """The standard advice appended to every DataUnavailable about ``dataset``."""
    lines = ["What to do:"]
    if config.offline():
        lines.append("  - allow downloads: unset WORKSHOP_OFFLINE (it is set to 1)")
    lines += [
        "  - in a classroom: ask for the room mirror and set WORKSHOP_MIRROR=http://<instructor-ip>:8000 "
        "(the instructor runs `python data_download.py serve --bind 0.0.0.0`)",
        f"  - on a machine with internet: run `python data_download.py download {dataset}` in the workshop "
        f"folder (or `workshop-data download {dataset}` wherever the package is installed), then copy "
        f"the file(s) into {target.parent} on this machine (or point WORKSHOP_DATA_DIR at a copy of "
        f"that machine's whole cache)",
    ]
    info = get_dataset_info(dataset)
    if info.kind == "weights":
        lines.append("  - or carry on without them: notebook 06 says so and uses its offline path, announced")
    else:
        lines.append("  - or let the notebook fall back to its stand-in data set, announced as such "
                     "(not possible when WORKSHOP_REAL_DATA_ONLY=1)")
    if any(local_copy(dataset, remote.name, verify=False) for remote in info.files):
        lines.append(f"  - note: the real files are installed in {manifest.DEBIAN_FASHION_MNIST_DIR} "
                     f"(Debian's dataset-fashion-mnist); the data loaders use them directly")
    return "\n".join(lines)


@dataclass
class _Attempt:
    """One source tried for a file, and how it ended."""

    source: str
    url: str
    outcome: str


def _unavailable(dataset: str, filename: str, headline: str, attempts: list[_Attempt],
                 target: Path) -> DataUnavailable:
    lines = [f"{dataset}/{filename} is not available: {headline}"]
    if attempts:
        lines.append("Tried:")
        lines += [f"  - {attempt.source} {attempt.url}: {attempt.outcome}" for attempt in attempts]
    lines.append(_what_to_do(dataset, target))
    return DataUnavailable("\n".join(lines))


# --------------------------------------------------------------------------------------------------
# Downloading one URL
# --------------------------------------------------------------------------------------------------

class _TransferFailed(Exception):
    """A download from one URL failed; ``retryable`` says whether trying the same URL again may help."""

    def __init__(self, reason: str, *, retryable: bool):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


def _describe_network_error(error: BaseException, timeout: float) -> _TransferFailed:
    """Turn a urllib/socket error into a readable reason, and decide whether a retry can help."""
    if isinstance(error, urllib.error.HTTPError):
        return _TransferFailed(f"HTTP {error.code} {error.reason}", retryable=error.code in RETRYABLE_STATUS)
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, TimeoutError):
        return _TransferFailed(f"timed out (no data for {timeout:g} s)", retryable=True)
    if isinstance(reason, socket.gaierror):
        return _TransferFailed("host not found (no network, or DNS blocked?)", retryable=False)
    if isinstance(reason, FileNotFoundError):  # a file:// mirror without this file
        return _TransferFailed("no such file", retryable=False)
    if isinstance(reason, ConnectionRefusedError):
        return _TransferFailed("connection refused (nothing listening there)", retryable=False)
    if isinstance(reason, ssl.SSLError):
        return _TransferFailed(f"TLS error: {reason}", retryable=False)
    if isinstance(reason, http.client.IncompleteRead):
        return _TransferFailed("connection closed before the end of the file", retryable=True)
    return _TransferFailed(f"{type(reason).__name__}: {reason}", retryable=True)


def _remove_stale_partials(target: Path) -> None:
    """Delete ``.part`` files of ``target`` left by a download that was killed long ago."""
    cutoff = time.time() - STALE_PARTIAL_SECONDS
    for partial in target.parent.glob(f".{target.name}.*.part"):
        try:
            if partial.stat().st_mtime < cutoff:
                partial.unlink()
        except OSError:
            pass  # another process may be cleaning up too


def max_download_bytes(remote: RemoteFile) -> int:
    """The most bytes a download of ``remote`` may have: its size when exact, else a margin over the estimate."""
    if remote.size_exact:
        return remote.size
    return int(remote.size * SIZE_TOLERANCE) + SIZE_SLACK_BYTES


def download_deadline(remote: RemoteFile) -> float:
    """Seconds one download of ``remote`` may take in all, however the bytes trickle in."""
    return DEADLINE_BASE_SECONDS + remote.size / MIN_BYTES_PER_SECOND


def _download_once(url: str, target: Path, remote: RemoteFile, *, timeout: float, progress: bool,
                   label: str) -> int:
    """Download ``url`` to ``target`` through a temporary file; return the byte count.

    Raises _TransferFailed (network, truncation, wrong bytes, too large, too slow) or DataUnavailable
    (cannot write). Whatever happens, no temporary file is left behind.
    """
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    partial: Path | None = None
    started = time.monotonic()
    deadline, cap = download_deadline(remote), max_download_bytes(remote)
    try:
        try:
            response = urllib.request.urlopen(request, timeout=timeout)
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            if isinstance(error, urllib.error.HTTPError):
                error.close()
            raise _describe_network_error(error, timeout) from error
        with response:
            declared = response.headers.get("Content-Length")
            expected_length = int(declared) if declared and declared.isdigit() else None
            if expected_length is not None and expected_length > cap:
                raise _TransferFailed(f"the server announces {expected_length:,} bytes, but the file has "
                                      f"{'' if remote.size_exact else 'about '}{remote.size:,}: not this file "
                                      f"(refused without downloading)", retryable=False)
            descriptor, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
            partial = Path(name)
            hasher = _new_hasher(remote.known_hash) if remote.known_hash else None
            received = 0
            with os.fdopen(descriptor, "wb") as output, tqdm(
                total=expected_length, unit="B", unit_scale=True, unit_divisor=1024, desc=label,
                disable=not progress, leave=False,
            ) as bar:
                while True:
                    try:
                        # read1: at most one read from the socket, so the deadline is checked between them
                        chunk = response.read1(CHUNK_SIZE)
                    except (OSError, http.client.HTTPException) as error:
                        raise _describe_network_error(error, timeout) from error
                    if not chunk:
                        break
                    if received + len(chunk) > cap:
                        raise _TransferFailed(f"the server sent more than the {cap:,} bytes this file can have: "
                                              f"not this file (stopped reading)", retryable=False)
                    try:
                        output.write(chunk)
                    except OSError as error:
                        full = " (disk full)" if error.errno == errno.ENOSPC else ""
                        raise DataUnavailable(
                            f"Could not write {partial}{full}: {error.strerror or error}. Free some disk space "
                            f"or set WORKSHOP_DATA_DIR to a folder on a disk with room for "
                            f"{_human_size(remote.size)}.") from error
                    elapsed = time.monotonic() - started
                    if elapsed > deadline:
                        raise _TransferFailed(
                            f"too slow: {received + len(chunk):,} of {remote.size:,} bytes after {elapsed:.0f} s "
                            f"(the limit for this file is {deadline:.0f} s); try the room mirror (WORKSHOP_MIRROR) "
                            f"or another network", retryable=False)
                    if hasher is not None:
                        hasher.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
        if expected_length is not None and received < expected_length:
            raise _TransferFailed(f"truncated: got {received:,} of {expected_length:,} bytes", retryable=True)
        if remote.size_exact and received != remote.size:
            raise _TransferFailed(f"wrong size: {received:,} bytes, expected {remote.size:,}", retryable=False)
        if hasher is not None and remote.known_hash is not None:
            problem = _digest_problem(remote.known_hash, hasher.hexdigest())
            if problem:
                raise _TransferFailed(f"wrong bytes ({problem})", retryable=False)
        os.chmod(partial, 0o644)  # mkstemp makes it private; a cache may be shared or served
        os.replace(partial, target)
        partial = None
        return received
    finally:
        if partial is not None:
            partial.unlink(missing_ok=True)


def _sources(dataset: str, remote: RemoteFile) -> list[tuple[str, str]]:
    """``(label, url)`` pairs to try, in order: the room mirror, then the public URLs."""
    sources = []
    mirror = config.mirror_url()
    if mirror:
        path = f"{urllib.parse.quote(dataset)}/{urllib.parse.quote(remote.name)}"
        sources.append(("room mirror", f"{mirror}/{path}"))
    sources += [("public URL", url) for url in remote.urls]
    return sources


def _download(dataset: str, remote: RemoteFile, target: Path, *, timeout: float,
              retry_delays: tuple[float, ...], progress: bool, attempts: list[_Attempt]) -> tuple[str, int]:
    """Try every source with retries; return ``(source and URL, bytes)`` of the one that worked, or raise.

    ``attempts`` holds what was tried before (reported in the error) and receives each failure.
    """
    label = f"{dataset}/{remote.name}"
    _remove_stale_partials(target)
    for source, url in _sources(dataset, remote):
        if urllib.parse.urlsplit(url).scheme not in {"http", "https", "file"}:  # e.g. WORKSHOP_MIRROR=10.0.0.5:8000
            attempts.append(_Attempt(source, url, "not a valid URL (a mirror looks like http://10.0.0.5:8000)"))
            continue
        delays = iter(retry_delays)
        tries = 0
        while True:
            tries += 1
            try:
                size = _download_once(url, target, remote, timeout=timeout, progress=progress, label=label)
                return f"{source} {url}", size
            except _TransferFailed as failure:
                delay = next(delays, None) if failure.retryable else None
                if delay is None:
                    suffix = f" (after {tries} tries)" if tries > 1 else ""
                    attempts.append(_Attempt(source, url, failure.reason + suffix))
                    break
                _say(f"{label}: {failure.reason} from {url}; trying again in {delay:g} s")
                time.sleep(delay)
    raise _unavailable(dataset, remote.name, "every source failed", attempts, target)


# --------------------------------------------------------------------------------------------------
# Fetching files, weights and data sets
# --------------------------------------------------------------------------------------------------

def fetch_file(dataset: str, filename: str, *, progress: bool = True, timeout: float | None = None,
               retry_delays: tuple[float, ...] | None = None) -> Path:
    """The verified local path of ``filename`` of ``dataset``, downloading it if needed.

    Order: the cache (re-verified; a corrupt copy is deleted and fetched again), the room mirror
    (``WORKSHOP_MIRROR``), the public URL and its mirrors; with ``WORKSHOP_OFFLINE=1`` the cache
    only. ``timeout`` and ``retry_delays`` default to ``TIMEOUT_SECONDS`` and ``RETRY_DELAYS``.
    Raises DataUnavailable listing every URL tried and why it failed.
    """
    return _fetch_file(dataset, filename, progress=progress, timeout=timeout, retry_delays=retry_delays)


def _fetch_file(dataset: str, filename: str, *, progress: bool, timeout: float | None = None,
                retry_delays: tuple[float, ...] | None = None, earlier: list[_Attempt] | None = None) -> Path:
    """``fetch_file``; ``earlier`` lists sources already tried another way (reported on failure)."""
    info = get_dataset_info(dataset)
    remote = info.file(filename)
    label = f"{dataset}/{filename}"
    target = _readable_folder(info) / filename  # a verified copy is used even where nothing can be written
    if target.is_dir():
        raise _folder_in_the_way(target, dataset)
    if target.is_file():
        problem = verify_file(target, remote)
        if problem is None:
            _say(f"{label}: verified (cached)" if remote.known_hash else
                 f"{label}: cached (upstream publishes no checksum)")
            return target
        _say(f"{label}: the cached copy is corrupt ({problem}); deleting it and fetching it again")
        try:
            target.unlink(missing_ok=True)  # another process may have deleted it too
        except OSError as error:
            raise DataUnavailable(f"{target} is corrupt ({problem}) and cannot be deleted ({error.strerror}): "
                                  "ask whoever manages that folder to replace it, or set WORKSHOP_DATA_DIR to a "
                                  "folder you can write to.") from error
    attempts = list(earlier or [])
    if config.offline():
        raise _unavailable(dataset, filename, f"WORKSHOP_OFFLINE=1 and it is not in the cache ({target})",
                           attempts, target)
    target = _cache_folder(info) / filename  # downloading needs a folder that can be written
    source, size = _download(
        dataset, remote, target,
        timeout=TIMEOUT_SECONDS if timeout is None else timeout,
        retry_delays=RETRY_DELAYS if retry_delays is None else tuple(retry_delays),
        progress=progress, attempts=attempts,
    )
    checked = f"verified ({parse_known_hash(remote.known_hash)[0]})" if remote.known_hash else "no upstream checksum"
    _say(f"{label}: downloaded from {source} ({_human_size(size)}), {checked}")
    return target


def fetch_weights(name: str, *, progress: bool = True) -> Path:
    """Pretrained weights ``name`` (e.g. ``"resnet18"``) in ``torch.hub.get_dir()/checkpoints``.

    That is torchvision's own cache (``$TORCH_HOME/hub/checkpoints``), under torchvision's file
    name, so ``torchvision.models.resnet18(weights="IMAGENET1K_V1")`` then loads with no network.
    """
    info = get_dataset_info(name)
    if info.kind != "weights":
        raise ValueError(f"{name} is a data set, not weights: use fetch_dataset({name!r})")
    return fetch_file(name, info.files[0].name, progress=progress)


def fetch_dataset(name: str, *, progress: bool = True) -> Path:
    """Every file of data set ``name`` in ``dataset_dir(name)``, archives extracted; returns that folder.

    Kaggle data sets (road-signs) come from ``kagglehub`` when it is installed and no room mirror
    is set (that is how Colab gets them), else as the zip from the mirror or Kaggle's URL; either
    way the folder passes the manifest's structural check (877 images + 877 annotations) or
    DataUnavailable is raised and nothing half-extracted is left. Weights go to torch's cache
    (see ``fetch_weights``); the folder holding them is returned.
    """
    info = get_dataset_info(name)
    if info.kind == "bundled":
        raise ValueError(f"{name} is bundled ({info.source}): there is nothing to download")
    if info.kind == "weights":
        return fetch_weights(name, progress=progress).parent
    if info.expected_layout:
        return _fetch_checked_layout(info, progress=progress)
    folder = _readable_folder(info)
    for remote in info.files:
        path = fetch_file(name, remote.name, progress=progress)
        if remote.is_archive:
            _extract_once(path, folder)
    return folder


# --------------------------------------------------------------------------------------------------
# Safe extraction
# --------------------------------------------------------------------------------------------------

def _member_name_problem(name: str) -> str | None:
    """Why an archive member name is unsafe to extract (absolute, drive letter, '..'), or None."""
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or re.match(r"^[A-Za-z]:", normalized):
        return "absolute path"
    if ".." in PurePosixPath(normalized).parts:
        return "'..' in the path"
    return None


def _link_target_problem(member: tarfile.TarInfo) -> str | None:
    """Why a tar link member is unsafe (absolute target, or a target outside the archive's folder)."""
    target = member.linkname.replace("\\", "/")
    if target.startswith("/") or re.match(r"^[A-Za-z]:", target):
        return f"link to the absolute path {member.linkname!r}"
    # Symlink targets are relative to the link's folder; hard link targets to the archive root.
    base = PurePosixPath(member.name).parent if member.issym() else PurePosixPath()
    depth = 0
    for part in (base / target).parts:
        depth += -1 if part == ".." else (0 if part in {".", ""} else 1)
        if depth < 0:
            return f"link pointing outside the archive ({member.linkname!r})"
    return None


def _check_zip(archive: zipfile.ZipFile) -> None:
    for info in archive.infolist():
        problem = _member_name_problem(info.filename)
        if problem is None and stat.S_ISLNK(info.external_attr >> 16):
            problem = "symbolic link (not allowed in a data archive)"
        if problem:
            raise UnsafeArchive(f"refusing to extract {archive.filename}: member {info.filename!r}: {problem}")


def _check_tar(archive: tarfile.TarFile, path: Path) -> None:
    for member in archive.getmembers():
        problem = _member_name_problem(member.name)
        if problem is None and (member.issym() or member.islnk()):
            problem = _link_target_problem(member)
        if problem is None and not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
            problem = "device, FIFO or other special file"
        if problem:
            raise UnsafeArchive(f"refusing to extract {path}: member {member.name!r}: {problem}")


def _check_expansion(archive_path: Path, total: int, parent: Path) -> None:
    """UnsafeArchive when the members' declared sizes add up to a zip bomb; DiskFull when they do not fit.

    The declared sizes bound what is written: zipfile stops each member at its declared size (and then
    fails its CRC check), and a tar member's size is the exact number of bytes stored.
    """
    packed = max(archive_path.stat().st_size, 1)
    if total > MAX_EXTRACTED_BYTES or total > MAX_COMPRESSION_RATIO * packed + (1 << 20):
        raise UnsafeArchive(f"refusing to extract {archive_path}: it would expand from {_human_size(packed)} to "
                            f"{_human_size(total)} (more than {MAX_COMPRESSION_RATIO:g} times, or over "
                            f"{_human_size(MAX_EXTRACTED_BYTES)}): a damaged or malicious archive (a 'zip bomb'), "
                            "not the data set. Delete it and fetch it again.")
    free = shutil.disk_usage(parent).free
    if total > free:
        raise _disk_full(archive_path, parent, f"{_human_size(total)} needed, {_human_size(free)} free")


def _disk_full(archive_path: Path, parent: Path, detail: str) -> DiskFull:
    return DiskFull(f"disk full: cannot extract {archive_path.name} into {parent} ({detail}). The archive is intact "
                    f"and kept in {archive_path.parent}. Free some disk space and run again, or set "
                    "WORKSHOP_DATA_DIR to a folder on a larger disk (and copy the archive there).")


def _extract_to_staging(archive_path: Path, parent: Path) -> Path:
    """Extract ``archive_path`` into a new hidden folder in ``parent``; remove it on any failure."""
    staging = Path(tempfile.mkdtemp(prefix=f".{archive_path.name}.extract-", dir=parent))
    os.chmod(staging, 0o755)  # mkdtemp makes it private; it may become the data set folder itself
    try:
        if zipfile.is_zipfile(archive_path):
            with zipfile.ZipFile(archive_path) as archive:
                _check_zip(archive)
                _check_expansion(archive_path, sum(info.file_size for info in archive.infolist()), parent)
                archive.extractall(staging)
        elif tarfile.is_tarfile(archive_path):
            with tarfile.open(archive_path) as archive:
                _check_tar(archive, archive_path)
                _check_expansion(archive_path, sum(member.size for member in archive.getmembers()
                                                   if member.isfile()), parent)
                if hasattr(tarfile, "data_filter"):  # Python >= 3.12 and security backports
                    archive.extractall(staging, filter="data")
                else:
                    archive.extractall(staging)  # members checked by _check_tar above
        else:
            raise DataUnavailable(f"{archive_path} is neither a zip nor a tar archive (corrupt download?); "
                                  f"delete it and fetch it again")
    except BaseException as error:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            raise _disk_full(archive_path, parent, "the disk filled up while extracting") from error
        if isinstance(error, OSError) and error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise DataUnavailable(f"could not extract {archive_path} into {parent}: {error.strerror}. Set "
                                  "WORKSHOP_DATA_DIR to a folder you can write to, or fix its permissions. "
                                  "The archive is kept.") from error
        if isinstance(error, (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError)):
            raise DataUnavailable(f"could not extract {archive_path}: {error}. If the archive is corrupt, "
                                  f"delete it and fetch it again.") from error
        raise
    return staging


def _merge_into(source: Path, destination: Path) -> None:
    """Move the content of ``source`` into ``destination`` (renames; folders merged, files replaced).

    Safe against another process merging the same archive at the same moment: a folder is renamed
    into place only while nothing is there; when the other process got there first (ENOTEMPTY,
    EEXIST), the two are merged instead of failing.
    """
    if not destination.exists():
        try:
            os.replace(source, destination)
            return
        except OSError as error:
            if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise  # else: another process put it there meanwhile; merge into theirs
    for entry in list(source.iterdir()):
        target = destination / entry.name
        if entry.is_dir() and not entry.is_symlink():
            if target.is_symlink() or (target.exists() and not target.is_dir()):
                target.unlink()
            _merge_into(entry, target)
        else:
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target, ignore_errors=True)  # another process may be removing it too
            os.replace(entry, target)


def extract_archive(archive: Path | str, destination: Path | str) -> Path:
    """Extract a zip or tar archive into ``destination`` safely; return ``destination``.

    Members with absolute paths or '..', links pointing outside, and special files are refused
    (UnsafeArchive). Everything is extracted into a temporary folder beside ``destination`` first
    and moved into place only when the whole archive extracted, so a failure leaves nothing behind.
    """
    archive, destination = Path(archive), Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = _extract_to_staging(archive, destination.parent)
    try:
        _merge_into(staging, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return destination


def _extract_once(archive: Path, destination: Path) -> None:
    """Extract ``archive`` into ``destination`` unless that very file (same size and time) was extracted before."""
    marker = destination / f".{archive.name}.extracted"
    stamp = f"{archive.stat().st_size}:{archive.stat().st_mtime_ns}"
    if marker.is_file() and marker.read_text().strip() == stamp:
        return
    _ensure_writable_dir(destination, "WORKSHOP_DATA_DIR")
    _say(f"{destination.name}/{archive.name}: extracting")
    extract_archive(archive, destination)
    marker.write_text(stamp + "\n")


# --------------------------------------------------------------------------------------------------
# Data sets checked by their structure (Kaggle road signs)
# --------------------------------------------------------------------------------------------------

def check_layout(info: DatasetInfo, root: Path) -> list[str]:
    """Problems with the extracted data in ``root`` against ``info.expected_layout``; empty when it is right."""
    problems = []
    for rule in info.expected_layout:
        folder = root / rule.folder
        if not folder.is_dir():
            problems.append(f"{rule.folder}/ is missing")
            continue
        count = sum(1 for path in folder.glob(rule.pattern) if path.is_file())
        if count != rule.count:
            problems.append(f"{rule.folder}/ has {count} {rule.pattern} files, expected {rule.count}")
    return problems


def _find_layout_root(info: DatasetInfo, top: Path) -> Path:
    """The folder at most two levels below ``top`` that holds all of ``info``'s expected folders (else ``top``)."""
    wanted = [rule.folder for rule in info.expected_layout]
    candidates = [top, *[p for p in top.iterdir() if p.is_dir()]]
    candidates += [q for p in candidates[1:] for q in p.iterdir() if q.is_dir()]
    for candidate in candidates:
        if all((candidate / folder).is_dir() for folder in wanted):
            return candidate
    return top


def _install_layout(info: DatasetInfo, source_root: Path, destination: Path, origin: str) -> None:
    """Check ``source_root`` against the layout, then move its expected folders into ``destination``.

    Raises DataUnavailable (destination untouched) when the structure is wrong.
    """
    problems = check_layout(info, source_root)
    if problems:
        raise DataUnavailable(f"{info.name}: the data from {origin} is incomplete or not the expected data set: "
                              + "; ".join(problems))
    if not check_layout(info, destination):
        return  # another process (a second notebook) installed it meanwhile and may be reading it: keep it
    for rule in info.expected_layout:
        target = destination / rule.folder
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)  # an incomplete earlier copy: replaced as a whole
        try:
            os.replace(source_root / rule.folder, target)
        except OSError as error:
            if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            # Another process renamed its copy into place between our rmtree and our rename: keep theirs.
    problems = check_layout(info, destination)
    if problems:
        raise DataUnavailable(f"{info.name}: installing into {destination} went wrong ({'; '.join(problems)}), "
                              "perhaps with another process writing there at the same time: run again.")


def _link_or_copy(source: str, destination: str) -> None:
    """Hard-link a file (no extra disk space) or copy it when linking is not possible."""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def _fetch_with_kagglehub(info: DatasetInfo, destination: Path) -> None:
    """Download with ``kagglehub`` (its own cache) and link the expected folders into ``destination``."""
    import kagglehub

    downloaded = _find_layout_root(info, Path(kagglehub.dataset_download(info.kaggle_handle)))
    staging = Path(tempfile.mkdtemp(prefix=".kagglehub-", dir=destination.parent))
    try:
        for rule in info.expected_layout:
            if (downloaded / rule.folder).is_dir():
                shutil.copytree(downloaded / rule.folder, staging / rule.folder, copy_function=_link_or_copy)
        _install_layout(info, staging, destination, f"kagglehub ({downloaded})")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _kagglehub_usable(info: DatasetInfo) -> bool:
    if not (USE_KAGGLEHUB and info.kaggle_handle) or config.mirror_url() or config.offline():
        return False
    try:
        import kagglehub  # noqa: F401
    except ImportError:
        return False
    return True


def _install_from_archive(info: DatasetInfo, archive: Path, destination: Path) -> None:
    """Extract ``archive`` into a temporary folder, check it, move it into ``destination``."""
    staging = _extract_to_staging(archive, destination.parent)
    try:
        _install_layout(info, _find_layout_root(info, staging), destination, str(archive))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _fetch_checked_layout(info: DatasetInfo, *, progress: bool) -> Path:
    destination = _readable_folder(info)
    if not check_layout(info, destination):  # a read-only cache holding the data is fine
        _say(f"{info.name}: {_layout_summary(info)} in {destination} (cached)")
        return destination
    destination = dataset_dir(info.name)  # from here on it is written: created, and writable
    earlier: list[_Attempt] = []
    if _kagglehub_usable(info):
        try:
            _say(f"{info.name}: downloading with kagglehub.dataset_download({info.kaggle_handle!r})")
            _fetch_with_kagglehub(info, destination)
            _say(f"{info.name}: {_layout_summary(info)} in {destination}, checked")
            return destination
        except Exception as error:  # noqa: BLE001 -- any kagglehub failure: fall back to the zip URL
            earlier.append(_Attempt("kagglehub", f"dataset_download({info.kaggle_handle!r})",
                                    f"{type(error).__name__}: {error}"))
            _say(f"{info.name}: kagglehub failed ({type(error).__name__}); trying the zip archive")
    archive_file = info.files[0]
    for attempt in (1, 2):
        was_cached = (config.data_dir() / info.name / archive_file.name).is_file()
        archive = _fetch_file(info.name, archive_file.name, progress=progress, earlier=earlier)
        try:
            _install_from_archive(info, archive, destination)
        except DiskFull:
            raise  # the archive is fine and kept: only space is missing
        except DataUnavailable as error:
            # No checksum exists for this archive: the structural check is what rejects a bad one.
            archive.unlink(missing_ok=True)
            if was_cached and attempt == 1 and not config.offline():
                _say(f"{info.name}: the cached {archive.name} is unusable ({error}); deleted, fetching it again")
                continue
            raise DataUnavailable(f"{error}\nThe archive was deleted. "
                                  f"{_what_to_do(info.name, archive)}") from error
        _say(f"{info.name}: {_layout_summary(info)} in {destination}, checked")
        return destination
    raise AssertionError("unreachable")


def _layout_summary(info: DatasetInfo) -> str:
    return " + ".join(f"{rule.count} {rule.folder}/{rule.pattern}" for rule in info.expected_layout)


def ensure_mirror_archive(name: str) -> Path | None:
    """Make sure the archive of a layout-checked data set exists in the cache, so a room mirror can serve it.

    After a kagglehub download only the extracted folders exist; this packs them into the zip that
    ``fetch_file`` asks a mirror for. Returns the archive path, or None when the data set has no
    checked layout or its folders are not (completely) there.
    """
    info = get_dataset_info(name)
    if not info.expected_layout or not info.files:
        return None
    folder = config.data_dir() / name
    archive = folder / info.files[0].name
    if archive.is_file() or check_layout(info, folder):
        return archive if archive.is_file() else None
    _say(f"{name}: packing {archive.name} from the extracted folders, for the room mirror")
    descriptor, partial_name = tempfile.mkstemp(prefix=f".{archive.name}.", suffix=".part", dir=folder)
    os.close(descriptor)
    partial = Path(partial_name)
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as output:  # PNGs don't compress
            for rule in info.expected_layout:
                for path in sorted((folder / rule.folder).glob(rule.pattern)):
                    output.write(path, f"{rule.folder}/{path.name}")
        os.chmod(partial, 0o644)  # readable like the other cache files
        os.replace(partial, archive)
    finally:
        partial.unlink(missing_ok=True)
    return archive


# --------------------------------------------------------------------------------------------------
# Cache status (data_download.py list / verify)
# --------------------------------------------------------------------------------------------------

#: FileStatus states that count as usable.
USABLE_STATES = frozenset({"verified", "cached", "local copy", "not kept"})


@dataclass
class FileStatus:
    """One manifest file in the cache.

    ``state`` is one of ``verified`` (checksum re-computed and right), ``cached`` (present; not
    re-hashed, or upstream has no checksum), ``local copy`` (not cached, but a verified system copy
    exists: Debian's Fashion-MNIST), ``not kept`` (archive absent but its checked content is there),
    ``corrupt`` or ``missing``.
    """

    name: str
    path: Path
    state: str
    size: int | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.state in USABLE_STATES


@dataclass
class DatasetStatus:
    """The cache state of one manifest entry."""

    name: str
    kind: str
    folder: Path | None
    files: list[FileStatus] = field(default_factory=list)
    has_layout: bool = False
    layout_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the data set can be used without downloading anything."""
        return all(status.ok for status in self.files) and not self.layout_problems

    @property
    def summary(self) -> str:
        """A word for a table: bundled, verified, checked, cached, local copy, missing, incomplete or corrupt."""
        if self.kind == "bundled":
            return "bundled"
        states = {status.state for status in self.files}
        if "corrupt" in states:
            return "corrupt"
        if self.ok:
            if "local copy" in states:
                return "local copy"
            if self.layout_checked:
                return "checked"
            return "verified" if states == {"verified"} else "cached"
        nothing_there = states <= {"missing", "not kept"} and all(
            problem.endswith("is missing") for problem in self.layout_problems)
        return "missing" if nothing_there else "incomplete"

    @property
    def layout_checked(self) -> bool:
        """True when the extracted data passed the structural check (data sets with an expected layout)."""
        return self.has_layout and not self.layout_problems


def cache_status(name: str, *, verify: bool = True) -> DatasetStatus:
    """The cache state of every file of ``name``; ``verify=True`` re-hashes them (slow for big files)."""
    info = get_dataset_info(name)
    if info.kind == "bundled":
        return DatasetStatus(name, info.kind, None)
    folder = torch_checkpoints_dir() if info.kind == "weights" else config.data_dir() / name
    status = DatasetStatus(name, info.kind, folder)
    if info.expected_layout:
        status.has_layout = True
        status.layout_problems = check_layout(info, folder)
    for remote in info.files:
        status.files.append(_file_status(name, remote, folder / remote.name, verify=verify,
                                         content_checked=bool(info.expected_layout) and not status.layout_problems))
    return status


def _file_status(dataset: str, remote: RemoteFile, path: Path, *, verify: bool,
                 content_checked: bool) -> FileStatus:
    if path.is_dir():
        return FileStatus(remote.name, path, "corrupt", None, "a folder is where the file should be: move or "
                                                             "delete it")
    if path.is_file():
        size = path.stat().st_size
        if remote.known_hash is None:
            return FileStatus(remote.name, path, "cached", size, "no upstream checksum")
        if not verify:
            if remote.size_exact and size != remote.size:
                return FileStatus(remote.name, path, "corrupt", size, f"size {size:,}, expected {remote.size:,}")
            return FileStatus(remote.name, path, "cached", size, "not re-hashed")
        problem = verify_file(path, remote)
        if problem:
            return FileStatus(remote.name, path, "corrupt", size, problem)
        return FileStatus(remote.name, path, "verified", size, parse_known_hash(remote.known_hash)[0])
    if content_checked:
        return FileStatus(remote.name, path, "not kept", None, "archive absent; its extracted content is checked")
    copy = local_copy(dataset, remote.name, verify=verify)
    if copy is not None:
        how = "content sha256 verified" if verify else "not re-hashed"
        return FileStatus(remote.name, copy, "local copy", copy.stat().st_size, f"Debian copy, {how}")
    return FileStatus(remote.name, path, "missing")
