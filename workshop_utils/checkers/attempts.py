"""Running an attendee's attempt with the exercise's forbidden library functions watched (the argument order
notebooks 04-05's checkers use; the work is :func:`.forbidden.attempt_forbidding`'s).

Built on :func:`.forbidden.forbidden_calls`: a forbidden function is recognized whatever name it was
imported under (``from torch.nn.functional import conv2d as c2d`` included), and the attempt is judged
"you called ..." even when the call made it raise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .forbidden import attempt_forbidding


def attempt_watched(exercise: str, targets: Mapping[str, Any], what: str, hint: str,
                    function: Callable[..., Any], *args: Any, tried: str, **kwargs: Any) -> Any:
    """``run_attempt`` while ``targets`` are watched; a call of one of them becomes an AttemptError whose
    message names it (``what`` says why it is not allowed, ``hint`` what to use instead)."""
    return attempt_forbidding(exercise, targets, function, *args, tried=tried, why=what, hint=hint, **kwargs)