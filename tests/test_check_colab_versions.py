"""tools/check_colab_versions.py: the pins it reads, the tests it runs, the environment it builds, and a failed
install."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("check_colab_versions", ROOT / "tools" / "check_colab_versions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pins_are_read_from_name_equals_version_lines_only(tool, tmp_path):
    pins_file = tmp_path / "pins.txt"
    pins_file.write_text("# a comment\nipywidgets==7.7.1   # why\n\nnumpy>=2\njupyterlab_widgets==1.1.11\n")
    assert tool.read_pins(pins_file) == {"ipywidgets": "7.7.1", "jupyterlab_widgets": "1.1.11"}
    assert tool.read_pins()["ipywidgets"] == "7.7.1"  # the real list: Colab's widgets are 7.7


def test_it_runs_the_solutions_the_widget_tests_and_the_checker_tests_only(tool, tmp_path):
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_explorer.py").write_text("import numpy as np\nimport ipywidgets as widgets\n")
    (tests / "test_race.py").write_text('"""ipywidgets is mentioned here."""\n\n'
                                        'def test():\n    from ipywidgets import IntSlider\n')
    (tests / "test_checkers_mlp.py").write_text("from workshop_utils.checkers import check_mlp\n")
    (tests / "test_download.py").write_text('"""No widget here; ipywidgets in a docstring only."""\n')
    (tests / "jupyterlab_browser.py").write_text("import ipywidgets\n")  # a helper, not a test file
    assert tool.tests_to_run(tmp_path) == ["solutions", "tests/test_checkers_mlp.py", "tests/test_explorer.py",
                                           "tests/test_race.py"]
    real = tool.tests_to_run()
    assert "tests/test_tracking_and_widgets.py" in real and "tests/test_checkers_core.py" in real
    assert "tests/test_browser_notebooks.py" not in real and "tests/test_download.py" not in real


def test_the_environment_puts_colab_versions_first(tool, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    env = tool.environment(tmp_path)
    assert env["PYTHONPATH"].split(":") == [str(tmp_path), "/elsewhere"]


def test_a_failed_install_leaves_nothing_behind(tool, tmp_path, monkeypatch):
    target = tmp_path / "colab-versions"

    def failing_pip(command, **kwargs):
        partial = Path(command[command.index("--target") + 1])
        (partial / "half_installed").mkdir(parents=True)  # what pip had written before it failed
        return subprocess.CompletedProcess(command, 1)

    monkeypatch.setattr(tool.subprocess, "run", failing_pip)
    with pytest.raises(SystemExit, match="could not install Colab's versions"):
        tool.install({"ipywidgets": "7.7.1"}, target)
    assert list(tmp_path.iterdir()) == []


def test_a_complete_install_is_kept_and_not_repeated(tool, tmp_path, monkeypatch):
    target = tmp_path / "colab-versions"
    calls = []

    def fake_pip(command, **kwargs):
        calls.append(command)
        (Path(command[command.index("--target") + 1]) / "ipywidgets").mkdir(parents=True)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(tool.subprocess, "run", fake_pip)
    tool.install({"ipywidgets": "7.7.1"}, target)
    tool.install({"ipywidgets": "7.7.1"}, target)
    assert len(calls) == 1 and (target / "ipywidgets").is_dir() and not (tmp_path / "colab-versions.partial").exists()
    assert calls[0][:3] == [sys.executable, "-m", "pip"] and "--no-deps" in calls[0]
    tool.install({"ipywidgets": "7.7.2"}, target)  # a changed list installs again
    assert len(calls) == 2
