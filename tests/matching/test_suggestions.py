"""Issue 14 point 5: "Choose your buddy" went stale. A suggested buddy who fills up (or can no
longer be matched) leaves the open offer and the next eligible buddy takes their place; a
participant who is choosing is left out of matching rounds."""

from datetime import timedelta

import pytest
from django.utils import timezone

from buddyscheme.errors import DomainError
from buddyscheme.models import DBSCheck, Role
from matching import services
from matching.models import Match, MatchState, SuggestionOffer

from ..base import PersonaTestCase
from ..factories import MembershipFactory, SchemeFactory, cleared_buddy, menu, waiting_participant

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheme():
    return SchemeFactory()


@pytest.fixture
def coordinator(scheme):
    return MembershipFactory(scheme=scheme, role=Role.COORDINATOR).user


def _shown(offer):
    return [option.buddy_id for option in offer.options.filter(dropped_at__isnull=True)]


def _ranked_buddies(scheme, count):
    """Buddies whose order for the participant is fixed: the first shares three items, the
    next two, and so on."""
    items = menu(scheme, "Cooking", "Forms", "Walks", "English", "Phones")
    participant = waiting_participant(scheme, items=items)
    buddies = [cleared_buddy(scheme, items=items[: len(items) - n]) for n in range(count)]
    return participant, buddies


def test_a_suggested_buddy_who_fills_up_is_replaced_by_the_next(scheme, coordinator):
    participant, buddies = _ranked_buddies(scheme, 5)
    offer = services.suggestion_offer_create(participant=participant, by=coordinator)
    assert _shown(offer) == [b.pk for b in buddies[:3]]
    # The first buddy's only place goes to someone else (a coordinator's proposal).
    services.match_create(
        participant=waiting_participant(scheme),
        buddy=buddies[0],
        by=coordinator,
        state=MatchState.PROPOSED,
    )
    assert _shown(offer) == [b.pk for b in buddies[1:4]]
    dropped = offer.options.get(buddy=buddies[0])
    assert dropped.dropped_at is not None  # kept: the record of what was shown


def test_a_round_that_fills_a_suggested_buddy_refreshes_the_offer(scheme, coordinator):
    participant, buddies = _ranked_buddies(scheme, 4)
    offer = services.suggestion_offer_create(participant=participant, by=coordinator)
    other = waiting_participant(scheme, items=list(buddies[1].match_profile.items.all()))
    services.round_run(
        scheme=scheme, participant_ids=[other.pk], buddy_ids=[buddies[1].pk], by=coordinator
    )
    assert buddies[1].pk not in _shown(offer)
    assert _shown(offer) == [buddies[0].pk, buddies[2].pk, buddies[3].pk]


def test_choosing_a_buddy_who_can_no_longer_be_matched_explains_once_and_moves_on(
    scheme, coordinator
):
    participant, buddies = _ranked_buddies(scheme, 4)
    offer = services.suggestion_offer_create(participant=participant, by=coordinator)
    # A lapse that no match records: the first buddy's DBS ran out overnight.
    DBSCheck.objects.filter(membership=buddies[0]).update(
        renewal_due=timezone.localdate() - timedelta(days=1)
    )
    option = offer.options.get(buddy=buddies[0])
    errors = []
    for _ in range(3):
        with pytest.raises(DomainError) as raised:
            services.suggestion_choose(offer=offer, option_id=option.pk, by_membership=participant)
        errors.append(str(raised.value))
    assert "no longer" in errors[0] and "someone else" in errors[0]
    assert len(set(errors)) > 1, "three identical errors"
    offer.refresh_from_db()
    assert offer.is_open and _shown(offer) == [b.pk for b in buddies[1:4]]
    match = services.suggestion_choose(
        offer=offer,
        option_id=offer.options.get(buddy=buddies[3]).pk,
        by_membership=participant,
    )
    assert match.buddy == buddies[3]


def test_when_nobody_is_left_the_offer_is_withdrawn_with_a_message(scheme, coordinator):
    participant, [buddy] = _ranked_buddies(scheme, 1)
    offer = services.suggestion_offer_create(participant=participant, by=coordinator)
    DBSCheck.objects.filter(membership=buddy).update(
        renewal_due=timezone.localdate() - timedelta(days=1)
    )
    with pytest.raises(DomainError, match="coordinator will find"):
        services.suggestion_choose(
            offer=offer, option_id=offer.options.get().pk, by_membership=participant
        )
    offer.refresh_from_db()
    assert not offer.is_open and offer.withdrawn_at is not None


def test_a_participant_choosing_is_left_out_of_rounds(scheme, coordinator):
    items = menu(scheme, "Cooking")
    choosing = waiting_participant(scheme, items=items)
    waiting = waiting_participant(scheme, items=items)
    buddies = [cleared_buddy(scheme, items=items) for _ in range(3)]
    offer = services.suggestion_offer_create(participant=choosing, by=coordinator)
    matching_round = services.round_run(
        scheme=scheme,
        participant_ids=[choosing.pk, waiting.pk],
        buddy_ids=[b.pk for b in buddies],
        by=coordinator,
    )
    assert [m.participant for m in matching_round.matches.all()] == [waiting]
    offer.refresh_from_db()
    assert offer.is_open
    with pytest.raises(DomainError, match="Choose at least one"):
        services.round_run(
            scheme=scheme,
            participant_ids=[choosing.pk],
            buddy_ids=[b.pk for b in buddies],
            by=coordinator,
        )


def test_a_coordinators_proposal_closes_the_participants_open_offer(scheme, coordinator):
    participant, buddies = _ranked_buddies(scheme, 4)
    offer = services.suggestion_offer_create(participant=participant, by=coordinator)
    services.match_create(
        participant=participant, buddy=buddies[3], by=coordinator, state=MatchState.PROPOSED
    )
    offer.refresh_from_db()
    assert not offer.is_open and offer.withdrawn_at is not None


def test_a_participant_has_one_open_offer_at_a_time(scheme, coordinator):
    participant, _ = _ranked_buddies(scheme, 6)
    first = services.suggestion_offer_create(participant=participant, by=coordinator)
    second = services.suggestion_offer_create(participant=participant, by=coordinator)
    first.refresh_from_db()
    assert not first.is_open and second.is_open
    assert SuggestionOffer.objects.filter(participant=participant).count() == 2


class ChoosePageTest(PersonaTestCase):
    def test_a_stale_choice_says_so_and_shows_the_next_buddy(self):
        participant, buddies = _ranked_buddies(self.scheme, 4)
        for buddy, name in zip(buddies, ["Amara", "Tom", "Priya", "Kwame"], strict=True):
            buddy.user.profile.preferred_name = name
            buddy.user.profile.save()
        offer = services.suggestion_offer_create(participant=participant, by=self.coordinator)
        self.client.force_login(participant.user)
        url = f"/choose/{offer.pk}/"
        self.assertNotContains(self.client.get(url), "Kwame")
        # Amara's place is taken while the participant is reading.
        services.match_create(
            participant=waiting_participant(self.scheme), buddy=buddies[0], by=self.coordinator
        )
        page = self.client.get(url)
        self.assertNotContains(page, "Choose Amara")
        self.assertContains(page, "Choose Kwame")
        self.assertContains(page, "no longer free")
        # The participant's old page still had Amara's button: one clear message, then on.
        DBSCheck.objects.filter(membership=buddies[1]).update(
            renewal_due=timezone.localdate() - timedelta(days=1)
        )
        response = self.client.post(
            url, {"option": offer.options.get(buddy=buddies[1]).pk}, follow=True
        )
        self.assertContains(response, "Tom can no longer")
        self.assertNotContains(response, "Choose Tom")
        self.assertFalse(Match.objects.filter(participant=participant).exists())

    def test_the_round_page_says_who_is_choosing(self):
        items = menu(self.scheme, "Cooking")
        choosing = waiting_participant(self.scheme, items=items)
        choosing.user.profile.preferred_name = "Zara"
        choosing.user.profile.save()
        cleared_buddy(self.scheme, items=items)
        services.suggestion_offer_create(participant=choosing, by=self.coordinator)
        self.login_as("coordinator")
        page = self.client.get("/coordinator/matching/rounds/new/")
        self.assertContains(page, "Choosing from suggestions")
        self.assertNotContains(page, f'name="participants" value="{choosing.pk}"')
        self.assertContains(page, "Zara")
        self.assertContains(self.client.get("/coordinator/matching/"), "Choosing from suggestions")
