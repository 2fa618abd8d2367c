"""Mistakes catalogues for the exercise checkers: data, one judgement per case, and a tally.

A catalogue is a list of :class:`Case`: a name, the attendee's answer (the function(s) handed to the
checker) and the phrase the failure message must contain; ``phrase=None`` marks a right answer that
must pass. ``python tests/checker_catalogue.py`` prints, per test module, the catalogue's size and the
counts of false passes, false fails, crashes and failures whose message misses its phrase.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

try:
    from workshop_utils.checkers.core import UNJUDGED
except ImportError:  # an older checkout, to count what the catalogue finds there
    UNJUDGED = "the checker could not judge this answer"

RIGHT = None  # the phrase of a right answer: it must pass


@dataclass(frozen=True)
class Case:
    name: str
    answer: Any  # one function, or a tuple of the checker's arguments
    phrase: str | None  # what the failure message must say; RIGHT (None) for a right answer
    kind: str = ""  # "mistake", "hostile" or "right"; derived from phrase when empty

    @property
    def arguments(self) -> tuple:
        return self.answer if isinstance(self.answer, tuple) else (self.answer,)

    @property
    def category(self) -> str:
        return self.kind or ("right" if self.phrase is None else "mistake")


NAN = float("nan")


def returns(value):
    """A hostile answer: ignores its arguments and returns ``value``."""
    return lambda *args, **kwargs: value


def raises(*args, **kwargs):
    """A hostile answer: the attendee's code raises."""
    raise ValueError("something went wrong in my code")


def stub(*args, **kwargs):
    """The student copy's stub, untouched."""
    raise NotImplementedError("Exercise: replace this line with your solution")


def mistake(name: str, answer: Any, phrase: str) -> Case:
    return Case(name, answer, phrase, "mistake")


def hostile(name: str, answer: Any, phrase: str) -> Case:
    return Case(name, answer, phrase, "hostile")


def right(name: str, answer: Any) -> Case:
    return Case(name, answer, None, "right")


def judge(check: Callable[..., Any], case: Case) -> tuple[str, str]:
    """("ok" | "false pass" | "false fail" | "crash" | "wrong message", the feedback's text)."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            feedback = check(*case.arguments)
    except Exception as error:  # a checker must never raise
        return "crash", f"{type(error).__name__}: {error}"
    text = feedback.text()
    if UNJUDGED in text:
        return "crash", text
    if case.phrase is None:
        return ("ok" if feedback.passed else "false fail"), text
    if feedback.passed:
        return "false pass", text
    return ("ok" if case.phrase.lower() in text.lower() else "wrong message"), text


def assert_case(check: Callable[..., Any], case: Case) -> None:
    outcome, text = judge(check, case)
    assert outcome == "ok", f"{case.name}: {outcome}\n{text}"


def ids(catalogue: list[Case]) -> list[str]:
    return [case.name for case in catalogue]


def tally(check: Callable[..., Any], catalogue: list[Case]) -> Counter:
    counts: Counter = Counter(size=len(catalogue))
    for case in catalogue:
        counts[case.category] += 1
        outcome, _ = judge(check, case)
        if outcome != "ok":
            counts[outcome] += 1
    return counts


def main(module_names: list[str]) -> int:
    """Print the tally of every CATALOGUES in the given test modules (default: all test_checkers_*)."""
    sys.path.insert(0, str(Path(__file__).parent))
    bad = 0
    columns = ("size", "right", "mistake", "hostile", "false pass", "false fail", "crash", "wrong message")
    print(f"{'checker':<34}" + "".join(f"{c:>14}" for c in columns))
    total: Counter = Counter()
    for name in module_names:
        module = importlib.import_module(name)
        for check, catalogue in getattr(module, "CATALOGUES", {}).items():
            counts = tally(check, catalogue)
            total.update(counts)
            bad += counts["false pass"] + counts["false fail"] + counts["crash"] + counts["wrong message"]
            print(f"{check.__name__:<34}" + "".join(f"{counts[c]:>14}" for c in columns))
    print(f"{'total':<34}" + "".join(f"{total[c]:>14}" for c in columns))
    return 1 if bad else 0


if __name__ == "__main__":
    names = sys.argv[1:] or sorted(path.stem for path in Path(__file__).parent.glob("test_checkers_*.py"))
    raise SystemExit(main(names))
