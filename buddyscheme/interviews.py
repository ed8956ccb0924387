"""Selection interviews (issue 15): booked with an applicant, the scheme's questions asked and
noted, and an outcome (proceed / not now / not suitable) the applicant is told kindly by email.

A face-to-face interview is also a meeting with lone-working check-in: `meetings` books that
meeting (`meetings.services.interview_arrange`) and listens for `interview_cancelled`, so the
core never imports it, as with one-to-ones.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import django.dispatch
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.dispatch import receiver
from django.utils import timezone

from .audit import audit_record
from .errors import DomainError
from .models import (
    DEFAULT_INTERVIEW_QUESTIONS,
    BuddyStage,
    Channel,
    Interview,
    InterviewAnswer,
    InterviewMode,
    InterviewOutcome,
    InterviewQuestion,
    Membership,
    RecruitmentSource,
    Role,
)
from .notifications import notification_enqueue
from .selectors import PersonSection, SettingsSection, person_record_sections, settings_sections
from .support import spoken_day
from .vetting import buddy_stage_move, support_person_check, vetting_for, vetting_record

# Sent inside the transaction that cancels an interview, with `interview`: the meeting booked
# for a face-to-face one is cancelled with it.
interview_cancelled = django.dispatch.Signal()

LONGEST_INTERVIEW = timedelta(hours=3)
NOTES_LENGTH = 4000
REASON_LENGTH = 1000
# Applicants are interviewed before their checks start (or while references come back).
INTERVIEW_STAGES = [BuddyStage.APPLIED, BuddyStage.REFERENCES]
# "Proceed" moves the applicant on one step: after the application come the references, after
# the references the DBS check.
PROCEED_TO: dict[str, str] = {
    BuddyStage.APPLIED: BuddyStage.REFERENCES,
    BuddyStage.REFERENCES: BuddyStage.DBS_CHECK,
}

# --- Reads ----------------------------------------------------------------------------------


def interview_questions_for(scheme):
    return InterviewQuestion.objects.filter(scheme=scheme)


def interviews_of(applicant: Membership) -> list[Interview]:
    """The applicant's interviews, newest first, with their notes (two queries)."""
    return list(
        Interview.objects.filter(applicant=applicant)
        .select_related("interviewer__user__profile")
        .prefetch_related("answers")
    )


# --- Writes: the scheme's questions ---------------------------------------------------------


@transaction.atomic
def interview_question_create(*, scheme, text: str, by, order: int | None = None):
    text = (text or "").strip()
    if not text:
        raise DomainError("Write the question.")
    if order is None:
        order = InterviewQuestion.objects.filter(scheme=scheme).count() + 1
    question = InterviewQuestion.objects.create(scheme=scheme, text=text[:200], order=order)
    audit_record(actor=by, verb="interview_question_create", obj=question, scheme=scheme.pk)
    return question


@transaction.atomic
def interview_question_update(
    *, question: InterviewQuestion, text: str, by, order: int | None = None
):
    text = (text or "").strip()
    if not text:
        raise DomainError("Write the question.")
    question.text = text[:200]
    if order is None:
        # Left empty: asked last, as the form says (the form has already emptied the field on
        # the instance, so the stored position cannot simply be kept).
        others = InterviewQuestion.objects.filter(scheme_id=question.scheme_id).exclude(
            pk=question.pk
        )
        order = (others.aggregate(last=Max("order"))["last"] or 0) + 1
    question.order = order
    question.save(update_fields=["text", "order"])
    audit_record(
        actor=by, verb="interview_question_update", obj=question, scheme=question.scheme_id
    )
    return question


@transaction.atomic
def interview_question_delete(*, question: InterviewQuestion, by) -> None:
    # Interviews already held keep the words they asked (InterviewAnswer.question).
    audit_record(
        actor=by, verb="interview_question_delete", obj=question, scheme=question.scheme_id
    )
    question.delete()


@transaction.atomic
def interview_questions_add_defaults(*, scheme, by) -> int:
    """Add the suggested questions the scheme does not have yet. Returns how many."""
    have = set(InterviewQuestion.objects.filter(scheme=scheme).values_list("text", flat=True))
    added = 0
    for text in DEFAULT_INTERVIEW_QUESTIONS:
        if text not in have:
            interview_question_create(scheme=scheme, text=text, by=by)
            added += 1
    return added


# --- Writes: the recruitment source ---------------------------------------------------------


@transaction.atomic
def recruitment_source_set(*, applicant: Membership, source: str, by):
    """How the buddy heard of the scheme (blank: not known)."""
    if source and source not in RecruitmentSource.values:
        raise DomainError("Choose how they heard of us from the list.")
    vetting = vetting_for(applicant)
    vetting.recruitment_source = source
    vetting.save(update_fields=["recruitment_source"])
    audit_record(actor=by, verb="recruitment_source_set", obj=vetting, scheme=applicant.scheme_id)
    return vetting


# --- Writes: interviews ---------------------------------------------------------------------


def interview_book(
    *,
    applicant: Membership,
    mode: str,
    starts_at: datetime,
    ends_at: datetime,
    by,
    interviewer: Membership | None = None,
    now=None,
) -> Interview:
    """Book an applicant's interview, with the scheme's questions (or the suggested ones) ready
    for notes. The applicant is told by email, without saying what the scheme is about.

    Face to face, book it through `meetings.services.interview_arrange`, which calls this in
    the same transaction and books the meeting the applicant checks in and out of."""
    now = now or timezone.now()
    if applicant.role != Role.BUDDY or not applicant.is_active:
        raise DomainError("Interviews are for people applying to be a buddy.")
    if vetting_record(applicant).stage not in INTERVIEW_STAGES:
        raise DomainError("Only applicants are interviewed (this person is past that stage).")
    if mode not in InterviewMode.values:
        raise DomainError("Choose face to face, phone or video.")
    if ends_at <= starts_at:
        raise DomainError("The interview must end after it starts.")
    if ends_at - starts_at > LONGEST_INTERVIEW:
        raise DomainError("An interview can last at most 3 hours.")
    if starts_at < now - timedelta(minutes=5):
        raise DomainError("The start time has passed: book it for a time still to come.")
    if interviewer is not None:
        support_person_check(applicant.scheme, interviewer)
    questions = list(interview_questions_for(applicant.scheme_id).values_list("text", flat=True))
    try:
        with transaction.atomic():
            interview = Interview.objects.create(
                scheme_id=applicant.scheme_id,
                applicant=applicant,
                interviewer=interviewer,
                mode=mode,
                starts_at=starts_at,
                ends_at=ends_at,
                created_by=by,
                created_at=now,
            )
    except IntegrityError:
        raise DomainError(
            "This applicant already has an interview booked: record its outcome or cancel it first."
        ) from None
    with transaction.atomic():
        InterviewAnswer.objects.bulk_create(
            InterviewAnswer(interview=interview, question=text, order=position)
            for position, text in enumerate(questions or DEFAULT_INTERVIEW_QUESTIONS, start=1)
        )
        audit_record(actor=by, verb="interview_book", obj=interview, scheme=applicant.scheme_id)
        notification_enqueue(
            scheme=applicant.scheme,
            recipient=applicant.user,
            template="interview_booked",
            dedupe_key=f"interview-booked:{interview.pk}",
            context={
                "interview_id": interview.pk,
                "when": spoken_day(starts_at, applicant.scheme),
                "how": InterviewMode(mode).label.lower(),
            },
            channels=[Channel.EMAIL],
            now=now,
        )
    return interview


def _locked(interview: Interview) -> Interview:
    return (
        Interview.objects.select_for_update(of=("self",))
        .select_related("applicant__user", "applicant__scheme", "scheme")
        .get(pk=interview.pk)
    )


@transaction.atomic
def interview_notes_save(*, interview: Interview, notes: dict[int, str], by) -> Interview:
    """Save the notes for each question (keyed by the answer row's id)."""
    interview = _locked(interview)
    if interview.cancelled_at is not None:
        raise DomainError("This interview was cancelled.")
    answers = {answer.pk: answer for answer in interview.answers.all()}
    changed = []
    for pk, text in notes.items():
        answer = answers.get(pk)
        if answer is None:
            continue
        text = (text or "").strip()
        if len(text) > NOTES_LENGTH:
            raise DomainError(f"Please keep each note under {NOTES_LENGTH} characters.")
        if answer.notes != text:
            answer.notes = text
            changed.append(answer)
    InterviewAnswer.objects.bulk_update(changed, ["notes"])
    # The row says that the notes changed, never what they say.
    audit_record(actor=by, verb="interview_notes_save", obj=interview, scheme=interview.scheme_id)
    return interview


@transaction.atomic
def interview_outcome_record(
    *, interview: Interview, outcome: str, reason: str = "", by, now=None
) -> Interview:
    """Decide after the interview. Proceed moves the applicant one step along the pipeline;
    not now pauses them; not suitable marks them as left. The applicant is told by a kind,
    discreet email with the reason written here. Recording twice records once."""
    now = now or timezone.now()
    interview = _locked(interview)
    if interview.outcome:
        raise DomainError("The outcome of this interview is already recorded.")
    if interview.cancelled_at is not None:
        raise DomainError("This interview was cancelled.")
    if outcome not in InterviewOutcome.values:
        raise DomainError("Choose proceed, not now or not suitable.")
    if now < interview.starts_at:
        raise DomainError("This interview has not happened yet.")
    reason = (reason or "").strip()
    if outcome != InterviewOutcome.PROCEED and not reason:
        raise DomainError("Write the reason: the applicant is told it.")
    if len(reason) > REASON_LENGTH:
        raise DomainError(f"Please keep the reason under {REASON_LENGTH} characters.")
    interview.outcome = outcome
    interview.outcome_reason = reason
    interview.decided_at = now
    interview.decided_by = by
    interview.save(update_fields=["outcome", "outcome_reason", "decided_at", "decided_by"])
    applicant = interview.applicant
    stage = vetting_record(applicant).stage
    day = f"{timezone.localtime(interview.starts_at, applicant.scheme.zone):%-d %B %Y}"
    evidence = f"Interview on {day}: {InterviewOutcome(outcome).label.lower()}"
    if outcome == InterviewOutcome.PROCEED and stage in PROCEED_TO:
        buddy_stage_move(
            membership=applicant, to_stage=PROCEED_TO[stage], by=by, evidence=evidence, now=now
        )
    elif outcome == InterviewOutcome.NOT_NOW and stage != BuddyStage.PAUSED:
        buddy_stage_move(
            membership=applicant, to_stage=BuddyStage.PAUSED, by=by, evidence=evidence, now=now
        )
    elif outcome == InterviewOutcome.NOT_SUITABLE and stage != BuddyStage.LEFT:
        buddy_stage_move(
            membership=applicant, to_stage=BuddyStage.LEFT, by=by, evidence=evidence, now=now
        )
    audit_record(
        actor=by, verb="interview_outcome_record", obj=interview, scheme=interview.scheme_id
    )
    notification_enqueue(
        scheme=interview.scheme,
        recipient=applicant.user,
        template="interview_outcome",
        dedupe_key=f"interview-outcome:{interview.pk}",
        context={"interview_id": interview.pk, "outcome": outcome, "reason": reason},
        channels=[Channel.EMAIL],  # a reason is free text: never in a text message
        now=now,
    )
    return interview


@transaction.atomic
def interview_cancel(*, interview: Interview, by, now=None) -> Interview:
    """Cancel an interview still to be decided (and, face to face, its meeting). Cancelling one
    already cancelled does nothing."""
    now = now or timezone.now()
    interview = _locked(interview)
    if interview.cancelled_at is not None:
        return interview
    if interview.outcome:
        raise DomainError("This interview has an outcome: it cannot be cancelled.")
    interview.cancelled_at = now
    interview.save(update_fields=["cancelled_at"])
    audit_record(actor=by, verb="interview_cancel", obj=interview, scheme=interview.scheme_id)
    interview_cancelled.send(sender=Interview, interview=interview, by=by, now=now)
    return interview


# --- The person page and the settings hub ------------------------------------------------------------------------


@receiver(person_record_sections)
def _recruitment_on_the_person_page(sender, member: Membership, now, **kwargs):
    """A buddy's recruitment: how they heard of us and their interviews (3 queries)."""
    if member.role != Role.BUDDY:
        return []
    vetting = vetting_record(member)
    interviews = interviews_of(member)
    return [
        PersonSection(
            title="Recruitment",
            template="buddyscheme/interviews/_person_recruitment.html",
            order=5,
            context={
                "sources": RecruitmentSource.choices,
                "source": vetting.recruitment_source,
                "interviews": interviews,
                "may_book": vetting.stage in INTERVIEW_STAGES
                and not any(interview.is_open for interview in interviews),
            },
        )
    ]


@receiver(settings_sections)
def _interview_questions_on_the_settings_hub(sender, scheme, **kwargs):
    count = interview_questions_for(scheme).count()
    return [
        SettingsSection(
            position=62,
            title="Interview questions",
            url_name="settings_interview_questions",
            summary=f"{count} question{'' if count == 1 else 's'} asked at every interview",
            attention=""
            if count
            else "No questions of your own yet: interviews use the suggested ones.",
        )
    ]
