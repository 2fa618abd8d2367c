"""The competition's leaderboard as a horizontal bar chart, best on top, your own entry highlighted."""

from __future__ import annotations

import math
from typing import Any

from ..names import InvalidName, name_key
from .style import OKABE_ITO

OTHERS_COLOUR = OKABE_ITO[0]    # blue
HIGHLIGHT_COLOUR = OKABE_ITO[1]  # orange: stands out for every common colour blindness
METRIC_LABELS = {"macro_f1": "macro-F1 on the held-out test split", "accuracy": "accuracy on the held-out test split"}


def _key(name: str) -> str | None:
    try:
        return name_key(name)
    except InvalidName:
        return None


def plot_leaderboard(ax, table, *, highlight: str | None = None, metric: str = "macro_f1", top: int = 15,
                     title: str | None = None) -> dict[str, Any]:
    """One bar per entry of ``table`` (from ``leaderboard_table`` or ``room_leaderboard``), best on top.

    ``table`` needs a ``name`` column and the ``metric`` column, in rank order. Shows the ``top`` best; the
    ``highlight`` entry (a name, compared as the boards do: case, spacing and invisible characters ignored) is drawn in orange and added below the others
    when it ranks lower. Returns what was drawn: ``names`` and ``values`` top to bottom, their ``ranks``,
    and ``highlighted`` (the highlighted entry's rank, or None).
    """
    names = [str(name) for name in table["name"]]
    values = [float(value) for value in table[metric]]
    wanted = _key(highlight) if highlight else None
    mine = next((i for i, name in enumerate(names) if wanted is not None and _key(name) == wanted), None)
    shown = list(range(min(top, len(names))))
    if mine is not None and mine not in shown:
        shown.append(mine)
    drawn = {"names": [names[i] for i in shown], "values": [values[i] for i in shown],
             "ranks": [i + 1 for i in shown], "highlighted": mine + 1 if mine is not None else None}
    if not shown:
        ax.text(0.5, 0.5, "no entries yet: submit one!", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return drawn
    positions = list(range(len(shown)))[::-1]  # the best at the top
    colours = [HIGHLIGHT_COLOUR if i == mine else OTHERS_COLOUR for i in shown]
    ax.barh(positions, drawn["values"], color=colours)
    labels = [f"{'...  ' if shown_at == len(shown) - 1 and i > top - 1 else ''}#{i + 1} {names[i]}"
              for shown_at, i in enumerate(shown)]
    ax.set_yticks(positions, labels)
    for position, value in zip(positions, drawn["values"]):
        if math.isfinite(value):
            ax.text(value, position, f" {value:.3f}", va="center", fontsize=9)
    finite = [value for value in drawn["values"] if math.isfinite(value)]
    upper = max(finite, default=1.0)
    ax.set_xlim(0, 1.12 if metric in METRIC_LABELS else upper * 1.15)  # room for the value labels
    ax.set_xlabel(METRIC_LABELS.get(metric, metric))
    ax.grid(axis="y", visible=False)
    ax.set_title(title or f"leaderboard: {len(names)} entr{'y' if len(names) == 1 else 'ies'}"
                 + (f", top {top} shown" if len(names) > top else ""))
    drawn["colours"] = colours
    return drawn
