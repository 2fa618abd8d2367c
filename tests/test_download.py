"""The download layer against a real loopback HTTP server: retries, verification, atomic writes, extraction."""

from __future__ import annotations

import dataclasses
import io
import os
import sys
import tarfile
import time
import types
import zipfile
from pathlib import Path

import pytest

from http_fixtures import (  # noqa: F401 (fixtures)
    Reply,
    download_env,
    files_under,
    http_server,
    road_sign_zip,
    sha256,
    small_road_signs,
    write_road_sign_tree,
)
from workshop_utils.data import download, manifest
from workshop_utils.data.download import DataUnavailable, UnsafeArchive
from workshop_utils.data.manifest import DatasetInfo, RemoteFile

PAYLOAD = bytes(range(256)) * 40  # 10 kB of known bytes


def add_toy_dataset(monkeypatch, url: str, *, payload: bytes = PAYLOAD, name: str = "toy",
                    filename: str = "toy.bin", known_hash: str | None = "default", kind: str = "download",
                    size_exact: bool = True) -> RemoteFile:
    """Register a one-file data set whose public URL is ``url`` (test data, not a mock of our code)."""
    remote = RemoteFile(filename, url, len(payload),
                        f"sha256:{sha256(payload)}" if known_hash == "default" else known_hash,
                        size_exact=size_exact, note="" if known_hash else "no checksum (test)")
    info = DatasetInfo(name, "Toy", "test", "CC0-1.0", kind, (remote,), "a test entry")
    monkeypatch.setitem(manifest.DATASETS, name, info)
    return remote


# --------------------------------------------------------------------------------------------------
# fetch_file: success, retries, failures that leave nothing behind
# --------------------------------------------------------------------------------------------------

def test_download_is_verified_and_cached(download_env, http_server, monkeypatch, capsys):
    http_server.script("/toy.bin", Reply(body=PAYLOAD))
    add_toy_dataset(monkeypatch, http_server.url("/toy.bin"))

    path = download.fetch_file("toy", "toy.bin", progress=False)

    assert path == download_env / "toy" / "toy.bin"
    assert path.read_bytes() == PAYLOAD
    assert files_under(download_env) == ["toy/toy.bin"]
    assert "toy/toy.bin: downloaded from public URL" in capsys.readouterr().out


def test_404_is_not_retried_and_leaves_nothing(download_env, http_server, monkeypatch):
    add_toy_dataset(monkeypatch, http_server.url("/missing.bin"))

    with pytest.raises(DataUnavailable) as caught:
        download.fetch_file("toy", "toy.bin", progress=False)

    message = str(caught.value)
    assert http_server.url("/missing.bin") in message and "HTTP 404" in message
    assert "WORKSHOP_MIRROR" in message and "data_download.py download toy" in message
    assert http_server.requests == ["/missing.bin"]
    assert files_under(download_env) == []


def test_503_then_200_succeeds_after_a_retry(download_env, http_server, monkeypatch):
    http_server.script("/toy.bin", Reply(503, b"busy"), Reply(body=PAYLOAD))
    add_toy_dataset(monkeypatch, http_server.url("/toy.bin"))

    path = download.fetch_file("toy", "toy.bin", progress=False)

    assert path.read_bytes() == PAYLOAD
    assert http_server.requests == ["/toy.bin", "/toy.bin"]


def test_persistent_503_gives_up_after_every_retry(download_env, http_server, monkeypatch):
    http_server.script("/toy.bin", Reply(503, b"busy"))
    add_toy_dataset(monkeypatch, http_server.url("/toy.bin"))

    with pytest.raises(DataUnavailable, match=r"HTTP 503 .*\(after 3 tries\)"):
        download.fetch_file("toy", "toy.bin", progress=False)

    assert len(http_server.requests) == 1 + len(download.RETRY_DELAYS)
    assert files_under(download_env) == []


def test_truncated_body_leaves_nothing_and_a_retry_can_recover(download_env, http_server, monkeypatch):
    truncated = Reply(body=PAYLOAD[:3000], declared_length=len(PAYLOAD))
    http_server.script("/cut.bin", truncated)
    add_toy_dataset(monkeypatch, http_server.url("/cut.bin"))

    with pytest.raises(DataUnavailable, match="truncated: got 3,000 of 10,240 bytes"):
        download.fetch_file("toy", "toy.bin", progress=False)
    assert files_under(download_env) == []

    http_server.script("/cut.bin", truncated, Reply(body=PAYLOAD))
    assert download.fetch_file("toy", "toy.bin", progress=False).read_bytes() == PAYLOAD


def test_wrong_bytes_are_rejected_without_retry(download_env, http_server, monkeypatch):
    http_server.script("/toy.bin", Reply(body=PAYLOAD[::-1]))  # right size, wrong content
    add_toy_dataset(monkeypatch, http_server.url("/toy.bin"))

    with pytest.raises(DataUnavailable, match=r"wrong bytes \(sha256 mismatch"):
        download.fetch_file("toy", "toy.bin", progress=False)

    assert http_server.requests == ["/toy.bin"]
    assert files_under(download_env) == []


def test_body_stalling_past_the_timeout_fails_fast_and_leaves_nothing(download_env, http_server, monkeypatch):
    http_server.script("/slow.bin", Reply(body=PAYLOAD, stall_after=1000, stall_seconds=5))
    add_toy_dataset(monkeypatch, http_server.url("/slow.bin"))

    started = time.monotonic()
    with pytest.raises(DataUnavailable, match=r"timed out"):
        download.fetch_file("toy", "toy.bin", progress=False, timeout=0.3, retry_delays=(0.01,))

    assert time.monotonic() - started < 3
    assert len(http_server.requests) == 2
    assert files_under(download_env) == []


def test_unknown_host_is_reported_as_no_network(download_env, monkeypatch):
    add_toy_dataset(monkeypatch, "http://no-such-host.invalid/toy.bin")

    with pytest.raises(DataUnavailable, match="host not found"):
        download.fetch_file("toy", "toy.bin", progress=False)


# --------------------------------------------------------------------------------------------------
# Cache, mirror, offline
# --------------------------------------------------------------------------------------------------

def test_cache_hit_is_reverified_and_needs_no_network(download_env, http_server, monkeypatch, capsys):
    http_server.script("/toy.bin", Reply(body=PAYLOAD))
    add_toy_dataset(monkeypatch, http_server.url("/toy.bin"))
    download.fetch_file("toy", "toy.bin", progress=False)
    capsys.readouterr()

    download.fetch_file("toy", "toy.bin", progress=False)

    assert capsys.readouterr().out.strip() == "toy/toy.bin: verified (cached)"
    assert http_server.requests == ["/toy.bin"]


def test_corrupt_cached_file_is_deleted_and_fetched_again(download_env, http_server, monkeypatch, capsys):
    http_server.script("/toy.bin", Reply(body=PAYLOAD))
    add_toy_dataset(monkeypatch, http_server.url("/toy.bin"))
    cached = download_env / "toy" / "toy.bin"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(PAYLOAD[:-1] + b"X")  # same size, one byte flipped

    path = download.fetch_file("toy", "toy.bin", progress=False)

    assert path.read_bytes() == PAYLOAD
    assert "cached copy is corrupt (sha256 mismatch" in capsys.readouterr().out
    assert http_server.requests == ["/toy.bin"]


def test_mirror_is_tried_first_in_the_layout_serve_provides(download_env, http_server, monkeypatch):
    http_server.script("/room/toy/toy.bin", Reply(body=PAYLOAD))
    http_server.script("/public/toy.bin", Reply(body=PAYLOAD))
    add_toy_dataset(monkeypatch, http_server.url("/public/toy.bin"))
    monkeypatch.setenv("WORKSHOP_MIRROR", http_server.url("/room/"))

    download.fetch_file("toy", "toy.bin", progress=False)

    assert http_server.requests == ["/room/toy/toy.bin"]


def test_a_failing_mirror_falls_back_to_the_public_url(download_env, http_server, monkeypatch, capsys):
    http_server.script("/public/toy.bin", Reply(body=PAYLOAD))
    add_toy_dataset(monkeypatch, http_server.url("/public/toy.bin"))
    monkeypatch.setenv("WORKSHOP_MIRROR", http_server.url("/room"))

    download.fetch_file("toy", "toy.bin", progress=False)

    assert http_server.requests == ["/room/toy/toy.bin", "/public/toy.bin"]
    assert "downloaded from public URL" in capsys.readouterr().out


def test_a_file_url_mirror_works_like_a_usb_stick(download_env, tmp_path, monkeypatch):
    stick = tmp_path / "usb-stick"
    (stick / "toy").mkdir(parents=True)
    (stick / "toy" / "toy.bin").write_bytes(PAYLOAD)
    add_toy_dataset(monkeypatch, "http://127.0.0.1:9/unreachable/toy.bin")
    monkeypatch.setenv("WORKSHOP_MIRROR", stick.as_uri())

    assert download.fetch_file("toy", "toy.bin", progress=False).read_bytes() == PAYLOAD

    monkeypatch.setattr(manifest, "DATASETS", {**manifest.DATASETS})
    add_toy_dataset(monkeypatch, "http://127.0.0.1:9/unreachable/other.bin", name="other", filename="other.bin")
    with pytest.raises(DataUnavailable) as caught:
        download.fetch_file("other", "other.bin", progress=False)
    assert "room mirror file://" in str(caught.value) and "no such file" in str(caught.value)
    assert "connection refused" in str(caught.value)


def test_a_mirror_setting_without_scheme_is_reported(download_env, http_server, monkeypatch):
    http_server.script("/toy.bin", Reply(body=PAYLOAD))
    add_toy_dataset(monkeypatch, http_server.url("/toy.bin"))
    monkeypatch.setenv("WORKSHOP_MIRROR", "10.0.0.5:8000")

    download.fetch_file("toy", "toy.bin", progress=False)  # falls back to the public URL

    monkeypatch.delenv("WORKSHOP_MIRROR")
    http_server.script("/toy.bin", Reply(404))
    (download_env / "toy" / "toy.bin").unlink()
    monkeypatch.setenv("WORKSHOP_MIRROR", "10.0.0.5:8000")
    with pytest.raises(DataUnavailable, match="not a valid URL"):
        download.fetch_file("toy", "toy.bin", progress=False)


def test_public_mirrors_are_tried_after_the_main_url(download_env, http_server, monkeypatch):
    http_server.script("/backup/toy.bin", Reply(body=PAYLOAD))
    remote = RemoteFile("toy.bin", http_server.url("/gone/toy.bin"), len(PAYLOAD), f"sha256:{sha256(PAYLOAD)}",
                        mirrors=(http_server.url("/backup/toy.bin"),))
    monkeypatch.setitem(manifest.DATASETS, "toy", DatasetInfo("toy", "Toy", "test", "CC0-1.0", "download", (remote,)))

    download.fetch_file("toy", "toy.bin", progress=False)

    assert http_server.requests == ["/gone/toy.bin", "/backup/toy.bin"]


def test_offline_mode_uses_only_the_cache(download_env, http_server, monkeypatch):
    http_server.script("/toy.bin", Reply(body=PAYLOAD))
    add_toy_dataset(monkeypatch, http_server.url("/toy.bin"))
    monkeypatch.setenv("WORKSHOP_OFFLINE", "1")

    with pytest.raises(DataUnavailable, match="WORKSHOP_OFFLINE=1 and it is not in the cache") as caught:
        download.fetch_file("toy", "toy.bin", progress=False)
    assert "unset WORKSHOP_OFFLINE" in str(caught.value)
    assert http_server.requests == []

    cached = download_env / "toy" / "toy.bin"
    cached.parent.mkdir(parents=True)  # looking offline created nothing
    cached.write_bytes(PAYLOAD)
    assert download.fetch_file("toy", "toy.bin", progress=False) == cached
    assert http_server.requests == []


def test_unwritable_cache_dir_names_the_setting(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("WORKSHOP_DATA_DIR", str(blocker / "cache"))  # fails even for root

    with pytest.raises(DataUnavailable, match="WORKSHOP_DATA_DIR") as caught:
        download.dataset_dir("fashion-mnist")
    assert str(blocker / "cache" / "fashion-mnist") in str(caught.value)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_read_only_cache_dir_names_the_setting(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    (cache / "toy").mkdir(parents=True)
    (cache / "toy").chmod(0o500)
    monkeypatch.setenv("WORKSHOP_DATA_DIR", str(cache))
    try:
        with pytest.raises(DataUnavailable, match="WORKSHOP_DATA_DIR"):
            download.dataset_dir("toy")
    finally:
        (cache / "toy").chmod(0o700)


def test_dataset_dir_refuses_path_like_names(download_env):
    with pytest.raises(ValueError):
        download.dataset_dir("../outside")


def test_unknown_dataset_and_file_names_list_the_known_ones(download_env):
    with pytest.raises(ValueError, match="fashion-mnist"):
        download.fetch_file("no-such-data", "x.bin")
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz"):
        download.fetch_file("fashion-mnist", "x.bin")


# --------------------------------------------------------------------------------------------------
# Checksums
# --------------------------------------------------------------------------------------------------

def test_sha256_prefix_checks_the_start_of_the_digest(tmp_path):
    path = tmp_path / "weights.pth"
    path.write_bytes(PAYLOAD)
    digest = sha256(PAYLOAD)
    good = RemoteFile("weights.pth", "http://x", len(PAYLOAD), f"sha256-prefix:{digest[:8]}")
    bad = RemoteFile("weights.pth", "http://x", len(PAYLOAD), f"sha256-prefix:{'0' * 8}")

    assert download.verify_file(path, good) is None
    assert "sha256 mismatch" in download.verify_file(path, bad)


def test_md5_and_exact_size_are_checked(tmp_path):
    import hashlib

    path = tmp_path / "f.bin"
    path.write_bytes(PAYLOAD)
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    assert download.verify_file(path, RemoteFile("f.bin", "http://x", len(PAYLOAD), f"md5:{md5}")) is None
    wrong_size = RemoteFile("f.bin", "http://x", len(PAYLOAD) + 1, f"md5:{md5}", size_exact=True)
    assert "size 10,240 bytes, expected 10,241" == download.verify_file(path, wrong_size)
    assert download.verify_file(tmp_path / "absent", wrong_size) == "missing"
    with pytest.raises(ValueError, match="not a known_hash"):
        download.parse_known_hash("crc32:1234")


# --------------------------------------------------------------------------------------------------
# Safe extraction
# --------------------------------------------------------------------------------------------------

def _zip_with(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data)
    return path


def _tar_with(path: Path, members: list[tarfile.TarInfo]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for member in members:
            data = b"evil"
            if member.isfile():
                member.size = len(data)
                archive.addfile(member, io.BytesIO(data))
            else:
                archive.addfile(member)
    return path


def _symlink(name: str, target: str) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type, member.linkname = tarfile.SYMTYPE, target
    return member


@pytest.mark.parametrize("member", ["../evil.txt", "ok/../../evil.txt", "/tmp/evil.txt", "C:/evil.txt"])
def test_zip_with_escaping_member_is_refused_and_nothing_is_written(tmp_path, member):
    work = tmp_path / "work"
    work.mkdir()
    archive = _zip_with(work / "bad.zip", {"fine.txt": b"fine", member: b"evil"})

    with pytest.raises(UnsafeArchive, match="refusing to extract"):
        download.extract_archive(archive, work / "out")

    assert files_under(work) == ["bad.zip"]
    assert not (tmp_path / "evil.txt").exists()


@pytest.mark.parametrize("member", [
    tarfile.TarInfo("../evil.txt"),
    tarfile.TarInfo("/tmp/evil-from-test.txt"),
    _symlink("link", "../../outside"),
    _symlink("deep/link", "/etc/passwd"),
], ids=["dotdot", "absolute", "symlink-up", "symlink-absolute"])
def test_tar_with_escaping_member_is_refused_and_nothing_is_written(tmp_path, member):
    work = tmp_path / "work"
    work.mkdir()
    archive = _tar_with(work / "bad.tar.gz", [tarfile.TarInfo("fine.txt"), member])

    with pytest.raises(UnsafeArchive, match="refusing to extract"):
        download.extract_archive(archive, work / "out")

    assert files_under(work) == ["bad.tar.gz"]
    assert not Path("/tmp/evil-from-test.txt").exists()


def test_symlink_inside_the_archive_is_allowed(tmp_path):
    archive = _tar_with(tmp_path / "ok.tar.gz", [tarfile.TarInfo("data/a.txt"), _symlink("data/b.txt", "a.txt")])

    out = download.extract_archive(archive, tmp_path / "out")

    assert (out / "data" / "b.txt").read_bytes() == b"evil"


def test_extraction_merges_archives_into_one_folder(tmp_path):
    first = _zip_with(tmp_path / "a.zip", {"GTSRB/Training/1.ppm": b"1", "top.txt": b"old"})
    second = _zip_with(tmp_path / "b.zip", {"GTSRB/Final_Test/2.ppm": b"2", "top.txt": b"new"})

    download.extract_archive(first, tmp_path / "out")
    download.extract_archive(second, tmp_path / "out")

    assert files_under(tmp_path / "out") == ["GTSRB/Final_Test/2.ppm", "GTSRB/Training/1.ppm", "top.txt"]
    assert (tmp_path / "out" / "top.txt").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.zip", "b.zip", "out"]  # no staging left


def test_corrupt_archive_gives_a_clear_error_and_leaves_nothing(tmp_path):
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK\x03\x04" + b"\x00" * 100)

    with pytest.raises(DataUnavailable, match="broken.zip"):
        download.extract_archive(archive, tmp_path / "out")

    assert [p.name for p in tmp_path.iterdir()] == ["broken.zip"]


# --------------------------------------------------------------------------------------------------
# fetch_dataset and fetch_weights
# --------------------------------------------------------------------------------------------------

def test_fetch_dataset_extracts_each_archive_once(download_env, http_server, monkeypatch, capsys):
    archive = _zip_with(download_env.parent / "src.zip", {"GTSRB/Training/00000/a.ppm": b"P6"})
    payload = archive.read_bytes()
    http_server.script("/t.zip", Reply(body=payload))
    add_toy_dataset(monkeypatch, http_server.url("/t.zip"), payload=payload, filename="t.zip")

    folder = download.fetch_dataset("toy", progress=False)
    assert (folder / "GTSRB" / "Training" / "00000" / "a.ppm").read_bytes() == b"P6"
    assert "extracting" in capsys.readouterr().out

    download.fetch_dataset("toy", progress=False)
    second = capsys.readouterr().out
    assert "extracting" not in second and "verified (cached)" in second


def test_road_signs_come_from_the_mirror_zip_and_pass_the_structural_check(download_env, http_server, monkeypatch,
                                                                           capsys):
    http_server.script("/room/road-signs/road-sign-detection.zip", Reply(body=road_sign_zip()))
    monkeypatch.setenv("WORKSHOP_MIRROR", http_server.url("/room"))

    folder = download.fetch_dataset("road-signs", progress=False)

    assert folder == download_env / "road-signs"
    assert len(list((folder / "images").glob("*.png"))) == 877
    assert len(list((folder / "annotations").glob("*.xml"))) == 877
    assert "877 images/*.png + 877 annotations/*.xml" in capsys.readouterr().out
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]

    download.fetch_dataset("road-signs", progress=False)  # ready: no new request
    assert http_server.requests == ["/room/road-signs/road-sign-detection.zip"]


def test_road_signs_archive_in_a_wrapper_folder_is_found(download_env, http_server, monkeypatch, small_road_signs):
    http_server.script("/room/road-signs/road-sign-detection.zip",
                       Reply(body=road_sign_zip(small_road_signs, wrapper="archive/")))
    monkeypatch.setenv("WORKSHOP_MIRROR", http_server.url("/room"))

    folder = download.fetch_dataset("road-signs", progress=False)

    assert len(list((folder / "images").glob("*.png"))) == small_road_signs
    assert not (folder / "archive").exists()


def test_incomplete_road_signs_archive_is_rejected_and_removed(download_env, http_server, monkeypatch,
                                                              small_road_signs):
    http_server.script("/room/road-signs/road-sign-detection.zip", Reply(body=road_sign_zip(3)))
    monkeypatch.setenv("WORKSHOP_MIRROR", http_server.url("/room"))

    with pytest.raises(DataUnavailable, match="images/ has 3 \\*.png files, expected 5"):
        download.fetch_dataset("road-signs", progress=False)

    assert files_under(download_env) == []
    assert [p.name for p in download_env.iterdir()] == ["road-signs"]  # an empty folder, nothing in it


def test_bad_cached_road_signs_archive_is_replaced_once(download_env, http_server, monkeypatch, capsys,
                                                       small_road_signs):
    folder = download_env / "road-signs"
    folder.mkdir(parents=True)
    (folder / "road-sign-detection.zip").write_bytes(road_sign_zip(3))
    http_server.script("/room/road-signs/road-sign-detection.zip", Reply(body=road_sign_zip(small_road_signs)))
    monkeypatch.setenv("WORKSHOP_MIRROR", http_server.url("/room"))

    download.fetch_dataset("road-signs", progress=False)

    assert "is unusable" in capsys.readouterr().out
    assert download.check_layout(manifest.DATASETS["road-signs"], folder) == []
    assert http_server.requests == ["/room/road-signs/road-sign-detection.zip"]


def _fake_kagglehub(monkeypatch, dataset_download) -> list[str]:
    """Install a stand-in ``kagglehub`` module (third-party, needs the internet); returns the handles asked for."""
    asked: list[str] = []

    def download_recording(handle: str) -> str:
        asked.append(handle)
        return dataset_download(handle)

    monkeypatch.setitem(sys.modules, "kagglehub", types.SimpleNamespace(dataset_download=download_recording))
    return asked


def test_road_signs_from_kagglehub_are_linked_into_the_cache(download_env, tmp_path, monkeypatch, small_road_signs):
    kaggle_cache = tmp_path / "kagglehub" / "datasets" / "andrewmvd" / "road-sign-detection" / "versions" / "1"
    write_road_sign_tree(kaggle_cache, small_road_signs)
    asked = _fake_kagglehub(monkeypatch, lambda handle: str(kaggle_cache))

    folder = download.fetch_dataset("road-signs", progress=False)

    assert asked == ["andrewmvd/road-sign-detection"]
    assert download.check_layout(manifest.DATASETS["road-signs"], folder) == []
    assert (folder / "images" / "road0.png").read_bytes() == (kaggle_cache / "images" / "road0.png").read_bytes()
    assert not [p for p in download_env.rglob(".*")], "no staging folder left"


def test_road_signs_installed_meanwhile_by_another_process_are_kept(download_env, tmp_path, monkeypatch,
                                                                   small_road_signs):
    """Two notebooks fetch road signs at once: the second to finish must not delete the first one's
    folders, which the first notebook is decoding by then."""
    kaggle_cache = tmp_path / "kagglehub" / "road-sign-detection"
    write_road_sign_tree(kaggle_cache, small_road_signs)
    theirs = download_env / "road-signs"

    def download_while_another_process_finishes(handle):
        write_road_sign_tree(theirs, small_road_signs)
        (theirs / "images" / "road0.png").write_bytes(b"\x89PNG being read by the other notebook")
        return str(kaggle_cache)

    _fake_kagglehub(monkeypatch, download_while_another_process_finishes)
    folder = download.fetch_dataset("road-signs", progress=False)

    assert (folder / "images" / "road0.png").read_bytes() == b"\x89PNG being read by the other notebook"
    assert download.check_layout(manifest.DATASETS["road-signs"], folder) == []
    assert not [p for p in download_env.rglob(".*")], "no staging folder left"


def test_kagglehub_failure_falls_back_to_the_zip_url(download_env, http_server, monkeypatch, small_road_signs):
    def offline_kagglehub(handle):
        raise ConnectionError("api.kaggle.com unreachable")

    _fake_kagglehub(monkeypatch, offline_kagglehub)
    info = manifest.DATASETS["road-signs"]
    zip_file = dataclasses.replace(info.files[0], url=http_server.url("/kaggle/road-sign-detection.zip"))
    monkeypatch.setitem(manifest.DATASETS, "road-signs", dataclasses.replace(info, files=(zip_file,)))

    with pytest.raises(DataUnavailable) as caught:
        download.fetch_dataset("road-signs", progress=False)
    message = str(caught.value)
    assert "kagglehub dataset_download('andrewmvd/road-sign-detection'): ConnectionError" in message
    assert "/kaggle/road-sign-detection.zip: HTTP 404" in message

    http_server.script("/kaggle/road-sign-detection.zip", Reply(body=road_sign_zip(small_road_signs)))
    folder = download.fetch_dataset("road-signs", progress=False)
    assert download.check_layout(manifest.DATASETS["road-signs"], folder) == []


def test_kagglehub_is_not_used_with_a_mirror_or_offline(download_env, monkeypatch):
    asked = _fake_kagglehub(monkeypatch, lambda handle: "/nonexistent")
    info = manifest.DATASETS["road-signs"]
    zip_file = dataclasses.replace(info.files[0], url="http://127.0.0.1:9/kaggle.zip")  # never the real Kaggle
    monkeypatch.setitem(manifest.DATASETS, "road-signs", dataclasses.replace(info, files=(zip_file,)))

    monkeypatch.setenv("WORKSHOP_OFFLINE", "1")
    with pytest.raises(DataUnavailable, match="WORKSHOP_OFFLINE=1"):
        download.fetch_dataset("road-signs", progress=False)
    monkeypatch.delenv("WORKSHOP_OFFLINE")
    monkeypatch.setenv("WORKSHOP_MIRROR", "http://127.0.0.1:9")
    with pytest.raises(DataUnavailable, match="room mirror http://127.0.0.1:9/road-signs/road-sign-detection.zip"):
        download.fetch_dataset("road-signs", progress=False)

    assert asked == []


def test_cached_path_follows_the_settings(download_env, tmp_path):
    assert download.cached_path("fashion-mnist", "t10k-labels-idx1-ubyte.gz") == (
        download_env / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz")
    assert download.cached_path("resnet18", "resnet18-f37072fd.pth") == (
        tmp_path / "torch-home" / "hub" / "checkpoints" / "resnet18-f37072fd.pth")
    assert not download_env.exists(), "cached_path only computes"


def test_fetch_weights_lands_where_torch_hub_looks(download_env, http_server, monkeypatch, tmp_path):
    import torch.hub

    digest = sha256(PAYLOAD)
    filename = f"tiny-{digest[:8]}.pth"
    http_server.script(f"/models/{filename}", Reply(body=PAYLOAD))
    add_toy_dataset(monkeypatch, http_server.url(f"/models/{filename}"), name="tinynet", filename=filename,
                    known_hash=f"sha256-prefix:{digest[:8]}", kind="weights")

    path = download.fetch_weights("tinynet")

    assert path == Path(torch.hub.get_dir()) / "checkpoints" / filename
    assert path.is_relative_to(tmp_path / "torch-home")
    assert path.read_bytes() == PAYLOAD
    with pytest.raises(ValueError, match="not weights"):
        download.fetch_weights("road-signs")


# --------------------------------------------------------------------------------------------------
# cache_status and local copies
# --------------------------------------------------------------------------------------------------

def test_cache_status_reports_verified_corrupt_and_missing(download_env, http_server, monkeypatch):
    http_server.script("/toy.bin", Reply(body=PAYLOAD))
    add_toy_dataset(monkeypatch, http_server.url("/toy.bin"))
    assert download.cache_status("toy").summary == "missing"

    path = download.fetch_file("toy", "toy.bin", progress=False)
    status = download.cache_status("toy")
    assert (status.summary, status.ok, status.files[0].state, status.files[0].size) == (
        "verified", True, "verified", len(PAYLOAD))

    path.write_bytes(PAYLOAD[:-1] + b"X")
    assert download.cache_status("toy", verify=False).summary == "cached"  # not re-hashed
    status = download.cache_status("toy")
    assert (status.summary, status.ok) == ("corrupt", False)
    assert "sha256 mismatch" in status.files[0].detail
    assert download.cache_status("wine").summary == "bundled"


def test_cache_status_checks_the_road_sign_layout(download_env, small_road_signs):
    assert download.cache_status("road-signs").summary == "missing"
    write_road_sign_tree(download_env / "road-signs", 2)
    assert download.cache_status("road-signs").summary == "incomplete"
    write_road_sign_tree(download_env / "road-signs", small_road_signs)
    status = download.cache_status("road-signs")
    assert (status.ok, status.summary, status.files[0].state) == (True, "checked", "not kept")


def test_mirror_archive_is_packed_from_extracted_folders(download_env, small_road_signs):
    assert download.ensure_mirror_archive("road-signs") is None  # nothing there yet
    write_road_sign_tree(download_env / "road-signs", small_road_signs)

    archive = download.ensure_mirror_archive("road-signs")

    with zipfile.ZipFile(archive) as packed:
        names = packed.namelist()
    assert len(names) == 2 * small_road_signs and "images/road0.png" in names and "annotations/road4.xml" in names
    assert not [name for name in files_under(download_env) if name.endswith(".part")]


def test_debian_fashion_mnist_copy_is_recognised(download_env):
    debian = manifest.DEBIAN_FASHION_MNIST_DIR / "t10k-labels-idx1-ubyte.gz"
    if not debian.is_file():
        pytest.skip("Debian's dataset-fashion-mnist package is not installed")

    assert download.local_copy("fashion-mnist", "t10k-labels-idx1-ubyte.gz") == debian
    status = download.cache_status("fashion-mnist")
    assert {file.state for file in status.files} == {"local copy"}
    assert status.ok and status.summary == "local copy"


def test_debian_copy_with_wrong_content_is_not_used(download_env, tmp_path, monkeypatch):
    import gzip

    fake = tmp_path / "debian"
    fake.mkdir()
    with gzip.open(fake / "t10k-labels-idx1-ubyte.gz", "wb") as stream:
        stream.write(b"not the labels")
    monkeypatch.setattr(manifest, "DEBIAN_FASHION_MNIST_DIR", fake)

    assert download.local_copy("fashion-mnist", "t10k-labels-idx1-ubyte.gz") is None
    assert download.local_copy("fashion-mnist", "t10k-labels-idx1-ubyte.gz", verify=False) is not None
