"""What in free text could identify a person. Notes use initials only (DESIGN §4).

The person's names, read from their account, fed to the one guard every form uses
(`buddyscheme/initials.py`: names, phone numbers, emails, postcodes, dates of birth, NHS numbers,
address lines).
"""

from __future__ import annotations

import re

from .initials import identifying_details
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
    """What in `text` may identify `person`, as written there (empty when nothing does)."""
    found: list[str] = []
    for hit in identifying_details(text or "", person_names(person)):
        if hit.text not in found:
            found.append(hit.text)
    return found
