"""The room server: the data mirror, live progress and fair competition scoring for a laptop room.

Every URL starts with the room code (``http://HOST:PORT/CODE/...``), so ``WORKSHOP_MIRROR`` and
``WORKSHOP_ROOM`` are that one prefix and nothing else needs to know about codes:

===============================  ======================================================================
``GET  /CODE/``                  a page linking the progress grid and the board
``GET  /CODE/progress``          the room as a grid, attendee x exercise, updated live
``GET  /CODE/board``             the competition's ranking, updated live
``GET  /CODE/api/progress``      the grid as JSON
``GET  /CODE/api/board``         the ranking as JSON
``POST /CODE/api/progress``      ``{"name", "exercise", "passed"}``: one checker result
``GET  /CODE/api/test-images``   the held-out images (no labels), as a ``torch.save`` file
``POST /CODE/api/submit``        ``{"name", "predictions"}``: scored here; the labels never leave
``GET  /CODE/<data set>/<file>`` the data mirror (``python data_download.py serve``'s files)
===============================  ======================================================================

A wrong or missing code gets 403, a body over the size limit 413, bad JSON or fields 400, too many requests
from one address 429: always with a JSON ``{"error": ...}`` that says what to do.
"""

from __future__ import annotations

import collections
import http.server
import io
import json
import shutil
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np

from ..names import InvalidName
from .pages import BOARD_PAGE, INDEX_PAGE, PROGRESS_PAGE
from .store import InvalidExercise, RoomStore, SubmissionLimitReached

MAX_PROGRESS_BYTES = 4 * 1024
MAX_SUBMISSION_BYTES = 1024 * 1024
# An oversized body up to this size is read and dropped before the 413, so that the sender sees the answer
# instead of a broken connection; a larger one is not read at all.
MAX_DRAINED_BYTES = 16 * 1024 * 1024


class HeldOutSplit(Protocol):
    """What the server scores against: :class:`workshop_utils.leaderboard.HeldOut` is one.

    ``images`` (N x C x H x W) and ``classes`` are handed out; the labels stay inside, behind ``score``.
    """

    images: Any
    classes: Sequence[str]

    def __len__(self) -> int: ...

    def score(self, predicted: np.ndarray) -> tuple[float, float]: ...


def images_payload(held_out: HeldOutSplit) -> bytes:
    """The held-out images and class names as a ``torch.save`` file (loaded with ``weights_only=True``)."""
    import torch

    buffer = io.BytesIO()
    torch.save({"images": held_out.images, "classes": list(held_out.classes)}, buffer)
    return buffer.getvalue()


class RateLimiter:
    """At most ``requests`` per ``seconds`` from one address (a sliding window)."""

    def __init__(self, requests: int, seconds: float):
        self.requests, self.seconds = requests, seconds
        self._seen: dict[str, collections.deque] = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()

    def allow(self, address: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._seen[address]
            while times and now - times[0] >= self.seconds:
                times.popleft()
            if len(times) >= self.requests:
                return False
            times.append(now)
            return True


class RoomServer(http.server.ThreadingHTTPServer):
    """An HTTP server for one room; ``serve_forever()`` runs it (see ``workshop_utils.room.cli``)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], store: RoomStore, *, code: str,
                 held_out: HeldOutSplit | None = None, mirror_routes: dict[str, Path] | None = None,
                 submission_limit: int = 10, rate: tuple[int, float] = (60, 10.0), quiet: bool = True):
        self.store, self.code, self.held_out = store, code, held_out
        self.test_images = images_payload(held_out) if held_out is not None else None
        self.mirror_routes = mirror_routes or {}
        self.submission_limit = submission_limit
        self.limiter = RateLimiter(*rate)
        self.quiet = quiet
        super().__init__(address, _RoomHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/{self.code}"


class _RequestError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class _RoomHandler(http.server.BaseHTTPRequestHandler):
    server: RoomServer
    server_version = "workshop-room/0.1"

    # -- plumbing --------------------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._handle("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._handle("HEAD")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def _handle(self, method: str) -> None:
        try:
            if not self.server.limiter.allow(self.client_address[0]):
                raise _RequestError(429, "too many requests from this computer: wait a few seconds and try again")
            route = self._route_after_code()
            self._dispatch(method, route)
        except _RequestError as error:
            self._send_json({"error": error.message}, error.status)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _route_after_code(self) -> str:
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        parts = path.split("/", 2)  # "", code, rest
        if len(parts) < 2 or parts[1] != self.server.code:
            raise _RequestError(403, "wrong or missing room code: use the address on the instructor's screen, "
                                     "http://HOST:PORT/CODE/")
        return "/" + (parts[2] if len(parts) > 2 else "")

    def _dispatch(self, method: str, route: str) -> None:
        pages = {"/": INDEX_PAGE, "/progress": PROGRESS_PAGE, "/board": BOARD_PAGE}
        if method in {"GET", "HEAD"}:
            if route in pages:
                return self._send_bytes(pages[route].encode(), "text/html; charset=utf-8", method == "HEAD")
            if route == "/api/progress":
                return self._send_json(self.server.store.progress())
            if route == "/api/board":
                return self._send_json({"board": self.server.store.board(), "limit": self.server.submission_limit})
            if route == "/api/test-images":
                return self._send_test_images(method == "HEAD")
            if route in self.server.mirror_routes:
                return self._send_file(self.server.mirror_routes[route], method == "HEAD")
            raise _RequestError(404, f"nothing at {route} in this room")
        if route == "/api/progress":
            return self._receive_progress()
        if route == "/api/submit":
            return self._receive_submission()
        raise _RequestError(404 if route not in pages else 405, f"cannot POST to {route}")

    def _discard(self, length: int) -> None:
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 16))
            if not chunk:
                break
            length -= len(chunk)

    def _read_json(self, limit: int) -> dict:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise _RequestError(411, "send a JSON body with a Content-Length") from None
        if length < 0 or length > limit:
            if 0 < length <= MAX_DRAINED_BYTES:  # read it anyway, so the client gets the answer, not a reset
                self._discard(length)
            else:
                self.close_connection = True
            raise _RequestError(413, f"the request is {length:,} bytes; this room takes at most {limit:,}")
        body = self.rfile.read(length)
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise _RequestError(400, f"the body is not JSON ({error})") from None
        if not isinstance(data, dict):
            raise _RequestError(400, "the body must be a JSON object")
        return data

    # -- the room's actions ----------------------------------------------------------------------------

    def _receive_progress(self) -> None:
        data = self._read_json(MAX_PROGRESS_BYTES)
        passed = data.get("passed")
        if not isinstance(passed, bool):
            raise _RequestError(400, "'passed' must be true or false")
        try:
            self.server.store.record_progress(data.get("name"), data.get("exercise"), passed)
        except (InvalidName, InvalidExercise) as error:
            raise _RequestError(400, str(error)) from None
        self._send_json({"recorded": True})

    def _receive_submission(self) -> None:
        held_out = self.server.held_out
        if held_out is None:
            raise _RequestError(404, "this room runs no competition (start the server with --competition)")
        data = self._read_json(MAX_SUBMISSION_BYTES)
        from ..leaderboard import SubmissionError, as_class_indices

        name = data.get("name")
        try:
            used = self.server.store.submissions_used(name)
            if used >= self.server.submission_limit:
                raise SubmissionLimitReached(f"you have used all {self.server.submission_limit} submissions")
            predicted = as_class_indices(data.get("predictions"), held_out.classes, len(held_out))
        except (InvalidName, SubmissionError, SubmissionLimitReached) as error:
            raise _RequestError(400 if not isinstance(error, SubmissionLimitReached) else 429, str(error)) from None
        f1, accuracy = held_out.score(predicted)
        try:
            result = self.server.store.record_submission(name, f1, accuracy, limit=self.server.submission_limit)
        except SubmissionLimitReached as error:  # another request of the same attendee got there first
            raise _RequestError(429, str(error)) from None
        self._send_json({"name": result.name, "macro_f1": result.macro_f1, "accuracy": result.accuracy,
                         "best_f1": result.best_f1, "rank": result.rank, "used": result.used,
                         "limit": result.limit})

    # -- responses -------------------------------------------------------------------------------------

    def _send_test_images(self, head_only: bool) -> None:
        if self.server.held_out is None:
            raise _RequestError(404, "this room runs no competition (start the server with --competition)")
        self._send_bytes(self.server.test_images, "application/octet-stream", head_only)

    def _send_file(self, path: Path, head_only: bool) -> None:
        if not path.is_file():
            raise _RequestError(404, "not in this room's data cache")
        with open(path, "rb") as stream:
            size = path.stat().st_size
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if not head_only:
                shutil.copyfileobj(stream, self.wfile, length=1 << 20)

    def _send_bytes(self, body: bytes, content_type: str, head_only: bool = False, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def _send_json(self, data: object, status: int = 200) -> None:
        self._send_bytes(json.dumps(data).encode(), "application/json", self.command == "HEAD", status)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
        if not self.server.quiet:
            super().log_message(format, *args)
