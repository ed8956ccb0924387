from datetime import datetime, timedelta

from django.db.models import Prefetch, Q
from django.utils import timezone

from buddyscheme.models import User

from .models import Alert, AlertLocation, AlertRecipient, Meeting, MeetingState


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
    """The board's alerts, each with the positions its buddy's phone sent (newest first, in
    `shared_locations`)."""
    return (
        Alert.objects.filter(meeting__scheme=scheme, resolved_at__isnull=True)
        .select_related("meeting__venue", "meeting__buddy__user__profile", "acknowledged_by")
        .prefetch_related(
            Prefetch(
                "locations",
                queryset=AlertLocation.objects.order_by("-captured_at", "-pk"),
                to_attr="shared_locations",
            )
        )
        .order_by("-level", "raised_at")
    )


def alert_location(alert) -> AlertLocation | None:
    """The newest position the buddy's phone sent with this alert (help or duress), if any.
    Show it only to the alert's responders (meetings/_alert_location.html)."""
    return alert.locations.order_by("-captured_at", "-pk").first()


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


def meetings_for_coordinator(scheme, now=None):
    now = now or timezone.now()
    return (
        Meeting.objects.filter(scheme=scheme, planned_start__gte=now - timedelta(days=7))
        .select_related("venue", "buddy__user__profile")
        .order_by("planned_start")[:300]
    )
