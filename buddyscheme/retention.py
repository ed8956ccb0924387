"""Retention: closed matches past their scheme's `retention_months` are anonymised, after a
coordinator confirms a dry-run report of what would change.

Anonymising a match empties its free text and deletes what is only personal (the rows the
inventory marks, as erasure does, through `personal_data.INVENTORY`), and keeps its dates,
states and counts. Its participant, and a buddy who no longer volunteers, whose every match is
being anonymised become their initials: name → "Z. Q.", contact details and own notes gone.
A buddy still active in the scheme keeps their name (they still volunteer); only the old
match's records change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from .audit import audit_record
from .erasure import (
    Targets,
    identifier_tokens,
    identifiers_sweep,
    inventory_model,
    linked_rows,
    scrub_rows,
)
from .errors import DomainError
from .models import (
    Membership,
    ParticipantEnrolment,
    RetentionReview,
    RetentionStatus,
    Role,
    Scheme,
    User,
)
from .personal_data import DELETE, INVENTORY, SCRUB

CLOSED_STATES = ("ended", "declined", "withdrawn")


@dataclass(frozen=True)
class RetentionLine:
    label: str
    count: int


def months_before(moment: datetime, months: int) -> datetime:
    """The same day `months` earlier (the month's last day if that day does not exist)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


def _match_model():
    return apps.get_model("matching", "Match")


def anonymised_match_ids(scheme: Scheme) -> set[int]:
    done: set[int] = set()
    for ids in RetentionReview.objects.filter(
        scheme=scheme, status=RetentionStatus.DONE
    ).values_list("match_ids", flat=True):
        done.update(ids)
    return done


def matches_past_retention(scheme: Scheme, now: datetime | None = None) -> list[int]:
    """Closed matches whose close is more than `retention_months` ago, not yet anonymised."""
    now = now or timezone.now()
    cutoff = months_before(now, scheme.retention_months)
    ids = (
        _match_model()
        ._default_manager.filter(scheme=scheme, state__in=CLOSED_STATES)
        .annotate(closed_at=Coalesce("ended_at", "created_at"))
        .filter(closed_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    done = anonymised_match_ids(scheme)
    return [pk for pk in ids if pk not in done]


def people_to_initials(scheme: Scheme, match_ids: list[int]) -> list[Membership]:
    """Those whose every match in the scheme is anonymised by now: the participant always,
    a buddy only once they no longer volunteer. Coordinators never."""
    if not match_ids:
        return []
    covered = set(match_ids) | anonymised_match_ids(scheme)
    match_model = _match_model()
    parties = Membership.objects.filter(
        Q(matches_as_buddy__pk__in=match_ids) | Q(matches_as_participant__pk__in=match_ids)
    ).distinct()
    chosen = []
    for membership in parties.select_related("user"):
        if membership.role == Role.COORDINATOR:
            continue
        if membership.role == Role.BUDDY and membership.is_active:
            continue
        theirs = set(
            match_model._default_manager.filter(
                Q(buddy=membership) | Q(participant=membership)
            ).values_list("pk", flat=True)
        )
        if theirs <= covered:
            chosen.append(membership)
    return chosen


def _targets(scheme: Scheme, match_ids: list[int]) -> tuple[Targets, Targets]:
    people = people_to_initials(scheme, match_ids)
    match_targets = Targets(frozenset(), frozenset(), frozenset(match_ids))
    people_targets = Targets(
        frozenset(m.user_id for m in people), frozenset(m.pk for m in people), frozenset()
    )
    return match_targets, people_targets


def retention_counts(scheme: Scheme, match_ids: list[int]) -> dict[str, int]:
    """Kind of record (its plain label) -> rows that would be anonymised. Changes nothing."""
    counts: dict[str, int] = {}
    if not match_ids:
        return counts
    match_targets, people_targets = _targets(scheme, match_ids)
    for label, entry in INVENTORY.items():
        model = inventory_model(label)
        if model is None or entry.on_erase not in (SCRUB, DELETE):
            continue
        rows = linked_rows(model, entry, match_targets) | linked_rows(model, entry, people_targets)
        if entry.scrub_where and entry.on_erase == SCRUB:
            rows = rows.filter(**entry.scrub_where)
        count = rows.distinct().count()
        if count:
            counts[entry.label] = count
    counts["People whose names become initials"] = len(people_targets.membership_ids)
    return counts


def retention_review_prepare(*, scheme: Scheme, now=None) -> RetentionReview | None:
    """The dry run: a report for the coordinator, replacing an unconfirmed older one."""
    now = now or timezone.now()
    match_ids = matches_past_retention(scheme, now)
    with transaction.atomic():
        RetentionReview.objects.filter(scheme=scheme, status=RetentionStatus.PROPOSED).update(
            status=RetentionStatus.SUPERSEDED
        )
        if not match_ids:
            return None
        review = RetentionReview.objects.create(
            scheme=scheme,
            prepared_at=now,
            match_ids=match_ids,
            counts=retention_counts(scheme, match_ids),
        )
        audit_record(actor=None, verb="retention_review_prepare", obj=review, scheme=scheme)
    return review


def retention_reviews_prepare_all(now=None) -> int:
    """Daily, from beat: one dry-run report per scheme that has matches past retention."""
    return sum(
        1
        for scheme in Scheme.objects.all()
        if retention_review_prepare(scheme=scheme, now=now) is not None
    )


def sensitive_notes_delete_flagged() -> int:
    """Sensitive notes whose consent was withdrawn (hidden at once, flagged) are deleted."""
    return (
        ParticipantEnrolment.objects.filter(sensitive_flagged_for_deletion_at__isnull=False)
        .exclude(sensitive_notes="")
        .update(sensitive_notes="")
    )


def retention_daily(now=None) -> int:
    sensitive_notes_delete_flagged()
    return retention_reviews_prepare_all(now=now)


def initials_of(user: User) -> str:
    parts = [part for part in (user.first_name, user.last_name) if part]
    if not parts:
        parts = [user.display_name]
    return " ".join(f"{part[0].upper()}." for part in parts)


def _to_initials(user: User) -> None:
    first, last = (user.first_name or user.display_name)[:1], user.last_name[:1]
    user.first_name = f"{first.upper()}." if first else ""
    user.last_name = f"{last.upper()}." if last else ""
    user.email = f"retained-{user.pk}@erased.invalid"
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["first_name", "last_name", "email", "is_active", "password"])


@transaction.atomic
def retention_review_confirm(*, review: RetentionReview, by: User, now=None) -> RetentionReview:
    """Anonymise what the report listed (matches closed since are left for the next one)."""
    review = RetentionReview.objects.select_for_update().get(pk=review.pk)
    if review.status != RetentionStatus.PROPOSED:
        raise DomainError("This report has already been confirmed or replaced.")
    scheme = review.scheme
    still_due = set(matches_past_retention(scheme, now))
    match_ids = [pk for pk in review.match_ids if pk in still_due]
    match_targets, people_targets = _targets(scheme, match_ids)
    people = list(User.objects.filter(pk__in=people_targets.user_ids).select_related("profile"))
    tokens = {person.pk: identifier_tokens(person) for person in people}
    for label, entry in reversed(INVENTORY.items()):
        model = inventory_model(label)
        if model is None or entry.on_erase not in (SCRUB, DELETE):
            continue
        for targets in (match_targets, people_targets):
            rows = linked_rows(model, entry, targets)
            if entry.on_erase == DELETE:
                model._default_manager.filter(
                    pk__in=list(rows.values_list("pk", flat=True))
                ).delete()
            else:
                scrub_rows(model, entry, rows)
    for person in people:
        identifiers_sweep(
            person=person, scheme=scheme, replacement=initials_of(person), tokens=tokens[person.pk]
        )
        _to_initials(person)
    review.status = RetentionStatus.DONE
    review.match_ids = match_ids
    review.confirmed_by = by
    review.confirmed_at = now or timezone.now()
    review.save(update_fields=["status", "match_ids", "confirmed_by", "confirmed_at"])
    audit_record(actor=by, verb="retention_review_confirm", obj=review, scheme=scheme)
    return review


def retention_review_open(scheme: Scheme) -> RetentionReview | None:
    return RetentionReview.objects.filter(scheme=scheme, status=RetentionStatus.PROPOSED).first()
