"""Meetings across the two clock changes (Europe/London): a time that does not exist is refused,
a time that happens twice is asked about, and every duration, reminder, overdue moment and
escalation is counted in absolute time. Time is moved, never slept."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from buddyscheme.errors import DomainError
from buddyscheme.localtime import LocalTimeProblem, local_to_utc
from buddyscheme.models import Notification, Role
from meetings import services
from meetings.forms import MeetingForm
from meetings.models import Meeting, OnCallShift

from ..base import PersonaTestCase
from ..factories import MembershipFactory, SchemeFactory, cleared_buddy, venue

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
LONDON = ZoneInfo("Europe/London")
SPRING = date(2027, 3, 28)  # 01:00 GMT becomes 02:00 BST: 01:00-01:59 does not exist
AUTUMN = date(2027, 10, 31)  # 02:00 BST becomes 01:00 GMT: 01:00-01:59 happens twice
S = timedelta(seconds=1)


def minutes(n):
    return timedelta(minutes=n)


@pytest.fixture
def scheme():
    return SchemeFactory(name="Scheme A", sender_name="Appointments")


@pytest.fixture
def buddy(scheme):
    # The night is out of hours: someone is on call for both weekends.
    on_call = MembershipFactory(scheme=scheme, role=Role.COORDINATOR, is_on_call=True)
    for day in (SPRING, AUTUMN):
        night = datetime.combine(day, time(0), UTC) - timedelta(hours=6)
        OnCallShift.objects.create(
            scheme=scheme, responder=on_call, starts_at=night, ends_at=night + timedelta(hours=18)
        )
    return cleared_buddy(scheme, email="buddy@example.org")


def form(scheme, buddy, day, start, end, **extra):
    data = {"venue": venue(scheme).pk, "day": day, "start": start, "end": end}
    return MeetingForm({**data, "purpose": "Coffee", **extra}, scheme=scheme, buddy=buddy)


class TestTypedTimes:
    def test_a_time_in_the_missing_hour_is_refused_with_a_clear_message(self, scheme, buddy):
        typed = form(scheme, buddy, SPRING, "01:30", "02:30")
        assert not typed.is_valid()
        assert typed.errors["start"] == [
            "There is no 01:30 on 28 March 2027: the clocks go forward an hour that night. "
            "Choose a time before or after the missing hour."
        ]
        # 01:00 itself is gone too (it used to be stored as a 30-minute meeting to 02:30).
        assert "start" in form(scheme, buddy, SPRING, "01:00", "02:30").errors

    def test_a_meeting_across_the_missing_hour_lasts_its_real_length(self, scheme, buddy):
        typed = form(scheme, buddy, SPRING, "00:30", "02:30")
        assert typed.is_valid(), typed.errors
        assert typed.cleaned_data["planned_end"] - typed.cleaned_data["planned_start"] == minutes(
            60
        )

    def test_a_time_that_happens_twice_is_asked_about(self, scheme, buddy):
        typed = form(scheme, buddy, AUTUMN, "01:30", "03:00")
        assert not typed.is_valid()
        assert "happens twice" in typed.errors["start_which"][0]
        assert [field.name for field in typed.visible_fields()].count("start_which") == 1
        assert "end_which" not in [field.name for field in typed.visible_fields()]

        first = form(scheme, buddy, AUTUMN, "01:30", "03:00", start_which="first")
        second = form(scheme, buddy, AUTUMN, "01:30", "03:00", start_which="second")
        assert first.is_valid() and second.is_valid()
        assert first.cleaned_data["planned_start"] == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
        assert second.cleaned_data["planned_start"] == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)

    def test_the_helper_says_which_instants_a_wall_clock_time_can_be(self):
        assert local_to_utc(SPRING, time(2, 0), LONDON) == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
        with pytest.raises(LocalTimeProblem) as problem:
            local_to_utc(AUTUMN, time(1, 0), LONDON)
        assert problem.value.ambiguous


class TestRulesInAbsoluteTime:
    def book(self, buddy, start, end):
        return services.meeting_book(
            buddy=buddy,
            venue=venue(buddy.scheme),
            planned_start=start,
            planned_end=end,
            purpose="Coffee",
            by=None,
            now=start - timedelta(hours=2),
        )

    def test_the_eight_hour_limit_counts_real_hours(self, buddy):
        # 23:00 to 06:30 on the autumn night: 7½ hours on the clock, 8½ in fact.
        with pytest.raises(DomainError, match="at most 8 hours"):
            self.book(
                buddy,
                datetime(2027, 10, 30, 23, 0, tzinfo=LONDON),
                datetime(2027, 10, 31, 6, 30, tzinfo=LONDON),
            )
        # 22:00 to 06:30 on the spring night: 8½ hours on the clock, 7½ in fact.
        meeting = self.book(
            buddy,
            datetime(2027, 3, 27, 22, 0, tzinfo=LONDON),
            datetime(2027, 3, 28, 6, 30, tzinfo=LONDON),
        )
        assert meeting.planned_end - meeting.planned_start == timedelta(hours=7, minutes=30)

    def test_two_wall_clock_times_that_are_one_instant_do_not_give_a_500(self, buddy):
        # 01:30 GMT (which never shows on a London clock) and 02:30 BST are the same instant.
        with pytest.raises(DomainError, match="must end after it starts"):
            self.book(
                buddy,
                datetime(2027, 3, 28, 1, 30, tzinfo=LONDON),
                datetime(2027, 3, 28, 2, 30, tzinfo=LONDON),
            )
        assert not Meeting.objects.exists()

    def test_spring_reminder_overdue_and_escalation_at_the_right_instants(self, buddy):
        # 02:15 BST (01:15 UTC) to 02:45 BST. Thirty minutes before is 00:45 GMT, not 01:45.
        meeting = self.book(
            buddy,
            datetime(2027, 3, 28, 2, 15, tzinfo=LONDON),
            datetime(2027, 3, 28, 2, 45, tzinfo=LONDON),
        )
        meeting.refresh_from_db()
        assert meeting.next_reminder_at == datetime(2027, 3, 28, 0, 45, tzinfo=UTC)
        services.sweep(now=datetime(2027, 3, 28, 0, 45, tzinfo=UTC) - S)
        assert not Notification.objects.filter(template="reminder_before").exists()
        services.sweep(now=datetime(2027, 3, 28, 0, 45, tzinfo=UTC))
        assert Notification.objects.filter(template="reminder_before").exists()
        self._escalates(meeting, check_in_at=datetime(2027, 3, 28, 1, 15, tzinfo=UTC))

    def test_autumn_reminder_overdue_and_escalation_at_the_right_instants(self, buddy):
        # The first 01:20 (BST, 00:20 UTC) to the second 01:10 (GMT, 01:10 UTC): 50 minutes.
        start = local_to_utc(AUTUMN, time(1, 20), LONDON, "first")
        end = local_to_utc(AUTUMN, time(1, 10), LONDON, "second")
        meeting = self.book(buddy, start, end)
        meeting.refresh_from_db()
        assert meeting.planned_end - meeting.planned_start == minutes(50)
        assert meeting.next_reminder_at == datetime(2027, 10, 30, 23, 50, tzinfo=UTC)
        self._escalates(meeting, check_in_at=start)

    def _escalates(self, meeting, check_in_at):
        services.meeting_check_in(meeting=meeting, key="in", by=None, now=check_in_at)
        overdue = meeting.planned_end + minutes(10)  # the default grace
        for level, at in ((1, overdue), (2, overdue + minutes(10)), (3, overdue + minutes(20))):
            services.sweep(now=at - S)
            assert meeting.alerts.filter(level=level).count() == 0, level
            services.sweep(now=at)
            assert meeting.alerts.filter(level=level).count() == 1, level


class ClockChangeViewTest(PersonaTestCase):
    """Through the phone form: a clear message, what was typed kept, never a 500."""

    def setUp(self):
        self.buddy_member = cleared_buddy(self.scheme, email="phone.buddy@a.example")
        self.place = venue(self.scheme)
        traveller = time_machine.travel(datetime(2027, 3, 20, 12, 0, tzinfo=UTC), tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)
        self.client.force_login(self.buddy_member.user)

    def test_the_missing_hour_is_explained_and_the_form_kept(self):
        response = self.client.post(
            "/meetings/new/",
            {
                "venue": self.place.pk,
                "day": "2027-03-28",
                "start": "01:30",
                "end": "02:30",
                "purpose": "Coffee",
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "There is no 01:30 on 28 March 2027")
        self.assertContains(response, 'value="02:30"')
        self.assertFalse(Meeting.objects.exists())

    def test_a_time_that_happens_twice_asks_then_books_the_one_chosen(self):
        data = {
            "venue": self.place.pk,
            "day": "2027-10-31",
            "start": "09:00",
            "end": "10:00",
            "purpose": "Coffee",
        }
        # 31 October 2027 is a Sunday: out of hours, so someone is on call.
        OnCallShift.objects.create(
            scheme=self.scheme,
            responder=self.coordinator_membership,
            starts_at=datetime(2027, 10, 30, 20, 0, tzinfo=UTC),
            ends_at=datetime(2027, 10, 31, 8, 0, tzinfo=UTC),
        )
        asked = self.client.post("/meetings/new/", {**data, "start": "01:30", "end": "02:30"})
        self.assertContains(asked, "happens twice")
        self.assertContains(asked, "The second one (after the clocks go back)")
        self.client.post(
            "/meetings/new/", {**data, "start": "01:30", "end": "02:30", "start_which": "second"}
        )
        booked = Meeting.objects.latest("pk")
        self.assertEqual(booked.planned_start, datetime(2027, 10, 31, 1, 30, tzinfo=UTC))
        self.assertEqual(booked.planned_end - booked.planned_start, timedelta(hours=1))
