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


@pytest.fixture
def one_torch_thread():
    """Tiny models train fastest on one thread, and up to 100x slower on two busy cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
