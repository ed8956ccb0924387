"""The group pages through the test client: the facilitator's session page, the coordinator's
forms, and the public feedback form (throttled per device and session, unlinkable)."""

from datetime import timedelta

import pytest
from django.core.cache import cache

from groups.models import GroupMember, GroupSession, PeerGroup, SessionFeedback
from meetings.models import MeetingState

from ..factories import enrol_totp
from .conftest import START, join

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def feedback_url(session):
    return f"/s/{session.group.scheme.slug}/feedback/{session.feedback_token}/"


ANSWERS = {
    "felt_welcome": "4",
    "felt_safe": "3",
    "would_come_again": "yes",
    "comments": "Kind people",
}


class TestPublicFeedback:
    def test_anonymous_answers_are_kept_without_a_person_or_address(self, client, staffed):
        page = client.get(feedback_url(staffed))
        assert page.status_code == 200
        assert "Sam on 020 7946 0000" in page.text  # the complaints contact, on every group page
        response = client.post(feedback_url(staffed), ANSWERS, REMOTE_ADDR="203.0.113.9")
        assert "Thank you" in response.text
        row = SessionFeedback.objects.get()
        assert (row.session_id, row.felt_welcome, row.would_come_again) == (staffed.pk, 4, True)
        assert "203.0.113.9" not in str(row.__dict__)

    def test_one_answer_per_device_and_session(self, client, staffed):
        client.get(feedback_url(staffed))
        client.post(feedback_url(staffed), ANSWERS)
        again = client.post(feedback_url(staffed), ANSWERS)
        assert "already have your answers" in again.text
        assert SessionFeedback.objects.count() == 1
        # Another phone (no cookie) may still answer.
        client.cookies.clear()
        client.post(feedback_url(staffed), ANSWERS)
        assert SessionFeedback.objects.count() == 2

    def test_the_honeypot_keeps_nothing(self, client, staffed):
        client.post(feedback_url(staffed), {**ANSWERS, "website": "http://spam"})
        assert SessionFeedback.objects.count() == 0

    def test_bad_input_is_explained_and_kept(self, client, staffed):
        response = client.post(feedback_url(staffed), {"felt_welcome": "9", "comments": "typed"})
        assert response.status_code == 200
        assert "typed" in response.text and "Select a valid choice" in response.text

    def test_a_wrong_token_is_404(self, client, staffed):
        assert client.get(f"/s/{staffed.group.scheme.slug}/feedback/nope/").status_code == 404


class TestFacilitatorPage:
    def test_running_a_session_from_the_phone(self, client, staffed, group, people, clock):
        member = join(group, people["participant"], None)
        clock.move_to(START - timedelta(minutes=10))
        client.force_login(people["first"].user)
        page = client.get(f"/groups/sessions/{staffed.pk}/")
        assert "I've arrived" in page.text and "Sam on 020 7946 0000" in page.text
        base = f"/groups/sessions/{staffed.pk}"
        client.post(f"{base}/check-in/", {"key": "k1"})
        assert (
            staffed.facilitators.get(membership=people["first"]).meeting.state
            == MeetingState.CHECKED_IN
        )
        client.post(f"{base}/start/")
        client.post(f"{base}/present/", {"member": member.pk, "rules": "yes"})
        client.post(f"{base}/counts/", {"new_count": "2", "returning_count": "3"})
        client.post(f"{base}/tasks/", {"done": ["set_up", "resources"]})
        staffed.refresh_from_db()
        assert (staffed.state, staffed.attendance_total, staffed.tasks_done) == (
            "running",
            5,
            ["set_up", "resources"],
        )
        assert staffed.attendances.get().ground_rules_confirmed_at is not None
        code = client.get(f"{base}/feedback-code/")
        assert "data:image/svg+xml;base64," in code.text and staffed.feedback_token in code.text
        clock.move_to(START + timedelta(minutes=120))
        client.force_login(people["first"].user)  # a fresh sign-in: the idle timeout passed
        response = client.post(f"{base}/check-out/", {"key": "k2"})
        assert response["Location"] == f"{base}/debrief/"
        response = client.post(
            f"{base}/debrief/", {"went_well": "Good energy", "to_pick_up": "More chairs"}
        )
        assert response.status_code == 302
        assert staffed.debrief.went_well == "Good energy"

    def test_a_name_in_the_debrief_is_questioned(self, client, staffed, people, clock):
        GroupSession.objects.filter(pk=staffed.pk).update(state="finished")
        client.force_login(people["first"].user)
        response = client.post(
            f"/groups/sessions/{staffed.pk}/debrief/", {"went_well": "Call her on 07700 900123"}
        )
        assert response.status_code == 200 and "may identify someone" in response.text

    def test_one_facilitator_is_told_it_cannot_start(self, client, session, people):
        from groups import services

        services.facilitator_add(session=session, membership=people["first"], by=None)
        client.force_login(people["first"].user)
        page = client.get(f"/groups/sessions/{session.pk}/")
        assert "needs two facilitators" in page.text
        response = client.post(f"/groups/sessions/{session.pk}/start/", follow=True)
        assert "cannot start" in response.text
        session.refresh_from_db()
        assert session.state == "planned"

    def test_exclusion_from_the_phone_needs_a_review_date(self, client, staffed, group, people):
        member = join(group, people["participant"], None)
        client.force_login(people["first"].user)
        response = client.post(
            f"/groups/sessions/{staffed.pk}/exclude/",
            {"member": member.pk, "reason": "Unsafe"},
            follow=True,
        )
        assert "review date" in response.text
        client.post(
            f"/groups/sessions/{staffed.pk}/exclude/",
            {"member": member.pk, "reason": "Unsafe", "review_on": "2026-12-14"},
        )
        assert member.exclusions.get().review_on.isoformat() == "2026-12-14"

    def test_a_buddy_who_does_not_facilitate_gets_403(self, client, session, people):
        client.force_login(people["second"].user)
        assert client.get(f"/groups/sessions/{session.pk}/").status_code == 403


class TestCoordinatorPages:
    def test_create_a_group_with_bad_input_kept(self, client, people, scheme):
        enrol_totp(people["coordinator"].user)
        client.force_login(people["coordinator"].user)
        response = client.post(
            "/coordinator/groups/new/", {"name": "Evening group", "kind": "drop_in"}
        )
        assert response.status_code == 200 and 'value="Evening group"' in response.text
        assert not PeerGroup.objects.exists()

    def test_add_a_member_after_the_group_check(self, client, group, people):
        enrol_totp(people["coordinator"].user)
        client.force_login(people["coordinator"].user)
        page = client.get(
            f"/coordinator/groups/{group.pk}/members/new/?person={people['participant'].pk}"
        )
        assert page.status_code == 200
        response = client.post(
            f"/coordinator/groups/{group.pk}/members/new/", {"membership": people["participant"].pk}
        )
        member = GroupMember.objects.get()
        assert response["Location"] == f"/contracts/{member.agreement_id}/"

    def test_plan_a_session_then_see_it_needs_facilitators(self, client, group, people):
        enrol_totp(people["coordinator"].user)
        client.force_login(people["coordinator"].user)
        response = client.post(
            f"/coordinator/groups/{group.pk}/sessions/new/",
            {"day": "2026-12-07", "starts": "10:00", "ends": "12:00"},
            follow=True,
        )
        assert "0 of the two facilitators" in response.text
        assert GroupSession.objects.get().planned_start.hour == 10


def test_a_complaint_naming_someone_is_questioned_then_recorded(client, group, people):
    enrol_totp(people["coordinator"].user)
    client.force_login(people["coordinator"].user)
    url = f"/coordinator/groups/{group.pk}/complaints/new/"
    response = client.post(
        url, {"received_on": "2026-11-27", "summary": "Ring her on 07700 900123"}
    )
    assert response.status_code == 200 and "may identify someone" in response.text
    response = client.post(url, {"received_on": "2026-11-27", "summary": "The room was cold"})
    assert response.status_code == 302
    assert "The room was cold" in client.get(f"/coordinator/groups/{group.pk}/").text
