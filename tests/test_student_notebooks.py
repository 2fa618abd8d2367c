"""The attendees' copies "Run all" before any exercise is done: no cell errors, and every checker says
what is missing instead of passing.

This is what an attendee sees on first opening a notebook. It catches a stub that breaks later cells,
a cell that needs a solution the student copy no longer has, and a checker that accepts the stub.
Runs in smoke mode (the root conftest.py), like the solutions under nbval.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
STUDENT_COPIES = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHECKER_CALL = re.compile(r"\bcheck_\w+\(")


def load_notebook_tool():
    """tools/time_notebooks.py, whose client runs a kernel of this very interpreter."""
    spec = importlib.util.spec_from_file_location("time_notebooks", REPO_ROOT / "tools" / "time_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("time_notebooks", module)
    spec.loader.exec_module(module)
    return module


def output_text(cell: dict) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "".join(parts)


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in STUDENT_COPIES])
def test_student_copy_runs_and_every_checker_reports_the_unfinished_exercise(path, tmp_path, monkeypatch):
    import nbformat

    # A board of its own: nbval may run the solution of 08 at the same time, submitting the same names.
    monkeypatch.setenv("WORKSHOP_LEADERBOARD", str(tmp_path / "leaderboard.sqlite3"))

    notebook = nbformat.read(path, as_version=4)
    load_notebook_tool().notebook_client(notebook, path.parent, cell_timeout=600, allow_errors=True).execute()

    errors = [(index + 1, output.get("ename"), output.get("evalue", "")[:200])
              for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    assert not errors, f"{path.name}: cells that fail before the exercises are done (cell, error, message): {errors}"

    checker_cells = [(index + 1, cell) for index, cell in enumerate(notebook.cells)
                     if cell.cell_type == "code" and CHECKER_CALL.search(cell.source)]
    assert checker_cells, f"{path.name} calls no checker"
    for number, cell in checker_cells:
        text = output_text(cell)
        assert "❌" in text and "✅" not in text, (
            f"{path.name} cell {number}: with the exercise not done, its checker should report a failure; "
            f"it printed:\n{text[:500]}")
