"""Granular, withdrawable consent. Withdrawal takes effect at once."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from .audit import audit_record
from .errors import DomainError
from .models import ConsentKind, ConsentRecord, Membership, ParticipantEnrolment, Role


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
    """Withdraw at once. Sensitive information is hidden and flagged for deletion."""
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
