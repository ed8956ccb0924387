"""Initials only (seed 003): notes must not name the people a buddy supports.

A deliberately simple first version, behind the one function the forms call: it looks for the
names it is given. The fuller guard (phone numbers, emails, postcodes, dates of birth, NHS
numbers, address lines) replaces this module's body without the callers changing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

SHORTEST_NAME = 2


def initials_warnings(text: str, names: Iterable[str]) -> list[str]:
    """What in `text` could identify someone: each of `names` written out as a name.

    A name counts when it stands as a whole word starting with a capital ("Mark said" but not
    "mark the date"); each is reported once, in the order given.
    """
    found: list[str] = []
    for name in names:
        name = (name or "").strip()
        if len(name) < SHORTEST_NAME or name in found:
            continue
        first, rest = re.escape(name[0].upper()), re.escape(name[1:])
        if re.search(rf"(?<![\w'’]){first}(?i:{rest})(?!\w)", text or ""):
            found.append(name)
    return found
