from datetime import timedelta

import pytest
from django.utils import timezone

from buddyscheme.errors import DomainError
from buddyscheme.models import BuddyStage, BuddyVetting, Membership, Role
from matching import selectors, services
from matching.models import (
    Match,
    MatchEvent,
    MatchState,
    PairBlock,
    PairBlockKind,
    SpeedEvent,
    slot_index,
)

from ..factories import (
    MembershipFactory,
    SchemeFactory,
    UserFactory,
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


def test_suggestions_rank_and_explain_and_respect_every_hard_constraint(scheme):
    cooking, forms, english = menu(scheme, "Cooking", "Benefits forms", "English practice")
    participant = waiting_participant(
        scheme,
        items=[cooking, forms],
        postcode_district="SW9",
        languages=["English"],
        wants_buddy_gender="woman",
    )
    best = cleared_buddy(
        scheme,
        items=[cooking, forms],
        postcode_district="SW9",
        gender="woman",
        languages=["english"],
    )
    good = cleared_buddy(scheme, items=[english], postcode_district="SW2", gender="woman")
    cleared_buddy(
        scheme, items=[cooking, forms], gender="man"
    )  # excluded: not the gender asked for
    lapsed = cleared_buddy(scheme, items=[cooking, forms], gender="woman")
    lapsed.dbs_checks.update(renewal_due=timezone.localdate() - timedelta(days=1))
    unapproved = cleared_buddy(scheme, items=[cooking], gender="woman")
    BuddyVetting.objects.filter(membership=unapproved).update(stage=BuddyStage.PAUSED)
    full = cleared_buddy(scheme, items=[cooking], gender="woman", capacity=1)
    Match.objects.create(
        scheme=scheme, buddy=full, participant=waiting_participant(scheme), state=MatchState.ACTIVE
    )
    never = cleared_buddy(scheme, items=[cooking], gender="woman")
    services.pair_block(
        buddy=never, participant=participant, kind=PairBlockKind.NEVER_AGAIN, reason="x", by=None
    )
    conflict = cleared_buddy(scheme, items=[cooking], gender="woman")
    services.pair_block(
        buddy=conflict,
        participant=participant,
        kind=PairBlockKind.CONFLICT,
        reason="neighbour",
        by=None,
    )
    other_scheme_buddy = cleared_buddy(SchemeFactory(), items=[], gender="woman")

    candidates = selectors.suggestions_for(participant)
    assert [c.buddy for c in candidates] == [best, good]
    top = candidates[0].suggestion
    assert {"label": "Offers what is wanted: Benefits forms, Cooking", "points": 20} in [
        r.as_dict() for r in top.reasons
    ]
    assert top.total == sum(r.points for r in top.reasons)
    assert other_scheme_buddy not in [c.buddy for c in candidates]


def test_suggestions_use_a_constant_number_of_queries(scheme, django_assert_max_num_queries):
    items = menu(scheme, "Cooking", "Walking")
    participant = waiting_participant(scheme, items=items)
    for _ in range(3):
        cleared_buddy(scheme, items=items)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    selectors.suggestions_for(participant)  # first use creates the scheme's matching settings
    with CaptureQueriesContext(connection) as few:
        assert len(selectors.suggestions_for(participant)) == 3
    for _ in range(25):
        cleared_buddy(scheme, items=items, languages=["french"])
    with CaptureQueriesContext(connection) as many:
        assert len(selectors.suggestions_for(participant)) == 28
    assert len(many) == len(few)


def test_the_life_of_a_match(scheme, coordinator):
    participant, buddy = waiting_participant(scheme), cleared_buddy(scheme)
    match = services.match_create(participant=participant, buddy=buddy, by=coordinator)
    assert match.state == MatchState.DRAFT
    services.match_propose(match=match, by=coordinator)
    match = services.match_accept(match=match, by_membership=participant)
    assert match.state == MatchState.PROPOSED  # one side only
    match = services.match_accept(match=match, by_membership=buddy)
    assert match.state == MatchState.ACCEPTED
    intro = timezone.now() + timedelta(days=3)
    match = services.match_introduce(match=match, intro_at=intro, by=coordinator)
    sign_all(match)
    match = services.match_activate(match=match, by=coordinator)
    assert match.state == MatchState.ACTIVE and match.review_due is not None
    match = services.match_start_ending(match=match, by=coordinator, reason="goals met")
    match = services.match_end(match=match, by=coordinator, reason="planned completion")
    assert match.state == MatchState.ENDED
    assert list(MatchEvent.objects.filter(match=match).values_list("to_state", flat=True)) == [
        "draft",
        "proposed",
        "accepted",
        "introduced",
        "active",
        "ending",
        "ended",
    ]


def test_wrong_transitions_give_a_clear_message(scheme, coordinator):
    match = services.match_create(
        participant=waiting_participant(scheme), buddy=cleared_buddy(scheme), by=coordinator
    )
    with pytest.raises(DomainError, match="This match is draft, so it cannot be moved to active"):
        services.match_activate(match=match, by=coordinator)
    with pytest.raises(DomainError, match="nothing to accept"):
        services.match_accept(match=match, by_membership=match.buddy)
    stranger = MembershipFactory(scheme=scheme, role=Role.BUDDY)
    services.match_propose(match=match, by=coordinator)
    with pytest.raises(DomainError, match="Only the two people"):
        services.match_accept(match=match, by_membership=stranger)


def test_decline_returns_the_participant_to_the_pool_with_the_reason(scheme, coordinator):
    participant, buddy = waiting_participant(scheme), cleared_buddy(scheme)
    match = services.match_create(
        participant=participant, buddy=buddy, by=coordinator, state=MatchState.PROPOSED
    )
    assert participant not in selectors.waiting_participants(scheme)
    match = services.match_decline(
        match=match, by_membership=participant, reason="  Times do not suit me "
    )
    assert (match.state, match.declined_by, match.decline_reason) == (
        "declined",
        "participant",
        "Times do not suit me",
    )
    assert participant in selectors.waiting_participants(scheme)


def test_a_reason_for_saying_no_is_optional(scheme, coordinator):
    """Issue 14 point 4: a reason is asked only after No, and may be left out."""
    match = services.match_create(
        participant=waiting_participant(scheme),
        buddy=cleared_buddy(scheme),
        by=coordinator,
        state=MatchState.PROPOSED,
    )
    match = services.match_decline(match=match, by_membership=match.buddy, reason=" ")
    assert (match.state, match.declined_by, match.decline_reason) == ("declined", "buddy", "")


def test_a_lapsed_buddy_cannot_be_matched_or_activated(scheme, coordinator):
    participant, buddy = waiting_participant(scheme), cleared_buddy(scheme)
    match = services.match_create(
        participant=participant, buddy=buddy, by=coordinator, state=MatchState.PROPOSED
    )
    services.match_accept(match=match, by_membership=participant)
    services.match_accept(match=match, by_membership=buddy)
    services.match_introduce(match=match, intro_at=timezone.now(), by=coordinator)
    sign_all(match)
    buddy.dbs_checks.update(renewal_due=timezone.localdate() - timedelta(days=1))
    with pytest.raises(DomainError, match="DBS renewal was due"):
        services.match_activate(match=match, by=coordinator)
    match.refresh_from_db()
    assert match.state == MatchState.INTRODUCED  # the refusal rolled back
    with pytest.raises(DomainError, match="DBS renewal"):
        services.match_create(participant=waiting_participant(scheme), buddy=buddy, by=coordinator)


def test_the_database_refuses_two_open_matches_for_one_pair(scheme, coordinator):
    participant, buddy = waiting_participant(scheme), cleared_buddy(scheme, capacity=2)
    services.match_create(participant=participant, buddy=buddy, by=coordinator)
    with pytest.raises(DomainError):
        services.match_create(participant=participant, buddy=buddy, by=coordinator)


def test_breakdown_can_record_never_again(scheme, coordinator):
    participant, buddy = waiting_participant(scheme), cleared_buddy(scheme, capacity=2)
    match = Match.objects.create(
        scheme=scheme, participant=participant, buddy=buddy, state=MatchState.ACTIVE
    )
    services.match_end(match=match, by=coordinator, reason="breakdown", never_again=True)
    assert PairBlock.objects.filter(
        buddy=buddy, participant=participant, kind="never_again"
    ).exists()
    with pytest.raises(DomainError, match="blocked"):
        services.match_create(participant=participant, buddy=buddy, by=coordinator)


def test_repeated_rematch_requests_are_flagged(scheme, coordinator):
    participant = waiting_participant(scheme)
    for _ in range(3):
        buddy = cleared_buddy(scheme)
        match = Match.objects.create(
            scheme=scheme, participant=participant, buddy=buddy, state=MatchState.ACTIVE
        )
        services.rematch_request(match=match, by_membership=participant, reason="we don't get on")
        services.match_end(match=match, by=coordinator, reason="re-matched")
    assert list(selectors.rematch_flags(scheme)) == [participant]
    old = timezone.now() - timedelta(days=400)
    participant.matches_as_participant.first().rematch_requests.update(created_at=old)
    assert list(selectors.rematch_flags(scheme)) == []


def test_a_round_is_optimal_drafts_only_and_releases_in_bulk(scheme, coordinator):
    cooking, forms = menu(scheme, "Cooking", "Forms")
    evening = 1 << slot_index(2, 2)
    ann = waiting_participant(scheme, items=[cooking, forms], availability=evening)
    bob = waiting_participant(scheme, items=[cooking])
    # Greedy would give Ann to Cara (the single best pair) and leave Bob with nobody.
    cara = cleared_buddy(scheme, items=[cooking, forms])  # Ann–Cara scores 20
    dev = cleared_buddy(scheme, items=[forms], availability=evening)  # Ann–Dev 14, Bob–Cara 10
    matching_round = services.round_run(
        scheme=scheme, participant_ids=[ann.pk, bob.pk], buddy_ids=[cara.pk, dev.pk], by=coordinator
    )
    pairs = {(m.participant, m.buddy) for m in matching_round.matches.all()}
    assert pairs == {(ann, dev), (bob, cara)}
    assert matching_round.total_score > matching_round.greedy_score
    assert all(m.state == MatchState.DRAFT for m in matching_round.matches.all())
    # The coordinator drops one draft and releases the rest.
    services.match_withdraw(match=matching_round.matches.get(participant=bob), by=coordinator)
    assert services.round_release(matching_round=matching_round, by=coordinator) == 1
    assert matching_round.matches.get(participant=ann).state == MatchState.PROPOSED


def test_participant_choice_shows_three_and_records_the_pick(scheme, coordinator):
    items = menu(scheme, "Cooking")
    participant = waiting_participant(scheme, items=items)
    buddies = [cleared_buddy(scheme, items=items) for _ in range(5)]
    offer = services.suggestion_offer_create(participant=participant, by=coordinator)
    assert offer.options.count() == 3
    stranger = waiting_participant(scheme)
    with pytest.raises(DomainError):
        services.suggestion_choose(
            offer=offer, option_id=offer.options.first().pk, by_membership=stranger
        )
    services.suggestion_ask_for_others(offer=offer, by_membership=participant)
    second = services.suggestion_offer_create(participant=participant, by=coordinator)
    shown_first = set(offer.options.values_list("buddy_id", flat=True))
    shown_second = set(second.options.values_list("buddy_id", flat=True))
    assert not shown_first & shown_second and shown_first | shown_second == {b.pk for b in buddies}
    match = services.suggestion_choose(
        offer=second, option_id=second.options.first().pk, by_membership=participant
    )
    assert match.state == MatchState.PROPOSED and match.participant_accepted_at
    with pytest.raises(DomainError, match="already answered"):
        services.suggestion_choose(
            offer=second, option_id=second.options.first().pk, by_membership=participant
        )


def test_speed_buddying_event_produces_a_stable_matching_with_vetoes(scheme, coordinator):
    event = SpeedEvent.objects.create(
        scheme=scheme, name="Spring mixer", held_on=timezone.localdate()
    )
    p1, p2 = waiting_participant(scheme), waiting_participant(scheme)
    b1, b2 = cleared_buddy(scheme), cleared_buddy(scheme)
    for p in (p1, p2):
        for b in (b1, b2):
            services.speed_meeting_record(event=event, buddy=b, participant=p)
    services.speed_preferences_save(event=event, ranker=p1, choices={b1.pk: "1", b2.pk: "2"})
    services.speed_preferences_save(event=event, ranker=p2, choices={b1.pk: "1", b2.pk: "veto"})
    services.speed_preferences_save(event=event, ranker=b1, choices={p1.pk: "1", p2.pk: "2"})
    services.speed_preferences_save(event=event, ranker=b2, choices={p1.pk: "1", p2.pk: "2"})
    with pytest.raises(DomainError, match="different place"):
        services.speed_preferences_save(event=event, ranker=b2, choices={p1.pk: "1", p2.pk: "1"})
    matches = services.speed_event_match(event=event, by=coordinator)
    assert {(m.participant, m.buddy) for m in matches} == {(p1, b1)}  # p2 vetoed b2, b1 prefers p1
    with pytest.raises(DomainError, match="already been made"):
        services.speed_event_match(event=event, by=coordinator)


def test_someone_cannot_be_matched_with_themself(scheme, coordinator):
    user = UserFactory()
    buddy = cleared_buddy(scheme)
    Membership.objects.filter(pk=buddy.pk).update(user=user)
    participant = waiting_participant(scheme)
    Membership.objects.filter(pk=participant.pk).update(user=user)
    assert selectors.suggestions_for(Membership.objects.get(pk=participant.pk)) == []
