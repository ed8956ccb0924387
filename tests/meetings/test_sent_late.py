"""A press saved on the phone with no signal and sent when the signal returns.

The phone sends `device_at` (milliseconds since 1970, UTC) with the press: the server keeps it
beside the arrival time when it can be believed, and acts on it. Time is moved with
time-machine, never slept."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from meetings import services
from meetings.access import safety_token
from meetings.models import Alert, SafetyEvent

from ..factories import book_meeting, enrol_totp
from .net import MONDAY_10AM, checked_in, levels, minutes, open_alerts, told

pytestmark = pytest.mark.django_db


def millis(moment):
    return str(int(moment.timestamp() * 1000))


def _check_out_post(client, meeting, key, pressed, token=None):
    data = {"key": key, "device_at": millis(pressed)}
    if token:
        data["safety_token"] = token
    return client.post(f"/meetings/{meeting.pk}/check-out/", data)


class TestCheckOutSentLate:
    def test_pressed_before_the_deadline_arriving_after_the_alerts(self, people):
        """Checked in at 10:00, due out by 11:00 with 10 minutes' grace. The buddy presses
        "I've left safely" at 11:05 with no signal; the sweep raises level 1 at 11:10 and level
        2 at 11:20; the saved press arrives at 11:31 and again at 11:32 (the phone retried)."""
        meeting = checked_in(people)
        token = safety_token(meeting)  # the page the buddy had open (the session has gone)
        pressed = MONDAY_10AM + minutes(65)
        services.sweep(now=MONDAY_10AM + minutes(70))
        services.sweep(now=MONDAY_10AM + minutes(80))
        assert levels(meeting) == [1, 2]
        assert told("alert_overdue") == ["coord@example.org", "oncall@example.org"]
        assert told("all_clear") == []

        arrived = MONDAY_10AM + minutes(91)
        phone = Client()
        with time_machine.travel(arrived, tick=False):
            response = _check_out_post(phone, meeting, "late-out", pressed, token)
        assert response.status_code == 200
        with time_machine.travel(arrived + minutes(1), tick=False):
            _check_out_post(phone, meeting, "late-out", pressed, token)

        event = SafetyEvent.objects.get(meeting=meeting, kind="check_out")
        assert (event.device_at, event.at) == (pressed, arrived)
        meeting.refresh_from_db()
        assert meeting.state == "checked_out"
        assert meeting.checked_out_at == pressed
        assert open_alerts(meeting) == []
        assert set(meeting.alerts.values_list("outcome", flat=True)) == {"safe"}
        assert told("all_clear") == ["coord@example.org", "oncall@example.org"]
        # Nothing more is raised: the meeting is off the net.
        services.sweep(now=arrived + minutes(30))
        assert levels(meeting) == [1, 2]

        coordinator = Client()
        enrol_totp(people["coordinator"].user)
        with time_machine.travel(arrived + minutes(2), tick=False):
            coordinator.force_login(people["coordinator"].user)
            board = coordinator.get("/coordinator/board/live/")
            alert = meeting.alerts.get(level=2)
            page = coordinator.get(f"/alerts/{alert.pk}/")
        assert b"No open alerts." in board.content
        assert "(sent late: pressed 11:05, arrived 11:31)" in " ".join(
            page.content.decode().split()
        )
        assert alert.notes == "checked out (sent late: pressed 11:05, arrived 11:31)"

    def test_signed_in_the_same_press_counts_once(self, people):
        meeting = checked_in(people)
        phone = Client()
        pressed = MONDAY_10AM + minutes(50)
        with time_machine.travel(pressed + timedelta(seconds=40), tick=False):
            phone.force_login(people["buddy"].user)
            first = _check_out_post(phone, meeting, "out-1", pressed)
            again = _check_out_post(phone, meeting, "out-1", pressed)
        assert first.status_code == again.status_code == 302
        event = SafetyEvent.objects.get(meeting=meeting, kind="check_out")
        assert event.device_at == pressed
        assert not event.sent_late  # under a minute apart: not worth a word on the board

    def test_without_a_phone_time_the_arrival_time_stands(self, people):
        meeting = checked_in(people)
        services.meeting_check_out(
            meeting=meeting, key="out", by=people["buddy"].user, now=MONDAY_10AM + minutes(40)
        )
        event = SafetyEvent.objects.get(kind="check_out")
        assert event.device_at is None
        assert event.at == MONDAY_10AM + minutes(40)


class TestUnbelievablePhoneTimes:
    @pytest.mark.parametrize(
        "pressed",
        [
            MONDAY_10AM + minutes(40) + minutes(2) + timedelta(seconds=1),  # the future
            MONDAY_10AM - minutes(31),  # before check-in opened (30 minutes early)
        ],
    )
    def test_ignored_and_the_arrival_time_used(self, people, pressed):
        meeting = checked_in(people)
        services.meeting_check_out(
            meeting=meeting,
            key="out",
            by=people["buddy"].user,
            now=MONDAY_10AM + minutes(40),
            device_at=pressed,
        )
        meeting.refresh_from_db()
        assert SafetyEvent.objects.get(kind="check_out").device_at is None
        assert meeting.checked_out_at == MONDAY_10AM + minutes(40)

    def test_older_than_twelve_hours_is_ignored(self, people):
        meeting = checked_in(people)  # and still, past midnight
        services.meeting_check_out(
            meeting=meeting,
            key="out",
            by=people["buddy"].user,
            now=MONDAY_10AM + minutes(60 * 12 + 30),
            device_at=MONDAY_10AM + minutes(29),
        )
        assert SafetyEvent.objects.get(kind="check_out").device_at is None

    def test_a_little_fast_is_believed_and_never_later_than_arrival(self, people):
        meeting = checked_in(people)
        now = MONDAY_10AM + minutes(40)
        services.meeting_check_out(
            meeting=meeting, key="out", by=people["buddy"].user, now=now, device_at=now + minutes(1)
        )
        meeting.refresh_from_db()
        assert SafetyEvent.objects.get(kind="check_out").device_at == now
        assert meeting.checked_out_at == now

    @pytest.mark.parametrize("raw", ["", "soon", "-5", "1e12", "９９", "9" * 16, "99999999999999"])
    def test_nonsense_from_the_phone_is_ignored_not_an_error(self, people, raw):
        meeting = checked_in(people)
        phone = Client()
        with time_machine.travel(MONDAY_10AM + minutes(30), tick=False):
            phone.force_login(people["buddy"].user)
            response = phone.post(
                f"/meetings/{meeting.pk}/check-out/", {"key": "out", "device_at": raw}
            )
        assert response.status_code == 302
        event = SafetyEvent.objects.get(kind="check_out")
        assert event.device_at is None
        assert event.at == MONDAY_10AM + minutes(30)


class TestOtherButtonsSentLate:
    def test_check_in_pressed_in_the_window_counts_when_it_arrives_after(self, people):
        meeting = book_meeting(people["buddy"], MONDAY_10AM)  # 10:00 to 11:00
        services.sweep(now=MONDAY_10AM + minutes(10))
        assert levels(meeting) == [0]
        meeting = services.meeting_check_in(
            meeting=meeting,
            key="in",
            by=people["buddy"].user,
            now=MONDAY_10AM + minutes(65),  # the window has closed
            device_at=MONDAY_10AM + minutes(5),
        )
        assert meeting.state == "checked_in"
        assert meeting.checked_in_at == MONDAY_10AM + minutes(5)
        event = SafetyEvent.objects.get(kind="check_in")
        assert (event.device_at, event.at) == (MONDAY_10AM + minutes(5), MONDAY_10AM + minutes(65))
        assert open_alerts(meeting) == []  # the missed check-in is answered
        assert told("all_clear") == ["coord@example.org", "oncall@example.org"]

    def test_more_time_runs_from_when_it_was_asked_for(self, people):
        meeting = checked_in(people)  # due to end 11:00
        meeting = services.meeting_extend(
            meeting=meeting,
            minutes=30,
            key="more",
            by=people["buddy"].user,
            now=MONDAY_10AM + minutes(75),
            device_at=MONDAY_10AM + minutes(58),
        )
        assert meeting.expected_end == MONDAY_10AM + minutes(90)
        assert SafetyEvent.objects.get(kind="extend").device_at == MONDAY_10AM + minutes(58)

    def test_help_is_due_from_the_press_and_raised_on_arrival(self, people):
        meeting = checked_in(people)
        alert = services.meeting_help(
            meeting=meeting,
            key="help",
            by=people["buddy"].user,
            now=MONDAY_10AM + minutes(30),
            device_at=MONDAY_10AM + minutes(20),
        )
        assert isinstance(alert, Alert)
        assert (alert.due_at, alert.raised_at) == (
            MONDAY_10AM + minutes(20),
            MONDAY_10AM + minutes(30),
        )
        assert SafetyEvent.objects.get(kind="help").device_at == MONDAY_10AM + minutes(20)
