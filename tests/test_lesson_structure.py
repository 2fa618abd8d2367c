"""Every lesson reads like one: goals with a time, exercises that each have a checker, a summary.

Also ties each ``### Exercise NN.k`` heading to the checker called under it, so exercise numbers in the
notebooks and in the checkers' messages cannot drift apart.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from pathlib import Path

import pytest

import workshop_utils.checkers as checkers_package
from workshop_utils.authoring import TITLE_TAG, cell_source, cell_tags, solution_paths

REPO_ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = solution_paths(REPO_ROOT)
EXERCISE_HEADING = re.compile(r"^#{2,4} Exercise (\d\d\.\d+)\b", re.MULTILINE)
CHECKER_CALL = re.compile(r"\b(check_\w+)\(")


def all_checkers() -> dict[str, str]:
    """Every checker function in workshop_utils.checkers, by name: its exercise label."""
    found: dict[str, str] = {}
    for module_info in pkgutil.iter_modules(checkers_package.__path__):
        module = importlib.import_module(f"{checkers_package.__name__}.{module_info.name}")
        for name, value in vars(module).items():
            if name.startswith("check_") and hasattr(value, "exercise"):
                assert found.get(name, value.exercise) == value.exercise, f"two checkers named {name}"
                found[name] = value.exercise
    return found


def cells_of(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def exercises(cells: list[dict]) -> list[tuple[str, list[dict]]]:
    """(number, cells up to the next markdown heading of the same or a higher level) per exercise."""
    found = []
    for index, cell in enumerate(cells):
        match = EXERCISE_HEADING.search(cell_source(cell)) if cell["cell_type"] == "markdown" else None
        if not match:
            continue
        section = []
        for later in cells[index + 1:]:
            if later["cell_type"] == "markdown" and re.match(r"^#{1,3} ", cell_source(later)):
                break
            section.append(later)
        found.append((match.group(1), section))
    return found


parametrize_solutions = pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in SOLUTIONS])


@parametrize_solutions
def test_lesson_states_goals_with_a_time_and_ends_with_a_summary(path):
    cells = cells_of(path)
    title = next(cell_source(cell) for cell in cells if TITLE_TAG in cell_tags(cell))
    assert "**Goals**" in title, f"{path.name}: the title cell should list the lesson's **Goals**"
    assert re.search(r"\d+\s*minutes", title), f"{path.name}: the goals should say how long the lesson takes"
    markdown = [cell_source(cell) for cell in cells if cell["cell_type"] == "markdown"]
    assert any(text.startswith("## Summary") for text in markdown[-3:]), f"{path.name}: end with a ## Summary"


@parametrize_solutions
def test_every_exercise_has_a_solution_block_and_its_own_checker(path):
    known = all_checkers()
    numbers = []
    for number, section in exercises(cells_of(path)):
        numbers.append(number)
        code = "\n".join(cell_source(cell) for cell in section if cell["cell_type"] == "code")
        assert "BEGIN SOLUTION" in code, f"{path.name} exercise {number}: no solution block under the heading"
        called = [name for name in CHECKER_CALL.findall(code) if name in known]
        assert called, f"{path.name} exercise {number}: no workshop checker is called under the heading"
        for name in called:
            assert known[name].startswith(f"Exercise {number} "), (
                f"{path.name}: the heading says exercise {number} but {name} reports itself as {known[name]!r}")
    lesson = path.name[:2]
    assert all(number.startswith(lesson + ".") for number in numbers), f"{path.name}: exercises {numbers}"
    expected = [f"{lesson}.{k}" for k in range(1, len(numbers) + 1)]
    assert numbers == expected, f"{path.name}: exercises should be numbered {expected} in order, got {numbers}"


def test_checker_labels_name_an_exercise_and_what_it_is_about():
    for name, label in all_checkers().items():
        assert re.fullmatch(r"Exercise \d\d\.\d+ \(.+\)", label), f"{name}: label {label!r}, want 'Exercise NN.k (topic)'"
