"""Running an attendee's attempt with the exercise's forbidden library functions watched.

Built on :func:`.forbidden.forbidden_calls`: a forbidden function is recognized whatever name it was
imported under (``from torch.nn.functional import conv2d as c2d`` included), and the attempt is judged
"you called ..." even when the call made it raise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .core import AttemptError, failed, run_attempt
from .forbidden import forbidden_calls, shortcut_message


def attempt_watched(exercise: str, targets: Mapping[str, Any], what: str, hint: str,
                    function: Callable[..., Any], *args: Any, tried: str, **kwargs: Any) -> Any:
    """``run_attempt`` while ``targets`` are watched; a call of one of them becomes an AttemptError whose
    message names it (``what`` says why it is not allowed, ``hint`` what to use instead)."""
    with forbidden_calls(targets) as seen:
        try:
            result = run_attempt(exercise, function, *args, tried=tried, **kwargs)
        except AttemptError:
            if not seen:
                raise
            result = None
    if seen:
        raise AttemptError(failed(exercise, shortcut_message(seen, what), tried=tried, hint=hint))
    return result
