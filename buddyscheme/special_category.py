"""Special-category information (health, HIV status, sexuality): who may read it, and what
everyone else sees instead.

The app holds it in one place, `ParticipantEnrolment.sensitive_notes`, recorded only with the
person's own consent (`ConsentKind.SPECIAL_CATEGORY`). It is shown to the scheme's coordinators
only, and only while that consent is on record; every list, export and report shows anyone
else one of the two phrases below, never the text (nor whether it says anything in particular).
"""

from __future__ import annotations

from .models import ConsentKind, Membership, ParticipantEnrolment, Role

HELD_FOR_COORDINATORS = "Held — shown to coordinators"
CONSENT_NOT_ON_RECORD = "Not shown: consent not on record"
NOTHING_HELD = ""


def is_coordinator_of(user, scheme_id: int) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return Membership.objects.filter(
        user=user, scheme_id=scheme_id, role=Role.COORDINATOR, is_active=True
    ).exists()


def consent_on_record(membership: Membership) -> bool:
    return membership.consents.filter(
        kind=ConsentKind.SPECIAL_CATEGORY, withdrawn_at__isnull=True
    ).exists()


def special_category_text(
    enrolment: ParticipantEnrolment | None, *, viewer, consent: bool | None = None
) -> str:
    """What `viewer` may read of the enrolment's sensitive notes: the text for a coordinator of
    the scheme while consent is on record; otherwise a phrase saying why not. `consent` may be
    passed by a caller that has already looked it up (a list page, an export)."""
    if enrolment is None or not enrolment.sensitive_notes:
        return NOTHING_HELD
    membership = enrolment.membership
    if consent is None:
        consent = consent_on_record(membership)
    if not consent:
        return CONSENT_NOT_ON_RECORD
    if not is_coordinator_of(viewer, membership.scheme_id):
        return HELD_FOR_COORDINATORS
    return enrolment.sensitive_notes
