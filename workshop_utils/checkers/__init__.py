"""Exercise checkers: call one after an exercise to get a clear pass, or what to fix.

A checker never raises into a wall of traceback: an exception in the attendee's code is caught and
explained. Every checker returns a :class:`Feedback` (truthy when passed), which also prints itself.
"""

from .core import Feedback, failed, passed, run_attempt
from .setup import check_repeatable_draws

__all__ = ["Feedback", "failed", "passed", "run_attempt", "check_repeatable_draws"]
