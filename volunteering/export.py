"""The expense claims as CSV for the finance team.

Spreadsheets run a cell that starts with = + - @ (or a tab or carriage return) as a formula, so
such cells are prefixed with an apostrophe. No participant is named: the meeting is given by
its date only, and a participant's name in a description is blanked out.
"""

import csv
import io

from django.utils import timezone

from buddyscheme.initials import identifying_details
from buddyscheme.selectors import names_of, participants_of

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

HEADER = [
    "Claim",
    "Buddy",
    "Date spent",
    "Category",
    "Description",
    "Amount (GBP)",
    "Status",
    "Decided on",
    "Paid on",
    "Meeting date",
    "Receipt",
]


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _without_participants(text: str, names: list[str]) -> str:
    for hit in sorted(identifying_details(text, names), key=lambda hit: -hit.start):
        text = text[: hit.start] + "[removed]" + text[hit.end :]
    return text


def claims_csv(claims, zone) -> str:
    names_by_buddy: dict[int, list[str]] = {}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for claim in claims:
        if claim.buddy_id not in names_by_buddy:
            names_by_buddy[claim.buddy_id] = names_of(participants_of(claim.buddy))
        decided = timezone.localtime(claim.decided_at, zone).date() if claim.decided_at else ""
        meeting_day = (
            timezone.localtime(claim.meeting.planned_start, zone).date() if claim.meeting else ""
        )
        writer.writerow(
            safe_cell(cell)
            for cell in (
                claim.pk,
                claim.buddy.user.get_full_name() or claim.buddy.user.display_name,
                claim.spent_on.isoformat(),
                claim.get_category_display(),
                _without_participants(claim.description, names_by_buddy[claim.buddy_id]),
                f"{claim.amount:.2f}",
                claim.get_state_display(),
                decided,
                claim.paid_on or "",
                meeting_day,
                "yes" if claim.receipt else "no",
            )
        )
    return out.getvalue()
