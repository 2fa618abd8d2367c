"""The room server on loopback: live progress, fair scoring, limits, restarts and bad requests."""

from __future__ import annotations

import io
import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from workshop_utils.leaderboard import HeldOut
from workshop_utils.room import client
from workshop_utils.names import InvalidName, display_name, name_key
from workshop_utils.room.server import RoomServer
from workshop_utils.room.store import RoomStore, RoomStoreError

CLASSES = ["crosswalk", "speedlimit", "stop", "trafficlight"]
LABELS = np.array([0, 1, 2, 3] * 10)  # 40 held-out images


def held_out() -> HeldOut:
    images = torch.rand(len(LABELS), 3, 8, 8)
    return HeldOut("test room", LABELS, CLASSES, images=images)


@pytest.fixture
def room(tmp_path):
    """A running room server on a free loopback port; yields (server, base URL)."""
    store = RoomStore(tmp_path / "room.sqlite3")
    server = RoomServer(("127.0.0.1", 0), store, code=store.room_code(), held_out=held_out(),
                        submission_limit=3, rate=(10_000, 10.0))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, server.url
    server.shutdown()
    server.server_close()
    store.close()


def request(url: str, payload=None, *, body: bytes | None = None, method: str | None = None):
    """(status, decoded JSON or raw bytes) of one request; HTTP errors are returned, not raised."""
    data = body if body is not None else (None if payload is None else json.dumps(payload).encode())
    req = urllib.request.Request(url, data=data, method=method or ("POST" if data is not None else "GET"),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            raw, status, kind = response.read(), response.status, response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        raw, status, kind = error.read(), error.code, error.headers.get("Content-Type", "")
    return status, (json.loads(raw) if "json" in kind else raw)


# --- names ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("first", "second"), [
    ("carol", "carol\u200b"), ("carol", " Carol "), ("émile", "ÉMILE"), ("e\u0301mile", "émile"),
    ("ｃａｒｏｌ", "carol"), ("ann  lee", "ann lee")])
def test_names_that_look_the_same_are_one_attendee(first, second):
    assert name_key(first) == name_key(second)


@pytest.mark.parametrize("name", ["", "   ", "\u200b\u200d", None, 42, "x" * 61])
def test_unusable_names_are_refused_with_a_reason(name):
    with pytest.raises(InvalidName):
        display_name(name)


# --- the store --------------------------------------------------------------------------------------

def test_a_pass_stays_a_pass_and_attempts_are_counted(tmp_path):
    store = RoomStore(tmp_path / "r.sqlite3")
    store.record_progress("ann", "03.1", False)
    store.record_progress("ann", "03.1", True)
    store.record_progress("ann", "03.1", False)
    assert store.progress()["cells"]["ann"]["03.1"] == {"passed": True, "attempts": 3}


def test_exercises_are_ordered_by_number_not_as_text(tmp_path):
    store = RoomStore(tmp_path / "r.sqlite3")
    for exercise in ["03.10", "03.2", "01.1"]:
        store.record_progress("ann", exercise, True)
    assert store.progress()["exercises"] == ["01.1", "03.2", "03.10"]


def test_a_restart_keeps_the_code_the_progress_and_the_board(tmp_path):
    store = RoomStore(tmp_path / "r.sqlite3")
    code = store.room_code()
    store.record_progress("ann", "03.1", True)
    store.record_submission("ann", 0.5, 0.6, limit=3)
    store.close()
    again = RoomStore(tmp_path / "r.sqlite3")
    assert again.room_code() == code and again.room_code(renew=True) != code
    assert again.progress()["passes"] == {"03.1": 1}
    assert again.board()[0]["name"] == "ann"


@pytest.mark.parametrize("content", [b"not a database at all, just text\n" * 10, b"SQLite format 3\x00" + b"\x07" * 90])
def test_a_file_that_is_not_a_room_file_is_refused_with_the_path_and_a_fix(tmp_path, content):
    broken = tmp_path / "room.sqlite3"
    broken.write_bytes(content)
    with pytest.raises(RoomStoreError, match=r"room\.sqlite3.*another --db"):
        RoomStore(broken)
    assert broken.read_bytes() == content  # left as it was


# --- the server -------------------------------------------------------------------------------------

def test_twenty_attendees_at_once_lose_nothing(room):
    server, url = room
    exercises = ["03.1", "03.2", "04.1", "05.3"]

    def attendee(k: int) -> list[int]:
        statuses = []
        for index, exercise in enumerate(exercises):
            passed = (k + index) % 3 != 0
            statuses.append(request(f"{url}/api/progress", {"name": f"attendee {k}", "exercise": exercise,
                                                            "passed": passed})[0])
        predictions = [(label + (k % 2)) % 4 for label in LABELS.tolist()]  # even k: all right
        statuses.append(request(f"{url}/api/submit", {"name": f"attendee {k}", "predictions": predictions})[0])
        return statuses

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = [s for result in pool.map(attendee, range(20)) for s in result]
    assert statuses == [200] * 100
    status, grid = request(f"{url}/api/progress")
    assert status == 200 and len(grid["attendees"]) == 20 and grid["exercises"] == exercises
    expected = {e: sum((k + i) % 3 != 0 for k in range(20)) for i, e in enumerate(exercises)}
    assert grid["passes"] == expected
    status, board = request(f"{url}/api/board")
    assert len(board["board"]) == 20
    assert [row["macro_f1"] for row in board["board"][:10]] == [1.0] * 10
    assert all(row["macro_f1"] == 0.0 for row in board["board"][10:])


def test_the_labels_never_leave_the_server(room):
    _, url = room
    status, payload = request(f"{url}/api/test-images")
    assert status == 200
    data = torch.load(io.BytesIO(payload), weights_only=True)
    assert set(data) == {"images", "classes"} and data["images"].shape == (40, 3, 8, 8)
    assert "labels" not in request(f"{url}/api/board")[1]


def test_submissions_are_limited_per_attendee_and_the_count_is_shown(room):
    _, url = room
    answers = [request(f"{url}/api/submit", {"name": "bob", "predictions": [0] * 40}) for _ in range(3)]
    assert [a[1]["used"] for a in answers] == [1, 2, 3] and answers[0][1]["limit"] == 3
    status, answer = request(f"{url}/api/submit", {"name": "BOB\u200b", "predictions": [0] * 40})
    assert status == 429 and "all 3 submissions" in answer["error"]


def test_the_best_submission_ranks(room):
    _, url = room
    request(f"{url}/api/submit", {"name": "ann", "predictions": LABELS.tolist()})
    _, answer = request(f"{url}/api/submit", {"name": "ann", "predictions": [0] * 40})
    assert answer["best_f1"] == 1.0 and answer["macro_f1"] < 1.0 and answer["rank"] == 1


@pytest.mark.parametrize(("path", "status"), [("/WRONG1/api/progress", 403), ("/", 403), ("/api/board", 403)])
def test_a_wrong_or_missing_room_code_is_refused(room, path, status):
    server, url = room
    base = url.rsplit("/", 1)[0]
    got, answer = request(base + path)
    assert got == status and "room code" in answer["error"]


@pytest.mark.parametrize(("route", "body", "status", "words"), [
    ("/api/progress", b"{not json", 400, "not JSON"),
    ("/api/progress", b"[1, 2]", 400, "JSON object"),
    ("/api/progress", json.dumps({"name": "ann", "exercise": "03.1", "passed": "yes"}).encode(), 400, "true or false"),
    ("/api/progress", json.dumps({"name": "ann", "exercise": "drop table", "passed": True}).encode(), 400, "03.5"),
    ("/api/progress", json.dumps({"name": "\u200b", "exercise": "03.1", "passed": True}).encode(), 400, "empty"),
    ("/api/progress", b"x" * 5000, 413, "at most"),
    ("/api/submit", json.dumps({"name": "ann", "predictions": [0] * 39}).encode(), 400, "40"),
    ("/api/submit", b"[" + b"0," * 600_000 + b"0]", 413, "at most"),
    ("/api/nothing", b"{}", 404, "cannot POST"),
])
def test_malformed_or_oversized_requests_get_a_clear_status(room, route, body, status, words):
    _, url = room
    got, answer = request(url + route, body=body)
    assert got == status and words in answer["error"]


def test_too_many_requests_from_one_address_are_slowed_down(tmp_path):
    store = RoomStore(tmp_path / "r.sqlite3")
    server = RoomServer(("127.0.0.1", 0), store, code="ABC234", rate=(5, 60.0))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        statuses = [request(f"{server.url}/api/progress")[0] for _ in range(7)]
    finally:
        server.shutdown()
        server.server_close()
    assert statuses == [200] * 5 + [429] * 2


def test_the_pages_are_served_and_fetch_nothing_from_the_internet(room):
    _, url = room
    for page in ["/", "/progress", "/board"]:
        status, html = request(url + page)
        assert status == 200 and b"<html" in html and b"http" not in html.replace(b"http-equiv", b"")
        assert b"innerHTML" not in html  # names are drawn as text, never parsed as HTML


def test_a_room_without_a_competition_says_so(tmp_path):
    store = RoomStore(tmp_path / "r.sqlite3")
    server = RoomServer(("127.0.0.1", 0), store, code="ABC234")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        status, answer = request(f"{server.url}/api/submit", {"name": "a", "predictions": [0]})
    finally:
        server.shutdown()
        server.server_close()
    assert status == 404 and "--competition" in answer["error"]


# --- the attendee's side ----------------------------------------------------------------------------

def test_checker_results_reach_the_room_when_the_attendee_opts_in(room, monkeypatch):
    server, url = room
    monkeypatch.setenv("WORKSHOP_ROOM", url + "/")
    monkeypatch.setenv("WORKSHOP_NAME", "dana")
    client.report_checker_result("Exercise 03.5 (cross-entropy)", True).join(5)
    assert server.store.progress()["cells"]["dana"] == {"03.5": {"passed": True, "attempts": 1}}


def test_nothing_is_sent_outside_a_room(monkeypatch):
    monkeypatch.delenv("WORKSHOP_ROOM", raising=False)
    assert client.report_checker_result("Exercise 03.5 (x)", True) is None


def test_an_unreachable_room_never_stops_the_notebook(monkeypatch, capsys):
    monkeypatch.setenv("WORKSHOP_ROOM", "http://127.0.0.1:9/NOPE42")  # the discard port: nothing listens
    monkeypatch.setenv("WORKSHOP_NAME", "dana")
    monkeypatch.setattr(client, "_warned_unreachable", False)
    client.report_checker_result("Exercise 03.5 (x)", False).join(10)
    client.report_checker_result("Exercise 03.6 (x)", False).join(10)
    printed = capsys.readouterr().out
    assert printed.count("room: this result was not sent") == 1 and "WORKSHOP_ROOM" in printed


def test_submit_to_room_scores_a_model_on_the_server(room, monkeypatch, capsys):
    server, url = room
    monkeypatch.setenv("WORKSHOP_ROOM", url)
    monkeypatch.setattr(client, "_test_images_cache", {})

    class Always(torch.nn.Module):
        def forward(self, x):
            out = torch.zeros(len(x), 4)
            out[:, 2] = 1
            return out

    answer = client.submit_to_room(Always(), name="erin")
    assert answer["used"] == 1 and 0 < answer["accuracy"] < 0.3
    assert "erin scored macro-F1" in capsys.readouterr().out


def test_every_checker_reports_to_the_room(room, monkeypatch):
    from workshop_utils.checkers.core import checker, failed

    server, url = room
    monkeypatch.setenv("WORKSHOP_ROOM", url)
    monkeypatch.setenv("WORKSHOP_NAME", "fay")
    sent = []
    original = client.report_checker_result
    monkeypatch.setattr("workshop_utils.checkers.core.report_checker_result",
                        lambda label, passed: sent.append(original(label, passed)))

    @checker("Exercise 04.2 (output size)")
    def check_demo():
        return failed("Exercise 04.2 (output size)", "not yet")

    check_demo()
    sent[0].join(5)
    assert server.store.progress()["cells"]["fay"] == {"04.2": {"passed": False, "attempts": 1}}
