"""The shared shape of every checker's answer."""

from __future__ import annotations

import os
import secrets
import sysconfig
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..room.client import report_checker_result


@dataclass
class Feedback:
    """The outcome of one exercise check.

    ``passed`` says it all; on failure ``tried`` is the input used, ``expected`` and ``got`` what
    should and did come back, and ``hint`` what to look at. ``bool(feedback)`` is ``passed``, so a
    solution notebook can ``assert check_...(...)``.
    """

    exercise: str
    passed: bool
    message: str
    tried: str | None = None
    expected: str | None = None
    got: str | None = None
    hint: str | None = None
    details: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.passed

    def text(self) -> str:
        if self.passed:
            return f"✅ {self.exercise}: {self.message}"
        lines = [f"❌ {self.exercise}: {self.message}"]
        for label, value in (("tried", self.tried), ("expected", self.expected), ("got", self.got)):
            if value is not None:
                lines.append(f"   {label:<8}: {value}")
        lines.extend(f"   {line}" for line in self.details)
        if self.hint:
            lines.append(f"   hint    : {self.hint}")
        return "\n".join(lines)

    def __repr__(self) -> str:  # what a notebook shows for a checker call on a cell's last line
        return self.text()

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.text())


def passed(exercise: str, message: str = "correct, well done!") -> Feedback:
    return Feedback(exercise, True, message)


def failed(exercise: str, message: str, *, tried=None, expected=None, got=None, hint=None,
           details: list[str] | None = None) -> Feedback:
    return Feedback(exercise, False, message, tried=_short(tried), expected=_short(expected),
                    got=_short(got), hint=hint, details=details or [])


def _short(value: Any, limit: int = 300) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class AttemptError(Exception):
    """The attendee's code raised; carries a Feedback explaining it."""

    def __init__(self, feedback: Feedback):
        super().__init__(feedback.message)
        self.feedback = feedback


def run_attempt(exercise: str, function: Callable[..., Any], *args: Any, tried: str | None = None, **kwargs: Any):
    """Call the attendee's ``function``; turn any exception into an AttemptError with a readable Feedback.

    ``NotImplementedError`` (the stub left in the student notebook) gets its own gentle message.
    """
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise AttemptError(failed(exercise, "not done yet: replace the `raise NotImplementedError(...)` line "
                                            "with your code, run that cell, then this one again.",
                                  tried=tried)) from None
    except Exception as error:  # the whole point: explain, don't crash
        where = _attendee_frame(traceback.extract_tb(error.__traceback__))
        raise AttemptError(failed(
            exercise, f"your code raised {type(error).__name__}: {error}", tried=tried,
            details=[f"at line {where.lineno}: {where.line}" if where.line else f"at line {where.lineno}"],
            hint="read the error above; shapes and dtypes are the usual suspects.")) from None


def _library_folders() -> tuple[str, ...]:
    """Folders of installed packages, the standard library and workshop_utils: not the attendee's code."""
    paths = sysconfig.get_paths()
    folders = {paths[key] for key in ("purelib", "platlib", "stdlib", "platstdlib") if key in paths}
    folders.add(str(Path(__file__).resolve().parents[1]))
    return tuple(os.path.join(os.path.realpath(folder), "") for folder in folders)


def _attendee_frame(frames: traceback.StackSummary) -> traceback.FrameSummary:
    """The deepest frame in the attendee's own code (a notebook cell), not inside torch or NumPy.

    An error raised by ``F.cross_entropy`` is the attendee's call with a wrong argument: pointing at
    torch's source line would send them to the wrong place. Falls back to the deepest frame.
    """
    libraries = _library_folders()
    for frame in reversed(frames):
        if not os.path.realpath(frame.filename).startswith(libraries):
            return frame
    return frames[-1]


def probe_seed() -> int:
    """A fresh seed for this call's random probe: a printed expected value cannot be hard-coded, and the
    seed, shown in the message, reproduces the probe."""
    return 1000 + secrets.randbelow(9000)


def show(feedback: Feedback) -> Feedback:
    """Print the feedback (so it appears even when not on a cell's last line) and return it."""
    print(feedback.text())
    return feedback


# The start of the message a checker gives when it could not judge an answer at all (a bug in the
# checker, not in the attendee's code). Tests count such answers as crashes.
UNJUDGED = "the checker could not judge this answer"


def checker(exercise: str):
    """Decorator for checkers: an AttemptError from ``run_attempt`` becomes the returned Feedback.

    Anything else the checker raises while reading an unusual answer (an odd type, a dtype torch refuses
    to mix, a graph it cannot differentiate) becomes a failing Feedback that says so and shows the
    error: the attendee never gets a traceback from inside the checker.
    """

    def wrap(check: Callable[..., Feedback]) -> Callable[..., Feedback]:
        def run(*args: Any, **kwargs: Any) -> Feedback:
            try:
                feedback = check(*args, **kwargs)
            except AttemptError as error:
                feedback = error.feedback
            except Exception as error:  # the last line of defence; the tests count these as crashes
                feedback = failed(exercise, f"{UNJUDGED}: reading what your function returned raised "
                                            f"{type(error).__name__}: {error}",
                                  hint="check the type, shape and dtype of what your function returns against the "
                                       "exercise's instructions; if they look right, tell the instructor.")
            if not isinstance(feedback, Feedback):  # a checker bug; never show None
                feedback = failed(exercise, f"{UNJUDGED}: the checker returned {type(feedback).__name__}.")
            report_checker_result(exercise, feedback.passed)  # to the room server, only if the attendee opted in
            return show(feedback)

        run.__name__ = check.__name__
        run.__doc__ = check.__doc__
        run.exercise = exercise  # type: ignore[attr-defined]
        return run

    return wrap
