"""The on-call rota: shifts added, changed and removed by coordinators, and the week they see.

The booking rule decides what "cover" means (`booking_problems`): a meeting outside office
hours can be booked only when ONE shift, of an active member, runs from the meeting's start
until the last moment someone may have to respond (its planned end, the longest extension, the
grace and two escalation steps). Two shifts that merely meet do not cover a meeting across the
hand-over. The week view applies that same rule to find its gaps, and a change that would leave
an already booked meeting without cover is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from buddyscheme.audit import audit_record
from buddyscheme.errors import DomainError
from buddyscheme.models import Membership, Role, Scheme
from buddyscheme.selectors import SettingsSection, settings_sections
from buddyscheme.services import office_hours_changing

from ..models import Meeting, MeetingState, OnCallShift, RiskRating, Venue
from .booking import _within_working_hours, cover_ends_before
from .rules import last_response_needed, lone_working, lone_working_to_read, spoken_time

# The longest a single shift may run: a longer one is almost always a typing mistake.
LONGEST_SHIFT = timedelta(days=7)
# The week view checks a one-hour meeting at a normal-risk venue starting every quarter hour.
GAP_STEP = timedelta(minutes=15)
GAP_MEETING = timedelta(hours=1)


# --- Writes -----------------------------------------------------------------------------------


def _check_shift(scheme: Scheme, responder: Membership, starts_at, ends_at) -> None:
    if responder.scheme_id != scheme.pk or not responder.is_active:
        raise DomainError("Choose someone who is active in this scheme.")
    if responder.role == Role.PARTICIPANT:
        raise DomainError("Choose a coordinator or a buddy: participants are not on call.")
    if ends_at <= starts_at:
        raise DomainError("The shift must end after it starts.")
    if ends_at - starts_at > LONGEST_SHIFT:
        raise DomainError("A shift can last at most 7 days. Add another for the time after.")


def _not_over(shift: OnCallShift, now) -> None:
    if shift.ends_at <= now:
        raise DomainError(
            "This shift is over: it stays on the rota as a record of who was on call."
        )


def response_tail(venue: Venue, config) -> timedelta:
    """How long after a meeting's planned end someone may still have to respond."""
    moment = timezone.now()
    return last_response_needed(venue, moment, config) - moment


def _uncovered_meetings(scheme: Scheme, starts_at, ends_at) -> set[int]:
    """Booked meetings touching starts_at..ends_at that neither office hours nor a shift cover."""
    config = lone_working(scheme)
    longest_tail = max(
        response_tail(Venue(risk_rating=rating), config) for rating in RiskRating.values
    )
    candidates = Meeting.objects.filter(
        scheme=scheme,
        state__in=[MeetingState.PLANNED, MeetingState.CHECKED_IN],
        planned_start__lt=ends_at,
        planned_end__gt=starts_at - longest_tail,
    ).select_related("venue")
    return {
        meeting.pk
        for meeting in candidates
        if cover_ends_before(
            scheme,
            meeting.planned_start,
            last_response_needed(meeting, meeting.planned_end, config),
        )
    }


def _refuse_if_cover_lost(
    scheme: Scheme, window, uncovered_before: set[int], what: str = "have nobody on call"
) -> None:
    """Inside the change's transaction, after it: a refusal rolls the change back. Meetings
    that had no cover before (a shift removed in the admin, say) do not block it."""
    lost = _uncovered_meetings(scheme, *window) - uncovered_before
    if lost:
        meetings = Meeting.objects.filter(pk__in=lost).order_by("planned_start")
        when = "; ".join(spoken_time(meeting.planned_start, scheme) for meeting in meetings[:3])
        plural = len(lost) != 1
        raise DomainError(
            f"{len(lost)} booked meeting{'s' if plural else ''} ({when}) would {what}. Add "
            f"another shift for that time first, or move the meeting{'s' if plural else ''}."
        )


@receiver(office_hours_changing)
def _booked_meetings_keep_their_cover(sender, before: Scheme, scheme: Scheme, **kwargs) -> None:
    """Shorter office hours must not leave a meeting already booked with nobody to answer."""
    now = timezone.now()
    window = (now, now + timedelta(days=3660))
    _refuse_if_cover_lost(
        scheme,
        window,
        _uncovered_meetings(before, *window),
        what="be outside office hours with nobody on call",
    )


def on_call_shift_create(
    *, scheme: Scheme, responder: Membership, starts_at, ends_at, by
) -> OnCallShift:
    _check_shift(scheme, responder, starts_at, ends_at)
    with transaction.atomic():
        shift = OnCallShift.objects.create(
            scheme=scheme, responder=responder, starts_at=starts_at, ends_at=ends_at
        )
        audit_record(actor=by, verb="on_call_shift_create", obj=shift, scheme=scheme)
    return shift


def on_call_shift_update(
    *, shift: OnCallShift, responder: Membership, starts_at, ends_at, by, now=None
) -> OnCallShift:
    """Refused for a shift that is over, or when a booked meeting would lose its cover."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = OnCallShift.objects.select_for_update().select_related("scheme").get(pk=shift.pk)
        _not_over(locked, now)
        _check_shift(locked.scheme, responder, starts_at, ends_at)
        window = (locked.starts_at, locked.ends_at)
        uncovered = _uncovered_meetings(locked.scheme, *window)
        locked.responder, locked.starts_at, locked.ends_at = responder, starts_at, ends_at
        locked.save(update_fields=["responder", "starts_at", "ends_at"])
        _refuse_if_cover_lost(locked.scheme, window, uncovered)
        audit_record(actor=by, verb="on_call_shift_update", obj=locked, scheme=locked.scheme_id)
    return locked


def on_call_shift_delete(*, shift: OnCallShift, by, now=None) -> None:
    """Refused for a shift that is over, or when a booked meeting would lose its cover."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = OnCallShift.objects.select_for_update().select_related("scheme").get(pk=shift.pk)
        _not_over(locked, now)
        audit_record(actor=by, verb="on_call_shift_delete", obj=locked, scheme=locked.scheme_id)
        window = (locked.starts_at, locked.ends_at)
        uncovered = _uncovered_meetings(locked.scheme, *window)
        locked.delete()
        _refuse_if_cover_lost(locked.scheme, window, uncovered)


# --- The week view ----------------------------------------------------------------------------


@dataclass
class ShiftOnDay:
    shift: OnCallShift
    starts: datetime  # local
    ends: datetime  # local
    counts: bool  # an inactive responder's shift is shown but covers nothing


@dataclass
class Gap:
    """Meetings starting from `first` to `last` (local) cannot be booked: nobody on call."""

    first: datetime
    last: datetime


@dataclass
class RotaDay:
    day: date
    office_opens: time | None
    office_closes: time | None
    shifts: list[ShiftOnDay] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)


@dataclass
class RotaWeek:
    monday: date
    days: list[RotaDay]
    response_tail: timedelta  # how long after a meeting's planned end someone must answer
    latest_office_end: time | None  # a meeting ending after this needs someone on call
    gap_count: int


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _local_midnight(day: date, zone) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), zone)


def covered(scheme: Scheme, shifts: list[OnCallShift], start: datetime, latest: datetime) -> bool:
    """The booking rule's cover test, on shifts already loaded (see `booking_problems`)."""
    if _within_working_hours(scheme, start, latest):
        return True
    return any(
        shift.starts_at <= start and shift.ends_at >= latest and shift.responder.is_active
        for shift in shifts
    )


def rota_week(scheme: Scheme, monday: date) -> RotaWeek:
    """The week from `monday` in the scheme's zone: office hours, shifts and gaps, each day.

    A gap is a time when a one-hour meeting at a normal-risk venue could not be booked because
    nobody would be there to respond. Two queries (the settings and the shifts).
    """
    zone = scheme.zone
    config = lone_working_to_read(scheme)
    tail = response_tail(Venue(risk_rating=RiskRating.LOW), config)
    start, end = _local_midnight(monday, zone), _local_midnight(monday + timedelta(days=7), zone)
    shifts = list(
        OnCallShift.objects.filter(scheme=scheme, starts_at__lt=end, ends_at__gt=start)
        .select_related("responder__user__profile")
        .order_by("starts_at", "pk")
    )
    working_days = scheme.working_day_numbers
    days = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        is_open = day.weekday() in working_days
        days.append(
            RotaDay(
                day=day,
                office_opens=scheme.working_hours_start if is_open else None,
                office_closes=scheme.working_hours_end if is_open else None,
            )
        )
        day_start, day_end = _local_midnight(day, zone), _local_midnight(day + timedelta(1), zone)
        for shift in shifts:
            if shift.starts_at < day_end and shift.ends_at > day_start:
                days[-1].shifts.append(
                    ShiftOnDay(
                        shift=shift,
                        starts=timezone.localtime(shift.starts_at, zone),
                        ends=timezone.localtime(shift.ends_at, zone),
                        counts=shift.responder.is_active,
                    )
                )
    gap_count, in_gap = 0, False
    moment = start
    while moment < end:
        if covered(scheme, shifts, moment, moment + GAP_MEETING + tail):
            in_gap = False
        else:
            gap_count += not in_gap  # a run of gap times counts once, even across midnight
            in_gap = True
            local = timezone.localtime(moment, zone)
            gaps = days[(local.date() - monday).days].gaps
            if gaps and gaps[-1].last == timezone.localtime(moment - GAP_STEP, zone):
                gaps[-1].last = local
            else:
                gaps.append(Gap(first=local, last=local))
        moment += GAP_STEP
    # Ending by then, a meeting that starts in office hours needs nobody on call.
    office_end = datetime.combine(monday, scheme.working_hours_end) - tail
    opens = datetime.combine(monday, scheme.working_hours_start)
    return RotaWeek(
        monday=monday,
        days=days,
        response_tail=tail,
        latest_office_end=office_end.time() if office_end > opens else None,
        gap_count=gap_count,
    )


def shifts_in_next_days(scheme: Scheme, days: int = 7, now=None) -> int:
    now = now or timezone.now()
    return OnCallShift.objects.filter(
        scheme=scheme,
        starts_at__lt=now + timedelta(days=days),
        ends_at__gt=now,
        responder__is_active=True,
    ).count()


@receiver(settings_sections)
def _rota_on_the_settings_hub(sender, scheme, **kwargs) -> list[SettingsSection]:
    upcoming = shifts_in_next_days(scheme)
    return [
        SettingsSection(
            position=30,
            title="On-call rota",
            url_name="meetings:settings_rota",
            summary=f"{upcoming} shift{'' if upcoming == 1 else 's'} in the next 7 days. A meeting "
            "outside office hours can be booked only when someone is on call for it.",
            attention=""
            if upcoming
            else "Nobody is on call in the next 7 days: meetings outside office hours cannot "
            "be booked.",
        )
    ]
