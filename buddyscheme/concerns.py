"""Concerns: "I'm worried about someone" (safeguarding) and "I'm worried about myself"
(wellbeing), raised by a buddy at any time, from the Today page or from a debrief.

Seed 003 asks for "a safeguarding issue that needs an immediate response": a concern tells
every coordinator at once through the outbox (in words that give nothing away), waits at the
top of the dashboard until someone takes it, and is closed with an outcome. What was done is
logged on it, including a referral to an outside agency.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .audit import audit_record
from .errors import DomainError
from .models import (
    Concern,
    ConcernAction,
    ConcernActionKind,
    ConcernKind,
    ConcernOutcome,
    ConcernSource,
    ConcernStatus,
    Membership,
    Role,
)
from .notifications import notification_enqueue
from .selectors import participants_of

TEXT_LENGTH = 4000

# --- Reads ----------------------------------------------------------------------------------


def _with_people(qs: QuerySet[Concern]) -> QuerySet[Concern]:
    return qs.select_related(
        "raised_by__user__profile", "about__user__profile", "owner__user__profile"
    )


def concerns_waiting(scheme) -> list[Concern]:
    """Concerns nobody has taken yet, oldest first: the top of the dashboard. One query."""
    return list(
        _with_people(Concern.objects.filter(scheme=scheme, status=ConcernStatus.RAISED)).order_by(
            "raised_at", "pk"
        )
    )


def concerns_for_scheme(scheme, closed_shown: int = 50) -> dict[str, list[Concern]]:
    """Waiting, in hand and the most recently closed concerns. Two queries."""
    open_ones = list(
        _with_people(
            Concern.objects.filter(scheme=scheme).exclude(status=ConcernStatus.CLOSED)
        ).order_by("raised_at", "pk")
    )
    closed = list(
        _with_people(Concern.objects.filter(scheme=scheme, status=ConcernStatus.CLOSED)).order_by(
            "-closed_at", "-pk"
        )[:closed_shown]
    )
    return {
        "waiting": [c for c in open_ones if c.status == ConcernStatus.RAISED],
        "in_hand": [c for c in open_ones if c.status == ConcernStatus.TAKEN],
        "closed": closed,
    }


def concerns_raised_by(buddy: Membership) -> QuerySet[Concern]:
    return _with_people(Concern.objects.filter(raised_by=buddy))


def concern_log(concern: Concern) -> QuerySet[ConcernAction]:
    return concern.actions.select_related("by__profile")


def concern_subjects(buddy: Membership) -> list[Membership]:
    """Whom a buddy may say a concern is about: the participants they support."""
    return participants_of(buddy)


# --- Writes ---------------------------------------------------------------------------------


def concern_raise(
    *,
    buddy: Membership,
    kind: str,
    text: str,
    about: Membership | None = None,
    one_to_one_wanted: bool = False,
    source: str = ConcernSource.TODAY,
    by=None,
    now=None,
) -> Concern:
    """Record a buddy's concern and tell every coordinator of the scheme at once.

    `by` is whoever pressed (the buddy, from Today or a debrief); the messages carry only a
    link, never what the buddy wrote nor whom it is about.
    """
    now = now or timezone.now()
    text = (text or "").strip()
    if buddy.role != Role.BUDDY or not buddy.is_active:
        raise DomainError("Only a buddy of the scheme can raise a concern here.")
    if kind not in ConcernKind.values:
        raise DomainError("Say whether you are worried about someone or about yourself.")
    if source not in ConcernSource.values:
        raise DomainError("Unknown place a concern came from.")
    if not text:
        raise DomainError("Say in a few words what is worrying you (initials only).")
    if len(text) > TEXT_LENGTH:
        raise DomainError(f"Please keep it under {TEXT_LENGTH} characters.")
    if about is not None and (
        kind != ConcernKind.SOMEONE
        or about.pk not in {person.pk for person in concern_subjects(buddy)}
    ):
        raise DomainError("Choose one of the people you support, or 'someone else'.")
    with transaction.atomic():
        concern = Concern.objects.create(
            scheme_id=buddy.scheme_id,
            raised_by=buddy,
            kind=kind,
            about=about,
            text=text,
            one_to_one_wanted=one_to_one_wanted,
            source=source,
            raised_at=now,
        )
        audit_record(
            actor=by or buddy.user, verb="concern_raise", obj=concern, scheme=buddy.scheme_id
        )
        _tell_coordinators(concern, now)
    return concern


def _tell_coordinators(concern: Concern, now) -> None:
    coordinators = Membership.objects.filter(
        scheme_id=concern.scheme_id, role=Role.COORDINATOR, is_active=True
    ).select_related("user__profile", "scheme")
    for coordinator in coordinators:
        notification_enqueue(
            scheme=coordinator.scheme,
            recipient=coordinator.user,
            template="concern_raised",
            dedupe_key=f"concern:{concern.pk}",
            context={
                "concern_id": concern.pk,
                "raised": f"{timezone.localtime(now, coordinator.scheme.zone):%H:%M}",
            },
            now=now,
        )


def _open_for_update(concern: Concern) -> Concern:
    locked = Concern.objects.select_for_update().get(pk=concern.pk)
    if locked.status == ConcernStatus.CLOSED:
        raise DomainError("This concern is closed.")
    return locked


def concern_take(*, concern: Concern, coordinator: Membership, now=None) -> Concern:
    """A coordinator takes a waiting concern: it leaves the top of the dashboard.

    The conditional UPDATE is the claim: two coordinators pressing at once, one has it and the
    other is told who.
    """
    now = now or timezone.now()
    if coordinator.role != Role.COORDINATOR or coordinator.scheme_id != concern.scheme_id:
        raise DomainError("Only a coordinator of this scheme can take a concern.")
    with transaction.atomic():
        won = Concern.objects.filter(pk=concern.pk, status=ConcernStatus.RAISED).update(
            status=ConcernStatus.TAKEN, owner=coordinator, taken_at=now
        )
        concern = _with_people(Concern.objects.filter(pk=concern.pk)).select_related("scheme").get()
        if not won:
            owner, taken_at = concern.owner, concern.taken_at
            if owner is not None and owner.pk == coordinator.pk:
                return concern
            if concern.status == ConcernStatus.CLOSED or owner is None or taken_at is None:
                raise DomainError("This concern is already closed.")
            raise DomainError(
                f"{owner.user.display_name} took this concern at "
                f"{timezone.localtime(taken_at, concern.scheme.zone):%H:%M}."
            )
        ConcernAction.objects.create(
            concern=concern, kind=ConcernActionKind.TAKEN, by=coordinator.user, at=now
        )
        audit_record(
            actor=coordinator.user, verb="concern_take", obj=concern, scheme=concern.scheme_id
        )
    return concern


def concern_note_add(*, concern: Concern, text: str, by, now=None) -> ConcernAction:
    """Log what was done (a call made, advice given). Initials only."""
    text = (text or "").strip()
    if not text:
        raise DomainError("Write what was done.")
    with transaction.atomic():
        concern = _open_for_update(concern)
        action = ConcernAction.objects.create(
            concern=concern, kind=ConcernActionKind.NOTE, text=text, by=by, at=now or timezone.now()
        )
        audit_record(actor=by, verb="concern_note_add", obj=action, scheme=concern.scheme_id)
    return action


def concern_referral_record(
    *, concern: Concern, agency: str, reference: str = "", text: str = "", by, now=None
) -> ConcernAction:
    """Record a referral to an outside agency (a local authority safeguarding team, a clinic,
    the police), with its reference when there is one."""
    agency = (agency or "").strip()
    if not agency:
        raise DomainError("Name the agency the referral went to.")
    with transaction.atomic():
        concern = _open_for_update(concern)
        action = ConcernAction.objects.create(
            concern=concern,
            kind=ConcernActionKind.REFERRAL,
            agency=agency,
            agency_reference=(reference or "").strip(),
            text=(text or "").strip(),
            by=by,
            at=now or timezone.now(),
        )
        audit_record(actor=by, verb="concern_referral_record", obj=action, scheme=concern.scheme_id)
    return action


def concern_one_to_one_booked(*, concern: Concern, when: str, by, now=None) -> ConcernAction:
    """Called when a one-to-one is booked to talk the concern through (a line in its log)."""
    with transaction.atomic():
        concern = _open_for_update(concern)
        action = ConcernAction.objects.create(
            concern=concern,
            kind=ConcernActionKind.ONE_TO_ONE,
            text=f"One-to-one booked for {when}.",
            by=by,
            at=now or timezone.now(),
        )
        audit_record(
            actor=by, verb="concern_one_to_one_booked", obj=action, scheme=concern.scheme_id
        )
    return action


def concern_close(*, concern: Concern, outcome: str, notes: str = "", by, now=None) -> Concern:
    """Close a concern with its outcome. Someone must have taken it first: a concern is never
    closed without an owner."""
    now = now or timezone.now()
    if outcome not in ConcernOutcome.values:
        raise DomainError("Choose the outcome.")
    with transaction.atomic():
        concern = _open_for_update(concern)
        if concern.status != ConcernStatus.TAKEN:
            raise DomainError("Take the concern first: every concern has an owner.")
        concern.status = ConcernStatus.CLOSED
        concern.outcome = outcome
        concern.outcome_notes = (notes or "").strip()
        concern.closed_at = now
        concern.closed_by = by
        concern.save(update_fields=["status", "outcome", "outcome_notes", "closed_at", "closed_by"])
        ConcernAction.objects.create(
            concern=concern,
            kind=ConcernActionKind.CLOSED,
            text=ConcernOutcome(outcome).label,
            by=by,
            at=now,
        )
        audit_record(actor=by, verb="concern_close", obj=concern, scheme=concern.scheme_id)
    return concern
