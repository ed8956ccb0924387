"""A group session's check-out is the lone-working check-out: the one pressing "We've both left
safely" types their PIN as on Today (the duress PIN works here too), and staff facilitators are
watched by the net like buddies."""

from datetime import timedelta

import pytest

from buddyscheme.errors import DomainError
from buddyscheme.models import Role
from buddyscheme.support import time_given_by
from groups import services
from groups.models import SessionState
from meetings.models import (
    Alert,
    AlertReason,
    LoneWorkingSettings,
    MeetingState,
    SafetyEvent,
    SafetyEventKind,
)
from meetings.services import buddy_pins_set, meeting_help, sweep

from ..factories import MembershipFactory, enrol_totp
from .conftest import START

pytestmark = pytest.mark.django_db


def minutes(n):
    return timedelta(minutes=n)


def states(session):
    return sorted(
        f.meeting.state for f in session.facilitators.select_related("meeting").order_by("pk")
    )


@pytest.fixture
def running(staffed, people, clock):
    """Both buddy facilitators checked in, the first has PINs, the session started."""
    buddy_pins_set(membership=people["first"], check_out_pin="2468", duress_pin="1357")
    clock.move_to(START - minutes(10))
    for buddy in (people["first"], people["second"]):
        services.session_check_in(session=staffed, membership=buddy, key=f"in-{buddy.pk}")
    services.session_start(session=staffed, membership=people["first"])
    clock.move_to(START + minutes(115))
    return staffed


def require_pins(scheme):
    LoneWorkingSettings.objects.filter(scheme=scheme).update(check_out_pin_required=True)


class TestCheckOutWithThePin:
    def test_no_pin_when_the_scheme_requires_one_checks_nobody_out(self, running, people, scheme):
        require_pins(scheme)
        with pytest.raises(DomainError, match="Type your PIN"):
            services.session_check_out(session=running, membership=people["first"], key="a")
        running.refresh_from_db()
        assert running.state == SessionState.RUNNING
        assert states(running) == [MeetingState.CHECKED_IN, MeetingState.CHECKED_IN]

    def test_a_wrong_pin_checks_nobody_out_and_is_counted(self, running, people):
        with pytest.raises(DomainError, match="PIN is not right"):
            services.session_check_out(
                session=running, membership=people["first"], key="b", pin="0000"
            )
        running.refresh_from_db()
        assert running.state == SessionState.RUNNING
        assert states(running) == [MeetingState.CHECKED_IN, MeetingState.CHECKED_IN]
        # The wrong try stays on record although the check-out was refused (five raise an alert).
        assert SafetyEvent.objects.filter(kind=SafetyEventKind.WRONG_PIN).count() == 1

    def test_five_wrong_pins_raise_the_alert_here_too(self, running, people):
        for attempt in range(5):
            with pytest.raises(DomainError):
                services.session_check_out(
                    session=running, membership=people["first"], key=f"w{attempt}", pin="0000"
                )
        assert Alert.objects.filter(reason=AlertReason.WRONG_PINS).count() == 1

    def test_the_check_out_pin_checks_out_both(self, running, people):
        count = services.session_check_out(
            session=running, membership=people["first"], key="c", pin="2468"
        )
        assert count == 2
        running.refresh_from_db()
        assert running.state == SessionState.FINISHED
        assert states(running) == [MeetingState.CHECKED_OUT, MeetingState.CHECKED_OUT]
        assert not Alert.objects.exists()

    def test_the_duress_pin_looks_the_same_and_calls_for_help(self, running, people):
        count = services.session_check_out(
            session=running, membership=people["first"], key="d", pin="1357"
        )
        assert count == 2  # the same answer as the real PIN
        running.refresh_from_db()
        assert running.state == SessionState.FINISHED
        alert = Alert.objects.get(reason=AlertReason.DURESS)
        assert alert.meeting.buddy_id == people["first"].pk
        assert alert.resolved_at is None

    def test_a_retried_press_checks_out_once(self, running, people):
        services.session_check_out(session=running, membership=people["first"], key="e", pin="2468")
        again = services.session_check_out(
            session=running, membership=people["first"], key="e", pin="2468"
        )
        assert again == 0  # nothing left to check out; the session stays finished
        events = SafetyEvent.objects.filter(kind=SafetyEventKind.CHECK_OUT)
        assert events.count() == 2  # one per meeting, not one per press

    def test_someone_not_checked_in_cannot_check_the_other_out(self, staffed, people, clock):
        clock.move_to(START - minutes(10))
        services.session_check_in(session=staffed, membership=people["second"], key="in")
        clock.move_to(START + minutes(100))
        with pytest.raises(DomainError, match="not checked in"):
            services.session_check_out(session=staffed, membership=people["first"], key="f")
        second = staffed.facilitators.get(membership=people["second"]).meeting
        second.refresh_from_db()
        assert second.state == MeetingState.CHECKED_IN

    def test_a_coordinator_who_is_not_facilitating_cannot_check_them_out(self, running, people):
        with pytest.raises(DomainError, match="Only the session's facilitators"):
            services.session_check_out(session=running, membership=people["coordinator"], key="g")
        assert states(running) == [MeetingState.CHECKED_IN, MeetingState.CHECKED_IN]


@pytest.fixture
def with_staff(session, people, scheme):
    """A buddy and a member of staff facilitate."""
    staff = MembershipFactory(scheme=scheme, role=Role.COORDINATOR, user__email="staff@example.org")
    services.facilitator_add(session=session, membership=people["first"], by=None)
    services.facilitator_add(session=session, membership=staff, by=None)
    return session, staff


class TestStaffFacilitators:
    def test_staff_get_a_lone_working_meeting_of_their_own(self, with_staff):
        session, staff = with_staff
        meeting = session.facilitators.get(membership=staff).meeting
        assert meeting is not None
        assert meeting.buddy_id == staff.pk
        assert meeting.planned_start == START and meeting.next_alert_at is not None

    def test_staff_who_do_not_check_out_are_chased_like_buddies(self, with_staff, people, clock):
        session, staff = with_staff
        clock.move_to(START - minutes(5))
        services.session_check_in(session=session, membership=staff, key="in")
        clock.move_to(START + minutes(60 * 3))  # well past the end and its grace
        sweep()
        meeting = session.facilitators.get(membership=staff).meeting
        alerts = Alert.objects.filter(meeting=meeting, reason=AlertReason.OVERDUE)
        assert alerts.exists()
        # Never told to themself above level 1: the other coordinator hears it.
        told = {
            recipient.person.email
            for alert in alerts.filter(level__gte=2)
            for recipient in alert.recipients.select_related("person")
        }
        assert "staff@example.org" not in told and "coord@example.org" in told

    def test_staff_can_ask_for_help_on_their_own_meeting(self, with_staff, clock):
        session, staff = with_staff
        clock.move_to(START + minutes(5))
        meeting = session.facilitators.get(membership=staff).meeting
        alert = meeting_help(meeting=meeting, key="help", by=staff.user)
        assert alert.level == 3 and alert.meeting_id == meeting.pk

    def test_staff_time_is_not_counted_as_volunteering(self, with_staff, people, clock, scheme):
        session, staff = with_staff
        clock.move_to(START - minutes(5))
        for member in (people["first"], staff):
            services.session_check_in(session=session, membership=member, key=f"in{member.pk}")
        clock.move_to(START + minutes(110))
        services.session_check_out(session=session, membership=staff, key="out")
        given = time_given_by(scheme, since=START - timedelta(days=1), until=START + timedelta(1))
        assert {entry.buddy_id for entry in given} == {people["first"].pk}


class TestThePages:
    def test_the_session_page_asks_for_the_pin_and_a_wrong_one_is_explained(
        self, client, running, people
    ):
        client.force_login(people["first"].user)
        base = f"/groups/sessions/{running.pk}"
        page = client.get(f"{base}/")
        assert 'name="pin"' in page.text and "Your PIN" in page.text
        response = client.post(f"{base}/check-out/", {"key": "k9", "pin": "1111"}, follow=True)
        assert "That PIN is not right" in response.text
        assert states(running) == [MeetingState.CHECKED_IN, MeetingState.CHECKED_IN]
        response = client.post(f"{base}/check-out/", {"key": "k10", "pin": "2468"})
        assert response["Location"] == f"{base}/debrief/"
        assert states(running) == [MeetingState.CHECKED_OUT, MeetingState.CHECKED_OUT]

    def test_without_pins_there_is_no_pin_box(self, client, running, people):
        client.force_login(people["second"].user)
        page = client.get(f"/groups/sessions/{running.pk}/")
        assert "We've both left safely" in page.text and 'name="pin"' not in page.text

    def test_staff_press_help_for_themselves_only(self, client, with_staff, people, clock):
        session, staff = with_staff
        clock.move_to(START + minutes(5))
        own = session.facilitators.get(membership=staff).meeting
        buddys = session.facilitators.get(membership=people["first"]).meeting
        enrol_totp(staff.user)
        client.force_login(staff.user)
        page = client.get(f"/groups/sessions/{session.pk}/")
        assert f"/meetings/{own.pk}/help/" in page.text
        assert client.get(f"/meetings/{own.pk}/help/").status_code == 200
        assert client.get(f"/meetings/{buddys.pk}/help/").status_code == 403
        response = client.post(f"/meetings/{own.pk}/help/", {"key": "h1"})
        assert response.status_code == 200 and "on-call" in response.text
        assert Alert.objects.get(reason=AlertReason.HELP).meeting_id == own.pk

    def test_staff_check_in_and_out_on_today_where_the_texts_point(self, client, with_staff, clock):
        session, staff = with_staff
        own = session.facilitators.get(membership=staff).meeting
        enrol_totp(staff.user)
        client.force_login(staff.user)
        clock.move_to(START - minutes(60 * 3))
        page = client.get("/today/")
        assert page.status_code == 200 and "You can check in from" in page.text
        assert "My support and diary" not in page.text  # the buddy links are not for staff
        clock.move_to(START - minutes(5))
        client.force_login(staff.user)  # a fresh sign-in: the idle timeout passed
        page = client.get("/today/")
        assert "I've arrived" in page.text
        client.post(f"/meetings/{own.pk}/check-in/", {"key": "t1"})
        own.refresh_from_db()
        assert own.state == MeetingState.CHECKED_IN
        assert "I've left safely" in client.get("/today/").text
        response = client.post(f"/meetings/{own.pk}/check-out/", {"key": "t2"})
        assert response["Location"] == "/today/"
        own.refresh_from_db()
        assert own.state == MeetingState.CHECKED_OUT
