"""Authorisation for matching objects, built on buddyscheme.access (404 other scheme, 403 role)."""

from django.http import Http404

from buddyscheme.access import get_scheme_object_for_user
from buddyscheme.models import Role

from .models import (
    Goal,
    Match,
    MatchingRound,
    MenuCategory,
    MenuItem,
    RematchRequest,
    SpeedEvent,
    SuggestionOffer,
)


def get_match_for_user(request, pk: int) -> Match:
    qs = Match.objects.select_related(
        "buddy__user__profile",
        "participant__user__profile",
        "scheme",
        "replaces__buddy__user__profile",
        "replaces__participant__user__profile",
    )
    match = get_scheme_object_for_user(
        request,
        qs,
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR],
        own_paths=["buddy", "participant"],
    )
    if request.membership.role != Role.COORDINATOR and match.state in ("draft", "withdrawn"):
        raise Http404  # a draft is the coordinator's working note, not yet theirs to see
    return match


def get_round_for_user(request, pk: int) -> MatchingRound:
    return get_scheme_object_for_user(
        request, MatchingRound.objects.all(), pk, scheme_path="scheme_id", roles=[Role.COORDINATOR]
    )


def get_speed_event_for_user(request, pk: int) -> SpeedEvent:
    """Coordinators see every event; buddies and participants only events where they met someone."""
    return get_scheme_object_for_user(
        request,
        SpeedEvent.objects.all(),
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR],
        own_paths=["meetings__buddy", "meetings__participant"],
    )


def get_offer_for_user(request, pk: int) -> SuggestionOffer:
    return get_scheme_object_for_user(
        request,
        SuggestionOffer.objects.select_related("participant"),
        pk,
        scheme_path="participant__scheme_id",
        roles=[],
        own_paths=["participant"],
    )


def get_menu_category_for_user(request, pk: int) -> MenuCategory:
    return get_scheme_object_for_user(
        request,
        MenuCategory.objects.select_related("scheme"),
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR],
    )


def get_menu_item_for_user(request, pk: int) -> MenuItem:
    return get_scheme_object_for_user(
        request,
        MenuItem.objects.select_related("category__scheme"),
        pk,
        scheme_path="category__scheme_id",
        roles=[Role.COORDINATOR],
    )


def get_goal_for_user(request, match: Match, pk: int) -> Goal:
    """A goal of a match the requester may already act on (checked by get_match_for_user)."""
    goal = Goal.objects.filter(match=match, pk=pk).select_related("match").first()
    if goal is None:
        raise Http404
    return goal


def get_rematch_request_for_user(request, pk: int) -> RematchRequest:
    return get_scheme_object_for_user(
        request,
        RematchRequest.objects.select_related(
            "match__buddy__user__profile",
            "match__participant__user__profile",
            "match__scheme",
            "requested_by__user__profile",
            "handled_by__profile",
            "new_match",
        ),
        pk,
        scheme_path="match__scheme_id",
        roles=[Role.COORDINATOR],
    )
