"""The rota's week view finds its gaps with the booking rule itself: a gap is exactly a time when
`booking_problems` refuses a one-hour meeting because nobody is on call."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from buddyscheme.models import Role
from meetings import services
from meetings.models import OnCallShift
from meetings.services.rota import GAP_STEP

from ..factories import MembershipFactory, book_meeting, venue

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 30)  # London is on GMT: local time is UTC this week


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def gap_starts(week) -> set[datetime]:
    starts = set()
    for day in week.days:
        for gap in day.gaps:
            # In UTC: adding to a local time would step by the wall clock, which skips the
            # repeated hour.
            moment, last = gap.first.astimezone(UTC), gap.last.astimezone(UTC)
            while moment <= last:
                starts.add(moment)
                moment += GAP_STEP
    return starts


def shift(scheme, responder, starts_at, ends_at):
    return OnCallShift.objects.create(
        scheme=scheme, responder=responder, starts_at=starts_at, ends_at=ends_at
    )


def test_gaps_are_exactly_the_times_booking_is_refused_for_want_of_cover(scheme, people):
    tuesday = MONDAY + timedelta(days=1)
    # An evening shift and a night shift that only meet at 23:00 (a meeting across the hand-over
    # is covered by neither), a morning shift, and one of someone who has left (counts for
    # nothing).
    shift(scheme, people["on_call"], at(MONDAY, 14), at(MONDAY, 23))
    shift(scheme, people["coordinator"], at(MONDAY, 23), at(tuesday, 9))
    shift(scheme, people["on_call"], at(tuesday, 7), at(tuesday, 12))
    gone = MembershipFactory(scheme=scheme, role=Role.COORDINATOR, is_active=False)
    shift(scheme, gone, at(tuesday, 17), at(tuesday, 23, 59))
    cafe = venue(scheme)
    week = services.rota_week(scheme, MONDAY)
    refused = set()
    moment = at(MONDAY, 0)
    while moment < at(MONDAY + timedelta(days=2), 0):
        problems = services.booking_problems(
            buddy=people["buddy"],
            venue=cafe,
            planned_start=moment,
            planned_end=moment + timedelta(hours=1),
            now=moment - timedelta(days=1),
        )
        assert all("nobody is on call" in problem for problem in problems), problems
        if problems:
            refused.add(moment)
        moment += GAP_STEP
    two_days = {start for start in gap_starts(week) if start < at(MONDAY + timedelta(days=2), 0)}
    assert two_days == refused
    # What that means on the page (office 09:00-17:00; someone must be able to answer until
    # 2 h 30 min after a meeting ends): the afternoon is covered from the shift's start only,
    # and the hand-over at 23:00 is a gap although someone is on call all evening and night.
    monday_gaps = [(gap.first.time(), gap.last.time()) for gap in week.days[0].gaps]
    assert monday_gaps == [
        (time(0), time(8, 45)),
        (time(13, 45), time(13, 45)),
        (time(19, 45), time(22, 45)),
    ]
    assert week.latest_office_end == time(14, 30)
    assert [entry.counts for entry in week.days[1].shifts] == [True, True, False]


def test_a_gap_running_past_midnight_counts_once(scheme):
    week = services.rota_week(scheme, MONDAY)
    # Weekday mornings and evenings run into each other overnight; Friday evening runs to the
    # end of the week.
    assert week.gap_count == 6
    assert [len(day.gaps) for day in week.days] == [2, 2, 2, 2, 2, 1, 1]
    assert week.days[5].gaps[0].first.time() == time(0)
    assert week.days[6].gaps[0].last.time() == time(23, 45)


def test_the_night_the_clocks_go_back_has_its_hour_twice(scheme):
    week = services.rota_week(scheme, date(2026, 10, 19))
    sunday = week.days[6]
    assert sunday.day == date(2026, 10, 25)
    [gap] = sunday.gaps
    assert (gap.first.time(), gap.last.time()) == (time(0), time(23, 45))
    moments = {
        start for start in gap_starts(week) if start.astimezone(UTC) >= at(date(2026, 10, 24), 23)
    }
    assert len(moments) == 25 * 4  # a 25-hour day, every quarter hour a gap


def test_a_meeting_that_had_lost_its_cover_already_does_not_block_other_changes(scheme, people):
    """Say a shift was removed in the admin: the meeting it covered (15:00-16:00, answered until
    18:30) is uncovered already, and removing another shift that never covered it is allowed."""
    covering = shift(scheme, people["on_call"], at(MONDAY, 12), at(MONDAY, 19))
    book_meeting(people["buddy"], at(MONDAY, 15), now=at(MONDAY, 8))
    covering.delete()
    later = shift(scheme, people["coordinator"], at(MONDAY, 16), at(MONDAY, 20))
    services.on_call_shift_delete(shift=later, by=None, now=at(MONDAY, 8))
    assert not OnCallShift.objects.filter(pk=later.pk).exists()
