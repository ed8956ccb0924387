"""`seed_demo` gives every page something real on first run, and `make run` may run it daily."""

from datetime import UTC, datetime, time, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from buddyscheme.models import Notification, Scheme, User
from contracts.models import Contract, Signature
from matching.models import Match, MatchEvent, SpeedEvent, SpeedPreference
from meetings import services as meeting_services
from meetings.models import Alert, Meeting, MeetingState, OnCallShift, Venue, VenueKind

from ..factories import enrol_totp

pytestmark = pytest.mark.django_db

# A Saturday before dawn, outside the rota's evenings and weekends: the meetings made for "now"
# need cover of their own.
SATURDAY_NIGHT = datetime(2026, 11, 28, 4, 40, tzinfo=UTC)


def seed():
    call_command("seed_demo", stdout=StringIO())


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (
            User,
            Venue,
            OnCallShift,
            Meeting,
            Alert,
            Match,
            MatchEvent,
            Contract,
            Signature,
            SpeedPreference,
            Notification,
        )
    }


def board_shows(scheme, now):
    in_progress = Meeting.objects.filter(
        scheme=scheme, state=MeetingState.CHECKED_IN, expected_end__gt=now
    )
    open_alerts = Alert.objects.filter(meeting__scheme=scheme, resolved_at__isnull=True)
    return in_progress.count(), open_alerts.count()


def test_every_page_has_something_real_and_a_second_run_changes_nothing():
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        seed()
        first = counts()
        seed()
        assert counts() == first
    scheme = Scheme.objects.get(name="Positive Steps Buddies")
    zone, today = scheme.zone, SATURDAY_NIGHT.date()

    # Venues: one of each kind, one whose risk assessment is overdue.
    venues = Venue.objects.filter(scheme=scheme)
    assert set(venues.values_list("kind", flat=True)) == set(VenueKind.values)
    assert venues.filter(risk_review_due__lt=today).count() == 1
    assert venues.get(kind=VenueKind.IN_HOUSE).key_holder.email == "coordinator@example.org"

    # The rota covers evenings and weekends: a meeting at 7pm any day of the next fortnight, and
    # at 11am on the weekend, can be booked.
    for offset in range(14):
        day = today + timedelta(days=offset)
        starts = [time(19)] + ([time(11)] if day.weekday() >= 5 else [])
        for start in starts:
            begins = timezone.make_aware(datetime.combine(day, start), zone)
            latest = meeting_services.last_response_needed(
                venues.get(name="Café on the high street"),
                begins + timedelta(hours=1),
                meeting_services.lone_working(scheme),
            )
            assert not meeting_services.cover_ends_before(scheme, begins, latest), (day, start)

    # Meetings: past ones ended safely, upcoming ones, one in progress, one overdue with its alert.
    # (The demo group's session gives each of its two facilitators a meeting of their own.)
    assert Meeting.objects.filter(scheme=scheme, group_facilitator__isnull=False).count() == 2
    meetings = Meeting.objects.filter(scheme=scheme, group_facilitator__isnull=True)
    assert meetings.filter(state=MeetingState.CHECKED_OUT).count() == 3
    upcoming = meetings.filter(state=MeetingState.PLANNED, planned_start__gt=SATURDAY_NIGHT)
    assert upcoming.filter(interview__isnull=True).count() == 2
    # And an applicant's face-to-face interview, a meeting with check-in like the others.
    assert upcoming.filter(interview__applicant__user__email="applicant1@example.org").count() == 1
    assert board_shows(scheme, SATURDAY_NIGHT) == (1, 1)
    alert = Alert.objects.get(meeting__scheme=scheme)
    assert (alert.reason, alert.meeting.venue.kind) == ("overdue", VenueKind.HOME_VISIT)

    # A proposal awaiting both answers, made as a coordinator makes one.
    proposal = Match.objects.get(scheme=scheme, state="proposed")
    assert proposal.proposed_at and not proposal.participant_accepted_at
    assert proposal.events.filter(to_state="proposed").exists()

    # An agreement the buddy signed and the participant has not.
    waiting = Contract.objects.get(scheme=scheme, state="awaiting", kind="match")
    signed_by = set(waiting.signatures.values_list("membership_id", flat=True))
    assert signed_by == {waiting.match.buddy_id}

    # The speed event's rankings are open, and one person has ranked already.
    event = SpeedEvent.objects.get(scheme=scheme)
    assert event.matched_at is None and event.rankings_close_at > SATURDAY_NIGHT
    assert event.preferences.exists()


def test_a_run_the_next_day_tidies_yesterdays_meetings_and_makes_todays(client: Client):
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        seed()
    scheme = Scheme.objects.get(name="Positive Steps Buddies")
    next_day = SATURDAY_NIGHT + timedelta(days=1, hours=10)  # Sunday afternoon
    with time_machine.travel(next_day, tick=False):
        seed()
        # Yesterday's meetings were checked out (late); the board still has one of each.
        assert board_shows(scheme, next_day) == (1, 1)
        assert Meeting.objects.filter(scheme=scheme, state=MeetingState.CHECKED_IN).count() == 2
        coordinator = User.objects.get(email="coordinator@example.org")
        enrol_totp(coordinator)  # tests require two-step sign-in of coordinators
        client.force_login(coordinator)
        board = client.get("/coordinator/board/").content.decode()
        assert "Overdue check-out" in board and "Home visit" in board
        hub = client.get("/coordinator/settings/").content.decode()
        assert "1 risk assessment is past its review date" in hub
    # More than a year on: the demo's venues were reviewed in time (all but the one meant to be
    # overdue), and whatever can no longer be booked is reported, never a crash of `make run`.
    a_year_on = next_day + timedelta(days=400)
    buddy = Match.objects.get(
        scheme=scheme, state="active", participant__user__email="participant2@example.org"
    ).buddy
    buddy.dbs_checks.update(renewal_due=a_year_on.date() - timedelta(days=1))
    with time_machine.travel(a_year_on, tick=False):
        out = StringIO()
        call_command("seed_demo", stdout=out)
        overdue = Venue.objects.filter(scheme=scheme, risk_review_due__lt=a_year_on.date())
        assert list(overdue.values_list("name", flat=True)) == ["Library study room"]
        assert "Demo data ready." in out.getvalue()
        assert (
            "Demo meetings not made (upcoming meetings: This meeting cannot be booked: the buddy's DBS renewal"
            in out.getvalue()
        )
