"""Writes for goals, the planned length of a match, reviews and review reminders (issue 18).

Each service owns its transaction, locks the match it changes, and leaves an audit row. Free
text (goals, notes) reaches here already through the initials guard in matching/forms.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from buddyscheme.audit import audit_record
from buddyscheme.errors import DomainError
from buddyscheme.notifications import notification_enqueue
from buddyscheme.vetting import _add_months

from . import selectors
from .models import (
    CLOSED_STATES,
    Goal,
    GoalProgress,
    Match,
    MatchingSettings,
    MatchReview,
    MatchState,
    MenuItem,
    ReviewOutcome,
    ReviewReminder,
    ReviewWith,
)
from .signals import match_review_due, match_reviewed

# Goals are set once both have said yes (at the introduction, with the participant) and can be
# added while the match runs; a closed match's goals are its record.
GOAL_STATES = [MatchState.ACCEPTED, MatchState.INTRODUCED, MatchState.ACTIVE, MatchState.ENDING]
MAX_GOALS = 10
MAX_PLANNED_SESSIONS = 200


@dataclass(frozen=True)
class Score:
    """One goal's progress as typed: 0 (not started) to 10 (achieved), and a short note."""

    score: int
    note: str = ""


def _lock(match: Match) -> Match:
    return Match.objects.select_for_update().select_related("scheme").get(pk=match.pk)


def goal_add(
    *,
    match: Match,
    by,
    text: str = "",
    how_we_know: str = "",
    menu_item: MenuItem | None = None,
    now=None,
) -> Goal:
    """A goal picked from the participant's menu wants (its name is the text unless one is
    typed) or typed in full."""
    now = now or timezone.now()
    text = (text or "").strip() or (menu_item.name if menu_item else "")
    if not text:
        raise DomainError("Pick one of the things they want, or type the goal.")
    if menu_item is not None and menu_item.category.scheme_id != match.scheme_id:
        raise DomainError("That menu item belongs to another scheme.")
    with transaction.atomic():
        locked = _lock(match)
        if locked.state not in GOAL_STATES:
            raise DomainError(
                "Goals are set once both have said yes, and not after the match has closed."
            )
        count = Goal.objects.filter(match=locked).count()
        if count >= MAX_GOALS:
            raise DomainError(f"A match can have up to {MAX_GOALS} goals.")
        try:
            with transaction.atomic():
                goal = Goal.objects.create(
                    match=locked,
                    text=text[:200],
                    how_we_know=(how_we_know or "").strip()[:300],
                    menu_item=menu_item,
                    order=count,
                    created_by=by,
                    created_at=now,
                )
        except IntegrityError as error:
            raise DomainError("This match already has that goal.") from error
        audit_record(actor=by, verb="goal_add", obj=goal, scheme=locked.scheme_id)
    return goal


@transaction.atomic
def goal_remove(*, goal: Goal, by) -> None:
    """A goal set by mistake. Once progress is recorded against it, it is part of the record."""
    locked = _lock(goal.match)
    if locked.state in CLOSED_STATES:
        raise DomainError("This match has closed: its goals are its record.")
    if GoalProgress.objects.filter(goal=goal).exists():
        raise DomainError("Progress has been recorded against this goal, so it stays.")
    audit_record(actor=by, verb="goal_remove", obj=goal, scheme=locked.scheme_id)
    goal.delete()


@transaction.atomic
def match_plan_set(
    *, match: Match, by, planned_sessions: int | None, planned_end: date | None, now=None
) -> Match:
    """How long the match is planned to run: a number of sessions, an end date, or both
    (seed 003: "be clear about the number of sessions you will be offering")."""
    locked = _lock(match)
    if locked.state in CLOSED_STATES:
        raise DomainError("This match has closed: its plan can no longer change.")
    if planned_sessions is not None and not 1 <= planned_sessions <= MAX_PLANNED_SESSIONS:
        raise DomainError(f"Give a number of sessions from 1 to {MAX_PLANNED_SESSIONS}.")
    today = timezone.localdate(now or timezone.now(), locked.scheme.zone)
    if planned_end is not None and planned_end != locked.planned_end and planned_end <= today:
        raise DomainError("The planned end date has to be after today.")
    locked.planned_sessions, locked.planned_end = planned_sessions, planned_end
    locked.save(update_fields=["planned_sessions", "planned_end"])
    audit_record(actor=by, verb="match_plan_set", obj=locked, scheme=locked.scheme_id)
    return locked


def _check_scores(goals: list[Goal], scores: dict[int, Score]) -> None:
    missing = [goal.text for goal in goals if goal.pk not in scores]
    if missing:
        raise DomainError("Give a score for every goal: " + "; ".join(missing) + ".")
    for score in scores.values():
        if not 0 <= score.score <= 10:
            raise DomainError("Scores go from 0 (not started) to 10 (achieved).")


def _progress_create(
    goals: list[Goal], scores: dict[int, Score], *, by, now, review=None, at_end=False
) -> list[GoalProgress]:
    rows = GoalProgress.objects.bulk_create(
        [
            GoalProgress(
                goal=goal,
                score=scores[goal.pk].score,
                note=scores[goal.pk].note.strip()[:300],
                review=review,
                at_end=at_end,
                recorded_at=now,
                recorded_by=by,
            )
            for goal in goals
        ]
    )
    achieved = [goal.pk for goal in goals if scores[goal.pk].score == 10 and not goal.achieved_at]
    Goal.objects.filter(pk__in=achieved).update(achieved_at=now)
    return rows


def review_record(
    *,
    match: Match,
    by,
    held_on: date,
    held_with: str,
    outcome: str,
    notes: str = "",
    scores: dict[int, Score] | None = None,
    now=None,
) -> MatchReview:
    """Record the review meeting with each goal's progress, and set the next review date
    (`review_after_months` after this one) whatever the outcome: an ending the review decided
    on is made on the match page, and until it is the match is still reviewed."""
    now = now or timezone.now()
    scores = scores or {}
    if held_with not in ReviewWith.values:
        raise DomainError("Say who the review was held with.")
    if outcome not in ReviewOutcome.values:
        raise DomainError("Choose what the review decided: carry on, change something, or end.")
    with transaction.atomic():
        locked = _lock(match)
        if locked.state != MatchState.ACTIVE:
            raise DomainError("Reviews are for active matches.")
        today = timezone.localdate(now, locked.scheme.zone)
        if held_on > today:
            raise DomainError("Record a review once it has been held: the date is in the future.")
        if locked.activated_at is not None:
            started = timezone.localdate(locked.activated_at, locked.scheme.zone)
            if held_on < started:
                raise DomainError(
                    f"The match started on {started:%-d %B %Y}: the review came after."
                )
        goals = list(Goal.objects.filter(match=locked))
        _check_scores(goals, scores)
        months = selectors.matching_settings(locked.scheme).review_after_months
        try:
            with transaction.atomic():
                review = MatchReview.objects.create(
                    match=locked,
                    due_on=locked.review_due or held_on,
                    held_on=held_on,
                    held_with=held_with,
                    outcome=outcome,
                    notes=(notes or "").strip()[:2000],
                    next_due=_add_months(held_on, months),
                    recorded_by=by,
                    recorded_at=now,
                )
        except IntegrityError as error:
            raise DomainError("This review has already been recorded.") from error
        _progress_create(goals, scores, by=by, now=now, review=review)
        locked.review_due = review.next_due
        locked.save(update_fields=["review_due"])
        audit_record(actor=by, verb="review_record", obj=review, scheme=locked.scheme_id)
        match_reviewed.send(sender=Match, match=locked, review=review, by=by, now=now)
    return review


# Progress at the end is recorded while the match ends or just after it has.
END_PROGRESS_STATES = [MatchState.ACTIVE, MatchState.ENDING, MatchState.ENDED]


@transaction.atomic
def goals_progress_at_end(
    *, match: Match, by, scores: dict[int, Score], now=None
) -> list[GoalProgress]:
    """Each goal's progress when the match ends: once per goal."""
    now = now or timezone.now()
    locked = _lock(match)
    if locked.state not in END_PROGRESS_STATES:
        raise DomainError("Progress at the end is recorded for a match that is ending or ended.")
    goals = list(Goal.objects.filter(match=locked))
    if not goals:
        raise DomainError("This match has no goals to score.")
    if GoalProgress.objects.filter(goal__match=locked, at_end=True).exists():
        raise DomainError("Progress at the end has already been recorded for this match.")
    _check_scores(goals, scores)
    rows = _progress_create(goals, scores, by=by, now=now, at_end=True)
    audit_record(actor=by, verb="goals_progress_at_end", obj=locked, scheme=locked.scheme_id)
    return rows


# --- Review reminders -------------------------------------------------------------------------


def _reminder_days(match: Match) -> int:
    try:
        return match.scheme.matching_settings.review_reminder_days
    except MatchingSettings.DoesNotExist:
        return MatchingSettings._meta.get_field("review_reminder_days").get_default()


def reviews_to_remind(now=None) -> list[Match]:
    """Active matches whose review is within the scheme's reminder window (or already passed)
    and whose reminders for that review date have not gone out."""
    now = now or timezone.now()
    reminded = ReviewReminder.objects.filter(match=OuterRef("pk"), due_on=OuterRef("review_due"))
    candidates = (
        Match.objects.filter(state=MatchState.ACTIVE, review_due__isnull=False)
        .filter(~Exists(reminded))
        .select_related("scheme__matching_settings")
        .order_by("review_due", "pk")
    )
    return [
        match
        for match in candidates
        if match.review_due is not None
        and match.review_due - timedelta(days=_reminder_days(match))
        <= timezone.localdate(now, match.scheme.zone)
    ]


def review_remind(*, match: Match, now=None) -> bool:
    """Tell the buddy and the match's coordinator that the review is coming up, once for each
    review date: the ReviewReminder row is the claim, so a second sweep sends nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(match)
        if locked.state != MatchState.ACTIVE or locked.review_due is None:
            return False
        try:
            with transaction.atomic():
                ReviewReminder.objects.create(match=locked, due_on=locked.review_due, sent_at=now)
        except IntegrityError:
            return False
        key = f"match_review_due:{locked.pk}:{locked.review_due:%Y%m%d}"
        coordinator = selectors.coordinator_for_participant(locked.participant, locked)
        people = [("buddy", locked.buddy.user)]
        if coordinator is not None:
            people.append(("coordinator", coordinator.user))
        for side, user in people:
            notification_enqueue(
                scheme=locked.scheme,
                recipient=user,
                template="match_review_due",
                dedupe_key=key,
                context={
                    "match_id": locked.pk,
                    "side": side,
                    "due_on": f"{locked.review_due:%-d %B %Y}",
                },
                now=now,
            )
        match_review_due.send(sender=Match, match=locked, now=now)
    return True


def reviews_remind(now=None) -> int:
    """Daily, from beat: every review reminder that is due. Safe to run twice at once."""
    now = now or timezone.now()
    return sum(review_remind(match=match, now=now) for match in reviews_to_remind(now))
