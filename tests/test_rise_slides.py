"""A lesson presented live with RISE (JupyterLab 4's ``jupyterlab-rise``), the way an instructor does it.

Opens notebook 02 (the reference solution) as a RISE slideshow in headless Chromium, with every request
outside the local JupyterLab refused (a room without internet), then checks:

- one slide per ``##`` section and one sub-slide per ``###`` step, from the build's slideshow metadata;
- equations are typeset (JupyterLab's own MathJax, no CDN) and no script is fetched from the internet;
- every code cell a room sees can be reached and run from the slides, in order, with Ctrl+Enter: tall slides
  (an exercise with its code and the checker's answer) scroll, thanks to the ``rise`` notebook metadata the
  build writes, where RISE's default would cut them off below the screen; no cell fails.

- no widget shows as ipywidgets' raw text (``VBox(children=(HBox(...``): ipywidgets do not draw inside RISE's
  slideshow (jupyterlab-contrib/rise#119: the widget manager does not load there; docs/INSTRUCTORS.md says what
  to do), so our widgets' text form says to open the notebook (``slider_plot.UNDRAWN_WIDGET_TEXT``). A widget
  drawn, once RISE draws them, passes too.
Screenshots and the outputs' text go to ``build/rise-screenshots/``.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from jupyterlab_browser import LabServer, copy_notebooks, launch_chromium, require_browser_tools  # noqa: E402

from workshop_utils.widgets.slider_plot import UNDRAWN_WIDGET_TEXT  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LESSON = "solutions/02_logistic_regression.ipynb"
SCREENSHOTS = ROOT / "build" / "rise-screenshots"
CELL_TIMEOUT_S = 180
# ipywidgets' own text form of a widget, what a front end that cannot draw it shows: "VBox(children=(...".
RAW_WIDGET_TEXT = re.compile(r"\b(VBox|HBox|Box|Output)\(children=")

# Whether code cell ``index`` (in page order) is on the slide shown, with its fragment revealed.
_ON_SCREEN = """index => {
  const cell = document.querySelectorAll('.reveal .jp-CodeCell')[index];
  const slide = cell.closest('section');
  const fragment = cell.closest('.fragment');
  return slide.classList.contains('present') && (!fragment || fragment.classList.contains('visible'));
}"""

# Whether the prompt of code cell ``index`` (where the presenter clicks) is inside the window; a tall slide
# that cannot scroll leaves it below.
_IN_VIEW = """index => {
  const prompt = document.querySelectorAll('.reveal .jp-CodeCell')[index].querySelector('.jp-InputPrompt');
  const box = prompt.getBoundingClientRect();
  return box.top >= 0 && box.top + Math.min(box.height, 20) <= window.innerHeight;
}"""

_STRUCTURE = """() => ({
  slides: document.querySelectorAll('.reveal .slides > section').length,
  stacked: document.querySelectorAll('.reveal .slides > section > section').length,
  equations: document.querySelectorAll('.reveal mjx-container').length,
})"""


def slide_counts(notebook) -> tuple[int, int]:
    """(slides, sub-slides) the build's metadata asks for."""
    kinds = [(cell.metadata.get("slideshow") or {}).get("slide_type") for cell in notebook.cells]
    return kinds.count("slide"), kinds.count("subslide")


def presented_code_cells(notebook) -> list[bool]:
    """For each code cell, whether the room sees it (not skipped: install cell, CI checks, solution-only)."""
    return [(cell.metadata.get("slideshow") or {}).get("slide_type") != "skip"
            for cell in notebook.cells if cell.cell_type == "code"]


def wait_for_prompt_number(cell, timeout_s: float) -> str:
    """The cell's prompt once its run has finished: ``[n]:``."""
    deadline = time.monotonic() + timeout_s
    prompt = ""
    while time.monotonic() < deadline:
        prompt = cell.locator(".jp-InputPrompt").inner_text().strip()
        if prompt.strip("[]: ").isdigit():
            return prompt
        time.sleep(0.25)
    raise TimeoutError(f"the cell did not finish in {timeout_s:.0f} s (prompt {prompt!r})")


def test_a_lesson_presents_and_runs_from_rise_slides_offline(tmp_path):
    require_browser_tools("the RISE slideshow test")
    from playwright.sync_api import sync_playwright

    notebook = nbformat.read(ROOT / LESSON, as_version=4)
    assert notebook.metadata.get("rise", {}).get("scroll") is True, "tools/build_notebooks.py writes it"
    presented = presented_code_cells(notebook)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    root = copy_notebooks(ROOT, tmp_path / "root")
    remote: list[tuple[str, str]] = []
    with LabServer(root, tmp_path / "jupyterlab.log") as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 800})

        def local_only(route):
            if route.request.url.startswith(server.base_url):
                route.continue_()
            else:
                remote.append((route.request.resource_type, route.request.url))
                route.abort()

        page.route("**/*", local_only)
        page.goto(server.url(f"rise/{LESSON}"))
        page.wait_for_selector(".reveal .slides section", timeout=120_000)
        page.wait_for_function("() => document.querySelectorAll('.reveal mjx-container').length > 0",
                               timeout=60_000)
        structure = page.evaluate(_STRUCTURE)
        page.screenshot(path=str(SCREENSHOTS / "02-title.png"))

        cells = page.locator(".reveal .jp-CodeCell")
        assert cells.count() == len(presented), "the slideshow shows another notebook than the file"
        prompts, presses = {}, 0
        for index, shown in enumerate(presented):
            if not shown:
                continue
            while not page.evaluate(_ON_SCREEN, index):
                assert presses < 40 * len(presented), f"code cell {index + 1} never came on screen"
                page.keyboard.press("Escape")  # out of the editor, so that Space goes to the slideshow
                page.keyboard.press("Space")  # reveal.js' "next": fragments, then slides, down and across
                presses += 1
            cell = cells.nth(index)
            cell.scroll_into_view_if_needed(timeout=10_000)
            assert page.evaluate(_IN_VIEW, index), (
                f"code cell {index + 1} stays below the screen: its slide does not scroll (RISE's 'scroll' setting)")
            cell.locator(".jp-InputPrompt").click()
            page.keyboard.press("Control+Enter")  # run in place (Shift+Enter would also move on)
            prompts[index] = wait_for_prompt_number(cell, CELL_TIMEOUT_S)
        page.screenshot(path=str(SCREENSHOTS / "02-last-cell.png"))
        outputs = [cells.nth(index).locator(".jp-OutputArea").inner_text() for index in prompts]
        widgets_drawn = page.locator(".reveal .jp-OutputArea-output .jupyter-widgets").count()
        browser.close()

    (SCREENSHOTS / "02-outputs.txt").write_text(
        "\n\n".join(f"--- code cell {index + 1} {prompts[index]}\n{text}" for index, text in zip(prompts, outputs)),
        encoding="utf-8")
    slides, subslides = slide_counts(notebook)
    assert structure["slides"] == slides and structure["stacked"] == slides + subslides, json.dumps(structure)
    assert structure["equations"] > 0
    assert len(prompts) == sum(presented) and len(set(prompts.values())) == len(prompts)
    failures = [f"code cell {index + 1}: {text[:300]}" for index, text in zip(prompts, outputs)
                if "Traceback (most recent call last)" in text]  # IPython's header of every error
    assert not failures, "\n".join(failures)
    raw_widgets = [f"code cell {index + 1}: {text[:120]}" for index, text in zip(prompts, outputs)
                   if RAW_WIDGET_TEXT.search(text)]
    assert not raw_widgets, "widgets shown as ipywidgets' raw text:\n" + "\n".join(raw_widgets)
    assert any(UNDRAWN_WIDGET_TEXT in text for text in outputs) or widgets_drawn, "02's explorer shows nothing"
    scripts = [url for kind, url in remote if kind not in ("image", "font", "stylesheet")]
    assert not scripts, f"the slideshow asked the internet for {scripts[:3]}"
