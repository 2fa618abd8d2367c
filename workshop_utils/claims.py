"""Lesson claims: one readable line that says whether what the lesson promised happened on this run.

A lesson says "the CNN beats the MLP" or "augmentation narrows the gap". Attendees should see that
checked on their own numbers, in words, not as an ``assert`` that stops their notebook::

    claim(cnn_accuracy > mlp_accuracy, "the CNN beats the MLP",
          measured=f"{cnn_accuracy:.1%} vs {mlp_accuracy:.1%}",
          otherwise="A short run can leave the CNN behind: train it for the full number of epochs.")

prints ``✓ the CNN beats the MLP: 91.2% vs 88.1%``, or, when it does not hold,
``✗ not on this run: the CNN beats the MLP (87.0% vs 88.1%). A short run can ...``.

A claim that does not hold never raises: a run on a slow laptop, a quick run or a stand-in data set may honestly miss it.
The hard checks that CI needs live in the solutions' cells tagged ``ci-check``, which the student
build drops (see docs/AUTHORING.md).
"""

from __future__ import annotations

HELD_MARK = "✓"
MISSED_MARK = "✗"


def claim_line(holds: bool, statement: str, measured: str = "", otherwise: str = "") -> str:
    """The line :func:`claim` prints, as a string (for tests and for widgets that show it elsewhere)."""
    statement = str(statement).strip()
    measured = str(measured).strip()
    otherwise = str(otherwise).strip()
    if holds:
        return f"{HELD_MARK} {statement}: {measured}" if measured else f"{HELD_MARK} {statement}"
    line = f"{MISSED_MARK} not on this run: {statement}"
    if measured:
        line += f" ({measured})"
    if otherwise:
        line += f". {otherwise}" if not line.endswith(".") else f" {otherwise}"
    return line


def claim(holds: object, statement: str, measured: str = "", otherwise: str = "") -> bool:
    """Print whether a lesson's claim held on this run, in one line; return whether it held.

    ``holds`` is the comparison itself (anything with a truth value: a bool, a NumPy or 0-d tensor
    comparison); ``statement`` says what the lesson claims; ``measured`` the numbers behind it;
    ``otherwise`` what to make of it when it does not hold (why a short run can miss it, what to try).
    """
    try:
        held = bool(holds)
    except (TypeError, ValueError, RuntimeError) as error:  # e.g. a tensor of many elements
        raise TypeError(f"claim() needs one True/False comparison for {statement!r}, got {type(holds).__name__}: "
                        f"{error}. Compare single numbers, e.g. `accuracy > 0.9`, or use `.all()`.") from None
    print(claim_line(held, statement, measured, otherwise))
    return held
