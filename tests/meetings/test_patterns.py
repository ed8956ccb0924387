"""Pattern flags (issue 18): each flag on known data with time moved, dismissal and recurrence,
the settings, and a dashboard that costs the same number of queries however many matches."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from buddyscheme.errors import DomainError
from buddyscheme.models import Role
from buddyscheme.selectors import scheme_sections
from matching.models import Match, MatchingSettings, MatchState
from matching.services import rematch_request
from meetings.models import BoundaryQuestion, Debrief, Meeting, PatternDismissal, PatternKind
from meetings.patterns import pattern_dismiss, pattern_flags, pattern_settings_update
from meetings.services.debriefs import DebriefContent, debrief_send

from ..factories import MembershipFactory, cleared_buddy, venue

pytestmark = pytest.mark.django_db

START = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)


def active_match(scheme, activated=START):
    buddy = cleared_buddy(scheme)
    participant = MembershipFactory(scheme=scheme, role=Role.PARTICIPANT)
    return Match.objects.create(
        scheme=scheme,
        buddy=buddy,
        participant=participant,
        state=MatchState.ACTIVE,
        activated_at=activated,
        created_at=activated,
    )


def meeting(match, start, state="checked_out", place=None):
    happened = state in ("checked_in", "checked_out")
    return Meeting.objects.create(
        scheme=match.scheme,
        match=match,
        buddy=match.buddy,
        venue=place or venue(match.scheme),
        purpose="Coffee",
        planned_start=start,
        planned_end=start + timedelta(hours=1),
        expected_end=start + timedelta(hours=1),
        state=state,
        checked_in_at=start if happened else None,
        checked_out_at=start + timedelta(hours=1) if state == "checked_out" else None,
    )


def send_debrief(held, what="We had coffee.", crossed=(), concerns=""):
    Debrief.objects.get_or_create(meeting=held, defaults={"opened_at": held.checked_out_at})
    questions = {
        q.pk: q.text in crossed for q in BoundaryQuestion.objects.filter(scheme=held.scheme)
    }
    return debrief_send(
        meeting=held,
        content=DebriefContent(
            how_it_went=4, what_happened=what, boundaries=questions, concerns=concerns
        ),
        by=held.buddy.user,
        now=held.checked_out_at + timedelta(hours=2),
    )


def kinds(scheme, now, match=None):
    return {(flag.match.pk, flag.kind) for flag in pattern_flags(scheme, now, match=match)}


@pytest.fixture
def coordinator(scheme):
    return MembershipFactory(scheme=scheme, role=Role.COORDINATOR)


# --- No meeting for three weeks ----------------------------------------------------------------


def test_no_meeting_for_three_weeks_from_the_start_or_the_last_meeting(scheme):
    match = active_match(scheme)
    assert kinds(scheme, START + timedelta(days=20)) == set()
    assert kinds(scheme, START + timedelta(days=21)) == {(match.pk, PatternKind.NO_MEETING)}
    meeting(match, START + timedelta(days=18))
    # They met on day 18: quiet again until day 39.
    assert kinds(scheme, START + timedelta(days=38)) == set()
    [flag] = pattern_flags(scheme, START + timedelta(days=40))
    assert flag.detail == "Last met 3 weeks ago."
    # A cancelled meeting is not a meeting.
    meeting(match, START + timedelta(days=30), state="cancelled")
    assert kinds(scheme, START + timedelta(days=40)) == {(match.pk, PatternKind.NO_MEETING)}


def test_the_weeks_are_the_schemes_setting(scheme, coordinator):
    match = active_match(scheme)
    pattern_settings_update(scheme=scheme, by=coordinator.user, flag_weeks_without_meeting=5)
    assert kinds(scheme, START + timedelta(weeks=4)) == set()
    assert kinds(scheme, START + timedelta(weeks=5)) == {(match.pk, PatternKind.NO_MEETING)}


def test_only_running_matches_are_flagged(scheme):
    match = active_match(scheme)
    Match.objects.filter(pk=match.pk).update(state=MatchState.ENDED)
    assert kinds(scheme, START + timedelta(weeks=10)) == set()


# --- Cancelled or missed in a row ---------------------------------------------------------------


def test_three_cancelled_or_missed_in_a_row(scheme):
    match = active_match(scheme)
    place = venue(scheme)
    now = START + timedelta(days=14)
    meeting(match, START + timedelta(days=1), place=place)
    meeting(match, START + timedelta(days=3), state="cancelled", place=place)
    meeting(match, START + timedelta(days=5), state="missed", place=place)
    assert PatternKind.CANCELLED not in {k for _, k in kinds(scheme, now)}
    third = meeting(match, START + timedelta(days=7), state="cancelled", place=place)
    assert (match.pk, PatternKind.CANCELLED) in kinds(scheme, now)
    # Still planned (to come) does not break the run; one that happened does.
    meeting(match, START + timedelta(days=20), state="planned", place=place)
    assert (match.pk, PatternKind.CANCELLED) in kinds(scheme, now)
    Meeting.objects.filter(pk=third.pk).update(
        state="checked_out", checked_in_at=third.planned_start
    )
    assert (match.pk, PatternKind.CANCELLED) not in kinds(scheme, now)


# --- No debrief for the last three meetings ------------------------------------------------------


def test_no_debrief_for_the_last_three_meetings_that_happened(scheme):
    match = active_match(scheme)
    place = venue(scheme)
    held = [meeting(match, START + timedelta(days=day), place=place) for day in (1, 4, 7, 10)]
    send_debrief(held[0])
    for debrief_less in held[1:]:
        Debrief.objects.create(meeting=debrief_less, opened_at=debrief_less.checked_out_at)
    # The last one checked out a day ago: the buddy still has time to write it.
    assert (match.pk, PatternKind.NO_DEBRIEF) not in kinds(scheme, START + timedelta(days=11))
    assert (match.pk, PatternKind.NO_DEBRIEF) in kinds(scheme, START + timedelta(days=13))
    send_debrief(held[2])
    assert (match.pk, PatternKind.NO_DEBRIEF) not in kinds(scheme, START + timedelta(days=13))


# --- Re-match requests by either side -------------------------------------------------------------


def test_repeated_rematch_requests_by_a_buddy_flag_their_match(scheme):
    match = active_match(scheme)
    MatchingSettings.objects.create(scheme=scheme, rematch_flag_count=2, rematch_flag_months=6)
    with time_machine.travel(START + timedelta(days=2), tick=False):
        rematch_request(match=match, by_membership=match.buddy, reason="We do not get on")
    now = START + timedelta(days=5)
    assert (match.pk, PatternKind.REMATCH) not in kinds(scheme, now)
    with time_machine.travel(START + timedelta(days=4), tick=False):
        rematch_request(match=match, by_membership=match.buddy, reason="Still not")
    [flag] = [f for f in pattern_flags(scheme, now) if f.kind == PatternKind.REMATCH]
    assert flag.detail == "The buddy has asked for a different match 2 times in 6 months."
    # Seven months on, the requests are too old to count.
    assert (match.pk, PatternKind.REMATCH) not in kinds(scheme, START + timedelta(days=215))


def test_requests_made_on_an_earlier_match_count_on_the_new_one(scheme):
    old = active_match(scheme)
    MatchingSettings.objects.create(scheme=scheme, rematch_flag_count=2)
    rematch_request(match=old, by_membership=old.participant, reason="Too far", now=START)
    Match.objects.filter(pk=old.pk).update(state=MatchState.ENDED)
    new = Match.objects.create(
        scheme=scheme,
        buddy=cleared_buddy(scheme),
        participant=old.participant,
        state=MatchState.ACTIVE,
        activated_at=START,
    )
    rematch_request(
        match=new, by_membership=old.participant, reason="Too quiet", now=START + timedelta(1)
    )
    assert (new.pk, PatternKind.REMATCH) in kinds(scheme, START + timedelta(days=2))


# --- Boundary answers and friendship or romance ---------------------------------------------------


def test_a_boundary_yes_flags_the_match_until_followed_up(scheme, coordinator):
    from meetings.services.debriefs import debrief_follow_up_set

    match = active_match(scheme)
    held = meeting(match, START + timedelta(days=2))
    debrief = send_debrief(held, crossed={"Were gifts given or offered, either way?"})
    [flag] = [f for f in pattern_flags(scheme, START + timedelta(days=4))]
    assert flag.kind == PatternKind.BOUNDARY
    assert "Were gifts given or offered" in flag.detail
    debrief_follow_up_set(debrief=debrief, state="done", note="Talked it over", by=coordinator.user)
    assert kinds(scheme, START + timedelta(days=4)) == set()


def test_friendship_by_the_boundary_question_or_by_words_without_showing_them(scheme):
    match = active_match(scheme)
    place = venue(scheme)
    first = meeting(match, START + timedelta(days=2), place=place)
    send_debrief(first, crossed={"Does it feel like a friendship or romance is starting?"})
    flags = pattern_flags(scheme, START + timedelta(days=4))
    assert [f.kind for f in flags] == [PatternKind.FRIENDSHIP]
    other = active_match(scheme)
    second = meeting(other, START + timedelta(days=2), place=place)
    send_debrief(second, what="G. said we could just be friends after this ends, private joke")
    [flag] = [f for f in pattern_flags(scheme, START + timedelta(days=4)) if f.match == other]
    assert flag.kind == PatternKind.FRIENDSHIP
    assert "friends" not in flag.detail and "G." not in flag.detail
    # Ordinary words are not a flag.
    third = active_match(scheme)
    send_debrief(meeting(third, START + timedelta(days=2), place=place), what="Went to the shops.")
    assert not pattern_flags(scheme, START + timedelta(days=4), match=third)


# --- Dismissal and recurrence -------------------------------------------------------------------


def test_a_dismissed_flag_comes_back_only_when_the_pattern_recurs(scheme, coordinator):
    match = active_match(scheme)
    place = venue(scheme)
    for day in (1, 3, 5):
        meeting(match, START + timedelta(days=day), state="cancelled", place=place)
    now = START + timedelta(days=6)
    dismissal = pattern_dismiss(
        match=match,
        kind=PatternKind.CANCELLED,
        note="B. was in hospital",
        by=coordinator.user,
        now=now,
    )
    assert dismissal.note == "B. was in hospital"
    # A double submit records it once.
    again = pattern_dismiss(
        match=match,
        kind=PatternKind.CANCELLED,
        note="B. was in hospital",
        by=coordinator.user,
        now=now,
    )
    assert again == dismissal and PatternDismissal.objects.count() == 1
    later = START + timedelta(days=20)
    assert (match.pk, PatternKind.CANCELLED) not in kinds(scheme, later)
    # Two more cancellations: the run since the dismissal is only two long.
    meeting(match, START + timedelta(days=8), state="cancelled", place=place)
    meeting(match, START + timedelta(days=10), state="missed", place=place)
    assert (match.pk, PatternKind.CANCELLED) not in kinds(scheme, later)
    meeting(match, START + timedelta(days=12), state="cancelled", place=place)
    assert (match.pk, PatternKind.CANCELLED) in kinds(scheme, later)


def test_a_dismissed_quiet_match_is_flagged_again_after_another_three_weeks(scheme, coordinator):
    match = active_match(scheme)
    looked = START + timedelta(days=22)
    pattern_dismiss(
        match=match, kind=PatternKind.NO_MEETING, note="On holiday", by=coordinator.user, now=looked
    )
    assert kinds(scheme, looked + timedelta(days=20)) == set()
    assert kinds(scheme, looked + timedelta(days=21)) == {(match.pk, PatternKind.NO_MEETING)}


def test_dismissing_needs_a_note_and_a_flag_that_shows(scheme, coordinator):
    match = active_match(scheme)
    with pytest.raises(DomainError, match="what you looked at"):
        pattern_dismiss(
            match=match, kind=PatternKind.NO_MEETING, note=" ", by=coordinator.user, now=START
        )
    with pytest.raises(DomainError, match="no such flag"):
        pattern_dismiss(
            match=match, kind=PatternKind.NO_MEETING, note="ok", by=coordinator.user, now=START
        )


# --- The same number of queries however many matches ------------------------------------------------


def _busy_match(scheme, place):
    match = active_match(scheme)
    for day in (1, 3, 5):
        meeting(match, START + timedelta(days=day), state="cancelled", place=place)
    held = meeting(match, START + timedelta(days=7), place=place)
    send_debrief(held, crossed={"Were gifts given or offered, either way?"}, what="just friends")
    rematch_request(match=match, by_membership=match.participant, reason="No", now=START)
    return match


def _flag_queries(scheme) -> tuple[int, int]:
    now = START + timedelta(days=40)
    with CaptureQueriesContext(connection) as queries:
        flags = pattern_flags(scheme, now)
    return len(queries), len(flags)


def test_the_flags_cost_the_same_queries_for_two_matches_or_twelve(scheme):
    place = venue(scheme)
    for _ in range(2):
        _busy_match(scheme, place)
    small, small_flags = _flag_queries(scheme)
    for _ in range(10):
        _busy_match(scheme, place)
    large, large_flags = _flag_queries(scheme)
    assert small == large == 10
    assert large_flags == 6 * small_flags  # every match shows the same three flags
    assert small_flags == 2 * 3  # quiet since day 7, a boundary "yes", "just friends"


def test_the_dashboard_section_lists_each_flag_with_a_link(scheme):
    match = active_match(scheme)
    sections = scheme_sections(scheme, START + timedelta(days=30))
    [section] = [s for s in sections if s.template == "meetings/_dashboard_patterns.html"]
    [(flagged, flags)] = section.context["matches"]
    assert flagged == match
    assert [flag.kind for flag in flags] == [PatternKind.NO_MEETING]
