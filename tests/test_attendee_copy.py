"""What attendees read: the student copies in notebooks/ and every checker message.

The notebooks are the course: attendees have no slides, so nothing they read may point to "the slides"
or "the deck". The student copies carry no build scaffolding either: CI's hard checks live in the
solutions' ``ci-check`` cells, which the build drops, so no bare ``assert``, no "smoke" and no "CI" is
left in them. And each lesson's core path fits one 90-minute slot, as its title cell says.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from workshop_utils.authoring import TITLE_TAG, cell_source, cell_tags

REPO_ROOT = Path(__file__).resolve().parents[1]
STUDENT_COPIES = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHECKER_MODULES = sorted((REPO_ROOT / "workshop_utils" / "checkers").glob("*.py"))
SLOT_MINUTES = 90

SLIDE_WORDS = re.compile(r"\b(slides?|decks?)\b", re.IGNORECASE)
BARE_ASSERT = re.compile(r"^\s*assert\b", re.MULTILINE)
SCAFFOLDING_WORDS = re.compile(r"smoke|\bCI\b", re.IGNORECASE)
STATED_TIME = re.compile(r"\*\*Goals\*\*\s*\(about (\d+) minutes")


def cells_of(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def offending_lines(path: Path, pattern: re.Pattern, cell_type: str | None = None) -> list[str]:
    """'cell N: the line' for every line of the notebook that matches ``pattern``."""
    found = []
    for index, cell in enumerate(cells_of(path), start=1):
        if cell_type and cell["cell_type"] != cell_type:
            continue
        for line in cell_source(cell).splitlines():
            if pattern.search(line):
                found.append(f"cell {index}: {line.strip()[:120]}")
    return found


parametrize_copies = pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in STUDENT_COPIES])


def test_there_are_student_copies_to_check():
    assert len(STUDENT_COPIES) >= 9


@parametrize_copies
def test_no_reference_to_slides_or_decks(path):
    found = offending_lines(path, SLIDE_WORDS)
    assert not found, f"{path.name}: attendees have no slides; state the fact instead:\n" + "\n".join(found)


@parametrize_copies
def test_no_bare_assert_in_code_attendees_read(path):
    found = offending_lines(path, BARE_ASSERT, "code")
    assert not found, (f"{path.name}: move CI's hard checks into a cell tagged 'ci-check' and show the lesson's "
                       "claim with workshop_utils.claims.claim():\n" + "\n".join(found))


@parametrize_copies
def test_no_smoke_or_ci_vocabulary(path):
    found = offending_lines(path, SCAFFOLDING_WORDS)
    assert not found, (f"{path.name}: use config.quick_run() / config.full_or_quick() and 'ci-check' cells, "
                       "and say 'a quick run' in text:\n" + "\n".join(found))


@parametrize_copies
def test_the_stated_time_fits_one_slot(path):
    title = next(cell_source(cell) for cell in cells_of(path) if TITLE_TAG in cell_tags(cell))
    match = STATED_TIME.search(title)
    assert match, f"{path.name}: the title cell should say '**Goals** (about N minutes ...'"
    assert int(match.group(1)) <= SLOT_MINUTES, (
        f"{path.name}: {match.group(1)} minutes does not fit a {SLOT_MINUTES}-minute slot; move what is beyond "
        "the core path into a '## Going further' section")


def string_constants(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal in a module, f-string pieces included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in CHECKER_MODULES])
def test_checker_messages_do_not_mention_slides(path):
    found = [f"line {line}: {text.strip()[:100]}" for line, text in string_constants(path) if SLIDE_WORDS.search(text)]
    assert not found, f"{path.name}: checker messages are read by attendees, who have no slides:\n" + "\n".join(found)
