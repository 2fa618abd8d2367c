"""The promises of the README and pyproject.toml: one test command, Colab-safe dependency ranges."""

import importlib.util
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement

try:
    import tomllib  # Python >= 3.11
except ModuleNotFoundError:  # Python 3.10, which pyproject.toml still supports
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]



def _colab_versions() -> dict[str, str]:
    """What Google Colab has preinstalled: tools/colab_versions.txt, the list the Colab-versions run installs."""
    spec = importlib.util.spec_from_file_location("check_colab_versions", ROOT / "tools" / "check_colab_versions.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return {name.lower().replace("_", "-"): version for name, version in tool.read_pins().items()}


# Installing the package there must be satisfied by these, i.e. replace nothing.
COLAB_VERSIONS = _colab_versions()


def _ci_test_command() -> str:
    match = re.search(r'^TEST_COMMAND="([^"]+)"', (ROOT / ".ci" / "run").read_text(), re.MULTILINE)
    assert match, ".ci/run must define TEST_COMMAND"
    return match.group(1)


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    command = _ci_test_command()
    assert command.startswith("python -m pytest")
    install_and_test = f"pip install -r requirements.txt && {command}"
    assert install_and_test in readme, f"README must give the install-and-test command ending in: {command}"
    assert "pip install -r requirements.txt && jupyter lab notebooks/" in readme


def _dependencies() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(line) for line in project["dependencies"]]


@pytest.mark.parametrize("requirement", _dependencies(), ids=lambda r: r.name)
def test_colab_preinstalled_versions_satisfy_every_dependency(requirement):
    name = requirement.name.lower().replace("_", "-")
    assert name in COLAB_VERSIONS, f"{name}: add Colab's version to COLAB_VERSIONS (or drop the dependency)"
    assert requirement.specifier.contains(COLAB_VERSIONS[name], prereleases=True), (
        f"{requirement} would replace Colab's {name} {COLAB_VERSIONS[name]}")


def test_no_exact_pins_on_what_colab_provides():
    texts = [(ROOT / "requirements.txt").read_text(), (ROOT / "pyproject.toml").read_text()]
    for text in texts:
        for package in ("torch", "torchvision", "ipywidgets"):
            assert not re.search(rf'^\s*"?{package}\s*==', text, re.MULTILINE), f"== pin on {package}"


def test_data_download_script_and_ci_script_exist():
    assert (ROOT / "data_download.py").is_file()
    assert (ROOT / ".ci" / "run").read_text().startswith("#!/usr/bin/env bash")
