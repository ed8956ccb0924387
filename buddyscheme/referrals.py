"""Referrals: received through the public form, assessed by a coordinator, then enrolled or
declined with a reason and where we suggested instead.

What help is wanted comes from the scheme's menu, which lives in `matching` (above the core).
The core asks for the menu's item names through the `referral_need_choices` signal and stores
the names chosen (the menu may be renamed or retired later; the referral says what was asked).
With no menu (or no matching app) the form offers only "something else" in words.

Messages: coordinators are told by the outbox (ids only; urgent ones say so and may go by
text); the referrer gets an acknowledgement and, only if they may be told, one line when the
referral is accepted or closed. Nothing about the person's circumstances leaves by message.
"""

from __future__ import annotations

import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import cast

import django.dispatch
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.dispatch import receiver
from django.utils import timezone

from .audit import audit_record
from .errors import DomainError
from .models import (
    OPEN_REFERRAL_STATUSES,
    Channel,
    ConsentMethod,
    ContactMethod,
    DeclineReason,
    EligibilityQuestion,
    EnrolmentStatus,
    Membership,
    ParticipantEnrolment,
    Profile,
    Referral,
    ReferralSource,
    ReferralStatus,
    ReferralUrgency,
    Role,
    Scheme,
    User,
)
from .notifications import notification_enqueue
from .selectors import (
    DashboardSection,
    PersonSection,
    dashboard_sections,
    person_record_sections,
)
from .validators import clean_person_name
from .vetting import participant_enrol

# Apps above the core offer the scheme's menu as what a referral may ask for: each receiver
# gets `scheme` and returns a list of item names (active items only), in one query.
referral_need_choices = django.dispatch.Signal()
# Sent inside the transaction that enrols someone from a referral, with `membership` and
# `needs` (the item names the assessment settled on): matching adds them to the person's menu.
referral_enrolled = django.dispatch.Signal()

# The domain of addresses given to people referred without an email address: `.invalid` can
# never be delivered to (RFC 2606), and nothing is ever sent to it.
NO_EMAIL_DOMAIN = "no-email.invalid"
# A second identical submission within this time is the same referral (a double click, a
# refresh after posting), not the person being referred again.
RESUBMISSION_WINDOW = timedelta(hours=24)
TEXT_LENGTH = 2000


def referral_needs_menu(scheme: Scheme) -> list[str]:
    names: list[str] = []
    for _, answer in referral_need_choices.send(sender=None, scheme=scheme):
        names += [name for name in cast(list[str], answer) if name not in names]
    return names


def has_real_email(user_or_email) -> bool:
    email = getattr(user_or_email, "email", user_or_email) or ""
    return bool(email) and not email.lower().endswith("@" + NO_EMAIL_DOMAIN)


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone or "")


# --- Receiving a referral (the public form) -------------------------------------------------


@dataclass
class ReferralDetails:
    """What the public form collects. The referrer fields stay empty for a self-referral."""

    source: str
    person_name: str
    consent_to_contact: bool
    person_email: str = ""
    person_phone: str = ""
    preferred_contact: str = ContactMethod.PHONE
    safe_to_leave_messages: bool = False
    needs: list[str] = field(default_factory=list)
    other_help: str = ""
    urgency: str = ReferralUrgency.ROUTINE
    referrer_name: str = ""
    referrer_organisation: str = ""
    referrer_role: str = ""
    referrer_email: str = ""
    referrer_phone: str = ""
    referrer_may_be_told: bool = False


def _check(details: ReferralDetails, scheme: Scheme) -> None:
    if not details.consent_to_contact:
        raise DomainError(
            "We can only accept a referral when the person agrees to it and to being contacted."
        )
    if details.source not in ReferralSource.values:
        raise DomainError("Say who is making the referral.")
    if not clean_person_name(details.person_name):
        raise DomainError("Give the name of the person being referred.")
    if not (details.person_email or _digits(details.person_phone)):
        raise DomainError("Give an email address or a phone number for the person.")
    if details.source != ReferralSource.SELF and not (
        details.referrer_name and details.referrer_organisation and details.referrer_email
    ):
        raise DomainError("Give your name, organisation and email address.")
    if details.urgency not in ReferralUrgency.values:
        raise DomainError("Choose how soon help is needed.")
    offered = set(referral_needs_menu(scheme))
    if set(details.needs) - offered:
        raise DomainError("Choose what help is wanted from the list.")


def _person_for(details: ReferralDetails, scheme: Scheme) -> tuple[Membership, bool]:
    """The person's participant membership, and whether they were known to this scheme already.

    An existing account (same email) is reused as it is: a public form never changes anyone's
    name or contact details. Someone without an email is matched by phone among earlier
    referrals to this scheme.
    """
    email = (details.person_email or "").strip().lower()
    user = None
    if email:
        user = User.objects.filter(email__iexact=email).first()
    else:
        digits = _digits(details.person_phone)
        earlier = (
            Referral.objects.filter(scheme=scheme, person_email="")
            .exclude(person_phone="")
            .select_related("membership__user")
            .order_by("-received_at")
        )
        user = next((r.membership.user for r in earlier if _digits(r.person_phone) == digits), None)
    if user is None:
        user = _new_user(details, email)
    membership, created = Membership.objects.get_or_create(
        user=user, scheme=scheme, role=Role.PARTICIPANT, defaults={"is_active": False}
    )
    return membership, not created


def _new_user(details: ReferralDetails, email: str) -> User:
    name = clean_person_name(details.person_name)
    first, _, last = name.partition(" ")
    address = email or f"referral-{secrets.token_hex(8)}@{NO_EMAIL_DOMAIN}"
    try:
        with transaction.atomic():
            # No usable password: they sign in only after an invitation from the coordinator.
            user = User.objects.create_user(
                email=address, password=None, first_name=first[:150], last_name=last[:150]
            )
    except IntegrityError:
        # The same address submitted at the same moment: the other request made the account.
        return User.objects.get(email__iexact=address)
    Profile.objects.create(
        user=user, phone=details.person_phone[:30], preferred_contact=details.preferred_contact
    )
    return user


def _same_submission(membership: Membership, details: ReferralDetails, now) -> Referral | None:
    return (
        Referral.objects.filter(
            membership=membership,
            source=details.source,
            referrer_email__iexact=details.referrer_email,
            status__in=OPEN_REFERRAL_STATUSES,
            received_at__gte=now - RESUBMISSION_WINDOW,
        )
        .order_by("-received_at")
        .first()
    )


def referral_receive(*, scheme: Scheme, details: ReferralDetails, now=None) -> Referral:
    """Record a referral from the public form: the person at *referred*, the coordinators told,
    the referrer thanked. The same submission twice is recorded once."""
    now = now or timezone.now()
    _check(details, scheme)
    with transaction.atomic():
        membership, known = _person_for(details, scheme)
        # Two posts of the same form at once meet here: the second waits, then finds the first.
        Membership.objects.select_for_update().filter(pk=membership.pk).first()
        existing = _same_submission(membership, details, now)
        if existing is not None:
            return existing
        referral = Referral(
            scheme=scheme,
            membership=membership,
            is_repeat=known,
            received_at=now,
            source=details.source,
            person_name=clean_person_name(details.person_name)[:120],
            person_email=(details.person_email or "").strip().lower(),
            person_phone=(details.person_phone or "").strip()[:30],
            preferred_contact=details.preferred_contact,
            safe_to_leave_messages=details.safe_to_leave_messages,
            consent_to_contact=True,
            needs=list(details.needs),
            other_help=(details.other_help or "").strip()[:300],
            urgency=details.urgency,
        )
        if details.source != ReferralSource.SELF:
            referral.referrer_name = clean_person_name(details.referrer_name)[:120]
            referral.referrer_organisation = details.referrer_organisation.strip()[:120]
            referral.referrer_role = details.referrer_role.strip()[:80]
            referral.referrer_email = details.referrer_email.strip().lower()
            referral.referrer_phone = details.referrer_phone.strip()[:30]
            referral.referrer_may_be_told = details.referrer_may_be_told
        referral.save()
        _enrolment_referred(membership, referral)
        audit_record(actor=None, verb="referral_receive", obj=referral, scheme=scheme.pk)
        _tell_coordinators(referral, now)
        _acknowledge(referral, now)
    return referral


def _enrolment_referred(membership: Membership, referral: Referral) -> None:
    """A new person waits at *referred*; a declined one referred again is back at *referred*;
    someone already enrolled stays enrolled (the coordinator sees "referred again")."""
    enrolment = ParticipantEnrolment.objects.filter(membership=membership).first()
    if enrolment is None:
        ParticipantEnrolment.objects.create(
            membership=membership,
            status=EnrolmentStatus.REFERRED,
            referral_source=referral.source,
            referral_detail=referral.referrer_organisation,
        )
    elif enrolment.status == EnrolmentStatus.DECLINED:
        enrolment.status = EnrolmentStatus.REFERRED
        enrolment.save(update_fields=["status"])


def _coordinators(scheme_id: int) -> QuerySet[Membership]:
    return Membership.objects.filter(
        scheme_id=scheme_id, role=Role.COORDINATOR, is_active=True
    ).select_related("user__profile", "scheme")


def _tell_coordinators(referral: Referral, now) -> None:
    urgent = referral.urgency == ReferralUrgency.URGENT
    for coordinator in _coordinators(referral.scheme_id):
        notification_enqueue(
            scheme=coordinator.scheme,
            recipient=coordinator.user,
            template="referral_received",
            dedupe_key=f"referral:{referral.pk}",
            context={"referral_id": referral.pk, "urgent": urgent, "again": referral.is_repeat},
            # Only an urgent one is worth a text; the rest wait for the office by email.
            channels=None if urgent else [Channel.EMAIL],
            now=now,
        )


def _referrer_address(referral: Referral) -> str:
    if referral.is_self_referral:
        return referral.person_email if has_real_email(referral.person_email) else ""
    return referral.referrer_email


def _acknowledge(referral: Referral, now) -> None:
    address = _referrer_address(referral)
    if not address:
        return
    notification_enqueue(
        scheme=referral.scheme,
        to_email=address,
        template="referral_acknowledged",
        dedupe_key=f"referral-ack:{referral.pk}",
        context={"self_referral": referral.is_self_referral},
        now=now,
    )


def _tell_referrer_of_decision(referral: Referral, now) -> None:
    """One line, and only when the referral said the referrer may be told."""
    if referral.is_self_referral or not referral.referrer_may_be_told:
        return
    notification_enqueue(
        scheme=referral.scheme,
        to_email=referral.referrer_email,
        template="referral_decided",
        dedupe_key=f"referral-decided:{referral.pk}",
        context={"accepted": referral.status == ReferralStatus.ENROLLED},
        now=now,
    )


# --- The coordinator's assessment -----------------------------------------------------------


def _open_for_update(referral: Referral) -> Referral:
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    if not locked.is_open:
        raise DomainError(f"This referral is already {locked.get_status_display().lower()}.")
    return locked


def referral_assess(
    *,
    referral: Referral,
    by,
    answers: dict[int, bool],
    needs: list[str],
    risks: str,
    now=None,
) -> Referral:
    """Save the assessment so far (eligibility answers, needs, risks); it can be saved again."""
    now = now or timezone.now()
    offered = set(referral_needs_menu(referral.scheme)) | set(referral.needs)
    if set(needs) - offered:
        raise DomainError("Choose needs from the scheme's menu.")
    with transaction.atomic():
        locked = _open_for_update(referral)
        locked.eligibility_answers = {str(pk): value for pk, value in answers.items()}
        locked.needs = list(needs)
        locked.risks = (risks or "").strip()[:TEXT_LENGTH]
        locked.status = ReferralStatus.ASSESSING
        locked.assessed_by = by
        locked.assessed_at = now
        locked.save(
            update_fields=[
                "eligibility_answers",
                "needs",
                "risks",
                "status",
                "assessed_by",
                "assessed_at",
            ]
        )
        audit_record(actor=by, verb="referral_assess", obj=locked, scheme=locked.scheme_id)
    return locked


def _answers(referral: Referral) -> dict[int, bool]:
    return {int(pk): bool(value) for pk, value in referral.eligibility_answers.items()}


def referral_enrol(
    *,
    referral: Referral,
    by,
    consent_to_hold_data: bool,
    consent_given_how: str = ConsentMethod.VERBAL,
    buddies_needed: int = 1,
    now=None,
) -> Referral:
    """Turn an assessed referral into an enrolment (the existing enrolment: eligibility from
    the assessment's answers, their consent recorded on their consents page)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _open_for_update(referral)
        answers = _answers(locked)
        questions = EligibilityQuestion.objects.filter(scheme=locked.scheme_id)
        if any(question.pk not in answers for question in questions):
            raise DomainError("Answer every eligibility question in the assessment first.")
        membership = Membership.objects.select_for_update().get(pk=locked.membership_id)
        if not all(answers[q.pk] == q.eligible_answer for q in questions):
            raise DomainError(
                "The assessment's answers say they are not eligible: decline with the reason "
                "“Not eligible”, or correct the answers."
            )
        enrolment = participant_enrol(
            membership=membership,
            by=by,
            referral_source=locked.source,
            referral_detail=locked.referrer_organisation,
            answers=answers,
            consent_to_hold_data=consent_to_hold_data,
            consent_given_how=consent_given_how,
            buddies_needed=buddies_needed,
            now=now,
        )
        enrolment.enrolled_at = now
        enrolment.waiting_since = timezone.localdate(now)
        enrolment.save(update_fields=["enrolled_at", "waiting_since"])
        if not membership.is_active:
            membership.is_active = True
            membership.joined_at = now
            membership.save(update_fields=["is_active", "joined_at"])
        locked.status = ReferralStatus.ENROLLED
        locked.decided_by, locked.decided_at = by, now
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        # Another open referral of the same person is settled by this one.
        Referral.objects.filter(membership=membership, status__in=OPEN_REFERRAL_STATUSES).exclude(
            pk=locked.pk
        ).update(status=ReferralStatus.ENROLLED, decided_by=by, decided_at=now)
        referral_enrolled.send(sender=Referral, membership=membership, needs=list(locked.needs))
        audit_record(actor=by, verb="referral_enrol", obj=locked, scheme=locked.scheme_id)
        _tell_referrer_of_decision(locked, now)
    return locked


def referral_decline(
    *, referral: Referral, by, reason: str, signposting: str = "", now=None
) -> Referral:
    """Close a referral with a reason and where we suggested instead."""
    now = now or timezone.now()
    if reason not in DeclineReason.values:
        raise DomainError("Choose a reason.")
    with transaction.atomic():
        locked = _open_for_update(referral)
        locked.status = ReferralStatus.DECLINED
        locked.decline_reason = reason
        locked.signposting = (signposting or "").strip()[:TEXT_LENGTH]
        locked.decided_by, locked.decided_at = by, now
        locked.save(
            update_fields=["status", "decline_reason", "signposting", "decided_by", "decided_at"]
        )
        still_open = (
            Referral.objects.filter(
                membership=locked.membership_id, status__in=OPEN_REFERRAL_STATUSES
            )
            .exclude(pk=locked.pk)
            .exists()
        )
        if not still_open:
            ParticipantEnrolment.objects.filter(
                membership=locked.membership_id, status=EnrolmentStatus.REFERRED
            ).update(status=EnrolmentStatus.DECLINED)
        audit_record(actor=by, verb="referral_decline", obj=locked, scheme=locked.scheme_id)
        _tell_referrer_of_decision(locked, now)
    return locked


# --- Reads ----------------------------------------------------------------------------------


def _urgent_first(referrals: list[Referral]) -> list[Referral]:
    order: dict[str, int] = {
        ReferralUrgency.URGENT: 0,
        ReferralUrgency.SOON: 1,
        ReferralUrgency.ROUTINE: 2,
    }
    return sorted(referrals, key=lambda r: (order.get(r.urgency, 3), r.received_at, r.pk))


DECIDED_SHOWN = 30


def referrals_for_scheme(scheme: Scheme) -> dict[str, list[Referral]]:
    """The referrals list: open ones urgent first then oldest first; the latest decisions."""
    qs = Referral.objects.filter(scheme=scheme).select_related("membership__user")
    open_ones = list(qs.filter(status__in=OPEN_REFERRAL_STATUSES))
    decided = list(qs.exclude(status__in=OPEN_REFERRAL_STATUSES).order_by("-decided_at", "-pk"))
    return {
        "new": _urgent_first([r for r in open_ones if r.status == ReferralStatus.NEW]),
        "assessing": _urgent_first([r for r in open_ones if r.status == ReferralStatus.ASSESSING]),
        "enrolled": [r for r in decided if r.status == ReferralStatus.ENROLLED][:DECIDED_SHOWN],
        "declined": [r for r in decided if r.status == ReferralStatus.DECLINED][:DECIDED_SHOWN],
    }


def referral_counts(scheme: Scheme) -> dict[str, int]:
    """New referrals and how many of them are urgent, in one query (the dashboard's line)."""
    return Referral.objects.filter(scheme=scheme, status=ReferralStatus.NEW).aggregate(
        new=Count("pk"), urgent=Count("pk", filter=Q(urgency=ReferralUrgency.URGENT))
    )


def earlier_referrals(referral: Referral) -> list[Referral]:
    return list(
        Referral.objects.filter(membership=referral.membership_id)
        .exclude(pk=referral.pk)
        .order_by("-received_at")
    )


@receiver(dashboard_sections)
def _referrals_on_the_dashboard(sender, scheme, now, **kwargs) -> list[DashboardSection]:
    counts = referral_counts(scheme)
    return [
        DashboardSection(
            template="buddyscheme/referrals/_dashboard.html",
            context=counts,
            urgent=bool(counts["urgent"]),
        )
    ]


@dataclass
class ReferralReport:
    """For the evaluation dashboard: where referrals come from, when, and what became of them."""

    total: int
    by_source: dict[str, int]  # "Self-referral", "Clinic or GP", … (the agency's kind)
    by_month: dict[str, int]  # "2026-11": count, oldest first
    declines_by_reason: dict[str, int]
    enrolled: int
    declined: int
    open: int
    days_to_decision: list[int]  # one per decided referral

    @property
    def median_days_to_decision(self) -> float | None:
        days = sorted(self.days_to_decision)
        if not days:
            return None
        middle = len(days) // 2
        return float(days[middle]) if len(days) % 2 else (days[middle - 1] + days[middle]) / 2


def referrals_report(
    scheme: Scheme, *, since: date | None = None, until: date | None = None
) -> ReferralReport:
    """Referrals received between `since` and `until` (local dates, both included), in one
    query."""
    qs = Referral.objects.filter(scheme=scheme)
    zone = scheme.zone
    if since:
        qs = qs.filter(received_at__gte=_start_of(since, zone))
    if until:
        qs = qs.filter(received_at__lt=_start_of(until + timedelta(days=1), zone))
    rows = list(qs.values("source", "status", "decline_reason", "received_at", "decided_at"))
    sources = dict(ReferralSource.choices)
    reasons = dict(DeclineReason.choices)
    by_month = Counter(f"{timezone.localtime(row['received_at'], zone):%Y-%m}" for row in rows)
    return ReferralReport(
        total=len(rows),
        by_source=dict(Counter(str(sources[row["source"]]) for row in rows)),
        by_month=dict(sorted(by_month.items())),
        declines_by_reason=dict(
            Counter(
                str(reasons[row["decline_reason"]])
                for row in rows
                if row["status"] == ReferralStatus.DECLINED
            )
        ),
        enrolled=sum(row["status"] == ReferralStatus.ENROLLED for row in rows),
        declined=sum(row["status"] == ReferralStatus.DECLINED for row in rows),
        open=sum(row["status"] in OPEN_REFERRAL_STATUSES for row in rows),
        days_to_decision=[
            (row["decided_at"] - row["received_at"]).days for row in rows if row["decided_at"]
        ],
    )


def _start_of(day: date, zone) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


@receiver(person_record_sections)
def _referrals_on_the_person_page(sender, member, now, **kwargs) -> list[PersonSection]:
    """How a participant came to the scheme: their referrals, in one query (none shown when
    there are none)."""
    if member.role != Role.PARTICIPANT:
        return []
    theirs = list(Referral.objects.filter(membership=member).order_by("-received_at", "-pk"))
    if not theirs:
        return []
    return [
        PersonSection(
            title="Referrals",
            template="buddyscheme/referrals/_person_section.html",
            order=40,
            context={"referrals": theirs},
        )
    ]
