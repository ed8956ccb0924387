"""The live board's body is kept per scheme between polls (meetings/board.py): a poll with
nothing changed reads no table, any change to the scheme's meetings or alerts shows on the next
poll, what time alone changes shows within BOARD_SECONDS, and nothing one coordinator was
given (their CSRF token) reaches another."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from buddyscheme.models import Role
from meetings import services
from meetings.board import BOARD_SECONDS, CSRF_PLACEHOLDER
from meetings.models import Alert, Meeting, MeetingState

from ..base import PersonaTestCase
from ..factories import MembershipFactory, book_meeting, cleared_buddy, enrol_totp

UTC = ZoneInfo("UTC")
MONDAY_10AM = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
LIVE = "/coordinator/board/live/"


class BoardKeptTest(PersonaTestCase):
    def setUp(self):
        self.walker = cleared_buddy(self.scheme, email="walker.buddy@a.example")
        self.walk = book_meeting(self.walker, MONDAY_10AM)

    def poll(self, client=None, at=MONDAY_10AM, user=None):
        """The board as `user` (the scheme's coordinator) sees it at `at`, signed in then (a
        session signed in days earlier has expired)."""
        client = client or self.client
        with time_machine.travel(at, tick=False):
            client.force_login(user or self.coordinator)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(LIVE)
        self.assertEqual(response.status_code, 200)
        return response.content.decode(), len(queries)

    def test_a_poll_with_nothing_changed_reads_no_board_table(self):
        first, built = self.poll()
        with (
            time_machine.travel(MONDAY_10AM, tick=False),
            CaptureQueriesContext(connection) as queries,
        ):
            again = self.client.get(LIVE).content.decode()
        # Only the MFA middleware's "has a TOTP?" (MFA is required of coordinators here, not in
        # the bench): no meeting, alert, outbox or heartbeat read.
        kept = [q["sql"] for q in queries.captured_queries if "mfa_authenticator" not in q["sql"]]
        self.assertGreaterEqual(built, 5)
        self.assertEqual(kept, [])
        self.assertEqual(again, first)

    def test_a_check_in_shows_on_the_very_next_poll(self):
        before, _ = self.poll()
        self.assertIn("In progress: 0", before)
        buddy = Client()
        with time_machine.travel(MONDAY_10AM, tick=False):
            buddy.force_login(self.walker.user)
            response = buddy.post(f"/meetings/{self.walk.pk}/check-in/", {"key": "walk-in"})
        self.assertEqual(response.status_code, 302)
        self.walk.refresh_from_db()
        self.assertEqual(self.walk.state, MeetingState.CHECKED_IN)
        after, _ = self.poll()
        self.assertIn("In progress: 1", after)
        # …and the check-out likewise.
        with time_machine.travel(MONDAY_10AM + timedelta(minutes=30), tick=False):
            services.meeting_check_out(meeting=self.walk, key="walk-out", by=self.walker.user)
        later, _ = self.poll(at=MONDAY_10AM + timedelta(minutes=30))
        self.assertIn("In progress: 0", later)

    def test_alerts_raised_acknowledged_and_resolved_show_on_the_next_poll(self):
        services.meeting_check_in(meeting=self.walk, key="walk-in", by=None, now=MONDAY_10AM)
        overdue = MONDAY_10AM + timedelta(minutes=75)
        quiet, _ = self.poll(at=overdue - timedelta(minutes=1))
        self.assertIn("Open alerts (0)", quiet)
        services.sweep(now=overdue)  # the sweep raises the alert (no request in between)
        raised, _ = self.poll(at=overdue)
        self.assertIn("Open alerts (1)", raised)
        alert = Alert.objects.get()
        with time_machine.travel(overdue, tick=False):
            self.client.post(f"/coordinator/alerts/{alert.pk}/acknowledge/")
        acknowledged, _ = self.poll(at=overdue)
        self.assertIn("acknowledged by", acknowledged)
        self.assertNotIn(">Acknowledge</button>", acknowledged)
        with time_machine.travel(overdue, tick=False):
            self.client.post(
                f"/coordinator/alerts/{alert.pk}/resolve/", {"outcome": "safe", "notes": "WB ok"}
            )
        resolved, _ = self.poll(at=overdue)
        self.assertIn("Open alerts (0)", resolved)

    def test_a_missed_or_cancelled_meeting_leaves_the_board_on_the_next_poll(self):
        # Its missed check-in alert was dealt with (nothing the board shows changes)…
        Meeting.objects.filter(pk=self.walk.pk).update(next_alert_at=None)
        waiting, _ = self.poll(at=MONDAY_10AM + timedelta(minutes=20))
        self.assertIn("Not arrived yet: 1", waiting)
        # …then the sweep marks it missed in one bulk UPDATE.
        self.assertEqual(services.mark_missed(now=MONDAY_10AM + timedelta(hours=3)), 1)
        gone, _ = self.poll(at=MONDAY_10AM + timedelta(minutes=20))
        self.assertIn("Not arrived yet: 0", gone)
        later = book_meeting(self.walker, MONDAY_10AM + timedelta(minutes=30))
        soon, _ = self.poll()
        self.assertIn("Starting within the hour: 1", soon)
        services.meeting_cancel(meeting=later, by=None, now=MONDAY_10AM)
        cancelled, _ = self.poll()
        self.assertIn("Starting within the hour: 0", cancelled)

    def test_what_time_alone_changes_shows_within_the_kept_seconds(self):
        services.meeting_check_in(meeting=self.walk, key="walk-in", by=None, now=MONDAY_10AM)
        end = self.walk.expected_end
        before, _ = self.poll(at=end - timedelta(seconds=1))
        self.assertIn("Past their expected end: 0", before)
        after, _ = self.poll(at=end + timedelta(seconds=BOARD_SECONDS + 1))
        self.assertIn("Past their expected end: 1", after)

    def test_each_coordinator_gets_their_own_csrf_token_and_it_works(self):
        services.meeting_check_in(meeting=self.walk, key="walk-in", by=None, now=MONDAY_10AM)
        overdue = MONDAY_10AM + timedelta(minutes=75)
        services.sweep(now=overdue)
        alert = Alert.objects.get()
        second = MembershipFactory(
            scheme=self.scheme, role=Role.COORDINATOR, user__email="second.coordinator@a.example"
        ).user
        enrol_totp(second)
        pages = {}
        for user in (self.coordinator, second):
            client = Client(enforce_csrf_checks=True)
            page, _ = self.poll(client, at=overdue, user=user)
            self.assertNotIn(CSRF_PLACEHOLDER, page)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
            pages[user.pk] = (client, token)
        (first_client, first_token), (second_client, second_token) = pages.values()
        self.assertNotEqual(first_token, second_token)
        # The second coordinator's token from the kept page is theirs: Acknowledge goes through.
        with time_machine.travel(overdue, tick=False):
            response = second_client.post(
                f"/coordinator/alerts/{alert.pk}/acknowledge/",
                {"csrfmiddlewaretoken": second_token},
            )
        self.assertEqual(response.status_code, 302)
        alert.refresh_from_db()
        self.assertEqual(alert.acknowledged_by, second)

    def test_another_scheme_never_sees_this_schemes_kept_board(self):
        services.meeting_check_in(meeting=self.walk, key="walk-in", by=None, now=MONDAY_10AM)
        mine, _ = self.poll()
        self.assertIn("In progress: 1", mine)
        theirs, _ = self.poll(Client(), user=self.other_coordinator)
        self.assertIn("In progress: 0", theirs)
        self.assertNotIn("walker", theirs.lower())
