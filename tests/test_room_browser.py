"""The room's pages in headless Chromium: the progress grid and the board update live, names stay text.

Screenshots go to ``build/room-screenshots/``. Skipped outside CI when Chromium or Playwright is missing
(with what to install); in CI (``CI=true``) that is a failure.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

from jupyterlab_browser import launch_chromium, require_browser_tools
from workshop_utils.leaderboard import HeldOut
from workshop_utils.room.server import RoomServer
from workshop_utils.room.store import RoomStore

SCREENSHOTS = Path(__file__).resolve().parents[1] / "build" / "room-screenshots"
LABELS = np.array([0, 1, 2, 3] * 5)


def post(url: str, payload: dict) -> None:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


@pytest.fixture
def room(tmp_path):
    require_browser_tools("the room's browser test")
    store = RoomStore(tmp_path / "room.sqlite3")
    held_out = HeldOut("browser room", LABELS, ["crosswalk", "speedlimit", "stop", "trafficlight"],
                       images=torch.rand(len(LABELS), 3, 8, 8))
    server = RoomServer(("127.0.0.1", 0), store, code=store.room_code(), held_out=held_out)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.url
    server.shutdown()
    server.server_close()
    store.close()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1000, "height": 600})
        page.set_default_timeout(15_000)
        yield page
        browser.close()


def test_the_progress_grid_updates_live_and_shows_names_as_text(room, page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{room}/progress")
    page.wait_for_selector("text=no attendees yet")
    post(f"{room}/api/progress", {"name": "ann", "exercise": "03.1", "passed": True})
    post(f"{room}/api/progress", {"name": "<b>bob</b>", "exercise": "03.1", "passed": False})
    post(f"{room}/api/progress", {"name": "<B>bob</b>\u200b", "exercise": "03.1", "passed": False})  # the same
    post(f"{room}/api/progress", {"name": "ann", "exercise": "03.2", "passed": True})
    page.wait_for_selector("text=2 attendees")  # the page polls: no reload
    rows = page.locator("#grid tbody tr").all_inner_texts()
    assert [row.split("\t")[0] for row in rows] == ["ann", "<b>bob</b>"]
    assert page.locator("#grid tbody b").count() == 0  # the name was not parsed as HTML
    assert page.locator("td.passed").count() == 2 and page.locator("td.tried").count() == 1
    assert page.locator("#grid tfoot tr").inner_text().split("\t")[1:] == ["1", "1"]
    page.screenshot(path=str(SCREENSHOTS / "progress-grid.png"))


def test_the_board_ranks_submissions_live(room, page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{room}/board")
    page.wait_for_selector("text=no entries yet")
    post(f"{room}/api/submit", {"name": "ann", "predictions": [0] * len(LABELS)})
    post(f"{room}/api/submit", {"name": "carol", "predictions": LABELS.tolist()})
    page.wait_for_selector("text=2 entries")
    first = page.locator("#board tbody tr").first.inner_text().split("\t")
    assert first[:3] == ["1", "carol", "1.000"]
    page.screenshot(path=str(SCREENSHOTS / "board.png"))
