"""Attendee names as the room sees them: one person, one entry, however the name was typed.

``carol``, ``Carol `` and ``carol`` followed by a zero-width space are one attendee; so are ``émile``
typed with a combining accent and ``ÉMILE``. The key compares names; the display name is what pages show.
"""

from __future__ import annotations

import unicodedata

MAX_NAME_LENGTH = 40


class InvalidName(ValueError):
    """A name the room cannot use, with the reason in words."""


def display_name(name: object) -> str:
    """The name as pages show it: NFKC-normalized, invisible characters removed, spaces collapsed."""
    if not isinstance(name, str):
        raise InvalidName(f"a name is text, e.g. 'carol'; got {type(name).__name__}")
    text = unicodedata.normalize("NFKC", name)
    # Format characters (zero-width spaces and joiners, direction marks, soft hyphens) and control
    # characters are invisible: two names that differ only by them look identical on the board.
    visible = "".join(ch for ch in text if unicodedata.category(ch) not in {"Cf", "Cc", "Cs", "Co", "Cn"})
    cleaned = " ".join(visible.split())
    if not cleaned:
        raise InvalidName("the name is empty once invisible characters and spaces are removed: type your name")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidName(f"the name has {len(cleaned)} characters; use at most {MAX_NAME_LENGTH}")
    return cleaned


def name_key(name: object) -> str:
    """What two names are compared by: the display name, case-folded (``ÉMILE`` and ``émile`` are one)."""
    return unicodedata.normalize("NFKC", display_name(name).casefold())
