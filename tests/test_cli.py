"""``data_download.py``: exit codes, messages, the global options and the room mirror (``serve``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from http_fixtures import (  # noqa: F401 (fixtures)
    Reply,
    download_env,
    http_server,
    sha256,
    small_road_signs,
    write_road_sign_tree,
)
from workshop_utils.data import cli, download, manifest
from workshop_utils.data.manifest import DatasetInfo, RemoteFile

REPO_ROOT = Path(__file__).resolve().parents[1]
PAYLOAD = b"workshop bytes " * 100


def add_toy_dataset(monkeypatch, url: str) -> None:
    remote = RemoteFile("toy.bin", url, len(PAYLOAD), f"sha256:{sha256(PAYLOAD)}", size_exact=True)
    monkeypatch.setitem(manifest.DATASETS, "toy", DatasetInfo("toy", "Toy", "test", "CC0-1.0", "download", (remote,)))


# --------------------------------------------------------------------------------------------------
# main([...]) in process
# --------------------------------------------------------------------------------------------------

def test_list_shows_every_entry_and_writes_nothing(download_env, capsys):
    assert cli.main(["list"]) == 0

    out = capsys.readouterr().out
    for name in manifest.DATASETS:
        assert re.search(rf"^{re.escape(name)}\s", out, re.MULTILINE)
    assert re.search(r"^road-signs\s+kaggle\s+~218 MB\s+missing\s+CC0-1.0\s+https://www.kaggle.com", out, re.MULTILINE)
    assert re.search(r"^wine\s+bundled\s+-\s+bundled", out, re.MULTILINE)
    assert not download_env.exists()


@pytest.mark.parametrize("argv", [["download", "nope"], ["verify", "wine", "nope"], ["frobnicate"],
                                  ["serve", "--port", "eighty"]])
def test_usage_errors_exit_2(download_env, capsys, argv):
    assert cli.main(argv) == 2
    if "nope" in argv:
        assert "unknown name(s): nope; known names: wine, digits" in capsys.readouterr().err


def test_no_command_downloads_everything_and_fails_cleanly_offline(download_env, monkeypatch, capsys):
    monkeypatch.setenv("WORKSHOP_OFFLINE", "1")

    assert cli.main([]) == 1

    captured = capsys.readouterr()
    assert "No command given: downloading everything" in captured.out
    assert "0 ready, 5 failed: fashion-mnist, road-signs, gtsrb, resnet18, mobilenet_v3_small" in captured.out
    assert "WORKSHOP_OFFLINE=1 and it is not in the cache" in captured.err
    assert "Traceback" not in captured.err


def test_help_exits_0(capsys):
    assert cli.main(["--help"]) == 0
    assert "download" in capsys.readouterr().out


def test_download_of_bundled_data_has_nothing_to_do(download_env, capsys):
    assert cli.main(["download", "wine", "auto-mpg"]) == 0
    assert "wine: bundled, nothing to download" in capsys.readouterr().out


def test_download_with_the_mirror_and_data_dir_options(download_env, http_server, monkeypatch, tmp_path):
    http_server.script("/room/toy/toy.bin", Reply(body=PAYLOAD))
    add_toy_dataset(monkeypatch, "http://127.0.0.1:9/unreachable/toy.bin")
    elsewhere = tmp_path / "elsewhere"

    status = cli.main(["--data-dir", str(elsewhere), "download", "toy", "--mirror", http_server.url("/room"),
                       "--no-progress"])

    assert status == 0
    assert (elsewhere / "toy" / "toy.bin").read_bytes() == PAYLOAD
    assert http_server.requests == ["/room/toy/toy.bin"]
    assert "WORKSHOP_MIRROR" not in os.environ and os.environ["WORKSHOP_DATA_DIR"] == str(download_env)


def test_failed_download_exits_1_with_a_message_and_no_traceback(download_env, http_server, monkeypatch, capsys):
    add_toy_dataset(monkeypatch, http_server.url("/missing/toy.bin"))

    assert cli.main(["download", "toy", "--no-progress"]) == 1

    captured = capsys.readouterr()
    assert "error: toy/toy.bin is not available" in captured.err and "HTTP 404" in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert "0 ready, 1 failed: toy" in captured.out


def test_verify_exit_codes_follow_the_cache(download_env, http_server, monkeypatch, capsys):
    http_server.script("/toy.bin", Reply(body=PAYLOAD))
    add_toy_dataset(monkeypatch, http_server.url("/toy.bin"))
    assert cli.main(["verify", "toy"]) == 1  # missing
    assert "toy/toy.bin: MISSING" in capsys.readouterr().out

    assert cli.main(["download", "toy", "--no-progress"]) == 0
    assert cli.main(["verify", "toy"]) == 0
    assert "toy/toy.bin: verified (sha256)" in capsys.readouterr().out

    cached = download_env / "toy" / "toy.bin"
    cached.write_bytes(PAYLOAD[:-1] + b"?")
    assert cli.main(["verify", "toy"]) == 1
    assert "toy/toy.bin: CORRUPT (sha256 mismatch" in capsys.readouterr().out
    assert cached.exists(), "verify reports; it does not delete"


# --------------------------------------------------------------------------------------------------
# serve: the room mirror, end to end
# --------------------------------------------------------------------------------------------------

def test_mirror_serves_exactly_what_fetch_file_asks_for(download_env, monkeypatch, tmp_path, small_road_signs):
    add_toy_dataset(monkeypatch, "http://127.0.0.1:9/unreachable/toy.bin")  # only the mirror can help
    instructor = tmp_path / "instructor-cache"
    (instructor / "toy").mkdir(parents=True)
    (instructor / "toy" / "toy.bin").write_bytes(PAYLOAD)
    write_road_sign_tree(instructor / "road-signs", small_road_signs)  # as kagglehub leaves it: no zip
    monkeypatch.setenv("WORKSHOP_DATA_DIR", str(instructor))
    assert download.ensure_mirror_archive("road-signs") == instructor / "road-signs" / "road-sign-detection.zip"
    server = cli.make_mirror_server("127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        mirror = f"http://127.0.0.1:{server.server_address[1]}"
        monkeypatch.setenv("WORKSHOP_DATA_DIR", str(download_env))  # now an attendee's laptop
        monkeypatch.setenv("WORKSHOP_MIRROR", mirror)

        assert download.fetch_file("toy", "toy.bin", progress=False).read_bytes() == PAYLOAD
        folder = download.fetch_dataset("road-signs", progress=False)
        assert download.check_layout(manifest.DATASETS["road-signs"], folder) == []

        index = urllib.request.urlopen(mirror + "/", timeout=5).read().decode()
        assert "/toy/toy.bin" in index and "/road-signs/road-sign-detection.zip" in index
        with pytest.raises(urllib.error.HTTPError, match="404"):
            urllib.request.urlopen(mirror + "/toy/../../etc/passwd", timeout=5)
        with pytest.raises(urllib.error.HTTPError, match="404"):
            urllib.request.urlopen(mirror + "/gtsrb/GTSRB_Final_Test_GT.zip", timeout=5)  # not cached
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------------------------------
# data_download.py as a program
# --------------------------------------------------------------------------------------------------

def _run(*args: str, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "WORKSHOP_DATA_DIR": str(cache), "TORCH_HOME": str(cache.parent / "torch-home")}
    return subprocess.run([sys.executable, str(REPO_ROOT / "data_download.py"), *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_data_download_py_exit_codes(tmp_path):
    cache = tmp_path / "cache"

    listing = _run("list", cache=cache)
    assert listing.returncode == 0 and "fashion-mnist" in listing.stdout

    unknown = _run("download", "nope", cache=cache)
    assert unknown.returncode == 2 and "known names:" in unknown.stderr

    missing = _run("verify", "road-signs", cache=cache)
    assert missing.returncode == 1 and "Not ready: road-signs (missing)" in missing.stdout

    write_road_sign_tree(cache / "road-signs")
    ready = _run("verify", "road-signs", cache=cache)
    assert ready.returncode == 0, ready.stdout + ready.stderr
    assert "road-signs: extracted data complete" in ready.stdout
    assert "Traceback" not in missing.stderr + unknown.stderr + ready.stderr


def test_data_download_py_serve_prints_the_mirror_setting(tmp_path):
    cache = tmp_path / "cache"
    (cache / "fashion-mnist").mkdir(parents=True)
    env = {**os.environ, "WORKSHOP_DATA_DIR": str(cache), "TORCH_HOME": str(tmp_path / "torch-home")}
    process = subprocess.Popen([sys.executable, str(REPO_ROOT / "data_download.py"), "serve", "--port", "0"],
                               cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl+C"):
                break
        output = "".join(lines)
        port = re.search(r"on http://127\.0\.0\.1:(\d+)/", output).group(1)
        assert f"export WORKSHOP_MIRROR=http://127.0.0.1:{port}" in output
        assert "use --bind 0.0.0.0 to serve the room" in output
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).status == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
