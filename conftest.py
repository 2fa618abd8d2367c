"""Test-session defaults: hermetic, CI-sized and quiet.

Set before any kernel starts, so nbval's notebook kernels inherit them. Each one can be overridden
from the shell (e.g. ``WORKSHOP_SMOKE=0 python -m pytest ...`` runs the notebooks at full size).
"""

import os
from pathlib import Path

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
