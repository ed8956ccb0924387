"""Small-number suppression for every figure that leaves the database as evaluation:
screen, PDF and exports alike. A count of 1 to 4 could point at a person in a small scheme, so it
is shown as "fewer than 5" (issue 19: "< 5 in any cell"). Zero is shown: it identifies nobody.
"""

from __future__ import annotations

SMALL_NUMBER = 5
SUPPRESSED = "fewer than 5"
SUPPRESSED_SHORT = "<5"


def is_suppressed(count: int | None) -> bool:
    return count is not None and 0 < count < SMALL_NUMBER


def shown(count: int | None, short: bool = False) -> int | str | None:
    """The count, or the words that stand in for it when it is too small to show."""
    if is_suppressed(count):
        return SUPPRESSED_SHORT if short else SUPPRESSED
    return count
