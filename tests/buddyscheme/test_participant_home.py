"""Issue 14 point 8: the participant's Home shows their buddy, their next meeting (and a way to
ask to rearrange it), what to sign, their coordinator, and a plain way to stop."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from buddyscheme.models import AuditEvent, Notification, Role
from buddyscheme.notifications import notifications_deliver
from buddyscheme.vetting import buddy_support_person_set
from contracts import services as contract_services
from matching import services as matching_services
from matching.models import Match, MatchState, StopRequest
from meetings.models import RearrangeRequest

from ..base import assert_audited
from ..factories import (
    MembershipFactory,
    SchemeFactory,
    book_meeting,
    cleared_buddy,
    sign_all,
    venue,
    waiting_participant,
)

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# A Monday morning; meetings are booked for office hours later in the week.
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def monday_morning():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def scheme():
    return SchemeFactory(name="Positive Living HIV Buddies", sender_name="Appointments")


@pytest.fixture
def coordinator(scheme):
    member = MembershipFactory(
        scheme=scheme,
        role=Role.COORDINATOR,
        user__first_name="Ruth",
        user__last_name="Morgan",
        user__email="ruth@example.org",
    )
    member.user.profile.phone = "020 7946 0101"
    member.user.profile.save()
    return member


def _active_match(scheme, coordinator, participant=None):
    participant = participant or waiting_participant(scheme, email="grace@example.org")
    buddy = cleared_buddy(scheme)
    buddy.user.first_name = "Amara"
    buddy.user.save()
    match = matching_services.match_create(
        participant=participant, buddy=buddy, by=coordinator.user, state=MatchState.PROPOSED
    )
    matching_services.match_accept(match=match, by_membership=participant)
    matching_services.match_accept(match=match, by_membership=buddy)
    matching_services.match_introduce(match=match, intro_at=NOW - timedelta(days=7), by=None)
    sign_all(match)
    return matching_services.match_activate(match=match, by=coordinator.user)


def _book(match, day=8, hour=10, **kwargs):
    return book_meeting(
        match.buddy,
        datetime(2026, 12, day, hour, 0, tzinfo=LONDON),
        place=kwargs.pop("place", None) or venue(match.scheme, name="Café on the corner"),
        match=match,
        now=NOW,
        **kwargs,
    )


def _home(client, member):
    client.force_login(member.user)
    return client.get("/me/")


class TestWhatHomeShows:
    def test_buddy_next_meeting_coordinator_and_a_way_to_stop(self, client, scheme, coordinator):
        match = _active_match(scheme, coordinator)
        _book(match, day=10, hour=11)
        _book(match, day=8, hour=10)  # the next one, booked second
        page = _home(client, match.participant).content.decode()
        assert "My buddy" in page and "Amara" in page
        assert "Tuesday 8 December, 10:00 to 11:00" in page
        assert "Café on the corner" in page
        assert "Thursday 10 December" not in page  # only the next meeting
        assert 'href="/me/meetings/' in page and "Ask to rearrange" in page
        assert "Ruth" in page and 'href="tel:02079460101"' in page
        assert 'href="mailto:ruth@example.org"' in page
        assert "Office hours: Monday to Friday, 9:00 to 17:00" in page
        assert 'href="/me/stop/"' in page and "I want to stop" in page
        assert "To read and sign" not in page  # everything is signed

    def test_an_agreement_waiting_for_them_is_a_thing_to_sign(self, client, scheme, coordinator):
        participant = waiting_participant(scheme)
        match = Match.objects.create(
            scheme=scheme,
            participant=participant,
            buddy=cleared_buddy(scheme),
            state=MatchState.ACCEPTED,
        )
        contract = contract_services.contract_generate(match=match, by=None)
        page = _home(client, participant).content.decode()
        assert "To read and sign" in page and f'href="/contracts/{contract.pk}/"' in page
        contract_services.contract_sign(
            contract=contract,
            membership=participant,
            typed_name=participant.user.get_full_name(),
            agreed=True,
            read_to_end=True,
        )
        assert "To read and sign" not in _home(client, participant).content.decode()

    def test_without_a_buddy_or_meeting_it_says_so(self, client, scheme, coordinator):
        participant = waiting_participant(scheme)
        page = _home(client, participant).content.decode()
        assert "You do not have a buddy yet" in page

    def test_after_an_ending_it_does_not_say_we_are_still_looking(
        self, client, scheme, coordinator
    ):
        participant = waiting_participant(scheme)
        Match.objects.create(
            scheme=scheme,
            buddy=MembershipFactory(scheme=scheme, role=Role.BUDDY),
            participant=participant,
            state="ended",
        )
        page = _home(client, participant).content.decode()
        assert "Your time with your buddy has ended" in page
        assert "Your coordinator is looking" not in page
        assert "No meeting is booked yet" in page
        assert "Ruth" in page  # the scheme's coordinator, with nobody more particular

    def test_buddies_to_choose_from_are_offered_on_home(self, client, scheme, coordinator):
        participant = waiting_participant(scheme)
        cleared_buddy(scheme)
        offer = matching_services.suggestion_offer_create(
            participant=participant, by=coordinator.user
        )
        page = _home(client, participant).content.decode()
        assert "We have found some buddies for you to choose from" in page
        assert f'href="/choose/{offer.pk}/"' in page

    def test_the_matchs_support_person_is_their_coordinator_here_and_in_the_agreement(
        self, client, scheme, coordinator
    ):
        match = _active_match(scheme, coordinator)
        ben = MembershipFactory(
            scheme=scheme, role=Role.COORDINATOR, user__first_name="Ben", user__last_name="A"
        )
        buddy_support_person_set(buddy=match.buddy, support_person=ben, by=None)
        page = _home(client, match.participant).content.decode()
        assert "Ben" in page.split("My coordinator")[1]
        contract = contract_services.contract_generate(match=match, by=None)
        assert "Call Ben on" in contract.text

    def test_the_query_count_does_not_grow_with_meetings_and_agreements(
        self, client, scheme, coordinator
    ):
        match = _active_match(scheme, coordinator)
        _book(match, day=8)
        contract_services.contract_generate(match=match, by=None, reconsent=True)
        client.force_login(match.participant.user)
        with CaptureQueriesContext(connection) as few:
            client.get("/me/")
        for day in (9, 10, 11):
            _book(match, day=day)
        for _ in range(3):
            contract_services.contract_generate(match=match, by=None, reconsent=True)
        match.participant.match_profile.capacity = 2
        match.participant.match_profile.save()
        _active_match(scheme, coordinator, participant=match.participant)  # a second buddy
        with CaptureQueriesContext(connection) as many:
            page = client.get("/me/")
        assert page.content.decode().count("Buddy agreement") >= 4
        assert len(many) == len(few), "\n".join(q["sql"] for q in many.captured_queries)


class TestAskToRearrange:
    def test_asks_to_confirm_then_tells_the_coordinator_once(self, client, scheme, coordinator):
        match = _active_match(scheme, coordinator)
        meeting = _book(match)
        client.force_login(match.participant.user)
        url = f"/me/meetings/{meeting.pk}/rearrange/"
        confirm = client.get(url).content.decode()
        assert "Yes, ask to rearrange" in confirm and "Café on the corner" in confirm
        assert not RearrangeRequest.objects.exists()  # a GET only asks
        response = client.post(url)
        assert response.status_code == 302 and response["Location"] == "/me/"
        asked = RearrangeRequest.objects.get()
        assert_audited(
            verb="meeting_rearrange_ask", obj=asked, actor=match.participant.user, scheme=scheme
        )
        client.post(url)  # a second tap
        assert RearrangeRequest.objects.count() == 1
        rows = Notification.objects.filter(template="meeting_rearrange")
        assert {row.recipient for row in rows} == {coordinator.user}
        notifications_deliver()
        message = mail.outbox[-1]
        assert message.to == ["ruth@example.org"]
        assert f"ref {meeting.pk}" in message.subject
        for secret in ("HIV", "Positive Living", "Grace", match.participant.user.last_name):
            assert secret not in message.subject + message.body
        assert f"/coordinator/meetings/{meeting.pk}/" in message.body
        home = _home(client, match.participant).content.decode()
        assert "You asked to change this on 7 December" in home
        assert "Ask to rearrange" not in home

    def test_only_their_own_planned_meeting(self, client, scheme, coordinator):
        match = _active_match(scheme, coordinator)
        meeting = _book(match)
        someone_else = waiting_participant(scheme)
        client.force_login(someone_else.user)
        assert client.post(f"/me/meetings/{meeting.pk}/rearrange/").status_code == 403
        client.force_login(match.buddy.user)
        assert client.get(f"/me/meetings/{meeting.pk}/rearrange/").status_code == 403
        with time_machine.travel(datetime(2026, 12, 8, 10, 30, tzinfo=LONDON), tick=False):
            client.force_login(match.participant.user)
            response = client.post(f"/me/meetings/{meeting.pk}/rearrange/", follow=True)
        assert "already started or is over" in response.content.decode()
        assert not RearrangeRequest.objects.exists()


class TestIWantToStop:
    def test_asks_to_confirm_tells_the_coordinator_discreetly_and_is_recorded(
        self, client, scheme, coordinator
    ):
        match = _active_match(scheme, coordinator)
        client.force_login(match.participant.user)
        confirm = client.get("/me/stop/").content.decode()
        assert "You do not need to give a reason" in confirm
        assert "We tell Ruth straight away" in confirm
        assert "Yes, I want to stop" in confirm and "No, go back" in confirm
        assert not StopRequest.objects.exists()
        response = client.post("/me/stop/", follow=True)
        assert "Your coordinator will contact you soon" in response.content.decode()
        stop = StopRequest.objects.get()
        assert (stop.participant, stop.match) == (match.participant, match)
        assert_audited(
            verb="participant_stop_request",
            obj=stop,
            actor=match.participant.user,
            scheme=scheme,
        )
        client.post("/me/stop/")
        assert StopRequest.objects.count() == 1
        assert AuditEvent.objects.filter(verb="participant_stop_request").count() == 1
        notifications_deliver()
        # (The proposal that made the match also wrote to the buddy and the participant.)
        (message,) = [m for m in mail.outbox if m.to == ["ruth@example.org"]]
        for secret in ("HIV", "Positive Living", "Grace", match.participant.user.last_name):
            assert secret not in message.subject + message.body
        assert f"/coordinator/people/{match.participant.pk}/" in message.body
        home = _home(client, match.participant).content.decode()
        assert "You told us on 7 December that you want to stop" in home
        assert 'href="/me/stop/"' not in home

    def test_ending_their_match_closes_the_request(self, scheme, coordinator):
        match = _active_match(scheme, coordinator)
        stop = matching_services.participant_stop_request(participant=match.participant)
        matching_services.match_end(match=match, by=coordinator.user, reason="asked to stop")
        stop.refresh_from_db()
        assert stop.handled_at is not None
        again = matching_services.participant_stop_request(participant=match.participant)
        assert again.pk != stop.pk  # a later request is a new one

    def test_only_participants_and_buddies(self, client, scheme, coordinator):
        # Buddies may ask to stop too (issue 18: tests/matching/test_endings.py); a
        # coordinator has nobody to ask.
        client.force_login(coordinator.user)
        assert client.get("/me/stop/").status_code == 403
        assert client.post("/me/stop/").status_code == 403
        assert not StopRequest.objects.exists()
