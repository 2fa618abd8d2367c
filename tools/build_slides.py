#!/usr/bin/env python
"""Export each lesson as a reveal.js slide deck that opens offline.

    python tools/build_slides.py                 # run every solution, then write build/slides/*.slides.html
    python tools/build_slides.py 03 04           # only these lessons
    python tools/build_slides.py --no-execute    # decks without outputs (seconds; no figures)

The slides come from the same single source as the notebooks: ``tools/build_notebooks.py`` sets each
cell's slideshow metadata from the lesson's structure (``workshop_utils.authoring.slide_type``), and RISE
presents the same notebook live in JupyterLab. A deck here is the solution notebook run once (quick run
when ``WORKSHOP_SMOKE=1``), its widgets replaced by a note (they need a kernel), exported with nbconvert's
reveal template. reveal.js (from the sphinx-revealjs package) and MathJax (from jupyter-server-mathjax)
are copied into ``assets/`` beside the decks: opening a deck fetches nothing from the internet, so a
room with no network can still be taught from it. Copy the whole output folder to move the decks.

Exit status: 0 all written, 1 a notebook failed to run or export (the others are still written).
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tools"))

from time_notebooks import notebook_client  # noqa: E402
from workshop_utils.authoring import read_notebook, solution_paths, write_text_atomically  # noqa: E402
from workshop_utils.widgets.slider_plot import UNDRAWN_WIDGET_TEXT as WIDGET_NOTE  # noqa: E402

TEMPLATE_DIR = Path(__file__).resolve().parent / "slides_template"
TEMPLATE_NAME = "workshop-reveal"
DEFAULT_OUT = REPO_ROOT / "build" / "slides"
ASSETS = "assets"
REVEAL_PREFIX = f"{ASSETS}/reveal"
MATHJAX_URL = f"{ASSETS}/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# What an offline deck may not load: a script, style sheet or image from another host.
REMOTE_RESOURCE = re.compile(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*["'](?:https?:)?//""", re.I)


class SlidesError(RuntimeError):
    """A deck could not be built; the message says which and why."""


def reveal_assets_dir() -> Path:
    """reveal.js' ``dist/`` and ``plugin/`` as shipped inside the sphinx-revealjs package."""
    try:
        import sphinx_revealjs
    except ImportError:
        raise SlidesError("reveal.js comes from the sphinx-revealjs package: `pip install -r requirements.txt`") from None
    folder = Path(sphinx_revealjs.__file__).parent / "_static" / "revealjs"
    if not (folder / "dist" / "reveal.js").is_file():
        raise SlidesError(f"no reveal.js in {folder}: reinstall sphinx-revealjs")
    return folder


def mathjax_assets_dir() -> Path:
    """MathJax 2 as shipped inside the jupyter-server-mathjax package."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        raise SlidesError("MathJax comes from the jupyter-server-mathjax package: "
                          "`pip install -r requirements.txt`") from None
    folder = Path(jupyter_server_mathjax.__file__).parent / "static"
    if not (folder / "MathJax.js").is_file():
        raise SlidesError(f"no MathJax.js in {folder}: reinstall jupyter-server-mathjax")
    return folder


def copy_assets(out_dir: Path) -> None:
    """reveal.js and MathJax into ``out_dir/assets``, written next to it and renamed into place."""
    target = out_dir / ASSETS
    if (target / "reveal" / "dist" / "reveal.js").is_file() and (target / "mathjax" / "MathJax.js").is_file():
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=".assets-", dir=out_dir))
    partial.chmod(0o755)  # mkdtemp's folder is private; a deck's assets are for anyone who opens it
    try:
        reveal = reveal_assets_dir()
        for part in ("dist", "plugin"):
            shutil.copytree(reveal / part, partial / "reveal" / part)
        shutil.copytree(mathjax_assets_dir(), partial / "mathjax")
        if target.exists():
            shutil.rmtree(target)
        partial.rename(target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def for_slides(notebook: dict) -> dict:
    """A copy made for a static deck: widget outputs become a one-line note (there is no kernel to drive
    them), progress bars (tqdm's widgets) are dropped since they only showed progress while the cell ran,
    and the "Open in Colab" badge, an image from the internet, is left out.
    """
    notebook = copy.deepcopy(notebook)
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown":
            lines = "".join(cell.get("source", "")).split("\n")
            cell["source"] = "\n".join(line for line in lines if "colab-badge.svg" not in line)
        outputs = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_MIME in data:
                if "tqdm" not in str(data.get("text/plain", "")) and "%|" not in str(data.get("text/plain", "")):
                    outputs.append({"output_type": "display_data", "metadata": {},
                                    "data": {"text/markdown": f"*{WIDGET_NOTE}*"}})
                continue
            outputs.append(output)
        if "outputs" in cell:
            cell["outputs"] = outputs
    notebook.get("metadata", {}).pop("widgets", None)
    return notebook


def as_node(notebook: dict):
    """An nbformat node of ``notebook`` (sources joined into strings, as nbformat reads files)."""
    import nbformat

    return nbformat.reads(json.dumps(notebook), as_version=4)


def execute(notebook: dict, working_dir: Path, timeout: int) -> dict:
    """The notebook after a run in a fresh kernel of this interpreter (in ``working_dir``, as "Run all" from
    there would). The client waits for replies in short slices: nbclient's single long wait sometimes misses a
    reply while widget messages are in flight and sleeps the whole timeout (see tools/time_notebooks.py)."""
    node = as_node(notebook)
    notebook_client(node, working_dir, cell_timeout=timeout).execute()
    return node


def export_html(notebook: dict, title: str) -> str:
    """The deck's HTML: nbconvert's reveal template with every asset read from ``assets/``."""
    from nbconvert import SlidesExporter

    exporter = SlidesExporter(template_name=TEMPLATE_NAME, extra_template_basedirs=[str(TEMPLATE_DIR)],
                              reveal_url_prefix=REVEAL_PREFIX, reveal_theme="white", mathjax_url=MATHJAX_URL,
                              exclude_input_prompt=True, exclude_output_prompt=True)
    node = as_node(notebook)
    node.metadata["title"] = title
    html, _ = exporter.from_notebook_node(node)
    remote = REMOTE_RESOURCE.findall(html)
    if remote:
        raise SlidesError(f"the deck would load {len(remote)} resource(s) from the internet, e.g. {remote[0]!r}")
    return html


def deck_title(notebook: dict, fallback: str) -> str:
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def build_deck(solution: Path, out_dir: Path, *, run: bool = True, timeout: int = 900) -> Path:
    """Write ``out_dir/<name>.slides.html`` for one solution notebook; returns its path."""
    notebook = read_notebook(solution)
    if run:
        notebook = execute(notebook, solution.parent, timeout)
    html = export_html(for_slides(notebook), deck_title(notebook, solution.stem))
    copy_assets(out_dir)
    deck = out_dir / f"{solution.stem}.slides.html"
    write_text_atomically(deck, html)
    return deck


def select(numbers: list[str]) -> list[Path]:
    solutions = solution_paths(REPO_ROOT)
    if not numbers:
        return solutions
    chosen = [path for path in solutions if path.name[:2] in {n.zfill(2) for n in numbers}]
    unknown = sorted({n.zfill(2) for n in numbers} - {path.name[:2] for path in chosen})
    if unknown:
        raise SlidesError(f"no lesson numbered {', '.join(unknown)} in solutions/")
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lessons", nargs="*", help="lesson numbers (default: all)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    parser.add_argument("--no-execute", action="store_true", help="export without running (no outputs)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell when running (default 900)")
    args = parser.parse_args(argv)
    try:
        solutions = select(args.lessons)
    except SlidesError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    failures = 0
    for solution in solutions:
        started = time.monotonic()
        try:
            deck = build_deck(solution, args.out, run=not args.no_execute, timeout=args.timeout)
        except Exception as error:  # one broken lesson must not stop the others; say which and why
            failures += 1
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[-1]
            print(f"FAILED {solution.name}: {type(error).__name__}: {first_line[:300]}", file=sys.stderr)
            continue
        print(f"{deck.relative_to(Path.cwd()) if deck.is_relative_to(Path.cwd()) else deck}  "
              f"({time.monotonic() - started:.0f} s)")
    if not failures:
        print(f"Open a deck in a browser; assets are in {args.out / ASSETS} (copy the whole folder to move them).")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
