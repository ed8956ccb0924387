"""Granular, withdrawable consent. Withdrawal takes effect at once."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from .audit import audit_record
from .erasure import erasure_request_open
from .errors import DomainError
from .models import (
    ConsentKind,
    ConsentRecord,
    ErasureSource,
    Membership,
    ParticipantEnrolment,
    Role,
)


@dataclass(frozen=True)
class ConsentExplained:
    """How a consent reads on a person's own page: a plain title with no sensitive word (the
    kind's label names them, so it stays for staff), what it covers (shown after a tap), and
    what changes if they withdraw it (shown before they confirm)."""

    title: str
    covers: str
    if_withdrawn: str


CONSENT_EXPLAINED = {
    ConsentKind.HOLD_DATA: ConsentExplained(
        "Keeping your details",
        "Your name, how to contact you, and notes about the support you get.",
        "We can no longer keep your details, so the scheme cannot support you. Your "
        "coordinator will contact you about what happens to what we hold.",
    ),
    ConsentKind.SPECIAL_CATEGORY: ConsentExplained(
        "Keeping private information",
        "Health, HIV status and sexuality: only what your support needs. Only coordinators "
        "can see it.",
        "We hide the private information we hold about you straight away, and delete it. "
        "Coordinators can no longer see it.",
    ),
    ConsentKind.SHARE_PARTNERS: ConsentExplained(
        "Sharing with partner agencies",
        "Passing information to the partner agencies we named to you, when it helps your support.",
        "We stop sharing your information with partner agencies from now on. What they already "
        "have stays with them: ask your coordinator if you want it back or deleted.",
    ),
    ConsentKind.PHOTOS: ConsentExplained(
        "Photos and stories",
        "Using photos of you, or your story without your name, in reports and leaflets.",
        "We will not use photos of you or your story from now on.",
    ),
    ConsentKind.SMS: ConsentExplained(
        "Text messages",
        "Sending you reminders and messages by text.",
        "We stop sending you text messages at once. We will use email instead.",
    ),
}


def consents_for(membership: Membership) -> dict[str, ConsentRecord]:
    """The live consent of each kind this person has given."""
    return {record.kind: record for record in membership.consents.filter(withdrawn_at__isnull=True)}


def has_consent(membership: Membership, kind: str) -> bool:
    return membership.consents.filter(kind=kind, withdrawn_at__isnull=True).exists()


def consent_give(
    *, membership: Membership, kind: str, by, how="online", detail="", now=None
) -> ConsentRecord:
    if kind not in ConsentKind.values:
        raise DomainError("Unknown kind of consent.")
    try:
        with transaction.atomic():
            record = ConsentRecord.objects.create(
                membership=membership,
                kind=kind,
                given_how=how,
                detail=detail[:200],
                recorded_by=by,
                given_at=now or timezone.now(),
            )
            audit_record(actor=by, verb="consent_give", obj=record, scheme=membership.scheme_id)
            return record
    except IntegrityError:
        # Already given and still live: nothing changed, so nothing to record.
        return membership.consents.get(kind=kind, withdrawn_at__isnull=True)


@transaction.atomic
def consent_withdraw(*, membership: Membership, kind: str, by, now=None) -> int:
    """Withdraw at once. Sensitive information is hidden and flagged for deletion; withdrawing
    consent to hold data opens an erasure request for a coordinator's review."""
    now = now or timezone.now()
    if kind == ConsentKind.SPECIAL_CATEGORY:
        # The same lock `enrolment_sensitive_notes_save` takes before checking consent, so
        # notes cannot be saved against a consent that is being withdrawn.
        list(ParticipantEnrolment.objects.select_for_update().filter(membership=membership))
    live = list(
        ConsentRecord.objects.select_for_update().filter(
            membership=membership, kind=kind, withdrawn_at__isnull=True
        )
    )
    closed = ConsentRecord.objects.filter(pk__in=[record.pk for record in live]).update(
        withdrawn_at=now
    )
    for record in live:
        audit_record(actor=by, verb="consent_withdraw", obj=record, scheme=membership.scheme_id)
    if kind == ConsentKind.SPECIAL_CATEGORY:
        ParticipantEnrolment.objects.filter(membership=membership).exclude(
            sensitive_notes=""
        ).update(sensitive_flagged_for_deletion_at=now)
    if kind == ConsentKind.HOLD_DATA and closed:
        # The erasure path starts: a coordinator reviews it (erase, or keep what the law
        # requires, with the reason recorded). Nothing is deleted without that review.
        erasure_request_open(
            person=membership.user,
            scheme=membership.scheme,
            source=ErasureSource.CONSENT_WITHDRAWN,
            by=by,
            now=now,
        )
    return closed


def may_text(user, scheme) -> bool:
    """Participants are texted only with their consent; staff and buddies unless they opted out."""
    memberships = Membership.objects.filter(user=user, scheme=scheme, is_active=True)
    if (
        memberships.filter(consents__kind=ConsentKind.SMS, consents__withdrawn_at__isnull=False)
        .exclude(consents__kind=ConsentKind.SMS, consents__withdrawn_at__isnull=True)
        .exists()
    ):
        return False
    if memberships.filter(role=Role.PARTICIPANT).exists():
        return memberships.filter(
            consents__kind=ConsentKind.SMS, consents__withdrawn_at__isnull=True
        ).exists()
    return True


def sensitive_notes_visible(enrolment: ParticipantEnrolment) -> bool:
    return bool(enrolment.sensitive_notes) and has_consent(
        enrolment.membership, ConsentKind.SPECIAL_CATEGORY
    )
