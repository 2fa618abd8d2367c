"""Optional: a room-wide leaderboard in a shared Weights & Biases project.

The local board (:mod:`workshop_utils.leaderboard`) is one file on one machine. When every attendee runs
their own Colab, a shared W&B project can collect everyone's submissions instead:

1. the instructor creates a project (e.g. ``dl-workshop-competition``, under a W&B team the room joins)
   and tells the room its name and team (the *entity*);
2. each attendee logs in **without putting a key in the notebook** (:func:`workshop_utils.tracking.
   wandb_login`: the ``WANDB_API_KEY`` environment variable, a Colab secret, or a hidden prompt), and
   after ``submit(...)`` calls ``log_submission(submission, project, enabled=True)``: one W&B run per
   submission, named after the attendee, with the settings as its config and the test scores as its
   summary;
3. :func:`room_leaderboard` ranks the project's runs by a summary metric, keeping each attendee's
   latest run, as the local board keeps the latest submission.

Opt-in: nothing is sent unless ``enabled=True`` and a key is found; ``WANDB_MODE=disabled`` (what CI
sets) turns every call into a no-op that says so. Tests hand :func:`room_leaderboard` a fake ``api`` and
:func:`log_submission` a fake ``start_run``: nothing here touches the network in tests.

:func:`sweep_config` turns a settings space into a W&B sweep configuration (a random, grid or Bayesian
search run by ``wandb.agent``; notebook 08 shows how, and CI does not run it).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from . import tracking
from .leaderboard import SubmissionError, name_key

DEFAULT_PROJECT = "dl-workshop-competition"
SUMMARY_METRICS = ("macro_f1", "accuracy", "parameters", "train_seconds")
SWEEP_METHODS = ("random", "grid", "bayes")
TABLE_COLUMNS = ["name", "macro_f1", "accuracy", "parameters", "train_seconds", "created_at", "run"]


def _attendee_key(name: str) -> str:
    """One key per attendee however the name was typed (case, invisible characters): the local board's rule."""
    try:
        return name_key(name)
    except SubmissionError:  # a run name the local board would refuse (empty, too long): still one attendee
        return str(name).casefold()


def _entry(submission: Any):
    """The leaderboard Entry of a Submission (what ``submit`` returns), or the Entry itself."""
    entry = getattr(submission, "entry", submission)
    if not all(hasattr(entry, field) for field in ("name", "settings", "competition", *SUMMARY_METRICS)):
        raise TypeError(f"expected what submit() returned, got {type(submission).__name__}.")
    return entry


def run_config(submission: Any) -> dict[str, Any]:
    """The W&B config of a submission's run: its settings, the attendee's name and the competition."""
    entry = _entry(submission)
    return {**entry.settings, "attendee": entry.name, "competition": entry.competition}


def run_summary(submission: Any) -> dict[str, float]:
    """The numbers the room board ranks by: macro-F1 and accuracy on the test split, parameters, seconds."""
    entry = _entry(submission)
    return {metric: getattr(entry, metric) for metric in SUMMARY_METRICS if getattr(entry, metric) is not None}


def log_submission(submission: Any, project: str = DEFAULT_PROJECT, *, entity: str | None = None,
                   enabled: bool = False, prompt: bool = True, start_run: Callable | None = None) -> bool:
    """Send a submission to the room's W&B project as one run; return True when it was sent.

    Does nothing (and says why) unless ``enabled``; with ``WANDB_MODE=disabled``; or when no key is found
    (``prompt=True`` asks for one with a hidden prompt). ``start_run`` defaults to
    :func:`workshop_utils.tracking.start_run` (tests pass a fake).
    """
    entry = _entry(submission)
    if not enabled:
        print("Room-wide board: off (enabled=False), nothing sent to Weights & Biases.")
        return False
    if tracking.wandb_disabled():
        print("Room-wide board: Weights & Biases is disabled (WANDB_MODE=disabled), nothing sent.")
        return False
    if start_run is None:
        if not tracking.wandb_login(prompt=prompt):
            return False
        start_run = tracking.start_run
    try:
        run = start_run(project, config=run_config(entry), enabled=True, entity=entity, name=entry.name,
                        job_type="submission", tags=["submission"])
        try:
            run.log(run_summary(entry))  # the last logged values become the run's summary
        finally:
            run.finish()
    except Exception as error:  # no network, a wrong project or team: explain, don't crash the lesson
        print(f"Room-wide board: could not send to W&B ({type(error).__name__}: {error}). Check the project and team "
              "(entity) names the instructor gave; your local entry is saved either way.")
        return False
    where = f"{entity}/{project}" if entity else project
    print(f"Room-wide board: sent {entry.name!r} (macro-F1 {entry.macro_f1:.3f}) to the W&B project {where}.")
    return True


def _summary(run: Any) -> Mapping[str, Any]:
    summary = getattr(run, "summary_metrics", None)  # a plain dict in wandb's public API
    if summary is None:
        summary = getattr(run, "summary", None)
    try:
        return dict(summary or {})
    except (TypeError, ValueError):
        return {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        return None
    return float(value)


def _empty_table():
    import pandas as pd

    return pd.DataFrame(columns=TABLE_COLUMNS).rename_axis("rank")


def rank_runs(runs: Sequence[Any], metric: str = "macro_f1", *, competition: str | None = None,
              latest_only: bool = True):
    """W&B runs as a board: one row per attendee (their latest run with the metric), best ``metric`` first.

    A run's attendee is its config's ``attendee`` (else the run's name). Runs without a finite ``metric``
    in their summary (crashed, still running, another kind of run) are left out; with ``competition``,
    so are runs of another test split.
    """
    import pandas as pd

    rows = []
    for run in runs:
        summary, run_settings = _summary(run), dict(getattr(run, "config", None) or {})
        value = _number(summary.get(metric))
        if value is None:
            continue
        if competition is not None and run_settings.get("competition") != competition:
            continue
        name = str(run_settings.get("attendee") or getattr(run, "name", None) or getattr(run, "id", "?"))
        rows.append({"name": name, metric: value, **{key: _number(summary.get(key)) for key in SUMMARY_METRICS
                                                      if key != metric},
                     "created_at": str(getattr(run, "created_at", "") or ""), "run": getattr(run, "id", None)})
    if not rows:
        return _empty_table() if metric == "macro_f1" else pd.DataFrame(columns=["name", metric]).rename_axis("rank")
    table = pd.DataFrame(rows)
    if latest_only:
        table["key"] = table["name"].map(_attendee_key)
        table = table.sort_values("created_at").groupby("key", sort=False).tail(1).drop(columns="key")
    by = [metric] + (["accuracy"] if metric != "accuracy" and "accuracy" in table else []) + ["created_at"]
    table = table.sort_values(by, ascending=[False] * (len(by) - 1) + [True], kind="stable").reset_index(drop=True)
    table.index = pd.RangeIndex(1, len(table) + 1, name="rank")
    return table


def room_leaderboard(project: str = DEFAULT_PROJECT, entity: str | None = None, metric: str = "macro_f1",
                     api: Any = None, *, competition: str | None = None, latest_only: bool = True):
    """The room-wide board: the runs of the W&B project ``entity/project`` ranked by their summary ``metric``.

    ``api`` defaults to ``wandb.Api()`` (needs a login; tests pass a fake with a ``runs(path)`` method).
    With ``WANDB_MODE=disabled``, or when the project cannot be read, prints why and returns an empty table.
    """
    path = f"{entity}/{project}" if entity else project
    if api is None:
        if tracking.wandb_disabled():
            print("Room-wide board: Weights & Biases is disabled (WANDB_MODE=disabled), no room board to show.")
            return _empty_table()
        try:
            wandb = tracking.import_wandb()
        except ImportError as error:  # wandb is optional: say how to install it
            print(f"Room-wide board: {error}")
            return _empty_table()
        try:
            api = wandb.Api()
        except Exception as error:  # not logged in, no network
            print(f"Room-wide board: cannot reach Weights & Biases ({type(error).__name__}: {error}). Log in with "
                  "workshop_utils.tracking.wandb_login() first.")
            return _empty_table()
    try:
        runs = list(api.runs(path))
    except Exception as error:  # a wrong project name, no access, no network: explain, don't crash the lesson
        print(f"Room-wide board: cannot read the W&B project {path!r} ({type(error).__name__}: {error}). Check the "
              "project and team (entity) names the instructor gave.")
        return _empty_table()
    return rank_runs(runs, metric, competition=competition, latest_only=latest_only)


def sweep_config(space: Mapping[str, Sequence[Any]], *, metric: str = "val_macro_f1", method: str = "random",
                 name: str | None = None) -> dict[str, Any]:
    """A W&B sweep configuration searching ``space`` (``{setting: list of values}``) to maximize ``metric``.

    Use it with ``sweep_id = wandb.sweep(sweep_config(space), project=...)`` and
    ``wandb.agent(sweep_id, function=train_one, count=10)``, where ``train_one`` starts a run, trains with
    ``run.config``'s settings and logs ``metric``. The metric must be a **validation** score: a sweep that
    maximized the test score would tune on the test split.
    """
    if method not in SWEEP_METHODS:
        raise ValueError(f"method must be one of {SWEEP_METHODS}, got {method!r}.")
    if not metric or not isinstance(metric, str):
        raise ValueError("metric must name the validation score the training function logs, e.g. 'val_macro_f1'.")
    if "test" in metric.lower():
        raise ValueError(f"metric {metric!r} looks like a test score: sweeps must maximize a validation score.")
    parameters = {}
    for setting, values in space.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
            raise ValueError(f"space[{setting!r}] must be a non-empty list of values, got {values!r}.")
        parameters[setting] = {"values": [list(value) if isinstance(value, tuple) else value for value in values]}
    config: dict[str, Any] = {"method": method, "metric": {"name": metric, "goal": "maximize"},
                              "parameters": parameters}
    if name:
        config["name"] = name
    return config
