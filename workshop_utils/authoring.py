"""Single-source notebook authoring: ``solutions/`` is written by hand, ``notebooks/`` is generated.

A maintainer writes each lesson once, as a complete, runnable reference solution in
``solutions/NN_name.ipynb``. ``python tools/build_notebooks.py`` then

* normalizes the solution in place: the Colab badge in the cell tagged ``workshop-title`` and the
  Colab install cell tagged ``workshop-setup`` are regenerated from ``[tool.workshop]`` in
  ``pyproject.toml``, outputs and execution counts are cleared, editor noise is dropped, and every
  cell gets a stable id;
* writes the student copy ``notebooks/NN_name.ipynb``: the same notebook with the solution blocks
  replaced by stubs and the ``solution-only`` and ``ci-check`` cells dropped;
* sets each cell's slideshow metadata from the lesson's structure (:func:`slide_type`), so that
  every notebook can be presented as slides (RISE) or exported as a reveal.js deck;
* rewrites the table of notebooks in ``README.md`` (only the lines between its
  ``<!-- notebook-table:start ... -->`` and ``<!-- notebook-table:end -->`` markers), whose Colab
  links come from the same ``[tool.workshop]`` setting.

Markers (see ``docs/AUTHORING.md`` for the author's guide)::

    # BEGIN SOLUTION                    code cells, alone on their line; indentation is kept
    # STUDENT: y = ...  # TODO          inside a block: the student copy shows ``y = ...  # TODO``
    # END SOLUTION
    <!-- BEGIN SOLUTION -->             markdown cells: replaced by "*Your answer here.*"
    <!-- END SOLUTION -->

Notebooks are handled as plain JSON dictionaries (no nbformat import): this module is part of the
installed package and must not add dependencies. Output is serialized exactly as ``nbformat.write``
does (sorted keys, indent 1, sources split into lines, trailing newline), so a build is
byte-identical from run to run and saving a file in JupyterLab produces little churn.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

SOLUTIONS_DIR = "solutions"
STUDENT_DIR = "notebooks"
BUILD_COMMAND = "python tools/build_notebooks.py"

# Only numbered lessons take part: solutions/NN_name.ipynb.
LESSON_FILE_NAME = re.compile(r"^\d{2}_[A-Za-z0-9][A-Za-z0-9_-]*\.ipynb$")

TITLE_TAG = "workshop-title"
SETUP_TAG = "workshop-setup"
SOLUTION_ONLY_TAG = "solution-only"
STUDENT_ONLY_TAG = "student-only"
# A code cell holding CI's hard checks of a lesson (asserts, thresholds for quick runs and stand-in data):
# run with the solution, dropped from the student copy like solution-only. Attendees see the lesson's
# claims as readable lines instead (workshop_utils.claims).
CI_CHECK_TAG = "ci-check"
DROPPED_FROM_STUDENT_COPY = (SOLUTION_ONLY_TAG, CI_CHECK_TAG)

COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
DEFAULT_CODE_STUB = (
    "# TODO: your code here",
    'raise NotImplementedError("Exercise: replace this line with your solution")',
)
MARKDOWN_STUB = "*Your answer here.*"

# Markers are matched leniently (any number of '#', nbgrader's "### BEGIN SOLUTION" works) but must
# stand alone on their line; anything else that mentions them is an error, never silently kept.
_CODE_BEGIN = re.compile(r"^(?P<indent>[ \t]*)#+[ \t]*BEGIN SOLUTION[ \t]*$")
_CODE_END = re.compile(r"^(?P<indent>[ \t]*)#+[ \t]*END SOLUTION[ \t]*$")
_MARKDOWN_BEGIN = re.compile(r"^(?P<indent>[ \t]*)<!--[ \t]*BEGIN SOLUTION[ \t]*-->[ \t]*$")
_MARKDOWN_END = re.compile(r"^(?P<indent>[ \t]*)<!--[ \t]*END SOLUTION[ \t]*-->[ \t]*$")
# Near misses: a comment (code) or an HTML comment (markdown) that mentions a marker in any case.
_CODE_NEAR_MARKER = re.compile(r"#.*\b(BEGIN|END)[ \t]*SOLUTION\b", re.IGNORECASE)
_MARKDOWN_NEAR_MARKER = re.compile(r"<!--.*\b(BEGIN|END)[ \t]*SOLUTION\b", re.IGNORECASE)
# "# STUDENT: code" -> "code" at the comment's indentation (one space after the colon is eaten).
_STUDENT_LINE = re.compile(r"^(?P<indent>[ \t]*)#[ \t]*STUDENT:(?: ?)(?P<code>.*)$")

_GITHUB_REPOSITORY = re.compile(r"^https://github\.com/(?P<slug>[A-Za-z0-9-]+/[A-Za-z0-9._-]+)$")
_BRANCH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
_DISTRIBUTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_TITLE_HEADING = re.compile(r"^#[ \t]+\S")

# Per-cell metadata written by editors and extensions, not by authors.
_CELL_METADATA_NOISE = ("execution", "ExecuteTime", "collapsed", "scrolled", "trusted", "pycharm", "vscode")
# Notebook metadata written by editors (saved widget state can be megabytes), not by authors.
_NOTEBOOK_METADATA_NOISE = ("widgets", "vscode", "interpreter", "toc", "varInspector", "signature",
                            "orig_nbformat", "orig_nbformat_minor")
_KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# RISE's settings for every lesson (notebook metadata "rise" overrides the user's): a slide taller than the
# screen, such as an exercise with its code and the checker's answer, scrolls instead of being cut off.
RISE_SETTINGS = {"scroll": True}
_GENERATED_NOTE = f"Generated by `{BUILD_COMMAND}`: edit the source notebook, not this file."


class AuthoringError(ValueError):
    """A source notebook or the ``[tool.workshop]`` setting is not usable; the message says where."""


@dataclass(frozen=True)
class WorkshopSettings:
    """Where the workshop lives: the input of every Colab badge and install cell."""

    repository: str  # https://github.com/ORG/REPO
    branch: str
    distribution: str  # [project].name, the pip name of the helper package

    def __post_init__(self) -> None:
        if not _GITHUB_REPOSITORY.match(self.repository):
            raise AuthoringError(
                f"[tool.workshop] repository = {self.repository!r} is not of the form "
                "'https://github.com/ORG/REPO' (no trailing slash, no .git): Colab opens notebooks "
                "from GitHub repositories only. Fix the line in pyproject.toml.")
        if not _BRANCH.match(self.branch) or ".." in self.branch:
            raise AuthoringError(f"[tool.workshop] branch = {self.branch!r} is not a valid git branch name.")
        if not _DISTRIBUTION.match(self.distribution):
            raise AuthoringError(f"[project] name = {self.distribution!r} is not a valid distribution name.")

    @property
    def slug(self) -> str:
        """``ORG/REPO``."""
        return self.repository.removeprefix("https://github.com/")


def load_settings(repo_root: Path) -> WorkshopSettings:
    """Read ``[tool.workshop] repository/branch`` and ``[project] name`` from ``pyproject.toml``."""
    pyproject = Path(repo_root) / "pyproject.toml"
    try:
        text = pyproject.read_text(encoding="utf-8")
    except OSError as error:
        raise AuthoringError(f"Cannot read {pyproject}: {error}. Run this from the workshop repository.") from error
    data = _parse_toml(text, pyproject)
    workshop = data.get("tool", {}).get("workshop", {})
    missing = [key for key in ("repository", "branch") if not isinstance(workshop.get(key), str)]
    if missing:
        raise AuthoringError(
            f"{pyproject} lacks {', '.join(missing)} under [tool.workshop]; add e.g.\n"
            '[tool.workshop]\nrepository = "https://github.com/ORG/REPO"\nbranch = "main"')
    distribution = data.get("project", {}).get("name")
    if not isinstance(distribution, str):
        raise AuthoringError(f"{pyproject} lacks [project] name (the pip name used by the Colab install cell).")
    return WorkshopSettings(workshop["repository"], workshop["branch"], distribution)


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    try:
        import tomllib  # Python >= 3.11
    except ModuleNotFoundError:
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            raise AuthoringError(
                "Building notebooks needs Python >= 3.11 (tomllib) or `pip install tomli`.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise AuthoringError(f"{path} is not valid TOML: {error}") from error


# --- what the one setting generates ---------------------------------------------------------------

def colab_url(settings: WorkshopSettings, notebook_path: str) -> str:
    """The URL that opens ``notebook_path`` (relative to the repository root) in Colab."""
    path = PurePosixPath(notebook_path).as_posix()
    return f"https://colab.research.google.com/github/{settings.slug}/blob/{settings.branch}/{path}"


def colab_badge(settings: WorkshopSettings, notebook_path: str) -> str:
    """The Markdown "Open In Colab" badge for ``notebook_path``."""
    return f"[![Open In Colab]({COLAB_BADGE_IMAGE})]({colab_url(settings, notebook_path)})"


def repository_file_url(settings: WorkshopSettings, file_path: str) -> str:
    """The GitHub page of a file of the repository (e.g. ``docs/NOTATION.md``)."""
    return f"{settings.repository}/blob/{settings.branch}/{PurePosixPath(file_path).as_posix()}"


# A link from a notebook to a file under docs/: written relative (``../docs/NOTATION.md``) by the author,
# or already absolute from an earlier build, possibly of another fork or branch.
_DOCS_LINK = re.compile(r"\]\((?:\.\./|https://github\.com/[\w.-]+/[\w.-]+/blob/[\w./-]+?/)(docs/[\w./-]+\.md)(#[\w-]*)?\)")


def with_docs_links(markdown: str, settings: WorkshopSettings) -> str:
    """Markdown whose links to ``docs/*.md`` point at the repository's GitHub pages.

    A relative link works in a local JupyterLab but not in Colab, which opens the notebook from GitHub
    and resolves relative links against its own site: every attendee gets the same working link.
    """
    return _DOCS_LINK.sub(lambda m: f"]({repository_file_url(settings, m.group(1))}{m.group(2) or ''})", markdown)


def setup_cell_source(settings: WorkshopSettings) -> str:
    """The Colab install cell. A plain (non-editable) install imports without a runtime restart."""
    requirement = f"{settings.distribution} @ git+{settings.repository}@{settings.branch}"
    return ("# Colab only: install the workshop's helper package (does nothing outside Colab).\n"
            "import sys\n"
            'if "google.colab" in sys.modules:\n'
            f'    %pip install --quiet "{requirement}"')


# --- reading, writing ---------------------------------------------------------------------------

def read_notebook(path: Path) -> dict[str, Any]:
    """Load a notebook file as a dict, with a clear error for anything that is not nbformat 4 JSON."""
    try:
        notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise AuthoringError(f"Cannot read {path}: {error}") from error
    except json.JSONDecodeError as error:
        raise AuthoringError(f"{path} is not valid notebook JSON ({error}); was a merge conflict left in it?") from error
    if not isinstance(notebook, dict) or notebook.get("nbformat") != 4 or not isinstance(notebook.get("cells"), list):
        raise AuthoringError(f"{path} is not an nbformat 4 notebook; open and save it in JupyterLab 4 first.")
    return notebook


def notebook_text(notebook: dict[str, Any]) -> str:
    """Serialize exactly as ``nbformat.write`` does: the bytes that go to disk."""
    on_disk = copy.deepcopy(notebook)
    for cell in on_disk["cells"]:
        if isinstance(cell.get("source"), str):
            cell["source"] = cell["source"].splitlines(keepends=True)
    return json.dumps(on_disk, sort_keys=True, indent=1, ensure_ascii=False, separators=(",", ": ")) + "\n"


def write_text_atomically(path: Path, text: str) -> None:
    """Write via a temporary file and a rename, so a crash never leaves half a file.

    ``text`` is written as is (no newline translation). The file keeps its permissions, and a new
    file gets the usual ones (the temporary file would otherwise make it private to its owner).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
        os.chmod(temporary, _file_mode(path))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _file_mode(path: Path) -> int:
    """``path``'s permission bits, or those a new file gets under the current umask."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0o022)  # reading the umask means setting it; put it straight back
        os.umask(umask)
        return 0o666 & ~umask


# --- cell helpers ---------------------------------------------------------------------------------

def cell_source(cell: dict[str, Any]) -> str:
    """A cell's source as one string (files store it as a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def cell_tags(cell: dict[str, Any]) -> list[str]:
    """The cell's tags (JupyterLab: right sidebar, "Cell Tags")."""
    return list(cell.get("metadata", {}).get("tags", []))


def _where(label: str, index: int, cell: dict[str, Any], line: int | None = None) -> str:
    """A human pointer to a cell: numbers count from 1, the first line helps find it in an editor."""
    first_line = next((text.strip() for text in cell_source(cell).splitlines() if text.strip()), "")
    if len(first_line) > 50:
        first_line = first_line[:47] + "..."
    place = f"{label}, cell {index + 1} ({cell.get('cell_type')}, starts {first_line!r})"
    return f"{place}, line {line}" if line is not None else place


# --- solution stripping ---------------------------------------------------------------------------

def _student_lines_of_code(lines: list[str], where: str) -> list[str]:
    """Replace every BEGIN/END SOLUTION block of a code cell by its STUDENT lines or the default stub."""
    result: list[str] = []
    block_start: int | None = None
    block_indent = ""
    student_lines: list[str] = []
    for number, line in enumerate(lines, start=1):
        begin, end = _CODE_BEGIN.match(line), _CODE_END.match(line)
        if begin:
            if block_start is not None:
                raise AuthoringError(f"{where}, line {number}: BEGIN SOLUTION inside the block opened at "
                                     f"line {block_start}; blocks cannot nest: close the first with # END SOLUTION.")
            block_start, block_indent, student_lines = number, begin["indent"], []
        elif end:
            if block_start is None:
                raise AuthoringError(f"{where}, line {number}: END SOLUTION without a BEGIN SOLUTION before it.")
            if end["indent"] != block_indent:
                raise AuthoringError(f"{where}, line {number}: END SOLUTION is indented differently from the "
                                     f"BEGIN SOLUTION at line {block_start}; indent both like the code they enclose.")
            result.extend(student_lines or [block_indent + stub for stub in DEFAULT_CODE_STUB])
            block_start = None
        elif _CODE_NEAR_MARKER.search(line):
            raise AuthoringError(f"{where}, line {number}: {line.strip()!r} looks like a solution marker but is "
                                 "not one; write '# BEGIN SOLUTION' or '# END SOLUTION' alone on its line.")
        elif (student := _STUDENT_LINE.match(line)) is not None:
            if block_start is None:
                raise AuthoringError(f"{where}, line {number}: a '# STUDENT:' line outside a BEGIN/END SOLUTION "
                                     "block would be a plain comment in both copies; move it into a block.")
            student_lines.append(student["indent"] + student["code"])
        elif block_start is None:
            result.append(line)
    if block_start is not None:
        raise AuthoringError(f"{where}, line {block_start}: BEGIN SOLUTION is never closed; add '# END SOLUTION'.")
    return result


def _student_lines_of_markdown(lines: list[str], where: str) -> list[str]:
    """Replace every <!-- BEGIN/END SOLUTION --> block of a markdown cell by the answer stub."""
    result: list[str] = []
    block_start: int | None = None
    for number, line in enumerate(lines, start=1):
        begin, end = _MARKDOWN_BEGIN.match(line), _MARKDOWN_END.match(line)
        if begin:
            if block_start is not None:
                raise AuthoringError(f"{where}, line {number}: BEGIN SOLUTION inside the block opened at "
                                     f"line {block_start}; blocks cannot nest.")
            block_start = number
            result.append(begin["indent"] + MARKDOWN_STUB)
        elif end:
            if block_start is None:
                raise AuthoringError(f"{where}, line {number}: END SOLUTION without a BEGIN SOLUTION before it.")
            block_start = None
        elif _MARKDOWN_NEAR_MARKER.search(line):
            raise AuthoringError(f"{where}, line {number}: {line.strip()!r} looks like a solution marker but is "
                                 "not one; write '<!-- BEGIN SOLUTION -->' or '<!-- END SOLUTION -->' alone "
                                 "on its line.")
        elif block_start is None:
            result.append(line)
    if block_start is not None:
        raise AuthoringError(f"{where}, line {block_start}: BEGIN SOLUTION is never closed; "
                             "add '<!-- END SOLUTION -->'.")
    return result


def strip_solutions(notebook: dict[str, Any], label: str = "notebook") -> dict[str, Any]:
    """The student copy of a solution notebook: solution blocks stubbed, solution-only cells dropped.

    ``label`` names the notebook in error messages. Checks every cell (also solution-only ones), so a
    broken marker fails the build even where it would not show.
    """
    student = copy.deepcopy(notebook)
    kept = []
    for index, cell in enumerate(student["cells"]):
        where = _where(label, index, cell)
        lines = cell_source(cell).split("\n")
        if cell.get("cell_type") == "code":
            cell["source"] = "\n".join(_student_lines_of_code(lines, where))
        elif cell.get("cell_type") == "markdown":
            cell["source"] = "\n".join(_student_lines_of_markdown(lines, where))
        if not set(DROPPED_FROM_STUDENT_COPY) & set(cell_tags(cell)):
            kept.append(cell)
    student["cells"] = kept
    return student


# --- normalization ----------------------------------------------------------------------------------

def _stable_cell_id(stem: str, index: int, taken: set[str]) -> str:
    """A deterministic id for a cell that has none (or a duplicate): same input, same id."""
    salt = 0
    while True:
        candidate = hashlib.sha1(f"{stem}:{index}:{salt}".encode()).hexdigest()[:8]
        if candidate not in taken:
            return candidate
        salt += 1


def _normalize_cell(cell: dict[str, Any]) -> dict[str, Any]:
    """Clear outputs and execution counts, drop editor noise, keep the author's metadata and tags."""
    cell = copy.deepcopy(cell)
    cell["source"] = cell_source(cell)
    metadata = cell.setdefault("metadata", {})
    for key in _CELL_METADATA_NOISE:
        metadata.pop(key, None)
    if cell.get("cell_type") == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    return cell


def _check_workshop_cells(cells: list[dict[str, Any]], label: str) -> tuple[int, int]:
    """Find the one title cell and the one setup cell, and check they are where they must be."""
    titles = [i for i, cell in enumerate(cells) if TITLE_TAG in cell_tags(cell)]
    setups = [i for i, cell in enumerate(cells) if SETUP_TAG in cell_tags(cell)]
    if len(titles) != 1:
        raise AuthoringError(
            f"{label}: {len(titles)} cells are tagged {TITLE_TAG!r}, need exactly 1: tag the markdown cell "
            f"holding the '# Title' heading (JupyterLab: Property Inspector, Cell Tags).")
    if len(setups) != 1:
        raise AuthoringError(
            f"{label}: {len(setups)} cells are tagged {SETUP_TAG!r}, need exactly 1: add an empty code cell "
            f"tagged {SETUP_TAG!r} before the first import; the build fills in the Colab install lines.")
    title, setup = titles[0], setups[0]
    if cells[title].get("cell_type") != "markdown":
        raise AuthoringError(f"{_where(label, title, cells[title])}: the {TITLE_TAG!r} cell must be markdown.")
    if cells[setup].get("cell_type") != "code":
        raise AuthoringError(f"{_where(label, setup, cells[setup])}: the {SETUP_TAG!r} cell must be code.")
    first_code = next(i for i, cell in enumerate(cells) if cell.get("cell_type") == "code")
    if first_code != setup:
        raise AuthoringError(
            f"{_where(label, first_code, cells[first_code])}: this code cell comes before the {SETUP_TAG!r} "
            "cell, so in Colab it would run before the helper package is installed; move it below.")
    for index in (title, setup):
        for tag in DROPPED_FROM_STUDENT_COPY:
            if tag in cell_tags(cells[index]):
                raise AuthoringError(f"{_where(label, index, cells[index])}: the title and setup cells belong in "
                                     f"both copies; remove the {tag!r} tag.")
    for index, cell in enumerate(cells):
        if STUDENT_ONLY_TAG in cell_tags(cell) and cell.get("cell_type") == "code":
            raise AuthoringError(f"{_where(label, index, cell)}: {STUDENT_ONLY_TAG!r} is for markdown hints; a "
                                 "code cell would also run in CI's run of the solution. Make it markdown.")
        if CI_CHECK_TAG in cell_tags(cell) and cell.get("cell_type") != "code":
            raise AuthoringError(f"{_where(label, index, cell)}: {CI_CHECK_TAG!r} marks a code cell of hard checks; "
                                 "this cell is markdown. Remove the tag, or tag it 'solution-only'.")
    return title, setup


def _with_badge(markdown: str, badge: str) -> str:
    """Put ``badge`` on the line of the existing Colab badge, or just below the title heading."""
    lines = markdown.split("\n")
    badge_lines = [i for i, line in enumerate(lines) if "colab-badge.svg" in line]
    if badge_lines:
        lines[badge_lines[0]] = badge
        return "\n".join(line for i, line in enumerate(lines) if i not in badge_lines[1:])
    heading = next((i for i, line in enumerate(lines) if _TITLE_HEADING.match(line)), None)
    if heading is None:
        return "\n".join([badge, "", *lines]) if markdown.strip() else badge
    after = lines[heading + 1:]
    spacer = [""] if after and after[0].strip() else []
    return "\n".join([*lines[:heading + 1], "", badge, *spacer, *after])


def slide_type(cell: dict[str, Any]) -> str:
    """How the cell is presented as slides (RISE in JupyterLab, ``tools/build_slides.py``).

    The structure of the lesson decides: the title and each ``##`` section start a slide, each ``###``
    step a sub-slide (reveal.js' vertical slides), code with its output appears as a fragment on the slide
    it belongs to, and what a room should not see is skipped: the Colab install cell, CI's hard checks and
    the solution-only cells.
    """
    tags = set(cell_tags(cell))
    if tags & {SETUP_TAG, *DROPPED_FROM_STUDENT_COPY}:
        return "skip"
    if cell.get("cell_type") == "code":
        return "fragment"
    first_line = cell_source(cell).lstrip().split("\n", 1)[0]
    if TITLE_TAG in tags or re.match(r"^#{1,2} ", first_line):
        return "slide"
    if re.match(r"^#{3,4} ", first_line):
        return "subslide"
    return "-"


def normalize_notebook(notebook: dict[str, Any], settings: WorkshopSettings, notebook_path: str,
                       label: str | None = None) -> dict[str, Any]:
    """The stored form of a solution: badge to ``notebook_path`` and install cell regenerated,
    outputs cleared, stable cell ids, normalized kernel metadata."""
    label = label or notebook_path
    notebook = copy.deepcopy(notebook)
    cells = [_normalize_cell(cell) for cell in notebook["cells"]]
    if not any(cell.get("cell_type") == "code" for cell in cells):
        raise AuthoringError(f"{label}: no code cell at all; add the {SETUP_TAG!r} cell at least.")
    title, setup = _check_workshop_cells(cells, label)
    cells[title]["source"] = _with_badge(cells[title]["source"], colab_badge(settings, notebook_path))
    cells[setup]["source"] = setup_cell_source(settings)
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            cell["source"] = with_docs_links(cell["source"], settings)
        cell["metadata"]["slideshow"] = {"slide_type": slide_type(cell)}

    stem = PurePosixPath(notebook_path).stem
    taken: set[str] = set()
    for index, cell in enumerate(cells):
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", cell_id) or cell_id in taken:
            cell["id"] = _stable_cell_id(stem, index, taken)
        taken.add(cell["id"])

    metadata = notebook.get("metadata", {})
    for key in _NOTEBOOK_METADATA_NOISE:
        metadata.pop(key, None)
    metadata.pop("workshop", None)  # set on generated copies only
    if isinstance(metadata.get("colab"), dict):
        metadata["colab"].pop("provenance", None)
    metadata["kernelspec"] = dict(_KERNELSPEC)
    rise = metadata.get("rise") if isinstance(metadata.get("rise"), dict) else {}
    metadata["rise"] = {**rise, **RISE_SETTINGS}
    metadata["language_info"] = {"name": "python"}
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def student_notebook(solution: dict[str, Any], settings: WorkshopSettings, solution_path: str,
                     student_path: str) -> dict[str, Any]:
    """The generated student copy of an (already normalized or raw) solution notebook."""
    normalized = normalize_notebook(solution, settings, solution_path)
    student = normalize_notebook(strip_solutions(normalized, solution_path), settings, student_path,
                                 label=solution_path)
    student["metadata"]["workshop"] = {"generated_from": solution_path, "note": _GENERATED_NOTE}
    return student


# --- the README's table of notebooks ----------------------------------------------------------------

README_FILE = "README.md"
# The table goes between two lines of README.md that start like this; the rest of each line is free text.
TABLE_START = "<!-- notebook-table:start"
TABLE_END = "<!-- notebook-table:end"
TABLE_MARKER_LINES = (f"{TABLE_START} (generated by tools/build_notebooks.py from solutions/; do not edit by hand) -->",
                      f"{TABLE_END} -->")

# "01 · Tensors", "01. Tensors", "Lesson 1: Tensors": a number prefix the README table already shows.
_NUMBER_PREFIX = re.compile(r"^(?:(?:lesson|notebook|part|chapter|module)[ \t]+)?(?P<number>\d{1,3})"
                            r"(?:[ \t]*[·•.:)|–—-][ \t]*|[ \t]+)(?=\S)", re.IGNORECASE)
_HEADING_CLOSING = re.compile(r"[ \t]+#+[ \t]*$")
# Lines that open something other than a paragraph of prose: heading, list, quote, table, HTML, code,
# image or badge, math. A summary is only taken from prose.
_NOT_PROSE = re.compile(r"^(?:#|[-*+][ \t]|\d+[.)][ \t]|>|\||<|```|~~~|!\[|\[!\[|\$\$|[ \t]{4}|\t)")
# Sentence ends: . ! or ? then space; not after these abbreviations.
_SENTENCE_END = re.compile(r"[.!?](?=\s)")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.", "approx.", "Fig.", "No.")


@dataclass(frozen=True)
class LessonEntry:
    """One row of the README's table of notebooks."""

    number: str  # "01", from the file name
    title: str  # the title heading without its number prefix
    summary: str | None  # the first sentence under the title and badge, if it is prose
    solution_path: str  # solutions/NN_name.ipynb
    student_path: str  # notebooks/NN_name.ipynb


def lesson_entry(notebook: dict[str, Any], solution_path: str) -> LessonEntry:
    """The README row of a solution notebook (raw or normalized), read from its ``workshop-title`` cell."""
    name = PurePosixPath(solution_path).name
    titles = [cell for cell in notebook["cells"] if TITLE_TAG in cell_tags(cell)]
    if len(titles) != 1:
        raise AuthoringError(f"{solution_path}: {len(titles)} cells are tagged {TITLE_TAG!r}, need exactly 1.")
    lines = cell_source(titles[0]).split("\n")
    heading = next((i for i, line in enumerate(lines) if _TITLE_HEADING.match(line)), None)
    if heading is None:
        raise AuthoringError(f"{solution_path}: the {TITLE_TAG!r} cell has no '# Title' heading line; the "
                             "README's table of notebooks takes the lesson's title from it.")
    number = name[:2]
    return LessonEntry(number=number, title=_title_without_number(lines[heading], number),
                       summary=_first_sentence(lines[heading + 1:]), solution_path=solution_path,
                       student_path=f"{STUDENT_DIR}/{name}")


def _title_without_number(heading: str, number: str) -> str:
    """``# 01 · Tensors`` -> ``Tensors``; a leading number is dropped only if it is the lesson's own."""
    title = _HEADING_CLOSING.sub("", heading.lstrip("#")).strip()
    prefix = _NUMBER_PREFIX.match(title)
    if prefix and int(prefix["number"]) == int(number):
        title = title[prefix.end():]
    return title


def _first_sentence(lines: list[str]) -> str | None:
    """The first sentence of the first paragraph after the badge, or None when that is not prose.

    A paragraph that ends in ':' introduces a list and says nothing on its own, so it gives None too.
    """
    lines = list(lines)
    while lines and (not lines[0].strip() or "colab-badge.svg" in lines[0]):
        lines.pop(0)
    if not lines or _NOT_PROSE.match(lines[0]):
        return None
    paragraph = []
    for line in lines:
        if not line.strip() or (paragraph and _NOT_PROSE.match(line)):
            break
        paragraph.append(line.strip().rstrip("\\").strip())
    text = " ".join(" ".join(paragraph).split())
    for end in _SENTENCE_END.finditer(text):
        before = text[:end.end()]
        if before.count("`") % 2 == 0 and not before.endswith(_ABBREVIATIONS):
            text = before
            break
    return None if not text or text.endswith(":") else text


def _table_cell(text: str) -> str:
    """Text made safe for one cell of a Markdown table (a '|' would split the cell, also in code)."""
    return text.replace("|", "\\|")


def table_markdown(settings: WorkshopSettings, entries: list[LessonEntry]) -> str:
    """The lines between the README markers: a Markdown table, one row per lesson; empty without lessons.

    The "what you learn" column is there only when at least one lesson has a summary sentence.
    """
    if not entries:
        return ""
    with_summary = any(entry.summary for entry in entries)
    header = ["#", "notebook", *(["what you learn"] if with_summary else []), "open", "solution"]
    rows = []
    for entry in entries:
        cells = [entry.number, _table_cell(entry.title)]
        if with_summary:
            cells.append(_table_cell(entry.summary or ""))
        cells += [colab_badge(settings, entry.student_path), f"[solution]({colab_url(settings, entry.solution_path)})"]
        rows.append(cells)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    # Blank lines around the table: it must not run into the marker comments in any Markdown renderer.
    return "\n".join(["", *lines, ""]) + "\n"


def notebook_table(settings: WorkshopSettings, repo_root: Path) -> str:
    """The README's table of notebooks for ``solutions/`` as it is on disk (see :func:`table_markdown`)."""
    entries = [lesson_entry(read_notebook(path), f"{SOLUTIONS_DIR}/{path.name}") for path in solution_paths(repo_root)]
    return table_markdown(settings, entries)


def readme_with_table(readme: str, table: str, label: str = README_FILE) -> str:
    """``readme`` with the lines between the table markers replaced by ``table``; all else byte-identical.

    ``table`` uses '\\n' line ends; they become '\\r\\n' if the start marker's line ends so.
    """
    lines = readme.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.lstrip().startswith(TABLE_START)]
    ends = [i for i, line in enumerate(lines) if line.lstrip().startswith(TABLE_END)]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        found = f"found {len(starts)} start and {len(ends)} end marker line(s)"
        if len(starts) == 1 and len(ends) == 1:
            found = "the end marker comes before the start marker"
        raise AuthoringError(
            f"{label}: the build writes the table of notebooks between two marker lines, once each, start "
            f"first ({found}). Put these two lines where the table belongs:\n"
            + "\n".join(TABLE_MARKER_LINES))
    start, end = starts[0], ends[0]  # the start line ends in a newline: the end marker comes after it
    if lines[start].endswith("\r\n"):
        table = table.replace("\n", "\r\n")
    return "".join([*lines[:start + 1], table, *lines[end:]])


def update_readme(repo_root: Path, settings: WorkshopSettings | None = None) -> bool:
    """Rewrite the table block of ``README.md`` (atomically, only if it changed); True when written."""
    repo_root = Path(repo_root)
    settings = settings or load_settings(repo_root)
    path = repo_root / README_FILE
    old = _read_readme(path)
    new = readme_with_table(old, notebook_table(settings, repo_root), README_FILE)
    if new == old:
        return False
    write_text_atomically(path, new)
    return True


def _read_readme(path: Path) -> str:
    """README.md's text exactly as stored (no newline translation, so CRLF files stay CRLF)."""
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise AuthoringError(f"{path} does not exist. The build writes the table of notebooks into it; "
                             "create it with these two lines where the table belongs:\n"
                             + "\n".join(TABLE_MARKER_LINES)) from None
    except OSError as error:
        raise AuthoringError(f"Cannot read {path}: {error}") from error
    except UnicodeDecodeError as error:
        raise AuthoringError(f"{path} is not UTF-8 text ({error}); save it as UTF-8.") from error


# --- the whole tree ---------------------------------------------------------------------------------

@dataclass
class BuildPlan:
    """What a build would change. Nothing is written while planning."""

    writes: dict[Path, str] = field(default_factory=dict)  # files to create or rewrite -> new text
    solutions_to_normalize: dict[Path, list[str]] = field(default_factory=dict)  # -> what differs
    missing: list[Path] = field(default_factory=list)  # student copies that do not exist yet
    stale: list[Path] = field(default_factory=list)  # student copies that differ from a build
    orphans: list[Path] = field(default_factory=list)  # student copies with no solution
    stale_readme: Path | None = None  # README.md when its table of notebooks differs from a build
    errors: list[str] = field(default_factory=list)  # broken source notebooks, README without markers


def solution_paths(repo_root: Path) -> list[Path]:
    """The lesson sources: ``solutions/NN_*.ipynb``, sorted."""
    folder = Path(repo_root) / SOLUTIONS_DIR
    return sorted(path for path in folder.glob("*.ipynb") if LESSON_FILE_NAME.match(path.name))


def _student_paths(repo_root: Path) -> list[Path]:
    folder = Path(repo_root) / STUDENT_DIR
    return sorted(path for path in folder.glob("*.ipynb") if LESSON_FILE_NAME.match(path.name))


def _what_differs(before: dict[str, Any], after: dict[str, Any], title_and_setup: tuple[str, str]) -> list[str]:
    """Say, in an author's words, why a solution is not in its normalized form."""
    reasons = []
    if any(cell.get("outputs") or cell.get("execution_count") is not None for cell in before["cells"]):
        reasons.append("has outputs or execution counts")
    for tag, what in zip((TITLE_TAG, SETUP_TAG), title_and_setup):
        old = [cell_source(cell) for cell in before["cells"] if tag in cell_tags(cell)]
        new = [cell["source"] for cell in after["cells"] if tag in cell_tags(cell)]
        if old != new:
            reasons.append(what)
    return reasons or ["metadata, cell ids or JSON layout differ"]


def plan_build(repo_root: Path, settings: WorkshopSettings | None = None) -> BuildPlan:
    """Compute every file a build would write, and every problem a check would report."""
    repo_root = Path(repo_root)
    settings = settings or load_settings(repo_root)
    plan = BuildPlan()
    expected_students = set()
    entries = []
    for source in solution_paths(repo_root):
        solution_rel = f"{SOLUTIONS_DIR}/{source.name}"
        student_rel = f"{STUDENT_DIR}/{source.name}"
        target = repo_root / STUDENT_DIR / source.name
        expected_students.add(target)
        try:
            original = read_notebook(source)
            normalized = normalize_notebook(original, settings, solution_rel)
            student = student_notebook(normalized, settings, solution_rel, student_rel)
            entries.append(lesson_entry(normalized, solution_rel))
        except AuthoringError as error:
            plan.errors.append(str(error))
            continue
        solution_text = notebook_text(normalized)
        if source.read_text(encoding="utf-8") != solution_text:
            plan.writes[source] = solution_text
            plan.solutions_to_normalize[source] = _what_differs(
                original, normalized, ("Colab badge is missing or outdated", "Colab install cell is outdated"))
        student_text = notebook_text(student)
        if not target.exists():
            plan.missing.append(target)
            plan.writes[target] = student_text
        elif target.read_text(encoding="utf-8") != student_text:
            plan.stale.append(target)
            plan.writes[target] = student_text
    plan.orphans = [path for path in _student_paths(repo_root) if path not in expected_students]
    _plan_readme(repo_root, settings, entries, plan)
    return plan


def _plan_readme(repo_root: Path, settings: WorkshopSettings, entries: list[LessonEntry], plan: BuildPlan) -> None:
    """Add README.md to ``plan`` if its table is stale. Its markers are checked even when a lesson is
    broken; its table is compared only when every lesson could be read (else it would be incomplete)."""
    path = repo_root / README_FILE
    try:
        old = _read_readme(path)
        new = readme_with_table(old, table_markdown(settings, entries), README_FILE)
    except AuthoringError as error:
        plan.errors.append(str(error))
        return
    if new != old and not plan.errors:
        plan.stale_readme = path
        plan.writes[path] = new


def check_tree(repo_root: Path, settings: WorkshopSettings | None = None) -> list[str]:
    """Every reason the committed notebooks are not what a build makes; empty when all is fresh."""
    repo_root = Path(repo_root)
    plan = plan_build(repo_root, settings)

    def rel(path: Path) -> str:
        return path.relative_to(repo_root).as_posix()

    problems = [f"error: {message}" for message in plan.errors]
    problems += [f"{rel(path)}: not normalized ({'; '.join(reasons)})"
                 for path, reasons in plan.solutions_to_normalize.items()]
    problems += [f"{rel(path)}: missing (not generated yet)" for path in plan.missing]
    problems += [f"{rel(path)}: stale (differs from what solutions/{path.name} generates)" for path in plan.stale]
    problems += [f"{rel(path)}: has no solutions/{path.name} (generated files need a source; "
                 "the build deletes it)" for path in plan.orphans]
    if plan.stale_readme:
        problems.append(f"{rel(plan.stale_readme)}: the table of notebooks is stale (differs from what "
                        f"solutions/ and [tool.workshop] in pyproject.toml generate)")
    return problems


def build_tree(repo_root: Path, settings: WorkshopSettings | None = None) -> list[str]:
    """Normalize solutions in place, write notebooks/ and README.md's table of notebooks, delete
    orphaned copies; returns what it did.

    Plans everything first: if any source notebook is broken, or README.md lacks the table's
    markers, nothing at all is written. Files are written only when their text changes.
    """
    repo_root = Path(repo_root)
    plan = plan_build(repo_root, settings)
    if plan.errors:
        raise AuthoringError("Nothing was written; fix these first:\n" + "\n".join(plan.errors))
    actions = []
    for path, text in plan.writes.items():
        write_text_atomically(path, text)
        actions.append(f"wrote {path.relative_to(repo_root).as_posix()}")
    for path in plan.orphans:
        path.unlink()
        actions.append(f"deleted {path.relative_to(repo_root).as_posix()} (no solution)")
    return actions
