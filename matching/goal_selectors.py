"""Reads for goals, reviews and the planned length (issue 18), and the sections they add to the
match page, the participant's Home, the buddy's Today and the coordinator dashboard. Each in a
constant number of queries however many goals, reviews or matches there are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Prefetch, QuerySet
from django.dispatch import receiver
from django.utils import timezone

from buddyscheme.models import Role
from buddyscheme.selectors import (
    DashboardSection,
    HomeCard,
    HomeSection,
    dashboard_sections,
    home_cards,
    participant_home_cards,
)

from .models import Goal, GoalProgress, Match, MatchingSettings, MatchReview, MatchState, MenuItem
from .selectors import MatchSection, current_match_for, match_page_sections


@dataclass
class GoalLine:
    goal: Goal
    progress: list[GoalProgress]  # oldest first

    @property
    def latest(self) -> GoalProgress | None:
        return self.progress[-1] if self.progress else None


def goals_with_progress(match: Match) -> list[GoalLine]:
    """The match's goals, each with every score recorded against it: two queries."""
    goals = Goal.objects.filter(match=match).prefetch_related(
        Prefetch(
            "progress",
            queryset=GoalProgress.objects.select_related("review").order_by("recorded_at", "pk"),
        )
    )
    return [GoalLine(goal, list(goal.progress.all())) for goal in goals]


def reviews_for(match: Match) -> QuerySet[MatchReview]:
    return MatchReview.objects.filter(match=match).select_related("recorded_by__profile")


def menu_wants(match: Match) -> QuerySet[MenuItem]:
    """What the participant asked for on the menu, for picking goals from."""
    return MenuItem.objects.filter(
        profiles__membership_id=match.participant_id, is_active=True
    ).order_by("category__order", "order", "name")


def planned_length(match: Match) -> str:
    """ "12 sessions, until 1 June 2027" in plain words; empty when nothing was agreed."""
    parts = []
    if match.planned_sessions:
        parts.append(
            f"{match.planned_sessions} session{'s' if match.planned_sessions != 1 else ''}"
        )
    if match.planned_end:
        parts.append(f"until {match.planned_end:%-d %B %Y}")
    return ", ".join(parts)


def agreement_plan_clauses(match: Match) -> list[dict]:
    """The goals and the planned length, as clauses the agreement adds after the template's
    (contracts reads this; the frozen text and its hash include them)."""
    clauses = []
    length = planned_length(match)
    if length:
        clauses.append(
            {
                "heading": "How long we plan to meet",
                "text": f"We plan to meet for {length}. We will talk about it at the review.",
            }
        )
    goals = list(Goal.objects.filter(match=match))
    if goals:
        lines = [
            f"{number}. {goal.text}"
            + (
                f" (we will know it is achieved when: {goal.how_we_know})"
                if goal.how_we_know
                else ""
            )
            for number, goal in enumerate(goals, start=1)
        ]
        clauses.append({"heading": "Our goals", "text": "\n".join(lines)})
    return clauses


def reminder_days(scheme) -> int:
    row = MatchingSettings.objects.filter(scheme=scheme).values_list(
        "review_reminder_days", flat=True
    )
    return row.first() or MatchingSettings._meta.get_field("review_reminder_days").get_default()


# --- Overdue reviews --------------------------------------------------------------------------


def reviews_overdue(scheme, today: date) -> QuerySet[Match]:
    """Active matches whose review date has passed with no review recorded, oldest first."""
    return (
        Match.objects.filter(scheme=scheme, state=MatchState.ACTIVE, review_due__lt=today)
        .select_related("buddy__user__profile", "participant__user__profile")
        .order_by("review_due", "pk")
    )


DASHBOARD_OVERDUE_SHOWN = 10


@dataclass
class OverdueLine:
    match: Match
    days: int


@receiver(dashboard_sections)
def _overdue_reviews_on_the_dashboard(sender, scheme, now, **kwargs) -> list[DashboardSection]:
    """Overdue reviews, each linking to its match: two queries however many there are."""
    today = timezone.localdate(now, scheme.zone)
    overdue = reviews_overdue(scheme, today)
    shown = [
        OverdueLine(match, (today - match.review_due).days)
        for match in overdue[:DASHBOARD_OVERDUE_SHOWN]
        if match.review_due is not None  # always: the query asks for a date
    ]
    if not shown:
        return []
    return [
        DashboardSection(
            template="matching/_dashboard_reviews.html",
            context={"overdue": shown, "overdue_count": overdue.count()},
        )
    ]


# --- Match page, Home and Today ---------------------------------------------------------------


@receiver(match_page_sections)
def _goals_on_the_match_page(sender, match, viewer, **kwargs) -> list[MatchSection]:
    """Goals and their progress for all three; the plan and the reviews (with the coordinator's
    notes) for the coordinator, who records them."""
    if match.state in (MatchState.DRAFT, MatchState.PROPOSED, MatchState.DECLINED):
        return []
    is_coordinator = viewer.role == Role.COORDINATOR
    lines = goals_with_progress(match)
    if not is_coordinator and not lines:
        return []
    context = {
        "match": match,
        "lines": lines,
        "is_coordinator": is_coordinator,
    }
    if is_coordinator:
        context["reviews"] = list(reviews_for(match))
        context["end_progress_recorded"] = any(
            progress.at_end for line in lines for progress in line.progress
        )
    return [MatchSection("matching/_goals_section.html", context)]


@receiver(participant_home_cards)
def _goals_on_the_participant_home(sender, membership, **kwargs) -> list[HomeSection]:
    match = current_match_for(membership)
    if match is None:
        return []
    lines = goals_with_progress(match)
    if not lines:
        return []
    return [HomeSection(15, "matching/home/goals.html", {"match": match, "lines": lines})]


@receiver(home_cards)
def _review_coming_up_on_today(sender, membership, now, **kwargs) -> list[HomeCard]:
    """A buddy's card for each active match whose review is within the reminder window."""
    if membership.role != Role.BUDDY:
        return []
    today = timezone.localdate(now, membership.scheme.zone)
    horizon = today + timedelta(days=reminder_days(membership.scheme_id))
    matches = (
        Match.objects.filter(buddy=membership, state=MatchState.ACTIVE, review_due__lte=horizon)
        .select_related("participant__user__profile")
        .order_by("review_due", "pk")
    )
    return [
        HomeCard(
            "matching/_review_card.html",
            {"match": match, "overdue": (match.review_due or today) < today},
        )
        for match in matches
    ]
