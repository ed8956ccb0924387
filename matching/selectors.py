"""Reads for matching. Each returns what a page needs in a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import cast

import django.dispatch
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    StringAgg,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.dispatch import receiver
from django.utils import timezone

from buddyscheme.models import BuddyVetting, Membership, Role
from buddyscheme.selectors import (
    HomeCard,
    HomeSection,
    PersonSection,
    PersonStatus,
    dashboard_figures,
    home_cards,
    participant_home_cards,
    people_match_statuses,
    people_supported,
    person_record_sections,
)
from buddyscheme.vetting import cleared_buddies

from .models import (
    CLOSED_STATES,
    OPEN_OFFER,
    OPEN_STATES,
    SLOT_HOURS,
    Match,
    MatchingRound,
    MatchingSettings,
    MatchProfile,
    MatchState,
    MenuItem,
    PairBlock,
    RematchRequest,
    RoundLeftOut,
    SpeedEvent,
    SpeedPreference,
    StopRequest,
    SuggestionOffer,
    SuggestionOption,
    slots_by_day,
)
from .scoring import Facts, Suggestion, Weights, preference_problems, score_matrix, score_pair


@dataclass(frozen=True)
class MatchSection:
    """A part of the match page an app above matching adds (its template and context)."""

    template: str
    context: dict


# Apps above matching add sections to the match page without matching importing them: each
# receiver gets `match` and `viewer` (the Membership looking) and returns a list of
# MatchSection, or nothing for a viewer who may not see it.
match_page_sections = django.dispatch.Signal()


def match_sections(match, viewer) -> list[MatchSection]:
    sections: list[MatchSection] = []
    for _, answer in match_page_sections.send(sender=Match, match=match, viewer=viewer):
        sections += cast(list[MatchSection], answer or [])
    return sections


def matching_settings(scheme) -> MatchingSettings:
    settings_row, _ = MatchingSettings.objects.get_or_create(scheme=scheme)
    return settings_row


def facts(membership: Membership, today=None) -> Facts:
    return facts_for_many(Membership.objects.filter(pk=membership.pk), today)[0]


def _open_matches(side: str):
    return Count(
        f"matches_as_{side}",
        filter=Q(**{f"matches_as_{side}__state__in": OPEN_STATES}),
        distinct=True,
    )


def available_buddies(scheme, today=None) -> list[tuple[Membership, int]]:
    """Cleared buddies with capacity left, and how many more participants each can take.

    The same rule as `available_buddy_facts`, with the people loaded for pages that list them.
    """
    available = available_buddy_facts(scheme, today)
    people = Membership.objects.select_related("user", "user__profile").in_bulk(
        [facts.membership_id for facts, _, _ in available]
    )
    return sorted(
        ((people[facts.membership_id], places) for facts, places, _ in available),
        key=lambda pair: pair[0].pk,
    )


def waiting_participants(scheme, today=None) -> QuerySet[Membership]:
    """Participants still needing a buddy, longest waiting first. `choosing`: they have
    suggestions open to choose from (and are left out of rounds meanwhile)."""
    today = today or timezone.localdate()
    return (
        Membership.objects.filter(
            scheme=scheme, role=Role.PARTICIPANT, is_active=True, enrolment__eligible=True
        )
        .annotate(
            open_matches=_open_matches("participant"),
            choosing=Exists(SuggestionOffer.objects.filter(OPEN_OFFER, participant=OuterRef("pk"))),
        )
        .filter(
            Q(match_profile__isnull=True, open_matches__lt=1)
            | Q(open_matches__lt=F("match_profile__capacity"))
        )
        .select_related("user", "user__profile", "enrolment", "match_profile")
        .order_by("enrolment__waiting_since", "pk")
    )


def participants_choosing(scheme) -> QuerySet:
    """Ids of the scheme's participants with an open offer to choose from (a subquery)."""
    return SuggestionOffer.objects.filter(OPEN_OFFER, participant__scheme=scheme).values(
        "participant_id"
    )


def blocked_pairs(scheme, participant: Membership | None = None) -> set[tuple[int, int]]:
    """(participant, buddy) pairs that must never be suggested: blocks and pairs already open.
    Given a participant, only theirs (suggestions for one person need no more)."""
    blocks = PairBlock.objects.filter(buddy__scheme=scheme)
    open_pairs = Match.objects.filter(scheme=scheme, state__in=OPEN_STATES)
    if participant is not None:
        blocks, open_pairs = (
            blocks.filter(participant=participant),
            open_pairs.filter(participant=participant),
        )
    return set(blocks.values_list("participant_id", "buddy_id")) | set(
        open_pairs.values_list("participant_id", "buddy_id")
    )


FACT_FIELDS = {
    "availability": "match_profile__availability",
    "district": "match_profile__postcode_district",
    "travel_range": "match_profile__travel_range",
    "gender": "match_profile__gender",
    "age_band": "match_profile__age_band",
    "wants_buddy_gender": "match_profile__wants_buddy_gender",
    "capacity": "match_profile__capacity",
    "waiting_since": "enrolment__waiting_since",
}
# Tag lists read as the stored "a,b,c" text: skipping the field's per-value converter is a
# large share of the time for a few thousand rows (suggestions against 2,000 buddies).
TAG_FIELDS = {
    "languages": "match_profile__languages",
    "interests": "match_profile__interests",
    "wants_age_bands": "match_profile__wants_age_bands",
}


def _with_fact_values(memberships: QuerySet[Membership]) -> QuerySet:
    """One row per person with everything matching needs, item ids aggregated in the database."""
    through = MatchProfile.items.through
    item_ids = (
        through.objects.filter(matchprofile=OuterRef("match_profile"))
        .values("matchprofile")
        .annotate(ids=StringAgg(Cast("menuitem_id", CharField()), delimiter=Value(",")))
        .values("ids")  # type: ignore[misc]  # django-stubs cannot see the annotation
    )
    # order_by(): Membership's default ordering would join and sort by scheme name for nothing.
    return (
        memberships.order_by()
        .annotate(
            item_ids=Subquery(item_ids),
            **{
                f"{name}_text": ExpressionWrapper(F(path), output_field=CharField())
                for name, path in TAG_FIELDS.items()
            },
        )
        .values_list(*FACT_COLUMNS)
    )


# The order of the tuples `_with_fact_values` returns (tuples, not dicts: it is hot).
FACT_COLUMNS = (
    "pk",
    "user_id",
    "item_ids",
    *FACT_FIELDS.values(),
    *(f"{name}_text" for name in TAG_FIELDS),
)


def _tags(text: str | None) -> frozenset[str]:
    return frozenset(text.split(",")) if text else frozenset()


# Facts are immutable and wholly determined by their row and the day (waiting time): one row
# seen again (the same buddies, for the next participant or the next page load) reuses its
# Facts instead of building it again, which was most of the Python time of suggestions against
# 2,000 buddies. Bounded, per process; a changed profile is a different row, so never stale.
@lru_cache(maxsize=20_000)
def _facts_from_row(row: tuple, today) -> Facts:
    (
        pk,
        _user_id,
        item_ids,
        availability,
        district,
        travel_range,
        gender,
        age_band,
        wants_buddy_gender,
        capacity,
        waiting_since,  # None for buddies: only participants wait
        languages,
        interests,
        wants_age_bands,
    ) = row
    days_waiting = max((today - waiting_since).days, 0) if waiting_since else 0
    if availability is None:  # no matching profile yet
        return Facts(membership_id=pk, days_waiting=days_waiting)
    return Facts(
        pk,
        frozenset(map(int, item_ids.split(","))) if item_ids else frozenset(),
        _tags(languages),
        _tags(interests),
        availability,
        district,
        travel_range,
        gender,
        age_band,
        wants_buddy_gender,
        _tags(wants_age_bands),
        capacity,
        days_waiting,
    )


def facts_for_many(memberships: QuerySet[Membership], today=None) -> list[Facts]:
    """Facts for many people in one query of plain values (no model instances: it is hot)."""
    today = today or timezone.localdate()
    return [_facts_from_row(row, today) for row in _with_fact_values(memberships)]


def available_buddy_facts(scheme, today=None) -> list[tuple[Facts, int, int]]:
    """(facts, places left, user id) for every cleared buddy with a place free, in two queries."""
    today = today or timezone.localdate()
    open_matches = dict(
        Match.objects.filter(scheme=scheme, state__in=OPEN_STATES)
        .values("buddy")
        .annotate(n=Count("pk"))
        .values_list("buddy", "n")
    )
    result = []
    for row in _with_fact_values(cleared_buddies(scheme, today)):
        fact = _facts_from_row(row, today)
        places = fact.capacity - open_matches.get(fact.membership_id, 0)
        if places > 0:
            result.append((fact, places, row[1]))
    return result


def matchable_pairs(scheme, pairs: set[tuple[int, int]], today=None) -> set[tuple[int, int]]:
    """Those (participant, buddy) pairs that may be matched now: the participant is waiting for
    a buddy, the buddy is cleared with a place, the pair is not blocked or already open, and no
    declared preference is broken. The rule of `services.check_pair`, for many pairs at once."""
    today = today or timezone.localdate()
    waiting = waiting_participants(scheme, today).filter(pk__in={p for p, _ in pairs})
    participant_users = dict(waiting.values_list("pk", "user_id"))
    wanted = {f.membership_id: f for f in facts_for_many(waiting, today)}
    buddies = {f.membership_id: (f, user) for f, _, user in available_buddy_facts(scheme, today)}
    blocked = blocked_pairs(scheme)
    return {
        (p, b)
        for p, b in pairs
        if p in wanted
        and b in buddies
        and (p, b) not in blocked
        and participant_users[p] != buddies[b][1]
        and not preference_problems(wanted[p], buddies[b][0])
    }


@dataclass
class Candidate:
    suggestion: Suggestion
    buddy: Membership
    places_left: int


def suggestions_for(
    participant: Membership, limit: int | None = None, today=None, exclude=()
) -> list[Candidate]:
    """Every eligible buddy for one participant, best first, each with its reasons.

    Scores everyone from plain values, then loads the people shown (the first `limit`).
    """
    scheme = participant.scheme
    weights = Weights.from_settings(matching_settings(scheme))
    wanted = facts_for_many(Membership.objects.filter(pk=participant.pk), today)[0]
    blocked = blocked_pairs(scheme, participant)
    names = dict(MenuItem.objects.filter(category__scheme=scheme).values_list("pk", "name"))
    available = [
        (offered, places_left)
        for offered, places_left, user_id in available_buddy_facts(scheme, today)
        if (participant.pk, offered.membership_id) not in blocked
        and user_id != participant.user_id
        and offered.membership_id not in exclude
    ]
    if not available:
        return []
    # Rank everyone with the vectorised scores, then explain only the people shown.
    scores, allowed = score_matrix([wanted], [offered for offered, _ in available], weights)
    order = sorted(
        (i for i in range(len(available)) if allowed[0, i]),
        key=lambda i: (-scores[0, i], available[i][0].membership_id),
    )
    scored = [
        (score_pair(wanted, available[i][0], weights, names), available[i][1])
        for i in order[:limit]
    ]
    people = Membership.objects.select_related("user", "user__profile").in_bulk(
        [suggestion.buddy.membership_id for suggestion, _ in scored]
    )
    return [
        Candidate(suggestion, people[suggestion.buddy.membership_id], places)
        for suggestion, places in scored
    ]


def matches_for_coordinator(scheme, states=None) -> QuerySet[Match]:
    qs = Match.objects.filter(scheme=scheme).select_related(
        "buddy__user__profile", "participant__user__profile", "round"
    )
    if states:
        qs = qs.filter(state__in=states)
    return qs


def matches_for_member(membership: Membership) -> QuerySet[Match]:
    side = "buddy" if membership.role == Role.BUDDY else "participant"
    return (
        Match.objects.filter(**{side: membership})
        .exclude(state__in=["draft", "withdrawn"])
        .select_related("buddy__user__profile", "participant__user__profile", "scheme")
    )


def rematch_flags(scheme, now=None) -> QuerySet[Membership]:
    """Participants with repeated re-match requests (default 3 within 12 months)."""
    config = matching_settings(scheme)
    since = (now or timezone.now()) - timedelta(days=30 * config.rematch_flag_months)
    return (
        Membership.objects.filter(scheme=scheme, role=Role.PARTICIPANT)
        .annotate(
            recent_requests=Count(
                "matches_as_participant__rematch_requests",
                filter=Q(matches_as_participant__rematch_requests__created_at__gte=since),
            )
        )
        .filter(recent_requests__gte=config.rematch_flag_count)
        .select_related("user", "user__profile")
    )


@dataclass(frozen=True)
class RematchRow:
    """An open re-match request with how often the same person asked before it."""

    request: RematchRequest
    earlier: int  # requests by the same person before this one, on any of their matches
    earlier_on_match: int  # of those, on this match


def rematch_requests_to_handle(scheme) -> list[RematchRow]:
    """Open re-match requests, oldest first, each with the asker's earlier requests counted
    (two queries however many there are)."""
    requests = list(
        open_rematch_requests(scheme)
        .select_related("match__buddy__user__profile", "match__participant__user__profile")
        .order_by("created_at", "pk")
    )
    history: dict[int, list[tuple[int, int, datetime]]] = {}
    for person_id, match_id, pk, at in RematchRequest.objects.filter(
        match__scheme=scheme, requested_by_id__in={r.requested_by_id for r in requests}
    ).values_list("requested_by_id", "match_id", "pk", "created_at"):
        history.setdefault(person_id, []).append((match_id, pk, at))
    rows = []
    for request in requests:
        earlier = [
            match_id
            for match_id, pk, at in history.get(request.requested_by_id, [])
            if (at, pk) < (request.created_at, request.pk)
        ]
        rows.append(
            RematchRow(request, len(earlier), sum(1 for m in earlier if m == request.match_id))
        )
    return rows


def rematch_rows_for_request(request: RematchRequest) -> RematchRow:
    earlier = RematchRequest.objects.filter(
        requested_by_id=request.requested_by_id, created_at__lt=request.created_at
    )
    return RematchRow(request, earlier.count(), earlier.filter(match_id=request.match_id).count())


def matches_replacing(match: Match) -> list[Match]:
    """The newer matches made to replace `match` (a re-match), newest first."""
    return list(
        Match.objects.filter(replaces=match)
        .select_related("buddy__user__profile", "participant__user__profile")
        .order_by("-created_at", "-pk")
    )


def open_rematch_requests_for(match: Match) -> list[RematchRequest]:
    return list(
        RematchRequest.objects.filter(match=match, handled_at__isnull=True)
        .select_related("match")
        .order_by("created_at")
    )


def open_rematch_requests(scheme) -> QuerySet[RematchRequest]:
    return RematchRequest.objects.filter(
        match__scheme=scheme, handled_at__isnull=True
    ).select_related("match", "requested_by__user__profile")


def open_offer_for(participant: Membership) -> SuggestionOffer | None:
    return SuggestionOffer.objects.filter(OPEN_OFFER, participant=participant).first()


def offer_options_shown(offer: SuggestionOffer) -> QuerySet[SuggestionOption]:
    """The buddies an offer still suggests (not those dropped since), with what the page shows."""
    return (
        offer.options.filter(dropped_at__isnull=True)
        .select_related("buddy__user__profile", "buddy__match_profile")
        .prefetch_related(
            Prefetch("buddy__match_profile__items", queryset=MenuItem.objects.order_by("name"))
        )
    )


def never_again_pairs(scheme) -> QuerySet[PairBlock]:
    return PairBlock.objects.filter(buddy__scheme=scheme).select_related(
        "buddy__user__profile", "participant__user__profile"
    )


def participant_has_open_match(participant: Membership) -> bool:
    return Match.objects.filter(participant=participant, state__in=OPEN_STATES).exists()


def support_person_for(buddy: Membership, match: Match | None = None) -> Membership | None:
    """Who a buddy checks in with at a meeting: the match's own support person, else the
    buddy's, else nobody (the coordinators are alerted then). Only an active coordinator of the
    buddy's scheme counts: someone who has left is passed over."""
    own = BuddyVetting.objects.filter(membership=buddy).values_list("support_person_id", flat=True)
    for pk in (match.support_person_id if match else None, own.first()):
        if pk:
            found = (
                Membership.objects.filter(
                    pk=pk, scheme_id=buddy.scheme_id, role=Role.COORDINATOR, is_active=True
                )
                .select_related("user__profile")
                .first()
            )
            if found is not None:
                return found
    return None


# --- Rounds and speed-buddying ------------------------------------------------------------------


def rounds_for_coordinator(scheme) -> QuerySet[MatchingRound]:
    """Past rounds, newest first, each with how many of its drafts are still drafts."""
    return MatchingRound.objects.filter(scheme=scheme).annotate(
        drafts_left=Count("matches", filter=Q(matches__state="draft"))
    )


def left_out_of(matching_round: MatchingRound) -> QuerySet[RoundLeftOut]:
    """Who a round left out, longest waiting first, with the reason."""
    return matching_round.left_out.select_related("participant__user__profile")


def speed_events_for_coordinator(scheme) -> QuerySet[SpeedEvent]:
    """Speed-buddying events, latest first, with how many met and how many have answered."""
    return SpeedEvent.objects.filter(scheme=scheme).annotate(
        meeting_count=Count("meetings", distinct=True),
        answered_count=Count("preferences__ranker", distinct=True),
    )


def speed_events_to_rank(membership: Membership, now=None) -> QuerySet[SpeedEvent]:
    """Events where this person met someone and may still give their choices, soonest to close
    first, each marked `answered` once they have given any."""
    now = now or timezone.now()
    side = "buddy" if membership.role == Role.BUDDY else "participant"
    met = SpeedEvent.objects.filter(**{f"meetings__{side}": membership}).values("pk")
    answered = SpeedPreference.objects.filter(event=OuterRef("pk"), ranker=membership)
    return (
        SpeedEvent.objects.filter(
            scheme_id=membership.scheme_id, pk__in=met, matched_at__isnull=True
        )
        .filter(Q(rankings_close_at__isnull=True) | Q(rankings_close_at__gt=now))
        .annotate(answered=Exists(answered))
        .order_by(F("rankings_close_at").asc(nulls_last=True), "held_on", "pk")
    )


def speed_rankings_closed(event: SpeedEvent, now=None) -> str:
    """Why nobody can give or change their choices for this event any more ("" while open)."""
    now = now or timezone.now()
    if event.matched_at:
        return "Rankings for this event have closed: the matches have been made."
    if event.rankings_close_at and now >= event.rankings_close_at:
        closed = timezone.localtime(event.rankings_close_at, event.scheme.zone)
        return f"Rankings for this event have closed (on {closed:%-d %B at %H:%M})."
    return ""


def speed_rank_cards(membership: Membership, now=None) -> list[HomeCard]:
    """ "Rank the people you met", once for each event still taking this person's choices."""
    if membership.role not in (Role.BUDDY, Role.PARTICIPANT):
        return []
    return [
        HomeCard("matching/_rank_card.html", {"event": event})
        for event in speed_events_to_rank(membership, now)
    ]


@receiver(home_cards)
def _rank_the_people_you_met(sender, membership, now, **kwargs) -> list[HomeCard]:
    return speed_rank_cards(membership, now)


# --- Proposals waiting for answers --------------------------------------------------------------


def proposals_awaiting_answer(scheme) -> QuerySet[Match]:
    """Proposed matches someone has still to answer, oldest first, for the coordinator."""
    return (
        Match.objects.filter(scheme=scheme, state=MatchState.PROPOSED)
        .select_related(
            "buddy__user__profile",
            "participant__user__profile",
            "buddy_answer_recorded_by__profile",
            "participant_answer_recorded_by__profile",
        )
        .order_by("proposed_at", "pk")
    )


def proposals_to_answer(membership: Membership) -> QuerySet[Match]:
    """Proposals waiting for this person's own answer."""
    mine = Q(buddy=membership, buddy_accepted_at__isnull=True) | Q(
        participant=membership, participant_accepted_at__isnull=True
    )
    return (
        Match.objects.filter(mine, state=MatchState.PROPOSED)
        .select_related("buddy__user__profile", "participant__user__profile")
        .order_by("proposed_at", "pk")
    )


@dataclass
class ProposalDetails:
    """What one side reads about the other before answering: first name, the menu items the
    one offers and the other wants, languages, when they are free, their own few lines."""

    name: str
    helps_with: list[str]
    languages: list[str]  # "Shona (you too)" when the reader speaks it as well
    free_together: list[str]
    also_free: list[str]
    about: str


def proposal_details(match: Match, side: str) -> ProposalDetails:
    """`side` is the reader ("participant" reads about the buddy, and the reverse)."""
    buddy_facts, participant_facts = facts(match.buddy), facts(match.participant)
    other, mine = (
        (buddy_facts, participant_facts)
        if side == "participant"
        else (participant_facts, buddy_facts)
    )
    other_member = match.buddy if side == "participant" else match.participant
    helps_with = list(
        MenuItem.objects.filter(pk__in=buddy_facts.items & participant_facts.items)
        .values_list("name", flat=True)
        .order_by("category__order", "order", "name")
    )
    about = (
        MatchProfile.objects.filter(membership=other_member).values_list("about", flat=True).first()
        or ""
    )
    slots = [i for i in range(len(SLOT_HOURS)) if other.availability >> i & 1]
    return ProposalDetails(
        name=other_member.user.display_name,
        helps_with=helps_with,
        languages=[
            language.capitalize() + (" (you too)" if language in mine.languages else "")
            for language in sorted(other.languages)
        ],
        free_together=slots_by_day([i for i in slots if mine.availability >> i & 1]),
        also_free=slots_by_day([i for i in slots if not mine.availability >> i & 1]),
        about=about if side == "participant" else "",
    )


@receiver(dashboard_figures)
def _proposals_on_the_dashboard(sender, scheme, **kwargs) -> list[tuple[str, int]]:
    return [("Proposals awaiting an answer", proposals_awaiting_answer(scheme).count())]


@receiver(home_cards)
def _proposals_on_the_home_page(sender, membership, **kwargs) -> list[HomeCard]:
    if membership.role not in (Role.BUDDY, Role.PARTICIPANT):
        return []
    return [
        HomeCard(
            "matching/_answer_card.html",
            {"match": match, "side": "buddy" if match.buddy_id == membership.pk else "participant"},
        )
        for match in proposals_to_answer(membership)
    ]


# A participant's buddy is theirs once both have said yes; a proposal still waits for answers.
AGREED_STATES = [MatchState.ACCEPTED, MatchState.INTRODUCED, MatchState.ACTIVE, MatchState.ENDING]


def current_match_for(participant: Membership) -> Match | None:
    """The participant's agreed match (the most recent, if they have more than one buddy)."""
    return (
        Match.objects.filter(participant=participant, state__in=AGREED_STATES)
        .select_related("buddy__user__profile", "scheme")
        .order_by("-created_at", "-pk")
        .first()
    )


def current_match_for_buddy(buddy: Membership) -> Match | None:
    """The buddy's most recent agreed match (a buddy with room for more may have several)."""
    return (
        Match.objects.filter(buddy=buddy, state__in=AGREED_STATES)
        .select_related("participant__user__profile", "scheme")
        .order_by("-created_at", "-pk")
        .first()
    )


def coordinator_for_participant(
    participant: Membership, match: Match | None = None
) -> Membership | None:
    """The coordinator a participant deals with: the one supporting their match (the match's
    or the buddy's support person), else the scheme's longest-serving active coordinator."""
    if match is not None:
        person = support_person_for(match.buddy, match)
        if person is not None:
            return person
    return (
        Membership.objects.filter(
            scheme_id=participant.scheme_id, role=Role.COORDINATOR, is_active=True
        )
        .select_related("user__profile", "scheme")
        .order_by("joined_at", "pk")
        .first()
    )


def open_stop_request(participant: Membership) -> StopRequest | None:
    return StopRequest.objects.filter(participant=participant, handled_at__isnull=True).first()


def open_stop_requests(scheme) -> QuerySet[StopRequest]:
    return StopRequest.objects.filter(
        participant__scheme=scheme, handled_at__isnull=True
    ).select_related("participant__user__profile")


WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def office_hours(scheme) -> str:
    """ "Monday to Friday, 9:00 to 17:00" from the scheme's working days and hours."""
    days = sorted(set(scheme.working_day_numbers))
    if days and days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        named = f"{WEEKDAY_NAMES[days[0]]} to {WEEKDAY_NAMES[days[-1]]}"
    else:
        named = ", ".join(WEEKDAY_NAMES[day] for day in days)
    return f"{named}, {scheme.working_hours_start:%-H:%M} to {scheme.working_hours_end:%-H:%M}"


@receiver(participant_home_cards)
def _participant_home_cards(sender, membership, **kwargs) -> list[HomeSection]:
    """My buddy (or that we are looking), my coordinator and how to reach them, and the
    plain way to stop that the agreement promises."""
    match = current_match_for(membership)
    offer_pk = (
        None
        if match
        else SuggestionOffer.objects.filter(
            participant=membership, chosen__isnull=True, asked_for_others_at__isnull=True
        )
        .values_list("pk", flat=True)
        .first()
    )
    # After an ending, "we are looking for a buddy for you" would not be true: say it ended.
    had_buddy = (
        match is None
        and offer_pk is None
        and Match.objects.filter(participant=membership, state=MatchState.ENDED).exists()
    )
    coordinator = coordinator_for_participant(membership, match)
    stop_request = open_stop_request(membership)
    return [
        HomeSection(
            10,
            "matching/home/buddy.html",
            {"match": match, "offer_pk": offer_pk, "had_buddy": had_buddy},
        ),
        HomeSection(
            80,
            "matching/home/coordinator.html",
            {"coordinator": coordinator, "office_hours": office_hours(membership.scheme)},
        ),
        HomeSection(
            90,
            "matching/home/stop.html",
            {"stop_request": stop_request, "coordinator": coordinator, "match": match},
        ),
    ]


@receiver(dashboard_figures)
def _stop_requests_on_the_dashboard(sender, scheme, **kwargs) -> list[tuple[str, int]]:
    return [("People asking to stop", open_stop_requests(scheme).count())]


# A buddy knows of a match once both sides have accepted it; a draft or a declined proposal
# is nobody they support.
KNOWN_TO_THE_BUDDY = [
    MatchState.ACCEPTED,
    MatchState.INTRODUCED,
    MatchState.ACTIVE,
    MatchState.ENDING,
    MatchState.ENDED,
]


@receiver(people_supported)
def _participants_of_buddy(sender, buddy, **kwargs) -> list[Membership]:
    """For the core: the participants of a buddy's matches, current ones first. One query."""
    matches = (
        Match.objects.filter(buddy=buddy, state__in=KNOWN_TO_THE_BUDDY)
        .select_related("participant__user__profile")
        .order_by(
            Case(When(state=MatchState.ENDED, then=Value(1)), default=Value(0)), "-created_at"
        )
    )
    return [match.participant for match in matches]


@dataclass
class MatchLine:
    match: Match
    other: Membership  # the person on the other side of the match


@receiver(person_record_sections)
def _matches_on_the_person_page(sender, member: Membership, now, **kwargs) -> list[PersonSection]:
    """A buddy's or participant's current and past matches, open re-match requests, and for a
    participant whether they are still waiting (the waiting list's own rule), in 4 queries."""
    if member.role not in (Role.BUDDY, Role.PARTICIPANT):
        return []
    side, other = (
        ("buddy", "participant") if member.role == Role.BUDDY else ("participant", "buddy")
    )
    matches = list(
        Match.objects.filter(**{side: member})
        .select_related(f"{other}__user__profile")
        .order_by("-created_at", "-pk")
    )
    lines = [MatchLine(match, getattr(match, other)) for match in matches]
    requests = list(
        RematchRequest.objects.filter(
            Q(match__buddy=member) | Q(match__participant=member), handled_at__isnull=True
        ).select_related("requested_by__user__profile")
    )
    waiting = None
    places = None
    if member.role == Role.PARTICIPANT:
        waiting = (
            waiting_participants(member.scheme, timezone.localdate(now))
            .filter(pk=member.pk)
            .first()
        )
    else:
        capacity = MatchProfile.objects.filter(membership=member).values_list("capacity", flat=True)
        places = capacity.first() or 1
    current = [line for line in lines if line.match.state not in CLOSED_STATES]
    return [
        PersonSection(
            title="Matches",
            template="matching/_person_matches.html",
            order=10,
            context={
                "current": current,
                "past": [line for line in lines if line.match.state in CLOSED_STATES],
                "requests": requests,
                "waiting": waiting,
                "waiting_days": (timezone.localdate(now) - waiting.enrolment.waiting_since).days
                if waiting
                else None,
                "places": places,
            },
        )
    ]


@receiver(people_match_statuses)
def _statuses_on_the_people_list(sender, scheme, **kwargs) -> dict[int, str]:
    """Everyone with an open match: matched once one is active, else being arranged."""
    statuses: dict[int, str] = {}
    open_matches = Match.objects.filter(scheme=scheme, state__in=OPEN_STATES).values_list(
        "buddy_id", "participant_id", "state"
    )
    for buddy_id, participant_id, state in open_matches:
        matched = state in (MatchState.ACTIVE, MatchState.ENDING)
        for pk in (buddy_id, participant_id):
            if matched or statuses.get(pk) != PersonStatus.MATCHED:
                statuses[pk] = PersonStatus.MATCHED if matched else PersonStatus.ARRANGING
    return statuses
