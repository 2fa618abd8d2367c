#!/usr/bin/env python
"""Run the notebooks, the widget tests and the checker tests with Google Colab's preinstalled versions.

    python tools/check_colab_versions.py                 # install the pins once, then the tests
    python tools/check_colab_versions.py -- -k widgets   # extra pytest arguments after --

Colab ships ipywidgets 7.7.1, an older matplotlib, scikit-learn, pandas, NumPy and wandb, and the
workshop's install cell replaces none of them. Here they go into a second environment,
``build/colab-versions/``: the exact versions of ``tools/colab_versions.txt`` installed with
``pip --target`` and put in front of this virtualenv through PYTHONPATH. torch and torchvision are the
exception (CUDA builds of several GB): the virtualenv's own are used. Then, in it, what those versions
change: every solution through nbval in smoke mode (the notebooks' kernels import the pinned widgets,
plots, pandas and scikit-learn), the widget tests (every test file that imports ipywidgets) and the
checker tests (``tests/test_checkers_*.py``: NumPy and pandas answers). The other unit tests, the
browser test (JupyterLab 4 needs ipywidgets 8) and the attendee copies are left to the main run.
CI runs this after the main suite (``.ci/run``).

Exit status: pytest's; 2 when the pins cannot be installed or are not what the kernel imports.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PINS_FILE = REPO_ROOT / "tools" / "colab_versions.txt"
DEFAULT_TARGET = REPO_ROOT / "build" / "colab-versions"
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s#]+)")
# Too big to install here (CUDA builds of several GB): the virtualenv's own torch stands in for Colab's.
NOT_INSTALLED = {"torch", "torchvision"}
IMPORTS_IPYWIDGETS = re.compile(r"^\s*(import|from) ipywidgets\b", re.MULTILINE)


def read_pins(path: Path = PINS_FILE) -> dict[str, str]:
    """``{distribution: version}`` from the ``name==version`` lines of ``path`` (comments skipped)."""
    pins = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            pins[match.group(1)] = match.group(2)
    return pins


def tests_to_run(repo_root: Path = REPO_ROOT) -> list[str]:
    """What Colab's versions can change, as pytest paths relative to ``repo_root``: the solutions, the
    widget tests (test files that import ipywidgets) and the checker tests."""
    tests = sorted(repo_root.glob("tests/test_*.py"))
    widgets = [path for path in tests if IMPORTS_IPYWIDGETS.search(path.read_text(encoding="utf-8"))]
    checkers = [path for path in tests if path.name.startswith("test_checkers_")]
    chosen = sorted(set(widgets) | set(checkers))
    return ["solutions", *(path.relative_to(repo_root).as_posix() for path in chosen)]


def install(pins: dict[str, str], target: Path) -> None:
    """Install exactly ``pins`` into ``target``, once: into a scratch folder, renamed when complete."""
    stamp = target / ".pins"
    wanted = "\n".join(f"{name}=={version}" for name, version in sorted(pins.items()))
    if stamp.exists() and stamp.read_text() == wanted:
        print(f"Colab's versions already installed in {target}")
        return
    scratch = target.with_name(target.name + ".partial")
    shutil.rmtree(scratch, ignore_errors=True)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(scratch),
               *(f"{name}=={version}" for name, version in pins.items())]
    print("installing Colab's versions into", target, ":", ", ".join(f"{n}=={v}" for n, v in pins.items()))
    if subprocess.run(command).returncode != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        sys.exit("could not install Colab's versions (see pip's message above); "
                 "this needs the package index (PyPI or a mirror)")
    (scratch / ".pins").write_text(wanted)
    shutil.rmtree(target, ignore_errors=True)
    scratch.rename(target)


def environment(target: Path) -> dict[str, str]:
    """This process's environment with ``target`` first on PYTHONPATH (kernels and workers inherit it)."""
    paths = [str(target), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def imported_versions(pins: dict[str, str], env: dict[str, str]) -> dict[str, str]:
    """The version of each pinned distribution that Python sees in ``env``."""
    script = ("import importlib.metadata as m, json, sys; "
              "print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))")
    output = subprocess.run([sys.executable, "-c", script, *pins], env=env, check=True,
                            capture_output=True, text=True).stdout
    import json

    return json.loads(output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", type=Path, default=DEFAULT_TARGET, help="where Colab's versions go")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)

    pins = {name: version for name, version in read_pins().items() if name not in NOT_INSTALLED}
    install(pins, args.target)
    env = environment(args.target)
    seen = imported_versions(pins, env)
    wrong = {name: (version, seen.get(name)) for name, version in pins.items()
             if seen.get(name) != version}
    if wrong:
        print(f"these are not Colab's versions in the test environment (wanted, found): {wrong}", file=sys.stderr)
        return 2
    # Versions can be right and still not import together (pandas 2 needs pytz, which pandas 3 dropped).
    imports = "import pandas, matplotlib.pyplot, sklearn, ipywidgets, wandb, workshop_utils.training"
    failed = subprocess.run([sys.executable, "-c", imports], env=env, capture_output=True, text=True)
    if failed.returncode != 0:
        print(f"Colab's versions do not import together:\n{failed.stderr[-2000:]}\n"
              f"add what is missing to {PINS_FILE.relative_to(REPO_ROOT)}", file=sys.stderr)
        return 2
    print("testing with Colab's versions:", ", ".join(f"{n} {v}" for n, v in pins.items()), flush=True)

    command = [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadfile", "--nbval-lax",
               "--nbval-current-env", *tests_to_run(), *args.pytest_args]
    return subprocess.run(command, env=env, cwd=REPO_ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
