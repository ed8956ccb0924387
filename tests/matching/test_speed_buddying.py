"""Speed-buddying as stored: only people who can be matched take part, and what is saved is
stable (no participant and buddy who met would both rather have each other)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from buddyscheme.errors import DomainError
from buddyscheme.models import ParticipantEnrolment, Role
from matching import selectors, services
from matching.models import OPEN_STATES, Match, MatchState, PairBlockKind, SpeedEvent

from ..base import PersonaTestCase, assert_audited
from ..factories import MembershipFactory, SchemeFactory, cleared_buddy, waiting_participant


def new_event(scheme, **kwargs):
    return SpeedEvent.objects.create(
        scheme=scheme, name="Spring mixer", held_on=timezone.localdate(), **kwargs
    )


def met(event, pairs):
    for participant, buddy in pairs:
        services.speed_meeting_record(event=event, buddy=buddy, participant=participant)


@pytest.mark.django_db
def test_someone_already_matched_does_not_take_a_place_someone_else_wanted():
    """The case from the issue: 0 matches were made while a buddy had a free place and a
    participant ranked them first."""
    scheme = SchemeFactory()
    coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR).user
    buddy = cleared_buddy(scheme)
    taken, free = waiting_participant(scheme), waiting_participant(scheme)
    event = new_event(scheme)
    met(event, [(taken, buddy), (free, buddy)])
    services.speed_preferences_save(event=event, ranker=taken, choices={buddy.pk: "1"})
    services.speed_preferences_save(event=event, ranker=free, choices={buddy.pk: "1"})
    services.speed_preferences_save(
        event=event, ranker=buddy, choices={taken.pk: "1", free.pk: "2"}
    )
    # After the event, but before the matches are made, the buddy's first choice is matched
    # with someone else.
    Match.objects.create(
        scheme=scheme, participant=taken, buddy=cleared_buddy(scheme), state=MatchState.ACTIVE
    )

    made = services.speed_event_match(event=event, by=coordinator)

    assert [(m.participant, m.buddy) for m in made] == [(free, buddy)]
    assert Match.objects.get(participant=free).state == MatchState.DRAFT
    assert_audited(verb="speed_event_match", obj=event, actor=coordinator, scheme=scheme)


@pytest.mark.django_db
def test_hard_preferences_and_blocked_pairs_are_left_out_before_matching():
    scheme = SchemeFactory()
    coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR).user
    man, woman = cleared_buddy(scheme, gender="man"), cleared_buddy(scheme, gender="woman")
    wants_a_woman = waiting_participant(scheme, wants_buddy_gender="woman")
    neighbour = waiting_participant(scheme)
    services.pair_block(
        buddy=woman, participant=neighbour, kind=PairBlockKind.CONFLICT, reason="x", by=None
    )
    event = new_event(scheme)
    met(event, [(wants_a_woman, man), (wants_a_woman, woman), (neighbour, woman), (neighbour, man)])
    # Everyone's first choice is a pair that may not be made.
    services.speed_preferences_save(
        event=event, ranker=wants_a_woman, choices={man.pk: "1", woman.pk: "2"}
    )
    services.speed_preferences_save(
        event=event, ranker=neighbour, choices={woman.pk: "1", man.pk: "2"}
    )
    services.speed_preferences_save(
        event=event, ranker=man, choices={wants_a_woman.pk: "1", neighbour.pk: "2"}
    )
    services.speed_preferences_save(
        event=event, ranker=woman, choices={neighbour.pk: "1", wants_a_woman.pk: "2"}
    )
    made = services.speed_event_match(event=event, by=coordinator)
    assert {(m.participant, m.buddy) for m in made} == {(wants_a_woman, woman), (neighbour, man)}


@pytest.mark.django_db
def test_rankings_close_when_the_event_says():
    scheme = SchemeFactory()
    participant, buddy = waiting_participant(scheme), cleared_buddy(scheme)
    event = new_event(scheme, rankings_close_at=timezone.now() - timedelta(minutes=1))
    met(event, [(participant, buddy)])
    with pytest.raises(DomainError, match="closed"):
        services.speed_preferences_save(event=event, ranker=participant, choices={buddy.pk: "1"})


# --- The stored outcome is stable, whoever turns up ------------------------------------------

PARTICIPANT_KINDS = ["waiting", "waiting", "waiting", "already matched", "not eligible", "picky"]
BUDDY_KINDS = ["cleared", "cleared", "cleared", "lapsed", "paused"]


@st.composite
def events(draw):
    """Who came (some of whom cannot be matched), who met whom, and everyone's answers."""
    participants = draw(st.lists(st.sampled_from(PARTICIPANT_KINDS), min_size=1, max_size=5))
    buddies = [
        {
            "kind": draw(st.sampled_from(BUDDY_KINDS)),
            "capacity": draw(st.integers(1, 3)),
            "already": draw(st.integers(0, 3)),  # open matches from before (capped at capacity)
            "gender": draw(st.sampled_from(["woman", "man"])),
        }
        for _ in range(draw(st.integers(1, 4)))
    ]
    pairs = [(p, b) for p in range(len(participants)) for b in range(len(buddies))]
    meetings = [pair for pair in pairs if draw(st.integers(0, 3))]
    blocked = [pair for pair in meetings if draw(st.integers(0, 9)) == 0]
    answers = {}  # (ranker side, index) -> {other index: "1" | "2" | … | "veto" | ""}
    for side, count, index in (("p", len(participants), 0), ("b", len(buddies), 1)):
        for me in range(count):
            others = draw(
                st.permutations([pair[1 - index] for pair in meetings if pair[index] == me])
            )
            choice, place = {}, 1
            for other in others:
                answer = draw(st.sampled_from(["rank", "rank", "rank", "veto", "unsure"]))
                if answer == "rank":
                    choice[other], place = str(place), place + 1
                else:
                    choice[other] = "veto" if answer == "veto" else ""
            answers[side, me] = choice
    return participants, buddies, meetings, blocked, answers


def build(spec):
    """The people and the event in the database, through the services where there is one."""
    participant_kinds, buddy_specs, meetings, blocked, answers = spec
    scheme = SchemeFactory()
    coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR).user
    spare_buddy = cleared_buddy(scheme, capacity=10)
    participants = []
    for kind in participant_kinds:
        person = waiting_participant(scheme, wants_buddy_gender="woman" if kind == "picky" else "")
        if kind == "already matched":
            Match.objects.create(
                scheme=scheme, participant=person, buddy=spare_buddy, state=MatchState.ACTIVE
            )
        elif kind == "not eligible":
            ParticipantEnrolment.objects.filter(membership=person).update(eligible=False)
        participants.append(person)
    buddies = []
    for spec_row in buddy_specs:
        buddy = cleared_buddy(scheme, capacity=spec_row["capacity"], gender=spec_row["gender"])
        for _ in range(min(spec_row["already"], spec_row["capacity"])):
            Match.objects.create(
                scheme=scheme,
                participant=waiting_participant(scheme),
                buddy=buddy,
                state=MatchState.ACTIVE,
            )
        if spec_row["kind"] == "lapsed":
            buddy.dbs_checks.update(renewal_due=timezone.localdate() - timedelta(days=1))
        elif spec_row["kind"] == "paused":
            buddy.vetting.stage = "paused"
            buddy.vetting.save()
        buddies.append(buddy)
    event = new_event(scheme)
    met(event, [(participants[p], buddies[b]) for p, b in meetings])
    for p, b in blocked:
        services.pair_block(
            buddy=buddies[b],
            participant=participants[p],
            kind=PairBlockKind.NEVER_AGAIN,
            reason="ended badly",
            by=None,
        )
    for (side, me), choice in answers.items():
        ranker, others = (participants[me], buddies) if side == "p" else (buddies[me], participants)
        services.speed_preferences_save(
            event=event, ranker=ranker, choices={others[o].pk: v for o, v in choice.items()}
        )
    return scheme, coordinator, event, participants, buddies


def preference_order(answers_of_one):
    """Lower is better; unranked ("not sure") people come after everyone ranked."""
    return {
        other: int(value) if value not in ("", "veto") else 10_000
        for other, value in answers_of_one.items()
    }


class StoredSpeedMatchingTest(HypothesisTestCase):
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(events())
    def test_the_saved_matches_are_stable_and_break_no_rule(self, spec):
        _, _, meetings, _, answers = spec
        scheme, coordinator, event, participants, buddies = build(spec)
        # Which pairs may be matched at all, before any is made: the participant is waiting for
        # a buddy, and the pair passes the rule every match must pass.
        waiting = set(selectors.waiting_participants(scheme))
        allowed = {
            (p, b): participants[p] in waiting
            and not services.check_pair(participants[p], buddies[b])
            for p, b in meetings
        }

        services.speed_event_match(event=event, by=coordinator)

        got = {}
        for match in Match.objects.filter(scheme=scheme, state=MatchState.DRAFT):
            p, b = participants.index(match.participant), buddies.index(match.buddy)
            assert (p, b) in allowed, "matched two people who never met"
            assert allowed[p, b], "matched a pair that may not be matched"
            assert answers["p", p][b] != "veto" and answers["b", b][p] != "veto", "veto ignored"
            assert p not in got, "a participant got two buddies at one event"
            got[p] = b
        for buddy in buddies:
            open_now = Match.objects.filter(buddy=buddy, state__in=OPEN_STATES).count()
            assert open_now <= buddy.match_profile.capacity, "a buddy was given too many people"

        def free_places(b):
            open_now = Match.objects.filter(buddy=buddies[b], state__in=OPEN_STATES).count()
            return buddies[b].match_profile.capacity - open_now

        for p, b in meetings:
            acceptable = (
                allowed[p, b] and answers["p", p][b] != "veto" and answers["b", b][p] != "veto"
            )
            if not acceptable or got.get(p) == b:
                continue
            wants = preference_order(answers["p", p])
            participant_prefers = p not in got or wants[b] < wants[got[p]]
            if not participant_prefers:
                continue
            ranks = preference_order(answers["b", b])
            holding = [q for q, c in got.items() if c == b]
            buddy_prefers = free_places(b) > 0 or any(ranks[p] < ranks[q] for q in holding)
            assert not buddy_prefers, f"blocking pair: participant {p} and buddy {b}"


# --- Finding the ranking page -----------------------------------------------------------------


class RankingCardTest(PersonaTestCase):
    def setUp(self):
        self.event = new_event(self.scheme)
        self.event.name = "Autumn mixer"
        self.event.save()
        met(self.event, [(self.participant_membership, self.buddy_membership)])
        self.rank_url = f"/events/{self.event.pk}/rank/"

    def test_everyone_invited_finds_the_ranking_page_from_home_and_my_matches(self):
        for persona, home in (("participant", "/me/"), ("buddy", "/today/")):
            self.login_as(persona)
            page = self.client.get(home)
            self.assertContains(page, "Rank the people you met")
            self.assertContains(page, f'href="{self.rank_url}"')
            self.assertContains(page, "Autumn mixer")
            self.assertContains(self.client.get("/matches/"), f'href="{self.rank_url}"')

    def test_the_card_says_when_choices_are_given_and_can_be_changed(self):
        services.speed_preferences_save(
            event=self.event,
            ranker=self.participant_membership,
            choices={self.buddy_membership.pk: "1"},
        )
        self.login_as("participant")
        page = self.client.get("/me/")
        self.assertContains(page, "You have given your choices")
        self.assertContains(page, "Change my choices")

    def test_nobody_else_and_nothing_closed_shows_a_card(self):
        outsider = waiting_participant(self.scheme)
        self.client.force_login(outsider.user)
        self.assertNotContains(self.client.get("/me/"), "Rank the people you met")
        self.assertNotContains(self.client.get("/matches/"), self.rank_url)
        self.login_as("participant")
        self.event.rankings_close_at = timezone.now() - timedelta(minutes=1)
        self.event.save()
        self.assertNotContains(self.client.get("/me/"), "Rank the people you met")
        self.event.rankings_close_at = None
        self.event.matched_at = timezone.now()
        self.event.save()
        self.assertNotContains(self.client.get("/me/"), "Rank the people you met")
        self.assertNotContains(self.client.get("/matches/"), self.rank_url)

    def test_the_ranking_page_says_plainly_when_rankings_have_closed(self):
        self.event.rankings_close_at = timezone.now() - timedelta(minutes=1)
        self.event.save()
        self.login_as("participant")
        page = self.client.get(self.rank_url)
        self.assertContains(page, "Rankings for this event have closed")
        self.assertNotContains(page, "Save my choices")

    def test_home_pages_stay_flat_as_events_grow(self):
        def count(persona, url):
            self.login_as(persona)
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(self.client.get(url).status_code, 200)
            return len(queries)

        urls = [("participant", "/me/"), ("buddy", "/today/"), ("participant", "/matches/")]
        for persona, url in urls:  # a first visit makes settings rows that later ones read
            count(persona, url)
        few = [count(persona, url) for persona, url in urls]
        for _ in range(3):
            event = new_event(self.scheme)
            met(event, [(self.participant_membership, self.buddy_membership)])
        self.assertEqual(few, [count(persona, url) for persona, url in urls])
