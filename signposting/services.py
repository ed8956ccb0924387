"""Writes for the signposting directory and next-steps plans: each in one transaction, each
audited. Plans start as drafts when a match ends (the `match_ended` receiver below)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.utils import timezone

from buddyscheme.audit import audit_record
from buddyscheme.errors import DomainError
from buddyscheme.models import Membership, Role
from buddyscheme.notifications import notification_enqueue
from matching.models import Match, MatchState
from matching.signals import match_ended

from .models import ActionBy, DirectoryEntry, NextStepsPlan, PlanAction, PlanState

# Seed 003: a plan "for the 3-6 months after the end". Actions may fall up to six months (and a
# few days' slack for "the end of that week") after the ending.
PLAN_MONTHS = 6
PLAN_SLACK_DAYS = 7
# A reminder that could not go on its day (a long outage) still goes within this many days;
# after that a reminder about a past step is noise, and it is skipped.
REMINDER_GRACE_DAYS = 3


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has no such day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate_day in range(day.day, 27, -1):
        try:
            return date(year, month, candidate_day)
        except ValueError:
            continue
    return date(year, month, min(day.day, 28))


def plan_last_day(plan: NextStepsPlan) -> date:
    return add_months(plan.starts_on, PLAN_MONTHS) + timedelta(days=PLAN_SLACK_DAYS)


# --- The directory ----------------------------------------------------------------------------

ENTRY_FIELDS = ("name", "kind", "offers", "area", "contact", "eligibility")
REQUIRED_ENTRY_FIELDS = {
    "name": "the service's name",
    "offers": "what it offers",
    "area": "the area it covers",
    "contact": "how to contact it",
}


def _clean_entry_values(values: dict) -> dict:
    cleaned = {name: (values.get(name) or "").strip() for name in ENTRY_FIELDS}
    for required, label in REQUIRED_ENTRY_FIELDS.items():
        if not cleaned[required]:
            raise DomainError(f"Fill in {label}.")
    return cleaned


def directory_entry_add(*, scheme, by, values: dict, now=None) -> DirectoryEntry:
    """A new entry, checked today (whoever adds it has just looked the details up)."""
    now = now or timezone.now()
    cleaned = _clean_entry_values(values)
    if DirectoryEntry.objects.filter(
        scheme=scheme, name__iexact=cleaned["name"], retired_at__isnull=True
    ).exists():
        raise DomainError(f"The directory already has “{cleaned['name']}”: edit that entry.")
    try:
        with transaction.atomic():
            entry = DirectoryEntry.objects.create(
                scheme=scheme,
                last_checked_on=timezone.localdate(now, scheme.zone),
                created_at=now,
                updated_by=by,
                **cleaned,
            )
            audit_record(actor=by, verb="directory_entry_add", obj=entry, scheme=scheme)
    except IntegrityError as clash:
        # The same form sent twice at once: the other one added it.
        raise DomainError(
            f"The directory already has “{cleaned['name']}”: edit that entry."
        ) from clash
    return entry


@transaction.atomic
def directory_entry_change(*, entry: DirectoryEntry, by, values: dict, now=None) -> DirectoryEntry:
    """Editing the details counts as checking them."""
    now = now or timezone.now()
    cleaned = _clean_entry_values(values)
    locked = DirectoryEntry.objects.select_for_update().get(pk=entry.pk)
    if locked.retired_at is not None:
        raise DomainError("This entry was retired; add it again if the service is back.")
    if (
        DirectoryEntry.objects.filter(
            scheme_id=locked.scheme_id, name__iexact=cleaned["name"], retired_at__isnull=True
        )
        .exclude(pk=locked.pk)
        .exists()
    ):
        raise DomainError(f"Another entry is already called “{cleaned['name']}”.")
    for name, value in cleaned.items():
        setattr(locked, name, value)
    locked.last_checked_on = timezone.localdate(now, locked.scheme.zone)
    locked.updated_by = by
    locked.save(update_fields=[*ENTRY_FIELDS, "last_checked_on", "updated_by"])
    audit_record(actor=by, verb="directory_entry_change", obj=locked, scheme=locked.scheme_id)
    return locked


@transaction.atomic
def directory_entry_checked(*, entry: DirectoryEntry, by, now=None) -> DirectoryEntry:
    """Someone checked the details are still right today ("checked today")."""
    now = now or timezone.now()
    locked = DirectoryEntry.objects.select_for_update().select_related("scheme").get(pk=entry.pk)
    if locked.retired_at is not None:
        raise DomainError("This entry was retired.")
    locked.last_checked_on = timezone.localdate(now, locked.scheme.zone)
    locked.updated_by = by
    locked.save(update_fields=["last_checked_on", "updated_by"])
    audit_record(actor=by, verb="directory_entry_checked", obj=locked, scheme=locked.scheme_id)
    return locked


@transaction.atomic
def directory_entry_retire(*, entry: DirectoryEntry, by, now=None) -> DirectoryEntry:
    """Out of the directory. Plans that already point to it keep showing it."""
    updated = DirectoryEntry.objects.filter(pk=entry.pk, retired_at__isnull=True).update(
        retired_at=now or timezone.now(), updated_by=by
    )
    if updated:
        audit_record(actor=by, verb="directory_entry_retire", obj=entry, scheme=entry.scheme_id)
    entry.refresh_from_db()
    return entry


# --- Next-steps plans ---------------------------------------------------------------------------


def plan_for_match_ensure(*, match: Match, by=None, now=None) -> NextStepsPlan:
    """The ended match's plan, made as a draft the first time: a second call (or a second
    ending signal) returns the same plan."""
    if match.state != MatchState.ENDED:
        raise DomainError("A next-steps plan is written once the match has ended.")
    existing = NextStepsPlan.objects.filter(match=match).first()
    if existing is not None:
        return existing
    now = now or timezone.now()
    ended_at = match.ended_at or now
    try:
        with transaction.atomic():
            plan = NextStepsPlan.objects.create(
                scheme_id=match.scheme_id,
                match=match,
                participant_id=match.participant_id,
                starts_on=timezone.localdate(ended_at, match.scheme.zone),
                created_at=now,
            )
            audit_record(actor=by, verb="next_steps_plan_start", obj=plan, scheme=match.scheme_id)
    except IntegrityError:
        # Started at the same moment by the signal and a coordinator's click.
        return NextStepsPlan.objects.get(match=match)
    return plan


@receiver(match_ended)
def _plan_when_a_match_ends(sender, match, by=None, now=None, **kwargs):
    """Every ending produces a next-steps plan (issue 18): a draft the coordinator fills in."""
    plan_for_match_ensure(match=match, by=by, now=now)


def _editable(plan: NextStepsPlan) -> NextStepsPlan:
    return NextStepsPlan.objects.select_for_update().select_related("scheme").get(pk=plan.pk)


@transaction.atomic
def plan_action_add(
    *,
    plan: NextStepsPlan,
    by,
    due_on: date,
    what: str,
    who: str = ActionBy.PARTICIPANT,
    entry: DirectoryEntry | None = None,
    now=None,
) -> PlanAction:
    now = now or timezone.now()
    locked = _editable(plan)
    what = (what or "").strip()
    if not what:
        raise DomainError("Say what the step is, in a few plain words.")
    if who not in ActionBy.values:
        raise DomainError("Choose who does it.")
    today = timezone.localdate(now, locked.scheme.zone)
    if due_on < today:
        raise DomainError("The date has passed: choose today or a later day.")
    last_day = plan_last_day(locked)
    if due_on > last_day:
        raise DomainError(
            f"The plan covers the six months after the ending: choose a date by "
            f"{last_day:%-d %B %Y}."
        )
    if entry is not None and (entry.scheme_id != locked.scheme_id or entry.retired_at is not None):
        raise DomainError("Choose a service from the scheme's directory.")
    action = PlanAction.objects.create(
        plan=locked, due_on=due_on, what=what[:200], who=who, entry=entry
    )
    audit_record(actor=by, verb="plan_action_add", obj=locked, scheme=locked.scheme_id)
    return action


@transaction.atomic
def plan_action_remove(*, action: PlanAction, by) -> NextStepsPlan:
    locked = _editable(action.plan)
    if locked.state == PlanState.FINISHED and locked.actions.count() <= 1:
        raise DomainError("A finished plan keeps at least one step: add another first.")
    PlanAction.objects.filter(pk=action.pk).delete()
    audit_record(actor=by, verb="plan_action_remove", obj=locked, scheme=locked.scheme_id)
    return locked


@transaction.atomic
def plan_reminders_set(*, plan: NextStepsPlan, remind_me: bool, by) -> NextStepsPlan:
    """Whether the participant wants a reminder on each step's date (their choice: they or
    the coordinator with them set it)."""
    locked = _editable(plan)
    if locked.remind_me != remind_me:
        locked.remind_me = remind_me
        locked.save(update_fields=["remind_me"])
        audit_record(
            actor=by,
            verb="plan_reminders_on" if remind_me else "plan_reminders_off",
            obj=locked,
            scheme=locked.scheme_id,
        )
    return locked


@transaction.atomic
def plan_finish(*, plan: NextStepsPlan, by, now=None) -> NextStepsPlan:
    """The plan is ready: the participant sees it on their Home and gets a discreet message
    saying so (nothing of its content). Finishing twice sends one message."""
    now = now or timezone.now()
    locked = _editable(plan)
    if locked.state == PlanState.FINISHED:
        return locked
    if not locked.actions.exists():
        raise DomainError("Add at least one step before finishing the plan.")
    locked.state = PlanState.FINISHED
    locked.finished_at = now
    locked.finished_by = by
    locked.save(update_fields=["state", "finished_at", "finished_by"])
    audit_record(actor=by, verb="next_steps_plan_finish", obj=locked, scheme=locked.scheme_id)
    participant = Membership.objects.select_related("user__profile").get(pk=locked.participant_id)
    if participant.is_active and participant.role == Role.PARTICIPANT:
        notification_enqueue(
            scheme=locked.scheme,
            recipient=participant.user,
            template="next_steps_ready",
            dedupe_key=f"next_steps_ready:{locked.pk}",
            context={"plan_id": locked.pk},
            now=now,
        )
    return locked


def plan_reminders_send(now=None) -> int:
    """Each step of a finished plan whose participant agreed to reminders gets one reminder on
    its date (in the scheme's time zone). The claim is a conditional UPDATE of `reminded_at`
    in the same transaction as the outbox row: two beats at once, or a redelivered task, send
    it once. Returns how many were sent."""
    now = now or timezone.now()
    utc_today = now.date()
    candidates = (
        PlanAction.objects.filter(
            reminded_at__isnull=True,
            plan__state=PlanState.FINISHED,
            plan__remind_me=True,
            plan__participant__is_active=True,
            due_on__gte=utc_today - timedelta(days=REMINDER_GRACE_DAYS + 1),
            due_on__lte=utc_today + timedelta(days=1),
        )
        .select_related("plan__scheme", "plan__participant__user__profile")
        .order_by("due_on", "pk")
    )
    sent = 0
    for action in candidates:
        plan = action.plan
        today = timezone.localdate(now, plan.scheme.zone)
        if action.due_on > today:
            continue
        with transaction.atomic():
            claimed = PlanAction.objects.filter(pk=action.pk, reminded_at__isnull=True).update(
                reminded_at=now
            )
            if not claimed:
                continue
            if action.due_on < today - timedelta(days=REMINDER_GRACE_DAYS):
                continue  # claimed as handled, but too late to be useful
            notification_enqueue(
                scheme=plan.scheme,
                recipient=plan.participant.user,
                template="next_steps_reminder",
                dedupe_key=f"next_steps_reminder:{action.pk}",
                context={"plan_id": plan.pk},
                now=now,
            )
            sent += 1
    return sent
