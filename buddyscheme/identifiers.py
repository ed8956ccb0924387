"""What in free text could identify a person. Notes use initials only (DESIGN §4).

A first check: the person's own names. Phone numbers, email and postal addresses are for the
full guard, which extends `identifying_words`.
"""

from __future__ import annotations

import re

from .models import Membership

# Shorter names ("Al", "Jo") are still names; one letter is an initial, which is allowed.
SHORTEST_NAME = 2


def person_names(person: Membership) -> list[str]:
    """The names the person is known by: first, last and preferred, each part of each."""
    user = person.user
    profile = getattr(user, "profile", None)
    names = [user.first_name, user.last_name, profile.preferred_name if profile else ""]
    parts = []
    for name in names:
        for part in re.split(r"[\s\-]+", name or ""):
            if len(part) >= SHORTEST_NAME and part.casefold() not in {p.casefold() for p in parts}:
                parts.append(part)
    return parts


def identifying_words(text: str, *, person: Membership) -> list[str]:
    """The words of `text` that name `person`, as written there (empty when none do)."""
    found = []
    for name in person_names(person):
        pattern = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)
        match = pattern.search(text or "")
        if match and match.group(0) not in found:
            found.append(match.group(0))
    return found
