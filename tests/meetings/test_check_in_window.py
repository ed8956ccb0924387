"""Check-in opens a short while before the planned start and closes at the planned end; the
Today page shows today's meetings with their buttons and the coming week's without."""

from datetime import datetime, timedelta

import pytest
import time_machine

from buddyscheme.errors import DomainError
from meetings import services
from meetings.models import LoneWorkingSettings, MeetingState, SafetyEvent

from ..factories import book_meeting
from .net import MONDAY_10AM, UTC, minutes

pytestmark = pytest.mark.django_db

SATURDAY_NOON = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def check_in(people, meeting, now, key="in"):
    return services.meeting_check_in(meeting=meeting, key=key, by=people["buddy"].user, now=now)


class TestTheWindow:
    def test_monday_meeting_cannot_be_checked_in_on_saturday(self, people):
        meeting = book_meeting(people["buddy"], MONDAY_10AM, now=SATURDAY_NOON)
        with pytest.raises(DomainError, match="You can check in from 09:30 on Monday 30 November"):
            check_in(people, meeting, SATURDAY_NOON)
        meeting.refresh_from_db()
        assert meeting.state == MeetingState.PLANNED
        assert not SafetyEvent.objects.exists()

    def test_opens_thirty_minutes_before_the_start_by_default(self, people):
        meeting = book_meeting(people["buddy"], MONDAY_10AM)
        with pytest.raises(
            DomainError, match=r"too early to check in\. You can check in from 09:30\.$"
        ):
            check_in(people, meeting, MONDAY_10AM - minutes(30) - timedelta(seconds=1))
        assert check_in(people, meeting, MONDAY_10AM - minutes(30)).state == "checked_in"

    def test_the_scheme_sets_how_early_it_opens(self, people, scheme):
        meeting = book_meeting(people["buddy"], MONDAY_10AM)
        LoneWorkingSettings.objects.filter(scheme=scheme).update(check_in_opens_minutes=10)
        with pytest.raises(DomainError, match="from 09:50"):
            check_in(people, meeting, MONDAY_10AM - minutes(11))
        assert check_in(people, meeting, MONDAY_10AM - minutes(10)).state == "checked_in"

    def test_stays_open_until_the_planned_end(self, people):
        meeting = book_meeting(people["buddy"], MONDAY_10AM)
        with pytest.raises(DomainError, match="due to end at 11:00, so you cannot check in"):
            check_in(people, meeting, MONDAY_10AM + minutes(60) + timedelta(seconds=1))
        assert check_in(people, meeting, MONDAY_10AM + minutes(60)).state == "checked_in"

    def test_a_retried_check_in_is_still_answered_after_the_window(self, people):
        meeting = book_meeting(people["buddy"], MONDAY_10AM)
        check_in(people, meeting, MONDAY_10AM + minutes(59), key="same")
        # The same post arrives again, late, over a poor signal: recorded once, no error.
        assert check_in(people, meeting, MONDAY_10AM + minutes(65), key="same").state == (
            "checked_in"
        )


def today_page(client, people, moment):
    with time_machine.travel(moment, tick=False):
        client.force_login(people["buddy"].user)
        return client.get("/today/").content.decode()


def section(html, heading):
    """The page from a heading to the next h2 (or the end of the meetings)."""
    start = html.index(heading)
    end = html.find("<h2", start + 1)
    return html[start : end if end != -1 else len(html)]


class TestTodayPage:
    def test_saturday_shows_monday_under_coming_up_without_buttons(self, client, people):
        book_meeting(people["buddy"], MONDAY_10AM, now=SATURDAY_NOON)
        html = today_page(client, people, SATURDAY_NOON)
        assert "You have no meetings booked for today." in html
        coming_up = html[html.index('id="coming-up"') :]
        assert "Monday 30 November" in coming_up
        assert "10:00–11:00" in coming_up
        assert "I've arrived" not in html
        assert "I need help" not in html

    def test_today_says_when_check_in_opens_then_offers_it(self, client, people):
        book_meeting(people["buddy"], MONDAY_10AM, now=SATURDAY_NOON)
        early = today_page(client, people, MONDAY_10AM - minutes(60))
        assert "You can check in from 09:30" in early
        assert "I've arrived" not in early
        assert "I need help" in early
        on_time = today_page(client, people, MONDAY_10AM - minutes(30))
        assert "I've arrived" in on_time
        assert "You can check in from" not in on_time
        late = today_page(client, people, MONDAY_10AM + minutes(61))
        assert "I've arrived" not in late
        assert "Check-in closed at 11:00." in late

    def test_coming_up_is_the_next_seven_days_each_with_its_day(self, client, people):
        for days in (1, 2, 7, 8):
            book_meeting(people["buddy"], MONDAY_10AM + timedelta(days=days), now=MONDAY_10AM)
        html = today_page(client, people, MONDAY_10AM - minutes(120))
        coming_up = html[html.index('id="coming-up"') :]
        for day in ("Tuesday 1 December", "Wednesday 2 December", "Monday 7 December"):
            assert f">{day}</h3>" in coming_up
        assert "Tuesday 8 December" not in html
        # Days in order; today's own meetings are not repeated under coming up.
        assert (
            coming_up.index("Tuesday 1")
            < coming_up.index("Wednesday 2")
            < coming_up.index("Monday 7")
        )

    def test_a_meeting_still_open_from_before_midnight_stays_under_today(self, client, people):
        late_evening = MONDAY_10AM - timedelta(hours=12)  # Sunday 22:00
        from meetings.models import OnCallShift

        OnCallShift.objects.create(
            scheme=people["buddy"].scheme,
            responder=people["on_call"],
            starts_at=late_evening - minutes(60),
            ends_at=late_evening + minutes(400),
        )
        meeting = book_meeting(people["buddy"], late_evening, minutes=180)
        check_in(people, meeting, late_evening)
        html = today_page(client, people, late_evening + minutes(130))  # Monday 00:10
        today = html[: html.index('id="coming-up"')]
        assert "22:00–01:00" in today and "Sunday 29 November" in today
        assert "I've left safely" in today

    def test_pressing_arrived_on_a_stale_page_too_early_says_when(self, client, people):
        meeting = book_meeting(people["buddy"], MONDAY_10AM, now=SATURDAY_NOON)
        with time_machine.travel(SATURDAY_NOON, tick=False):
            client.force_login(people["buddy"].user)
            response = client.post(
                f"/meetings/{meeting.pk}/check-in/", {"key": "forged"}, follow=True
            )
        assert "You can check in from 09:30 on Monday 30 November." in response.content.decode()
        assert not SafetyEvent.objects.exists()
