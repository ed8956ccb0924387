"""Goals, the planned length, reviews and progress at the end: coordinator pages, one URL per
action (issue 18). Buddies and participants read goals on the match page and their home page."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from buddyscheme.access import role_required
from buddyscheme.errors import DomainError
from buddyscheme.models import Role
from buddyscheme.selectors import names_of

from . import goal_selectors, goals
from .access import get_goal_for_user, get_match_for_user
from .goal_forms import EndProgressForm, GoalForm, PlanForm, ReviewForm
from .models import MatchState


def _names(match):
    return names_of([match.participant])


def _goals_page(request, match, goal_form=None, plan_form=None):
    return render(
        request,
        "matching/goals.html",
        {
            "match": match,
            "lines": goal_selectors.goals_with_progress(match),
            "goal_form": goal_form
            or GoalForm(wants=goal_selectors.menu_wants(match), names=_names(match)),
            "plan_form": plan_form
            or PlanForm(
                initial={
                    "planned_sessions": match.planned_sessions,
                    "planned_end": match.planned_end,
                }
            ),
            "planned_length": goal_selectors.planned_length(match),
            "may_add": match.state in goals.GOAL_STATES,
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def match_goals(request, pk):
    """The match's goals and planned length; POST adds a goal."""
    match = get_match_for_user(request, pk)
    if request.method == "GET":
        return _goals_page(request, match)
    form = GoalForm(request.POST, wants=goal_selectors.menu_wants(match), names=_names(match))
    if form.is_valid():
        try:
            goals.goal_add(
                match=match,
                by=request.user,
                text=form.cleaned_data["text"],
                how_we_know=form.cleaned_data["how_we_know"],
                menu_item=form.cleaned_data["menu_item"],
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Goal added.")
            return redirect("matching:goals", pk=match.pk)
    return _goals_page(request, match, goal_form=form)


@require_POST
@role_required(Role.COORDINATOR)
def goal_remove(request, pk, goal_pk):
    match = get_match_for_user(request, pk)
    goal = get_goal_for_user(request, match, goal_pk)
    try:
        goals.goal_remove(goal=goal, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Goal removed.")
    return redirect("matching:goals", pk=match.pk)


@require_POST
@role_required(Role.COORDINATOR)
def match_plan(request, pk):
    match = get_match_for_user(request, pk)
    form = PlanForm(request.POST)
    if form.is_valid():
        try:
            goals.match_plan_set(match=match, by=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Planned length saved.")
            return redirect("matching:goals", pk=match.pk)
    return _goals_page(request, match, plan_form=form)


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def review_new(request, pk):
    """Record the review meeting; an "end" outcome goes on to the ending on the match page."""
    match = get_match_for_user(request, pk)
    lines = goal_selectors.goals_with_progress(match)
    today = timezone.localdate(timezone.now(), match.scheme.zone)
    form = ReviewForm(
        request.POST or None,
        lines=lines,
        names=_names(match),
        initial={"held_on": today, "held_with": "both"},
    )
    if request.method == "POST" and form.is_valid():
        try:
            review = goals.review_record(
                match=match,
                by=request.user,
                held_on=form.cleaned_data["held_on"],
                held_with=form.cleaned_data["held_with"],
                outcome=form.cleaned_data["outcome"],
                notes=form.cleaned_data["notes"],
                scores=form.scores(),
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            if review.outcome == "end":
                messages.success(
                    request, "Review recorded. You decided to end the match: end it below."
                )
                return redirect(reverse("matching:match", args=[match.pk]) + "#ending")
            messages.success(
                request, f"Review recorded. The next review is due on {review.next_due:%-d %B %Y}."
            )
            return redirect("matching:match", pk=match.pk)
    return render(
        request,
        "matching/review_new.html",
        {"match": match, "form": form, "is_active": match.state == MatchState.ACTIVE},
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def progress_at_end(request, pk):
    """Each goal's progress as the match ends."""
    match = get_match_for_user(request, pk)
    lines = goal_selectors.goals_with_progress(match)
    form = EndProgressForm(request.POST or None, lines=lines, names=_names(match))
    if request.method == "POST" and form.is_valid():
        try:
            goals.goals_progress_at_end(match=match, by=request.user, scores=form.scores())
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Progress at the end recorded.")
            return redirect("matching:match", pk=match.pk)
    return render(request, "matching/progress_at_end.html", {"match": match, "form": form})
