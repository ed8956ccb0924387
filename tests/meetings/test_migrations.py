"""The back-fill: alerts raised before AlertRecipient existed still get the right all-clear."""

from datetime import datetime, timedelta
from importlib import import_module
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from buddyscheme.models import Notification, Role
from meetings import services
from meetings.models import AlertRecipient

from ..factories import MembershipFactory, SchemeFactory, book_meeting, cleared_buddy

MONDAY_10AM = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("UTC"))
BEFORE = ("meetings", "0001_initial")
AFTER = ("meetings", "0002_alertrecipient")
back_fill = import_module("meetings.migrations.0002_alertrecipient").back_fill_alert_recipients


def minutes(n):
    return timedelta(minutes=n)


def overdue_meeting():
    """Checked in, then overdue through levels 1 (buddy), 2 (support) and 3 (on call)."""
    scheme = SchemeFactory()
    MembershipFactory(scheme=scheme, role=Role.COORDINATOR, user__email="coord@example.org")
    on_call = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, is_on_call=True, user__email="oncall@example.org"
    )
    on_call.user.profile.phone = "07700 900123"
    on_call.user.profile.save()
    support = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__email="support@example.org"
    )
    buddy = cleared_buddy(scheme, email="buddy@example.org")
    meeting = book_meeting(buddy, MONDAY_10AM, support_person=support)
    services.meeting_check_in(meeting=meeting, key="in", by=None, now=MONDAY_10AM)
    services.sweep(now=MONDAY_10AM + minutes(95))
    return meeting


def recorded():
    return sorted(
        AlertRecipient.objects.values_list(
            "alert_id", "person_id", "channel", "notification_id", "created_at"
        )
    )


def outbox_noise(meeting):
    """Messages the back-fill must pass over: not an alert's, or an alert deleted since."""
    for key, context in [
        ("reminder", {"meeting_id": meeting.pk}),
        ("gone", {"meeting_id": meeting.pk, "alert_id": 10**9, "level": 2}),
        ("odd", {"alert_id": "not an id"}),
    ]:
        Notification.objects.create(
            scheme=meeting.scheme,
            channel="email",
            recipient=meeting.buddy.user,
            template="reminder_before",
            context=context,
            dedupe_key=key,
        )


@pytest.mark.django_db
def test_the_back_fill_records_what_the_service_would_have():
    meeting = overdue_meeting()
    outbox_noise(meeting)
    by_the_service = recorded()
    assert len(by_the_service) == 5  # level 1: buddy; 2: support; 3: support, on call (+ text)
    AlertRecipient.objects.all().delete()
    back_fill(apps, None)
    assert recorded() == by_the_service
    back_fill(apps, None)  # run again (a retried deploy): nothing twice
    assert recorded() == by_the_service


@pytest.mark.django_db(transaction=True)
def test_the_migration_back_fills_and_the_all_clear_then_reaches_the_right_people():
    meeting = overdue_meeting()
    by_the_service = recorded()
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([BEFORE])  # as deployed before: no table, only the outbox
        outbox_noise(meeting)
        executor.loader.build_graph()
        executor.migrate([AFTER])
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert recorded() == by_the_service
    services.meeting_check_out(
        meeting=meeting, key="out", by=meeting.buddy.user, now=MONDAY_10AM + minutes(100)
    )
    assert sorted(
        Notification.objects.filter(template="all_clear", channel="email").values_list(
            "recipient__email", flat=True
        )
    ) == ["oncall@example.org", "support@example.org"]
