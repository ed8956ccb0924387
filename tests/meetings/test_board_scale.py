"""The live board is one screenful however large the scheme (issue 20): open alerts first, then
meetings now (most overdue first), counts for the rest, each behind a paged list."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from buddyscheme.models import Role
from meetings import selectors
from meetings.board import board_forget
from meetings.models import Alert, Meeting, MeetingState

from ..base import PersonaTestCase
from ..factories import MembershipFactory, venue

UTC = ZoneInfo("UTC")
NOW = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # 14:00 in London (GMT): ten hours of today left
LIVE = "/coordinator/board/live/"
LIST = "/coordinator/board/list/"


class ScaleData(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.buddies = [
            MembershipFactory(scheme=cls.scheme, role=Role.BUDDY, user__first_name=f"Bud{n}")
            for n in range(10)
        ]
        cls.place = venue(cls.scheme, name="Bench café")

    def meeting(self, number, state, start, **kwargs):
        end = start + timedelta(hours=1)
        return Meeting(
            scheme=self.scheme,
            buddy=self.buddies[number % len(self.buddies)],
            venue=self.place,
            purpose="Coffee",
            planned_start=start,
            planned_end=end,
            expected_end=end,
            state=state,
            checked_in_at=start if state == MeetingState.CHECKED_IN else None,
            **kwargs,
        )

    def in_progress(self, count, offset=0):
        """`count` meetings checked in over the last 50 minutes (as `make bench` makes them)."""
        return Meeting.objects.bulk_create(
            self.meeting(n, MeetingState.CHECKED_IN, NOW - timedelta(minutes=(offset + n) % 50))
            for n in range(count)
        )

    def planned(self, count, start):
        Meeting.objects.bulk_create(
            self.meeting(n, MeetingState.PLANNED, start) for n in range(count)
        )

    def alerts(self, meetings, level=1):
        Alert.objects.bulk_create(
            Alert(meeting=m, level=level, reason="overdue", due_at=NOW - timedelta(minutes=5))
            for m in meetings
        )

    def poll(self):
        # The rows here are bulk-created (no save signals), so the kept board is forgotten as
        # the services' own bulk updates do (meetings/board.py).
        board_forget(self.scheme.pk)
        with time_machine.travel(NOW, tick=False):
            self.login_as("coordinator")
            with CaptureQueriesContext(connection) as queries:
                response = self.client.get(LIVE)
        self.assertEqual(response.status_code, 200)
        return response.content.decode(), len(queries)


class BoardAtScaleTest(ScaleData):
    def test_200_in_progress_and_40000_planned_is_one_poll_under_100_kb_in_fixed_queries(self):
        self.planned(40_000, NOW + timedelta(minutes=5))
        ten = self.in_progress(10)
        self.alerts(ten[:3])
        page, few = self.poll()
        self.assertIn("Starting within the hour: 40000", page)
        self.assertIn("In progress: 10", page)
        self.in_progress(190, offset=10)
        page, many = self.poll()
        # (user and membership: cached at login) TOTP enrolled?, the safety net's heartbeat, open alerts with their total, the
        # positions sent with them, meetings checked in, meetings planned now, the counts of
        # those checked in, the counts of those planned (from the index alone), texts failing:
        # the same with 10 or 200 in progress and 40,000 planned.
        self.assertEqual(many, few)
        self.assertEqual(many, 9)
        size = len(page.encode())
        self.assertLessEqual(size, 100_000, f"the board poll is {size} bytes")
        self.assertIn("In progress: 200", page)
        self.assertIn("Meetings now (40200)", page)
        self.assertEqual(page.count("<tr"), 1 + selectors.BOARD_ROWS)  # the header, 50 rows
        self.assertIn("40150 more meetings now", page)
        self.assertNotIn("Starts ", page)  # every row shown is a meeting in progress

    def test_many_alerts_show_the_most_urgent_cards_and_count_the_rest(self):
        meetings = self.in_progress(30)
        self.alerts(meetings[:25])
        self.alerts(meetings[25:26], level=2)
        page, _ = self.poll()
        self.assertIn("Open alerts (26)", page)
        self.assertEqual(page.count('class="card mb-2'), selectors.BOARD_ALERTS)
        self.assertIn("16 more open alerts: see them all", page)
        first_card = page.index('class="card mb-2')
        self.assertIn(f'id="alert-{meetings[25].alerts.get().pk}"', page[first_card:][:300])
        self.assertLessEqual(len(page.encode()), 100_000)
        listed = self.client.get(LIST, {"show": "alerts"})
        self.assertContains(listed, "26 alerts")
        self.assertContains(listed, "Level 2: Overdue check-out", count=1)
        self.assertContains(listed, "Level 1: Overdue check-out", count=25)

    def test_overdue_first_then_in_progress_then_those_due_and_counts_for_the_rest(self):
        late = self.meeting(0, MeetingState.CHECKED_IN, NOW - timedelta(minutes=90))
        late.save()  # its hour ended 30 minutes ago
        self.in_progress(3)
        self.planned(2, NOW - timedelta(minutes=10))  # due ten minutes ago, not arrived
        self.planned(4, NOW + timedelta(minutes=30))
        self.planned(5, NOW + timedelta(hours=3))  # 17:00: later today
        self.planned(6, NOW + timedelta(hours=11))  # 01:00 tomorrow: not today
        Meeting.objects.bulk_create(
            [self.meeting(1, MeetingState.CHECKED_OUT, NOW - timedelta(hours=2))]
        )
        with time_machine.travel(NOW, tick=False):
            board = selectors.board(self.scheme)
        counts = board.counts
        self.assertEqual(
            (
                counts.overdue,
                counts.in_progress,
                counts.not_arrived,
                counts.starting_soon,
                counts.later_today,
            ),
            (1, 4, 2, 4, 5),
        )
        self.assertEqual(board.rows[0], late)
        states = [row.state for row in board.rows]
        self.assertEqual(states, ["checked_in"] * 4 + ["planned"] * 6)
        self.assertEqual(board.rows_more, 0)
        with time_machine.travel(NOW, tick=False):
            listed = list(selectors.board_list(self.scheme, "now"))
        self.assertEqual(listed, board.rows)  # the list behind "N more" keeps the order
        page, _ = self.poll()
        self.assertIn("In progress, past its end", page)
        self.assertIn("Not arrived yet (due 13:50)", page)
        self.assertIn("Starts 14:30", page)
        self.assertIn("Later today: 5", page)
        self.assertNotIn("17:00", page)  # later today is a count, not rows

    def test_the_lists_behind_the_counts_go_a_page_at_a_time(self):
        self.planned(120, NOW + timedelta(hours=3))
        self.in_progress(2)
        with time_machine.travel(NOW, tick=False):
            self.login_as("coordinator")
            first = self.client.get(LIST, {"show": "later_today"})
            self.assertContains(first, "120 meetings")
            self.assertContains(first, "page 1 of 3")
            self.assertContains(first, "Starts 17:00", count=selectors.BOARD_LIST_PAGE)
            self.assertContains(first, 'href="?show=later_today&amp;page=2"')
            last = self.client.get(LIST, {"show": "later_today", "page": "3"})
            self.assertContains(last, "Starts 17:00", count=20)
            # Nonsense pages fall back to a real page; an unknown list is not found.
            for nonsense in ("x", "-1", "99999999999999999999"):
                self.assertEqual(
                    self.client.get(LIST, {"show": "later_today", "page": nonsense}).status_code,
                    200,
                )
            self.assertEqual(self.client.get(LIST, {"show": "everything"}).status_code, 404)
            self.assertContains(self.client.get(LIST), "2 meetings")  # "now" by default
            self.login_as("other_coordinator")
            other = self.client.get(LIST, {"show": "later_today"})
            self.assertContains(other, "0 meetings")
            self.assertNotContains(other, "Bench café")
            self.login_as("buddy")
            self.assertEqual(self.client.get(LIST).status_code, 403)


class CheckInCostTest(ScaleData):
    """A check-in POST costs the same few queries however many meetings the scheme has."""

    def check_in(self, meeting, key):
        with (
            time_machine.travel(NOW, tick=False),
            CaptureQueriesContext(connection) as queries,
        ):
            response = self.client.post(f"/meetings/{meeting.pk}/check-in/", {"key": key})
        self.assertEqual(response.status_code, 302)
        meeting.refresh_from_db()
        self.assertEqual(meeting.state, MeetingState.CHECKED_IN)
        return [q["sql"] for q in queries]

    def test_check_in_queries_stay_flat_as_meetings_grow(self):
        mine = [self.meeting(0, MeetingState.PLANNED, NOW + timedelta(minutes=5)) for _ in range(4)]
        for meeting in mine:
            meeting.save()
        with time_machine.travel(NOW, tick=False):
            self.client.force_login(self.buddies[0].user)
        self.check_in(mine[0], "key-0")  # the first: anything cached on first use
        few = self.check_in(mine[1], "key-1")
        self.planned(2_000, NOW + timedelta(minutes=5))
        self.in_progress(200)
        many = self.check_in(mine[2], "key-2")
        self.assertEqual(len(many), len(few), (few, many))
        # One transaction (a savepoint inside the test's): the meeting's own row locked, read
        # only among the buddy's own meetings in their scheme (the access check and the lock
        # are one query), with whether it has an open alert; the event under its key (one
        # INSERT … ON CONFLICT DO NOTHING, no savepoint of its own); the meeting's new state.
        # No user or membership read, no separate access read, no alert lookup (none open).
        self.assertEqual(len(few), 5, few)
        if connection.features.has_select_for_update:
            self.assertIn("FOR UPDATE", few[1])
        self.assertIn(f'"meetings_meeting"."buddy_id" = {self.buddies[0].pk}', few[1])
        self.assertIn("ON CONFLICT", few[2])
        self.assertFalse([sql for sql in few if sql.startswith('SELECT "meetings_alert"')])
        # A late arrival with an open alert still has it closed.
        late = mine[3]
        Alert.objects.create(meeting=late, level=1, reason="missed_check_in", due_at=NOW)
        self.check_in(late, "key-3")
        self.assertIsNotNone(Alert.objects.get(meeting=late).resolved_at)
