"""Every change to a match, a pair block or a rematch request leaves one audit row."""

from datetime import timedelta

import pytest
from django.utils import timezone

from buddyscheme.errors import DomainError
from buddyscheme.models import AuditEvent, Role
from matching import services
from matching.models import MatchState, PairBlock, PairBlockKind

from ..base import assert_audited
from ..factories import (
    MembershipFactory,
    SchemeFactory,
    cleared_buddy,
    menu,
    sign_all,
    waiting_participant,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheme():
    return SchemeFactory()


@pytest.fixture
def coordinator(scheme):
    return MembershipFactory(scheme=scheme, role=Role.COORDINATOR).user


def test_each_step_in_the_life_of_a_match_is_recorded_with_who_took_it(scheme, coordinator):
    participant, buddy = waiting_participant(scheme), cleared_buddy(scheme)
    match = services.match_create(participant=participant, buddy=buddy, by=coordinator)
    assert_audited(verb="match_create", obj=match, actor=coordinator, scheme=scheme)
    services.match_propose(match=match, by=coordinator)
    assert_audited(verb="match_propose", obj=match, actor=coordinator, scheme=scheme)
    services.match_accept(match=match, by_membership=participant)
    services.match_accept(match=match, by_membership=buddy)
    accepted = AuditEvent.objects.filter(verb="match_accept", object_id=match.pk)
    assert {row.actor_id for row in accepted} == {participant.user_id, buddy.user_id}
    assert {row.scheme_id for row in accepted} == {scheme.pk}
    match = services.match_introduce(
        match=match, intro_at=timezone.now() + timedelta(days=3), by=coordinator
    )
    assert_audited(verb="match_introduce", obj=match, actor=coordinator, scheme=scheme)
    services.rematch_request(match=match, by_membership=participant, reason="We never talk")
    rematch = match.rematch_requests.get()
    assert_audited(verb="rematch_request", obj=rematch, actor=participant.user, scheme=scheme)
    sign_all(match)
    match = services.match_activate(match=match, by=coordinator)
    assert_audited(verb="match_activate", obj=match, actor=coordinator, scheme=scheme)
    match = services.match_start_ending(match=match, by=coordinator, reason="goals met")
    assert_audited(verb="match_start_ending", obj=match, actor=coordinator, scheme=scheme)
    services.match_end(match=match, by=coordinator, reason="planned", never_again=True)
    assert_audited(verb="match_end", obj=match, actor=coordinator, scheme=scheme)
    block = PairBlock.objects.get(buddy=buddy, participant=participant)
    assert_audited(verb="pair_block", obj=block, actor=coordinator, scheme=scheme)


def test_declining_and_withdrawing_are_recorded(scheme, coordinator):
    participant = waiting_participant(scheme)
    first, second = cleared_buddy(scheme), cleared_buddy(scheme)
    declined = services.match_create(
        participant=participant, buddy=first, by=coordinator, state=MatchState.PROPOSED
    )
    services.match_decline(match=declined, by_membership=first, reason="Too far to travel")
    assert_audited(verb="match_decline", obj=declined, actor=first.user, scheme=scheme)
    withdrawn = services.match_create(participant=participant, buddy=second, by=coordinator)
    services.match_withdraw(match=withdrawn, by=coordinator, reason="changed our mind")
    assert_audited(verb="match_withdraw", obj=withdrawn, actor=coordinator, scheme=scheme)


def test_a_refused_transition_leaves_no_row(scheme, coordinator):
    match = services.match_create(
        participant=waiting_participant(scheme), buddy=cleared_buddy(scheme), by=coordinator
    )
    with pytest.raises(DomainError):
        services.match_activate(match=match, by=coordinator)  # still a draft
    assert not AuditEvent.objects.filter(verb="match_activate").exists()


def test_a_pair_block_is_recorded_once(scheme, coordinator):
    participant, buddy = waiting_participant(scheme), cleared_buddy(scheme)
    for _ in range(2):
        block = services.pair_block(
            buddy=buddy,
            participant=participant,
            kind=PairBlockKind.CONFLICT,
            reason="neighbours",
            by=coordinator,
        )
    assert_audited(verb="pair_block", obj=block, actor=coordinator, scheme=scheme)


def test_a_round_is_recorded_and_its_release_proposes_each_draft(scheme, coordinator):
    cooking = menu(scheme, "Cooking")
    participants = [waiting_participant(scheme, items=cooking) for _ in range(2)]
    buddies = [cleared_buddy(scheme, items=cooking) for _ in range(2)]
    matching_round = services.round_run(
        scheme=scheme,
        participant_ids=[p.pk for p in participants],
        buddy_ids=[b.pk for b in buddies],
        by=coordinator,
    )
    assert_audited(verb="round_run", obj=matching_round, actor=coordinator, scheme=scheme)
    services.round_release(matching_round=matching_round, by=coordinator)
    assert matching_round.matches.count() == 2
    for match in matching_round.matches.all():
        assert_audited(verb="match_propose", obj=match, actor=coordinator, scheme=scheme)
