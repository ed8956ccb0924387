"""The access log as coordinators read it: their scheme's audit rows, filtered, each described
in words (who did what to which record) without names of conditions or note text.

Rows hold ids only (see `buddyscheme.models.audit`). Describing them costs one query per kind
of record on the page (a page shows at most `PER_PAGE` rows, so the count does not grow with
the log), never one per row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from .models import AuditEvent, ConsentRecord, Membership, ParticipantEnrolment, Scheme, User

PER_PAGE = 50

# Verbs whose wording is clearer than the service name turned into words.
VERB_LABELS = {
    "participant_record_view": "Viewed a participant's record",
    "participant_matching_view": "Viewed a participant's matching page",
    "participant_consents_view": "Viewed a participant's consents",
    "participant_admin_view": "Viewed a participant's enrolment in the admin",
    "membership_role_change": "Changed a role",
    "membership_grant": "Gave a role",
    "membership_deactivate": "Deactivated a role",
    "consent_give": "Recorded consent",
    "consent_withdraw": "Recorded a consent withdrawal",
    "expenses_csv_download": "Downloaded expenses (CSV)",
    "agreement_pdf_download": "Downloaded an agreement (PDF)",
    "next_steps_pdf_download": "Downloaded a next-steps plan (PDF)",
    "evidence_pack_built": "Downloaded the evidence pack",
    "subject_access_export": "Downloaded everything held about a person (subject access)",
}


def verb_label(verb: str) -> str:
    return VERB_LABELS.get(verb) or verb.replace("_", " ").capitalize()


def scheme_rows(scheme: Scheme) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(scheme=scheme)


def verbs_in(scheme: Scheme) -> list[str]:
    return sorted(set(scheme_rows(scheme).values_list("verb", flat=True).distinct()))


def people_in(scheme: Scheme) -> QuerySet[User]:
    """Everyone with a role in the scheme (now or before), for the person filter."""
    return (
        User.objects.filter(memberships__scheme=scheme)
        .select_related("profile")
        .distinct()
        .order_by("first_name", "email")
    )


def log_rows(
    scheme: Scheme,
    *,
    person: User | None = None,
    verb: str = "",
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> QuerySet[AuditEvent]:
    """The scheme's rows, newest first: `person` as the one who acted or the one acted on."""
    rows = scheme_rows(scheme).select_related("actor__profile", "object_type")
    if person is not None:
        memberships = Membership.objects.filter(user=person, scheme=scheme).values("pk")
        rows = rows.filter(
            Q(actor=person)
            | Q(
                object_type=ContentType.objects.get_for_model(Membership), object_id__in=memberships
            )
            | Q(object_type=ContentType.objects.get_for_model(User), object_id=person.pk)
        )
    if verb:
        rows = rows.filter(verb=verb)
    zone = scheme.zone
    if starts_on is not None:
        rows = rows.filter(at__gte=datetime.combine(starts_on, time.min, zone))
    if ends_on is not None:
        rows = rows.filter(at__lt=datetime.combine(ends_on + timedelta(days=1), time.min, zone))
    return rows.order_by("-at", "-pk")


@dataclass(frozen=True)
class LogLine:
    event: AuditEvent
    what: str
    record: str


def _name(user) -> str:
    return user.display_name if user is not None else "someone no longer here"


def _describe_memberships(ids):
    rows = Membership.objects.filter(pk__in=ids).select_related("user__profile")
    return {m.pk: f"{m.get_role_display()} {_name(m.user)}" for m in rows}


def _describe_users(ids):
    return {u.pk: _name(u) for u in User.objects.filter(pk__in=ids).select_related("profile")}


def _describe_by_membership(model, label):
    def describe(ids):
        rows = model.objects.filter(pk__in=ids).select_related("membership__user__profile")
        return {row.pk: f"{label} of {_name(row.membership.user)}" for row in rows}

    return describe


def _describe_schemes(ids):
    return {pk: "The scheme" for pk in ids}


# Records that name a person are described by that person's name (which coordinators see on
# the people page anyway); every other record by its kind and number. Never by its contents:
# a consent's wording, a note or an enrolment's answers may hold special-category data.
DESCRIBERS = {
    Membership: _describe_memberships,
    User: _describe_users,
    ConsentRecord: _describe_by_membership(ConsentRecord, "Consent record"),
    ParticipantEnrolment: _describe_by_membership(ParticipantEnrolment, "Enrolment"),
    Scheme: _describe_schemes,
}


def describe(events: list[AuditEvent]) -> list[LogLine]:
    """Words for each row: one query per kind of record named on the page."""
    wanted: dict[ContentType, set[int]] = defaultdict(set)
    for event in events:
        wanted[event.object_type].add(event.object_id)
    names: dict[tuple[int, int], str] = {}
    for content_type, ids in wanted.items():
        model = content_type.model_class()
        describer = DESCRIBERS.get(model) if model is not None else None
        if describer is None:
            continue
        for pk, text in describer(ids).items():
            names[(content_type.pk, pk)] = text
    lines = []
    for event in events:
        kind = event.object_type.name.capitalize()
        record = names.get((event.object_type_id, event.object_id))
        if record is None:
            record = f"{kind} #{event.object_id}"
            model = event.object_type.model_class()
            if model in DESCRIBERS:
                record += " (no longer held)"
        lines.append(LogLine(event=event, what=verb_label(event.verb), record=record))
    return lines
