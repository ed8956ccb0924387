"""I need help: straight to every on-call responder, never lost, never closed by a button."""

from collections import Counter

import pytest

from buddyscheme.models import Role
from meetings import services

from ..factories import MembershipFactory, book_meeting
from .net import MONDAY_10AM, checked_in, levels, minutes, open_alerts, told

pytestmark = pytest.mark.django_db


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


class TestHelpIsNeverLost:
    """A help press was lost when a level-3 alert already existed (review)."""

    def test_help_after_the_overdue_sweep_reached_level_three(self, people):
        meeting = checked_in(people)
        services.sweep(now=MONDAY_10AM + minutes(90))  # levels 1, 2, 3 (overdue)
        assert levels(meeting) == [1, 2, 3]
        alert = services.meeting_help(
            meeting=meeting, key="help", by=people["buddy"].user, now=MONDAY_10AM + minutes(91)
        )
        # The buddy sees "we have told the on-call team"; nothing was raised or sent.
        assert alert is not None and alert.reason == "help"
        assert told("alert_help") == ["oncall@example.org"]

    def test_a_real_help_press_after_an_earlier_false_alarm(self, people):
        meeting = checked_in(people)
        first = services.meeting_help(
            meeting=meeting, key="oops", by=people["buddy"].user, now=MONDAY_10AM + minutes(5)
        )
        services.alert_resolve(
            alert=first,
            by=people["on_call"].user,
            outcome="false_alarm",
            now=MONDAY_10AM + minutes(6),
        )
        again = services.meeting_help(
            meeting=meeting, key="real", by=people["buddy"].user, now=MONDAY_10AM + minutes(30)
        )
        assert again is not None
        assert open_alerts(meeting), "the second help press raised nothing"
        assert Counter(told("alert_help"))["oncall@example.org"] == 2


class TestOverdueStillWatchedAfterHelp:
    """After a help press the overdue timer was gone for good (review)."""

    def test_false_alarm_help_during_the_meeting_then_overdue(self, people):
        meeting = checked_in(people)
        help_alert = services.meeting_help(
            meeting=meeting, key="oops", by=people["buddy"].user, now=MONDAY_10AM + minutes(5)
        )
        services.alert_resolve(
            alert=help_alert,
            by=people["on_call"].user,
            outcome="false_alarm",
            now=MONDAY_10AM + minutes(7),
        )
        # The buddy is still in the meeting and never checks out.
        services.sweep(now=MONDAY_10AM + minutes(120))
        assert open_alerts(meeting), "an overdue meeting raised no alert at all"

    def test_false_alarm_help_before_check_in_then_overdue(self, people):
        meeting = book_meeting(people["buddy"], MONDAY_10AM, now=MONDAY_10AM - minutes(60))
        help_alert = services.meeting_help(
            meeting=meeting, key="oops", by=people["buddy"].user, now=MONDAY_10AM - minutes(2)
        )
        services.alert_resolve(
            alert=help_alert,
            by=people["on_call"].user,
            outcome="false_alarm",
            now=MONDAY_10AM - minutes(1),
        )
        services.meeting_check_in(
            meeting=meeting, key="in", by=people["buddy"].user, now=MONDAY_10AM
        )
        services.sweep(now=MONDAY_10AM + minutes(120))  # due 11:10; nobody checked out
        assert open_alerts(meeting), "an overdue meeting raised no alert at all"
        assert told("alert_check_out_prompt") == ["buddy@example.org"]

    def test_false_alarm_help_before_the_start_then_no_check_in(self, people):
        meeting = book_meeting(people["buddy"], MONDAY_10AM, now=MONDAY_10AM - minutes(60))
        help_alert = services.meeting_help(
            meeting=meeting, key="oops", by=people["buddy"].user, now=MONDAY_10AM - minutes(10)
        )
        services.alert_resolve(
            alert=help_alert,
            by=people["on_call"].user,
            outcome="false_alarm",
            now=MONDAY_10AM - minutes(9),
        )
        services.sweep(now=MONDAY_10AM + minutes(30))  # start + grace passed, no check-in
        assert told("alert_missed_check_in"), "the missed check-in was never raised"


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
