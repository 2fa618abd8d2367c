"""Unit-test fixtures: a headless matplotlib and the path of the shared reference data."""

from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def shared_dir() -> Path:
    """``../shared`` beside the repository (real reference files); skips when it is not there."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"reference data not found at {SHARED_DIR} (only the workshop's own checkout has it)")
    return SHARED_DIR
