"""Local times typed by people, turned into instants, honestly across clock changes.

Twice a year a wall-clock time is not one instant: in spring an hour does not exist (01:30 on
the last Sunday of March, in London) and in autumn an hour happens twice. Python's zoneinfo
quietly picks one; a lone-working alert at the wrong hour is not quiet, so these are refused
or asked about. Everything after this point is stored and computed in UTC.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from enum import StrEnum


class Which(StrEnum):
    """For a time that happens twice: before or after the clocks go back."""

    FIRST = "first"
    SECOND = "second"


@dataclass
class LocalTimeProblem(Exception):
    """Why a typed local time is not one instant, in words for the person who typed it."""

    message: str
    ambiguous: bool = False

    def __str__(self) -> str:
        return self.message


def _wall(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None, fold=0)


def local_to_utc(day: date, at: time, zone: tzinfo, which: str | None = None) -> datetime:
    """The instant (in UTC) of `at` on `day` in `zone`.

    Raises LocalTimeProblem when the time does not exist that day, or when it happens twice
    and `which` (Which.FIRST / Which.SECOND) does not say which one was meant.
    """
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    when = f"{at:%H:%M} on {day:%-d %B %Y}"
    if _wall(first.astimezone(UTC).astimezone(zone)) != naive:
        raise LocalTimeProblem(
            f"There is no {when}: the clocks go forward an hour that night. "
            "Choose a time before or after the missing hour."
        )
    if which == Which.FIRST:
        return first.astimezone(UTC)
    if which == Which.SECOND:
        return second.astimezone(UTC)
    raise LocalTimeProblem(
        f"{when} happens twice because the clocks go back an hour that night. "
        "Choose which one you mean.",
        ambiguous=True,
    )


def moment_label(moment: datetime, zone: tzinfo, now: datetime, weekday: bool = True) -> str:
    """A moment as people read it: "15:30" today, "Sat 3 Jan 15:30" on any other day (in
    `zone`). An alert read after midnight must not send anyone to the wrong evening."""
    local = moment.astimezone(zone)
    if local.date() == now.astimezone(zone).date():
        return f"{local:%H:%M}"
    return f"{local:%a %-d %b %H:%M}" if weekday else f"{local:%-d %b %H:%M}"
