"""The lone-working guarantees, proved by moving time (never by sleeping)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from buddyscheme.channels import ConsoleSMSBackend
from buddyscheme.errors import DomainError
from buddyscheme.models import Membership, Notification, Role
from buddyscheme.notifications import notifications_claim, notifications_deliver
from meetings import services
from meetings.models import Alert, LoneWorkingSettings, MeetingState, OnCallShift, SafetyEvent
from meetings.tasks import sweep as sweep_task

from ..factories import MembershipFactory, SchemeFactory, book_meeting, cleared_buddy, venue

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
LONDON = ZoneInfo("Europe/London")
MONDAY_10AM = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 10:00 in London too (GMT)
S = timedelta(seconds=1)


def minutes(n):
    return timedelta(minutes=n)


@pytest.fixture
def scheme():
    scheme = SchemeFactory(name="Positive Living HIV Buddies", sender_name="Appointments")
    return scheme


@pytest.fixture
def people(scheme):
    coordinator = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__email="coord@example.org"
    )
    on_call = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, is_on_call=True, user__email="oncall@example.org"
    )
    buddy = cleared_buddy(scheme, email="buddy@example.org")
    return {"coordinator": coordinator, "on_call": on_call, "buddy": buddy}


def levels(meeting):
    return sorted(meeting.alerts.values_list("level", flat=True))


def told(level_or_template):
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


class TestMissedCheckIn:
    def test_coordinator_told_at_start_plus_grace_and_not_before(self, people):
        meeting = book_meeting(people["buddy"], MONDAY_10AM)
        with time_machine.travel(MONDAY_10AM + minutes(10) - S, tick=False):
            sweep_task.delay()
        assert levels(meeting) == []
        with time_machine.travel(MONDAY_10AM + minutes(10), tick=False):
            sweep_task.delay()
            sweep_task.delay()
        assert levels(meeting) == [0]
        assert told("alert_missed_check_in") == ["coord@example.org", "oncall@example.org"]

    def test_checking_in_late_resolves_it_with_an_all_clear(self, people):
        meeting = book_meeting(people["buddy"], MONDAY_10AM)
        services.sweep(now=MONDAY_10AM + minutes(11))
        services.meeting_check_in(
            meeting=meeting, key="late", by=people["buddy"].user, now=MONDAY_10AM + minutes(15)
        )
        alert = meeting.alerts.get()
        assert alert.resolved_at and alert.outcome == "safe"
        assert told("all_clear") == ["coord@example.org", "oncall@example.org"]


class TestOverdueEscalation:
    def test_each_level_falls_due_exactly_on_time(self, people):
        meeting = checked_in(people)  # planned end 11:00, grace 10
        end_plus_grace = MONDAY_10AM + minutes(70)
        timeline = [
            (end_plus_grace - S, []),
            (end_plus_grace, [1]),
            (end_plus_grace + minutes(10) - S, [1]),
            (end_plus_grace + minutes(10), [1, 2]),
            (end_plus_grace + minutes(20) - S, [1, 2]),
            (end_plus_grace + minutes(20), [1, 2, 3]),
            (end_plus_grace + minutes(60), [1, 2, 3]),
        ]
        for moment, expected in timeline:
            with time_machine.travel(moment, tick=False):
                sweep_task.delay()
            assert levels(meeting) == expected, moment
        assert told("alert_check_out_prompt") == ["buddy@example.org"]
        assert told("alert_overdue") == ["coord@example.org", "oncall@example.org"]
        assert told("alert_urgent") == ["oncall@example.org"]

    def test_level_two_goes_to_the_named_support_person(self, people, scheme):
        support = MembershipFactory(
            scheme=scheme, role=Role.COORDINATOR, user__email="support@example.org"
        )
        meeting = checked_in(people, support_person=support)
        services.sweep(now=MONDAY_10AM + minutes(80))
        assert levels(meeting) == [1, 2]
        assert told("alert_overdue") == ["support@example.org"]

    def test_high_risk_venues_have_a_shorter_grace(self, people, scheme):
        risky = venue(scheme, risk_rating="high")
        meeting = checked_in(people, place=risky)
        services.sweep(now=MONDAY_10AM + minutes(65) - S)
        assert levels(meeting) == []
        services.sweep(now=MONDAY_10AM + minutes(65))
        assert levels(meeting) == [1]

    def test_acknowledging_stops_escalation(self, people):
        meeting = checked_in(people)
        services.sweep(now=MONDAY_10AM + minutes(70))
        services.alert_acknowledge(alert=meeting.alerts.get(level=1), by=people["coordinator"].user)
        services.sweep(now=MONDAY_10AM + minutes(120))
        assert levels(meeting) == [1]

    def test_late_check_out_resolves_everything_and_sends_the_all_clear(self, people):
        meeting = checked_in(people)
        services.sweep(now=MONDAY_10AM + minutes(81))
        assert levels(meeting) == [1, 2]
        services.meeting_check_out(
            meeting=meeting, key="out", by=people["buddy"].user, now=MONDAY_10AM + minutes(85)
        )
        assert not Alert.objects.filter(resolved_at__isnull=True).exists()
        assert told("all_clear") == [
            "coord@example.org",
            "oncall@example.org",
        ]  # not the buddy: they know
        services.sweep(now=MONDAY_10AM + minutes(200))
        assert levels(meeting) == [1, 2]

    def test_the_intervals_are_scheme_settings(self, people, scheme):
        config = services.lone_working(scheme)
        config.grace_minutes, config.escalation_minutes = 2, 3
        config.save()
        meeting = checked_in(people)
        services.sweep(now=MONDAY_10AM + minutes(62) + minutes(3))
        assert levels(meeting) == [1, 2]


class TestExtend:
    def test_extending_moves_the_deadline(self, people):
        meeting = checked_in(people)
        meeting = services.meeting_extend(
            meeting=meeting,
            minutes=30,
            key="more",
            by=people["buddy"].user,
            now=MONDAY_10AM + minutes(50),
        )
        assert meeting.expected_end == MONDAY_10AM + minutes(90)
        services.sweep(now=MONDAY_10AM + minutes(70))
        assert levels(meeting) == []
        services.sweep(now=MONDAY_10AM + minutes(100))
        assert levels(meeting) == [1]
        assert SafetyEvent.objects.filter(kind="extend", minutes=30).count() == 1

    def test_extensions_are_bounded_and_each_is_logged(self, people):
        meeting = checked_in(people)
        for number in range(2):
            services.meeting_extend(
                meeting=meeting, minutes=60, key=f"x{number}", by=None, now=MONDAY_10AM + minutes(5)
            )
        with pytest.raises(DomainError, match="120 minutes in all"):
            services.meeting_extend(
                meeting=meeting, minutes=15, key="x3", by=None, now=MONDAY_10AM + minutes(6)
            )
        with pytest.raises(DomainError, match="15, 30 or 60"):
            services.meeting_extend(
                meeting=meeting, minutes=45, key="x4", by=None, now=MONDAY_10AM + minutes(6)
            )
        assert SafetyEvent.objects.filter(kind="extend").count() == 2


class TestHelp:
    def test_help_goes_straight_to_every_on_call_responder(self, people):
        meeting = checked_in(people)
        alert = services.meeting_help(
            meeting=meeting, key="help", by=people["buddy"].user, now=MONDAY_10AM + minutes(20)
        )
        assert (alert.level, alert.reason) == (3, "help")
        assert told("alert_help") == ["oncall@example.org"]
        again = services.meeting_help(
            meeting=meeting, key="help", by=people["buddy"].user, now=MONDAY_10AM + minutes(20)
        )
        assert again == alert and levels(meeting) == [3]
        # The overdue watch carries on beside the help request.
        services.sweep(now=MONDAY_10AM + minutes(200))
        assert sorted(meeting.alerts.values_list("reason", "level")) == [
            ("help", 3),
            ("overdue", 1),
            ("overdue", 2),
            ("overdue", 3),
        ]


class TestIdempotency:
    def test_the_same_check_in_posted_twice_is_recorded_once(self, people):
        meeting = book_meeting(people["buddy"], MONDAY_10AM)
        for _ in range(2):
            services.meeting_check_in(
                meeting=meeting, key="same-key", by=people["buddy"].user, now=MONDAY_10AM
            )
        assert SafetyEvent.objects.filter(meeting=meeting, kind="check_in").count() == 1
        meeting.refresh_from_db()
        assert meeting.state == MeetingState.CHECKED_IN

    def test_a_new_key_on_a_finished_step_gets_a_clear_message(self, people):
        meeting = checked_in(people)
        with pytest.raises(DomainError, match="already checked in"):
            services.meeting_check_in(meeting=meeting, key="another", by=None, now=MONDAY_10AM)


class TestBooking:
    def test_outside_working_hours_needs_someone_on_call(self, people, scheme):
        evening = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)
        with pytest.raises(DomainError, match="outside office hours and nobody is on call"):
            book_meeting(people["buddy"], evening)
        # Cover until the last alert could escalate: the hour, 2 hours of extension at most,
        # 10 minutes' grace and two rounds of 10 minutes' escalation (22:30).
        OnCallShift.objects.create(
            scheme=scheme,
            responder=people["on_call"],
            starts_at=evening - minutes(60),
            ends_at=evening + minutes(210),
        )
        assert book_meeting(people["buddy"], evening).pk

    def test_cover_must_last_until_the_last_alert_could_escalate(self, people, scheme):
        evening = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)
        OnCallShift.objects.create(
            scheme=scheme,
            responder=people["on_call"],
            starts_at=evening,
            ends_at=evening + minutes(209),
        )
        with pytest.raises(DomainError, match="respond until 22:30"):
            book_meeting(people["buddy"], evening)
        # An afternoon meeting that could run past office hours needs cover too...
        afternoon = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
        with pytest.raises(DomainError, match="respond until 18:30"):
            book_meeting(people["buddy"], afternoon)
        # ...unless the scheme allows no extension that far.
        LoneWorkingSettings.objects.filter(scheme=scheme).update(max_extension_minutes=30)
        assert book_meeting(people["buddy"], afternoon).pk

    def test_the_buddy_is_told_when_an_extension_runs_past_cover(self, people, scheme):
        late = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
        services.lone_working(scheme)
        LoneWorkingSettings.objects.filter(scheme=scheme).update(max_extension_minutes=0)
        meeting = book_meeting(people["buddy"], late)  # 15:30-16:30, alerts done by 17:00
        assert not services.cover_ends_before(
            scheme,
            late,
            services.last_response_needed(
                meeting, meeting.planned_end, services.lone_working(scheme)
            ),
        )
        LoneWorkingSettings.objects.filter(scheme=scheme).update(max_extension_minutes=60)
        services.meeting_check_in(meeting=meeting, key="in", by=None, now=late)
        meeting = services.meeting_extend(meeting=meeting, minutes=30, key="x", by=None, now=late)
        latest = services.last_response_needed(
            meeting, meeting.expected_end, services.lone_working(scheme), timedelta(0)
        )
        assert services.cover_ends_before(scheme, late, latest)

    def test_an_expired_risk_assessment_blocks_booking(self, people, scheme):
        stale = venue(scheme, risk_review_due=MONDAY_10AM.date() - timedelta(days=1))
        with pytest.raises(DomainError, match="risk assessment needed review"):
            book_meeting(people["buddy"], MONDAY_10AM, place=stale)

    def test_a_buddy_whose_vetting_lapsed_cannot_be_booked(self, people):
        people["buddy"].dbs_checks.update(
            issue_date=MONDAY_10AM.date() - timedelta(days=1200),
            renewal_due=MONDAY_10AM.date() - timedelta(days=1),
        )
        with pytest.raises(DomainError, match="DBS renewal was due"):
            book_meeting(people["buddy"], MONDAY_10AM)


class TestClockChanges:
    def test_autumn_clocks_go_back_mid_meeting(self, people, scheme):
        night = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
        OnCallShift.objects.create(
            scheme=scheme,
            responder=people["on_call"],
            starts_at=night,
            ends_at=night + minutes(600),
        )
        start = datetime(2026, 10, 25, 0, 30, tzinfo=LONDON)  # 23:30 UTC (BST)
        end = datetime(2026, 10, 25, 3, 0, tzinfo=LONDON)  # 03:00 UTC (GMT): 3½ hours later, not 2½
        meeting = book_meeting(
            people["buddy"], start, minutes=int((end - start).total_seconds() // 60)
        )
        assert meeting.planned_end == datetime(2026, 10, 25, 3, 0, tzinfo=UTC)
        services.meeting_check_in(meeting=meeting, key="in", by=None, now=start)
        services.sweep(now=datetime(2026, 10, 25, 3, 10, tzinfo=UTC) - S)
        assert levels(meeting) == []
        services.sweep(now=datetime(2026, 10, 25, 3, 10, tzinfo=UTC))
        assert levels(meeting) == [1]

    def test_spring_clocks_go_forward_mid_meeting(self, people, scheme):
        night = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)
        OnCallShift.objects.create(
            scheme=scheme,
            responder=people["on_call"],
            starts_at=night,
            ends_at=night + minutes(600),
        )
        start = datetime(2026, 3, 29, 0, 30, tzinfo=LONDON)  # 00:30 UTC (GMT)
        end = datetime(2026, 3, 29, 3, 0, tzinfo=LONDON)  # 02:00 UTC (BST)
        meeting = book_meeting(
            people["buddy"],
            start,
            minutes=int((end - start).total_seconds() // 60),
            now=start - minutes(60),
        )
        services.meeting_check_in(meeting=meeting, key="in", by=None, now=start)
        services.sweep(now=datetime(2026, 3, 29, 2, 10, tzinfo=UTC) - S)
        assert levels(meeting) == []
        services.sweep(now=datetime(2026, 3, 29, 2, 10, tzinfo=UTC))
        assert levels(meeting) == [1]


class TestReminders:
    def test_before_the_meeting_and_at_its_end(self, people):
        meeting = book_meeting(people["buddy"], MONDAY_10AM, now=MONDAY_10AM - minutes(120))
        services.sweep(now=MONDAY_10AM - minutes(31))
        assert told("reminder_before") == []
        services.sweep(now=MONDAY_10AM - minutes(30))
        services.sweep(now=MONDAY_10AM - minutes(29))
        assert told("reminder_before") == ["buddy@example.org"]
        services.meeting_check_in(meeting=meeting, key="in", by=None, now=MONDAY_10AM)
        services.sweep(now=MONDAY_10AM + minutes(60))
        assert told("reminder_check_out") == ["buddy@example.org"]


class TestOutboxGuarantees:
    def test_broker_down_while_alerts_fall_due_then_everything_once(self, people):
        meeting = checked_in(people)
        # Nothing runs from 10:00 to 11:45 (no broker, no beat, no worker)…
        services.sweep(now=MONDAY_10AM + minutes(105))
        assert levels(meeting) == [1, 2, 3]
        due = dict(meeting.alerts.values_list("level", "due_at"))
        assert due == {
            1: MONDAY_10AM + minutes(70),
            2: MONDAY_10AM + minutes(80),
            3: MONDAY_10AM + minutes(90),
        }
        mail.outbox.clear()
        notifications_deliver(now=MONDAY_10AM + minutes(105))
        first = len(mail.outbox)
        assert first == Notification.objects.filter(channel="email").count() > 0
        services.sweep(now=MONDAY_10AM + minutes(106))
        notifications_deliver(now=MONDAY_10AM + minutes(106))
        assert len(mail.outbox) == first
        assert not Notification.objects.exclude(status="sent").exists()

    def test_a_worker_killed_after_claiming_is_covered_by_the_lease(self, people):
        meeting = book_meeting(people["buddy"], MONDAY_10AM)
        services.sweep(now=MONDAY_10AM + minutes(10))
        mail.outbox.clear()
        claimed = notifications_claim(now=MONDAY_10AM + minutes(10))
        assert claimed  # …and then the worker dies without sending
        notifications_deliver(
            now=MONDAY_10AM
            + minutes(
                10,
            )
            + timedelta(seconds=59)
        )
        assert mail.outbox == []  # still leased to the dead worker
        notifications_deliver(now=MONDAY_10AM + minutes(11) + S)
        assert len(mail.outbox) == len([n for n in claimed if n.channel == "email"])
        notifications_deliver(now=MONDAY_10AM + minutes(20))
        assert len(mail.outbox) == len([n for n in claimed if n.channel == "email"])
        assert levels(meeting) == [0]

    def test_a_failing_channel_is_retried_with_backoff(self, people, monkeypatch):
        from buddyscheme import channels

        people["coordinator"].user.profile.phone = "07700 900123"
        people["coordinator"].user.profile.save()
        book_meeting(people["buddy"], MONDAY_10AM)
        services.sweep(now=MONDAY_10AM + minutes(10))

        def broken(self, notification, text):
            raise channels.ChannelError("sms: provider down")

        monkeypatch.setattr(ConsoleSMSBackend, "send", broken)
        notifications_deliver(now=MONDAY_10AM + minutes(10))
        sms = Notification.objects.get(channel="sms")
        assert (sms.status, sms.attempts, sms.next_attempt_at) == (
            "pending",
            1,
            MONDAY_10AM + minutes(10) + timedelta(seconds=30),
        )
        monkeypatch.undo()
        ConsoleSMSBackend.sent.clear()
        notifications_deliver(now=MONDAY_10AM + minutes(10) + timedelta(seconds=29))
        assert ConsoleSMSBackend.sent == []
        notifications_deliver(now=MONDAY_10AM + minutes(11))
        sms.refresh_from_db()
        assert (sms.status, sms.attempts) == ("sent", 2)
        assert ConsoleSMSBackend.sent[0][1] == "+447700900123"

    def test_messages_are_discreet(self, people):
        meeting = checked_in(people)
        services.meeting_help(meeting=meeting, key="h", by=None, now=MONDAY_10AM + minutes(5))
        notifications_deliver(now=MONDAY_10AM + minutes(5))
        assert mail.outbox
        for message in mail.outbox:
            text = message.subject + message.body
            assert (
                "HIV" not in text
                and "Positive Living" not in text
                and "buddy@example.org" not in text
            )
            assert message.from_email.startswith("Appointments <")


def test_the_sweep_runs_every_thirty_seconds_from_beat():
    from buddyscheme.celery import app

    assert app.conf.beat_schedule["sweep"] == {
        "task": "meetings.tasks.sweep",
        "schedule": 30.0,
        "options": {"expires": 25},
    }


def test_the_sweep_writes_its_heartbeat(people):
    from buddyscheme.models import Heartbeat

    services.sweep(now=MONDAY_10AM)
    assert Heartbeat.objects.get(name="sweep").beat_at == MONDAY_10AM


def test_the_on_call_flag_decides_who_a_level_3_alert_reaches(people, scheme):
    # A buddy flagged on call is reached; the plain coordinator, an on-call member who has
    # left, and another scheme's on-call responder are not.
    on_call_buddy = MembershipFactory(
        scheme=scheme, role=Role.BUDDY, is_on_call=True, user__email="volunteer-on-call@example.org"
    )
    MembershipFactory(
        scheme=scheme,
        role=Role.BUDDY,
        is_on_call=True,
        is_active=False,
        user__email="left@example.org",
    )
    MembershipFactory(is_on_call=True, role=Role.COORDINATOR, user__email="elsewhere@example.org")
    meeting = book_meeting(people["buddy"], MONDAY_10AM)
    reached = sorted(user.email for user in services.recipients(meeting, 3, now=MONDAY_10AM))
    assert reached == sorted([people["on_call"].user.email, on_call_buddy.user.email])

    # Take the flag away from everyone and the coordinators are reached instead, never nobody.
    Membership.objects.filter(scheme=scheme).update(is_on_call=False)
    reached = sorted(user.email for user in services.recipients(meeting, 3, now=MONDAY_10AM))
    assert reached == ["coord@example.org", "oncall@example.org"]


def test_one_delivery_task_per_transaction_however_many_messages(
    people, django_capture_on_commit_callbacks
):
    MembershipFactory(scheme=people["buddy"].scheme, role=Role.COORDINATOR, is_on_call=True)
    meeting = checked_in(people)
    with django_capture_on_commit_callbacks() as callbacks:
        services.meeting_help(meeting=meeting, key="h1", by=None, now=MONDAY_10AM + minutes(5))
    assert Notification.objects.count() >= 2
    assert len(callbacks) == 1


def test_a_help_request_stays_open_until_a_responder_resolves_it(people):
    MembershipFactory(
        scheme=people["buddy"].scheme,
        role=Role.COORDINATOR,
        is_on_call=True,
        user__email="second@example.org",
    )
    meeting = checked_in(people)
    services.meeting_help(meeting=meeting, key="help", by=None, now=MONDAY_10AM + minutes(5))
    assert told("alert_help") == ["oncall@example.org", "second@example.org"]
    services.meeting_check_out(meeting=meeting, key="out", by=None, now=MONDAY_10AM + minutes(6))
    alert = meeting.alerts.get(level=3)
    assert alert.resolved_at is None
    assert told("all_clear") == []
    services.alert_resolve(
        alert=alert, by=people["on_call"].user, outcome="safe", notes="Spoke to AB"
    )
    alert.refresh_from_db()
    assert alert.outcome == "safe"
    # Everyone else who was alerted stands down; the responder who resolved it needs no message.
    assert told("all_clear") == ["second@example.org"]
