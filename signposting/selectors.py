"""Reads for the signposting directory and next-steps plans; and what this app adds to the
coordinator dashboard, the match page and the participant's Home. Each in a constant number of
queries however many rows there are."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.dispatch import receiver
from django.utils import timezone

from buddyscheme.models import Membership, Role
from buddyscheme.selectors import (
    DashboardSection,
    HomeSection,
    SettingsSection,
    dashboard_sections,
    participant_home_cards,
    settings_sections,
)
from matching.models import Match, MatchState
from matching.selectors import MatchSection, match_page_sections

from .models import STALE_AFTER_DAYS, DirectoryEntry, NextStepsPlan, PlanAction, PlanState

# Ended matches older than this without a plan are history, not a to-do: the plan would end
# before it started.
NEEDS_PLAN_WITHIN_DAYS = 183
DASHBOARD_SHOWN = 5


def stale_before(today: date) -> date:
    """Entries last checked before this day have not been checked for a year."""
    return today - timedelta(days=STALE_AFTER_DAYS)


def directory_entries(
    scheme, *, area: str = "", kind: str = "", text: str = "", stale_only: bool = False, today=None
) -> QuerySet[DirectoryEntry]:
    """The scheme's live entries, filtered; one query."""
    entries = DirectoryEntry.objects.filter(scheme=scheme, retired_at__isnull=True)
    if area:
        entries = entries.filter(area__icontains=area)
    if kind:
        entries = entries.filter(kind=kind)
    if text:
        entries = entries.filter(
            Q(name__icontains=text) | Q(offers__icontains=text) | Q(eligibility__icontains=text)
        )
    if stale_only and today is not None:
        entries = entries.filter(last_checked_on__lt=stale_before(today))
    return entries.order_by("name", "pk")


def directory_areas(scheme) -> list[str]:
    """Each area the live entries name, once, for the filter's suggestions."""
    return sorted(
        set(
            DirectoryEntry.objects.filter(scheme=scheme, retired_at__isnull=True).values_list(
                "area", flat=True
            )
        ),
        key=str.casefold,
    )


def stale_entries(scheme, today: date) -> QuerySet[DirectoryEntry]:
    return directory_entries(scheme, stale_only=True, today=today).order_by("last_checked_on")


def entries_for_choice(scheme) -> QuerySet[DirectoryEntry]:
    return DirectoryEntry.objects.filter(scheme=scheme, retired_at__isnull=True).order_by("name")


# --- Plans ------------------------------------------------------------------------------------


def _with_actions(plans: QuerySet[NextStepsPlan]) -> QuerySet[NextStepsPlan]:
    return plans.prefetch_related(
        Prefetch("actions", queryset=PlanAction.objects.select_related("entry"))
    )


def plan_detail(pk: int) -> NextStepsPlan:
    return _with_actions(
        NextStepsPlan.objects.select_related(
            "scheme", "match__buddy__user", "participant__user__profile"
        )
    ).get(pk=pk)


def plans_for_participant(participant: Membership) -> list[NextStepsPlan]:
    """Their finished plans, newest first (drafts are the coordinator's until finished)."""
    return list(
        _with_actions(
            NextStepsPlan.objects.filter(participant=participant, state=PlanState.FINISHED)
        ).order_by("-finished_at", "-pk")
    )


def ended_matches_needing_plan(scheme, now) -> QuerySet[Match]:
    """Matches ended in the last six months whose next-steps plan is not finished (a draft, or
    none: an ending recorded before plans existed)."""
    finished = NextStepsPlan.objects.filter(match=OuterRef("pk"), state=PlanState.FINISHED)
    return (
        Match.objects.filter(
            scheme=scheme,
            state=MatchState.ENDED,
            ended_at__gte=now - timedelta(days=NEEDS_PLAN_WITHIN_DAYS),
        )
        .exclude(Exists(finished))
        .select_related("participant__user__profile", "next_steps_plan")
        .order_by("ended_at", "pk")
    )


def plans_for_coordinator(scheme, now) -> dict:
    return {
        "needing": list(ended_matches_needing_plan(scheme, now)),
        "finished": list(
            NextStepsPlan.objects.filter(scheme=scheme, state=PlanState.FINISHED)
            .select_related("participant__user__profile")
            .order_by("-finished_at", "-pk")[:50]
        ),
    }


@receiver(dashboard_sections)
def _signposting_on_the_dashboard(sender, scheme, now, **kwargs) -> list[DashboardSection]:
    """Ended matches that need a plan, and directory entries not checked for a year: four
    queries."""
    today = timezone.localdate(now, scheme.zone)
    needing = ended_matches_needing_plan(scheme, now)
    stale = stale_entries(scheme, today)
    return [
        DashboardSection(
            template="signposting/_dashboard.html",
            context={
                "needing": list(needing[:DASHBOARD_SHOWN]),
                "needing_count": needing.count(),
                "stale": list(stale[:DASHBOARD_SHOWN]),
                "stale_count": stale.count(),
            },
        )
    ]


@receiver(settings_sections)
def _directory_on_the_settings_hub(sender, scheme, **kwargs) -> list[SettingsSection]:
    """The directory is kept by coordinators like the menu: one query."""
    today = timezone.localdate(timezone.now(), scheme.zone)
    live = DirectoryEntry.objects.filter(scheme=scheme, retired_at__isnull=True)
    counts = live.aggregate(
        entries=Count("pk"), stale=Count("pk", filter=Q(last_checked_on__lt=stale_before(today)))
    )
    entries, stale = counts["entries"], counts["stale"]
    return [
        SettingsSection(
            position=85,
            title="Signposting directory",
            url_name="signposting:directory",
            summary=f"{entries} service{'' if entries == 1 else 's'} to point people to when "
            "their match ends",
            attention=f"{stale} not checked for a year." if stale else "",
        )
    ]


@receiver(match_page_sections)
def _plan_on_the_match_page(sender, match, viewer, **kwargs) -> list[MatchSection]:
    """The coordinators see the plan's state and a link to write it; the participant, their
    finished plan. The buddy does not: the plan is the participant's."""
    if match.state != MatchState.ENDED:
        return []
    is_coordinator = viewer.role == Role.COORDINATOR and viewer.scheme_id == match.scheme_id
    plan = NextStepsPlan.objects.filter(match=match).first()
    if is_coordinator:
        return [
            MatchSection(
                template="signposting/_match_plan.html",
                context={"match": match, "plan": plan, "is_coordinator": True},
            )
        ]
    if viewer.pk == match.participant_id and plan and plan.state == PlanState.FINISHED:
        return [
            MatchSection(
                template="signposting/_match_plan.html",
                context={"match": match, "plan": plan, "is_coordinator": False},
            )
        ]
    return []


@receiver(participant_home_cards)
def _plan_on_home(sender, membership, **kwargs) -> list[HomeSection]:
    """The participant's latest finished plan, its coming steps in plain words: two queries."""
    if membership.role != Role.PARTICIPANT:
        return []
    plan = (
        _with_actions(
            NextStepsPlan.objects.filter(participant=membership, state=PlanState.FINISHED)
        )
        .order_by("-finished_at", "-pk")
        .first()
    )
    if plan is None:
        return []
    today = timezone.localdate(timezone.now(), membership.scheme.zone)
    actions = list(plan.actions.all())
    coming = [action for action in actions if action.due_on >= today]
    return [
        HomeSection(
            25,
            "signposting/home/plan.html",
            {"plan": plan, "coming": coming[:3], "more": max(len(coming) - 3, 0), "today": today},
        )
    ]
