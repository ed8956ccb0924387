"""Reads for matching. Each returns what a page needs in a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import cast

import django.dispatch
from django.db.models import (
    CharField,
    Count,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    StringAgg,
    Subquery,
    Value,
)
from django.db.models.functions import Cast
from django.utils import timezone

from buddyscheme.models import BuddyVetting, Membership, Role
from buddyscheme.vetting import cleared_buddies

from .models import (
    OPEN_STATES,
    Match,
    MatchingSettings,
    MatchProfile,
    MenuItem,
    PairBlock,
    RematchRequest,
    SuggestionOffer,
)
from .scoring import Facts, Suggestion, Weights, score_matrix, score_pair


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


def facts(membership: Membership) -> Facts:
    return facts_for_many(Membership.objects.filter(pk=membership.pk))[0]


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
    """Participants still needing a buddy, longest waiting first."""
    today = today or timezone.localdate()
    return (
        Membership.objects.filter(
            scheme=scheme, role=Role.PARTICIPANT, is_active=True, enrolment__eligible=True
        )
        .annotate(open_matches=_open_matches("participant"))
        .filter(
            Q(match_profile__isnull=True, open_matches__lt=1)
            | Q(open_matches__lt=F("match_profile__capacity"))
        )
        .select_related("user", "user__profile", "enrolment", "match_profile")
        .order_by("enrolment__waiting_since", "pk")
    )


def blocked_pairs(scheme) -> set[tuple[int, int]]:
    """(participant, buddy) pairs that must never be suggested: blocks and pairs already open."""
    blocks = PairBlock.objects.filter(buddy__scheme=scheme).values_list(
        "participant_id", "buddy_id"
    )
    open_pairs = Match.objects.filter(scheme=scheme, state__in=OPEN_STATES).values_list(
        "participant_id", "buddy_id"
    )
    return set(blocks) | set(open_pairs)


FACT_FIELDS = {
    "languages": "match_profile__languages",
    "interests": "match_profile__interests",
    "availability": "match_profile__availability",
    "district": "match_profile__postcode_district",
    "travel_range": "match_profile__travel_range",
    "gender": "match_profile__gender",
    "age_band": "match_profile__age_band",
    "wants_buddy_gender": "match_profile__wants_buddy_gender",
    "wants_age_bands": "match_profile__wants_age_bands",
    "capacity": "match_profile__capacity",
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
        .annotate(item_ids=Subquery(item_ids))
        .values("pk", "user_id", "item_ids", *FACT_FIELDS.values())
    )


def _facts_from_row(row: dict) -> Facts:
    if row["match_profile__availability"] is None:  # no matching profile yet
        return Facts(membership_id=row["pk"])
    return Facts(
        membership_id=row["pk"],
        items=frozenset(int(pk) for pk in row["item_ids"].split(","))
        if row["item_ids"]
        else frozenset(),
        languages=frozenset(row["match_profile__languages"]),
        interests=frozenset(row["match_profile__interests"]),
        availability=row["match_profile__availability"],
        district=row["match_profile__postcode_district"],
        travel_range=row["match_profile__travel_range"],
        gender=row["match_profile__gender"],
        age_band=row["match_profile__age_band"],
        wants_buddy_gender=row["match_profile__wants_buddy_gender"],
        wants_age_bands=frozenset(row["match_profile__wants_age_bands"]),
        capacity=row["match_profile__capacity"],
    )


def facts_for_many(memberships: QuerySet[Membership]) -> list[Facts]:
    """Facts for many people in one query of plain values (no model instances: it is hot)."""
    return [_facts_from_row(row) for row in _with_fact_values(memberships)]


def available_buddy_facts(scheme, today=None) -> list[tuple[Facts, int, int]]:
    """(facts, places left, user id) for every cleared buddy with a place free, in two queries."""
    open_matches = dict(
        Match.objects.filter(scheme=scheme, state__in=OPEN_STATES)
        .values("buddy")
        .annotate(n=Count("pk"))
        .values_list("buddy", "n")
    )
    result = []
    for row in _with_fact_values(cleared_buddies(scheme, today)):
        fact = _facts_from_row(row)
        places = fact.capacity - open_matches.get(fact.membership_id, 0)
        if places > 0:
            result.append((fact, places, row["user_id"]))
    return result


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
    wanted = facts_for_many(Membership.objects.filter(pk=participant.pk))[0]
    blocked = blocked_pairs(scheme)
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


def open_rematch_requests(scheme) -> QuerySet[RematchRequest]:
    return RematchRequest.objects.filter(
        match__scheme=scheme, handled_at__isnull=True
    ).select_related("match", "requested_by__user__profile")


def open_offer_for(participant: Membership) -> SuggestionOffer | None:
    return (
        SuggestionOffer.objects.filter(
            participant=participant, chosen__isnull=True, asked_for_others_at__isnull=True
        )
        .prefetch_related(
            Prefetch(
                "options__buddy",
                queryset=Membership.objects.select_related(
                    "user__profile", "match_profile"
                ).prefetch_related("match_profile__items"),
            )
        )
        .first()
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
