"""Subject-access export (issue 21, DESIGN §5): everything the app holds about one person in
one scheme, as a ZIP of JSON (one file per kind of record) and a readable PDF.

Scope: the person's memberships in the coordinator's scheme, and the records that concern
them there: for every model, the rows its entry in `buddyscheme.personal_data.INVENTORY` links
to the person (their account, their roles, their matches), as erasure finds them. What another scheme holds about the same account is that scheme's to answer.
Each row keeps its id, so a debrief can be read against its meeting across files.

Left out on purpose: secrets that would let someone into the account or a feed (password hash,
invitation and calendar tokens, idempotency keys); they are not information *about* the person.
Other people appear by the name the app shows them by (first or preferred name), as on the
person's own pages. Special-category notes follow `buddyscheme.special_category`.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML

from buddyscheme.audit import audit_record
from buddyscheme.erasure import Targets, inventory_model, linked_rows, targets_for
from buddyscheme.models import AuditEvent, Membership, ParticipantEnrolment, User
from buddyscheme.personal_data import INVENTORY
from buddyscheme.special_category import consent_on_record, special_category_text
from contracts.models import Contract, ContractState
from contracts.pdf import PDF_VARIANT, STATIC_PREFIX, StaticOnlyFetcher, contract_pdf
from contracts.pdf import document_language as pdf_language
from contracts.services import settings_for as contract_settings_for
from matching.models import MatchProfile

from .models import Answer

AUDIT_VERB = "subject_access_export"
THIS_PERSON = "this person"
# Secrets and machine keys: not information about the person, and dangerous in a file that
# leaves the building.
LEFT_OUT = {
    "password",
    "token",
    "dedupe_key",
    "idempotency_key",
    "form_key",
    "submit_key",
    "feedback_token",
}
# Related records named in words rather than by id (a few rows each: one query per name).
NAMED = {
    "venue",
    "menu_item",
    "module",
    "questionnaire",
    "question",
    "group",
    "entry",
    "category",
    "scheme",
    "object_type",
}


@dataclass
class Section:
    name: str
    title: str
    rows: list[dict[str, Any]] = field(default_factory=list)


class _Namer:
    """Names of the people and things rows point at, looked up once each."""

    def __init__(self, user: User, membership_ids: set[int]):
        self.user = user
        self.membership_ids = membership_ids
        self.cache: dict[tuple[type, int], str] = {}
        # Every record exported, so the access log's rows about any of them come too.
        self.exported: dict[type, set[int]] = {}

    def person(self, model: type, pk: int) -> str:
        if (model is User and pk == self.user.pk) or (
            model is Membership and pk in self.membership_ids
        ):
            return THIS_PERSON
        key = (model, pk)
        if key not in self.cache:
            if model is User:
                found = User.objects.select_related("profile").filter(pk=pk).first()
                self.cache[key] = found.display_name if found else "someone no longer here"
            else:
                member = Membership.objects.select_related("user__profile").filter(pk=pk).first()
                self.cache[key] = (
                    f"{member.user.display_name} ({member.get_role_display().lower()})"
                    if member
                    else "someone no longer here"
                )
        return self.cache[key]

    def thing(self, model: type[models.Model], pk: int) -> str:
        key = (model, pk)
        if key not in self.cache:
            found = model._default_manager.filter(pk=pk).first()
            self.cache[key] = str(found) if found else f"{model._meta.verbose_name} {pk}"
        return self.cache[key]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    return value


def _row(obj: models.Model, namer: _Namer, extra: dict[str, Any] | None = None) -> dict:
    namer.exported.setdefault(type(obj), set()).add(obj.pk)
    row: dict[str, Any] = {}
    for model_field in obj._meta.concrete_fields:
        name = model_field.name
        if name in LEFT_OUT:
            continue
        if model_field.is_relation:
            pk = getattr(obj, model_field.attname)
            related = model_field.related_model
            if pk is None or not isinstance(related, type):
                row[name] = None
            elif related in (User, Membership):
                row[name] = namer.person(related, pk)
            elif name in NAMED:
                row[name] = namer.thing(related, pk)
            else:
                row[f"{name}_id"] = pk
            continue
        if model_field.choices:
            row[name] = getattr(obj, f"get_{name}_display")()
        else:
            row[name] = _plain(getattr(obj, model_field.attname))
    row.update(extra or {})
    return row


def _rows(queryset: Iterable[models.Model], namer: _Namer) -> list[dict]:
    return [_row(obj, namer) for obj in queryset]


@dataclass
class SubjectAccess:
    """What was gathered: the sections (in reading order) and the signed agreements' PDFs."""

    membership: Membership
    sections: list[Section]
    agreements: list[tuple[str, bytes]]
    built_at: datetime
    # The ids exported, model by model (the test reads them against the inventory).
    exported: dict[type, set[int]] = field(default_factory=dict)

    def count(self) -> int:
        return sum(len(section.rows) for section in self.sections)


# The sections of the export in reading order, and which inventory models each gathers. Which
# rows of a model are the person's is not written here: it is read from the model's `links` in
# `buddyscheme.personal_data.INVENTORY` (as erasure does), so a model added to the inventory
# with a link to a person is exported even before it is given a section here (it then goes
# under "Other records", the last section).
SECTIONS: list[tuple[str, str, tuple[str, ...]]] = [
    ("profile", "Profile and contact details", ("buddyscheme.Profile",)),
    (
        "memberships",
        "Roles in the scheme, login and invitations",
        (
            "buddyscheme.Membership",
            "account.EmailAddress",
            "mfa.Authenticator",
            "buddyscheme.Invitation",
        ),
    ),
    ("consents", "Consents (with the wording version agreed to)", ("buddyscheme.ConsentRecord",)),
    ("enrolment", "Enrolment", ("buddyscheme.ParticipantEnrolment",)),
    ("referrals", "Referrals", ("buddyscheme.Referral",)),
    ("menu", "What they would like to do (the menu)", ("matching.MatchProfile",)),
    (
        "matches",
        "Matches",
        ("matching.Match", "matching.PairBlock", "matching.RoundLeftOut"),
    ),
    (
        "match_events",
        "What happened in each match",
        ("matching.MatchEvent", "matching.ContactAttempt", "matching.ReviewReminder"),
    ),
    ("goals", "Goals", ("matching.Goal",)),
    (
        "reviews",
        "Match reviews and goal progress",
        ("matching.MatchReview", "matching.GoalProgress"),
    ),
    (
        "match_requests",
        "Requests about a match (new buddy, stop, friendship)",
        (
            "matching.RematchRequest",
            "matching.StopRequest",
            "matching.FriendshipDisclosure",
            "matching.BreachRecord",
        ),
    ),
    (
        "suggestions",
        "Buddy suggestions and speed-matching",
        (
            "matching.SuggestionOffer",
            "matching.SuggestionOption",
            "matching.SpeedMeeting",
            "matching.SpeedPreference",
        ),
    ),
    ("endings", "Endings", ("matching.Ending",)),
    ("agreements", "Agreements and signatures", ("contracts.Contract", "contracts.Signature")),
    ("meetings", "Meetings and where they were", ("meetings.Meeting", "meetings.Venue")),
    (
        "meeting_changes",
        "Rearranged meetings, safety check-ins and alerts",
        (
            "meetings.RearrangeRequest",
            "meetings.SafetyEvent",
            "meetings.Alert",
            "meetings.AlertLocation",
            "meetings.PatternDismissal",
        ),
    ),
    (
        "debriefs",
        "Debriefs after meetings",
        ("meetings.Debrief", "meetings.DebriefItem", "meetings.BoundaryAnswer"),
    ),
    ("diary", "Diary entries", ("buddyscheme.DiaryEntry",)),
    ("notes", "Coordinators' notes", ("buddyscheme.CaseNote",)),
    (
        "concerns",
        "Concerns raised by or about them",
        ("buddyscheme.Concern", "buddyscheme.ConcernAction"),
    ),
    ("messages", "Messages", ("messaging.Conversation", "messaging.Message")),
    ("outbox", "Emails and texts sent to them", ("buddyscheme.Notification",)),
    (
        "questionnaires",
        "Questionnaires and answers",
        ("evaluation.Invitation", "evaluation.Response", "evaluation.Answer"),
    ),
    (
        "groups",
        "Groups",
        (
            "groups.GroupMember",
            "groups.Attendance",
            "groups.Exclusion",
            "groups.SessionFacilitator",
        ),
    ),
    ("next_steps", "Next-steps plans", ("signposting.NextStepsPlan", "signposting.PlanAction")),
    (
        "volunteering",
        "Volunteering: vetting, training, support, expenses",
        (
            "buddyscheme.BuddyVetting",
            "buddyscheme.VettingStep",
            "buddyscheme.DBSCheck",
            "buddyscheme.TrainingCompletion",
            "meetings.TrainingInvitation",
            "buddyscheme.Supervision",
            "buddyscheme.SupportContact",
            "volunteering.ExpenseClaim",
            "volunteering.DocumentRead",
            "meetings.OnCallShift",
            "meetings.BuddySafety",
            "meetings.CalendarFeed",
            "messaging.NetworkMember",
        ),
    ),
    (
        "recruitment",
        "Application, references and interviews",
        (
            "recruitment.Application",
            "recruitment.Reference",
            "buddyscheme.Interview",
            "buddyscheme.InterviewAnswer",
        ),
    ),
]
OTHER = ("other", "Other records")
# Linked to the person in the inventory but not exported: a row of secrets only (the key in a
# confirmation link), or a login of the browser (the access log says what was done).
NOT_EXPORTED = {"account.EmailConfirmation", "sessions.Session"}
# Fields that are secrets of one model (the authenticator app's key).
LEFT_OUT_OF = {"mfa.Authenticator": {"data"}}
# Narrower than erasure's links: a questionnaire answered by the *other* person of a match is
# theirs (answers are promised to be confidential), though erasing the match empties it too.
# Likewise how others ranked them at a meet-the-buddies event, and the reasons a buddy was
# offered to someone else: those are the other person's choices.
EXPORT_LINKS = {
    "matching.SpeedPreference": ("ranker",),
    "matching.SuggestionOption": ("offer__participant",),
    "evaluation.Invitation": ("person",),
    "evaluation.Response": ("invitation__person",),
    "evaluation.Answer": ("response__invitation__person",),
}
ORDER = {
    "buddyscheme.ConsentRecord": ("given_at", "pk"),
    "buddyscheme.CaseNote": ("created_at", "pk"),
    "matching.MatchEvent": ("at", "pk"),
    "meetings.Meeting": ("planned_start", "pk"),
    "meetings.SafetyEvent": ("at", "pk"),
}


def exported_labels() -> list[str]:
    """Every inventory model whose rows link to a person, in the order of the export."""
    ordered = [label for _name, _title, labels in SECTIONS for label in labels]
    rest = [
        label
        for label, entry in INVENTORY.items()
        if entry.links and label not in ordered and label not in NOT_EXPORTED
    ]
    return ordered + rest


def _person_rows(label: str, targets: Targets, scheme) -> models.QuerySet | None:
    """The rows of one inventory model that are the person's (by its links), in `scheme`."""
    entry = INVENTORY.get(label)
    model = inventory_model(label)
    if entry is None or model is None:
        return None
    if label in EXPORT_LINKS:
        entry = replace(entry, links=EXPORT_LINKS[label])
    rows = linked_rows(model, entry, targets)
    if entry.scheme:
        rows = rows.filter(**{entry.scheme: scheme.pk})
    return rows.order_by(*ORDER.get(label, ("pk",)))


def _export_row(label: str, obj: models.Model, namer: _Namer, viewer) -> dict[str, Any]:
    row = _row(obj, namer)
    for name in LEFT_OUT_OF.get(label, ()):
        row.pop(name, None)
    if isinstance(obj, ParticipantEnrolment):
        row["sensitive_notes"] = special_category_text(
            obj, viewer=viewer, consent=consent_on_record(obj.membership)
        )
    elif isinstance(obj, MatchProfile):
        row["items"] = [str(item) for item in obj.items.all()]
    elif isinstance(obj, Answer):
        row["question"] = obj.question.text
    return row


def subject_access_gather(*, membership: Membership, viewer) -> SubjectAccess:
    """Everything about the person of `membership` in its scheme (all their roles there)."""
    scheme = membership.scheme
    user = membership.user
    targets = targets_for(user, scheme)
    namer = _Namer(user, set(targets.membership_ids))
    account = {
        "id": user.pk,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "date_joined": _plain(user.date_joined),
        "last_login": _plain(user.last_login),
    }
    by_section: dict[str, list[dict[str, Any]]] = {"profile": [account]}
    section_of = {label: name for name, _title, labels in SECTIONS for label in labels}
    for label in exported_labels():
        rows = _person_rows(label, targets, scheme)
        if rows is None:
            continue
        found = [_export_row(label, obj, namer, viewer) for obj in rows]
        if label == "buddyscheme.Profile":
            # The profile reads as one record with the account's name and email.
            for row in found:
                account.update({k: v for k, v in row.items() if k not in ("id", "user")})
            continue
        by_section.setdefault(section_of.get(label, OTHER[0]), []).extend(found)
    sections = [Section(name, title, by_section.get(name, [])) for name, title, _labels in SECTIONS]
    if by_section.get(OTHER[0]):
        sections.append(Section(OTHER[0], OTHER[1], by_section[OTHER[0]]))
    user_type = ContentType.objects.get_for_model(User)
    contracts = Contract.objects.filter(pk__in=namer.exported.get(Contract, ()))
    about_them = Q(actor=user) | Q(object_type=user_type, object_id=user.pk)
    for model, pks in namer.exported.items():
        about_them |= Q(object_type=ContentType.objects.get_for_model(model), object_id__in=pks)
    sections.append(
        Section(
            "access_log",
            "Access log rows about them",
            _rows(
                AuditEvent.objects.filter(scheme=scheme).filter(about_them).order_by("at", "pk"),
                namer,
            ),
        )
    )
    discreet = contract_settings_for(scheme).discreet_pdf
    agreements = [
        (f"agreements/agreement-{contract.pk}.pdf", contract_pdf(contract, discreet=discreet))
        for contract in contracts.filter(state=ContractState.SIGNED).order_by("pk")
    ]
    return SubjectAccess(membership, sections, agreements, timezone.now(), namer.exported)


# Records per paragraph of the PDF. WeasyPrint's time grows with the number of boxes it lays
# out, styles and tags, not with the text: one paragraph of many records, each record one
# line of plain text, lays out about ten times faster than a paragraph (with bold keys) per
# record, and a person with 5,000 records is then built in well under a minute.
RECORDS_PER_BLOCK = 40


_ISO_MOMENT = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(:\d\d(\.\d+)?)?([+-]\d\d:\d\d|Z)?$")


def _record_text(row: dict[str, Any]) -> str:
    """One record as one line of plain text for the PDF: "• key: value · key: value". Empty
    fields are left out (the JSON has every field) and moments read "2026-10-05 11:00"
    (local time, to the minute; the JSON has them to the microsecond)."""
    parts = []
    for key, value in row.items():
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        elif isinstance(value, str) and (moment := _ISO_MOMENT.match(value)):
            value = f"{moment[1]} {moment[2]}"
        parts.append(f"{key.replace('_', ' ')}: {value}")
    return "• " + " · ".join(parts)


def _blocks(rows: list[dict[str, Any]]) -> list[str]:
    lines = [_record_text(row) for row in rows]
    return [
        "\n".join(lines[start : start + RECORDS_PER_BLOCK])
        for start in range(0, len(lines), RECORDS_PER_BLOCK)
    ]


def subject_access_pdf(gathered: SubjectAccess) -> bytes:
    html = render_to_string(
        "evaluation/subject_access/pdf.html",
        {
            "gathered": gathered,
            # Each section as a few paragraphs of records, one record a line (see above).
            "sections": [
                (section.title, len(section.rows), _blocks(section.rows))
                for section in gathered.sections
            ],
            "scheme": gathered.membership.scheme,
            "person": gathered.membership.user,
            "lang": pdf_language(),
            "static": STATIC_PREFIX,
        },
    )
    return HTML(string=html, base_url=STATIC_PREFIX, url_fetcher=StaticOnlyFetcher()).write_pdf(
        pdf_variant=PDF_VARIANT
    )


def subject_access_zip(gathered: SubjectAccess) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for section in gathered.sections:
            archive.writestr(
                f"{section.name}.json",
                json.dumps(
                    {"title": section.title, "rows": section.rows},
                    indent=2,
                    ensure_ascii=False,
                    default=str,
                ),
            )
        for name, content in gathered.agreements:
            archive.writestr(name, content)
        archive.writestr("everything.pdf", subject_access_pdf(gathered))
    return out.getvalue()


def subject_access_export(
    *, membership: Membership, by, gather: Callable[..., SubjectAccess] = subject_access_gather
) -> tuple[str, bytes]:
    """The ZIP for one person, and an access-log row saying who built it (the row names the
    membership by id: never the person's name)."""
    content = subject_access_zip(gather(membership=membership, viewer=by))
    audit_record(actor=by, verb=AUDIT_VERB, obj=membership, scheme=membership.scheme_id)
    stamp = timezone.localdate().isoformat()
    # The file name carries ids only: it sits in a downloads folder and a browser history.
    return f"subject-access-{membership.pk}-{stamp}.zip", content
