"""One-to-ones with a support person (the core's supervision) that take place face to face:
a meeting like any other, so the buddy checks in and out and the net watches over them."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from buddyscheme.errors import DomainError
from buddyscheme.models import Supervision, SupervisionMode
from buddyscheme.support import supervision_book, supervision_cancelled

from ..models import Meeting, MeetingState
from .booking import meeting_book, meeting_cancel

PURPOSE = "One-to-one"


@transaction.atomic
def supervision_arrange(
    *,
    buddy,
    mode: str,
    starts_at,
    ends_at,
    by,
    support_person=None,
    venue=None,
    key_holder=None,
    concern=None,
    now=None,
) -> Supervision:
    """Book a one-to-one; face to face, also the meeting the buddy checks in and out of.

    Both are written in one transaction: a meeting the net refuses (an out-of-date risk
    assessment, no cover out of hours) books no one-to-one either.
    """
    now = now or timezone.now()
    if mode == SupervisionMode.IN_PERSON and venue is None:
        raise DomainError("Choose where you will meet: face to face needs a place.")
    supervision = supervision_book(
        buddy=buddy,
        mode=mode,
        starts_at=starts_at,
        ends_at=ends_at,
        by=by,
        support_person=support_person,
        concern=concern,
        now=now,
    )
    if mode == SupervisionMode.IN_PERSON:
        meeting_book(
            buddy=buddy,
            venue=venue,
            planned_start=starts_at,
            planned_end=ends_at,
            purpose=PURPOSE,
            by=by,
            support_person=supervision.support_person,
            key_holder=key_holder,
            supervision=supervision,
            now=now,
        )
    return supervision


@receiver(supervision_cancelled)
def _meeting_cancelled_with_its_supervision(sender, supervision, by, now, **kwargs) -> None:
    meeting = Meeting.objects.filter(supervision=supervision, state=MeetingState.PLANNED).first()
    if meeting is not None:
        meeting_cancel(meeting=meeting, by=by, now=now)
