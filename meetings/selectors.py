from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Prefetch, Q
from django.utils import timezone

from buddyscheme.models import User

from .models import Alert, AlertRecipient, Meeting, MeetingState, SafetyEvent


def meetings_for_buddy_today(buddy, now=None):
    """Today's and the coming week's meetings, plus any still open from before."""
    now = now or timezone.now()
    start_of_day = timezone.make_aware(
        datetime.combine(timezone.localtime(now, buddy.scheme.zone).date(), datetime.min.time()),
        buddy.scheme.zone,
    )
    return (
        (
            Meeting.objects.filter(buddy=buddy, planned_start__lt=now + timedelta(days=7)).filter(
                planned_start__gte=start_of_day
            )
            | Meeting.objects.filter(buddy=buddy, state=MeetingState.CHECKED_IN)
        )
        .select_related("venue", "match__participant__user__profile", "scheme")
        .order_by("planned_start")
        .distinct()
    )


def meetings_in_progress(scheme, now=None):
    """Every meeting checked in, or due to start within the hour, for the live board."""
    now = now or timezone.now()
    return (
        Meeting.objects.filter(scheme=scheme)
        .filter(
            Q(state=MeetingState.CHECKED_IN)
            | Q(
                state=MeetingState.PLANNED,
                planned_start__lte=now + timedelta(hours=1),
                planned_start__gte=now - timedelta(hours=12),
            )
        )
        .select_related("venue", "buddy__user__profile", "support_person__user__profile")
        .prefetch_related(
            Prefetch("alerts", queryset=Alert.objects.filter(resolved_at__isnull=True))
        )
        .order_by("expected_end")
    )


def open_alerts(scheme):
    return (
        Alert.objects.filter(meeting__scheme=scheme, resolved_at__isnull=True)
        .select_related("meeting__venue", "meeting__buddy__user__profile", "acknowledged_by")
        .order_by("-level", "raised_at")
    )


def alert_recipients(alert):
    """Who an alert reached, on which channel, and how far each message has got."""
    return (
        AlertRecipient.objects.filter(alert=alert)
        .select_related("person__profile", "notification")
        .order_by("created_at", "pk")
    )


def people_alerted(meeting, alerts=None):
    """Everyone the meeting's alerts reached (only those of `alerts`, if given), each once."""
    reached = AlertRecipient.objects.filter(alert__meeting=meeting)
    if alerts is not None:
        reached = reached.filter(alert__in=alerts)
    return (
        User.objects.filter(pk__in=reached.values("person_id"))
        .select_related("profile")
        .order_by("pk")
    )


def meeting_for_message(pk: int) -> Meeting | None:
    """A meeting with what its messages name: the buddy, the venue, the scheme's clock."""
    return (
        Meeting.objects.select_related("scheme", "venue", "buddy__user__profile")
        .filter(pk=pk)
        .first()
    )


def alert_for_message(pk: int) -> Alert | None:
    """An alert with what its messages name (as meeting_for_message), in one query."""
    return (
        Alert.objects.select_related(
            "meeting__scheme", "meeting__venue", "meeting__buddy__user__profile"
        )
        .filter(pk=pk)
        .first()
    )


def meetings_for_coordinator(scheme, now=None):
    now = now or timezone.now()
    return (
        Meeting.objects.filter(scheme=scheme, planned_start__gte=now - timedelta(days=7))
        .select_related("venue", "buddy__user__profile")
        .order_by("planned_start")[:300]
    )


@dataclass
class HistoryEntry:
    at: datetime
    what: str
    who: User | None = None
    alert: Alert | None = None
    notes: str = ""


def meeting_history(meeting) -> list[HistoryEntry]:
    """What happened at a meeting, oldest first: the buddy's presses and every alert's steps.

    For responders: the alert in hand is one line of it, with the others around it.
    """
    entries = [
        HistoryEntry(at=event.at, what=event.get_kind_display())
        for event in SafetyEvent.objects.filter(meeting=meeting)
    ]
    for alert in Alert.objects.filter(meeting=meeting).select_related(
        "acknowledged_by__profile", "resolved_by__profile"
    ):
        title = f"Level {alert.level} alert: {alert.get_reason_display()}"
        entries.append(HistoryEntry(at=alert.raised_at, what=title, alert=alert))
        if alert.acknowledged_at and alert.acknowledged_at != alert.resolved_at:
            entries.append(
                HistoryEntry(
                    at=alert.acknowledged_at,
                    what=f"{title}: acknowledged",
                    who=alert.acknowledged_by,
                    alert=alert,
                )
            )
        if alert.resolved_at:
            outcome = alert.get_outcome_display() or "closed"
            entries.append(
                HistoryEntry(
                    at=alert.resolved_at,
                    what=f"{title}: resolved ({outcome.lower()})",
                    who=alert.resolved_by,
                    alert=alert,
                    notes=alert.notes,
                )
            )
    return sorted(entries, key=lambda entry: entry.at)
