"""Reads for matching. Each returns what a page needs in a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone

from buddyscheme.models import Membership, Role
from buddyscheme.vetting import cleared_buddies

from .models import (
    OPEN_STATES,
    Match,
    MatchingSettings,
    MenuItem,
    PairBlock,
    RematchRequest,
    SuggestionOffer,
)
from .scoring import Facts, Suggestion, Weights, preference_problems, score_pair


def matching_settings(scheme) -> MatchingSettings:
    settings_row, _ = MatchingSettings.objects.get_or_create(scheme=scheme)
    return settings_row


def facts(membership: Membership) -> Facts:
    """Facts from a membership whose match_profile (with items) may be prefetched."""
    profile = getattr(membership, "match_profile", None)
    user = membership.user
    first_name = (
        getattr(getattr(user, "profile", None), "preferred_name", "") or user.first_name or ""
    ).split(" ")[0]
    if profile is None:
        return Facts(membership_id=membership.pk, first_name=first_name)
    return Facts(
        membership_id=membership.pk,
        first_name=first_name,
        items=frozenset(item.pk for item in profile.items.all()),
        languages=frozenset(language.lower() for language in profile.languages),
        interests=frozenset(interest.lower() for interest in profile.interests),
        availability=profile.availability,
        district=profile.postcode_district,
        travel_range=profile.travel_range,
        gender=profile.gender,
        age_band=profile.age_band,
        wants_buddy_gender=profile.wants_buddy_gender,
        wants_age_bands=frozenset(profile.wants_age_bands),
        capacity=profile.capacity,
    )


def _with_profiles(qs: QuerySet[Membership]) -> QuerySet[Membership]:
    return qs.select_related("user", "user__profile", "match_profile").prefetch_related(
        Prefetch("match_profile__items", queryset=MenuItem.objects.only("pk"))
    )


def _open_matches(side: str):
    return Count(
        f"matches_as_{side}",
        filter=Q(**{f"matches_as_{side}__state__in": OPEN_STATES}),
        distinct=True,
    )


def available_buddies(scheme, today=None) -> list[tuple[Membership, int]]:
    """Cleared buddies with capacity left, and how many more participants each can take."""
    buddies = _with_profiles(cleared_buddies(scheme, today)).annotate(
        open_matches=_open_matches("buddy")
    )
    result = []
    for buddy in buddies:
        capacity = buddy.match_profile.capacity if hasattr(buddy, "match_profile") else 1
        if capacity - buddy.open_matches > 0:
            result.append((buddy, capacity - buddy.open_matches))
    return result


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


@dataclass
class Candidate:
    suggestion: Suggestion
    buddy: Membership
    places_left: int


def suggestions_for(
    participant: Membership, limit: int | None = None, today=None
) -> list[Candidate]:
    """Every eligible buddy for one participant, best first, each with its reasons."""
    scheme = participant.scheme
    weights = Weights.from_settings(matching_settings(scheme))
    participant = _with_profiles(Membership.objects.filter(pk=participant.pk)).get()
    wanted = facts(participant)
    blocked = blocked_pairs(scheme)
    names = dict(MenuItem.objects.filter(category__scheme=scheme).values_list("pk", "name"))
    candidates = []
    for buddy, places_left in available_buddies(scheme, today):
        if (participant.pk, buddy.pk) in blocked or buddy.user_id == participant.user_id:
            continue
        offered = facts(buddy)
        if preference_problems(wanted, offered):
            continue
        candidates.append(
            Candidate(score_pair(wanted, offered, weights, names), buddy, places_left)
        )
    candidates.sort(key=lambda c: (-c.suggestion.total, c.buddy.pk))
    return candidates[:limit] if limit else candidates


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
