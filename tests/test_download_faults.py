"""The download layer under faults (issue 15), against a loopback server: a read-only cache, a trickling or
oversized body, a zip bomb, a full disk while extracting, a folder in a file's place, a bad --port, and two
processes installing the same archive at once.

Read-only folders: the ``read_only`` fixture wraps the OS calls that write (the session may run as
root, which ignores chmod). A full disk: ``shutil.disk_usage`` reports too little room, or the write
that extraction makes (``shutil.copyfileobj``) raises the OS's ENOSPC.
"""

from __future__ import annotations

import dataclasses
import errno
import io
import os
import shutil
import tarfile
import time
import zipfile

import pytest

from http_fixtures import (  # noqa: F401 (fixtures)
    NO_LENGTH,
    Reply,
    download_env,
    files_under,
    http_server,
    read_only,
    road_sign_zip,
    sha256,
    small_road_signs,
    write_road_sign_tree,
)
from workshop_utils.data import cli, download, manifest
from workshop_utils.data.download import DataUnavailable, DiskFull, UnsafeArchive
from workshop_utils.data.manifest import DatasetInfo, RemoteFile

PAYLOAD = bytes(range(256)) * 40  # 10 kB
MIRROR_ZIP = "/room/road-signs/road-sign-detection.zip"


def add_toy(monkeypatch, url, *, payload=PAYLOAD, filename="toy.bin", known_hash="default", size_exact=True):
    remote = RemoteFile(filename, url, len(payload), f"sha256:{sha256(payload)}" if known_hash == "default" else
                        known_hash, size_exact=size_exact)
    monkeypatch.setitem(manifest.DATASETS, "toy", DatasetInfo("toy", "Toy", "test", "CC0-1.0", "download", (remote,),
                                                               "a test entry"))
    return remote


def tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


# -- a read-only cache that holds the data ---------------------------------------------------------------

@pytest.fixture
def real_looking_road_signs(download_env, monkeypatch, tmp_path):
    """``cache/road-signs`` holding 40 decodable images and annotations (drawn like the stand-in, unmarked)."""
    from workshop_utils.data.standins import make_road_signs_standin

    source = make_road_signs_standin(tmp_path / "drawn", class_counts={name: 10 for name in
                                                                       ("crosswalk", "speedlimit", "stop",
                                                                        "trafficlight")}, progress=False).root
    folder = download_env / "road-signs"
    for part in ("images", "annotations"):
        shutil.copytree(source / part, folder / part)
    layout = tuple(dataclasses.replace(rule, count=40) for rule in manifest.ROAD_SIGNS.expected_layout)
    monkeypatch.setitem(manifest.DATASETS, "road-signs",
                        dataclasses.replace(manifest.ROAD_SIGNS, expected_layout=layout))
    return folder


def test_a_read_only_cache_holding_the_road_signs_is_used(real_looking_road_signs, read_only, capsys, monkeypatch):
    from workshop_utils.data import loaders

    monkeypatch.setattr(loaders, "_DECODED", {}, raising=False)
    read_only(real_looking_road_signs.parent)
    assert cli.main(["verify", "road-signs"]) == 0

    data = loaders.load_road_signs(progress=False)

    output = capsys.readouterr().out
    assert data.source == loaders.SOURCE_CACHE and not data.is_standin
    assert "STAND-IN" not in output.upper() and "cannot be written" not in output
    assert data.root == real_looking_road_signs


def test_a_read_only_cache_holding_a_file_and_an_extracted_archive_is_used(download_env, http_server, monkeypatch,
                                                                           read_only):
    archive = tar_gz({"data/a.txt": b"a", "data/b.txt": b"b"})
    http_server.script("/t.tar.gz", Reply(body=archive))
    add_toy(monkeypatch, http_server.url("/t.tar.gz"), payload=archive, filename="t.tar.gz")
    folder = download.fetch_dataset("toy", progress=False)  # downloaded and extracted while writable
    before = files_under(download_env)
    read_only(download_env)

    assert download.fetch_dataset("toy", progress=False) == folder
    assert download.fetch_file("toy", "t.tar.gz", progress=False) == folder / "t.tar.gz"
    assert files_under(download_env) == before and http_server.requests == ["/t.tar.gz"]


def test_a_read_only_cache_without_the_file_names_the_setting(download_env, http_server, monkeypatch, read_only):
    http_server.script("/toy.bin", Reply(body=PAYLOAD))
    add_toy(monkeypatch, http_server.url("/toy.bin"))
    (download_env / "toy").mkdir(parents=True)
    read_only(download_env)
    with pytest.raises(DataUnavailable, match="cannot be written (.|\n)*Set WORKSHOP_DATA_DIR"):
        download.fetch_file("toy", "toy.bin", progress=False)
    assert http_server.requests == []


# -- an overall deadline and a byte cap ----------------------------------------------------------------------

def test_a_body_trickling_in_fails_in_bounded_time_with_a_clear_message(download_env, http_server, monkeypatch):
    body = PAYLOAD[:300]
    http_server.script("/toy.bin", Reply(body=body, trickle_seconds=0.03))  # each pause < the 0.5 s timeout
    add_toy(monkeypatch, http_server.url("/toy.bin"), payload=body)
    monkeypatch.setattr(download, "DEADLINE_BASE_SECONDS", 1.0)
    monkeypatch.setattr(download, "MIN_BYTES_PER_SECOND", 1e9)

    started = time.monotonic()
    with pytest.raises(DataUnavailable, match=r"too slow: [\d,]+ of 300 bytes after \d+ s \(the limit for this file "
                                              r"is 1 s\); try the room mirror \(WORKSHOP_MIRROR\)") as caught:
        download.fetch_file("toy", "toy.bin", progress=False)
    assert time.monotonic() - started < 4  # 300 bytes at this pace would take 9 s
    assert "(after" not in str(caught.value)  # tried once, not retried
    assert http_server.requests == ["/toy.bin"]  # not retried
    assert files_under(download_env) == []


def test_the_deadline_grows_with_the_file_size():
    small = RemoteFile("a", "http://x", 1_000, None)
    large = RemoteFile("b", "http://x", 218_000_000, None)
    assert download.download_deadline(small) < download.download_deadline(large) < 4 * 3600


def test_an_absurd_content_length_is_refused_without_reading_or_retrying(download_env, http_server, monkeypatch):
    http_server.script("/toy.bin", Reply(body=PAYLOAD, declared_length=10**15))
    add_toy(monkeypatch, http_server.url("/toy.bin"))

    with pytest.raises(DataUnavailable, match="announces 1,000,000,000,000,000 bytes, but the file has 10,240"):
        download.fetch_file("toy", "toy.bin", progress=False)
    assert http_server.requests == ["/toy.bin"]
    assert files_under(download_env) == []


def test_reading_stops_past_the_expected_size(download_env, http_server, monkeypatch):
    huge = b"\0" * (8 << 20)
    http_server.script("/toy.bin", Reply(body=huge, declared_length=NO_LENGTH))  # no length: ends when closed
    add_toy(monkeypatch, http_server.url("/toy.bin"))
    written = []
    real_fdopen = os.fdopen

    def counting_fdopen(*args, **kwargs):
        stream = real_fdopen(*args, **kwargs)
        real_write = stream.write
        stream.write = lambda data: written.append(len(data)) or real_write(data)
        return stream

    monkeypatch.setattr(download.os, "fdopen", counting_fdopen)
    with pytest.raises(DataUnavailable, match="sent more than the 10,240 bytes this file can have"):
        download.fetch_file("toy", "toy.bin", progress=False)
    assert sum(written) <= 10_240  # never more than the file's size on disk
    assert http_server.requests == ["/toy.bin"] and files_under(download_env) == []


def test_estimated_sizes_get_a_margin():
    estimate = RemoteFile("a", "http://x", 100_000_000, None, size_exact=False)
    assert download.max_download_bytes(estimate) > 2 * 100_000_000
    assert download.max_download_bytes(RemoteFile("b", "http://x", 10, None, size_exact=True)) == 10


# -- archives: a zip bomb, a full disk -------------------------------------------------------------------

def road_signs_with(extra: dict[str, bytes], count: int) -> bytes:
    buffer = io.BytesIO(road_sign_zip(count))
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in extra.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_bomb_in_the_road_sign_zip_is_refused_and_nothing_is_kept(download_env, http_server, monkeypatch,
                                                                        small_road_signs):
    bomb = road_signs_with({"images/bomb.bin": b"\0" * (40 << 20)}, small_road_signs)  # 40 MB in ~40 kB
    assert len(bomb) < 200_000
    http_server.script(MIRROR_ZIP, Reply(body=bomb))
    monkeypatch.setenv("WORKSHOP_MIRROR", http_server.url("/room"))
    writes = []
    monkeypatch.setattr(download.zipfile.ZipFile, "extractall", lambda self, *a, **k: writes.append(a))

    with pytest.raises(DataUnavailable, match="zip bomb") as caught:
        download.fetch_dataset("road-signs", progress=False)
    assert "would expand from" in str(caught.value) and writes == []
    assert files_under(download_env) == []  # the archive deleted, nothing extracted
    assert download.cache_status("road-signs").summary == "missing"  # not "checked"


def test_a_tar_bomb_is_refused_too(tmp_path):
    archive = tmp_path / "bomb.tar.gz"
    archive.write_bytes(tar_gz({"zeros.bin": b"\0" * (20 << 20)}))
    with pytest.raises(UnsafeArchive, match="zip bomb"):
        download.extract_archive(archive, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.tar.gz"]


def test_ordinary_archives_still_extract(tmp_path):
    archive = tmp_path / "fine.tar.gz"
    archive.write_bytes(tar_gz({"data/a.txt": b"a" * 1000, "data/b.txt": os.urandom(5000)}))
    download.extract_archive(archive, tmp_path / "out")
    assert files_under(tmp_path / "out") == ["data/a.txt", "data/b.txt"]


@pytest.mark.parametrize("how", ["too little room", "disk fills up while writing"])
def test_disk_full_while_extracting_keeps_the_archive_and_says_disk_full(download_env, http_server, monkeypatch,
                                                                         small_road_signs, how):
    http_server.script(MIRROR_ZIP, Reply(body=road_sign_zip(small_road_signs)))
    monkeypatch.setenv("WORKSHOP_MIRROR", http_server.url("/room"))
    if how == "too little room":
        usage = shutil.disk_usage(download_env.parent)
        monkeypatch.setattr(download.shutil, "disk_usage", lambda path: usage._replace(free=10))
    else:
        def no_space(*args, **kwargs):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(shutil, "copyfileobj", no_space)  # what zipfile writes each member with

    with pytest.raises(DiskFull) as caught:
        download.fetch_dataset("road-signs", progress=False)
    message = str(caught.value)
    assert message.startswith("disk full") and "corrupt" not in message and "WORKSHOP_DATA_DIR" in message
    assert files_under(download_env) == ["road-signs/road-sign-detection.zip"]  # kept; no staging folder left


# -- a folder in the way, a bad port -------------------------------------------------------------------------

def test_a_folder_where_a_cached_file_should_be_is_explained(download_env, http_server, monkeypatch):
    http_server.script("/toy.bin", Reply(body=PAYLOAD))
    add_toy(monkeypatch, http_server.url("/toy.bin"))
    (download_env / "toy" / "toy.bin").mkdir(parents=True)

    with pytest.raises(DataUnavailable, match=r"toy.bin is a folder, but the cache keeps the file toy.bin of toy "
                                              r"there. Move or delete that folder"):
        download.fetch_file("toy", "toy.bin", progress=False)
    status = download.cache_status("toy").files[0]
    assert status.state == "corrupt" and "a folder is where the file should be" in status.detail
    assert http_server.requests == []


@pytest.mark.parametrize("port", ["70000", "-1", "eighty"])
def test_serve_with_an_impossible_port_is_a_usage_error(download_env, capsys, port):
    assert cli.main(["serve", "--port", port]) == 2
    error = capsys.readouterr().err
    assert "is not a TCP port: give a whole number from 1 to 65535" in error and "Traceback" not in error


# -- two processes installing the same archive at once ------------------------------------------------------

def test_two_processes_extracting_the_same_tar_at_once_do_not_collide(download_env, http_server, monkeypatch):
    """The interleaving that made ``OSError: [Errno 39] Directory not empty``: the other process renames
    its extracted folder into place between our check and our rename."""
    archive = tar_gz({"GTSRB/Training/a.ppm": b"P6 a", "GTSRB/Training/b.ppm": b"P6 b", "GTSRB/top.txt": b"t"})
    http_server.script("/t.tar.gz", Reply(body=archive))
    add_toy(monkeypatch, http_server.url("/t.tar.gz"), payload=archive, filename="t.tar.gz")
    path = download.fetch_file("toy", "t.tar.gz", progress=False)
    real_replace = os.replace
    other_process_ran = []

    def replace_after_the_other_process(source, destination):
        if not other_process_ran and os.path.isdir(source) and not os.path.exists(destination):
            other_process_ran.append(True)
            monkeypatch.setattr(download.os, "replace", real_replace)
            download.extract_archive(path, path.parent)  # the other process, all the way through
            monkeypatch.setattr(download.os, "replace", replace_after_the_other_process)
        return real_replace(source, destination)

    monkeypatch.setattr(download.os, "replace", replace_after_the_other_process)
    download.extract_archive(path, path.parent)

    assert other_process_ran
    assert files_under(path.parent) == ["GTSRB/Training/a.ppm", "GTSRB/Training/b.ppm", "GTSRB/top.txt", "t.tar.gz"]


def test_two_processes_installing_the_road_signs_at_once_do_not_collide(download_env, http_server, monkeypatch,
                                                                         small_road_signs):
    """The other process renames its checked images/ folder into place between our rmtree and our rename."""
    http_server.script(MIRROR_ZIP, Reply(body=road_sign_zip(small_road_signs)))
    monkeypatch.setenv("WORKSHOP_MIRROR", http_server.url("/room"))
    folder = download_env / "road-signs"
    (folder / "images").mkdir(parents=True)  # an incomplete earlier copy, replaced as a whole
    real_replace = os.replace

    def replace_after_the_other_process(source, destination):
        if os.path.basename(destination) == "images" and not os.path.exists(destination):
            write_road_sign_tree(download_env / "theirs", small_road_signs)
            real_replace(download_env / "theirs" / "images", destination)
        return real_replace(source, destination)

    monkeypatch.setattr(download.os, "replace", replace_after_the_other_process)
    assert download.fetch_dataset("road-signs", progress=False) == folder
    monkeypatch.setattr(download.os, "replace", real_replace)
    assert download.check_layout(manifest.DATASETS["road-signs"], folder) == []
