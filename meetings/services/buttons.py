"""The buddy's buttons: check in, extend, check out and help, each recorded once per idempotency key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from buddyscheme.errors import DomainError
from buddyscheme.notifications import notification_enqueue

from ..models import (
    SENT_LATE_AFTER,
    TOP_LEVEL,
    Alert,
    AlertOutcome,
    AlertReason,
    LoneWorkingSettings,
    Meeting,
    MeetingState,
    SafetyEvent,
    SafetyEventKind,
)
from ..selectors import people_alerted
from .alerts import raise_alert, resolve_open_alerts
from .debriefs import debrief_open
from .rules import (
    EXTENSIONS,
    calendar_changed,
    check_in_window,
    grace,
    lone_working,
    new_watch,
    pressed_at,
    spoken_time,
)


def _record(meeting: Meeting, kind: str, key: str, by, now, minutes=None, device_at=None) -> bool:
    """Store the event under the client's key. False when that key was already recorded.
    `device_at`: when the phone says it was pressed (already checked by pressed_at)."""
    key = (key or "").strip()[:64]
    if not key:
        raise DomainError("Something went wrong with the page. Please reload it and press again.")
    if _insert_unless_recorded(meeting, kind, key, by, now, minutes, device_at):
        return True
    # The same post arrived again (a retry on a poor signal): it was recorded the first time.
    existing = (
        SafetyEvent.objects.filter(idempotency_key=key).values_list("meeting_id", "kind").first()
    )
    if existing != (meeting.pk, kind):
        raise DomainError("Please reload the page and press again.")
    return False


def _insert_unless_recorded(
    meeting: Meeting, kind: str, key: str, by, now, minutes, device_at
) -> bool:
    """One INSERT … ON CONFLICT DO NOTHING (PostgreSQL and SQLite alike): whether it stored a
    row. A savepoint around a plain INSERT did the same in three round trips on every press,
    where a repeated key is the rare case."""
    quote = connection.ops.quote_name
    table = quote(SafetyEvent._meta.db_table)
    columns = ", ".join(
        quote(column)
        for column in (
            "meeting_id",
            "kind",
            "idempotency_key",
            "at",
            "device_at",
            "minutes",
            "by_id",
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s) "  # noqa: S608
            f"ON CONFLICT ({quote('idempotency_key')}) DO NOTHING RETURNING {quote('id')}",
            [
                meeting.pk,
                kind,
                key,
                connection.ops.adapt_datetimefield_value(now),
                connection.ops.adapt_datetimefield_value(device_at),
                minutes,
                getattr(by, "pk", None),
            ],
        )
        return cursor.fetchone() is not None


def _config(meeting: Meeting) -> LoneWorkingSettings:
    try:
        return meeting.scheme.lone_working
    except LoneWorkingSettings.DoesNotExist:
        return lone_working(meeting.scheme)


@dataclass(frozen=True)
class OwnMeeting:
    """A meeting named only by the id in a button's address, not read yet, and the rows it
    must be among for the person pressing (their scheme, their own meetings). The service's
    lock reads it within `scope`, so the access check and the lock are one query; outside it,
    the press raises Meeting.DoesNotExist having written nothing, and the caller says why (404
    or 403, as its access helper would)."""

    pk: int
    scope: Q


# What a press reads with the meeting, built once: every press clones it (a queryset is never
# changed by chaining, and this one is never evaluated), which spares building the joins and
# the subquery again on each press (about a tenth of a check-in's Python time, measured).
_PRESSED = Meeting.objects.select_related("venue", "scheme__lone_working", "buddy__user").annotate(
    has_open_alert=Exists(Alert.objects.filter(meeting=OuterRef("pk"), resolved_at__isnull=True))
)


def _locked(meeting: Meeting | OwnMeeting) -> Meeting:
    """The meeting, locked, and whether it has an open alert (has_open_alert: no need to look
    for alerts to close when it has none). Its scheme's lone-working settings are read afresh
    here, never taken from the object passed in (a caller may hold it from before a change).
    An OwnMeeting is read only within its scope."""
    rows = _PRESSED.select_for_update(of=("self",))
    if isinstance(meeting, OwnMeeting):
        rows = rows.filter(meeting.scope)
    return rows.get(pk=meeting.pk)


@transaction.atomic
def meeting_check_in(
    *, meeting: Meeting | OwnMeeting, key: str, by, now=None, device_at=None
) -> Meeting:
    """`device_at`: when the phone says "I've arrived" was pressed (saved with no signal and
    sent on later); believed within bounds (pressed_at), it decides the check-in window and
    the check-in time. Otherwise the arrival time does."""
    now = now or timezone.now()
    meeting = _locked(meeting)
    config = _config(meeting)
    device_at = pressed_at(meeting, device_at, now, config)
    if not _record(meeting, SafetyEventKind.CHECK_IN, key, by, now, device_at=device_at):
        return meeting
    pressed = device_at or now
    if meeting.state != MeetingState.PLANNED:
        raise DomainError(
            "You have already checked in to this meeting."
            if meeting.state == "checked_in"
            else "This meeting is not open for check-in."
        )
    opens, closes = check_in_window(meeting, config)
    if pressed < opens:
        raise DomainError(
            f"It is too early to check in. You can check in from "
            f"{spoken_time(opens, meeting.scheme, now)}."
        )
    if pressed > closes:
        raise DomainError(
            f"This meeting was due to end at {spoken_time(closes, meeting.scheme, now)}, so you "
            "cannot check in to it now. If you are meeting someone now, phone your coordinator."
        )
    new_watch(meeting)
    meeting.state = MeetingState.CHECKED_IN
    meeting.checked_in_at = pressed
    meeting.next_alert_at = meeting.expected_end + grace(meeting, config)
    meeting.next_reminder_at = meeting.expected_end if meeting.expected_end > now else None
    meeting.save(
        update_fields=[
            "state",
            "checked_in_at",
            "next_alert_at",
            "next_reminder_at",
            "cycle",
            "alert_level",
        ]
    )
    # A late arrival answers a missed check-in alert: everyone told gets the all-clear.
    if getattr(meeting, "has_open_alert", True):  # not known: look
        resolve_open_alerts(meeting, by, AlertOutcome.SAFE, "checked in late", now)
    return meeting


@transaction.atomic
def meeting_extend(
    *, meeting: Meeting | OwnMeeting, minutes: int, key: str, by, now=None, device_at=None
) -> Meeting:
    """`device_at` (believed within bounds): the more time runs from when it was asked for, so
    a request sent late may leave the meeting overdue at once, which is the truth."""
    now = now or timezone.now()
    meeting = _locked(meeting)
    if minutes not in EXTENSIONS:
        raise DomainError("Choose 15, 30 or 60 minutes.")
    config = _config(meeting)
    device_at = pressed_at(meeting, device_at, now, config)
    if not _record(
        meeting, SafetyEventKind.EXTEND, key, by, now, minutes=minutes, device_at=device_at
    ):
        return meeting
    if meeting.state != MeetingState.CHECKED_IN:
        raise DomainError("You can ask for more time once you have checked in.")
    if meeting.extended_minutes + minutes > config.max_extension_minutes:
        left = config.max_extension_minutes - meeting.extended_minutes
        raise DomainError(
            f"Meetings can be extended by {config.max_extension_minutes} minutes in all"
            + (
                f"; you can add up to {left} more."
                if left > 0
                else ". Please check out, or call your coordinator."
            )
        )
    # Extending from the later of now and the current end: "30 more minutes" means from now.
    meeting.expected_end = max(meeting.expected_end, device_at or now) + timedelta(minutes=minutes)
    meeting.extended_minutes += minutes
    meeting.next_alert_at = meeting.expected_end + grace(meeting, config)
    meeting.next_reminder_at = meeting.expected_end
    new_watch(meeting)
    meeting.save(
        update_fields=[
            "expected_end",
            "extended_minutes",
            "next_alert_at",
            "next_reminder_at",
            "cycle",
            "alert_level",
        ]
        + calendar_changed(meeting, now)  # the calendar event ends later
    )
    resolve_open_alerts(meeting, by, AlertOutcome.SAFE, "buddy asked for more time", now)
    return meeting


@transaction.atomic
def meeting_check_out(*, meeting: Meeting, key: str, by, now=None, device_at=None) -> Meeting:
    """`device_at` (believed within bounds): the check-out time is when the buddy pressed. A
    check-out sent late still closes the overdue alerts raised meanwhile and sends the
    all-clear, now: the buddy has said they are safe."""
    now = now or timezone.now()
    meeting = _locked(meeting)
    device_at = pressed_at(meeting, device_at, now, _config(meeting))
    if not _record(meeting, SafetyEventKind.CHECK_OUT, key, by, now, device_at=device_at):
        return meeting
    if meeting.state != MeetingState.CHECKED_IN:
        raise DomainError(
            "You can check out after you have checked in."
            if meeting.state == "planned"
            else "This meeting is already finished."
        )
    meeting.state = MeetingState.CHECKED_OUT
    meeting.checked_out_at = device_at or now
    meeting.next_alert_at = meeting.next_reminder_at = None
    meeting.save(update_fields=["state", "checked_out_at", "next_alert_at", "next_reminder_at"])
    # The check-out opens the debrief (DESIGN §2 step 6): due from now, reminded at 24 hours.
    debrief_open(meeting, now)
    resolve_open_alerts(
        meeting,
        by,
        AlertOutcome.SAFE,
        "checked out" if not device_at else _sent_late_note(meeting, device_at, now),
        now,
    )
    return meeting


def _sent_late_note(meeting: Meeting, device_at, now) -> str:
    """The alert's closing note for a check-out sent late; the meeting's own times, no names."""
    if now - device_at <= SENT_LATE_AFTER:
        return "checked out"
    zone = meeting.scheme.zone
    return (
        f"checked out (sent late: pressed {timezone.localtime(device_at, zone):%H:%M}, "
        f"arrived {timezone.localtime(now, zone):%H:%M})"
    )


@transaction.atomic
def meeting_help(*, meeting: Meeting, key: str, by, now=None, device_at=None) -> Alert | None:
    """The help button: straight to the top level, whoever is on call, at once.

    Each request is its own alert (the nth help request of the meeting), never blocked by the
    overdue alerts or an earlier false alarm; the overdue watch carries on untouched.
    """
    now = now or timezone.now()
    meeting = _locked(meeting)
    help_alerts = meeting.alerts.filter(reason=AlertReason.HELP)
    # Sent late (saved with no signal): due from when it was pressed, raised now.
    device_at = pressed_at(meeting, device_at, now, _config(meeting))
    if not _record(meeting, SafetyEventKind.HELP, key, by, now, device_at=device_at):
        return help_alerts.order_by("-cycle").first()
    if meeting.state not in (MeetingState.PLANNED, MeetingState.CHECKED_IN):
        raise DomainError("This meeting has finished. If you need help now, call 999.")
    already_open = help_alerts.filter(resolved_at__isnull=True).first()
    if already_open is not None:
        return already_open  # pressed again while responders are on it
    return raise_alert(
        meeting,
        TOP_LEVEL,
        AlertReason.HELP,
        due_at=device_at or now,
        now=now,
        cycle=help_alerts.count(),
    )


@transaction.atomic
def meeting_safe_now(*, meeting: Meeting, key: str, by, now=None) -> Meeting:
    """The buddy taps "I'm safe now" after asking for help: everyone the request reached is
    told, once.

    It does not close the help request (someone may be making the buddy press it): a
    responder closes it after speaking to them.
    """
    now = now or timezone.now()
    meeting = _locked(meeting)
    open_help = list(meeting.alerts.filter(reason=AlertReason.HELP, resolved_at__isnull=True))
    if (
        open_help
        and meeting.safety_events.filter(
            kind=SafetyEventKind.SAFE, at__gte=min(alert.raised_at for alert in open_help)
        ).exists()
    ):
        return meeting  # already said for this request (another tap, another page)
    if not _record(meeting, SafetyEventKind.SAFE, key, by, now):
        return meeting
    if not open_help:
        raise DomainError("The team has already closed your request for help.")
    told = people_alerted(meeting, alerts=open_help).exclude(pk=meeting.buddy.user_id)
    for user in told:
        notification_enqueue(
            scheme=meeting.scheme,
            recipient=user,
            template="buddy_safe",
            dedupe_key=f"buddy-safe:{open_help[0].pk}",
            context={
                "meeting_id": meeting.pk,
                "at": f"{timezone.localtime(now, meeting.scheme.zone):%H:%M}",
            },
            now=now,
        )
    return meeting
