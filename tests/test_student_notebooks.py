"""The attendees' copies "Run all" before any exercise is done, headless: the fallback where no browser is.

CI proves this in JupyterLab (``test_browser_notebooks.py`` runs every attendee copy in Chromium with the
same checks and more), so this test only runs where that one cannot: Chromium or Playwright missing,
outside CI. Then it runs each copy in a kernel of this interpreter and checks what an attendee sees on
first opening a notebook: no cell errors (a stub that breaks later cells, a cell that needs a solution the
copy no longer has) and every checker reports the unfinished exercise (❌, never ✅). Smoke mode, like
nbval (the root conftest.py).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from jupyterlab_browser import missing_browser_tools
from unfinished_exercises import checker_problems, error_cells

REPO_ROOT = Path(__file__).resolve().parents[1]
STUDENT_COPIES = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def load_notebook_tool():
    """tools/time_notebooks.py, whose client runs a kernel of this very interpreter."""
    spec = importlib.util.spec_from_file_location("time_notebooks", REPO_ROOT / "tools" / "time_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("time_notebooks", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in STUDENT_COPIES])
def test_student_copy_runs_and_every_checker_reports_the_unfinished_exercise(path, tmp_path, monkeypatch):
    if not missing_browser_tools():
        pytest.skip("the browser test runs the attendee copies, with these checks (tests/test_browser_notebooks.py)")
    import nbformat

    # A board of its own: nbval may run the solution of 08 at the same time, submitting the same names.
    monkeypatch.setenv("WORKSHOP_LEADERBOARD", str(tmp_path / "leaderboard.sqlite3"))

    notebook = nbformat.read(path, as_version=4)
    load_notebook_tool().notebook_client(notebook, path.parent, cell_timeout=600, allow_errors=True).execute()
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]

    errors = error_cells(cells)
    assert not errors, (f"{path.name}: cells that fail before the exercises are done "
                        f"(code cell, error, message): {errors}")
    problems = checker_problems(path.name, cells)
    assert not problems, "\n".join(problems)
