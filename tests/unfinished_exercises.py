"""What an attendee's copy must show on "Run all" before any exercise is done, from its executed cells.

Shared by the two runs of the attendee copies: in JupyterLab (``test_browser_notebooks.py``, the one CI
runs) and headless (``test_student_notebooks.py``, when no browser is installed). Cells are nbformat
dicts with ``source`` (a string) and ``outputs``.
"""

from __future__ import annotations

import re

CHECKER_CALL = re.compile(r"\bcheck_\w+\(")


def output_text(cell: dict) -> str:
    """The text a cell printed or returned (streams and ``text/plain``), in order."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "".join(parts)


def error_cells(cells: list[dict]) -> list[tuple[int, str, str]]:
    """(code cell number from 1, error name, start of its message) for every error output."""
    return [(number, output.get("ename"), output.get("evalue", "")[:200])
            for number, cell in enumerate(cells, start=1)
            for output in cell.get("outputs", []) if output.get("output_type") == "error"]


def checker_problems(name: str, cells: list[dict]) -> list[str]:
    """One message per checker cell that does not report the unfinished exercise (❌ and no ✅), and one
    when the notebook calls no checker at all; empty when every checker says what is missing."""
    checker_cells = [(number, cell) for number, cell in enumerate(cells, start=1)
                     if CHECKER_CALL.search(cell["source"])]
    if not checker_cells:
        return [f"{name} calls no checker"]
    problems = []
    for number, cell in checker_cells:
        text = output_text(cell)
        if "❌" not in text or "✅" in text:
            problems.append(f"{name} code cell {number}: with the exercise not done, its checker should report "
                            f"a failure; it printed:\n{text[:500]}")
    return problems
