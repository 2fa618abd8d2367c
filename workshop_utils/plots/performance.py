"""Notebook 07's picture: the speed-up of every trick over its group's baseline, as horizontal bars.

Each bar starts at 1 (as fast as the baseline) and goes right for a trick that trains faster, left for
one that trains slower, on a logarithmic axis (2x faster and 2x slower are equally long). Rows without a
number are drawn too, greyed, with the reason, so that nothing is silently missing from the picture.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from matplotlib.ticker import FuncFormatter, NullFormatter

from .style import OKABE_ITO

if TYPE_CHECKING:
    import pandas as pd

FASTER, SLOWER, BASELINE, SKIPPED = OKABE_ITO[2], OKABE_ITO[3], OKABE_ITO[7], "#999999"


def speedup_chart_height(table: pd.DataFrame, per_line: float = 0.34) -> float:
    """A figure height (inches) that gives every row and group heading of ``table`` a readable line."""
    return max(2.5, per_line * (len(table) + table["group"].nunique()) + 0.9)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 3].rstrip() + "..."


def plot_speedups(ax, table: pd.DataFrame, *, title: str | None = None, reason_width: int = 75) -> dict[str, Any]:
    """Draw ``table`` (from :func:`workshop_utils.performance.speed_table`) as speed-up bars on ``ax``.

    Rows are listed top to bottom under their group's name (bold). A measured row gets a bar from 1 to
    its speed-up, labelled ``"2.31x (1,234 img/s)"``; the baseline a mark at 1; a row with no number
    its reason in grey, cut to ``reason_width`` characters.

    Returns what was drawn: ``speedups`` ({key: speed-up} of the bars), ``baselines`` (their keys),
    ``skipped`` ({key: reason}), ``labels`` (the y-axis labels, top to bottom) and ``xlim``.
    """
    lines: list[tuple[str, Any]] = []  # ("group", name) or ("row", key)
    for group, rows in table.groupby("group", sort=False):
        lines.append(("group", group))
        lines.extend(("row", key) for key in rows.index)

    measured = [value for value in table["speedup"] if not math.isnan(value)]
    low = min([0.5, *[value / 1.6 for value in measured]])
    high = max([8.0, *[value * 4 for value in measured]])  # room for the labels right of the bars
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    ticks = [2.0 ** power for power in range(math.floor(math.log2(low)), math.ceil(math.log2(high)) + 1)]
    ax.set_xticks([tick for tick in ticks if low <= tick <= high])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}x"))
    ax.xaxis.set_minor_formatter(NullFormatter())

    speedups: dict[str, float] = {}
    baselines: list[str] = []
    skipped: dict[str, str] = {}
    labels: list[str] = []
    for position, (kind, name) in enumerate(lines):
        if kind == "group":
            labels.append(str(name))
            continue
        row = table.loc[name]
        labels.append("  " + str(row["row"]))
        speed, images = row["speedup"], row["images/s"]
        if math.isnan(images):
            skipped[name] = str(row["note"])
            ax.text(1.0, position, "  " + _shorten(str(row["note"]), reason_width), va="center", ha="left",
                    fontsize=8, color=SKIPPED, style="italic")
        elif math.isnan(speed):  # measured, but its group's baseline was not
            ax.text(1.0, position, f"  {images:,.0f} img/s (no baseline to compare with)", va="center",
                    ha="left", fontsize=8)
        elif _is_baseline(table, name):
            baselines.append(name)
            ax.plot([1.0], [position], marker="|", markersize=14, color=BASELINE)
            ax.text(1.0, position, f"  baseline ({images:,.0f} img/s)", va="center", ha="left", fontsize=8)
        else:
            speedups[name] = float(speed)
            ax.barh(position, abs(speed - 1.0), left=min(speed, 1.0), height=0.6,
                    color=FASTER if speed >= 1 else SLOWER)
            ax.text(max(speed, 1.0) * 1.04, position, f"{speed:.2f}x ({images:,.0f} img/s)", va="center",
                    ha="left", fontsize=8)

    ax.axvline(1.0, color=BASELINE, linewidth=1)
    ax.set_yticks(range(len(lines)))
    ax.set_yticklabels(labels)
    for tick, (kind, _) in zip(ax.get_yticklabels(), lines):
        if kind == "group":
            tick.set_fontweight("bold")
        elif tick.get_text().strip() in {str(table.loc[key, "row"]) for key in skipped}:
            tick.set_color(SKIPPED)
    ax.set_ylim(len(lines) - 0.5, -0.5)  # first line on top
    ax.set_xlabel("speed-up over the group's baseline (log scale; right of 1 = faster)")
    ax.grid(axis="y", visible=False)
    if title:
        ax.set_title(title)
    return {"speedups": speedups, "baselines": baselines, "skipped": skipped, "labels": labels,
            "xlim": ax.get_xlim()}


def _is_baseline(table: pd.DataFrame, key: str) -> bool:
    """Whether ``key`` is its group's baseline (``table.attrs["baselines"]``; else the group's first row)."""
    group = table.loc[key, "group"]
    marked = table.attrs.get("baselines", {})
    if group in marked:
        return marked[group] == key
    return table.index[table["group"] == group][0] == key
