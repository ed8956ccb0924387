"""Reads for groups, and the groups' parts of other pages (the person page, a facilitator's
Today, a participant's Home), each in a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.dispatch import receiver
from django.utils import timezone

from buddyscheme.models import Membership, Role
from buddyscheme.selectors import (
    HomeCard,
    HomeSection,
    PersonSection,
    home_cards,
    participant_home_cards,
    person_record_sections,
)
from meetings.signals import debrief_elsewhere

from .models import GroupMember, GroupSession, PeerGroup, SessionFacilitator, SessionState

FACILITATOR_DAYS_AHEAD = 7


def groups_for_scheme(scheme) -> QuerySet[PeerGroup]:
    now = timezone.now()
    return (
        PeerGroup.objects.filter(scheme=scheme)
        .select_related("venue")
        .annotate(
            member_count=Count("members", filter=Q(members__left_at__isnull=True), distinct=True),
            upcoming_count=Count(
                "sessions",
                filter=Q(sessions__planned_start__gte=now, sessions__state=SessionState.PLANNED),
                distinct=True,
            ),
        )
        .order_by("-is_active", "name")
    )


def sessions_of(group: PeerGroup) -> QuerySet[GroupSession]:
    return (
        group.sessions.annotate(facilitator_count=Count("facilitators", distinct=True))
        .select_related("debrief")
        .order_by("-planned_start")
    )


def members_of(group: PeerGroup) -> list[GroupMember]:
    return list(
        group.members.filter(left_at__isnull=True)
        .select_related("membership__user__profile", "agreement__version")
        .prefetch_related("exclusions")
        .order_by("checked_at")
    )


def sessions_for_facilitator(membership: Membership, now=None) -> QuerySet[GroupSession]:
    """The sessions this person facilitates from today until a week ahead, and any still running."""
    now = now or timezone.now()
    today_start = timezone.localtime(now, membership.scheme.zone).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return (
        GroupSession.objects.filter(facilitators__membership=membership)
        .filter(
            Q(state=SessionState.RUNNING)
            | Q(
                state=SessionState.PLANNED,
                planned_start__gte=today_start,
                planned_start__lt=now + timedelta(days=FACILITATOR_DAYS_AHEAD),
            )
        )
        .select_related("group")
        .order_by("planned_start")
    )


@receiver(home_cards)
def _sessions_on_today(sender, membership, now, **kwargs) -> list[HomeCard]:
    if membership.role != Role.BUDDY or not membership.is_facilitator:
        return []
    sessions = list(sessions_for_facilitator(membership, now))
    if not sessions:
        return []
    return [HomeCard("groups/_today_card.html", {"sessions": sessions})]


@receiver(participant_home_cards)
def _groups_on_home(sender, membership, **kwargs) -> list[HomeSection]:
    mine = list(
        GroupMember.objects.filter(membership=membership, left_at__isnull=True).select_related(
            "group", "agreement"
        )
    )
    if not mine:
        return []
    return [HomeSection(40, "groups/_home_groups.html", {"members": mine})]


@receiver(person_record_sections)
def _groups_on_the_person_page(sender, member, now, **kwargs) -> list[PersonSection]:
    """A participant's groups (and any referral to one-to-one support), in 2 queries."""
    if member.role != Role.PARTICIPANT:
        return []
    theirs = list(
        GroupMember.objects.filter(membership=member).select_related("group", "agreement")
    )
    groups = list(PeerGroup.objects.filter(scheme_id=member.scheme_id, is_active=True))
    return [
        PersonSection(
            title="Groups",
            template="groups/_person_groups.html",
            order=45,
            context={
                "members": theirs,
                "can_join": [
                    group for group in groups if group.pk not in {m.group_id for m in theirs}
                ],
            },
        )
    ]


@receiver(debrief_elsewhere)
def _facilitators_debrief_together(sender, meeting, **kwargs) -> bool:
    """A facilitator's meeting for a group session opens no one-to-one debrief: the
    facilitators write one group debrief on the session page instead (one query)."""
    return SessionFacilitator.objects.filter(meeting=meeting).exists()
