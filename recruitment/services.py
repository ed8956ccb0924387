"""Writes for recruitment: the front door, applications, and references asked for by link.

Each service owns its transaction and leaves an audit row (ids only). Messages go through the
outbox: a coordinator hears that an application or a reference arrived, never its content.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from buddyscheme.audit import audit_record
from buddyscheme.discretion import is_sensitive
from buddyscheme.errors import DomainError
from buddyscheme.models import BuddyStage, Channel, Membership, Profile, Role, Scheme
from buddyscheme.notifications import notification_enqueue
from buddyscheme.services import membership_grant
from buddyscheme.vetting import buddy_stage_moved, vetting_for

from .models import Application, FrontDoor, Reference, ReferenceDecision, new_nonce

User = get_user_model()

# A referee has three weeks to answer; one reminder goes after a week without an answer.
REFERENCE_VALID_DAYS = 21
REFERENCE_REMIND_AFTER_DAYS = 7
REFERENCE_SALT = "recruitment.reference"

FRONT_DOOR_FIELDS = (
    "is_published",
    "is_discreet",
    "public_title",
    "offer",
    "who_for",
    "how_to_volunteer",
    "how_to_be_referred",
    "complaints_contact",
)


# --- The front door -------------------------------------------------------------------------


def slug_words(slug: str) -> str:
    """'north-hiv-buddies' -> 'north hiv buddies', so whole words of it can be checked."""
    return (slug or "").replace("-", " ").replace("_", " ")


def front_door_sensitive_problems(*, scheme: Scheme, slug: str, public_title: str) -> dict:
    """Which of the address and the title hold one of the scheme's sensitive words."""
    words = scheme.sensitive_word_list
    problems = {}
    if is_sensitive(slug_words(slug), words):
        problems["slug"] = (
            "The address contains a word that says what people live with. Choose a neutral one."
        )
    if is_sensitive(public_title, words):
        problems["public_title"] = (
            "The title contains a word that says what people live with. Choose a neutral one."
        )
    return problems


def front_door_save(*, scheme: Scheme, by, slug: str, **fields) -> FrontDoor:
    """Create or change the scheme's public page and its address. A discreet page refuses a
    title or an address with one of the scheme's sensitive words."""
    fields = {name: value for name, value in fields.items() if name in FRONT_DOOR_FIELDS}
    slug = (slug or "").strip().lower()
    if not slug:
        raise DomainError("Give the page an address.")
    if fields.get("is_discreet", True):
        problems = front_door_sensitive_problems(
            scheme=scheme, slug=slug, public_title=fields.get("public_title", "")
        )
        if problems:
            raise DomainError(" ".join(problems.values()))
    with transaction.atomic():
        if Scheme.objects.filter(slug=slug).exclude(pk=scheme.pk).exists():
            raise DomainError("Another scheme already uses this address. Choose another.")
        if scheme.slug != slug:
            scheme.slug = slug
            scheme.save(update_fields=["slug"])
        front_door, _ = FrontDoor.objects.update_or_create(
            scheme=scheme, defaults={**fields, "updated_at": timezone.now()}
        )
        audit_record(actor=by, verb="front_door_save", obj=front_door, scheme=scheme)
    return front_door


# --- Applications ---------------------------------------------------------------------------


def _coordinators(scheme_id: int):
    return Membership.objects.filter(
        scheme_id=scheme_id, role=Role.COORDINATOR, is_active=True
    ).select_related("user__profile")


def application_submit(
    *,
    scheme: Scheme,
    first_name: str,
    last_name: str,
    email: str,
    phone: str,
    motivation: str,
    availability: str,
    consent_to_checks: bool,
    referees: list[dict],
    experience: str = "",
    skills_languages: str = "",
    heard_from: str = "",
    now=None,
) -> Application:
    """Record an application from the public form.

    The applicant becomes a person of the scheme: an account without a password (they are
    invited to set one later), a buddy membership and a vetting record at *applied*. The same
    address applying again keeps that person and records a repeat application. Coordinators
    are told, and the applicant gets a discreet acknowledgement.
    """
    if not consent_to_checks:
        raise DomainError("We can only consider an application with consent to the checks.")
    if len(referees) != 2:
        raise DomainError("Give two referees.")
    now = now or timezone.now()
    email = email.strip().lower()
    if any(referee["email"].strip().lower() == email for referee in referees):
        raise DomainError("A referee cannot be you: give someone else's email address.")
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email, password=None, first_name=first_name, last_name=last_name
            )
        membership = Membership.objects.filter(user=user, scheme=scheme, role=Role.BUDDY).first()
        is_repeat = bool(membership and Application.objects.filter(membership=membership).exists())
        if membership is None:
            membership = membership_grant(user=user, scheme=scheme, role=Role.BUDDY, by=None)
        vetting = vetting_for(membership)  # at *applied* when new; a repeat stays where it is
        if heard_from and not vetting.recruitment_source:
            # How they heard of us, for the recruitment figures (buddyscheme/pipeline.py).
            vetting.recruitment_source = heard_from
            vetting.save(update_fields=["recruitment_source"])
        profile, _ = Profile.objects.get_or_create(user=user)
        if phone and not profile.phone:
            profile.phone = phone
            profile.save(update_fields=["phone"])
        application = Application.objects.create(
            scheme=scheme,
            membership=membership,
            first_name=first_name,
            last_name=last_name,
            email=email,
            phone=phone,
            motivation=motivation,
            experience=experience,
            skills_languages=skills_languages,
            availability=availability,
            heard_from=heard_from,
            consent_to_checks=True,
            is_repeat=is_repeat,
            submitted_at=now,
        )
        for position, referee in enumerate(referees, start=1):
            Reference.objects.create(
                application=application,
                membership=membership,
                position=position,
                referee_name=referee["name"],
                referee_email=referee["email"].strip().lower(),
                relationship=referee["relationship"],
                known_for=referee["known_for"],
            )
        audit_record(actor=None, verb="application_submit", obj=application, scheme=scheme)
        for coordinator in _coordinators(scheme.pk):
            notification_enqueue(
                scheme=scheme,
                recipient=coordinator.user,
                template="application_received",
                dedupe_key=f"application-received:{application.pk}",
                context={"membership_id": membership.pk, "repeat": is_repeat},
                channels=[Channel.EMAIL],
                now=now,
            )
        notification_enqueue(
            scheme=scheme,
            recipient=user,
            template="application_ack",
            dedupe_key=f"application-ack:{application.pk}",
            channels=[Channel.EMAIL],  # the applicant has not agreed to texts
            now=now,
        )
    return application


# --- References by link ---------------------------------------------------------------------


def reference_token(reference: Reference) -> str:
    """The signed part of a referee's link: the row's id and nonce, nothing personal."""
    return signing.dumps([reference.pk, reference.nonce], salt=REFERENCE_SALT)


class ReferenceLinkUnusable(DomainError):
    """`reason`: tampered (not our signature, or an older link), used, expired, withdrawn."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def reference_for_token(token: str, now=None) -> Reference:
    """The reference a link is for, if the link may still be used; else ReferenceLinkUnusable."""
    try:
        pk, nonce = signing.loads(token, salt=REFERENCE_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise ReferenceLinkUnusable("tampered") from None
    reference = (
        Reference.objects.select_related("application__scheme").filter(pk=pk).first()
        if isinstance(pk, int)
        else None
    )
    if reference is None or reference.nonce != nonce or not reference.requested_at:
        raise ReferenceLinkUnusable("tampered")
    if reference.returned_at:
        raise ReferenceLinkUnusable("used")
    if reference.expires_at and reference.expires_at <= (now or timezone.now()):
        raise ReferenceLinkUnusable("expired")
    return reference


def _enqueue_to_referee(reference: Reference, template: str, key: str, now) -> bool:
    return bool(
        notification_enqueue(
            scheme=reference.application.scheme,
            to_email=reference.referee_email,
            template=template,
            # The link is built when the email is sent (recruitment_links), never stored.
            dedupe_key=f"{key}:{reference.pk}:{reference.nonce}",
            context={"reference_id": reference.pk},
            now=now,
        )
    )


def references_request(*, membership: Membership, by, now=None) -> list[Reference]:
    """Send each referee of the latest application their link. A reference already asked for
    and still open is left alone; one whose link expired is asked for again with a new link.
    Returns the references asked for now."""
    now = now or timezone.now()
    application = Application.objects.filter(membership=membership).select_related("scheme").first()
    if application is None:
        raise DomainError("This person has no application with referees.")
    asked = []
    with transaction.atomic():
        for reference in Reference.objects.select_for_update().filter(
            application=application, returned_at__isnull=True
        ):
            if reference.requested_at and reference.expires_at and reference.expires_at > now:
                continue
            reference.application = application
            if reference.requested_at:
                reference.nonce = new_nonce()  # the expired link must not come back to life
            reference.requested_at = now
            reference.expires_at = now + timedelta(days=REFERENCE_VALID_DAYS)
            reference.reminded_at = None
            reference.save(update_fields=["nonce", "requested_at", "expires_at", "reminded_at"])
            _enqueue_to_referee(reference, "reference_request", "reference-request", now)
            audit_record(
                actor=by, verb="reference_request", obj=reference, scheme=membership.scheme_id
            )
            asked.append(reference)
    return asked


@receiver(buddy_stage_moved)
def _ask_referees_at_the_references_stage(sender, membership, to_stage, by, now, **kwargs):
    if (
        to_stage == BuddyStage.REFERENCES
        and Application.objects.filter(membership=membership).exists()
    ):
        references_request(membership=membership, by=by, now=now)


def reference_submit(*, token: str, answers: dict, now=None) -> Reference:
    """Record a referee's answers. The link works once: of two posts at the same moment, the
    conditional UPDATE lets one through."""
    now = now or timezone.now()
    allowed = (
        "how_known",
        "suitable",
        "suitability_comments",
        "reliability",
        "concerns",
        "consent_to_share",
    )
    with transaction.atomic():
        reference = reference_for_token(token, now)
        claimed = Reference.objects.filter(
            pk=reference.pk, nonce=reference.nonce, returned_at__isnull=True
        ).update(returned_at=now, **{name: answers[name] for name in allowed if name in answers})
        if not claimed:
            raise ReferenceLinkUnusable("used")
        reference.refresh_from_db()
        scheme = reference.application.scheme
        audit_record(actor=None, verb="reference_submit", obj=reference, scheme=scheme)
        for coordinator in _coordinators(scheme.pk):
            notification_enqueue(
                scheme=scheme,
                recipient=coordinator.user,
                template="reference_returned",
                dedupe_key=f"reference-returned:{reference.pk}",
                context={"membership_id": reference.membership_id},
                channels=[Channel.EMAIL],
                now=now,
            )
    return reference


def references_chase(*, now=None) -> int:
    """Remind each referee who has not answered a week after being asked, once. Returns how
    many were reminded. The conditional UPDATE is the claim: a second run (or a redelivered
    task) finds nothing left to remind."""
    now = now or timezone.now()
    due = Reference.objects.filter(
        requested_at__lte=now - timedelta(days=REFERENCE_REMIND_AFTER_DAYS),
        returned_at__isnull=True,
        reminded_at__isnull=True,
        expires_at__gt=now,
    ).values_list("pk", flat=True)
    reminded = 0
    for pk in list(due):
        with transaction.atomic():
            claimed = Reference.objects.filter(
                pk=pk, returned_at__isnull=True, reminded_at__isnull=True
            ).update(reminded_at=now)
            if not claimed:
                continue
            reference = Reference.objects.select_related("application__scheme").get(pk=pk)
            _enqueue_to_referee(reference, "reference_reminder", "reference-reminder", now)
            audit_record(
                actor=None,
                verb="reference_remind",
                obj=reference,
                scheme=reference.application.scheme_id,
            )
            reminded += 1
    return reminded


def reference_remind(*, reference: Reference, by, now=None) -> Reference:
    """The coordinator's "remind now": one more email with the same link, at most once a day."""
    now = now or timezone.now()
    if reference.returned_at:
        raise DomainError("This reference has already come back.")
    if not reference.requested_at:
        raise DomainError("This referee has not been asked yet: request the references first.")
    if reference.expires_at and reference.expires_at <= now:
        raise DomainError("The link has expired: request the references again for a new one.")
    with transaction.atomic():
        Reference.objects.filter(pk=reference.pk).update(reminded_at=now)
        reference.reminded_at = now
        day = timezone.localdate(now).isoformat()
        _enqueue_to_referee(reference, "reference_reminder", f"reference-remind-now:{day}", now)
        audit_record(
            actor=by,
            verb="reference_remind",
            obj=reference,
            scheme=reference.application.scheme_id,
        )
    return reference


def reference_decide(*, reference: Reference, decision: str, note: str, by, now=None) -> Reference:
    """Record whether a returned reference is satisfactory (changing an earlier decision is
    allowed, and audited)."""
    if decision not in ReferenceDecision.values:
        raise DomainError("Choose satisfactory or not satisfactory.")
    if not reference.returned_at:
        raise DomainError("A decision can be recorded once the reference has come back.")
    now = now or timezone.now()
    with transaction.atomic():
        reference.decision = decision
        reference.decision_note = (note or "").strip()
        reference.decided_by = by
        reference.decided_at = now
        reference.save(update_fields=["decision", "decision_note", "decided_by", "decided_at"])
        audit_record(
            actor=by,
            verb="reference_decide",
            obj=reference,
            scheme=reference.application.scheme_id,
        )
    return reference
