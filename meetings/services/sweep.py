"""The sweep: raises whatever alert or reminder is due, from the database, never from a timer."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from buddyscheme.notifications import notification_enqueue
from buddyscheme.services import heartbeat_record

from ..board import board_forget
from ..models import (
    MISSED_CHECK_IN_LEVEL,
    TOP_LEVEL,
    Alert,
    AlertReason,
    LoneWorkingSettings,
    Meeting,
    MeetingState,
)
from .alerts import raise_alert
from .rules import grace, lone_working


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
        return raise_alert(meeting, level, reason, due_at=due_at, now=now)


REMINDER_TEMPLATES: dict[str, str] = {
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


def mark_missed(now, batch: int = 500) -> int:
    """Meetings never checked in become missed once their planned end and grace have passed.

    Found through the partial index of planned meetings by end. Only once the missed check-in
    alert is out (next_alert_at cleared): after an outage the alert is raised first, never
    swallowed. The conditional UPDATE makes a second sweeper's run change nothing.
    """
    candidates = list(
        Meeting.objects.filter(
            state=MeetingState.PLANNED, planned_end__lte=now, next_alert_at__isnull=True
        )
        .select_related("venue", "scheme")
        .order_by("planned_end")[:batch]
    )
    configs: dict[int, LoneWorkingSettings] = {}
    over = []
    schemes = set()
    for meeting in candidates:
        if meeting.scheme_id not in configs:
            configs[meeting.scheme_id] = lone_working(meeting.scheme)
        if meeting.planned_end + grace(meeting, configs[meeting.scheme_id]) <= now:
            over.append(meeting.pk)
            schemes.add(meeting.scheme_id)
    missed = Meeting.objects.filter(
        pk__in=over, state=MeetingState.PLANNED, next_alert_at__isnull=True
    ).update(state=MeetingState.MISSED, next_reminder_at=None)
    if missed:
        for scheme_id in schemes:
            board_forget(scheme_id)
    return missed


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
    mark_missed(now, batch)
    heartbeat_record("sweep", now)
    return raised
