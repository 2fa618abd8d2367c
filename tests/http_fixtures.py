"""Test helpers for the download code: a scripted loopback HTTP server and fake data sets.

``ScriptedServer`` is a real ``http.server`` on 127.0.0.1 (an ephemeral port) whose answers are
scripted per path, to reproduce what networks do to downloads: 404s, a 503 before a 200, a body
cut short of its Content-Length, wrong bytes, a body that stalls past the client's timeout.
Import the ``http_server`` and ``download_env`` fixtures into a test module to use them.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import io
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Reply:
    """One scripted answer.

    ``declared_length`` is the Content-Length sent (default: the body's length; larger = truncated
    body; ``NO_LENGTH``: no Content-Length header, the body ends when the connection closes). With
    ``stall_after`` set, that many bytes are sent, then the server waits ``stall_seconds`` before
    sending the rest. With ``trickle_seconds`` set, the body is sent one byte at a time, that many
    seconds apart (each pause shorter than the client's timeout, so only an overall deadline stops it).
    """

    status: int = 200
    body: bytes = b""
    declared_length: int | None = None
    stall_after: int | None = None
    stall_seconds: float = 0.0
    trickle_seconds: float | None = None


NO_LENGTH = -1


class _Handler(http.server.BaseHTTPRequestHandler):
    server: "_Server"

    def do_GET(self) -> None:  # noqa: N802
        self.server.requests.append(self.path)
        reply = self.server.next_reply(self.path)
        try:
            self.send_response(reply.status)
            length = len(reply.body) if reply.declared_length is None else reply.declared_length
            if length != NO_LENGTH:
                self.send_header("Content-Length", str(length))
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            if reply.trickle_seconds is not None:
                for index in range(len(reply.body)):
                    self.wfile.write(reply.body[index:index + 1])
                    self.wfile.flush()
                    if self.server.stopping.wait(reply.trickle_seconds):
                        return
                return
            if reply.stall_after is None:
                self.wfile.write(reply.body)
                return
            self.wfile.write(reply.body[:reply.stall_after])
            self.wfile.flush()
            self.server.stopping.wait(reply.stall_seconds)
            self.wfile.write(reply.body[reply.stall_after:])
        except OSError:
            pass  # the client gave up (timeout): expected in the stall tests

    def log_message(self, format, *args) -> None:  # noqa: A002
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[str] = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def next_reply(self, path: str) -> Reply:
        """The next scripted reply for ``path`` (the last one repeats); 404 for unscripted paths."""
        with self.lock:
            replies = self.routes.get(path)
            if not replies:
                return Reply(404, b"not found")
            return replies.pop(0) if len(replies) > 1 else replies[0]


class ScriptedServer:
    """A loopback HTTP server with scripted replies; ``requests`` records every path asked for."""

    def __init__(self):
        self._server = _Server()
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def requests(self) -> list[str]:
        return self._server.requests

    def script(self, path: str, *replies: Reply) -> None:
        """Answer GET ``path`` with ``replies`` in turn, repeating the last one."""
        self._server.routes[path] = list(replies)

    def start(self) -> "ScriptedServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def http_server():
    """A started ``ScriptedServer``, stopped after the test."""
    server = ScriptedServer().start()
    yield server
    server.stop()


@pytest.fixture
def download_env(tmp_path, monkeypatch):
    """An empty cache in ``tmp_path/cache``, online, no mirror, fast retries (10 ms) and a 0.5 s timeout."""
    from workshop_utils.data import download

    cache = tmp_path / "cache"
    monkeypatch.setenv("WORKSHOP_DATA_DIR", str(cache))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    for name in ("WORKSHOP_OFFLINE", "WORKSHOP_MIRROR", "WORKSHOP_REAL_DATA_ONLY"):
        monkeypatch.delenv(name, raising=False)
    # A proxy configured on the machine must not intercept loopback requests.
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setattr(download, "RETRY_DELAYS", (0.01, 0.01))
    monkeypatch.setattr(download, "TIMEOUT_SECONDS", 0.5)
    return cache


@pytest.fixture
def small_road_signs(monkeypatch) -> int:
    """Make the road-sign structural check expect 5 image/annotation pairs instead of 877 (fast tests)."""
    from workshop_utils.data import manifest

    count = 5
    layout = tuple(dataclasses.replace(rule, count=count) for rule in manifest.ROAD_SIGNS.expected_layout)
    monkeypatch.setitem(manifest.DATASETS, "road-signs", dataclasses.replace(manifest.ROAD_SIGNS, expected_layout=layout))
    return count


@pytest.fixture
def read_only(monkeypatch):
    """``read_only(folder)`` makes ``folder`` and everything below it read-only for this process.

    Tests may run as root, which ignores file modes (chmod), so the OS calls that write are wrapped
    instead: ``os.open`` with a write flag (which ``tempfile`` and ``Path.touch`` use), ``open``/``io.open``
    in a write mode, ``os.mkdir``, ``os.rename``/``os.replace``, ``os.unlink``/``os.remove``, ``os.rmdir``,
    ``os.link`` and ``os.chmod`` on a path inside ``folder`` raise PermissionError(EACCES), as they do
    for a non-root user in a read-only folder. Reading is untouched.
    """
    import builtins
    import errno
    import io
    import os

    roots: list[Path] = []

    def inside(path) -> bool:
        if isinstance(path, int):
            return False
        resolved = Path(os.path.abspath(os.fsdecode(path)))
        return any(resolved == root or root in resolved.parents for root in roots)

    def deny(path):
        raise PermissionError(errno.EACCES, "Permission denied (read-only test folder)", os.fsdecode(path))

    def guard(function, *, paths=1):
        def guarded(*args, **kwargs):
            for path in args[:paths]:
                if inside(path):
                    deny(path)
            return function(*args, **kwargs)
        return guarded

    real_os_open, real_open = os.open, builtins.open
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def os_open(path, flags, *args, **kwargs):
        if flags & write_flags and kwargs.get("dir_fd") is None and inside(path):
            deny(path)
        return real_os_open(path, flags, *args, **kwargs)

    def open_(file, mode="r", *args, **kwargs):
        if any(letter in mode for letter in "wax+") and inside(file):
            deny(file)
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)
    for name, paths in (("mkdir", 1), ("rename", 2), ("replace", 2), ("unlink", 1), ("remove", 1), ("rmdir", 1),
                        ("link", 2), ("chmod", 1)):
        monkeypatch.setattr(os, name, guard(getattr(os, name), paths=paths))

    def make_read_only(folder: Path) -> Path:
        roots.append(Path(os.path.abspath(folder)))
        return folder

    return make_read_only


def files_under(folder: Path) -> list[str]:
    """Every file (hidden ones included) below ``folder``, as sorted relative paths."""
    if not folder.exists():
        return []
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if not path.is_dir())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@functools.lru_cache(maxsize=None)
def road_sign_zip(count: int = 877, *, wrapper: str = "") -> bytes:
    """A zip in the Kaggle road-sign layout (``images/roadN.png``, ``annotations/roadN.xml``), tiny fake files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(count):
            archive.writestr(f"{wrapper}images/road{index}.png", b"\x89PNG fake")
            archive.writestr(f"{wrapper}annotations/road{index}.xml", f"<annotation>{index}</annotation>")
    return buffer.getvalue()


def write_road_sign_tree(folder: Path, count: int = 877) -> None:
    """The extracted road-sign layout with ``count`` fake image/annotation pairs, in ``folder``."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "annotations").mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (folder / "images" / f"road{index}.png").write_bytes(b"\x89PNG fake")
        (folder / "annotations" / f"road{index}.xml").write_text(f"<annotation>{index}</annotation>")
