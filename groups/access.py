"""Authorisation for groups: coordinators see their scheme's; a facilitator sees the sessions
they facilitate (and nothing about the group's members beyond what running it needs)."""

from django.core.exceptions import PermissionDenied

from buddyscheme.access import get_scheme_object_for_user
from buddyscheme.models import Role

from .models import Exclusion, GroupComplaint, GroupDebrief, GroupMember, GroupSession, PeerGroup


def get_group_for_coordinator(request, pk: int) -> PeerGroup:
    return get_scheme_object_for_user(
        request,
        PeerGroup.objects.select_related("scheme", "venue"),
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR],
    )


def get_session_for_coordinator(request, pk: int) -> GroupSession:
    return get_scheme_object_for_user(
        request,
        GroupSession.objects.select_related("group__scheme", "group__venue"),
        pk,
        scheme_path="group__scheme_id",
        roles=[Role.COORDINATOR],
    )


def get_session_for_facilitator(request, pk: int) -> GroupSession:
    """A session the requester facilitates (buddy or staff), or any of the scheme's for a
    coordinator, who may step in."""
    return get_scheme_object_for_user(
        request,
        GroupSession.objects.select_related("group__scheme", "group__venue"),
        pk,
        scheme_path="group__scheme_id",
        roles=[Role.COORDINATOR],
        own_paths=["facilitators__membership"],
    )


def get_member_for_coordinator(request, pk: int) -> GroupMember:
    return get_scheme_object_for_user(
        request,
        GroupMember.objects.select_related("group__scheme", "membership__user", "agreement"),
        pk,
        scheme_path="group__scheme_id",
        roles=[Role.COORDINATOR],
    )


def get_member_for_session(request, session: GroupSession, pk: int) -> GroupMember:
    member = (
        GroupMember.objects.select_related("group", "membership__user")
        .filter(pk=pk, group_id=session.group_id)
        .first()
    )
    if member is None:
        raise PermissionDenied
    return member


def get_exclusion_for_coordinator(request, pk: int) -> Exclusion:
    return get_scheme_object_for_user(
        request,
        Exclusion.objects.select_related("member__group", "member__membership__user"),
        pk,
        scheme_path="member__group__scheme_id",
        roles=[Role.COORDINATOR],
    )


def get_debrief_for_coordinator(request, pk: int) -> GroupDebrief:
    return get_scheme_object_for_user(
        request,
        GroupDebrief.objects.select_related("session__group"),
        pk,
        scheme_path="session__group__scheme_id",
        roles=[Role.COORDINATOR],
    )


def get_complaint_for_coordinator(request, pk: int) -> GroupComplaint:
    return get_scheme_object_for_user(
        request,
        GroupComplaint.objects.select_related("group"),
        pk,
        scheme_path="group__scheme_id",
        roles=[Role.COORDINATOR],
    )
