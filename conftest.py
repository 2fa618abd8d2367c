"""Test-session defaults (hermetic, CI-sized and quiet) and the order of the work under ``-n 2``.

The environment is set before any kernel starts, so nbval's notebook kernels inherit it. Each variable can
be overridden from the shell (e.g. ``WORKSHOP_SMOKE=0 python -m pytest ...`` runs the notebooks at full size).
"""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent

# Smoke mode: tiny subsets and one epoch, so every notebook finishes in seconds (see README).
os.environ.setdefault("WORKSHOP_SMOKE", "1")
# Never log to Weights & Biases from tests: runs become no-ops that write nothing.
os.environ.setdefault("WANDB_MODE", "disabled")
# Tests never touch the network: data comes from the cache, Debian's Fashion-MNIST or stand-ins.
os.environ.setdefault("WORKSHOP_OFFLINE", "1")
# A cache of the test run's own, so a developer's real cache is neither used nor changed.
os.environ.setdefault("WORKSHOP_DATA_DIR", str(ROOT / "build" / "test-data"))
os.environ.setdefault("TORCH_HOME", str(ROOT / "build" / "test-torch-home"))
# Under `-n 2` the two workers, and the kernels and browsers they start, share the cores. PyTorch's default
# of one thread per core makes two notebooks that train at once keep waiting for each other (many times
# slower on 2 cores), so each worker and everything it starts computes on one thread.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")


# --- Scheduling under `-n 2 --dist loadfile` (the README's test command) -----------------------------------
# The notebooks are most of the run: each browser test of a notebook and each solution under nbval takes
# 10-70 s, the unit tests a few seconds a file. Started last, one of them keeps one core busy while the
# other has nothing left to do. So the long work goes first, and each notebook's browser test is a work
# unit of its own (xdist's loadfile would give the whole browser file to one worker, and by default it
# queues the files with the most tests first, which put the browser test last).
BROWSER_NOTEBOOK_TEST = "tests/test_browser_notebooks.py::test_notebook_runs_in_the_browser"


def work_rank(nodeid: str) -> int:
    """0: a notebook in the browser; 1: a solution under nbval; 2: everything else."""
    if nodeid.startswith("tests/test_browser_notebooks.py"):
        return 0
    if nodeid.split("::", 1)[0].endswith(".ipynb"):
        return 1
    return 2


def pytest_collection_modifyitems(config, items):
    # A stable sort: tests keep their order within a file (nbval needs a notebook's cells in order).
    items.sort(key=lambda item: work_rank(item.nodeid))


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class LongestWorkFirst(LoadFileScheduling):
        """loadfile, with each notebook's browser test a unit of its own, in collection order."""

        def _split_scope(self, nodeid: str) -> str:
            return nodeid if nodeid.startswith(BROWSER_NOTEBOOK_TEST) else super()._split_scope(nodeid)

    config.option.loadscopereorder = False  # keep the collection order above, long work first
    return LongestWorkFirst(config, log)
