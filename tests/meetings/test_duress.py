"""The duress PIN: a check-out that looks ordinary and silently raises a level-3 alert."""

import pytest
from django.contrib.auth.hashers import check_password

from buddyscheme.errors import DomainError
from buddyscheme.models import Notification, Role
from meetings import services
from meetings.models import Alert, BuddySafety, LoneWorkingSettings, MeetingState, SafetyEvent

from ..factories import MembershipFactory
from .net import MONDAY_10AM, checked_in, minutes, open_alerts, told

pytestmark = pytest.mark.django_db

CHECK_OUT_PIN, DURESS_PIN = "2468", "1357"


@pytest.fixture
def pins(people):
    return services.buddy_pins_set(
        membership=people["buddy"], check_out_pin=CHECK_OUT_PIN, duress_pin=DURESS_PIN
    )


def pin_required(scheme, required=True):
    services.lone_working(scheme)
    LoneWorkingSettings.objects.filter(scheme=scheme).update(check_out_pin_required=required)


def check_out(people, meeting, pin, key="out", at=None, **kwargs):
    return services.meeting_check_out_with_pin(
        meeting=meeting,
        key=key,
        pin=pin,
        by=people["buddy"].user,
        now=MONDAY_10AM + (at or minutes(50)),
        **kwargs,
    )


def sent_to(user):
    return list(Notification.objects.filter(recipient=user).values_list("template", flat=True))


class TestSettingPins:
    def test_pins_are_stored_hashed_never_as_typed(self, people, pins):
        safety = BuddySafety.objects.get(membership=people["buddy"])
        assert CHECK_OUT_PIN not in safety.check_out_pin
        assert DURESS_PIN not in safety.duress_pin
        assert check_password(CHECK_OUT_PIN, safety.check_out_pin)
        assert check_password(DURESS_PIN, safety.duress_pin)

    @pytest.mark.parametrize(
        ("check_out_pin", "duress_pin"),
        [("123", "4567"), ("123456789", "4567"), ("12a4", "4567"), ("4567", "4567")],
    )
    def test_four_to_eight_numbers_and_different(self, people, check_out_pin, duress_pin):
        with pytest.raises(DomainError):
            services.buddy_pins_set(
                membership=people["buddy"], check_out_pin=check_out_pin, duress_pin=duress_pin
            )
        assert not BuddySafety.objects.exists()

    def test_not_changed_during_a_meeting(self, people, pins):
        """Whoever holds an unlocked phone mid-meeting must not replace the duress PIN."""
        checked_in(people)
        with pytest.raises(DomainError, match="during a meeting"):
            services.buddy_pins_set(
                membership=people["buddy"], check_out_pin="1111", duress_pin="2222"
            )
        assert check_password(DURESS_PIN, BuddySafety.objects.get().duress_pin)


class TestCheckOutWithPins:
    def test_the_check_out_pin_checks_out_and_raises_nothing(self, people, pins):
        meeting = check_out(people, checked_in(people), CHECK_OUT_PIN)
        assert meeting.state == MeetingState.CHECKED_OUT
        assert not Alert.objects.exists()

    def test_the_duress_pin_checks_out_and_raises_a_level_3_duress_alert(self, people, pins):
        meeting = check_out(people, checked_in(people), DURESS_PIN)
        meeting.refresh_from_db()
        # As the buddy sees it: checked out, the check-out recorded like any other.
        assert meeting.state == MeetingState.CHECKED_OUT
        assert list(meeting.safety_events.values_list("kind", flat=True)) == [
            "check_in",
            "check_out",
        ]
        alert = Alert.objects.get()
        assert (alert.level, alert.reason, alert.resolved_at) == (3, "duress", None)
        assert told("alert_duress") == ["oncall@example.org"]

    def test_nothing_duress_related_reaches_the_buddy_even_when_on_call(self, people, pins):
        # The buddy is also on call as a coordinator of the same scheme.
        MembershipFactory(
            scheme=people["buddy"].scheme,
            role=Role.COORDINATOR,
            is_on_call=True,
            user=people["buddy"].user,
        )
        check_out(people, checked_in(people), DURESS_PIN)
        assert told("alert_duress") == ["oncall@example.org"]
        assert sent_to(people["buddy"].user) == []

    def test_a_retried_duress_post_raises_one_alert(self, people, pins):
        meeting = checked_in(people)
        check_out(people, meeting, DURESS_PIN, key="same")
        check_out(people, meeting, DURESS_PIN, key="same")
        assert Alert.objects.filter(reason="duress").count() == 1
        assert SafetyEvent.objects.filter(kind="check_out").count() == 1

    def test_the_duress_alert_never_resolves_by_itself(self, people, pins):
        meeting = check_out(people, checked_in(people), DURESS_PIN)
        services.sweep(now=MONDAY_10AM + minutes(60 * 24))
        assert [alert.reason for alert in open_alerts(meeting)] == ["duress"]

    def test_a_late_duress_check_out_tells_nobody_all_clear(self, people, pins):
        """Levels 1 and 2 went out; the buddy checks out late with the duress PIN. The overdue
        alerts are answered by the check-out, but nobody may hear "all clear": the buddy may be
        in danger. Once a responder resolves the duress alert, those alerted stand down."""
        meeting = checked_in(people)
        services.sweep(now=MONDAY_10AM + minutes(82))  # levels 1 and 2
        assert told("alert_overdue") == ["coord@example.org", "oncall@example.org"]
        check_out(people, meeting, DURESS_PIN, at=minutes(85))
        assert [alert.reason for alert in open_alerts(meeting)] == ["duress"]
        assert told("all_clear") == []
        services.alert_resolve(
            alert=Alert.objects.get(reason="duress"),
            by=people["on_call"].user,
            outcome="safe",
            now=MONDAY_10AM + minutes(120),
        )
        assert told("all_clear") == ["coord@example.org"]

    def test_an_ordinary_check_out_still_sends_the_all_clear(self, people, pins):
        meeting = checked_in(people)
        services.sweep(now=MONDAY_10AM + minutes(82))
        check_out(people, meeting, CHECK_OUT_PIN, at=minutes(85))
        assert told("all_clear") == ["coord@example.org", "oncall@example.org"]

    def test_the_duress_pin_on_a_finished_meeting_still_raises_the_alert(self, people, pins):
        meeting = check_out(people, checked_in(people), CHECK_OUT_PIN, key="first")
        with pytest.raises(DomainError, match="already finished"):
            check_out(people, meeting, DURESS_PIN, key="second", at=minutes(55))
        assert Alert.objects.get().reason == "duress"


class TestWrongPins:
    def test_a_wrong_pin_keeps_the_meeting_checked_in(self, people, pins):
        meeting = checked_in(people)
        with pytest.raises(services.PinNotRight, match="That PIN is not right"):
            check_out(people, meeting, "9999")
        meeting.refresh_from_db()
        assert meeting.state == MeetingState.CHECKED_IN
        assert not Alert.objects.exists()
        # The wrong try is counted, though the buddy got an error.
        assert SafetyEvent.objects.filter(kind="wrong_pin").count() == 1

    def test_a_retried_wrong_pin_counts_once(self, people, pins):
        meeting = checked_in(people)
        for _ in range(2):
            with pytest.raises(services.PinNotRight):
                check_out(people, meeting, "9999", key="same")
        assert SafetyEvent.objects.filter(kind="wrong_pin").count() == 1

    def test_five_wrong_pins_in_ten_minutes_raise_a_level_3_alert(self, people, pins):
        meeting = checked_in(people)
        for attempt in range(4):
            with pytest.raises(services.PinNotRight):
                check_out(people, meeting, "9999", key=f"wrong-{attempt}", at=minutes(50 + attempt))
        assert not Alert.objects.exists()
        with pytest.raises(services.TooManyWrongPins):
            check_out(people, meeting, "9999", key="wrong-5", at=minutes(55))
        alert = Alert.objects.get()
        assert (alert.level, alert.reason) == (3, "wrong_pins")
        assert told("alert_wrong_pins") == ["oncall@example.org"]
        # The right PIN is refused until the tries age out; the duress PIN never is.
        with pytest.raises(services.TooManyWrongPins):
            check_out(people, meeting, CHECK_OUT_PIN, key="right", at=minutes(56))
        meeting.refresh_from_db()
        assert meeting.state == MeetingState.CHECKED_IN
        check_out(people, meeting, CHECK_OUT_PIN, key="later", at=minutes(61))
        meeting.refresh_from_db()
        assert meeting.state == MeetingState.CHECKED_OUT
        # Checking out does not close it: a responder must.
        assert [alert.reason for alert in open_alerts(meeting)] == ["wrong_pins"]
        assert told("all_clear") == []

    def test_the_duress_pin_works_while_locked(self, people, pins):
        meeting = checked_in(people)
        for attempt in range(5):
            with pytest.raises(DomainError):
                check_out(people, meeting, "9999", key=f"wrong-{attempt}", at=minutes(50))
        meeting = check_out(people, meeting, DURESS_PIN, key="duress", at=minutes(51))
        assert meeting.state == MeetingState.CHECKED_OUT
        assert sorted(Alert.objects.values_list("reason", flat=True)) == ["duress", "wrong_pins"]

    def test_wrong_pins_spread_over_more_than_ten_minutes_raise_nothing(self, people, pins):
        meeting = checked_in(people)
        for attempt in range(6):
            with pytest.raises(services.PinNotRight):
                check_out(people, meeting, "9999", key=f"w{attempt}", at=minutes(50 + 3 * attempt))
        assert not Alert.objects.exists()


class TestWhenAPinIsAsked:
    def test_left_empty_when_the_scheme_does_not_require_it(self, people, pins):
        meeting = check_out(people, checked_in(people), "")
        assert meeting.state == MeetingState.CHECKED_OUT

    def test_required_by_the_scheme(self, people, pins):
        pin_required(people["buddy"].scheme)
        meeting = checked_in(people)
        with pytest.raises(services.PinNeeded):
            check_out(people, meeting, "  ")
        meeting.refresh_from_db()
        assert meeting.state == MeetingState.CHECKED_IN
        assert not SafetyEvent.objects.filter(kind="wrong_pin").exists()

    def test_a_buddy_without_pins_always_checks_out(self, people):
        """A safety button is never locked behind setting up: the form asks them to set one."""
        pin_required(people["buddy"].scheme)
        meeting = check_out(people, checked_in(people), "")
        assert meeting.state == MeetingState.CHECKED_OUT
        options = services.check_out_options(people["buddy"])
        assert (options.pin_asked, options.pin_missing) == (False, True)
