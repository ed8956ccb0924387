"""Raising, acknowledging and resolving alerts, who they reach, and the all-clear."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone

from buddyscheme.errors import DomainError
from buddyscheme.models import Channel, Membership, Notification, NotificationStatus, Role, User
from buddyscheme.notifications import notification_enqueue, notifications_send_now

from ..board import board_forget, board_forget_alert
from ..models import (
    MISSED_CHECK_IN_LEVEL,
    NO_ALL_CLEAR_WHILE_OPEN,
    ONLY_A_RESPONDER_CLOSES,
    TOP_LEVEL,
    Alert,
    AlertOutcome,
    AlertReason,
    AlertRecipient,
    Meeting,
)
from ..selectors import people_alerted

logger = logging.getLogger(__name__)


def _coordinators(scheme):
    return list(
        Membership.objects.filter(
            scheme=scheme, role=Role.COORDINATOR, is_active=True
        ).select_related("user__profile")
    )


def on_call_responders(scheme, now) -> list[Membership]:
    """Every active on-call member of the scheme and whoever is on its rota at `now`."""
    active = Membership.objects.filter(scheme=scheme, is_active=True)
    on_call = active.filter(is_on_call=True) | active.filter(
        on_call_shifts__scheme=scheme,
        on_call_shifts__starts_at__lte=now,
        on_call_shifts__ends_at__gte=now,
    )
    return list(on_call.distinct().select_related("user__profile"))


def recipients(meeting: Meeting, level: int, now=None) -> list:
    """Users to tell at each level: only active members of this scheme, never nobody.

    0 and 2: the named support person, else the coordinators. 1: the buddy. 3: every on-call
    responder and whoever is on the rota now (plus the support person); if that adds nobody
    beyond the support person, the coordinators too. Above level 1 never the buddy themself
    (say they are also on call): a duress alert must not reach the phone someone is watching.
    """
    now = now or timezone.now()
    active = Membership.objects.filter(scheme=meeting.scheme, is_active=True)
    support = list(active.filter(pk=meeting.support_person_id)) if meeting.support_person_id else []
    if level == 1:
        people = [meeting.buddy]
    elif level in (MISSED_CHECK_IN_LEVEL, 2):
        people = support or _coordinators(meeting.scheme)
    else:
        responders = on_call_responders(meeting.scheme, now)
        people = support + (responders or _coordinators(meeting.scheme))
    users: dict[int, User] = {}
    for membership in people:
        users.setdefault(membership.user_id, membership.user)
    if level != 1:
        buddy_user_id = meeting.buddy.user_id
        users.pop(buddy_user_id, None)
        if not users:
            for membership in _coordinators(meeting.scheme):
                if membership.user_id != buddy_user_id:
                    users.setdefault(membership.user_id, membership.user)
    return list(users.values())


TEMPLATE_FOR: dict[tuple[int, str], str] = {
    (MISSED_CHECK_IN_LEVEL, AlertReason.MISSED_CHECK_IN): "alert_missed_check_in",
    (1, AlertReason.OVERDUE): "alert_check_out_prompt",
    (2, AlertReason.OVERDUE): "alert_overdue",
    (3, AlertReason.OVERDUE): "alert_urgent",
    (TOP_LEVEL, AlertReason.HELP): "alert_help",
    (TOP_LEVEL, AlertReason.DURESS): "alert_duress",
    (TOP_LEVEL, AlertReason.WRONG_PINS): "alert_wrong_pins",
}


@transaction.atomic
def raise_alert(meeting: Meeting, level: int, reason: str, due_at, now, cycle=None) -> Alert | None:
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
    alert_notify(alert, now)
    return alert


@transaction.atomic
def alert_notify(alert: Alert, now) -> None:
    """Queue the alert's messages and record each person and channel they reach.

    Safe to repeat: the outbox queues nothing twice, and a message it already held is still
    recorded, pointing at that row.
    """
    meeting = alert.meeting
    key = f"alert:{alert.pk}"
    reached = []
    for user in recipients(meeting, alert.level, now):
        queued = notification_enqueue(
            scheme=meeting.scheme,
            recipient=user,
            template=TEMPLATE_FOR[(alert.level, alert.reason)],
            dedupe_key=key,
            # Ids only: the message is filled in when it is sent (the buddy's name and phone
            # never sit in the outbox), with a link to the responder page signed for this person.
            context={
                "meeting_id": meeting.pk,
                "alert_id": alert.pk,
                "level": alert.level,
                "recipient_id": user.pk,
            },
            now=now,
        )
        rows = queued or _queued_before(key, user)
        if rows:
            reached += [
                AlertRecipient(
                    alert=alert, person=user, channel=row.channel, notification=row, created_at=now
                )
                for row in rows
            ]
        else:
            # Queued before under a key we cannot find: email is always among the channels
            # tried, and whoever was alerted must still get the all-clear.
            reached.append(
                AlertRecipient(alert=alert, person=user, channel=Channel.EMAIL, created_at=now)
            )
    AlertRecipient.objects.bulk_create(reached, ignore_conflicts=True)


def _queued_before(key: str, user) -> list[Notification]:
    # notification_enqueue keys each row "<dedupe_key>:<recipient pk>:<channel>".
    return list(
        Notification.objects.filter(
            dedupe_key__in=[f"{key}:{user.pk}:{channel}" for channel in Channel.values]
        )
    )


def resolve_open_alerts(meeting: Meeting, by, outcome: str, note: str, now) -> int:
    """Close the open timing alerts and send the all-clear to those they reached.

    A help request (or a duress or wrong-PIN alert) is never closed by a button press (someone
    may be pressing it for the buddy): a responder resolves it on the board after speaking to
    them.
    """
    open_alerts = list(
        meeting.alerts.filter(resolved_at__isnull=True).exclude(reason__in=ONLY_A_RESPONDER_CLOSES)
    )
    if not open_alerts:
        return 0
    Alert.objects.filter(pk__in=[a.pk for a in open_alerts]).update(
        resolved_at=now, resolved_by=by, outcome=outcome, notes=note
    )
    board_forget(meeting.scheme_id)
    _send_all_clear(meeting, now)
    return len(open_alerts)


def _send_all_clear(meeting: Meeting, now, also_skip=None) -> None:
    """Tell the people reached by alerts resolved since the last all-clear that all is well.

    Not the buddy (they know), not whoever resolved it, and not anyone told about a help
    request that is still open: for them the buddy is not yet known to be safe. Nobody at all
    while a duress or wrong-PIN alert is open: the buddy may be in danger, whatever the check-out
    looked like; those alerted hear once a responder resolves it.
    """
    if meeting.alerts.filter(reason__in=NO_ALL_CLEAR_WHILE_OPEN, resolved_at__isnull=True).exists():
        return
    resolved = list(
        meeting.alerts.filter(resolved_at__isnull=False, all_clear_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    if not resolved:
        return
    open_help = meeting.alerts.filter(reason__in=ONLY_A_RESPONDER_CLOSES, resolved_at__isnull=True)
    reached = (
        people_alerted(meeting, alerts=resolved)
        .exclude(pk=meeting.buddy.user_id)
        .exclude(pk__in=people_alerted(meeting, alerts=open_help).values("pk"))
    )
    if also_skip is not None:
        reached = reached.exclude(pk=also_skip.pk)
    Alert.objects.filter(pk__in=resolved).update(all_clear_at=now)
    for user in reached:
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
    if alert.reason not in ONLY_A_RESPONDER_CLOSES:
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
        board_forget_alert(alert)
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
    board_forget_alert(alert)
    _stop_escalation(alert)
    if not Alert.objects.filter(meeting_id=alert.meeting_id, resolved_at__isnull=True).exists():
        # The last open alert is closed: everyone else who was alerted can stand down.
        _send_all_clear(alert.meeting, now, also_skip=by)
    return alert


# How long a web request spends sending an alert's messages itself before it answers; what is
# left goes with the sweeper's next round (every 5 s).
SEND_NOW_BUDGET = timedelta(seconds=8)


def alert_send_now(alert: Alert, *, budget: timedelta = SEND_NOW_BUDGET) -> int:
    """Send this alert's queued messages from this process, now: a help press (or a duress
    check-out) must not wait for Celery or the sweeper. The same outbox rows, claimed as a
    worker would, so nothing goes twice. Returns how many were sent."""
    deadline = time.monotonic() + budget.total_seconds()
    rows = list(
        Notification.objects.filter(
            pk__in=AlertRecipient.objects.filter(alert=alert).values("notification_id"),
            status=NotificationStatus.PENDING,
        ).order_by("channel", "pk")  # email first: it usually leaves fastest
    )
    sent = 0
    for row in rows:
        if time.monotonic() > deadline:
            break
        sent += notifications_send_now([row])
    return sent


def alert_send_soon(alert: Alert) -> None:
    """The same, after the transaction, in a thread: the answer must not wait (a duress
    check-out has to look exactly like an ordinary one, in timing too)."""

    def send():
        try:
            alert_send_now(alert)
        except Exception:  # the sweeper sends whatever this could not
            logger.exception("sending alert %s at once failed", alert.pk)
        finally:
            close_old_connections()

    transaction.on_commit(lambda: threading.Thread(target=send, daemon=True).start())
