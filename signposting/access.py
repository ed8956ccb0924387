"""Who may see each directory entry and plan (buddyscheme/access.py's pattern: 404 for another
scheme's, 403 for a role that may not)."""

from django.http import Http404

from buddyscheme.access import get_scheme_object_for_user
from buddyscheme.models import Role
from matching.models import Match

from .models import DirectoryEntry, NextStepsPlan, PlanAction, PlanState


def get_entry_for_coordinator(request, pk: int) -> DirectoryEntry:
    return get_scheme_object_for_user(
        request,
        DirectoryEntry.objects.select_related("scheme"),
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR],
    )


def get_plan_for_coordinator(request, pk: int) -> NextStepsPlan:
    return get_scheme_object_for_user(
        request,
        NextStepsPlan.objects.select_related("scheme"),
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR],
    )


def get_action_for_coordinator(request, pk: int) -> PlanAction:
    return get_scheme_object_for_user(
        request,
        PlanAction.objects.select_related("plan__scheme"),
        pk,
        scheme_path="plan__scheme_id",
        roles=[Role.COORDINATOR],
    )


def get_ended_match_for_coordinator(request, pk: int) -> Match:
    return get_scheme_object_for_user(
        request,
        Match.objects.select_related("scheme"),
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR],
    )


def get_own_plan(request, pk: int) -> NextStepsPlan:
    """The participant's own finished plan; anyone else's, or a draft, is not there for them."""
    plan = get_scheme_object_for_user(
        request,
        NextStepsPlan.objects.select_related("scheme"),
        pk,
        scheme_path="scheme_id",
        roles=[],
        own_paths=("participant_id",),
    )
    if plan.state != PlanState.FINISHED:
        raise Http404
    return plan
