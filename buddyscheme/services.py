"""Writes for the shared core. Each service owns its transaction."""

import copy
from datetime import timedelta

import django.dispatch
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from .audit import audit_record
from .errors import DomainError
from .identifiers import identifying_words
from .models import (
    CASE_NOTE_LENGTH,
    CaseNote,
    EligibilityQuestion,
    Heartbeat,
    Invitation,
    Membership,
    Profile,
    Role,
    Scheme,
    TrainingCompletion,
    TrainingModule,
)
from .notifications import notification_enqueue

User = get_user_model()


def membership_grant(
    *,
    user,
    scheme: Scheme,
    role: str,
    is_facilitator: bool = False,
    is_on_call: bool = False,
    by=None,
) -> Membership:
    """Give a user a role in a scheme (or re-activate it). Coordinators get admin access."""
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            user=user,
            scheme=scheme,
            role=role,
            defaults={"is_facilitator": is_facilitator, "is_on_call": is_on_call},
        )
        if not created:
            membership.is_active = True
            membership.is_facilitator = membership.is_facilitator or is_facilitator
            membership.is_on_call = membership.is_on_call or is_on_call
            membership.save(update_fields=["is_active", "is_facilitator", "is_on_call"])
        if role == Role.COORDINATOR and not user.is_staff:
            # The Django admin (allauth's secure_admin_login) admits staff only.
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        Profile.objects.get_or_create(user=user)
        audit_record(actor=by, verb="membership_grant", obj=membership, scheme=scheme)
    return membership


def _staff_only_while_coordinating(user) -> None:
    """The admin admits staff only: someone who no longer coordinates anywhere loses it."""
    still_coordinator = user.memberships.filter(role=Role.COORDINATOR, is_active=True).exists()
    if user.is_staff and not user.is_superuser and not still_coordinator:
        user.is_staff = False
        user.save(update_fields=["is_staff"])


def membership_deactivate(*, membership: Membership, by=None) -> None:
    with transaction.atomic():
        membership.is_active = False
        membership.save(update_fields=["is_active"])
        _staff_only_while_coordinating(membership.user)
        audit_record(
            actor=by, verb="membership_deactivate", obj=membership, scheme=membership.scheme_id
        )


def membership_update(*, membership: Membership, changed: list[str], by) -> Membership:
    """Save an edit made in the admin (role, flags, active), keeping admin access in step.

    A change of role is recorded as such: it decides what the person may see.
    """
    with transaction.atomic():
        membership.save()
        user = membership.user
        if membership.role == Role.COORDINATOR and membership.is_active and not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        _staff_only_while_coordinating(user)
        audit_record(
            actor=by,
            verb="membership_role_change" if "role" in changed else "membership_update",
            obj=membership,
            scheme=membership.scheme_id,
        )
    return membership


def invitation_create(
    *,
    scheme: Scheme,
    email: str,
    role: str,
    invited_by,
    is_facilitator: bool = False,
    is_on_call: bool = False,
    now=None,
) -> Invitation:
    """Invite a person by email. Any earlier open invitation for the same role is revoked."""
    now = now or timezone.now()
    email = email.strip().lower()
    if Membership.objects.filter(
        scheme=scheme, user__email__iexact=email, role=role, is_active=True
    ).exists():
        raise DomainError("This person already has that role in the scheme.")
    with transaction.atomic():
        superseded = list(
            Invitation.objects.open(now).filter(scheme=scheme, email__iexact=email, role=role)
        )
        Invitation.objects.filter(pk__in=[old.pk for old in superseded]).update(revoked_at=now)
        for old in superseded:
            audit_record(actor=invited_by, verb="invitation_revoke", obj=old, scheme=scheme)
        invitation = Invitation.objects.create(
            scheme=scheme,
            email=email,
            role=role,
            is_facilitator=is_facilitator,
            is_on_call=is_on_call,
            invited_by=invited_by,
            created_at=now,
            expires_at=now + timedelta(days=settings.INVITATION_VALID_DAYS),
        )
        audit_record(actor=invited_by, verb="invitation_create", obj=invitation, scheme=scheme)
        invitation_email_enqueue(invitation=invitation, now=now)
    return invitation


def invitation_email_enqueue(*, invitation: Invitation, now=None) -> None:
    """Queue the email with the link. Keyed by the invitation: queued again, it goes once."""
    # The address has no account yet; the outbox reads the link when it sends.
    notification_enqueue(
        scheme=invitation.scheme,
        to_email=invitation.email,
        template="invitation",
        dedupe_key=f"invitation:{invitation.pk}",
        context={"invitation_id": invitation.pk},
        now=now,
    )


def invitation_revoke(*, invitation: Invitation, by=None, now=None) -> None:
    if invitation.status != "open":
        raise DomainError("Only an open invitation can be withdrawn.")
    with transaction.atomic():
        invitation.revoked_at = now or timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            actor=by, verb="invitation_revoke", obj=invitation, scheme=invitation.scheme_id
        )


class InvitationUnusable(DomainError):
    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def invitation_check(token: str, now=None) -> Invitation:
    invitation = Invitation.objects.select_related("scheme").filter(token=token).first()
    if invitation is None:
        raise InvitationUnusable("unknown")
    now = now or timezone.now()
    if invitation.accepted_at:
        raise InvitationUnusable("used")
    if invitation.revoked_at:
        raise InvitationUnusable("revoked")
    if invitation.expires_at <= now:
        raise InvitationUnusable("expired")
    return invitation


def invitation_accept(
    *, token: str, password: str | None, preferred_name: str = "", user=None, now=None
):
    """Use an invitation: create the account (or add the role to a logged-in one).

    The link was emailed to the address, so following it verifies that address. The
    conditional UPDATE makes the link single-use even if it is submitted twice at once.
    """
    now = now or timezone.now()
    with transaction.atomic():
        invitation = invitation_check(token, now)
        claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
            accepted_at=now
        )
        if not claimed:
            raise InvitationUnusable("used")
        if user is None:
            existing = User.objects.filter(email__iexact=invitation.email).first()
            if existing is not None and (existing.has_usable_password() or existing.last_login):
                raise DomainError(
                    "An account with this email already exists: log in first, then open the link again."
                )
            if existing is None:
                user = User.objects.create_user(email=invitation.email, password=password)
            else:
                # Made for them by a referral (no password, never signed in): the emailed link
                # proves the address, so they choose their password here.
                user = existing
                user.set_password(password)
                user.save(update_fields=["password"])
        elif user.email.lower() != invitation.email.lower():
            raise DomainError("This invitation was sent to a different email address.")
        profile, _ = Profile.objects.get_or_create(user=user)
        if preferred_name and not profile.preferred_name:
            profile.preferred_name = preferred_name
            profile.save(update_fields=["preferred_name"])
        EmailAddress.objects.update_or_create(
            user=user, email=invitation.email, defaults={"verified": True, "primary": True}
        )
        membership = membership_grant(
            user=user,
            scheme=invitation.scheme,
            role=invitation.role,
            is_facilitator=invitation.is_facilitator,
            is_on_call=invitation.is_on_call,
            by=user,
        )
        Invitation.objects.filter(pk=invitation.pk).update(accepted_by=user)
        audit_record(actor=user, verb="invitation_accept", obj=invitation, scheme=invitation.scheme)
    return user, membership


def heartbeat_record(name: str, now=None) -> Heartbeat:
    heartbeat, _ = Heartbeat.objects.update_or_create(
        name=name, defaults={"beat_at": now or timezone.now()}
    )
    return heartbeat


class NoteNamesThePerson(DomainError):
    """The note may identify the person; it is saved only once the writer confirms."""

    def __init__(self, words: list[str]):
        self.words = words
        quoted = ", ".join(f"“{word}”" for word in words)
        super().__init__(
            f"This note contains {quoted}. Notes use initials only, never names, numbers or "
            "addresses: edit the note, or tick the box to keep it as it is."
        )


def case_note_add(
    *, membership: Membership, text: str, by, names_confirmed: bool = False, now=None
) -> CaseNote:
    """A dated note on the person's record. A note naming them is refused until the writer
    confirms (DESIGN §4: initials only)."""
    text = (text or "").strip()
    if not text:
        raise DomainError("Write the note first.")
    if len(text) > CASE_NOTE_LENGTH:
        raise DomainError(f"Keep a note to {CASE_NOTE_LENGTH} characters.")
    words = identifying_words(text, person=membership)
    if words and not names_confirmed:
        raise NoteNamesThePerson(words)
    with transaction.atomic():
        note = CaseNote.objects.create(
            membership=membership,
            text=text,
            author=by,
            created_at=now or timezone.now(),
            names_confirmed=bool(words),
        )
        # The row says a note was written, never what it says.
        audit_record(actor=by, verb="case_note_add", obj=note, scheme=membership.scheme_id)
    return note


# --- Setting the scheme up (the coordinator's settings pages) ---------------------------------
# Each change runs the model's own rules (clean and constraints) again inside the transaction,
# so a page, the admin or a script cannot store what the model refuses.


def _save_checked(obj, fields: list[str] | None, *, verb: str, by, scheme) -> None:
    obj.full_clean()
    try:
        with transaction.atomic():
            if fields:
                obj.save(update_fields=fields)
            else:
                obj.save()
            audit_record(actor=by, verb=verb, obj=obj, scheme=scheme)
    except IntegrityError as error:
        raise DomainError("That clashes with something already saved: check the name.") from error


OFFICE_HOURS_FIELDS = ("working_hours_start", "working_hours_end", "working_days")

# Sent inside `scheme_update`'s transaction, after the save, when office hours changed: with
# the scheme `before` and as it is now. A receiver may raise DomainError to refuse (meetings: a
# booked meeting would be left outside office hours with nobody on call), which rolls it back.
office_hours_changing = django.dispatch.Signal()

SCHEME_EDITABLE = (
    "name",
    "sender_name",
    "time_zone",
    "emergency_phone",
    "retention_months",
    "working_hours_start",
    "working_hours_end",
    "working_days",
)


def scheme_update(*, scheme: Scheme, by, **changes) -> Scheme:
    """Change the scheme's details or office hours (meetings outside them need on-call cover)."""
    unknown = set(changes) - set(SCHEME_EDITABLE)
    if unknown:
        raise DomainError("Those details cannot be changed here.")
    with transaction.atomic():
        locked = Scheme.objects.select_for_update().get(pk=scheme.pk)
        before = copy.copy(locked)
        for field, value in changes.items():
            setattr(locked, field, value)
        _save_checked(locked, list(changes), verb="scheme_update", by=by, scheme=locked)
        if any(getattr(before, name) != getattr(locked, name) for name in OFFICE_HOURS_FIELDS):
            office_hours_changing.send(sender=Scheme, before=before, scheme=locked)
    return locked


TRAINING_MODULE_FIELDS = ("name", "description", "mandatory", "valid_for_months", "order")


def training_module_create(*, scheme: Scheme, by, **fields) -> TrainingModule:
    module = TrainingModule(scheme=scheme, **_only(fields, TRAINING_MODULE_FIELDS))
    _unique_name(TrainingModule.objects.filter(scheme=scheme), module, "name")
    _save_checked(module, None, verb="training_module_create", by=by, scheme=scheme)
    return module


def training_module_update(*, module: TrainingModule, by, **fields) -> TrainingModule:
    """Changes apply from now on: training already recorded keeps the expiry it was given."""
    with transaction.atomic():
        locked = TrainingModule.objects.select_for_update().get(pk=module.pk)
        for field, value in _only(fields, TRAINING_MODULE_FIELDS).items():
            setattr(locked, field, value)
        _unique_name(TrainingModule.objects.filter(scheme=locked.scheme_id), locked, "name")
        _save_checked(
            locked, list(fields), verb="training_module_update", by=by, scheme=locked.scheme_id
        )
    return locked


def training_module_delete(*, module: TrainingModule, by) -> None:
    """Only a module nobody has completed: deleting one would delete people's training records."""
    with transaction.atomic():
        locked = TrainingModule.objects.select_for_update().get(pk=module.pk)
        people = (
            TrainingCompletion.objects.filter(module=locked).values("membership").distinct().count()
        )
        if people:
            raise DomainError(
                f"{people} {'person has' if people == 1 else 'people have'} completed this "
                "module: deleting it would delete their training records. If it is no longer "
                "required, untick “Everyone must complete it” instead."
            )
        audit_record(actor=by, verb="training_module_delete", obj=locked, scheme=locked.scheme_id)
        locked.delete()


ELIGIBILITY_QUESTION_FIELDS = ("text", "eligible_answer", "order")


def eligibility_question_create(*, scheme: Scheme, by, **fields) -> EligibilityQuestion:
    question = EligibilityQuestion(scheme=scheme, **_only(fields, ELIGIBILITY_QUESTION_FIELDS))
    _save_checked(question, None, verb="eligibility_question_create", by=by, scheme=scheme)
    return question


def eligibility_question_update(
    *, question: EligibilityQuestion, by, **fields
) -> EligibilityQuestion:
    """Enrolments already made keep the answers and the result they were given."""
    with transaction.atomic():
        locked = EligibilityQuestion.objects.select_for_update().get(pk=question.pk)
        for field, value in _only(fields, ELIGIBILITY_QUESTION_FIELDS).items():
            setattr(locked, field, value)
        _save_checked(
            locked,
            list(fields),
            verb="eligibility_question_update",
            by=by,
            scheme=locked.scheme_id,
        )
    return locked


def eligibility_question_delete(*, question: EligibilityQuestion, by) -> None:
    """Enrolments already made keep their result; the question is no longer asked."""
    with transaction.atomic():
        audit_record(
            actor=by, verb="eligibility_question_delete", obj=question, scheme=question.scheme_id
        )
        question.delete()


def _only(fields: dict, allowed: tuple[str, ...]) -> dict:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise DomainError("Those details cannot be changed here.")
    return fields


def _unique_name(qs, obj, field: str) -> None:
    """The database refuses a second row with the same name; say so in words first."""
    value = getattr(obj, field)
    if qs.filter(**{f"{field}__iexact": value}).exclude(pk=obj.pk).exists():
        raise DomainError(f"There is already one called “{value}”. Choose another name.")
