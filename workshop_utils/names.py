"""Attendee names as the leaderboards and the room server see them: one person, one entry, however typed.

``carol``, ``Carol `` and ``carol`` followed by a zero-width space are one attendee; so are ``émile``
typed with a combining accent and ``ÉMILE``. :func:`name_key` compares names; :func:`display_name` is what
boards show.
"""

from __future__ import annotations

import unicodedata

MAX_NAME_LENGTH = 60
#: Unicode categories dropped from names: format characters (zero-width spaces and joiners, BOM, soft hyphen...),
#: controls, and unassigned, private-use or surrogate code points; none of them is visible on a board.
INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Cn", "Co", "Cs"})


class InvalidName(ValueError):
    """A name a board cannot use, with the reason in words."""


def display_name(name: object) -> str:
    """The name as boards show it: NFKC-normalized, invisible characters removed, spaces collapsed."""
    if not isinstance(name, str):
        raise InvalidName(f"the name must be a string (your name or your team's), got {type(name).__name__}.")
    text = unicodedata.normalize("NFKC", name)
    visible = "".join(ch for ch in text if unicodedata.category(ch) not in INVISIBLE_CATEGORIES)
    cleaned = " ".join(visible.split())
    if not cleaned:
        raise InvalidName("the name is empty (once invisible characters and spaces are removed): type your name.")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidName(f"the name is {len(cleaned)} characters long; keep it to {MAX_NAME_LENGTH}.")
    return cleaned


def name_key(name: object) -> str:
    """What two names must share to be one entry: the display name, case-folded (``ÉMILE`` = ``émile``)."""
    return unicodedata.normalize("NFKC", display_name(name).casefold())
