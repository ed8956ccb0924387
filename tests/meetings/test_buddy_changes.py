"""A buddy changes or cancels a meeting they logged; their calendar app follows each change."""

from datetime import datetime, timedelta

import pytest
import time_machine
from icalendar import Calendar

from buddyscheme.models import Notification, Role
from buddyscheme.notifications import notification_send
from meetings import services
from meetings.models import CalendarFeed, Meeting, MeetingState

from ..factories import MembershipFactory, SchemeFactory, book_meeting, cleared_buddy
from .net import MONDAY_10AM, UTC, minutes, rendered, told

pytestmark = pytest.mark.django_db

FRIDAY_9AM = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def as_buddy(client, people, moment=FRIDAY_9AM):
    traveller = time_machine.travel(moment, tick=False)
    traveller.start()
    client.force_login(people["buddy"].user)
    return traveller


@pytest.fixture
def meeting(people):
    return book_meeting(people["buddy"], MONDAY_10AM, now=FRIDAY_9AM - minutes(60))


def change(client, meeting, **fields):
    data = {
        "venue": meeting.venue_id,
        "day": "2026-11-30",
        "start": "10:00",
        "end": "11:00",
        "purpose": "Coffee",
        **fields,
    }
    return client.post(f"/meetings/{meeting.pk}/change/", data)


def feed_event(client, people):
    """The meeting's event as a calendar app reads the buddy's feed."""
    token = CalendarFeed.objects.get_or_create(membership=people["buddy"])[0].token
    calendar = Calendar.from_ical(client.get(f"/calendar/{token}.ics").content)
    (event,) = calendar.walk("VEVENT")
    return event


class TestChange:
    def test_the_buddy_moves_their_meeting_and_a_new_watch_starts(self, client, people, meeting):
        traveller = as_buddy(client, people)
        page = client.get(f"/meetings/{meeting.pk}/change/")
        assert 'value="10:00"' in page.content.decode()
        assert "Who with" not in page.content.decode()  # the match is not theirs to change
        response = change(client, meeting, start="12:00", end="13:00")
        traveller.stop()
        assert response.status_code == 302 and response["Location"] == "/today/"
        moved = Meeting.objects.get(pk=meeting.pk)
        assert moved.planned_start == MONDAY_10AM + timedelta(hours=2)
        assert moved.cycle == meeting.cycle + 1
        # The missed check-in alert follows the new time, not the old one.
        assert moved.next_alert_at == MONDAY_10AM + timedelta(hours=2) + minutes(10)
        services.sweep(now=MONDAY_10AM + minutes(30))
        assert told("alert_missed_check_in") == []

    def test_the_booking_rules_still_apply_and_the_form_keeps_what_was_typed(
        self, client, people, meeting
    ):
        traveller = as_buddy(client, people)
        response = change(client, meeting, start="19:00", end="20:00", purpose="Film")
        traveller.stop()
        html = response.content.decode()
        assert "outside office hours and nobody is on call" in html
        assert 'value="19:00"' in html and 'value="Film"' in html
        assert Meeting.objects.get(pk=meeting.pk).planned_start == MONDAY_10AM

    def test_a_meeting_that_has_started_cannot_be_changed(self, client, people, meeting):
        services.meeting_check_in(meeting=meeting, key="in", by=None, now=MONDAY_10AM)
        traveller = as_buddy(client, people, MONDAY_10AM + minutes(5))
        page = client.get(f"/meetings/{meeting.pk}/change/", follow=True)
        posted = change(client, meeting, start="12:00", end="13:00")
        cancelled = client.post(f"/meetings/{meeting.pk}/cancel/", follow=True)
        traveller.stop()
        assert "has started or finished, so it cannot be changed" in page.content.decode()
        assert posted.status_code == 302
        assert "has started or finished" in cancelled.content.decode()
        assert Meeting.objects.get(pk=meeting.pk).state == MeetingState.CHECKED_IN

    def test_only_the_buddy_whose_meeting_it_is(self, client, people, meeting):
        other_buddy = cleared_buddy(people["buddy"].scheme, email="other@example.org")
        stranger = cleared_buddy(SchemeFactory(), email="stranger@example.org")
        with time_machine.travel(FRIDAY_9AM, tick=False):
            for member, status in (
                (other_buddy, 403),
                (stranger, 404),
                (people["coordinator"], 403),
            ):
                client.force_login(member.user)
                assert client.get(f"/meetings/{meeting.pk}/change/").status_code == status
                assert client.post(f"/meetings/{meeting.pk}/cancel/").status_code == status
                assert change(client, meeting, start="12:00", end="13:00").status_code == status
        assert Meeting.objects.get(pk=meeting.pk).state == MeetingState.PLANNED
        assert Meeting.objects.get(pk=meeting.pk).planned_start == MONDAY_10AM


class TestCancel:
    def test_the_coordinators_and_the_support_person_are_told(self, client, people, scheme):
        support = MembershipFactory(
            scheme=scheme, role=Role.COORDINATOR, user__email="support@example.org"
        )
        MembershipFactory(
            scheme=scheme,
            role=Role.COORDINATOR,
            is_active=False,
            user__email="gone@example.org",
        )
        meeting = book_meeting(people["buddy"], MONDAY_10AM, now=FRIDAY_9AM, support_person=support)
        traveller = as_buddy(client, people)
        response = client.post(f"/meetings/{meeting.pk}/cancel/", follow=True)
        traveller.stop()
        assert "Meeting cancelled. We have told your coordinator." in response.content.decode()
        meeting.refresh_from_db()
        assert (meeting.state, meeting.next_alert_at) == (MeetingState.CANCELLED, None)
        assert told("meeting_cancelled") == [
            "coord@example.org",
            "oncall@example.org",
            "support@example.org",
        ]

    def test_the_message_is_neutral(self, client, people, meeting):
        traveller = as_buddy(client, people)
        client.post(f"/meetings/{meeting.pk}/cancel/")
        traveller.stop()
        for message in Notification.objects.filter(template="meeting_cancelled"):
            subject, text, sms = rendered(message)
            assert subject == f"Appointment cancelled (ref {meeting.pk})"
            assert "10:00 on Monday 30 November" in text
            for secret in ("HIV", "Positive", "café", meeting.venue.name, "Coffee"):
                assert secret not in subject + text + sms
            assert len(sms) <= 160

    def test_a_coordinator_cancelling_tells_nobody(self, people, meeting):
        services.meeting_cancel(meeting=meeting, by=people["coordinator"].user, now=FRIDAY_9AM)
        assert told("meeting_cancelled") == []


class TestCalendar:
    def test_each_change_reaches_the_calendar_app(self, client, people, meeting):
        booked = feed_event(client, people)
        assert (booked["SEQUENCE"], booked.get("STATUS")) == (0, "CONFIRMED")
        assert booked.decoded("DTSTART") == MONDAY_10AM
        traveller = as_buddy(client, people, FRIDAY_9AM + minutes(30))
        change(client, meeting, start="12:00", end="13:30")
        traveller.stop()
        moved = feed_event(client, people)
        assert moved["UID"] == booked["UID"]
        assert moved["SEQUENCE"] == 1
        assert moved.decoded("DTSTAMP") == FRIDAY_9AM + minutes(30) > booked.decoded("DTSTAMP")
        assert moved.decoded("DTSTART") == MONDAY_10AM + timedelta(hours=2)
        assert moved.decoded("DTEND") == MONDAY_10AM + timedelta(hours=3, minutes=30)
        traveller = as_buddy(client, people, FRIDAY_9AM + minutes(45))
        client.post(f"/meetings/{meeting.pk}/cancel/")
        traveller.stop()
        cancelled = feed_event(client, people)
        assert cancelled["STATUS"] == "CANCELLED"
        assert cancelled["SEQUENCE"] == 2
        assert cancelled.decoded("DTSTAMP") == FRIDAY_9AM + minutes(45)

    def test_an_extension_moves_the_end_in_the_calendar(self, client, people, meeting):
        services.meeting_check_in(meeting=meeting, key="in", by=None, now=MONDAY_10AM)
        services.meeting_extend(
            meeting=meeting, minutes=30, key="more", by=None, now=MONDAY_10AM + minutes(50)
        )
        event = feed_event(client, people)
        assert event["SEQUENCE"] == 1
        assert event.decoded("DTEND") == MONDAY_10AM + minutes(90)
        assert event.decoded("DTSTAMP") == MONDAY_10AM + minutes(50)

    def test_a_coordinator_reschedule_counts_too(self, people, meeting):
        services.meeting_reschedule(
            meeting=meeting,
            venue=meeting.venue,
            planned_start=MONDAY_10AM + minutes(60),
            planned_end=MONDAY_10AM + minutes(120),
            purpose="Coffee",
            by=people["coordinator"].user,
            now=FRIDAY_9AM,
        )
        meeting.refresh_from_db()
        assert (meeting.sequence, meeting.updated_at) == (1, FRIDAY_9AM)


def test_the_cancellation_message_can_be_sent(people, meeting, mailoutbox):
    services.meeting_cancel(meeting=meeting, by=people["buddy"].user, now=FRIDAY_9AM)
    for message in Notification.objects.filter(template="meeting_cancelled"):
        assert notification_send(message, now=FRIDAY_9AM)
    assert len(mailoutbox) == 2


def test_today_offers_a_change_for_planned_meetings_only(client, people, meeting):
    later = book_meeting(people["buddy"], MONDAY_10AM + timedelta(days=1), now=FRIDAY_9AM)
    services.meeting_check_in(meeting=meeting, key="in", by=None, now=MONDAY_10AM)
    traveller = as_buddy(client, people, MONDAY_10AM + minutes(5))
    html = client.get("/today/").content.decode()
    traveller.stop()
    assert f'href="/meetings/{later.pk}/change/"' in html
    assert f'href="/meetings/{meeting.pk}/change/"' not in html
