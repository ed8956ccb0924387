"""Missed check-ins and overdue check-outs escalate on time, and stop when they should.

Time is moved through every transition (services take `now`), never slept."""

from collections import Counter
from datetime import datetime

import pytest
import time_machine

from buddyscheme.errors import DomainError
from buddyscheme.models import Notification, Role
from meetings import services
from meetings.models import Alert, OnCallShift, SafetyEvent
from meetings.tasks import sweep as sweep_task

from ..factories import MembershipFactory, book_meeting, venue
from .net import LONDON, MONDAY_10AM, UTC, S, checked_in, levels, minutes, open_alerts, told

pytestmark = pytest.mark.django_db


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


class TestExtendAfterOverdue:
    """Extending after overdue alerts (review)."""

    def test_extending_after_level_three_then_overdue_again_alerts(self, people):
        meeting = checked_in(people)
        services.sweep(now=MONDAY_10AM + minutes(90))
        assert levels(meeting) == [1, 2, 3]
        services.meeting_extend(
            meeting=meeting,
            minutes=15,
            key="more",
            by=people["buddy"].user,
            now=MONDAY_10AM + minutes(92),
        )  # expected end 11:47, next alert 11:57
        assert not open_alerts(meeting)
        before = Notification.objects.filter(template__startswith="alert_").count()
        services.sweep(now=MONDAY_10AM + minutes(180))  # 13:00: over an hour overdue again
        assert open_alerts(meeting), "overdue again after an extension: no alert raised"
        assert Notification.objects.filter(template__startswith="alert_").count() > before

    def test_extending_after_the_prompt_restarts_escalation_at_the_prompt(self, people):
        meeting = checked_in(people)
        services.sweep(now=MONDAY_10AM + minutes(70))  # level 1: the buddy is prompted
        services.meeting_extend(
            meeting=meeting,
            minutes=30,
            key="more",
            by=people["buddy"].user,
            now=MONDAY_10AM + minutes(72),
        )  # expected end 11:42, overdue at 11:52
        services.sweep(now=MONDAY_10AM + minutes(112))  # 11:52
        # The new overdue should prompt the buddy first; the coordinators only 10 minutes later.
        assert told("alert_overdue") == []


def test_acknowledging_an_alert_already_resolved_by_a_late_check_in_keeps_the_timer(people):
    meeting = book_meeting(people["buddy"], MONDAY_10AM)
    services.sweep(now=MONDAY_10AM + minutes(10))  # missed check-in, coordinators told
    missed = meeting.alerts.get(level=0)
    # The coordinator phones the buddy, who taps "I've arrived" while they talk…
    services.meeting_check_in(
        meeting=meeting, key="late", by=people["buddy"].user, now=MONDAY_10AM + minutes(12)
    )
    # …then the coordinator presses Acknowledge on the board page they still have open.
    services.alert_acknowledge(
        alert=missed, by=people["coordinator"].user, now=MONDAY_10AM + minutes(13)
    )
    services.sweep(now=MONDAY_10AM + minutes(120))  # nobody ever checks out
    assert levels(meeting) == [0, 1, 2, 3]


class TestRescheduleAfterMissedCheckIn:
    """Rescheduling after a missed check-in (review)."""

    def reschedule(self, people, meeting):
        return services.meeting_reschedule(
            meeting=meeting,
            venue=meeting.venue,
            planned_start=MONDAY_10AM + minutes(60),
            planned_end=MONDAY_10AM + minutes(120),
            purpose="Coffee",
            by=people["coordinator"].user,
            now=MONDAY_10AM + minutes(15),
        )

    def test_the_new_start_time_still_raises_a_missed_check_in(self, people):
        meeting = book_meeting(people["buddy"], MONDAY_10AM)
        services.sweep(now=MONDAY_10AM + minutes(10))
        assert Counter(told("alert_missed_check_in"))["coord@example.org"] == 1
        self.reschedule(people, meeting)  # to 11:00–12:00
        services.sweep(now=MONDAY_10AM + minutes(75))  # 11:15: no check-in for the new time
        assert Counter(told("alert_missed_check_in"))["coord@example.org"] == 2

    def test_the_old_missed_check_in_alert_does_not_stay_open(self, people):
        meeting = book_meeting(people["buddy"], MONDAY_10AM)
        services.sweep(now=MONDAY_10AM + minutes(10))
        self.reschedule(people, meeting)
        services.meeting_check_in(
            meeting=meeting, key="in", by=people["buddy"].user, now=MONDAY_10AM + minutes(60)
        )
        services.meeting_check_out(
            meeting=meeting, key="out", by=people["buddy"].user, now=MONDAY_10AM + minutes(110)
        )
        assert open_alerts(meeting) == []


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
