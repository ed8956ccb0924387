"""The rules a meeting passes before it is logged: office hours and cover, venues, vetting, the rota."""

from datetime import datetime, timedelta

import pytest

from buddyscheme.errors import DomainError
from buddyscheme.models import Role
from meetings import services
from meetings.models import LoneWorkingSettings, OnCallShift

from ..factories import MembershipFactory, SchemeFactory, book_meeting, venue
from .net import MONDAY_10AM, UTC, minutes

pytestmark = pytest.mark.django_db


class TestBooking:
    def test_outside_working_hours_needs_someone_on_call(self, people, scheme):
        evening = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)
        with pytest.raises(DomainError, match="outside office hours and nobody is on call"):
            book_meeting(people["buddy"], evening)
        # Cover until the last alert could escalate: the hour, 2 hours of extension at most,
        # 10 minutes' grace and two rounds of 10 minutes' escalation (22:30).
        OnCallShift.objects.create(
            scheme=scheme,
            responder=people["on_call"],
            starts_at=evening - minutes(60),
            ends_at=evening + minutes(210),
        )
        assert book_meeting(people["buddy"], evening).pk

    def test_cover_must_last_until_the_last_alert_could_escalate(self, people, scheme):
        evening = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)
        OnCallShift.objects.create(
            scheme=scheme,
            responder=people["on_call"],
            starts_at=evening,
            ends_at=evening + minutes(209),
        )
        with pytest.raises(DomainError, match="respond until 22:30"):
            book_meeting(people["buddy"], evening)
        # An afternoon meeting that could run past office hours needs cover too...
        afternoon = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
        with pytest.raises(DomainError, match="respond until 18:30"):
            book_meeting(people["buddy"], afternoon)
        # ...unless the scheme allows no extension that far.
        LoneWorkingSettings.objects.filter(scheme=scheme).update(max_extension_minutes=30)
        assert book_meeting(people["buddy"], afternoon).pk

    def test_the_buddy_is_told_when_an_extension_runs_past_cover(self, people, scheme):
        late = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
        services.lone_working(scheme)
        LoneWorkingSettings.objects.filter(scheme=scheme).update(max_extension_minutes=0)
        meeting = book_meeting(people["buddy"], late)  # 15:30-16:30, alerts done by 17:00
        assert not services.cover_ends_before(
            scheme,
            late,
            services.last_response_needed(
                meeting, meeting.planned_end, services.lone_working(scheme)
            ),
        )
        LoneWorkingSettings.objects.filter(scheme=scheme).update(max_extension_minutes=60)
        services.meeting_check_in(meeting=meeting, key="in", by=None, now=late)
        meeting = services.meeting_extend(meeting=meeting, minutes=30, key="x", by=None, now=late)
        latest = services.last_response_needed(
            meeting, meeting.expected_end, services.lone_working(scheme), timedelta(0)
        )
        assert services.cover_ends_before(scheme, late, latest)

    def test_an_expired_risk_assessment_blocks_booking(self, people, scheme):
        stale = venue(scheme, risk_review_due=MONDAY_10AM.date() - timedelta(days=1))
        with pytest.raises(DomainError, match="risk assessment needed review"):
            book_meeting(people["buddy"], MONDAY_10AM, place=stale)

    def test_a_buddy_whose_vetting_lapsed_cannot_be_booked(self, people):
        people["buddy"].dbs_checks.update(
            issue_date=MONDAY_10AM.date() - timedelta(days=1200),
            renewal_due=MONDAY_10AM.date() - timedelta(days=1),
        )
        with pytest.raises(DomainError, match="DBS renewal was due"):
            book_meeting(people["buddy"], MONDAY_10AM)


def test_the_rota_refuses_a_member_of_another_scheme(people, scheme):
    from django.core.exceptions import ValidationError

    other = MembershipFactory(scheme=SchemeFactory(name="Elsewhere"), role=Role.COORDINATOR)
    shift = OnCallShift(
        scheme=scheme, responder=other, starts_at=MONDAY_10AM, ends_at=MONDAY_10AM + minutes(60)
    )
    with pytest.raises(ValidationError):
        shift.full_clean()
