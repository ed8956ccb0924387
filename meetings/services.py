"""Meetings and the lone-working safety net.

The truth lives in the database. Each meeting carries `next_alert_at`, the instant its next
alert falls due; a sweep every 30 s (Celery beat) raises whatever is due through a partial
index, and a UniqueConstraint(meeting, level) makes a duplicate alert impossible even with two
sweepers. Messages go through the outbox (buddyscheme.notifications). No Celery ETA timers.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from buddyscheme.errors import DomainError
from buddyscheme.models import Membership, Role
from buddyscheme.notifications import notification_enqueue
from buddyscheme.services import heartbeat_record
from buddyscheme.vetting import vetting_blockers

from .models import (
    MISSED_CHECK_IN_LEVEL,
    TOP_LEVEL,
    Alert,
    AlertOutcome,
    AlertReason,
    LoneWorkingSettings,
    Meeting,
    MeetingState,
    OnCallShift,
    RiskRating,
    SafetyEvent,
    SafetyEventKind,
)

EXTENSIONS = (15, 30, 60)
MATCH_STATES_THAT_MEET = ("introduced", "active", "ending")


def lone_working(scheme) -> LoneWorkingSettings:
    config, _ = LoneWorkingSettings.objects.get_or_create(scheme=scheme)
    return config


def grace(meeting_or_venue, config: LoneWorkingSettings) -> timedelta:
    venue = getattr(meeting_or_venue, "venue", meeting_or_venue)
    minutes = (
        config.high_risk_grace_minutes
        if venue.risk_rating == RiskRating.HIGH
        else config.grace_minutes
    )
    return timedelta(minutes=minutes)


# --- Booking ----------------------------------------------------------------------------------


def on_call_covers(scheme, start, end) -> bool:
    return OnCallShift.objects.filter(
        scheme=scheme, starts_at__lte=start, ends_at__gte=end, responder__is_active=True
    ).exists()


def _within_working_hours(scheme, start, end) -> bool:
    local_start, local_end = (
        timezone.localtime(start, scheme.zone),
        timezone.localtime(end, scheme.zone),
    )
    return (
        local_start.date() == local_end.date()
        and scheme.is_within_working_hours(start)
        and local_end.time() <= scheme.working_hours_end
        and local_end.weekday() in scheme.working_day_numbers
    )


def booking_problems(
    *, buddy, venue, planned_start, planned_end, match=None, now=None
) -> list[str]:
    now = now or timezone.now()
    problems = []
    if buddy.role != Role.BUDDY or venue.scheme_id != buddy.scheme_id:
        return ["the buddy and the venue must belong to this scheme"]
    if planned_end <= planned_start:
        problems.append("the meeting must end after it starts")
    if planned_start < now - timedelta(minutes=5):
        problems.append("meetings are logged before they happen: the start time has passed")
    if planned_end - planned_start > timedelta(hours=8):
        problems.append("a meeting can last at most 8 hours")
    # Vetting must hold on the day of the meeting, not just today.
    meeting_day = max(
        timezone.localdate(), timezone.localtime(planned_start, buddy.scheme.zone).date()
    )
    problems += [
        f"the buddy is {p}" if p.startswith("not") else f"the buddy's {p}"
        for p in vetting_blockers(buddy, meeting_day)
    ]
    if not venue.is_active:
        problems.append("this venue is no longer used")
    elif venue.risk_review_due < timezone.localtime(planned_start, buddy.scheme.zone).date():
        problems.append(
            f"the venue's risk assessment needed review by {venue.risk_review_due:%d %B %Y}: a coordinator must review it first"
        )
    if match is not None and (
        match.buddy_id != buddy.pk or match.state not in MATCH_STATES_THAT_MEET
    ):
        problems.append("meetings can be booked only for your own introduced or active matches")
    out_of_hours = not problems and not _within_working_hours(
        buddy.scheme, planned_start, planned_end
    )
    if out_of_hours and not on_call_covers(buddy.scheme, planned_start, planned_end):
        problems.append(
            "it is outside office hours and nobody is on call for that time (our out-of-hours policy: "
            "someone must be able to respond if you do not check out). Choose office hours or ask your coordinator"
        )
    return problems


def _deadlines(meeting: Meeting, config: LoneWorkingSettings, now) -> None:
    meeting.next_alert_at = meeting.planned_start + grace(meeting, config)
    reminder = meeting.planned_start - timedelta(minutes=config.reminder_before_minutes)
    meeting.next_reminder_at = reminder if reminder > now else None


def meeting_book(
    *,
    buddy,
    venue,
    planned_start,
    planned_end,
    purpose,
    by,
    match=None,
    support_person=None,
    now=None,
) -> Meeting:
    now = now or timezone.now()
    problems = booking_problems(
        buddy=buddy,
        venue=venue,
        planned_start=planned_start,
        planned_end=planned_end,
        match=match,
        now=now,
    )
    if problems:
        raise DomainError("This meeting cannot be booked: " + "; ".join(problems) + ".")
    meeting = Meeting(
        scheme=buddy.scheme,
        match=match,
        buddy=buddy,
        support_person=support_person,
        venue=venue,
        purpose=purpose.strip() or "Appointment",
        planned_start=planned_start,
        planned_end=planned_end,
        expected_end=planned_end,
        created_by=by,
        created_at=now,
    )
    _deadlines(meeting, lone_working(buddy.scheme), now)
    meeting.save()
    return meeting


@transaction.atomic
def meeting_reschedule(
    *, meeting: Meeting, venue, planned_start, planned_end, purpose, by, now=None
) -> Meeting:
    """A coordinator edits a meeting that has not started yet."""
    now = now or timezone.now()
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.state != MeetingState.PLANNED:
        raise DomainError("Only a meeting that has not started can be changed.")
    problems = booking_problems(
        buddy=meeting.buddy,
        venue=venue,
        planned_start=planned_start,
        planned_end=planned_end,
        match=meeting.match,
        now=now,
    )
    if problems:
        raise DomainError("This change cannot be made: " + "; ".join(problems) + ".")
    meeting.venue, meeting.planned_start, meeting.planned_end, meeting.purpose = (
        venue,
        planned_start,
        planned_end,
        purpose,
    )
    meeting.expected_end = planned_end
    _deadlines(meeting, lone_working(meeting.scheme), now)
    _new_watch(meeting)
    meeting.save()
    _resolve_open_alerts(meeting, by, AlertOutcome.SAFE, "meeting rescheduled", now)
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, by, now=None) -> Meeting:
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.state != MeetingState.PLANNED:
        raise DomainError("Only a meeting that has not started can be cancelled.")
    meeting.state = MeetingState.CANCELLED
    meeting.next_alert_at = meeting.next_reminder_at = None
    meeting.save(update_fields=["state", "next_alert_at", "next_reminder_at"])
    _resolve_open_alerts(meeting, by, AlertOutcome.SAFE, "meeting cancelled", now or timezone.now())
    return meeting


# --- The buddy's buttons ----------------------------------------------------------------------


def _record(meeting: Meeting, kind: str, key: str, by, now, minutes=None) -> bool:
    """Store the event under the client's key. False when that key was already recorded."""
    key = (key or "").strip()[:64]
    if not key:
        raise DomainError("Something went wrong with the page. Please reload it and press again.")
    try:
        with transaction.atomic():
            SafetyEvent.objects.create(
                meeting=meeting, kind=kind, idempotency_key=key, at=now, by=by, minutes=minutes
            )
    except IntegrityError:
        # The same post arrived again (a retry on a poor signal): it was recorded the first time.
        existing = (
            SafetyEvent.objects.filter(idempotency_key=key)
            .values_list("meeting_id", "kind")
            .first()
        )
        if existing != (meeting.pk, kind):
            raise DomainError("Please reload the page and press again.") from None
        return False
    return True


def _config(meeting: Meeting) -> LoneWorkingSettings:
    try:
        return meeting.scheme.lone_working
    except LoneWorkingSettings.DoesNotExist:
        return lone_working(meeting.scheme)


def _new_watch(meeting: Meeting) -> None:
    """Check-in, extension and reschedule start a new watch: escalation restarts at the bottom."""
    meeting.cycle += 1
    meeting.alert_level = 0


def _locked(meeting: Meeting) -> Meeting:
    return (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("venue", "scheme__lone_working", "buddy__user")
        .get(pk=meeting.pk)
    )


@transaction.atomic
def meeting_check_in(*, meeting: Meeting, key: str, by, now=None) -> Meeting:
    now = now or timezone.now()
    meeting = _locked(meeting)
    if not _record(meeting, SafetyEventKind.CHECK_IN, key, by, now):
        return meeting
    if meeting.state != MeetingState.PLANNED:
        raise DomainError(
            "You have already checked in to this meeting."
            if meeting.state == "checked_in"
            else "This meeting is not open for check-in."
        )
    config = _config(meeting)
    _new_watch(meeting)
    meeting.state = MeetingState.CHECKED_IN
    meeting.checked_in_at = now
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
    _resolve_open_alerts(meeting, by, AlertOutcome.SAFE, "checked in late", now)
    return meeting


@transaction.atomic
def meeting_extend(*, meeting: Meeting, minutes: int, key: str, by, now=None) -> Meeting:
    now = now or timezone.now()
    meeting = _locked(meeting)
    if minutes not in EXTENSIONS:
        raise DomainError("Choose 15, 30 or 60 minutes.")
    if not _record(meeting, SafetyEventKind.EXTEND, key, by, now, minutes=minutes):
        return meeting
    if meeting.state != MeetingState.CHECKED_IN:
        raise DomainError("You can ask for more time once you have checked in.")
    config = _config(meeting)
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
    meeting.expected_end = max(meeting.expected_end, now) + timedelta(minutes=minutes)
    meeting.extended_minutes += minutes
    meeting.next_alert_at = meeting.expected_end + grace(meeting, config)
    meeting.next_reminder_at = meeting.expected_end
    _new_watch(meeting)
    meeting.save(
        update_fields=[
            "expected_end",
            "extended_minutes",
            "next_alert_at",
            "next_reminder_at",
            "cycle",
            "alert_level",
        ]
    )
    _resolve_open_alerts(meeting, by, AlertOutcome.SAFE, "buddy asked for more time", now)
    return meeting


@transaction.atomic
def meeting_check_out(*, meeting: Meeting, key: str, by, now=None) -> Meeting:
    now = now or timezone.now()
    meeting = _locked(meeting)
    if not _record(meeting, SafetyEventKind.CHECK_OUT, key, by, now):
        return meeting
    if meeting.state != MeetingState.CHECKED_IN:
        raise DomainError(
            "You can check out after you have checked in."
            if meeting.state == "planned"
            else "This meeting is already finished."
        )
    meeting.state = MeetingState.CHECKED_OUT
    meeting.checked_out_at = now
    meeting.next_alert_at = meeting.next_reminder_at = None
    meeting.save(update_fields=["state", "checked_out_at", "next_alert_at", "next_reminder_at"])
    _resolve_open_alerts(meeting, by, AlertOutcome.SAFE, "checked out", now)
    return meeting


@transaction.atomic
def meeting_help(*, meeting: Meeting, key: str, by, now=None) -> Alert | None:
    """The help button: straight to the top level, whoever is on call, at once.

    Each request is its own alert (the nth help request of the meeting), never blocked by the
    overdue alerts or an earlier false alarm; the overdue watch carries on untouched.
    """
    now = now or timezone.now()
    meeting = _locked(meeting)
    help_alerts = meeting.alerts.filter(reason=AlertReason.HELP)
    if not _record(meeting, SafetyEventKind.HELP, key, by, now):
        return help_alerts.order_by("-cycle").first()
    if meeting.state not in (MeetingState.PLANNED, MeetingState.CHECKED_IN):
        raise DomainError("This meeting has finished. If you need help now, call 999.")
    already_open = help_alerts.filter(resolved_at__isnull=True).first()
    if already_open is not None:
        return already_open  # pressed again while responders are on it
    return _raise_alert(
        meeting, TOP_LEVEL, AlertReason.HELP, due_at=now, now=now, cycle=help_alerts.count()
    )


# --- Alerts -----------------------------------------------------------------------------------


def _coordinators(scheme):
    return list(
        Membership.objects.filter(
            scheme=scheme, role=Role.COORDINATOR, is_active=True
        ).select_related("user__profile")
    )


def recipients(meeting: Meeting, level: int, now=None) -> list:
    """Users to tell at each level: only active members of this scheme, never nobody.

    0 and 2: the named support person, else the coordinators. 1: the buddy. 3: every on-call
    responder and whoever is on the rota now (plus the support person); if that adds nobody
    beyond the support person, the coordinators too.
    """
    now = now or timezone.now()
    active = Membership.objects.filter(scheme=meeting.scheme, is_active=True)
    support = list(active.filter(pk=meeting.support_person_id)) if meeting.support_person_id else []
    if level == 1:
        people = [meeting.buddy]
    elif level in (MISSED_CHECK_IN_LEVEL, 2):
        people = support or _coordinators(meeting.scheme)
    else:
        on_call = active.filter(is_on_call=True) | active.filter(
            on_call_shifts__scheme=meeting.scheme,
            on_call_shifts__starts_at__lte=now,
            on_call_shifts__ends_at__gte=now,
        )
        responders = list(on_call.distinct().select_related("user__profile"))
        people = support + (responders or _coordinators(meeting.scheme))
    users = {}
    for membership in people:
        users.setdefault(membership.user_id, membership.user)
    return list(users.values())


TEMPLATE_FOR = {
    (MISSED_CHECK_IN_LEVEL, AlertReason.MISSED_CHECK_IN): "alert_missed_check_in",
    (1, AlertReason.OVERDUE): "alert_check_out_prompt",
    (2, AlertReason.OVERDUE): "alert_overdue",
    (3, AlertReason.OVERDUE): "alert_urgent",
    (3, AlertReason.HELP): "alert_help",
}


def _raise_alert(
    meeting: Meeting, level: int, reason: str, due_at, now, cycle=None
) -> Alert | None:
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                meeting=meeting,
                level=level,
                reason=reason,
                cycle=meeting.cycle if cycle is None else cycle,
                due_at=due_at,
                raised_at=now,
            )
    except IntegrityError:
        return None  # already raised (another sweeper, or help raced the sweep)
    context = {"meeting_id": meeting.pk, "alert_id": alert.pk, "level": level}
    for user in recipients(meeting, level, now):
        notification_enqueue(
            scheme=meeting.scheme,
            recipient=user,
            template=TEMPLATE_FOR[(level, reason)],
            dedupe_key=f"alert:{alert.pk}",
            context=context,
            now=now,
        )
    return alert


def _resolve_open_alerts(meeting: Meeting, by, outcome: str, note: str, now) -> int:
    """Close the open timing alerts and send the all-clear to those they reached.

    A help request is never closed by a button press (someone may be pressing it for the
    buddy): a responder resolves it on the board after speaking to them.
    """
    open_alerts = list(
        meeting.alerts.filter(resolved_at__isnull=True).exclude(reason=AlertReason.HELP)
    )
    if not open_alerts:
        return 0
    Alert.objects.filter(pk__in=[a.pk for a in open_alerts]).update(
        resolved_at=now, resolved_by=by, outcome=outcome, notes=note
    )
    _send_all_clear(meeting, now)
    return len(open_alerts)


def _send_all_clear(meeting: Meeting, now, also_skip=None) -> None:
    """Tell the people reached by alerts resolved since the last all-clear that all is well.

    Not the buddy (they know), not whoever resolved it, and not anyone told about a help
    request that is still open: for them the buddy is not yet known to be safe.
    """
    from buddyscheme.models import Notification

    resolved = list(
        meeting.alerts.filter(resolved_at__isnull=False, all_clear_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    if not resolved:
        return
    open_help = list(
        meeting.alerts.filter(reason=AlertReason.HELP, resolved_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    still_worried = set(
        Notification.objects.filter(context__alert_id__in=open_help).values_list(
            "recipient_id", flat=True
        )
    )
    reached = (
        Notification.objects.filter(context__alert_id__in=resolved)
        .exclude(recipient=meeting.buddy.user)
        .exclude(recipient_id__in=still_worried)
        .select_related("recipient__profile")
    )
    if also_skip is not None:
        reached = reached.exclude(recipient=also_skip)
    Alert.objects.filter(pk__in=resolved).update(all_clear_at=now)
    for user in {n.recipient_id: n.recipient for n in reached}.values():
        notification_enqueue(
            scheme=meeting.scheme,
            recipient=user,
            template="all_clear",
            dedupe_key=f"all-clear:{meeting.pk}:{min(resolved)}",
            context={"meeting_id": meeting.pk},
            now=now,
        )


def _stop_escalation(alert: Alert) -> None:
    """A human has a timing alert of the current watch in hand: no further levels for it."""
    if alert.reason != AlertReason.HELP:
        Meeting.objects.filter(pk=alert.meeting_id, cycle=alert.cycle).update(next_alert_at=None)


@transaction.atomic
def alert_acknowledge(*, alert: Alert, by, now=None) -> Alert:
    """Someone is dealing with it: escalation stops (the alert stays open until resolved).

    An alert already resolved (say by a late check-in) changes nothing: the meeting stays watched.
    """
    now = now or timezone.now()
    updated = Alert.objects.filter(
        pk=alert.pk, acknowledged_at__isnull=True, resolved_at__isnull=True
    ).update(acknowledged_at=now, acknowledged_by=by)
    alert.refresh_from_db()
    if updated:
        _stop_escalation(alert)
    return alert


@transaction.atomic
def alert_resolve(*, alert: Alert, by, outcome: str, notes: str = "", now=None) -> Alert:
    now = now or timezone.now()
    if outcome not in AlertOutcome.values:
        raise DomainError("Choose what happened: safe, incident or false alarm.")
    updated = Alert.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(
        resolved_at=now,
        resolved_by=by,
        outcome=outcome,
        notes=notes,
        acknowledged_at=alert.acknowledged_at or now,
        acknowledged_by=alert.acknowledged_by or by,
    )
    if not updated:
        raise DomainError("This alert is already resolved.")
    alert.refresh_from_db()
    _stop_escalation(alert)
    if not Alert.objects.filter(meeting_id=alert.meeting_id, resolved_at__isnull=True).exists():
        # The last open alert is closed: everyone else who was alerted can stand down.
        _send_all_clear(alert.meeting, now, also_skip=by)
    return alert


# --- The sweep ----------------------------------------------------------------------------------


def _process_due(pk: int, due_at, now) -> Alert | None:
    with transaction.atomic():
        qs = Meeting.objects.filter(pk=pk, next_alert_at=due_at).select_related(
            "venue", "scheme", "buddy__user"
        )
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        meeting = qs.first()
        if meeting is None:
            return None  # another sweeper has it, or the buddy just pressed a button
        config = lone_working(meeting.scheme)
        if meeting.state == MeetingState.PLANNED:
            level, reason, following = MISSED_CHECK_IN_LEVEL, AlertReason.MISSED_CHECK_IN, None
        elif meeting.state == MeetingState.CHECKED_IN:
            level = min(meeting.alert_level + 1, TOP_LEVEL)
            reason = AlertReason.OVERDUE
            following = (
                due_at + timedelta(minutes=config.escalation_minutes) if level < TOP_LEVEL else None
            )
        else:
            Meeting.objects.filter(pk=pk).update(next_alert_at=None)
            return None
        # The conditional UPDATE is the claim: only one sweeper moves next_alert_at on.
        claimed = Meeting.objects.filter(pk=pk, next_alert_at=due_at).update(
            next_alert_at=following, alert_level=max(meeting.alert_level, level)
        )
        if not claimed:
            return None
        return _raise_alert(meeting, level, reason, due_at=due_at, now=now)


REMINDER_TEMPLATES = {
    MeetingState.PLANNED: "reminder_before",
    MeetingState.CHECKED_IN: "reminder_check_out",
}


def _remind(pk: int, due_at, now) -> None:
    with transaction.atomic():
        claimed = Meeting.objects.filter(pk=pk, next_reminder_at=due_at).update(
            next_reminder_at=None
        )
        if not claimed:
            return
        meeting = Meeting.objects.select_related("scheme", "buddy__user__profile").get(pk=pk)
        template = REMINDER_TEMPLATES.get(meeting.state)
        moment = (
            meeting.planned_start if meeting.state == MeetingState.PLANNED else meeting.expected_end
        )
        if template:
            notification_enqueue(
                scheme=meeting.scheme,
                recipient=meeting.buddy.user,
                template=template,
                dedupe_key=f"reminder:{meeting.pk}:{template}:{due_at.isoformat()}",
                context={
                    "meeting_id": meeting.pk,
                    "when": f"{timezone.localtime(moment, meeting.scheme.zone):%H:%M}",
                },
                now=now,
            )


def sweep(*, now=None, batch: int = 500) -> int:
    """Raise every alert and reminder that is due. Safe to run twice at once. Returns alerts raised."""
    now = now or timezone.now()
    raised = 0
    previous = None
    while True:
        due = list(
            Meeting.objects.filter(next_alert_at__lte=now)
            .order_by("next_alert_at")
            .values_list("pk", "next_alert_at")[:batch]
        )
        if not due or due == previous:
            break  # nothing left, or only rows another sweeper holds locked right now
        previous = due
        # After an outage one meeting may owe several levels: loop until nothing is due.
        raised += sum(1 for pk, due_at in due if _process_due(pk, due_at, now))
    for pk, due_at in Meeting.objects.filter(next_reminder_at__lte=now).values_list(
        "pk", "next_reminder_at"
    )[:batch]:
        _remind(pk, due_at, now)
    heartbeat_record("sweep", now)
    return raised
