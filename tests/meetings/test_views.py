from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from meetings import services
from meetings.models import Alert, Meeting, MeetingState, SafetyEvent

from ..base import PersonaTestCase
from ..factories import book_meeting, cleared_buddy, venue

UTC = ZoneInfo("UTC")
MONDAY_10AM = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


class TodayButtonsTest(PersonaTestCase):
    def setUp(self):
        self.buddy_member = cleared_buddy(self.scheme, email="phone.buddy@a.example")
        self.meeting = book_meeting(self.buddy_member, MONDAY_10AM)

    def at(self, moment, user=None):
        """Move the clock, then log in (a session started a week earlier would have expired)."""
        traveller = time_machine.travel(moment, tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)
        self.client.force_login(user or self.buddy_member.user)

    def _key(self, page, action):
        html = page.content.decode()
        marker = f'action="/meetings/{self.meeting.pk}/{action}/"'
        start = html.index(marker)
        key_at = html.index('name="key" value="', start) + len('name="key" value="')
        return html[key_at : html.index('"', key_at)]

    def test_check_in_extend_check_out_from_the_phone(self):
        self.at(MONDAY_10AM)
        page = self.client.get("/today/")
        self.assertContains(page, "I've arrived")
        key = self._key(page, "check-in")
        self.client.post(f"/meetings/{self.meeting.pk}/check-in/", {"key": key})
        self.client.post(
            f"/meetings/{self.meeting.pk}/check-in/", {"key": key}
        )  # flaky signal: sent twice
        self.assertEqual(SafetyEvent.objects.filter(kind="check_in").count(), 1)
        page = self.client.get("/today/")
        self.assertContains(page, "I've left safely")
        response = self.client.post(
            f"/meetings/{self.meeting.pk}/extend/",
            {"key": self._key(page, "extend"), "minutes": "30"},
            follow=True,
        )
        self.assertContains(response, "finish by 11:30")
        self.client.post(
            f"/meetings/{self.meeting.pk}/check-out/", {"key": self._key(page, "check-out")}
        )
        self.meeting.refresh_from_db()
        self.assertEqual(self.meeting.state, MeetingState.CHECKED_OUT)

    def test_help_needs_a_confirm_step(self):
        self.at(MONDAY_10AM)
        page = self.client.get(f"/meetings/{self.meeting.pk}/help/")
        self.assertContains(page, "Yes, send for help")
        self.assertFalse(Alert.objects.exists())
        html = page.content.decode()
        key_at = html.index('name="key" value="') + len('name="key" value="')
        response = self.client.post(
            f"/meetings/{self.meeting.pk}/help/", {"key": html[key_at : key_at + 32]}
        )
        self.assertContains(response, "We have told the on-call team")
        self.assertEqual(Alert.objects.get().level, 3)

    def test_another_buddy_cannot_press_my_buttons(self):
        self.at(MONDAY_10AM, user=self.buddy)
        response = self.client.post(f"/meetings/{self.meeting.pk}/check-in/", {"key": "abc"})
        self.assertEqual(response.status_code, 403)
        self.assertFalse(SafetyEvent.objects.exists())

    def test_only_the_meetings_own_buddy_presses_check_in_and_extend(self):
        """The lock reads the meeting only among the presser's own (services.OwnMeeting): for
        anyone else each button answers as the access helper does, and writes nothing."""
        other_scheme_buddy = cleared_buddy(self.other_scheme, email="b.buddy@b.example")
        elsewhere = book_meeting(other_scheme_buddy, MONDAY_10AM)
        for user, meeting, status in (
            (self.buddy, self.meeting, 403),  # another buddy of the scheme
            (self.coordinator, self.meeting, 404),  # coordinators use the board
            (self.buddy_member.user, elsewhere, 404),  # another scheme's meeting
        ):
            self.at(MONDAY_10AM, user=user)
            for action in ("check-in", "extend"):
                response = self.client.post(
                    f"/meetings/{meeting.pk}/{action}/",
                    {"key": f"{action}-{user.pk}", "minutes": "30"},
                )
                self.assertEqual(response.status_code, status, (user, action))
        self.assertFalse(SafetyEvent.objects.exists())
        self.assertEqual(
            set(Meeting.objects.values_list("state", flat=True)), {MeetingState.PLANNED}
        )
        # Its own buddy, through the same path: checked in, then extended.
        self.at(MONDAY_10AM)
        self.client.post(f"/meetings/{self.meeting.pk}/check-in/", {"key": "mine-1"})
        response = self.client.post(
            f"/meetings/{self.meeting.pk}/extend/", {"key": "mine-2", "minutes": "30"}, follow=True
        )
        self.assertContains(response, "finish by 11:30")


class BookingTest(PersonaTestCase):
    def setUp(self):
        self.buddy_member = cleared_buddy(self.scheme)
        self.place = venue(self.scheme)
        self.client.force_login(self.buddy_member.user)

    def test_book_in_local_time(self):
        with time_machine.travel(datetime(2026, 7, 1, 8, 0, tzinfo=UTC), tick=False):
            response = self.client.post(
                "/meetings/new/",
                {
                    "venue": self.place.pk,
                    "day": "2026-07-06",
                    "start": "10:00",
                    "end": "11:30",
                    "purpose": "Coffee",
                },
            )
        self.assertRedirects(response, "/today/", fetch_redirect_response=False)
        meeting = Meeting.objects.get()
        self.assertEqual(meeting.planned_start, datetime(2026, 7, 6, 9, 0, tzinfo=UTC))  # 10:00 BST

    def test_out_of_hours_is_explained_and_the_form_keeps_what_was_typed(self):
        with time_machine.travel(datetime(2026, 11, 23, 8, 0, tzinfo=UTC), tick=False):
            response = self.client.post(
                "/meetings/new/",
                {
                    "venue": self.place.pk,
                    "day": "2026-11-30",
                    "start": "19:00",
                    "end": "20:00",
                    "purpose": "Film",
                },
            )
        self.assertContains(response, "outside office hours and nobody is on call")
        self.assertContains(response, 'value="Film"')
        self.assertContains(response, 'value="19:00"')
        self.assertFalse(Meeting.objects.exists())


class BoardTest(PersonaTestCase):
    def _meetings(self, count):
        for _ in range(count):
            buddy = cleared_buddy(self.scheme)
            meeting = book_meeting(buddy, MONDAY_10AM)
            services.meeting_check_in(
                meeting=meeting, key=f"k{meeting.pk}", by=None, now=MONDAY_10AM
            )
        services.sweep(now=MONDAY_10AM + timedelta(minutes=75))

    def test_the_board_shows_alerts_and_they_can_be_acknowledged_and_resolved(self):
        self._meetings(2)
        with time_machine.travel(MONDAY_10AM + timedelta(minutes=75), tick=False):
            self.login_as("coordinator")
            page = self.client.get("/coordinator/board/")
            self.assertContains(page, 'hx-get="/coordinator/board/live/"')
            self.assertContains(page, "Overdue check-out", count=2)
            alert = Alert.objects.first()
            self.client.post(f"/coordinator/alerts/{alert.pk}/acknowledge/")
            alert.refresh_from_db()
            self.assertIsNotNone(alert.acknowledged_at)
            self.client.post(
                f"/coordinator/alerts/{alert.pk}/resolve/",
                {"outcome": "false_alarm", "notes": "AB fine"},
            )
            alert.refresh_from_db()
            self.assertEqual(alert.outcome, "false_alarm")
            self.assertContains(
                self.client.get("/coordinator/board/live/"), "Overdue check-out", count=1
            )

    def test_the_other_scheme_sees_nothing(self):
        self._meetings(1)
        self.login_as("other_coordinator")
        self.assertNotContains(self.client.get("/coordinator/board/live/"), "Overdue")
        alert = Alert.objects.get()
        self.assertEqual(
            self.client.post(f"/coordinator/alerts/{alert.pk}/acknowledge/").status_code, 404
        )

    def test_board_queries_stay_flat_as_meetings_grow(self):
        def count():
            with time_machine.travel(MONDAY_10AM + timedelta(minutes=75), tick=False):
                self.login_as("coordinator")
                with CaptureQueriesContext(connection) as queries:
                    self.assertContains(
                        self.client.get("/coordinator/board/live/"), "Overdue check-out"
                    )
            return len(queries)

        self._meetings(2)
        few = count()
        self._meetings(10)
        self.assertEqual(count(), few)
        # Exactly: TOTP enrolled?, the safety net's heartbeat, open alerts (with their total),
        # the positions sent with them, meetings checked in, meetings planned now (each with
        # "has an open alert?"), the counts (checked in; planned, from the index alone), and
        # texts failing. The session, the user and their memberships come from the cache
        # (the idle expiry is refreshed at most once a minute).
        self.assertEqual(few, 9)


class CalendarTest(PersonaTestCase):
    def test_the_feed_is_neutral_and_the_address_can_be_reset(self):
        buddy = cleared_buddy(self.scheme)
        book_meeting(buddy, MONDAY_10AM, place=venue(self.scheme, name="Secret clinic room"))
        self.client.force_login(buddy.user)
        self.client.post("/calendar/address/")
        token = buddy.calendar_feed.token
        feed = self.client.get(f"/calendar/{token}.ics")
        self.assertEqual(feed["Content-Type"], "text/calendar; charset=utf-8")
        body = feed.content.decode()
        self.assertIn("SUMMARY:Appointment", body)
        self.assertNotIn("clinic", body)
        self.client.post("/calendar/reset/")
        self.assertEqual(self.client.get(f"/calendar/{token}.ics").status_code, 404)

    def test_today_makes_nothing_until_the_buddy_asks_for_an_address(self):
        from buddyscheme.models import AuditEvent
        from meetings.models import CalendarFeed

        from ..base import assert_audited

        self.login_as("buddy")
        page = self.client.get("/today/")
        self.assertFalse(CalendarFeed.objects.exists())
        self.assertContains(page, "Get my calendar address")
        self.assertContains(page, 'action="/calendar/address/"')
        self.assertEqual(self.client.get("/calendar/address/").status_code, 405)
        response = self.client.post("/calendar/address/")
        self.assertRedirects(response, "/today/?show=calendar#calendar")
        self.assertContains(
            self.client.get(response["Location"]), '<details class="mt-4" id="calendar" open>'
        )
        feed = CalendarFeed.objects.get(membership=self.buddy_membership)
        assert_audited(verb="calendar_feed_create", obj=feed, actor=self.buddy, scheme=self.scheme)
        self.client.post("/calendar/address/")  # a second tap keeps the same address
        self.assertEqual(CalendarFeed.objects.get().token, feed.token)
        self.assertEqual(AuditEvent.objects.filter(verb="calendar_feed_create").count(), 1)
        page = self.client.get("/today/")
        self.assertContains(page, f"/calendar/{feed.token}.ics")
        self.assertNotContains(page, "Get my calendar address")
        self.assertEqual(self.client.get("/calendar/reset/").status_code, 405)
        self.client.post("/calendar/reset/")
        new = CalendarFeed.objects.get()
        self.assertNotEqual(new.token, feed.token)
        assert_audited(verb="calendar_feed_reset", obj=new, actor=self.buddy, scheme=self.scheme)


class CoordinatorEditTest(PersonaTestCase):
    def test_cancel_a_planned_meeting(self):
        meeting = book_meeting(cleared_buddy(self.scheme), MONDAY_10AM)
        with time_machine.travel(MONDAY_10AM - timedelta(hours=2), tick=False):
            self.login_as("coordinator")
            self.assertContains(
                self.client.get(f"/coordinator/meetings/{meeting.pk}/"), "Cancel this meeting"
            )
            self.client.post(f"/coordinator/meetings/{meeting.pk}/", {"action": "cancel"})
        meeting.refresh_from_db()
        self.assertEqual((meeting.state, meeting.next_alert_at), (MeetingState.CANCELLED, None))


class ExtensionCoverTest(PersonaTestCase):
    def test_extending_past_cover_tells_the_buddy(self):
        buddy = cleared_buddy(self.scheme, email="late.buddy@a.example")
        start = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)
        settings = services.lone_working(self.scheme)
        type(settings).objects.filter(pk=settings.pk).update(max_extension_minutes=0)
        meeting = book_meeting(buddy, start)
        type(settings).objects.filter(pk=settings.pk).update(max_extension_minutes=120)
        services.meeting_check_in(meeting=meeting, key="in", by=None, now=start)
        with time_machine.travel(start + timedelta(minutes=50), tick=False):
            self.client.force_login(buddy.user)
            early = self.client.post(
                f"/meetings/{meeting.pk}/extend/", {"key": "k1", "minutes": "15"}, follow=True
            )
            self.assertNotContains(early, "Nobody from the team is on call")
            late = self.client.post(
                f"/meetings/{meeting.pk}/extend/", {"key": "k2", "minutes": "60"}, follow=True
            )
        self.assertContains(late, "finish by 16:45")
        self.assertContains(late, "Nobody from the team is on call for all of that time")
