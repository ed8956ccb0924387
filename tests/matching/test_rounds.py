"""Matching rounds: waiting time counts, and everyone left out is listed with the reason."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from buddyscheme.models import ParticipantEnrolment, Role
from matching import selectors, services
from matching.models import LeftOutReason, MatchState, PairBlockKind, SpeedEvent

from ..base import PersonaTestCase
from ..factories import MembershipFactory, SchemeFactory, cleared_buddy, menu, waiting_participant

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheme():
    return SchemeFactory()


@pytest.fixture
def coordinator(scheme):
    return MembershipFactory(scheme=scheme, role=Role.COORDINATOR).user


def waiting_for(participant, days):
    ParticipantEnrolment.objects.filter(membership=participant).update(
        waiting_since=timezone.localdate() - timedelta(days=days)
    )


def test_a_101_day_wait_is_not_passed_over_for_a_16_day_one_on_a_small_difference(
    scheme, coordinator
):
    (cooking,) = menu(scheme, "Cooking")
    buddy = cleared_buddy(scheme, items=[cooking], postcode_district="SW9", travel_range="area")
    # Both want what the buddy offers; the newcomer lives in the buddy's own district (30
    # points), the long waiter in the next one (23): a difference of 7 on compatibility alone.
    long_waiter = waiting_participant(scheme, items=[cooking], postcode_district="SW2")
    newcomer = waiting_participant(scheme, items=[cooking], postcode_district="SW9")
    waiting_for(long_waiter, 101)
    waiting_for(newcomer, 16)

    matching_round = services.round_run(
        scheme=scheme,
        participant_ids=[long_waiter.pk, newcomer.pk],
        buddy_ids=[buddy.pk],
        by=coordinator,
    )

    (draft,) = matching_round.matches.all()
    assert (draft.participant, draft.buddy) == (long_waiter, buddy)
    # Waiting is explained line by line like every other reason, and the lines add up.
    assert {"label": "Waiting for 101 days", "points": 14.43, "kind": "waiting"} in draft.reasons
    assert draft.score == pytest.approx(sum(line["points"] for line in draft.reasons), abs=0.01)
    assert draft.score == pytest.approx(23 + 101 / 7)
    assert [(row.participant, row.reason) for row in matching_round.left_out.all()] == [
        (newcomer, LeftOutReason.ALL_FULL)
    ]


def test_a_scheme_that_does_not_weigh_waiting_matches_on_compatibility(scheme, coordinator):
    (cooking,) = menu(scheme, "Cooking")
    settings_row = selectors.matching_settings(scheme)
    settings_row.per_week_waiting = 0
    settings_row.save()
    buddy = cleared_buddy(scheme, items=[cooking], postcode_district="SW9", travel_range="area")
    long_waiter = waiting_participant(scheme, items=[cooking], postcode_district="SW2")
    newcomer = waiting_participant(scheme, items=[cooking], postcode_district="SW9")
    waiting_for(long_waiter, 101)
    waiting_for(newcomer, 16)
    matching_round = services.round_run(
        scheme=scheme,
        participant_ids=[long_waiter.pk, newcomer.pk],
        buddy_ids=[buddy.pk],
        by=coordinator,
    )
    assert [m.participant for m in matching_round.matches.all()] == [newcomer]


def test_waiting_never_makes_a_pair_with_nothing_in_common(scheme, coordinator):
    (cooking,) = menu(scheme, "Cooking")
    buddy = cleared_buddy(scheme, items=[cooking])
    stranger = waiting_participant(scheme)  # wants nothing the buddy offers, no area given
    waiting_for(stranger, 400)
    matching_round = services.round_run(
        scheme=scheme, participant_ids=[stranger.pk], buddy_ids=[buddy.pk], by=coordinator
    )
    assert matching_round.matches.count() == 0
    assert [(row.participant, row.reason) for row in matching_round.left_out.all()] == [
        (stranger, LeftOutReason.NO_ELIGIBLE_BUDDY)
    ]


def test_every_participant_left_out_is_listed_with_the_reason(scheme, coordinator):
    cooking, forms = menu(scheme, "Cooking", "Forms")
    man = cleared_buddy(scheme, items=[cooking, forms], gender="man", capacity=2)
    other_man = cleared_buddy(scheme, items=[forms], gender="man")
    matched = [waiting_participant(scheme, items=[cooking, forms]) for _ in range(3)]
    wants_a_woman = waiting_participant(scheme, items=[cooking], wants_buddy_gender="woman")
    nothing_in_common = waiting_participant(scheme)
    blocked = waiting_participant(scheme, items=[cooking])
    services.pair_block(
        buddy=man, participant=blocked, kind=PairBlockKind.CONFLICT, reason="neighbours", by=None
    )
    people = [*matched, wants_a_woman, nothing_in_common, blocked]

    matching_round = services.round_run(
        scheme=scheme,
        participant_ids=[p.pk for p in people],
        buddy_ids=[man.pk, other_man.pk],
        by=coordinator,
    )

    assert matching_round.matches.count() == 3  # two with the first buddy, one with the other
    left_out = {row.participant: row.reason for row in matching_round.left_out.all()}
    assert left_out == {
        wants_a_woman: LeftOutReason.PREFERENCE,
        nothing_in_common: LeftOutReason.NO_ELIGIBLE_BUDDY,
        blocked: LeftOutReason.NO_ELIGIBLE_BUDDY,
    }
    # Everyone chosen is accounted for: matched, or listed with a reason.
    assert matching_round.assigned_count + len(left_out) == matching_round.participant_count


def test_someone_left_out_because_every_suitable_buddy_is_full(scheme, coordinator):
    (cooking,) = menu(scheme, "Cooking")
    buddy = cleared_buddy(scheme, items=[cooking])
    first, second = (waiting_participant(scheme, items=[cooking]) for _ in range(2))
    matching_round = services.round_run(
        scheme=scheme, participant_ids=[first.pk, second.pk], buddy_ids=[buddy.pk], by=coordinator
    )
    (row,) = matching_round.left_out.all()
    assert row.reason == LeftOutReason.ALL_FULL
    assert row.participant in (first, second)
    assert matching_round.matches.get().state == MatchState.DRAFT


# --- Pages ------------------------------------------------------------------------------------


class RoundPagesTest(PersonaTestCase):
    def run_round(self, extra_left_out=0):
        (cooking,) = menu(self.scheme, "Cooking")
        buddy = cleared_buddy(self.scheme, items=[cooking], postcode_district="SW9")
        long_waiter = waiting_participant(self.scheme, items=[cooking], postcode_district="SW2")
        newcomer = waiting_participant(self.scheme, items=[cooking], postcode_district="SW9")
        waiting_for(long_waiter, 101)
        waiting_for(newcomer, 16)
        picky = waiting_participant(self.scheme, items=[cooking], wants_buddy_gender="man")
        others = [waiting_participant(self.scheme) for _ in range(extra_left_out)]
        return services.round_run(
            scheme=self.scheme,
            participant_ids=[p.pk for p in [long_waiter, newcomer, picky, *others]],
            buddy_ids=[buddy.pk],
            by=self.coordinator,
        ), (long_waiter, newcomer, picky)

    def test_the_round_page_explains_waiting_and_lists_who_was_left_out(self):
        matching_round, (long_waiter, newcomer, picky) = self.run_round()
        self.login_as("coordinator")
        page = self.client.get(f"/coordinator/matching/rounds/{matching_round.pk}/")
        self.assertContains(page, "Waiting for 101 days")
        self.assertContains(page, "Left out of this round (2)")
        self.assertContains(page, newcomer.user.display_name)
        self.assertContains(page, "All buddies who suit them are full")
        self.assertContains(page, picky.user.display_name)
        self.assertContains(page, "ruled out every buddy in the round")
        self.assertContains(page, f'href="/coordinator/matching/participants/{newcomer.pk}/"')

    def test_the_round_page_stays_flat_as_the_left_out_list_grows(self):
        self.login_as("coordinator")
        small, _ = self.run_round()
        large, _ = self.run_round(extra_left_out=6)
        self.assertEqual(large.left_out.count(), 8)

        def count(matching_round):
            with CaptureQueriesContext(connection) as queries:
                self.client.get(f"/coordinator/matching/rounds/{matching_round.pk}/")
            return len(queries)

        self.assertEqual(count(small), count(large))

    def test_past_rounds_and_events_are_linked_from_the_workspace(self):
        matching_round, _ = self.run_round()
        event = SpeedEvent.objects.create(
            scheme=self.scheme, name="Autumn mixer", held_on=timezone.localdate()
        )
        foreign = SpeedEvent.objects.create(
            scheme=self.other_scheme, name="Elsewhere", held_on=timezone.localdate()
        )
        self.login_as("coordinator")
        page = self.client.get("/coordinator/matching/")
        self.assertContains(page, f'href="/coordinator/matching/rounds/{matching_round.pk}/"')
        self.assertContains(page, f'href="/coordinator/matching/events/{event.pk}/"')
        self.assertContains(page, 'href="/coordinator/matching/history/"')
        self.assertNotContains(page, f"/coordinator/matching/events/{foreign.pk}/")
        history = self.client.get("/coordinator/matching/history/")
        self.assertContains(history, f'href="/coordinator/matching/rounds/{matching_round.pk}/"')
        self.assertContains(history, "1 of 3 matched")
        self.assertContains(history, "Autumn mixer")
        self.assertNotContains(history, "Elsewhere")

    def test_history_stays_flat_as_rounds_and_events_grow(self):
        self.login_as("coordinator")

        def count():
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(self.client.get("/coordinator/matching/history/").status_code, 200)
                self.assertEqual(self.client.get("/coordinator/matching/").status_code, 200)
            return len(queries)

        self.run_round()
        SpeedEvent.objects.create(scheme=self.scheme, name="One", held_on=timezone.localdate())
        few = count()
        for number in range(4):
            self.run_round()
            SpeedEvent.objects.create(
                scheme=self.scheme, name=f"Event {number}", held_on=timezone.localdate()
            )
        self.assertEqual(few, count())


def test_a_participant_choosing_a_buddy_is_not_told_about_waiting_time(scheme, coordinator):
    """Waiting is a reason for the coordinator's ranking, not something about the buddy."""
    (cooking,) = menu(scheme, "Cooking")
    participant = waiting_participant(scheme, items=[cooking])
    waiting_for(participant, 101)
    cleared_buddy(scheme, items=[cooking])
    offer = services.suggestion_offer_create(participant=participant, by=coordinator)
    (option,) = offer.options.all()
    assert [line["label"] for line in option.reasons] == ["Offers what is wanted: Cooking"]
    assert option.score == pytest.approx(10 + 101 / 7)  # the ranking still counts it
