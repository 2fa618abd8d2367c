"""Every attendee copy in a real browser: JupyterLab 4 in headless Chromium, Run All, then look at the page.

What CI proves about the notebooks, and which test proves it:

- every solution runs to the end in a kernel (nbval, ``solutions/``; with Colab's versions too,
  ``tools/check_colab_versions.py``);
- every attendee copy (``notebooks/``, what an attendee opens) runs to the end in JupyterLab before any
  exercise is done, and what the page shows is right (this file): no error output in any cell; every
  checker reports the unfinished exercise (❌, never ✅); every widget drawn as a widget (not as a text
  repr such as ``VBox(children=...)``, which is what a missing widget extension shows); moving a slider
  redraws the figure it drives; tqdm's progress bars drawn as bars, and at least one in each notebook
  that trains with ``fit`` and its bar on; every figure readable (labels, colours). The attendee copies
  call the same widgets as the solutions (the exercises are plain functions; no widget needs an
  answer), so each widget is tested once, where attendees use it.

Screenshots of every widget and the text of every output go to ``build/browser-screenshots/<notebook>/``.
Smoke mode and offline, like nbval (the root conftest.py). Each notebook is a test of its own, which
the root conftest.py schedules first under ``-n 2 --dist loadfile``. Needs Debian's Chromium and
Playwright's Python package; outside CI it is skipped with what to install when they are missing (and
``test_student_notebooks.py`` runs the attendee copies headless instead), in CI (``CI=true``) it fails.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from jupyterlab_browser import (WIDGET_MANAGER_PLUGIN, WIDGET_OUTPUT, LabServer, close_notebook_and_kernel, copy_notebooks,
                                error_outputs, kernel_execute, launch_chromium, require_browser_tools, move_slider,
                                notebook_outputs, open_notebook, output_image, rendered_widget_report, slider_readout,
                                run_all_cells, widget_output_count, widget_output_states, widget_views)
from unfinished_exercises import checker_problems

REPO_ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO_ROOT / "build" / "browser-screenshots"
ATTENDEE_COPIES = sorted(p.relative_to(REPO_ROOT).as_posix() for p in (REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CELL_TIMEOUT_S = 900  # a whole smoke notebook; 06 is the slowest at about 70 s on two quiet cores
# What JupyterLab prints for a widget it cannot draw (the widget extension missing or broken).
WIDGET_AS_TEXT = re.compile(r"^(VBox|HBox|Box|IntSlider|FloatSlider|FloatLogSlider|Dropdown|Output|Checkbox|"
                            r"ToggleButtons|HTML|FloatProgress|IntProgress)\(", re.MULTILINE)
TQDM_TEXT = re.compile(r"\d+%\|")  # tqdm's own text: "100%|██████████| 3/3 [00:01<00:00, ...]"
FIT_CALL = re.compile(r"(^|[^\w.])fit\(")  # workshop_utils.training.fit, which shows a bar over the epochs...
NO_PROGRESS = re.compile(r"\bprogress\s*=\s*False\b")  # ...unless told not to


def transcript(cells: list[dict]) -> str:
    """The text outputs of every code cell, numbered: banners, reports and messages as the page shows them."""
    parts = []
    for number, cell in enumerate(cells, start=1):
        for output in cell["outputs"]:
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            if output.get("output_type") == "error":
                text = f"{output.get('ename')}: {output.get('evalue')}"
            if text:
                parts.append(f"--- code cell {number} ({output.get('name') or output.get('output_type')})\n{text}")
    return "\n".join(parts) + "\n"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require_browser_tools("the browser test")
    scratch = tmp_path_factory.mktemp("browser")
    root = copy_notebooks(REPO_ROOT, scratch / "workshop")
    # A leaderboard of its own: nbval may run 08 in another worker at the same time. Only for the server's
    # kernels: the unit tests this worker runs next see the environment as it was.
    board_before = os.environ.get("WORKSHOP_LEADERBOARD")
    os.environ["WORKSHOP_LEADERBOARD"] = str(scratch / "leaderboard.sqlite3")
    try:
        with LabServer(root, scratch / "jupyterlab.log") as server:
            yield server
    finally:
        if board_before is None:
            os.environ.pop("WORKSHOP_LEADERBOARD", None)
        else:
            os.environ["WORKSHOP_LEADERBOARD"] = board_before


@pytest.fixture(scope="module")
def page(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(60_000)
        yield page
        browser.close()


def test_jupyterlab_serves_the_workshop_with_the_widget_extension(lab, page):
    status, body = lab.get("lab")
    assert status == 200 and b"JupyterLab" in body
    listed = {item["name"] for item in lab.get_json("api/contents/notebooks")["content"]}
    assert "00_setup.ipynb" in listed, f"notebooks/ as the server lists it: {sorted(listed)}"

    page.goto(lab.url("lab"))
    page.wait_for_function("() => !!window.jupyterapp && window.jupyterapp.hasPlugin !== undefined")
    page.wait_for_function(f"() => window.jupyterapp.hasPlugin({WIDGET_MANAGER_PLUGIN!r})")
    # The page's own configuration names the prebuilt extensions it loaded, with their versions.
    loaded = page.evaluate("() => JSON.parse(document.getElementById('jupyter-config-data').textContent)"
                           ".federated_extensions.map(e => [e.name, e.version || ''])")
    names = {name for name, _ in loaded}
    assert "@jupyter-widgets/jupyterlab-manager" in names, f"extensions the page loaded: {loaded}"
    print("widget extension loaded in the page:", [e for e in loaded if e[0] == "@jupyter-widgets/jupyterlab-manager"])


@pytest.mark.parametrize("path", ATTENDEE_COPIES)
def test_notebook_runs_in_the_browser_with_working_widgets(lab, page, path, tmp_path):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    started = time.monotonic()
    open_notebook(page, lab, path)
    try:
        # Check every figure the notebook draws (cells and widgets alike) for labels and colours.
        kernel_execute(page, "from workshop_utils.plots.readability import start_figure_audit; start_figure_audit()")
        progress = run_all_cells(page, timeout_s=CELL_TIMEOUT_S)
        cells = notebook_outputs(page)
        folder = SCREENSHOTS / Path(path).with_suffix("").as_posix().replace("/", "__")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "outputs.txt").write_text(transcript(cells))  # what the attendee reads, to review by eye
        errors = error_outputs(cells)
        assert not errors, f"{path}: error outputs in the browser:\n" + "\n".join(errors)
        assert progress["done"] == progress["total"], f"{path}: Run All stopped early: {progress}"
        problems = checker_problems(path, cells)
        assert not problems, "\n".join(problems)

        as_text = [m.group(0) for cell in cells for out in cell["outputs"]
                   for m in [WIDGET_AS_TEXT.search(out.get("data", {}).get("text/plain", ""))]
                   if m and "application/vnd.jupyter.widget-view+json" not in out.get("data", {})]
        assert not as_text, f"{path}: widgets printed as text instead of drawn: {as_text}"

        expected_widgets = widget_output_count(cells)
        page.wait_for_timeout(2000)  # widget views draw a moment after the kernel goes idle
        states = widget_output_states(page)
        assert len(states) == expected_widgets
        not_drawn = [item for item in states if item["state"] == "text"]
        assert not not_drawn, f"{path}: widgets shown as text instead of drawn: {not_drawn}"
        report = rendered_widget_report(page)
        assert len(report) == sum(item["state"] == "drawn" for item in states)
        broken = [item["text"] for item in report if "Error displaying widget" in item["text"]
                  or "Loading widget" in item["text"]]
        assert not broken, f"{path}: widgets that failed to draw: {broken}"

        # tqdm in a notebook sends a widget; each one still shown must be drawn as a bar, and none printed as text.
        bars = [item for item in states if TQDM_TEXT.search(item["plain"]) and item["state"] == "drawn"]
        assert all(item["progress_bar"] for item in bars), f"{path}: tqdm widgets without a bar: {bars}"
        text_bars = [out["text"][:120] for cell in cells for out in cell["outputs"]
                     if out.get("output_type") == "stream" and TQDM_TEXT.search(out.get("text", ""))]
        assert not text_bars, f"{path}: progress bars printed as text instead of drawn: {text_bars}"
        if any(FIT_CALL.search(cell["source"]) and not NO_PROGRESS.search(cell["source"]) for cell in cells):
            assert bars, f"{path} trains with fit() and its progress bar, but no progress bar is drawn: {states}"

        views = widget_views(page)
        for index in range(views.count()):
            views.nth(index).screenshot(path=str(folder / f"widget_{index + 1:02d}.png"))

        # Each widget with sliders: dragging one of them (the last first: the earlier ones can be idle,
        # like a width with no hidden layer) must redraw the figure the widget shows.
        for index, item in enumerate(report):
            if not item["sliders"]:
                continue
            widget = views.nth(index)
            before = output_image(widget)
            assert before, f"{path}: widget {index + 1} has a slider but shows no figure"
            tried = []
            for slider in reversed(range(item["sliders"])):
                value_before = slider_readout(widget, slider)
                move_slider(page, widget, slider)
                value_after = slider_readout(widget, slider)
                assert value_after != value_before, f"{path}: widget {index + 1}: dragging did not move slider {slider + 1}"
                tried.append(f"slider {slider + 1}: {value_before} -> {value_after}")
                try:
                    page.wait_for_function(
                        "([selector, index, before]) => { const img = document.querySelectorAll(selector)[index]"
                        ".querySelector('.widget-output img'); return !!img && img.getAttribute('src') !== before; }",
                        arg=[WIDGET_OUTPUT, index, before], timeout=30_000)
                    break
                except PlaywrightTimeout:
                    continue
            else:
                pytest.fail(f"{path}: widget {index + 1}: no slider redrew its figure ({'; '.join(tried)})")
            widget.screenshot(path=str(folder / f"widget_{index + 1:02d}_after_slider.png"))

        report_path = tmp_path / "figures.json"
        kernel_execute(page, "import json; from workshop_utils.plots.readability import figure_audit_report; "
                             f"json.dump(figure_audit_report(), open({str(report_path)!r}, 'w'))")
        figures = json.loads(report_path.read_text())
        shown_images = sum("image/png" in out.get("data", {}) for cell in cells for out in cell["outputs"])
        assert len(figures) >= shown_images, f"{path}: {shown_images} figures shown, only {len(figures)} audited"
        unreadable = [f"{figure['title'] or '(untitled)'}: {problem}" for figure in figures for problem in figure["problems"]]
        assert not unreadable, f"{path}: figures that are hard to read:\n" + "\n".join(unreadable)
    finally:
        close_notebook_and_kernel(page)
    print(f"{path}: ran in the browser in {time.monotonic() - started:.0f} s")
