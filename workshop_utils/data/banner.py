"""Loud announcements for the two situations a learner must never miss.

* A **stand-in** data set replaces the real one (no network, nothing cached): every number in the
  notebook then describes synthetic data, and the learner has to know that.
* **Smoke mode** (``WORKSHOP_SMOKE=1``) shrinks data sets so that CI finishes quickly: accuracies are
  not the lesson's.

Both print a boxed banner to stdout (visible in Jupyter, Colab and CI logs alike) and return the text,
so tests and callers can inspect it.
"""

from __future__ import annotations

import textwrap

BANNER_WIDTH = 78


def boxed_banner(title: str, paragraphs: list[str], *, edge: str) -> str:
    """``paragraphs`` wrapped to the banner width inside a box of ``edge`` characters, under ``title``."""
    inner = BANNER_WIDTH - 4
    lines = [edge * BANNER_WIDTH, f"{edge} {title.center(inner)} {edge}", edge * BANNER_WIDTH]
    for index, paragraph in enumerate(paragraphs):
        if index:
            lines.append(f"{edge} {'':<{inner}} {edge}")
        for line in textwrap.wrap(paragraph, inner, break_on_hyphens=False) or [""]:
            lines.append(f"{edge} {line:<{inner}} {edge}")
    lines.append(edge * BANNER_WIDTH)
    return "\n".join(lines)


def announce_standin(dataset: str, reason: str, what_to_do: str) -> str:
    """Print and return a banner saying that ``dataset`` is a synthetic stand-in, why, and how to get the real one.

    Example: ``announce_standin("road signs", "offline and not cached", "run python data_download.py")``.
    """
    text = boxed_banner(
        f"STAND-IN DATA: {dataset} is NOT the real data set",
        [
            f"Why: {reason}",
            "The notebook runs the same code on synthetic images with the same format, sizes and class "
            "names, so every step works, but the pictures and the accuracies are not the real ones.",
            f"To use the real data: {what_to_do}",
        ],
        edge="#",
    )
    print(text, flush=True)
    return text


def announce_smoke(what: str) -> str:
    """Print and return a banner saying that smoke mode shrank ``what`` (e.g. "Fashion-MNIST: 2,000 / 500 images")."""
    text = boxed_banner(
        "SMOKE MODE (WORKSHOP_SMOKE=1)",
        [
            f"Reduced: {what}",
            "This is the quick check used by CI: the results are not the lesson's. "
            "Unset WORKSHOP_SMOKE for the full run.",
        ],
        edge="=",
    )
    print(text, flush=True)
    return text
