"""The promises of the README and pyproject.toml: one test command, Colab-safe dependency ranges."""

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement

try:
    import tomllib  # Python >= 3.11
except ModuleNotFoundError:  # Python 3.10, which pyproject.toml still supports
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]

# What Google Colab has preinstalled (snapshot 2026-08, see CURRICULUM.md): installing the package
# there must be satisfied by these, i.e. replace nothing.
COLAB_VERSIONS = {
    "torch": "2.11.0", "torchvision": "0.26.0", "numpy": "2.0.2", "pandas": "2.2.2", "matplotlib": "3.10.0",
    "scikit-learn": "1.6.1", "pillow": "11.1.0", "tqdm": "4.67.1", "ipywidgets": "7.7.1",
    "vega-datasets": "0.9.0", "kagglehub": "1.0.0", "wandb": "0.28.0",
}


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
