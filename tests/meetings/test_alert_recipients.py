"""Who each alert reached is recorded as a row per person and channel, and the all-clear reads it."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Value
from django.db.models.functions import Concat

from buddyscheme.models import Notification, Role
from meetings import services
from meetings.models import Alert, AlertRecipient
from meetings.services import alerts
from meetings.services.alerts import alert_notify

from ..factories import (
    MembershipFactory,
    SchemeFactory,
    book_meeting,
    cleared_buddy,
    enrol_totp,
)

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
MONDAY_10AM = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 10:00 in London too (GMT)


def minutes(n):
    return timedelta(minutes=n)


def with_phone(membership):
    membership.user.profile.phone = "07700 900123"
    membership.user.profile.save()
    return membership


@pytest.fixture
def scheme():
    return SchemeFactory(name="Positive Living HIV Buddies", sender_name="Appointments")


@pytest.fixture
def people(scheme):
    coordinator = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__email="coord@example.org"
    )
    on_call = with_phone(
        MembershipFactory(
            scheme=scheme, role=Role.COORDINATOR, is_on_call=True, user__email="oncall@example.org"
        )
    )
    support = with_phone(
        MembershipFactory(scheme=scheme, role=Role.COORDINATOR, user__email="support@example.org")
    )
    buddy = cleared_buddy(scheme, email="buddy@example.org")
    return {"coordinator": coordinator, "on_call": on_call, "support": support, "buddy": buddy}


def checked_in(people, start=MONDAY_10AM, **kwargs):
    meeting = book_meeting(people["buddy"], start, **kwargs)
    return services.meeting_check_in(
        meeting=meeting, key="in-1", by=people["buddy"].user, now=start
    )


def reached(alert):
    return sorted(alert.recipients.values_list("person__email", "channel"))


def all_clear_to():
    return sorted(
        Notification.objects.filter(template="all_clear", channel="email").values_list(
            "recipient__email", flat=True
        )
    )


def alert_messages():
    return Notification.objects.filter(template__startswith="alert_")


class TestRecordedWhenQueued:
    def test_a_missed_check_in_records_each_coordinator_on_each_channel(self, people):
        meeting = book_meeting(people["buddy"], MONDAY_10AM)  # no support person: coordinators
        services.sweep(now=MONDAY_10AM + minutes(10))
        assert reached(meeting.alerts.get(level=0)) == [
            ("coord@example.org", "email"),
            ("oncall@example.org", "email"),
            ("oncall@example.org", "sms"),
            ("support@example.org", "email"),
            ("support@example.org", "sms"),
        ]

    def test_each_overdue_level_records_who_it_reached(self, people):
        meeting = checked_in(people, support_person=people["support"])
        services.sweep(now=MONDAY_10AM + minutes(95))  # levels 1, 2 and 3 all due
        assert reached(meeting.alerts.get(level=1)) == [("buddy@example.org", "email")]
        assert reached(meeting.alerts.get(level=2)) == [
            ("support@example.org", "email"),
            ("support@example.org", "sms"),
        ]
        assert reached(meeting.alerts.get(level=3)) == [
            ("oncall@example.org", "email"),
            ("oncall@example.org", "sms"),
            ("support@example.org", "email"),
            ("support@example.org", "sms"),
        ]

    def test_a_help_request_records_its_responders(self, people):
        meeting = checked_in(people)
        alert = services.meeting_help(
            meeting=meeting, key="help", by=None, now=MONDAY_10AM + minutes(5)
        )
        assert reached(alert) == [("oncall@example.org", "email"), ("oncall@example.org", "sms")]

    def test_each_row_points_at_the_message_it_stands_for(self, people):
        meeting = checked_in(people, support_person=people["support"])
        services.sweep(now=MONDAY_10AM + minutes(95))
        services.meeting_help(meeting=meeting, key="help", by=None, now=MONDAY_10AM + minutes(96))
        recorded = {
            (r.alert_id, r.person_id, r.channel, r.created_at): r.notification
            for r in AlertRecipient.objects.select_related("notification")
        }
        queued = {
            (n.context["alert_id"], n.recipient_id, n.channel, n.created_at): n
            for n in alert_messages()
        }
        assert recorded == queued


class TestNothingRecordedTwice:
    def test_a_sweep_that_finds_the_alert_raised_already_records_nothing(self, people):
        meeting = book_meeting(people["buddy"], MONDAY_10AM)
        Alert.objects.create(meeting=meeting, level=0, reason="missed_check_in", due_at=MONDAY_10AM)
        services.sweep(now=MONDAY_10AM + minutes(10))
        assert not AlertRecipient.objects.exists()

    def test_a_duplicate_sweep(self, people):
        meeting = checked_in(people, support_person=people["support"])
        services.sweep(now=MONDAY_10AM + minutes(95))
        before = sorted(
            AlertRecipient.objects.values_list("pk", "alert_id", "person_id", "channel")
        )
        services.sweep(now=MONDAY_10AM + minutes(95))
        services.sweep(now=MONDAY_10AM + minutes(96))
        assert (
            sorted(AlertRecipient.objects.values_list("pk", "alert_id", "person_id", "channel"))
            == before
        )
        assert len(before) == alert_messages().count() == 7
        assert meeting.alerts.count() == 3

    def test_the_same_help_press_posted_twice(self, people):
        meeting = checked_in(people)
        for _ in range(2):
            services.meeting_help(
                meeting=meeting, key="help", by=None, now=MONDAY_10AM + minutes(5)
            )
        assert AlertRecipient.objects.count() == alert_messages().count() == 2

    def test_queueing_again_adds_neither_messages_nor_rows(self, people):
        meeting = checked_in(people)
        alert = services.meeting_help(
            meeting=meeting, key="help", by=None, now=MONDAY_10AM + minutes(5)
        )
        alert_notify(alert, now=MONDAY_10AM + minutes(6))
        assert AlertRecipient.objects.count() == alert_messages().count() == 2

    def test_a_message_queued_before_is_recorded_pointing_at_that_row(self, people):
        meeting = checked_in(people)
        alert = services.meeting_help(
            meeting=meeting, key="help", by=None, now=MONDAY_10AM + minutes(5)
        )
        AlertRecipient.objects.all().delete()
        alert_notify(alert, now=MONDAY_10AM + minutes(6))
        assert sorted(
            (r.person.email, r.channel, r.notification.dedupe_key)
            for r in AlertRecipient.objects.select_related("person", "notification")
        ) == [
            ("oncall@example.org", "email", f"alert:{alert.pk}:{people['on_call'].user_id}:email"),
            ("oncall@example.org", "sms", f"alert:{alert.pk}:{people['on_call'].user_id}:sms"),
        ]
        assert alert_messages().count() == 2

    def test_a_person_is_recorded_even_when_the_earlier_row_cannot_be_found(
        self, people, monkeypatch
    ):
        meeting = checked_in(people)
        alert = services.meeting_help(
            meeting=meeting, key="help", by=None, now=MONDAY_10AM + minutes(5)
        )
        AlertRecipient.objects.all().delete()
        Notification.objects.all().update(dedupe_key=Concat("dedupe_key", Value(":moved")))
        # The outbox says it queued nothing new (it had the message already), under a key this
        # side cannot find: the person must still get the all-clear, so they are recorded.
        monkeypatch.setattr(alerts, "notification_enqueue", lambda **kwargs: [])
        alert_notify(alert, now=MONDAY_10AM + minutes(6))
        assert [
            (r.person.email, r.channel, r.notification)
            for r in AlertRecipient.objects.select_related("person")
        ] == [("oncall@example.org", "email", None)]


class TestAllClearReadsTheTable:
    def test_emptying_a_message_context_changes_nobody_told(self, people):
        meeting = book_meeting(people["buddy"], MONDAY_10AM)
        services.sweep(now=MONDAY_10AM + minutes(10))
        alert_messages().update(context={})
        services.meeting_check_in(
            meeting=meeting, key="late", by=people["buddy"].user, now=MONDAY_10AM + minutes(15)
        )
        assert all_clear_to() == ["coord@example.org", "oncall@example.org", "support@example.org"]

    def test_a_context_naming_the_alert_reaches_nobody_new(self, people, scheme):
        stranger = MembershipFactory(scheme=scheme, role=Role.COORDINATOR, is_active=False)
        meeting = book_meeting(people["buddy"], MONDAY_10AM, support_person=people["support"])
        services.sweep(now=MONDAY_10AM + minutes(10))
        alert = meeting.alerts.get()
        Notification.objects.create(
            scheme=scheme,
            channel="email",
            recipient=stranger.user,
            template="alert_missed_check_in",
            context={"meeting_id": meeting.pk, "alert_id": alert.pk, "level": 0},
            dedupe_key="forged",
        )
        services.meeting_check_in(
            meeting=meeting, key="late", by=people["buddy"].user, now=MONDAY_10AM + minutes(15)
        )
        assert all_clear_to() == ["support@example.org"]

    def test_an_open_help_request_still_holds_back_its_responders(self, people):
        meeting = checked_in(people, support_person=people["support"])
        services.sweep(now=MONDAY_10AM + minutes(80))  # level 1 (buddy), level 2 (support)
        services.meeting_help(
            meeting=meeting, key="help", by=people["buddy"].user, now=MONDAY_10AM + minutes(82)
        )
        alert_messages().update(context={})
        services.meeting_check_out(
            meeting=meeting, key="out", by=None, now=MONDAY_10AM + minutes(83)
        )
        # The support person heard of the help request too: not yet known to be safe.
        assert all_clear_to() == []
        help_alert = meeting.alerts.get(reason="help")
        services.alert_resolve(
            alert=help_alert,
            by=people["on_call"].user,
            outcome="safe",
            now=MONDAY_10AM + minutes(90),
        )
        assert all_clear_to() == ["support@example.org"]


class TestAdmin:
    def test_the_alert_page_lists_who_it_reached_read_only(self, client, people, scheme):
        meeting = checked_in(people)
        alert = services.meeting_help(
            meeting=meeting, key="help", by=None, now=MONDAY_10AM + minutes(5)
        )
        enrol_totp(people["coordinator"].user)
        client.force_login(people["coordinator"].user)
        response = client.get(f"/admin/meetings/alert/{alert.pk}/change/")
        assert response.status_code == 200
        inline = response.context["inline_admin_formsets"][0]
        assert inline.formset.queryset.model is AlertRecipient
        assert sorted(form.original.channel for form in inline) == ["email", "sms"]
        assert not inline.has_add_permission
        assert not inline.has_change_permission
        assert not inline.has_delete_permission

    def test_another_scheme_coordinator_sees_no_recipients(self, client, people):
        meeting = checked_in(people)
        alert = services.meeting_help(
            meeting=meeting, key="help", by=None, now=MONDAY_10AM + minutes(5)
        )
        stranger = MembershipFactory(scheme=SchemeFactory(), role=Role.COORDINATOR)
        enrol_totp(stranger.user)
        client.force_login(stranger.user)
        response = client.get(f"/admin/meetings/alert/{alert.pk}/change/")
        assert response.status_code == 302  # the admin's "does not exist"
