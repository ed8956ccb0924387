"""Shared by the lone-working tests: the moment they start from, and how they read the net."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from buddyscheme.models import Notification
from meetings import services
from meetings.models import Alert

from ..factories import book_meeting

UTC = ZoneInfo("UTC")
LONDON = ZoneInfo("Europe/London")
MONDAY_10AM = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 10:00 in London too (GMT)
S = timedelta(seconds=1)


def minutes(n):
    return timedelta(minutes=n)


def levels(meeting):
    return sorted(meeting.alerts.values_list("level", flat=True))


def told(level_or_template):
    """Who was emailed this template, by address."""
    return sorted(
        Notification.objects.filter(template=level_or_template, channel="email").values_list(
            "recipient__email", flat=True
        )
    )


def checked_in(people, start=MONDAY_10AM, **kwargs):
    meeting = book_meeting(people["buddy"], start, **kwargs)
    return services.meeting_check_in(
        meeting=meeting, key="in-1", by=people["buddy"].user, now=start
    )


def open_alerts(meeting):
    return list(Alert.objects.filter(meeting=meeting, resolved_at__isnull=True))


def rendered(message):
    """An outbox row as its reader gets it: (email subject, email text, text message)."""
    from buddyscheme.emails import email_build, sms_build

    kwargs = {"template": message.template, "context": message.context, "scheme": message.scheme}
    email = email_build(**kwargs, to="reader@example.org")
    return email.subject, email.body, sms_build(**kwargs)
