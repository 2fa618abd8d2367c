"""Workshop settings, read from environment variables at call time.

Every knob an instructor or CI may turn lives here, so that notebooks, loaders, the training helpers
and ``data_download.py`` agree on one meaning:

============================  =====================================================================
``WORKSHOP_DATA_DIR``         where data sets and weights are cached (default: see ``data_dir()``)
``WORKSHOP_MIRROR``           base URL of a room mirror (``python data_download.py serve``) tried
                              before the public sources
``WORKSHOP_SMOKE``            ``1``: tiny subsets and capped epochs, for CI; unset: the full lesson
``WORKSHOP_REAL_DATA_ONLY``   ``1``: raise an error instead of falling back to a stand-in data set
``WORKSHOP_OFFLINE``          ``1``: never touch the network; use the cache, local copies or stand-ins
``WORKSHOP_DEVICE``           ``cpu``, ``cuda`` or ``mps``: overrides the automatic device choice
``WORKSHOP_LEADERBOARD``      the competition's leaderboard file (default: in the data directory)
``WORKSHOP_MAX_SUBMISSIONS``  submissions per name on that leaderboard (default 10; ``0``: no limit)
============================  =====================================================================
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "dl-workshop"

_TRUE = {"1", "true", "yes", "on"}


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def in_colab() -> bool:
    """True inside a Google Colab kernel."""
    return "google.colab" in sys.modules


def smoke_mode() -> bool:
    """True when ``WORKSHOP_SMOKE`` asks for the quick CI run (tiny subsets, one epoch)."""
    return _flag("WORKSHOP_SMOKE")


def real_data_only() -> bool:
    """True when stand-in data sets are forbidden (``WORKSHOP_REAL_DATA_ONLY=1``)."""
    return _flag("WORKSHOP_REAL_DATA_ONLY")


def offline() -> bool:
    """True when the network must not be used (``WORKSHOP_OFFLINE=1``)."""
    return _flag("WORKSHOP_OFFLINE")


def device_override() -> str | None:
    """The device named by ``WORKSHOP_DEVICE`` (lower-case), or None for the automatic choice."""
    name = os.environ.get("WORKSHOP_DEVICE", "").strip().lower()
    return name or None


def mirror_url() -> str | None:
    """The room mirror's base URL without a trailing slash, or None."""
    url = os.environ.get("WORKSHOP_MIRROR", "").strip()
    return url.rstrip("/") or None


def data_dir() -> Path:
    """The cache directory for data sets and weights (not created here).

    ``WORKSHOP_DATA_DIR`` wins; in Colab it is ``/content/workshop_data`` (the VM's disk, gone with
    the runtime); elsewhere the user cache (``~/.cache/dl-workshop`` on Linux), so that every
    notebook and ``data_download.py`` share one copy whatever folder they run from.
    """
    configured = os.environ.get("WORKSHOP_DATA_DIR", "").strip()
    if configured:
        return Path(configured).expanduser().resolve()
    if in_colab():
        return Path("/content/workshop_data")
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    else:
        base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / APP_NAME


def leaderboard_path() -> Path:
    """The file notebook 08's leaderboard is stored in (not created here).

    ``WORKSHOP_LEADERBOARD`` wins, so that an instructor can point a room's notebooks at one file on a
    shared local disk; otherwise ``leaderboard.sqlite3`` in :func:`data_dir`.
    """
    configured = os.environ.get("WORKSHOP_LEADERBOARD", "").strip()
    if configured:
        return Path(configured).expanduser().resolve()
    return data_dir() / "leaderboard.sqlite3"


def max_submissions(default: int) -> int:
    """``WORKSHOP_MAX_SUBMISSIONS`` as a whole number (0: no limit), else ``default``; ValueError if it is not one."""
    configured = os.environ.get("WORKSHOP_MAX_SUBMISSIONS", "").strip()
    if not configured:
        return default
    if not configured.isdigit():
        raise ValueError(f"WORKSHOP_MAX_SUBMISSIONS must be a whole number of submissions per name (0: no limit), "
                         f"got {configured!r}: fix or unset it.")
    return int(configured)


def smoke_size(full: int, smoke: int) -> int:
    """``full`` normally, ``min(full, smoke)`` in smoke mode: sizes of subsets, epochs, steps."""
    return min(full, smoke) if smoke_mode() else full


# The names notebooks use. Attendees read "quick run", the instructor's and CI's name is smoke mode:
# one setting, ``WORKSHOP_SMOKE``, behind both.
def quick_run() -> bool:
    """True for a quick run (``WORKSHOP_SMOKE=1``): small subsets and few epochs, not the lesson's numbers."""
    return smoke_mode()


def full_or_quick(full: int, quick: int) -> int:
    """``full`` in the lesson's run, ``min(full, quick)`` in a quick run: sizes of subsets, epochs, steps."""
    return smoke_size(full, quick)


def announce_mode() -> str:
    """A one-line statement of the run mode, printed by notebooks near the top."""
    if smoke_mode():
        return ("QUICK RUN (WORKSHOP_SMOKE=1): tiny subsets and few epochs, to check that everything runs. "
                "Numbers below are not the lesson's; unset WORKSHOP_SMOKE for the full run.")
    return "Full run: the complete data sets and epochs of the lesson."
