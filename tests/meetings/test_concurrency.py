"""Real PostgreSQL: two sweepers and two deliverers at once never duplicate anything."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection

from buddyscheme.models import Notification, Role
from buddyscheme.notifications import notifications_deliver
from meetings import services
from meetings.models import Alert, AlertRecipient

from ..factories import MembershipFactory, SchemeFactory, book_meeting, cleared_buddy

MONDAY_10AM = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("UTC"))

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(target, copies=2, **kwargs):
    barrier = threading.Barrier(copies)
    errors = []

    def worker():
        try:
            barrier.wait()
            target(**kwargs)
        except Exception as error:  # surfaced below, not swallowed
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []


def test_two_sweepers_at_once_raise_one_alert_per_meeting_and_level():
    scheme = SchemeFactory()
    MembershipFactory(scheme=scheme, role=Role.COORDINATOR, is_on_call=True)
    meetings = []
    for number in range(30):
        meeting = book_meeting(cleared_buddy(scheme), MONDAY_10AM)
        services.meeting_check_in(meeting=meeting, key=f"in-{number}", by=None, now=MONDAY_10AM)
        meetings.append(meeting)
    # 25 minutes overdue after the grace: each meeting owes levels 1, 2 and 3.
    for _ in range(3):
        run_together(services.sweep, copies=4, now=MONDAY_10AM + timedelta(minutes=95))
    assert Alert.objects.count() == 30 * 3
    for meeting in meetings:
        assert sorted(meeting.alerts.values_list("level", flat=True)) == [1, 2, 3]
    keys = list(Notification.objects.values_list("dedupe_key", flat=True))
    assert len(keys) == len(set(keys))
    # Each message queued is one recorded recipient, written by the sweeper that raised it.
    assert sorted(
        AlertRecipient.objects.values_list("notification__dedupe_key", flat=True)
    ) == sorted(key for key in keys if key.startswith("alert:"))


def test_two_deliverers_at_once_send_each_notification_once():
    scheme = SchemeFactory()
    MembershipFactory.create_batch(3, scheme=scheme, role=Role.COORDINATOR, is_on_call=True)
    for number in range(20):
        meeting = book_meeting(cleared_buddy(scheme), MONDAY_10AM)
        services.meeting_help(meeting=meeting, key=f"help-{number}", by=None, now=MONDAY_10AM)
    expected = Notification.objects.filter(channel="email").count()
    assert expected == 20 * 3
    mail.outbox.clear()
    run_together(notifications_deliver, copies=4, now=MONDAY_10AM, limit=5)
    assert len(mail.outbox) == expected
    assert Notification.objects.filter(status="sent").count() == Notification.objects.count()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        Notification.objects.filter(channel="email").values_list("recipient__email", flat=True)
    )
