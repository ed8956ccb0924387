"""Today shows a buddy's next few meetings, however many they have (issue 20: 2.9 MB with
40,000), those checked in always first; the rest are a page at a time under "All my meetings"."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from meetings import selectors
from meetings.models import Meeting, MeetingState

from ..base import PersonaTestCase
from ..factories import venue

UTC = ZoneInfo("UTC")
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # 09:00 in London, a Monday


class TodayBoundedTest(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.place = venue(cls.scheme, name="Riverside library")

    def add(self, count, start, state=MeetingState.PLANNED, step=timedelta(minutes=20)):
        Meeting.objects.bulk_create(
            Meeting(
                scheme=self.scheme,
                buddy=self.buddy_membership,
                venue=self.place,
                purpose="Coffee",
                planned_start=start + n * step,
                planned_end=start + n * step + timedelta(hours=1),
                expected_end=start + n * step + timedelta(hours=1),
                state=state,
                checked_in_at=start if state == MeetingState.CHECKED_IN else None,
            )
            for n in range(count)
        )

    def today(self):
        with time_machine.travel(NOW, tick=False):
            self.client.force_login(self.buddy)
            with CaptureQueriesContext(connection) as queries:
                response = self.client.get("/today/")
        self.assertEqual(response.status_code, 200)
        return response.content.decode(), len(queries)

    def test_a_few_meetings_then_see_all_with_queries_flat_as_meetings_grow(self):
        self.add(5, NOW + timedelta(hours=1))
        self.today()  # the first: anything kept on first use
        page, few = self.today()
        self.assertNotIn("See all your meetings", page)
        self.assertEqual(page.count("Riverside library"), 5)
        self.add(2_000, NOW + timedelta(hours=2), step=timedelta(minutes=1))
        page, many = self.today()
        self.assertEqual(many, few)
        self.assertEqual(page.count("Riverside library"), selectors.TODAY_SHOWN)
        self.assertIn("See all your meetings", page)
        self.assertLess(len(page.encode()), 200_000)

    def test_meetings_checked_in_are_always_shown_with_their_check_out_button(self):
        self.add(40, NOW + timedelta(minutes=30), step=timedelta(minutes=1))
        # Checked in to one that was planned after all of them (checked in early, say): by
        # start alone it would be left out, and with it the check-out button.
        self.add(1, NOW + timedelta(hours=2), state=MeetingState.CHECKED_IN)
        page, _ = self.today()
        self.assertEqual(page.count("Riverside library"), selectors.TODAY_SHOWN)
        checked_in = Meeting.objects.get(state=MeetingState.CHECKED_IN)
        self.assertIn(f'action="/meetings/{checked_in.pk}/check-out/"', page)
        with time_machine.travel(NOW, tick=False):
            shown = selectors.meetings_for_buddy_today(self.buddy_membership)
        starts = [meeting.planned_start for meeting in shown.today]
        self.assertEqual(starts, sorted(starts))  # still in time order on the page
        self.assertTrue(shown.more)

    def test_all_my_meetings_go_a_page_at_a_time(self):
        self.add(60, NOW + timedelta(hours=1))
        Meeting.objects.filter(pk=Meeting.objects.order_by("pk")[0].pk).update(
            planned_start=NOW - timedelta(days=3),
            planned_end=NOW - timedelta(days=3, minutes=-60),
            expected_end=NOW - timedelta(days=3, minutes=-60),
        )  # long past: not to come
        with time_machine.travel(NOW, tick=False):
            self.client.force_login(self.buddy)
            first = self.client.get("/me/meetings/")
            self.assertContains(first, "59 still to come")
            self.assertContains(first, "page 1 of 3")
            self.assertContains(first, "Riverside library", count=selectors.MY_MEETINGS_PAGE)
            last = self.client.get("/me/meetings/", {"page": "3"})
            self.assertContains(last, "Riverside library", count=9)
            self.assertEqual(self.client.get("/me/meetings/", {"page": "x"}).status_code, 200)
            # Another buddy's list has none of them.
            self.client.force_login(self.coordinator)
            self.assertContains(self.client.get("/me/meetings/"), "0 still to come")

    def test_the_today_page_links_to_all_my_meetings_only_when_some_are_left_out(self):
        self.add(selectors.TODAY_SHOWN, NOW + timedelta(hours=1))
        page, _ = self.today()
        self.assertFalse(re.search(r"See all your meetings", page))
        self.add(1, NOW + timedelta(days=2))
        page, _ = self.today()
        self.assertIn('href="/me/meetings/"', page)
