"""Holes a review found in the lone-working safety net, each pinned by a test (all now fixed)."""

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from buddyscheme.channels import ChannelError
from buddyscheme.models import Notification, Role
from buddyscheme.notifications import MAX_ATTEMPTS, notifications_deliver
from buddyscheme.services import membership_deactivate
from meetings import services
from meetings.models import Alert, OnCallShift

from ..factories import MembershipFactory, SchemeFactory, book_meeting, cleared_buddy

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
MONDAY_10AM = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 10:00 in London too (GMT)


def minutes(n):
    return timedelta(minutes=n)


@pytest.fixture
def scheme():
    return SchemeFactory(name="Positive Living HIV Buddies", sender_name="Appointments")


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


def told(template):
    return sorted(
        Notification.objects.filter(template=template, channel="email").values_list(
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


# --- 1. A help press is lost when a level-3 alert already exists ------------------------------


class TestHelpIsNeverLost:
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


# --- 2. After a help press the overdue timer is gone for good ---------------------------------


class TestOverdueStillWatchedAfterHelp:
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


# --- 3. Extending after overdue alerts --------------------------------------------------------


class TestExtendAfterOverdue:
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


# --- 4. A stale "Acknowledge" on an already-resolved alert disarms the meeting ----------------


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


# --- 5. Rescheduling after a missed check-in --------------------------------------------------


class TestRescheduleAfterMissedCheckIn:
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


# --- 6. The all-clear goes out while a help request is still open -----------------------------


def test_no_all_clear_to_help_responders_while_help_is_open(people, scheme):
    support = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__email="support@example.org"
    )
    meeting = checked_in(people, support_person=support)
    services.sweep(now=MONDAY_10AM + minutes(80))  # level 1 (buddy), level 2 (support)
    services.meeting_help(
        meeting=meeting, key="help", by=people["buddy"].user, now=MONDAY_10AM + minutes(82)
    )
    assert "oncall@example.org" in told("alert_help")
    services.meeting_check_out(
        meeting=meeting, key="out", by=None, now=MONDAY_10AM + minutes(83)
    )  # someone may be pressing it for the buddy
    assert meeting.alerts.get(reason="help").resolved_at is None
    # The on-call responder was alerted only for the help request, which is still open:
    # "All clear … the buddy is safe. No further action is needed" must not reach them.
    assert "oncall@example.org" not in told("all_clear")


# --- 7. A second all-clear to people who were not alerted this time ---------------------------


def test_each_person_gets_one_all_clear_per_alert_they_received(people):
    meeting = book_meeting(people["buddy"], MONDAY_10AM)
    services.sweep(now=MONDAY_10AM + minutes(10))  # coordinators told: missed check-in
    services.meeting_check_in(
        meeting=meeting, key="late", by=people["buddy"].user, now=MONDAY_10AM + minutes(15)
    )  # all-clear to the coordinators
    assert told("all_clear") == ["coord@example.org", "oncall@example.org"]
    services.sweep(now=MONDAY_10AM + minutes(70))  # level 1: only the buddy is prompted
    services.meeting_check_out(
        meeting=meeting, key="out", by=people["buddy"].user, now=MONDAY_10AM + minutes(72)
    )
    # Nobody but the buddy was alerted in this round, so nobody needs a second all-clear.
    assert told("all_clear") == ["coord@example.org", "oncall@example.org"]


# --- 8. Recipients: people who have left, and other schemes -----------------------------------


def test_a_deactivated_responder_on_the_rota_is_not_the_only_one_told(scheme):
    MembershipFactory(scheme=scheme, role=Role.COORDINATOR, user__email="coord@example.org")
    gone = MembershipFactory(scheme=scheme, role=Role.COORDINATOR, user__email="gone@example.org")
    OnCallShift.objects.create(
        scheme=scheme,
        responder=gone,
        starts_at=MONDAY_10AM - minutes(120),
        ends_at=MONDAY_10AM + minutes(600),
    )
    membership_deactivate(membership=gone)  # left the scheme; the rota row stays
    buddy = cleared_buddy(scheme, email="buddy@example.org")
    meeting = book_meeting(buddy, MONDAY_10AM)
    services.meeting_help(meeting=meeting, key="help", by=buddy.user, now=MONDAY_10AM + minutes(5))
    assert told("alert_help") == ["coord@example.org"]


def test_a_deactivated_support_person_is_not_the_only_one_told(people, scheme):
    support = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__email="support@example.org"
    )
    checked_in(people, support_person=support)
    membership_deactivate(membership=support)
    services.sweep(now=MONDAY_10AM + minutes(80))  # level 2 due
    assert "support@example.org" not in told("alert_overdue")
    assert told("alert_overdue"), "level 2 reached nobody who is still in the scheme"


def test_level_three_never_reaches_a_member_of_another_scheme(people, scheme):
    other = MembershipFactory(
        scheme=SchemeFactory(name="Other scheme"),
        role=Role.COORDINATOR,
        user__email="other-scheme@example.org",
    )
    # A rota row pointing at another scheme's membership (the admin's raw-id field allows it).
    OnCallShift.objects.create(
        scheme=scheme,
        responder=other,
        starts_at=MONDAY_10AM - minutes(120),
        ends_at=MONDAY_10AM + minutes(600),
    )
    meeting = checked_in(people)
    services.meeting_help(meeting=meeting, key="help", by=None, now=MONDAY_10AM + minutes(5))
    assert "other-scheme@example.org" not in told("alert_help")


def test_level_three_with_a_support_person_and_nobody_on_call_reaches_someone_new(scheme):
    MembershipFactory(scheme=scheme, role=Role.COORDINATOR, user__email="coord@example.org")
    support = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__email="support@example.org"
    )
    buddy = cleared_buddy(scheme, email="buddy@example.org")
    meeting = book_meeting(buddy, MONDAY_10AM, support_person=support)
    services.meeting_check_in(meeting=meeting, key="in", by=buddy.user, now=MONDAY_10AM)
    services.sweep(now=MONDAY_10AM + minutes(90))
    assert told("alert_overdue") == ["support@example.org"]
    # Level 3 (nobody acknowledged level 2) goes to exactly the same one person again.
    assert told("alert_urgent") != ["support@example.org"]


# --- 9. The outbox gives up on an alert for good -----------------------------------------------


def test_an_alert_message_is_never_silently_given_up(people, monkeypatch):
    from buddyscheme import notifications

    def broken(*args, **kwargs):
        raise ChannelError("email: SMTPServerDisconnected")

    monkeypatch.setattr(notifications, "email_send", broken)
    meeting = checked_in(people)
    services.meeting_help(meeting=meeting, key="help", by=None, now=MONDAY_10AM + minutes(5))
    moment = MONDAY_10AM + minutes(5)
    for _ in range(MAX_ATTEMPTS):
        notifications_deliver(now=moment)
        moment += timedelta(minutes=31)
    row = Notification.objects.get(template="alert_help", channel="email")
    assert row.attempts == MAX_ATTEMPTS
    # About an hour of mail-server trouble and the help message is dropped for good,
    # with nothing on the board or /healthz to say so.
    assert row.status != "failed"


def test_the_rota_refuses_a_member_of_another_scheme(people, scheme):
    from django.core.exceptions import ValidationError

    other = MembershipFactory(scheme=SchemeFactory(name="Elsewhere"), role=Role.COORDINATOR)
    shift = OnCallShift(
        scheme=scheme, responder=other, starts_at=MONDAY_10AM, ends_at=MONDAY_10AM + minutes(60)
    )
    with pytest.raises(ValidationError):
        shift.full_clean()
