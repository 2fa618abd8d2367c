"""Tests of single-source authoring (workshop_utils.authoring, tools/build_notebooks.py) and of the
notebook timer (tools/time_notebooks.py), on small notebooks built here."""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from workshop_utils.authoring import (
    MARKDOWN_STUB,
    AuthoringError,
    WorkshopSettings,
    build_tree,
    check_tree,
    colab_badge,
    colab_url,
    lesson_entry,
    load_settings,
    normalize_notebook,
    notebook_table,
    notebook_text,
    readme_with_table,
    setup_cell_source,
    slide_type,
    strip_solutions,
    student_notebook,
    table_markdown,
    update_readme,
    with_docs_links,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = WorkshopSettings("https://github.com/dl-workshop/deep-learning-workshop", "main", "workshop-utils")
FORK = WorkshopSettings("https://github.com/someone/dl-course-fork", "spring-2027", "workshop-utils")
STUB_RAISE = 'raise NotImplementedError("Exercise: replace this line with your solution")'


def load_tool(name: str):
    """Import tools/<name>.py (a script folder, not a package)."""
    spec = importlib.util.spec_from_file_location(f"workshop_tool_{name}", REPO_ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def markdown(source: str, *tags: str) -> dict:
    return {"cell_type": "markdown", "metadata": {"tags": list(tags)} if tags else {}, "source": source}


def code(source: str, *tags: str) -> dict:
    return {"cell_type": "code", "metadata": {"tags": list(tags)} if tags else {}, "source": source,
            "execution_count": None, "outputs": []}


def lesson(*cells: dict) -> dict:
    """A minimal valid lesson: title cell, setup cell, then ``cells``."""
    return {"cells": [markdown("# 01 · Demo\n\nIntro.", "workshop-title"), code("", "workshop-setup"), *cells],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 4}


def student_sources(*cells: dict) -> list[str]:
    return [cell["source"] for cell in strip_solutions(lesson(*cells))["cells"][2:]]


# --- stripping ----------------------------------------------------------------------------------

def test_default_stub_replaces_block_at_its_indentation():
    solution = "def double(x):\n    # BEGIN SOLUTION\n    y = 2 * x\n    return y\n    # END SOLUTION\n"
    [student] = student_sources(code(solution))
    assert student == f"def double(x):\n    # TODO: your code here\n    {STUB_RAISE}\n"
    ast.parse(student)


def test_student_lines_become_code_and_solution_still_runs():
    solution = ("def gradient(x):\n"
                "    # BEGIN SOLUTION\n"
                "    # STUDENT: grad_x = ...  # TODO: derivative of x**2\n"
                "    # STUDENT: for _ in range(1):\n"
                "    # STUDENT:     pass\n"
                "    grad_x = 2 * x\n"
                "    # END SOLUTION\n"
                "    return grad_x\n")
    namespace: dict = {}
    exec(solution, namespace)  # the STUDENT lines are plain comments in the solution
    assert namespace["gradient"](3) == 6
    [student] = student_sources(code(solution))
    assert student == ("def gradient(x):\n"
                       "    grad_x = ...  # TODO: derivative of x**2\n"
                       "    for _ in range(1):\n"
                       "        pass\n"
                       "    return grad_x\n")


def test_several_blocks_keep_the_code_between_them():
    solution = "a = 1\n# BEGIN SOLUTION\nb = 2\n# END SOLUTION\nprint(a)\n### BEGIN SOLUTION\nc = 3\n### END SOLUTION"
    [student] = student_sources(code(solution))
    assert student == f"a = 1\n# TODO: your code here\n{STUB_RAISE}\nprint(a)\n# TODO: your code here\n{STUB_RAISE}"


def test_markdown_answer_is_replaced_by_the_stub():
    answer = "Why does it diverge?\n\n  <!-- BEGIN SOLUTION -->\n  The step is too large.\n  <!-- END SOLUTION -->\n\nNext."
    [student] = student_sources(markdown(answer))
    assert student == f"Why does it diverge?\n\n  {MARKDOWN_STUB}\n\nNext."


def test_solution_only_cells_are_dropped_and_student_only_cells_kept():
    cells = strip_solutions(lesson(code("check()", "solution-only"), markdown("Hint: use `@`.", "student-only"),
                                   code("x = 1")))["cells"]
    assert [cell["source"] for cell in cells[2:]] == ["Hint: use `@`.", "x = 1"]


def test_ci_check_cells_are_dropped_from_the_student_copy():
    cells = strip_solutions(lesson(code("assert accuracy > 0.9", "ci-check"), code("x = 1")))["cells"]
    assert [cell["source"] for cell in cells[2:]] == ["x = 1"]


def test_cells_without_markers_are_unchanged():
    source = "import torch\nx = torch.ones(3)  # a comment\n"
    assert student_sources(code(source), markdown("Text with *emphasis*.")) == [source, "Text with *emphasis*."]


@pytest.mark.parametrize(("cell", "line", "words"), [
    (code("# BEGIN SOLUTION\nx = 1\n# BEGIN SOLUTION\n# END SOLUTION"), 3, "cannot nest"),
    (code("x = 0\n# BEGIN SOLUTION\nx = 1"), 2, "never closed"),
    (code("x = 1\n# END SOLUTION"), 2, "without a BEGIN"),
    (code("if True:\n    # BEGIN SOLUTION\n    x = 1\n# END SOLUTION"), 4, "indented differently"),
    (code("x = 1  # BEGIN SOLUTION\n# END SOLUTION"), 1, "looks like a solution marker"),
    (code("# Begin Solution\nx = 1\n# END SOLUTION"), 1, "looks like a solution marker"),
    (code("# STUDENT: x = ...\nx = 1"), 1, "outside a BEGIN/END"),
    (markdown("Answer:\n<!-- BEGIN SOLUTION -->\nyes"), 2, "never closed"),
    (markdown("<!-- BEGIN SOLUTION -->\n<!-- BEGIN SOLUTION -->\n<!-- END SOLUTION -->"), 2, "cannot nest"),
    (markdown("yes\n<!-- END SOLUTION -->"), 2, "without a BEGIN"),
])
def test_broken_markers_name_notebook_cell_and_line(cell, line, words):
    with pytest.raises(AuthoringError) as raised:
        strip_solutions(lesson(markdown("Some text."), cell), "solutions/07_demo.ipynb")
    message = str(raised.value)
    assert "solutions/07_demo.ipynb, cell 4 (" in message
    assert f"line {line}:" in message
    assert words in message


def test_markers_in_solution_only_cells_are_checked_too():
    with pytest.raises(AuthoringError, match="never closed"):
        strip_solutions(lesson(code("# BEGIN SOLUTION\nx = 1", "solution-only")))


def test_prose_mentioning_the_words_is_not_a_marker():
    assert student_sources(markdown("We append solution vectors; the end solution is unique.")) == [
        "We append solution vectors; the end solution is unique."]


# --- structure rules ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("notebook", "words"), [
    ({"cells": [markdown("# T"), code("", "workshop-setup")]}, "tagged 'workshop-title', need exactly 1"),
    ({"cells": [markdown("# T", "workshop-title"), code("x = 1")]}, "tagged 'workshop-setup', need exactly 1"),
    ({"cells": [markdown("# T", "workshop-title"), code("import x"), code("", "workshop-setup")]},
     "comes before the 'workshop-setup' cell"),
    ({"cells": [code("", "workshop-title"), code("", "workshop-setup")]}, "must be markdown"),
    ({"cells": [markdown("# T", "workshop-title"), code("", "workshop-setup"), code("x", "student-only")]},
     "'student-only' is for markdown hints"),
    ({"cells": [markdown("# T", "workshop-title", "solution-only"), code("", "workshop-setup")]},
     "belong in both copies"),
    ({"cells": [markdown("# T", "workshop-title"), code("", "workshop-setup", "ci-check")]},
     "belong in both copies"),
    ({"cells": [markdown("# T", "workshop-title"), code("", "workshop-setup"), markdown("x", "ci-check")]},
     "'ci-check' marks a code cell"),
])
def test_title_and_setup_cells_are_required_where_they_belong(notebook, words):
    notebook.update(metadata={}, nbformat=4, nbformat_minor=5)
    with pytest.raises(AuthoringError, match=words):
        normalize_notebook(notebook, UPSTREAM, "solutions/01_demo.ipynb")


# --- badge and install cell -----------------------------------------------------------------------------

def title_of(notebook: dict) -> str:
    return notebook["cells"][0]["source"]


def test_each_copy_gets_a_badge_pointing_at_itself():
    solution = normalize_notebook(lesson(), UPSTREAM, "solutions/01_demo.ipynb")
    student = student_notebook(solution, UPSTREAM, "solutions/01_demo.ipynb", "notebooks/01_demo.ipynb")
    base = "https://colab.research.google.com/github/dl-workshop/deep-learning-workshop/blob/main/"
    assert title_of(solution) == (
        "# 01 · Demo\n\n[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"({base}solutions/01_demo.ipynb)\n\nIntro.")
    assert f"({base}notebooks/01_demo.ipynb)" in title_of(student)
    assert "solutions/" not in title_of(student)


@pytest.mark.parametrize("title", [
    "# Title\n[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/old/repo/blob/dev/x.ipynb)\nText",
    '# Title\n<a href="https://colab.research.google.com/github/old/repo"><img src="https://colab.research.google.com/assets/colab-badge.svg"/></a>\nText',
])
def test_an_existing_badge_is_rewritten_in_place(title):
    notebook = lesson()
    notebook["cells"][0]["source"] = title + "\n[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](x)"
    lines = title_of(normalize_notebook(notebook, FORK, "solutions/01_demo.ipynb")).split("\n")
    assert lines == ["# Title", colab_badge(FORK, "solutions/01_demo.ipynb"), "Text"]


def test_badge_goes_on_top_when_there_is_no_heading():
    notebook = lesson()
    notebook["cells"][0]["source"] = "Just text"
    assert title_of(normalize_notebook(notebook, UPSTREAM, "solutions/01_demo.ipynb")) == (
        colab_badge(UPSTREAM, "solutions/01_demo.ipynb") + "\n\nJust text")


@pytest.mark.parametrize("settings", [UPSTREAM, FORK])
def test_setup_cell_is_valid_ipython_and_installs_from_the_repository(settings):
    source = setup_cell_source(settings)
    python = TransformerManager().transform_cell(source)
    compile(python, "<setup cell>", "exec")  # %pip inside an `if` block is accepted
    assert f'"workshop-utils @ git+{settings.repository}@{settings.branch}"' in python
    assert "run_line_magic('pip'" in python
    assert "-e " not in source  # an editable install needs a Colab restart before it imports


def test_settings_are_validated():
    with pytest.raises(AuthoringError, match="https://github.com/ORG/REPO"):
        WorkshopSettings("https://github.com/org/repo.git/", "main", "workshop-utils")
    with pytest.raises(AuthoringError, match="branch"):
        WorkshopSettings("https://github.com/org/repo", "a..b", "workshop-utils")


def test_settings_come_from_pyproject(tmp_path):
    assert load_settings(REPO_ROOT).distribution == "workshop-utils"
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.workshop]\nbranch = "main"\n')
    with pytest.raises(AuthoringError, match="lacks repository under \\[tool.workshop\\]"):
        load_settings(tmp_path)


# --- serialization -------------------------------------------------------------------------------

def test_output_is_what_nbformat_writes_and_validates():
    solution = lesson(code("x = 'λ · é'"))
    solution["cells"][2]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "hi\n"}]
    solution["cells"][2]["execution_count"] = 7
    solution["cells"][2]["metadata"].update(scrolled=True, execution={"iopub.status.busy": "2026"})
    solution["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    for notebook in (normalize_notebook(solution, UPSTREAM, "solutions/01_demo.ipynb"),
                     student_notebook(solution, UPSTREAM, "solutions/01_demo.ipynb", "notebooks/01_demo.ipynb")):
        text = notebook_text(notebook)
        node = nbformat.reads(text, as_version=4)
        nbformat.validate(node)
        assert nbformat.writes(node) + "\n" == text
        assert "x = 'λ · é'" in text  # written as UTF-8, not as \u escapes, like nbformat
        for cell in json.loads(text)["cells"]:
            assert cell.get("outputs", []) == [] and cell.get("execution_count") is None
            assert {"scrolled", "execution"}.isdisjoint(cell["metadata"])
        assert "widgets" not in notebook["metadata"]


def test_normalizing_twice_changes_nothing_and_ids_are_shared():
    once = normalize_notebook(lesson(code("x = 1")), UPSTREAM, "solutions/01_demo.ipynb")
    assert notebook_text(normalize_notebook(once, UPSTREAM, "solutions/01_demo.ipynb")) == notebook_text(once)
    student = student_notebook(once, UPSTREAM, "solutions/01_demo.ipynb", "notebooks/01_demo.ipynb")
    assert [cell["id"] for cell in student["cells"]] == [cell["id"] for cell in once["cells"]]
    assert len({cell["id"] for cell in once["cells"]}) == 3


# --- the tree and the command line --------------------------------------------------------------------

# README.md around the table's markers: hand-written text that the build must leave byte for byte.
README_BEFORE = "# Workshop\n\nOpen a notebook:\n\n<!-- notebook-table:start (generated; do not edit) -->\n"
README_AFTER = "<!-- notebook-table:end -->\n\nHand-written text, [a link](https://example.org) | and a pipe.\n"
TITLES = {"01_first": "# 01 · First steps\n\nFit a line to points, e.g. by hand. Then more.",
          "02_second": "# 02 · Second | last\n\nIn this lesson you:\n- do things"}


def make_repo(root: Path, settings: WorkshopSettings = UPSTREAM, readme: bool = True) -> Path:
    """A throwaway workshop repository with two lessons, one ignored notebook and a README."""
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{settings.distribution}"\n\n[tool.workshop]\n'
        f'repository = "{settings.repository}"\nbranch = "{settings.branch}"\n', encoding="utf-8")
    (root / "solutions").mkdir(exist_ok=True)
    for name, title in TITLES.items():
        notebook = lesson(code("def f(x):\n    # BEGIN SOLUTION\n    return x\n    # END SOLUTION"),
                          markdown("<!-- BEGIN SOLUTION -->\nYes.\n<!-- END SOLUTION -->"))
        notebook["cells"][0]["source"] = title
        (root / "solutions" / f"{name}.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    (root / "solutions" / "scratch.ipynb").write_text("not even JSON", encoding="utf-8")
    if readme and not (root / "README.md").exists():
        (root / "README.md").write_text(README_BEFORE + README_AFTER, encoding="utf-8")
    return root


def readme_table(root: Path) -> str:
    """The README's generated block, after checking that everything around it is as written."""
    text = (root / "README.md").read_bytes().decode()
    assert text.startswith(README_BEFORE) and text.endswith(README_AFTER)
    return text[len(README_BEFORE):len(text) - len(README_AFTER)]


def snapshot(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*.ipynb"))}


def run_build_cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO_ROOT / "tools" / "build_notebooks.py"), "--root", str(root), *args],
                          capture_output=True, text=True, timeout=60)


def test_build_is_idempotent_and_byte_stable(tmp_path):
    repo = make_repo(tmp_path)
    first_actions = build_tree(repo)
    assert sorted(first_actions) == sorted([f"wrote {d}/{n}.ipynb" for d in ("solutions", "notebooks")
                                            for n in ("01_first", "02_second")] + ["wrote README.md"])
    first = snapshot(repo)
    assert build_tree(repo) == []
    assert snapshot(repo) == first
    assert check_tree(repo) == []
    student = json.loads(first["notebooks/01_first.ipynb"])
    assert "".join(student["cells"][2]["source"]).endswith(STUB_RAISE)
    assert "notebooks/scratch.ipynb" not in first  # only NN_name.ipynb files take part


def test_a_fork_url_changes_every_badge_and_install_line(tmp_path):
    repo = make_repo(tmp_path)
    build_tree(repo)
    make_repo(tmp_path, FORK)  # the fork edits pyproject.toml (sources are rewritten too, unnormalized)
    build_tree(repo)
    for name, data in snapshot(repo).items():
        if "scratch" in name:
            continue
        text = data.decode()
        assert "dl-workshop/deep-learning-workshop" not in text, name
        assert json.dumps(colab_badge(FORK, name))[1:-1] in text, name
        assert "git+https://github.com/someone/dl-course-fork@spring-2027" in text, name
    table = readme_table(repo)
    assert "dl-workshop/deep-learning-workshop" not in table
    for path in ("notebooks/01_first.ipynb", "notebooks/02_second.ipynb"):
        assert colab_badge(FORK, path) in table
    for path in ("solutions/01_first.ipynb", "solutions/02_second.ipynb"):
        assert f"[solution]({colab_url(FORK, path)})" in table


def test_check_lists_stale_missing_orphaned_and_unnormalized_files(tmp_path):
    repo = make_repo(tmp_path)
    assert build_tree(repo)
    before = snapshot(repo)
    assert run_build_cli(repo, "--check").returncode == 0

    stale = repo / "notebooks" / "01_first.ipynb"
    stale.write_text(stale.read_text().replace("Your answer here", "Yes"), encoding="utf-8")
    (repo / "notebooks" / "02_second.ipynb").unlink()
    (repo / "notebooks" / "05_gone.ipynb").write_text(stale.read_text(), encoding="utf-8")
    solution = repo / "solutions" / "01_first.ipynb"
    executed = json.loads(solution.read_text())
    executed["cells"][2]["execution_count"] = 1
    solution.write_text(json.dumps(executed), encoding="utf-8")
    changed = snapshot(repo)

    result = run_build_cli(repo, "--check")
    assert result.returncode == 1
    assert "notebooks/01_first.ipynb: stale" in result.stderr
    assert "notebooks/02_second.ipynb: missing" in result.stderr
    assert "notebooks/05_gone.ipynb: has no solutions/05_gone.ipynb" in result.stderr
    assert "solutions/01_first.ipynb: not normalized (has outputs or execution counts)" in result.stderr
    assert "python tools/build_notebooks.py" in result.stderr
    assert snapshot(repo) == changed  # --check wrote nothing

    assert run_build_cli(repo).returncode == 0
    assert snapshot(repo) == before
    assert run_build_cli(repo, "--check").returncode == 0


def test_a_broken_source_fails_the_build_and_writes_nothing(tmp_path):
    repo = make_repo(tmp_path)
    broken = json.loads((repo / "solutions" / "02_second.ipynb").read_text())
    broken["cells"].append(code("# BEGIN SOLUTION\nx = 1"))
    (repo / "solutions" / "02_second.ipynb").write_text(json.dumps(broken), encoding="utf-8")
    before = snapshot(repo)
    result = run_build_cli(repo)
    assert result.returncode == 2
    assert "solutions/02_second.ipynb, cell 5" in result.stderr and "never closed" in result.stderr
    assert snapshot(repo) == before and not (repo / "notebooks").exists()
    assert run_build_cli(repo, "--check").returncode == 2


# --- the README's table of notebooks -----------------------------------------------------------------

def test_readme_table_lists_every_lesson_with_its_colab_links(tmp_path):
    repo = make_repo(tmp_path)
    build_tree(repo)
    base = "https://colab.research.google.com/github/dl-workshop/deep-learning-workshop/blob/main"
    badge = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
    assert readme_table(repo) == (
        "\n"
        "| # | notebook | what you learn | open | solution |\n"
        "|---|---|---|---|---|\n"
        f"| 01 | First steps | Fit a line to points, e.g. by hand. | {badge}({base}/notebooks/01_first.ipynb) "
        f"| [solution]({base}/solutions/01_first.ipynb) |\n"
        f"| 02 | Second \\| last |  | {badge}({base}/notebooks/02_second.ipynb) "
        f"| [solution]({base}/solutions/02_second.ipynb) |\n"
        "\n")
    assert notebook_table(UPSTREAM, repo) == readme_table(repo)  # the build and the function agree


@pytest.mark.parametrize(("title", "number", "expected_title", "expected_summary"), [
    ("# 03 · Neural networks\n\nBADGE\n\nWhy depth helps. And more.", "03", "Neural networks", "Why depth helps."),
    ("# Lesson 3: MLPs #\nBADGE\nTrain an MLP\nwith `a. B` in code.\n\nNext.", "03",
     "MLPs", "Train an MLP with `a. B` in code."),
    ("# 3D convolutions\n\n- a list, not a sentence", "03", "3D convolutions", None),
    ("# 02 · Not this lesson's number\n\n## Goals\n\nText.", "03", "02 · Not this lesson's number", None),
    ("# 03. Plots\n\nYou will:\n\n1. plot", "03", "Plots", None),
    ("# 03 · Images\n\n![a picture](x.png)", "03", "Images", None),
])
def test_lesson_title_loses_its_number_and_summary_is_a_first_sentence_of_prose(
        title, number, expected_title, expected_summary):
    notebook = lesson()
    notebook["cells"][0]["source"] = title.replace("BADGE", colab_badge(UPSTREAM, "x.ipynb"))
    entry = lesson_entry(notebook, f"solutions/{number}_demo.ipynb")
    assert (entry.number, entry.title, entry.summary) == (number, expected_title, expected_summary)
    assert entry.student_path == f"notebooks/{number}_demo.ipynb"


def test_a_title_cell_without_heading_is_an_error_for_the_table():
    notebook = lesson()
    notebook["cells"][0]["source"] = "Just text"
    with pytest.raises(AuthoringError, match="solutions/01_demo.ipynb: the 'workshop-title' cell has no '# Title'"):
        lesson_entry(notebook, "solutions/01_demo.ipynb")


def test_table_leaves_out_the_summary_column_when_no_lesson_has_one_and_is_empty_without_lessons():
    notebook = lesson()
    notebook["cells"][0]["source"] = "# 04 · CNNs\n\n## Goals"
    table = table_markdown(FORK, [lesson_entry(notebook, "solutions/04_cnn.ipynb")])
    assert table.split("\n")[1:3] == ["| # | notebook | open | solution |", "|---|---|---|---|"]
    assert "| 04 | CNNs | [![Open In Colab]" in table
    assert table_markdown(FORK, []) == ""


def test_a_stale_readme_table_is_reported_and_rebuilt_and_only_the_block_changes(tmp_path):
    repo = make_repo(tmp_path)
    assert run_build_cli(repo).returncode == 0
    readme = repo / "README.md"
    built = readme.read_bytes()

    readme.write_bytes(built.replace(b"First steps", b"Edited by hand"))
    hand_edited = readme.read_bytes()
    result = run_build_cli(repo, "--check")
    assert result.returncode == 1
    assert "README.md: the table of notebooks is stale" in result.stderr
    assert "commit solutions/, notebooks/ and README.md" in result.stderr
    assert readme.read_bytes() == hand_edited  # --check wrote nothing
    assert run_build_cli(repo).returncode == 0
    assert readme.read_bytes() == built

    # A renamed lesson makes the table stale too; the rebuild follows it.
    solution = repo / "solutions" / "01_first.ipynb"
    solution.write_text(solution.read_text(encoding="utf-8").replace("First steps", "Renamed"), encoding="utf-8")
    assert "README.md: the table of notebooks is stale" in run_build_cli(repo, "--check").stderr
    assert run_build_cli(repo).returncode == 0
    assert "| 01 | Renamed |" in readme_table(repo)
    assert run_build_cli(repo, "--check").returncode == 0


def test_a_fresh_readme_is_not_rewritten_and_keeps_its_line_ends_and_permissions(tmp_path):
    repo = make_repo(tmp_path, readme=False)
    readme = repo / "README.md"
    readme.write_bytes((README_BEFORE + "stale\n" + README_AFTER).replace("\n", "\r\n").encode())
    readme.chmod(0o640)
    assert update_readme(repo) is True
    text = readme.read_bytes().decode()
    assert text.count("\r\n") == text.count("\n")  # every line still ends in CRLF, the table's too
    assert text.replace("\r\n", "\n") == README_BEFORE + notebook_table(UPSTREAM, repo) + README_AFTER
    assert readme.stat().st_mode & 0o777 == 0o640
    modified = readme.stat().st_mtime_ns
    assert update_readme(repo) is False
    assert "wrote README.md" not in build_tree(repo)  # notebooks change, the README table does not
    assert readme.stat().st_mtime_ns == modified


@pytest.mark.parametrize(("readme", "words"), [
    ("# Workshop\n\nNo table here.\n", "found 0 start and 0 end marker line(s)"),
    (README_BEFORE + "no end marker\n", "found 1 start and 0 end marker line(s)"),
    (README_BEFORE + README_BEFORE + README_AFTER, "found 2 start and 1 end marker line(s)"),
    (README_AFTER + README_BEFORE, "the end marker comes before the start marker"),
    (None, "README.md does not exist"),
])
def test_readme_without_its_markers_fails_the_build_and_writes_nothing(tmp_path, readme, words):
    repo = make_repo(tmp_path, readme=False)
    if readme is not None:
        (repo / "README.md").write_text(readme, encoding="utf-8")
    before = snapshot(repo)
    for args in ((), ("--check",)):
        result = run_build_cli(repo, *args)
        assert result.returncode == 2, result.stderr
        assert words in result.stderr
        assert "<!-- notebook-table:start" in result.stderr and "<!-- notebook-table:end -->" in result.stderr
    assert snapshot(repo) == before and not (repo / "notebooks").exists()
    assert (repo / "README.md").exists() == (readme is not None)
    if readme is not None:
        assert (repo / "README.md").read_text(encoding="utf-8") == readme
    with pytest.raises(AuthoringError, match="marker"):
        readme_with_table(readme or "", "")


# --- timing ------------------------------------------------------------------------------------------

def write_notebook(path: Path, *sources: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Timing test")]
    notebook.cells += [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(notebook, path)
    return path


def test_time_notebook_runs_a_fresh_kernel_in_the_notebook_folder_in_smoke_mode(tmp_path):
    timer = load_tool("time_notebooks")
    folder = tmp_path / "lessons"
    folder.mkdir()
    path = write_notebook(
        folder / "01_ok.ipynb",
        "import os, pathlib, sys, time\n"
        f"assert pathlib.Path.cwd() == pathlib.Path({str(folder.resolve())!r}), pathlib.Path.cwd()\n"
        "assert os.environ['WORKSHOP_SMOKE'] == '1' and os.environ['WANDB_MODE'] == 'disabled'\n"
        f"assert sys.executable == {sys.executable!r}, sys.executable",
        "time.sleep(0.3)")
    timing = timer.time_notebook(path, "smoke", cell_timeout=60)
    assert timing.ok, timing.failure and timing.failure.details
    assert timing.slowest_cell[0] == 3 and timing.slowest_cell[1] >= 0.3
    assert timing.seconds >= timing.slowest_cell[1]
    assert json.loads(path.read_text())["cells"][1]["outputs"] == []  # the file is left alone


def test_time_notebooks_cli_reports_the_failing_cell_and_exits_1(tmp_path, monkeypatch, capsys):
    timer = load_tool("time_notebooks")
    monkeypatch.setenv("WORKSHOP_SMOKE", "1")  # full mode must remove it
    path = write_notebook(tmp_path / "02_fails.ipynb",
                          "import os\nassert 'WORKSHOP_SMOKE' not in os.environ",
                          "raise ValueError('boom | bang')")
    report = tmp_path / "timings" / "timings.md"
    assert timer.main(["--mode", "full", "--timeout", "60", str(path), "--output", str(report)]) == 1
    table = report.read_text()
    assert "CPU cores" in table
    assert "| 02_fails | full |" in table
    assert "FAILED: cell 3: ValueError: boom \\| bang |" in table
    assert "raise ValueError('boom | bang')" in capsys.readouterr().err  # the failing cell's traceback


def test_kernel_env_modes():
    timer = load_tool("time_notebooks")
    base = {"PATH": "/bin", "WORKSHOP_SMOKE": "1"}
    assert timer.kernel_env("smoke", base) == {"PATH": "/bin", "WORKSHOP_SMOKE": "1", "WANDB_MODE": "disabled"}
    assert timer.kernel_env("full", base) == {"PATH": "/bin", "WANDB_MODE": "disabled"}
    with pytest.raises(ValueError):
        timer.kernel_env("fast", base)


def test_sliced_waits_find_a_queued_reply_and_keep_the_overall_timeout():
    import asyncio
    import time
    from queue import Empty

    timer = load_tool("time_notebooks")
    waits: list[float | None] = []

    def channel(misses: int):
        async def get_msg(timeout=None):
            waits.append(timeout)
            if len(waits) <= misses:
                await asyncio.sleep(min(timeout, 0.01))
                raise Empty
            return {"msg": "reply"}
        return get_msg

    # A wait that misses the reply (as nbclient#312 does) is followed by a new short one that finds it.
    assert asyncio.run(timer._sliced(channel(misses=3), slice_seconds=0.01)(timeout=600)) == {"msg": "reply"}
    assert len(waits) == 4 and all(wait <= 0.01 for wait in waits)
    waits.clear()
    assert asyncio.run(timer._sliced(channel(misses=2), slice_seconds=0.01)(timeout=None)) == {"msg": "reply"}
    # Nothing ever comes: Empty once the overall timeout has passed, not before.
    waits.clear()
    started = time.monotonic()
    with pytest.raises(Empty):
        asyncio.run(timer._sliced(channel(misses=10**6), slice_seconds=0.01)(timeout=0.2))
    assert 0.2 <= time.monotonic() - started < 2


# --- links to docs/ -------------------------------------------------------------------------------------

def test_links_to_docs_point_at_the_repository_so_they_work_in_colab():
    fork = WorkshopSettings("https://github.com/someone/fork", "spring", "workshop-utils")
    relative = "See the [notation](../docs/NOTATION.md) and [η](../docs/NOTATION.md#learning-rate)."
    upstream = with_docs_links(relative, UPSTREAM)
    assert upstream == ("See the [notation](https://github.com/dl-workshop/deep-learning-workshop/blob/main/docs/"
                        "NOTATION.md) and [η](https://github.com/dl-workshop/deep-learning-workshop/blob/main/docs/"
                        "NOTATION.md#learning-rate).")
    assert with_docs_links(upstream, UPSTREAM) == upstream  # a second build changes nothing
    assert with_docs_links(upstream, fork) == with_docs_links(relative, fork)  # a fork's build follows the fork
    assert "someone/fork/blob/spring/docs/NOTATION.md" in with_docs_links(upstream, fork)


def test_other_links_are_left_alone():
    text = "[torch](https://pytorch.org/docs/stable/index.html) and [a file](../README.md) and [x](docs/a.md)"
    assert with_docs_links(text, UPSTREAM) == text


def test_the_build_rewrites_docs_links_in_markdown_cells_only():
    notebook = lesson(markdown("[notation](../docs/NOTATION.md)"), code("# [x](../docs/NOTATION.md)"))
    notebook.update(metadata={}, nbformat=4, nbformat_minor=5)
    cells = normalize_notebook(notebook, UPSTREAM, "solutions/01_demo.ipynb")["cells"]
    assert cells[2]["source"].startswith("[notation](https://github.com/dl-workshop/")
    assert cells[3]["source"] == "# [x](../docs/NOTATION.md)"


# --- slides -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("cell", "expected"), [
    (markdown("# 03 · Neural networks\n\nText", "workshop-title"), "slide"),
    (markdown("## 2. Activations\n\nText"), "slide"),
    (markdown("### Exercise 03.2 (softmax)\n\nWrite it."), "subslide"),
    (markdown("Some explanation, *no heading*."), "-"),
    (code("model = nn.Linear(2, 1)"), "fragment"),
    (code("", "workshop-setup"), "skip"),
    (code("assert accuracy > 0.8", "ci-check"), "skip"),
    (code("check_softmax(softmax)", "solution-only"), "skip"),
])
def test_the_lesson_structure_decides_the_slides(cell, expected):
    assert slide_type(cell) == expected


def test_the_build_writes_slideshow_metadata_that_rise_reads():
    notebook = lesson(markdown("## 1. Tensors"), code("x = 1"))
    notebook.update(metadata={}, nbformat=4, nbformat_minor=5)
    cells = normalize_notebook(notebook, UPSTREAM, "solutions/01_demo.ipynb")["cells"]
    assert [cell["metadata"]["slideshow"]["slide_type"] for cell in cells] == ["slide", "skip", "slide", "fragment"]


def test_every_lesson_lets_tall_slides_scroll_in_rise_keeping_other_rise_settings():
    notebook = lesson(markdown("## 1. Tensors"), code("x = 1"))
    notebook.update(metadata={}, nbformat=4, nbformat_minor=5)
    assert normalize_notebook(notebook, UPSTREAM, "solutions/01_demo.ipynb")["metadata"]["rise"] == {"scroll": True}
    notebook["metadata"] = {"rise": {"scroll": False, "theme": "serif"}}
    normalized = normalize_notebook(notebook, UPSTREAM, "solutions/01_demo.ipynb")
    assert normalized["metadata"]["rise"] == {"scroll": True, "theme": "serif"}
    student = student_notebook(normalized, UPSTREAM, "solutions/01_demo.ipynb", "notebooks/01_demo.ipynb")
    assert student["metadata"]["rise"] == {"scroll": True, "theme": "serif"}
