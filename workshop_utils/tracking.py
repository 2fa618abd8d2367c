"""Optional experiment tracking with Weights & Biases, without ever putting a key in a notebook.

W&B is off unless an attendee switches it on. The key comes, in this order, from the ``WANDB_API_KEY``
environment variable, a Colab secret named ``WANDB_API_KEY`` (the key icon in Colab's left bar), or a
hidden prompt. ``WANDB_MODE=disabled`` (what CI sets) turns every run into a no-op that writes nothing.

``wandb`` itself is imported only on the paths that talk to W&B: a disabled run is a :class:`DisabledRun`,
so a machine without the package runs every notebook with tracking off.

Where the key ends up: W&B gets it through this kernel's ``WANDB_API_KEY`` environment variable, so
nothing is written to disk (a pasted key is forgotten when the kernel stops). Only
``wandb_login(save_key=True)`` hands a pasted key to ``wandb.login(key=...)``, which saves it **in plain
text** in ``~/.netrc``; the prompt says so.
"""

from __future__ import annotations

import getpass
import os
from typing import Any

KEY_NAME = "WANDB_API_KEY"
INSTALL_HINT = "pip install wandb"
BETTER_WAY = (f"The better way: set the environment variable {KEY_NAME} before starting JupyterLab, or in Colab add "
              f"a secret named {KEY_NAME} (the key icon in the left bar); then nothing is pasted or written.")
PROMPT_NOTE = ("A pasted key is kept only while this kernel runs (nothing is written to disk). " + BETTER_WAY)
PROMPT_NOTE_SAVED = ("save_key=True: wandb.login() will save the pasted key IN PLAIN TEXT in ~/.netrc, readable by "
                     "anyone who can read your home folder. " + BETTER_WAY)


class DisabledRun:
    """What :func:`start_run` returns when tracking is off: ``log`` and ``finish`` do nothing, and wandb is not
    imported. Has the attributes notebooks read from a run (``config``, ``summary``, ``name``, ``url``)."""

    disabled = True

    def __init__(self, project: str, config: dict[str, Any] | None = None, name: str | None = None) -> None:
        self.project = project
        self.config = dict(config or {})
        self.summary: dict[str, Any] = {}
        self.name = name
        self.id = None
        self.url = None

    def log(self, data: dict[str, Any], step: int | None = None, **kwargs: Any) -> None:
        """Nothing is logged."""

    def finish(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to finish."""

    def __enter__(self) -> "DisabledRun":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.finish()

    def __repr__(self) -> str:
        return f"DisabledRun(project={self.project!r}: W&B is off, nothing is logged)"


def import_wandb():
    """``import wandb``, or an ImportError that says how to install it (only paths that need W&B call this)."""
    try:
        import wandb
    except ImportError as error:  # also when sys.modules["wandb"] is None
        raise ImportError(f"Weights & Biases tracking was switched on, but the wandb package is not installed: "
                          f"run `{INSTALL_HINT}` (in a notebook: %pip install wandb), restart the kernel, and run "
                          "again; or leave tracking off.") from error
    return wandb


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


def wandb_login(prompt: bool = True, save_key: bool = False) -> bool:
    """Log in to W&B; return True when logged in. Never prints or stores the key in the notebook.

    With no key in the environment or Colab secrets, ``prompt=True`` asks for it with a hidden
    prompt (where the front-end allows input); CI and ``WANDB_MODE=disabled`` skip all of this.

    The key is handed to W&B through the ``WANDB_API_KEY`` environment variable of this kernel, so nothing
    is written to disk, and a pasted key is forgotten when the kernel stops. ``save_key=True`` instead
    passes a pasted key to ``wandb.login(key=...)``, which saves it **in plain text** in ``~/.netrc`` for
    later sessions. The environment variable (or a Colab secret) is the better way to keep a key.
    """
    if wandb_disabled():
        print("Weights & Biases is disabled (WANDB_MODE=disabled): runs are no-ops, nothing is logged.")
        return False
    key, source = find_wandb_key()
    if key is None and prompt:
        print(PROMPT_NOTE_SAVED if save_key else PROMPT_NOTE)
        try:
            key = getpass.getpass("Paste your W&B API key (https://wandb.ai/authorize), or press Enter to skip: ")
        except Exception:  # no stdin (nbval, scripts): that is a "skip", not a crash
            key = ""
        source = "the prompt"
    key = (key or "").strip()
    if not key:
        print(f"No W&B key found (set {KEY_NAME}, add a Colab secret {KEY_NAME}, or answer the prompt). "
              "Carrying on without tracking.")
        return False
    try:
        wandb = import_wandb()  # heavy, and optional: imported only when tracking is actually wanted
    except ImportError as error:
        print(f"{error}\nCarrying on without tracking.")
        return False
    try:
        if source == "the prompt" and save_key:
            ok = bool(wandb.login(key=key, relogin=False))  # writes the key to ~/.netrc, as the prompt said
        else:  # wandb reads WANDB_API_KEY itself and writes nothing
            os.environ[KEY_NAME] = key
            ok = bool(wandb.login(relogin=False))
    except Exception as error:  # a malformed or revoked key, no network: explain, don't crash the lesson
        print(f"Weights & Biases login failed with the key from {source}: {type(error).__name__}: {error}\n"
              "Check the key at https://wandb.ai/authorize; carrying on without tracking.")
        return False
    print(f"Weights & Biases: {'logged in' if ok else 'login failed'} with the key from {source}.")
    return ok


def start_run(project: str, config: dict[str, Any] | None = None, enabled: bool = False, **init_kwargs: Any):
    """Start a W&B run when ``enabled`` (and not ``WANDB_MODE=disabled``), else a :class:`DisabledRun`.

    The returned object always has ``log`` and ``finish``, so training code need not check. A disabled run
    does not import wandb, so it works where the package is not installed; an enabled one without the
    package raises an ImportError that says ``pip install wandb``.
    """
    if not enabled or wandb_disabled() or init_kwargs.get("mode") == "disabled":
        return DisabledRun(project, config, name=init_kwargs.get("name"))
    wandb = import_wandb()
    init_kwargs.setdefault("mode", "online")
    return wandb.init(project=project, config=config or {}, **init_kwargs)
