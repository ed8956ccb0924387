"""A buddy's named support person (and a match's own, overriding it): one of the scheme's active
coordinators, chosen on the person page, the match page or in the admin; alerted at level 2
instead of every coordinator; named in agreements."""

from datetime import timedelta

import pytest
import time_machine

from buddyscheme.errors import DomainError
from buddyscheme.models import BuddyVetting, Role
from buddyscheme.vetting import buddy_support_person_set
from contracts.services import contract_generate, volunteer_agreement_generate
from matching.models import Match, MatchEvent
from matching.services import match_support_person_set
from meetings import services
from meetings.models import Meeting

from ..factories import (
    MembershipFactory,
    SchemeFactory,
    book_meeting,
    cleared_buddy,
    enrol_totp,
    waiting_participant,
)
from ..meetings.net import MONDAY_10AM, minutes, told

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheme():
    return SchemeFactory(name="Positive Living HIV Buddies", sender_name="Appointments")


@pytest.fixture
def people(scheme):
    def coordinator(email, name, **kwargs):
        member = MembershipFactory(
            scheme=scheme, role=Role.COORDINATOR, user__email=email, user__first_name=name, **kwargs
        )
        enrol_totp(member.user)
        return member

    buddy = cleared_buddy(scheme, email="buddy@example.org")
    participant = waiting_participant(scheme)
    return {
        "coordinator": coordinator("coord@example.org", "Cora"),
        "support": coordinator("support@example.org", "Sunita"),
        "other": coordinator("other@example.org", "Omar"),
        "buddy": buddy,
        "match": Match.objects.create(
            scheme=scheme, buddy=buddy, participant=participant, state="active"
        ),
    }


class TestWhoMayBeNamed:
    def test_an_active_coordinator_of_the_scheme(self, people):
        buddy_support_person_set(buddy=people["buddy"], support_person=people["support"], by=None)
        assert people["buddy"].vetting.support_person == people["support"]
        buddy_support_person_set(buddy=people["buddy"], support_person=None, by=None)
        people["buddy"].vetting.refresh_from_db()
        assert people["buddy"].vetting.support_person is None

    def test_anyone_else_is_refused_by_the_service(self, people, scheme):
        another_buddy = cleared_buddy(scheme)
        gone = MembershipFactory(scheme=scheme, role=Role.COORDINATOR, is_active=False)
        elsewhere = MembershipFactory(scheme=SchemeFactory(), role=Role.COORDINATOR)
        for person in (another_buddy, gone, elsewhere):
            with pytest.raises(DomainError, match="must be an active coordinator of this scheme"):
                buddy_support_person_set(buddy=people["buddy"], support_person=person, by=None)
            with pytest.raises(DomainError, match="must be an active coordinator of this scheme"):
                match_support_person_set(match=people["match"], support_person=person, by=None)
        assert BuddyVetting.objects.get(membership=people["buddy"]).support_person is None
        people["match"].refresh_from_db()
        assert people["match"].support_person is None

    def test_a_match_override_is_recorded_in_its_history(self, people):
        coordinator = people["coordinator"].user
        match_support_person_set(
            match=people["match"], support_person=people["other"], by=coordinator
        )
        event = MatchEvent.objects.get(match=people["match"])
        assert (event.note, event.actor, event.to_state) == (
            "Support person: Omar",
            coordinator,
            "active",
        )


class TestMeetings:
    def test_booking_takes_the_matchs_then_the_buddys_then_nobody(self, people):
        buddy, match = people["buddy"], people["match"]
        assert book_meeting(buddy, MONDAY_10AM).support_person is None
        buddy_support_person_set(buddy=buddy, support_person=people["support"], by=None)
        assert book_meeting(buddy, MONDAY_10AM).support_person == people["support"]
        assert book_meeting(buddy, MONDAY_10AM, match=match).support_person == people["support"]
        match = match_support_person_set(match=match, support_person=people["other"], by=None)
        assert book_meeting(buddy, MONDAY_10AM, match=match).support_person == people["other"]
        assert book_meeting(buddy, MONDAY_10AM).support_person == people["support"]

    def test_level_two_reaches_the_support_person_not_every_coordinator(self, people):
        buddy_support_person_set(buddy=people["buddy"], support_person=people["support"], by=None)
        meeting = book_meeting(people["buddy"], MONDAY_10AM)
        services.meeting_check_in(meeting=meeting, key="in", by=None, now=MONDAY_10AM)
        services.sweep(now=MONDAY_10AM + minutes(81))
        assert told("alert_overdue") == ["support@example.org"]

    def test_coordinators_when_the_support_person_has_left(self, people):
        buddy_support_person_set(buddy=people["buddy"], support_person=people["support"], by=None)
        meeting = book_meeting(people["buddy"], MONDAY_10AM)
        people["support"].is_active = False
        people["support"].save()
        services.meeting_check_in(meeting=meeting, key="in", by=None, now=MONDAY_10AM)
        services.sweep(now=MONDAY_10AM + minutes(81))
        assert told("alert_overdue") == ["coord@example.org", "other@example.org"]

    def test_a_change_reaches_meetings_still_to_come_but_not_finished_ones(self, people):
        buddy, match = people["buddy"], people["match"]
        finished = book_meeting(buddy, MONDAY_10AM)
        services.meeting_check_in(meeting=finished, key="i", by=None, now=MONDAY_10AM)
        services.meeting_check_out(meeting=finished, key="o", by=None, now=MONDAY_10AM)
        coming = book_meeting(buddy, MONDAY_10AM + timedelta(days=1))
        with_match = book_meeting(buddy, MONDAY_10AM + timedelta(days=1), match=match)
        match_support_person_set(match=match, support_person=people["other"], by=None)
        buddy_support_person_set(buddy=buddy, support_person=people["support"], by=None)
        supported = dict(Meeting.objects.values_list("pk", "support_person"))
        assert supported == {
            finished.pk: None,
            coming.pk: people["support"].pk,
            with_match.pk: people["other"].pk,
        }


class TestAgreements:
    def test_agreements_name_the_support_person(self, people):
        buddy, match = people["buddy"], people["match"]
        assert (
            "named support person is the coordinator."
            in contract_generate(match=match, by=None).text
        )
        buddy_support_person_set(buddy=buddy, support_person=people["support"], by=None)
        assert "named support person is Sunita." in contract_generate(match=match, by=None).text
        match_support_person_set(match=match, support_person=people["other"], by=None)
        assert "named support person is Omar." in contract_generate(match=match, by=None).text

    def test_the_volunteer_agreement_too(self, people):
        from contracts.services import templates_ensure

        template = templates_ensure(people["buddy"].scheme)["volunteer"]
        version = template.current
        version.clauses = [
            {"heading": "Support", "text": "Your support person is {{ support_person }}."}
        ]
        version.save()
        buddy_support_person_set(buddy=people["buddy"], support_person=people["support"], by=None)
        agreement = volunteer_agreement_generate(buddy=people["buddy"], by=None)
        assert "Your support person is Sunita." in agreement.text


class TestPages:
    def login(self, client, member):
        client.force_login(member.user)

    def test_the_person_page_sets_it(self, client, people):
        self.login(client, people["coordinator"])
        buddy = people["buddy"]
        page = client.get(f"/coordinator/people/{buddy.pk}/").content.decode()
        assert "Nobody named: every coordinator is alerted" in page and ">Sunita<" in page
        response = client.post(
            f"/coordinator/people/{buddy.pk}/support-person/",
            {"support_person": people["support"].pk},
            follow=True,
        )
        assert "Sunita is now" in response.content.decode()
        buddy.vetting.refresh_from_db()
        assert buddy.vetting.support_person == people["support"]

    def test_a_choice_from_outside_the_staff_is_refused_clearly(self, client, people, scheme):
        self.login(client, people["coordinator"])
        buddy = people["buddy"]
        for person in (cleared_buddy(scheme), MembershipFactory(role=Role.COORDINATOR)):
            response = client.post(
                f"/coordinator/people/{buddy.pk}/support-person/",
                {"support_person": person.pk},
                follow=True,
            )
            assert (
                "Choose one of this scheme&#x27;s active coordinators." in response.content.decode()
            )
        assert BuddyVetting.objects.get(membership=buddy).support_person is None

    def test_the_match_page_sets_an_override(self, client, people):
        self.login(client, people["coordinator"])
        buddy_support_person_set(buddy=people["buddy"], support_person=people["support"], by=None)
        match = people["match"]
        page = client.get(f"/matches/{match.pk}/").content.decode()
        assert "The buddy&#x27;s own (Sunita)" in page
        client.post(
            f"/coordinator/matching/matches/{match.pk}/support-person/",
            {"support_person": people["other"].pk},
        )
        match.refresh_from_db()
        assert match.support_person == people["other"]

    def test_the_other_schemes_coordinator_gets_404(self, client, people):
        stranger = MembershipFactory(scheme=SchemeFactory(), role=Role.COORDINATOR)
        enrol_totp(stranger.user)
        self.login(client, stranger)
        for url in (
            f"/coordinator/people/{people['buddy'].pk}/support-person/",
            f"/coordinator/matching/matches/{people['match'].pk}/support-person/",
        ):
            assert client.post(url, {"support_person": ""}).status_code == 404


class TestAdmin:
    def test_choices_are_the_schemes_active_coordinators_and_saving_uses_the_service(
        self, client, people, scheme
    ):
        MembershipFactory(scheme=scheme, role=Role.COORDINATOR, is_active=False)
        MembershipFactory(scheme=SchemeFactory(), role=Role.COORDINATOR)
        vetting = people["buddy"].vetting
        with time_machine.travel(MONDAY_10AM, tick=False):
            self.client_login(client, people["coordinator"])
            url = f"/admin/buddyscheme/buddyvetting/{vetting.pk}/change/"
            form = client.get(url).context["adminform"].form
            assert set(form.fields["support_person"].queryset) == {
                people["coordinator"],
                people["support"],
                people["other"],
            }
            client.post(url, {"support_person": people["support"].pk, **self.inline_management()})
        vetting.refresh_from_db()
        assert vetting.support_person == people["support"]
        match_url = f"/admin/matching/match/{people['match'].pk}/change/"
        with time_machine.travel(MONDAY_10AM, tick=False):
            self.client_login(client, people["coordinator"])
            form = client.get(match_url).context["adminform"].form
            assert people["buddy"] not in form.fields["support_person"].queryset
            client.post(
                match_url,
                {"support_person": people["other"].pk, **self.inline_management("events")},
            )
        assert MatchEvent.objects.filter(note="Support person: Omar").exists()

    def client_login(self, client, member):
        client.force_login(member.user)

    def inline_management(self, prefix="steps"):
        return {
            f"{prefix}-TOTAL_FORMS": "0",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
