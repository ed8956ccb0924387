"""Debriefs (DESIGN §4, seed 003): after every meeting the buddy says how it went, what
happened, the actions agreed and the goals for next time, answers the scheme's boundary
questions and says whether anything worries them.

The check-out opens the debrief (a row in state "due"); the buddy's phone saves a draft as they
type, so nothing is lost if it dies; sending it carries its actions and goals forward on the
match until a later debrief ticks them off. A coordinator may record a debrief given by phone or
email on the buddy's behalf. 24 hours after the check-out an unsent debrief earns the buddy one
reminder; after 48 hours the coordinator's dashboard lists it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from buddyscheme.audit import audit_record
from buddyscheme.errors import DomainError
from buddyscheme.models import Scheme
from buddyscheme.notifications import notification_enqueue
from matching.models import Goal

from ..models import (
    DEFAULT_BOUNDARY_QUESTIONS,
    BoundaryAnswer,
    BoundaryQuestion,
    Debrief,
    DebriefItem,
    DebriefState,
    FollowUp,
    GivenBy,
    ItemKind,
    Meeting,
    MeetingState,
)
from ..signals import debrief_elsewhere, debrief_sent

REMIND_AFTER = timedelta(hours=24)
DASHBOARD_AFTER = timedelta(hours=48)
MAX_ITEMS = 8  # of each kind in one debrief


@dataclass
class Action:
    text: str
    who: str = ""
    due_on: date | None = None


@dataclass
class DebriefContent:
    """What the debrief form holds, as typed (a draft may be incomplete)."""

    how_it_went: int | None = None
    what_happened: str = ""
    actions: list[Action] = field(default_factory=list)
    goals: list[str] = field(default_factory=list)
    # For each goal row, the match's Goal it serves (by id), if any.
    goal_links: list[int | None] = field(default_factory=list)
    # Items carried from earlier debriefs of the match that this one ticks off.
    done_item_ids: set[int] = field(default_factory=set)
    # Boundary question id -> True (crossed), False, or None (not answered).
    boundaries: dict[int, bool | None] = field(default_factory=dict)
    concerns: str = ""
    worried_about: str = ""


# --- Opening (from the check-out) ----------------------------------------------------------------


def debrief_open(meeting: Meeting, now) -> Debrief | None:
    """Called in the check-out's transaction: the debrief is due from this moment. None when
    another app writes this meeting's debrief (a group session's, see `debrief_elsewhere`)."""
    if any(answer for _, answer in debrief_elsewhere.send(sender=Meeting, meeting=meeting)):
        return None
    debrief, _ = Debrief.objects.get_or_create(meeting=meeting, defaults={"opened_at": now})
    return debrief


# --- The scheme's boundary questions -------------------------------------------------------------


def boundary_questions_ensure(scheme) -> list[BoundaryQuestion]:
    """Give a scheme the default boundary questions if it has none at all (a scheme that
    retired them all keeps them retired)."""
    if BoundaryQuestion.objects.filter(scheme=scheme).exists():
        return list(BoundaryQuestion.objects.filter(scheme=scheme, is_active=True))
    return BoundaryQuestion.objects.bulk_create(
        BoundaryQuestion(scheme=scheme, text=text, order=position)
        for position, text in enumerate(DEFAULT_BOUNDARY_QUESTIONS)
    )


@receiver(post_save, sender=Scheme)
def _new_scheme_gets_boundary_questions(sender, instance, created, raw=False, **kwargs) -> None:
    if created and not raw:
        boundary_questions_ensure(instance)


# --- Writing: the draft, and sending ---------------------------------------------------------------


def _locked_debrief(meeting: Meeting, now) -> Debrief:
    meeting = Meeting.objects.select_for_update(of=("self",)).get(pk=meeting.pk)
    if meeting.state != MeetingState.CHECKED_OUT:
        raise DomainError("A debrief can be written once the meeting has finished.")
    if debrief_open(meeting, meeting.checked_out_at or now) is None:
        raise DomainError("This meeting was a group session: its debrief is the group's.")
    debrief = (
        Debrief.objects.select_for_update(of=("self",))
        .select_related("meeting__scheme", "meeting__match", "meeting__buddy__user")
        .get(meeting=meeting)
    )
    if debrief.is_sent:
        raise DomainError("This debrief has been sent already.")
    return debrief


def _clean_items(
    content: DebriefContent, match_id: int | None
) -> tuple[list[Action], list[tuple[str, int | None]]]:
    actions = [
        Action(text=action.text.strip()[:200], who=action.who, due_on=action.due_on)
        for action in content.actions
        if action.text.strip()
    ]
    # A link to a goal of another match (a forged post) is dropped, not followed.
    own_goals = (
        set(Goal.objects.filter(match_id=match_id).values_list("pk", flat=True))
        if match_id and any(content.goal_links)
        else set()
    )
    links = list(content.goal_links) + [None] * (len(content.goals) - len(content.goal_links))
    goals = [
        (goal.strip()[:200], link if link in own_goals else None)
        for goal, link in zip(content.goals, links, strict=False)
        if goal.strip()
    ]
    if len(actions) > MAX_ITEMS or len(goals) > MAX_ITEMS:
        raise DomainError(f"A debrief can hold up to {MAX_ITEMS} actions and {MAX_ITEMS} goals.")
    return actions, goals


def carried_items(debrief_or_meeting) -> list[DebriefItem]:
    """The match's actions and goals still open from debriefs already sent, for this meeting's
    debrief to tick off (its own items excluded)."""
    meeting = getattr(debrief_or_meeting, "meeting", debrief_or_meeting)
    if meeting.match_id is None:
        return []
    return list(
        DebriefItem.objects.filter(
            match_id=meeting.match_id,
            done_at__isnull=True,
            debrief__state=DebriefState.SENT,
        )
        .exclude(debrief__meeting=meeting)
        .order_by("debrief__opened_at", "kind", "position", "pk")
    )


def _write(debrief: Debrief, content: DebriefContent, now) -> None:
    actions, goals = _clean_items(content, debrief.meeting.match_id)
    debrief.how_it_went = content.how_it_went
    debrief.what_happened = content.what_happened.strip()[:2000]
    debrief.concerns = content.concerns.strip()[:2000]
    debrief.worried_about = content.worried_about or ""
    debrief.updated_at = now
    match_id = debrief.meeting.match_id
    # The debrief's own items are rewritten as typed; nothing else refers to them until it is
    # sent (only sent debriefs' items are carried forward).
    debrief.items.all().delete()
    DebriefItem.objects.bulk_create(
        [
            DebriefItem(
                debrief=debrief,
                match_id=match_id,
                kind=ItemKind.ACTION,
                text=action.text,
                who=action.who,
                due_on=action.due_on,
                position=position,
            )
            for position, action in enumerate(actions)
        ]
        + [
            DebriefItem(
                debrief=debrief,
                match_id=match_id,
                kind=ItemKind.GOAL,
                text=goal,
                goal_id=goal_id,
                position=position,
            )
            for position, (goal, goal_id) in enumerate(goals)
        ]
    )
    carried = {item.pk for item in carried_items(debrief)}
    DebriefItem.objects.filter(done_in=debrief, done_at__isnull=True).update(done_in=None)
    DebriefItem.objects.filter(pk__in=carried & set(content.done_item_ids)).update(done_in=debrief)
    questions = {
        question.pk: question
        for question in BoundaryQuestion.objects.filter(
            scheme_id=debrief.meeting.scheme_id, pk__in=content.boundaries
        )
    }
    debrief.boundary_answers.all().delete()
    BoundaryAnswer.objects.bulk_create(
        BoundaryAnswer(
            debrief=debrief, question=question, question_text=question.text, crossed=crossed
        )
        for pk, question in questions.items()
        if (crossed := content.boundaries.get(pk)) is not None
    )


@transaction.atomic
def debrief_save_draft(*, meeting: Meeting, content: DebriefContent, by, now=None) -> Debrief:
    """Keep what the buddy has typed so far (the phone saves every few seconds)."""
    now = now or timezone.now()
    debrief = _locked_debrief(meeting, now)
    started = debrief.state == DebriefState.DUE
    _write(debrief, content, now)
    debrief.state = DebriefState.DRAFT
    debrief.save()
    if started:
        # Once per debrief: a draft saved every few seconds is not an event worth a row each.
        audit_record(actor=by, verb="debrief_draft_start", obj=debrief, scheme=meeting.scheme_id)
    return debrief


@transaction.atomic
def debrief_send(
    *,
    meeting: Meeting,
    content: DebriefContent,
    by,
    given_by: str = GivenBy.BUDDY,
    identifying_confirmed: bool = False,
    now=None,
) -> Debrief:
    """Send the debrief: its actions and goals are carried forward, the items it ticked are
    done, and a crossed boundary or a worry opens a follow-up for the coordinator.

    `given_by` other than the buddy: a coordinator recording it from a call or an email.
    """
    now = now or timezone.now()
    if given_by not in GivenBy.values:
        raise DomainError("Say how the debrief was given.")
    if content.how_it_went is None or not content.what_happened.strip():
        raise DomainError("Say how it went and what happened, then send.")
    debrief = _locked_debrief(meeting, now)
    _write(debrief, content, now)
    DebriefItem.objects.filter(done_in=debrief, done_at__isnull=True).update(done_at=now)
    debrief.state = DebriefState.SENT
    debrief.sent_at = now
    debrief.given_by = given_by
    debrief.recorded_by = by
    debrief.identifying_confirmed_at = now if identifying_confirmed else None
    crossed = debrief.boundary_answers.filter(crossed=True).exists()
    if crossed or debrief.concerns or debrief.worried_about:
        debrief.follow_up = FollowUp.OPEN
    debrief.save()
    audit_record(
        actor=by,
        verb="debrief_send" if given_by == GivenBy.BUDDY else "debrief_record",
        obj=debrief,
        scheme=meeting.scheme_id,
    )
    transaction.on_commit(partial(debrief_sent.send, sender=Debrief, debrief=debrief, by=by))
    return debrief


# --- The coordinator's side ------------------------------------------------------------------------


@transaction.atomic
def debrief_feedback(*, debrief: Debrief, text: str, by, now=None) -> Debrief:
    """The coordinator's feedback, which the buddy sees with their debrief (and is told of)."""
    now = now or timezone.now()
    debrief = (
        Debrief.objects.select_for_update(of=("self",))
        .select_related("meeting__scheme", "meeting__buddy__user__profile")
        .get(pk=debrief.pk)
    )
    if not debrief.is_sent:
        raise DomainError("Feedback can be added once the debrief has been sent.")
    text = text.strip()
    if not text:
        raise DomainError("Write some feedback first.")
    debrief.feedback, debrief.feedback_by, debrief.feedback_at = text[:2000], by, now
    debrief.save(update_fields=["feedback", "feedback_by", "feedback_at"])
    audit_record(actor=by, verb="debrief_feedback", obj=debrief, scheme=debrief.meeting.scheme_id)
    notification_enqueue(
        scheme=debrief.meeting.scheme,
        recipient=debrief.meeting.buddy.user,
        template="debrief_feedback",
        dedupe_key=f"debrief-feedback:{debrief.pk}:{now.isoformat()}",
        context={"debrief_id": debrief.pk},
        now=now,
    )
    return debrief


@transaction.atomic
def debrief_follow_up_set(*, debrief: Debrief, state: str, note: str, by, now=None) -> Debrief:
    """Open or close the follow-up of an issue the debrief raised."""
    now = now or timezone.now()
    if state not in (FollowUp.OPEN, FollowUp.DONE):
        raise DomainError("Choose whether it still needs following up.")
    debrief = Debrief.objects.select_for_update(of=("self",)).get(pk=debrief.pk)
    if not debrief.is_sent:
        raise DomainError("A debrief can be followed up once it has been sent.")
    debrief.follow_up = state
    debrief.follow_up_note = note.strip()[:300]
    debrief.followed_up_by = by
    debrief.followed_up_at = now
    debrief.save(update_fields=["follow_up", "follow_up_note", "followed_up_by", "followed_up_at"])
    audit_record(
        actor=by,
        verb="debrief_follow_up_done" if state == FollowUp.DONE else "debrief_follow_up_open",
        obj=debrief,
        scheme=debrief.meeting.scheme_id,
    )
    return debrief


# --- Missing debriefs ------------------------------------------------------------------------------


def debriefs_remind(*, now=None) -> int:
    """Every debrief unsent 24 hours after its check-out: one reminder to the buddy, ever.

    The conditional UPDATE claims each debrief, so two runs at once remind nobody twice, and
    the outbox's key makes a redelivered task harmless too.
    """
    now = now or timezone.now()
    due = Debrief.objects.filter(
        sent_at__isnull=True, reminded_at__isnull=True, opened_at__lte=now - REMIND_AFTER
    ).values_list("pk", flat=True)
    reminded = 0
    for pk in list(due[:500]):
        with transaction.atomic():
            claimed = Debrief.objects.filter(
                pk=pk, sent_at__isnull=True, reminded_at__isnull=True
            ).update(reminded_at=now)
            if not claimed:
                continue
            debrief = Debrief.objects.select_related(
                "meeting__scheme", "meeting__buddy__user__profile"
            ).get(pk=pk)
            buddy = debrief.meeting.buddy
            if not (buddy.is_active and buddy.user.is_active):
                continue
            notification_enqueue(
                scheme=debrief.meeting.scheme,
                recipient=buddy.user,
                template="debrief_reminder",
                dedupe_key=f"debrief-reminder:{debrief.pk}",
                context={"meeting_id": debrief.meeting_id},
                now=now,
            )
            reminded += 1
    return reminded
