"""An attendee's side of the room server: send checker results, fetch the held-out images, submit.

Opt-in: nothing is sent unless ``WORKSHOP_ROOM`` is set (to the address on the instructor's screen,
``http://HOST:PORT/CODE``) and ``WORKSHOP_NAME`` names the attendee. What is sent is the exercise number,
passed or not, and the name; never code, data or outputs. A room that cannot be reached never stops a
notebook: the checker's result is shown as always, and one line says the room did not get it.
"""

from __future__ import annotations

import io
import json
import os
import re
import threading
import urllib.error
import urllib.request
from typing import Any

REQUEST_TIMEOUT_S = 3.0
EXERCISE_NUMBER = re.compile(r"\b(\d\d\.\d{1,2})\b")

_warned_unreachable = False
_test_images_cache: dict[str, dict] = {}


class RoomError(RuntimeError):
    """The room server refused a request or could not be reached; the message says why and what to do."""


def room_url() -> str | None:
    """The room's address from ``WORKSHOP_ROOM`` without a trailing slash, or None when not in a room."""
    url = os.environ.get("WORKSHOP_ROOM", "").strip().rstrip("/")
    return url or None


def attendee_name() -> str | None:
    """The attendee's name from ``WORKSHOP_NAME``, or None."""
    name = os.environ.get("WORKSHOP_NAME", "").strip()
    return name or None


def _request(url: str, payload: dict | None = None, timeout: float = REQUEST_TIMEOUT_S) -> bytes:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST",
                                     headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (the instructor's URL)
            return response.read()
    except urllib.error.HTTPError as error:
        try:
            reason = json.loads(error.read().decode()).get("error", error.reason)
        except (ValueError, AttributeError):
            reason = error.reason
        raise RoomError(f"the room server said {error.code}: {reason}") from None
    except (urllib.error.URLError, OSError) as error:
        raise RoomError(f"cannot reach the room server at {url} ({getattr(error, 'reason', error)}): check "
                        "WORKSHOP_ROOM against the instructor's screen, and that you are on the room's network "
                        "(Colab cannot reach a room's local network: use the W&B room board there)") from None


def exercise_number(label: str) -> str | None:
    """``03.5`` from a checker's label such as ``Exercise 03.5 (cross-entropy)``."""
    match = EXERCISE_NUMBER.search(label or "")
    return match.group(1) if match else None


def send_progress(exercise: str, passed: bool) -> None:
    """Send one checker result to the room (waits for the answer; raises :class:`RoomError`)."""
    url, name = room_url(), attendee_name()
    if url is None or name is None:
        raise RoomError("set WORKSHOP_ROOM (the address on the instructor's screen) and WORKSHOP_NAME (your name)")
    _request(f"{url}/api/progress", {"name": name, "exercise": exercise, "passed": bool(passed)})


def report_checker_result(label: str, passed: bool) -> threading.Thread | None:
    """Called by every checker: in a room, send the result in the background; elsewhere, do nothing.

    Returns the sending thread (tests join it), or None when nothing is sent.
    """
    number = exercise_number(label)
    if room_url() is None or attendee_name() is None or number is None:
        return None

    def send() -> None:
        global _warned_unreachable
        try:
            send_progress(number, passed)
        except RoomError as error:
            if not _warned_unreachable:  # once per kernel: the checker's own result is what matters
                _warned_unreachable = True
                print(f"(room: this result was not sent: {error})")

    thread = threading.Thread(target=send, name="workshop-room-progress", daemon=True)
    thread.start()
    return thread


def fetch_test_images(url: str | None = None) -> dict:
    """The room's held-out images and class names (``{"images": tensor, "classes": [...]}``), fetched once."""
    import torch

    url = url or room_url()
    if url is None:
        raise RoomError("set WORKSHOP_ROOM to the address on the instructor's screen first")
    if url not in _test_images_cache:
        payload = _request(f"{url}/api/test-images", timeout=60)
        _test_images_cache[url] = torch.load(io.BytesIO(payload), weights_only=True)
    return _test_images_cache[url]


def submit_to_room(model_or_predictions: Any, name: str | None = None) -> dict:
    """Score a model (or its predictions for the room's held-out images) on the room server.

    The server holds the labels; what comes back is the score, the best score so far, the rank and how
    many submissions are left. Prints one line and returns the server's answer as a dict.
    """
    from ..leaderboard import predict_classes

    name = name or attendee_name()
    if not name:
        raise RoomError("name yourself: submit_to_room(model, name='carol') or set WORKSHOP_NAME")
    held_out = fetch_test_images()
    submission = model_or_predictions
    if hasattr(submission, "parameters") and callable(submission):
        submission = predict_classes(submission, held_out["images"].clone())
    if hasattr(submission, "tolist"):
        submission = submission.tolist()
    answer = json.loads(_request(f"{room_url()}/api/submit", {"name": name, "predictions": submission}, timeout=30))
    print(f"Room board: {answer['name']} scored macro-F1 {answer['macro_f1']:.3f} (best {answer['best_f1']:.3f}, "
          f"rank {answer['rank']}); {answer['used']} of {answer['limit']} submissions used.")
    return answer
