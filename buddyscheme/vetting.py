"""Vetting rules: who is cleared to be matched or booked, and whose clearance is about to lapse.

Reads and writes for the buddy pipeline, DBS checks and training live here so that matching
and meetings ask one place the same question.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta

import django.dispatch
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from .audit import audit_record
from .consent import consent_give, has_consent
from .errors import DomainError
from .models import (
    BUDDY_PIPELINE,
    BuddyStage,
    BuddyVetting,
    Channel,
    ConsentKind,
    ConsentMethod,
    DBSCheck,
    EligibilityQuestion,
    EnrolmentStatus,
    Membership,
    ParticipantEnrolment,
    Role,
    Scheme,
    TrainingCompletion,
    TrainingModule,
    VettingStep,
)
from .notifications import notification_enqueue

# Sent inside the transaction that changes who supports a buddy (their own support person, or a
# match's), with `buddy`: apps above (meetings) bring what they hold up to date.
buddy_support_changed = django.dispatch.Signal()
# Sent inside the transaction that moves a buddy along the pipeline, with `membership`,
# `from_stage`, `to_stage`, `by` and `now`: apps above (recruitment asks the referees when an
# applicant reaches the references stage) do their part in the same transaction.
buddy_stage_moved = django.dispatch.Signal()

# --- Reads ----------------------------------------------------------------------------------


def _valid_dbs(today: date):
    return DBSCheck.objects.filter(membership=OuterRef("pk"), renewal_due__gte=today)


def _missing_mandatory_training(today: date):
    valid_completion = TrainingCompletion.objects.filter(
        membership=OuterRef(OuterRef("pk")), module=OuterRef("pk")
    ).filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
    return TrainingModule.objects.filter(scheme=OuterRef("scheme"), mandatory=True).exclude(
        Exists(valid_completion)
    )


def cleared_buddies(scheme, today: date | None = None) -> QuerySet[Membership]:
    """Buddies who may be matched and booked: approved, DBS in date, mandatory training done."""
    today = today or timezone.localdate()
    return (
        Membership.objects.filter(
            scheme=scheme, role=Role.BUDDY, is_active=True, vetting__stage=BuddyStage.APPROVED
        )
        .filter(Exists(_valid_dbs(today)))
        .exclude(Exists(_missing_mandatory_training(today)))
    )


def vetting_blockers(membership: Membership, today: date | None = None) -> list[str]:
    """Plain reasons a buddy cannot be matched or booked today; empty when cleared."""
    today = today or timezone.localdate()
    problems = []
    stage = getattr(getattr(membership, "vetting", None), "stage", BuddyStage.APPLIED)
    if stage != BuddyStage.APPROVED:
        problems.append(f"not approved yet (stage: {BuddyStage(stage).label.lower()})")
    latest = membership.dbs_checks.order_by("-renewal_due").first()
    if latest is None:
        problems.append("no DBS check recorded")
    elif latest.renewal_due < today:
        problems.append(f"DBS renewal was due on {latest.renewal_due:%d %B %Y}")
    missing = TrainingModule.objects.filter(scheme=membership.scheme_id, mandatory=True).exclude(
        Exists(
            TrainingCompletion.objects.filter(membership=membership, module=OuterRef("pk")).filter(
                Q(expires_on__isnull=True) | Q(expires_on__gte=today)
            )
        )
    )
    names = [module.name for module in missing]
    if names:
        problems.append("mandatory training not done or out of date: " + ", ".join(names))
    return problems


@dataclass
class Lapse:
    membership: Membership
    what: str
    due: date


def vetting_lapses(scheme, today: date | None = None, within_days: int = 30) -> list[Lapse]:
    """Approved buddies whose DBS or training runs out in the next `within_days` days."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=within_days)
    buddies = Membership.objects.filter(
        scheme=scheme, role=Role.BUDDY, is_active=True, vetting__stage=BuddyStage.APPROVED
    )
    lapses = []
    # The latest certificate decides; an older one running out does not matter.
    checks = _latest_per_membership(buddies)
    members = {m.pk: m for m in buddies.select_related("user", "user__profile")}
    for check in checks:
        if today <= check.renewal_due <= horizon and check.membership_id in members:
            lapses.append(Lapse(members[check.membership_id], "DBS renewal", check.renewal_due))
    completions = (
        TrainingCompletion.objects.filter(
            membership__in=buddies,
            module__mandatory=True,
            expires_on__gte=today,
            expires_on__lte=horizon,
        )
        .exclude(
            Exists(
                TrainingCompletion.objects.filter(
                    membership=OuterRef("membership"),
                    module=OuterRef("module"),
                    expires_on__gt=horizon,
                )
            )
        )
        .select_related("module")
    )
    for completion in completions:
        if completion.expires_on is not None:  # the query asked for expiring ones only
            lapses.append(
                Lapse(
                    members[completion.membership_id], completion.module.name, completion.expires_on
                )
            )
    return sorted(lapses, key=lambda lapse: (lapse.due, lapse.membership.pk))


def _latest_per_membership(buddies) -> list[DBSCheck]:
    newer = DBSCheck.objects.filter(
        membership=OuterRef("membership"), renewal_due__gt=OuterRef("renewal_due")
    )
    return list(DBSCheck.objects.filter(membership__in=buddies).exclude(Exists(newer)))


def vetting_record(membership: Membership) -> BuddyVetting:
    """The buddy's vetting row, or an unsaved one at the first stage: reading creates nothing."""
    return BuddyVetting.objects.filter(membership=membership).first() or BuddyVetting(
        membership=membership
    )


def support_person_choices(scheme) -> QuerySet[Membership]:
    """Who may be a named support person: the scheme's active coordinators (its staff)."""
    return Membership.objects.filter(
        scheme=scheme, role=Role.COORDINATOR, is_active=True
    ).select_related("user__profile")


def support_person_check(scheme, support_person: Membership | None) -> None:
    """Refuse anyone but an active coordinator of `scheme` (None, "nobody named", is fine)."""
    if support_person is not None and not (
        support_person.scheme_id == scheme.pk
        and support_person.role == Role.COORDINATOR
        and support_person.is_active
    ):
        raise DomainError(
            "A support person must be an active coordinator of this scheme; "
            f"{support_person.user.display_name} is not."
        )


# --- Writes ---------------------------------------------------------------------------------


def vetting_for(membership: Membership) -> BuddyVetting:
    if membership.role != Role.BUDDY:
        raise DomainError("Only buddies go through vetting.")
    vetting, _ = BuddyVetting.objects.get_or_create(membership=membership)
    return vetting


def buddy_stage_move(
    *, membership: Membership, to_stage: str, by, evidence: str, now=None
) -> BuddyVetting:
    """Move a buddy one step along the pipeline (or pause / mark as left), recording the evidence."""
    now = now or timezone.now()
    evidence = (evidence or "").strip()
    if not evidence:
        raise DomainError("Say what was checked for this step (the evidence).")
    with transaction.atomic():
        vetting = BuddyVetting.objects.select_for_update().get(pk=vetting_for(membership).pk)
        current = vetting.stage
        if to_stage == current:
            raise DomainError(f"This buddy is already at '{BuddyStage(current).label}'.")
        if (
            to_stage in (BuddyStage.PAUSED, BuddyStage.LEFT)
            or current == BuddyStage.PAUSED
            and to_stage == BuddyStage.APPROVED
        ):
            pass
        elif current in BUDDY_PIPELINE and to_stage in BUDDY_PIPELINE:
            if BUDDY_PIPELINE.index(to_stage) != BUDDY_PIPELINE.index(current) + 1:
                raise DomainError(
                    f"Steps go in order: after '{BuddyStage(current).label}' comes "
                    f"'{BuddyStage(BUDDY_PIPELINE[BUDDY_PIPELINE.index(current) + 1]).label}'."
                    if current != BuddyStage.APPROVED
                    else "This buddy is already approved."
                )
        else:
            raise DomainError(
                f"A buddy cannot go from '{BuddyStage(current).label}' to '{BuddyStage(to_stage).label}'."
            )
        if to_stage == BuddyStage.APPROVED:
            membership.vetting = vetting
            problems = [
                p
                for p in vetting_blockers(membership, timezone.localdate(now))
                if not p.startswith("not approved")
            ]
            if problems:
                raise DomainError("Cannot approve yet: " + "; ".join(problems) + ".")
        step = VettingStep.objects.create(
            vetting=vetting,
            from_stage=current,
            to_stage=to_stage,
            recorded_by=by,
            recorded_at=now,
            evidence=evidence,
        )
        vetting.stage = to_stage
        vetting.stage_changed_at = now
        vetting.save(update_fields=["stage", "stage_changed_at"])
        audit_record(actor=by, verb="buddy_stage_move", obj=step, scheme=membership.scheme_id)
        buddy_stage_moved.send(
            sender=BuddyVetting,
            membership=membership,
            from_stage=current,
            to_stage=to_stage,
            by=by,
            now=now,
        )
    return vetting


def dbs_check_record(*, membership: Membership, by, **details) -> DBSCheck:
    if membership.role != Role.BUDDY:
        raise DomainError("DBS checks are recorded for buddies.")
    check = DBSCheck(membership=membership, recorded_by=by, **details)
    check.certificate_number = check.certificate_number.strip().upper()
    check.full_clean()
    with transaction.atomic():
        check.save()
        audit_record(actor=by, verb="dbs_check_record", obj=check, scheme=membership.scheme_id)
    return check


def vetting_lapses_remind(*, now=None) -> int:
    """Weekly: tell each scheme's coordinators how many checks run out soon (no names by
    email). Returns how many emails were queued.

    Keyed by scheme, ISO week and coordinator, so a redelivered or repeated run in the same
    week queues nothing more.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    year, week, _ = today.isocalendar()
    queued = 0
    with transaction.atomic():
        for scheme in Scheme.objects.all():
            count = len(vetting_lapses(scheme, today))
            if not count:
                continue
            coordinators = Membership.objects.filter(
                scheme=scheme, role=Role.COORDINATOR, is_active=True
            ).select_related("user")
            for coordinator in coordinators:
                queued += len(
                    notification_enqueue(
                        scheme=scheme,
                        recipient=coordinator.user,
                        template="vetting_lapses",
                        dedupe_key=f"vetting-lapses:{scheme.pk}:{year}-W{week:02d}",
                        context={"count": count},
                        channels=[Channel.EMAIL],  # a weekly summary, never worth a text
                        now=now,
                    )
                )
    return queued


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def training_complete(
    *, membership: Membership, module: TrainingModule, completed_on: date, by, now=None
) -> TrainingCompletion:
    if module.scheme_id != membership.scheme_id:
        raise DomainError("That training module belongs to another scheme.")
    if completed_on > timezone.localdate(now):
        raise DomainError("Training cannot be completed in the future.")
    expires_on = (
        _add_months(completed_on, module.valid_for_months) if module.valid_for_months else None
    )
    with transaction.atomic():
        completion, _ = TrainingCompletion.objects.update_or_create(
            membership=membership,
            module=module,
            completed_on=completed_on,
            defaults={"expires_on": expires_on, "recorded_by": by},
        )
        audit_record(
            actor=by, verb="training_complete", obj=completion, scheme=membership.scheme_id
        )
    return completion


def participant_enrol(
    *,
    membership: Membership,
    by,
    referral_source: str,
    referral_detail: str = "",
    answers: dict[int, bool],
    consent_to_hold_data: bool,
    consent_given_how: str = ConsentMethod.VERBAL,
    buddies_needed: int = 1,
    now=None,
) -> ParticipantEnrolment:
    """Enrol a participant, or correct their enrolment. Eligibility follows the scheme's
    questions; holding their information needs their consent, recorded as the consent record
    the consents page shows (once: saving again keeps the live one)."""
    if membership.role != Role.PARTICIPANT:
        raise DomainError("Only participants are enrolled.")
    if not consent_to_hold_data:
        raise DomainError(
            "We can only enrol someone who agrees to us holding their information. "
            "A withdrawal is recorded on their consents page."
        )
    now = now or timezone.now()
    questions = list(EligibilityQuestion.objects.filter(scheme=membership.scheme_id))
    missing = [q.text for q in questions if q.pk not in answers]
    if missing:
        raise DomainError("Please answer every eligibility question.")
    eligible = all(answers[q.pk] == q.eligible_answer for q in questions)
    with transaction.atomic():
        enrolment, _ = ParticipantEnrolment.objects.update_or_create(
            membership=membership,
            defaults={
                "referral_source": referral_source,
                "referral_detail": referral_detail,
                "eligibility_answers": {str(pk): value for pk, value in answers.items()},
                "eligible": eligible,
                "enrolled_by": by,
                "status": EnrolmentStatus.ENROLLED,
                "buddies_needed": buddies_needed,
            },
        )
        if not has_consent(membership, ConsentKind.HOLD_DATA):
            consent_give(
                membership=membership,
                kind=ConsentKind.HOLD_DATA,
                by=by,
                how=consent_given_how,
                detail="Given at enrolment",
                now=now,
            )
        audit_record(actor=by, verb="participant_enrol", obj=enrolment, scheme=membership.scheme_id)
    return enrolment


SENSITIVE_NOTES_LENGTH = 2000


def enrolment_sensitive_notes_save(
    *, membership: Membership, notes: str, by
) -> ParticipantEnrolment:
    """Record what the support needs to know about health, HIV status or sexuality.

    Special-category data is held only with its own consent. `consent_withdraw` takes the same
    row lock first, so a withdrawal cannot slip in between the check and the save.
    """
    with transaction.atomic():
        enrolment = (
            ParticipantEnrolment.objects.select_for_update().filter(membership=membership).first()
        )
        if enrolment is None or not has_consent(membership, ConsentKind.SPECIAL_CATEGORY):
            raise DomainError("Record their consent to hold sensitive information first.")
        enrolment.sensitive_notes = (notes or "")[:SENSITIVE_NOTES_LENGTH]
        enrolment.save(update_fields=["sensitive_notes"])
        # The row says that the notes changed, never what they say.
        audit_record(
            actor=by,
            verb="enrolment_sensitive_notes_save",
            obj=enrolment,
            scheme=membership.scheme_id,
        )
    return enrolment


@transaction.atomic
def buddy_support_person_set(
    *, buddy: Membership, support_person: Membership | None, by
) -> BuddyVetting:
    """Name the coordinator a buddy checks in with (None: every coordinator is alerted)."""
    support_person_check(buddy.scheme, support_person)
    vetting = BuddyVetting.objects.select_for_update().get(pk=vetting_for(buddy).pk)
    vetting.support_person = support_person
    vetting.save(update_fields=["support_person"])
    buddy.vetting = vetting
    buddy_support_changed.send(sender=BuddyVetting, buddy=buddy)
    return vetting
