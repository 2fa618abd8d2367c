"""The committed notebooks and README table are what `python tools/build_notebooks.py` makes of solutions/.

Fails when someone edited a solution without regenerating, edited notebooks/ by hand, committed
outputs, or left a solution behind in a student copy.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from workshop_utils.authoring import (
    BUILD_COMMAND,
    SETUP_TAG,
    TITLE_TAG,
    cell_source,
    cell_tags,
    check_tree,
    colab_badge,
    load_settings,
    solution_paths,
    setup_cell_source,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = solution_paths(REPO_ROOT)
STUDENT_COPIES = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# Written independently of the generator's own patterns: anything that smells of a marker.
LEFTOVER_MARKER = re.compile(r"\b(BEGIN|END)[ \t]*SOLUTION\b|#[ \t]*STUDENT:")


def each(paths: list[Path], reason: str) -> list:
    """Parametrize over ``paths``, or one skipped case saying why there is nothing to test."""
    return [pytest.param(path, id=path.name) for path in paths] or [pytest.param(None, marks=pytest.mark.skip(reason=reason))]


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_generated_notebooks_are_up_to_date():
    # Runs even with no solutions yet: it then checks the setting, README.md's table markers and that
    # notebooks/ has no orphans. The README's table of notebooks is part of what a build makes.
    problems = check_tree(REPO_ROOT)
    assert not problems, ("The notebooks or the README table are out of date:\n  " + "\n  ".join(problems)
                          + f"\nRun `{BUILD_COMMAND}` and commit solutions/, notebooks/ and README.md.")


@pytest.mark.parametrize("path", each(SOLUTIONS, "no solutions yet: solutions/ holds no NN_name.ipynb"))
def test_solution_has_a_badge_to_itself_and_the_colab_install_cell(path):
    settings = load_settings(REPO_ROOT)
    cells = load(path)["cells"]
    titles = [cell for cell in cells if TITLE_TAG in cell_tags(cell)]
    setups = [cell for cell in cells if SETUP_TAG in cell_tags(cell)]
    assert len(titles) == 1 and titles[0]["cell_type"] == "markdown"
    assert colab_badge(settings, f"solutions/{path.name}") in cell_source(titles[0])
    assert len(setups) == 1 and cell_source(setups[0]) == setup_cell_source(settings)
    assert all(not cell.get("outputs") and cell.get("execution_count") is None for cell in cells), \
        f"{path.name} is stored with outputs; run `{BUILD_COMMAND}`"


@pytest.mark.parametrize("path", each(STUDENT_COPIES, "no generated notebooks yet: notebooks/ is empty"))
def test_student_copy_has_no_solutions_and_no_outputs(path):
    settings = load_settings(REPO_ROOT)
    cells = load(path)["cells"]
    for number, cell in enumerate(cells, start=1):
        leftover = LEFTOVER_MARKER.search(cell_source(cell))
        assert leftover is None, f"{path.name}, cell {number}: solution marker {leftover.group(0)!r} left in"
        assert not cell.get("outputs") and cell.get("execution_count") is None, f"{path.name}, cell {number}"
        assert "solution-only" not in cell_tags(cell), f"{path.name}, cell {number}"
    title = next(cell for cell in cells if TITLE_TAG in cell_tags(cell))
    assert colab_badge(settings, f"notebooks/{path.name}") in cell_source(title)
