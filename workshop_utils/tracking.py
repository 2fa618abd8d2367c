"""Optional experiment tracking with Weights & Biases, without ever putting a key in a notebook.

W&B is off unless an attendee switches it on. The key comes, in this order, from the ``WANDB_API_KEY``
environment variable, a Colab secret named ``WANDB_API_KEY`` (the key icon in Colab's left bar), or a
hidden prompt. ``WANDB_MODE=disabled`` (what CI sets) turns every run into a no-op that writes nothing.
"""

from __future__ import annotations

import getpass
import os
from typing import Any

KEY_NAME = "WANDB_API_KEY"


def wandb_disabled() -> bool:
    """True when ``WANDB_MODE`` is ``disabled`` (CI, or an attendee who wants no tracking)."""
    return os.environ.get("WANDB_MODE", "").strip().lower() == "disabled"


def colab_secret(name: str) -> str | None:
    """The Colab secret ``name``, or None outside Colab, when it is missing, or when access is refused."""
    try:
        from google.colab import userdata  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        return userdata.get(name) or None
    except Exception:  # SecretNotFoundError, NotebookAccessError: both mean "no key from here"
        return None


def find_wandb_key() -> tuple[str | None, str]:
    """Return ``(key, where_from)``; the key is None when neither the environment nor Colab has one."""
    key = os.environ.get(KEY_NAME, "").strip()
    if key:
        return key, f"the {KEY_NAME} environment variable"
    key = colab_secret(KEY_NAME)
    if key:
        return key, f"the Colab secret {KEY_NAME}"
    return None, "nowhere"


def wandb_login(prompt: bool = True) -> bool:
    """Log in to W&B; return True when logged in. Never prints or stores the key in the notebook.

    With no key in the environment or Colab secrets, ``prompt=True`` asks for it with a hidden
    prompt (where the front-end allows input); CI and ``WANDB_MODE=disabled`` skip all of this.
    """
    if wandb_disabled():
        print("Weights & Biases is disabled (WANDB_MODE=disabled): runs are no-ops, nothing is logged.")
        return False
    key, source = find_wandb_key()
    if key is None and prompt:
        try:
            key = getpass.getpass("Paste your W&B API key (https://wandb.ai/authorize), or press Enter to skip: ")
        except Exception:  # no stdin (nbval, scripts): that is a "skip", not a crash
            key = ""
        source = "the prompt"
    if not key:
        print(f"No W&B key found (set {KEY_NAME}, add a Colab secret {KEY_NAME}, or answer the prompt). "
              "Carrying on without tracking.")
        return False
    import wandb  # heavy: imported only when tracking is actually wanted

    try:
        ok = bool(wandb.login(key=key.strip(), relogin=False))
    except Exception as error:  # a malformed or revoked key, no network: explain, don't crash the lesson
        print(f"Weights & Biases login failed with the key from {source}: {type(error).__name__}: {error}\n"
              "Check the key at https://wandb.ai/authorize; carrying on without tracking.")
        return False
    print(f"Weights & Biases: {'logged in' if ok else 'login failed'} with the key from {source}.")
    return ok


def start_run(project: str, config: dict[str, Any] | None = None, enabled: bool = False, **init_kwargs: Any):
    """Start a W&B run, or a disabled no-op run unless ``enabled`` and not ``WANDB_MODE=disabled``.

    The returned object always has ``log`` and ``finish``, so training code need not check.
    """
    import wandb

    mode = "online" if enabled and not wandb_disabled() else "disabled"
    init_kwargs.setdefault("mode", mode)
    return wandb.init(project=project, config=config or {}, **init_kwargs)
