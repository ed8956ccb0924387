"""Matching rounds: waiting time counts, and everyone left out is listed with the reason."""

from datetime import timedelta

import pytest
from django.utils import timezone

from buddyscheme.models import ParticipantEnrolment, Role
from matching import selectors, services
from matching.models import LeftOutReason, MatchState, PairBlockKind

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
    assert {"label": "Waiting for 101 days", "points": 14.43} in draft.reasons
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
