"""Applicants' interviews (the core's interviews) that take place face to face: a meeting like
any other, so the applicant checks in and out and the net watches over the meeting."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from buddyscheme.errors import DomainError
from buddyscheme.interviews import interview_book, interview_cancelled
from buddyscheme.models import Interview, InterviewMode

from ..models import Meeting, MeetingState
from .booking import meeting_book, meeting_cancel

PURPOSE = "Interview"


@transaction.atomic
def interview_arrange(
    *,
    applicant,
    mode: str,
    starts_at,
    ends_at,
    by,
    interviewer=None,
    venue=None,
    key_holder=None,
    now=None,
) -> Interview:
    """Book an interview; face to face, also the meeting the applicant checks in and out of.

    Both are written in one transaction: a meeting the net refuses (an out-of-date risk
    assessment, no cover out of hours) books no interview either.
    """
    now = now or timezone.now()
    if mode == InterviewMode.IN_PERSON and venue is None:
        raise DomainError("Choose where you will meet: face to face needs a place.")
    interview = interview_book(
        applicant=applicant,
        mode=mode,
        starts_at=starts_at,
        ends_at=ends_at,
        by=by,
        interviewer=interviewer,
        now=now,
    )
    if mode == InterviewMode.IN_PERSON:
        meeting_book(
            buddy=applicant,
            venue=venue,
            planned_start=starts_at,
            planned_end=ends_at,
            purpose=PURPOSE,
            by=by,
            support_person=interviewer,
            key_holder=key_holder,
            interview=interview,
            now=now,
        )
    return interview


@receiver(interview_cancelled)
def _meeting_cancelled_with_its_interview(sender, interview, by, now, **kwargs) -> None:
    meeting = Meeting.objects.filter(interview=interview, state=MeetingState.PLANNED).first()
    if meeting is not None:
        meeting_cancel(meeting=meeting, by=by, now=now)
