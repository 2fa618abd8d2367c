"""tools/build_slides.py: every lesson exports as a reveal.js deck that opens offline, figures and equations drawn.

The browser part opens one deck, run in a quick run, from a file in headless Chromium with every network
request refused, steps through all its slides, and keeps screenshots in ``build/slides-screenshots/``.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "build" / "slides-screenshots"


def load_tool():
    spec = importlib.util.spec_from_file_location("build_slides", ROOT / "tools" / "build_slides.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_slides = load_tool()


def test_widgets_become_a_note_progress_bars_and_the_badge_go():
    widget = {"output_type": "display_data", "metadata": {},
              "data": {"application/vnd.jupyter.widget-view+json": {"model_id": "1"}, "text/plain": "VBox(...)"}}
    bar = {"output_type": "display_data", "metadata": {},
           "data": {"application/vnd.jupyter.widget-view+json": {"model_id": "2"}, "text/plain": " 50%|#####"}}
    text = {"output_type": "stream", "name": "stdout", "text": "hello\n"}
    notebook = {"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# 01 · T\n\n[![Open In Colab](https://x/colab-badge.svg)](u)"},
        {"cell_type": "code", "metadata": {}, "source": "w", "outputs": [widget, bar, text], "execution_count": 1}],
        "metadata": {"widgets": {"state": {}}}, "nbformat": 4, "nbformat_minor": 5}
    slides = build_slides.for_slides(notebook)
    assert "colab-badge" not in slides["cells"][0]["source"]
    outputs = slides["cells"][1]["outputs"]
    assert [list(o.get("data", {})) for o in outputs] == [["text/markdown"], []]
    assert build_slides.WIDGET_NOTE in outputs[0]["data"]["text/markdown"]
    assert "widgets" not in slides["metadata"] and notebook["cells"][1]["outputs"][0] is widget  # a copy


def test_a_deck_that_would_load_anything_from_the_internet_is_refused():
    notebook = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "![cat](https://example.org/cat.png)"}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    with pytest.raises(build_slides.SlidesError, match="from the internet"):
        build_slides.export_html(notebook, "cat")


def test_every_lesson_exports_as_a_deck_with_one_slide_per_section(tmp_path):
    """Without running them (seconds): the template, the assets and the build's slide metadata hold for all."""
    assert build_slides.main(["--no-execute", "--out", str(tmp_path)]) == 0
    decks = sorted(tmp_path.glob("*.slides.html"))
    assert [deck.name[:2] for deck in decks] == [p.name[:2] for p in sorted((ROOT / "solutions").glob("[0-9]*.ipynb"))]
    for deck in decks:
        html = deck.read_text(encoding="utf-8")
        assert not build_slides.REMOTE_RESOURCE.search(html)
        assert html.count("<section") >= 5, f"{deck.name}: one slide per section expected"
    assert (tmp_path / "assets" / "reveal" / "dist" / "reveal.js").is_file()
    assert (tmp_path / "assets" / "mathjax" / "MathJax.js").is_file()


def test_an_unknown_lesson_number_is_an_error(capsys):
    assert build_slides.main(["42", "--no-execute"]) == 2
    assert "no lesson numbered 42" in capsys.readouterr().err


def test_a_run_deck_opens_offline_with_figures_and_equations(tmp_path):
    sys.path.insert(0, str(ROOT / "tests"))
    from jupyterlab_browser import launch_chromium, require_browser_tools

    require_browser_tools("the slides' browser test")
    # In a process of its own: the notebook's kernel and its client are then independent of whatever event loops
    # earlier tests of this worker (Playwright's, JupyterLab's) left behind.
    built = subprocess.run([sys.executable, str(ROOT / "tools" / "build_slides.py"), "02", "--out", str(tmp_path)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout + built.stderr
    deck = next(tmp_path.glob("02_*.slides.html"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    remote: list[str] = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1200, "height": 800})

        def only_files(route):
            if route.request.url.startswith("file:"):
                route.continue_()
            else:
                remote.append(route.request.url)
                route.abort()

        page.route("**/*", only_files)
        page.goto(deck.as_uri())
        page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=30_000)
        total = page.evaluate("Reveal.getTotalSlides()")
        assert total >= 5
        seen = 1
        while not page.evaluate("Reveal.isLastSlide()") and seen <= total:
            page.keyboard.press("Space")  # reveal.js' "next": fragments, then slides, down and across
            page.wait_for_timeout(50)
            seen += 1
        page.evaluate("Reveal.slide(0)")
        page.wait_for_function("window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0 && "
                               "document.querySelectorAll('.MathJax').length > 0", timeout=30_000)
        equations = page.evaluate("document.querySelectorAll('.MathJax').length")
        images = page.evaluate("[...document.images].map(image => image.complete && image.naturalWidth > 0)")
        page.screenshot(path=str(SCREENSHOTS / "02-title.png"))
        for index in range(total):  # a screenshot of the first slide that shows a figure
            page.evaluate(f"Reveal.slide({index}, 0, 1000)")  # every fragment of the slide shown
            if page.evaluate("Reveal.getCurrentSlide().querySelector('img') !== null"):
                page.evaluate("(() => { const slide = Reveal.getCurrentSlide();"
                              " slide.scrollTop = slide.querySelector('img').offsetTop - 40; })()")
                page.wait_for_timeout(500)
                page.screenshot(path=str(SCREENSHOTS / "02-figure.png"))
                break
        browser.close()
    assert remote == [], f"the deck asked the network for {remote[:3]}"
    assert seen > 1 and equations > 0
    assert images and all(images), f"{images.count(False)} of {len(images)} figures did not load"
