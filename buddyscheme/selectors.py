"""Reads for the shared core."""

from dataclasses import dataclass
from datetime import timedelta
from typing import cast

import django.dispatch
from django.db.models import Count, Q
from django.utils import timezone

from .models import EligibilityQuestion, Heartbeat, Invitation, Membership, Role


def scheme_counts(scheme) -> dict[str, int]:
    """Head counts for the coordinator dashboard, in one query."""
    counts = Membership.objects.filter(scheme=scheme, is_active=True).aggregate(
        coordinators=Count("pk", filter=Q(role=Role.COORDINATOR)),
        buddies=Count("pk", filter=Q(role=Role.BUDDY)),
        participants=Count("pk", filter=Q(role=Role.PARTICIPANT)),
        on_call=Count("pk", filter=Q(is_on_call=True)),
        facilitators=Count("pk", filter=Q(is_facilitator=True)),
    )
    counts["open_invitations"] = Invitation.objects.open().filter(scheme=scheme).count()
    return counts


# Apps above the core add figures to the coordinator dashboard without the core importing
# them: each receiver gets `scheme` and returns a list of (label, number), in one query.
dashboard_figures = django.dispatch.Signal()


def scheme_figures(scheme) -> list[tuple[str, int]]:
    """The other apps' figures for the dashboard, in the order the apps are installed."""
    figures: list[tuple[str, int]] = []
    for _, answer in dashboard_figures.send(sender=None, scheme=scheme):
        figures += cast(list[tuple[str, int]], answer)
    return figures


@dataclass(frozen=True)
class DashboardSection:
    """A part of the coordinator dashboard another app adds: its template and what it needs.
    `urgent` sections come first."""

    template: str
    context: dict
    urgent: bool = False


# Apps above the core add whole sections (lists with links) the same way: each receiver gets
# `scheme` and `now` and returns a list of DashboardSection, each in a constant number of queries.
dashboard_sections = django.dispatch.Signal()


def scheme_sections(scheme, now=None) -> list[DashboardSection]:
    now = now or timezone.now()
    sections: list[DashboardSection] = []
    for _, answer in dashboard_sections.send(sender=None, scheme=scheme, now=now):
        sections += cast(list[DashboardSection], answer)
    return sorted(sections, key=lambda section: not section.urgent)


def invitations_for_scheme(scheme):
    return Invitation.objects.filter(scheme=scheme).select_related(
        "invited_by", "invited_by__profile"
    )


def members_for_scheme(scheme, role=None):
    qs = Membership.objects.filter(scheme=scheme, is_active=True).select_related(
        "user", "user__profile"
    )
    if role:
        qs = qs.filter(role=role)
    return qs.order_by("role", "user__email")


def eligibility_questions(scheme):
    return EligibilityQuestion.objects.filter(scheme=scheme)


def heartbeat_age(name: str, now=None) -> timedelta | None:
    beat_at = Heartbeat.objects.filter(name=name).values_list("beat_at", flat=True).first()
    if beat_at is None:
        return None
    return (now or timezone.now()) - beat_at
