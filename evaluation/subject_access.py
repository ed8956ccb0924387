"""Subject-access export (issue 21, DESIGN §5): everything the app holds about one person in
one scheme, as a ZIP of JSON (one file per kind of record) and a readable PDF.

Scope: the person's memberships in the coordinator's scheme, and the records that concern
them there. What another scheme holds about the same account is that scheme's to answer.
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
from dataclasses import dataclass, field
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
from buddyscheme.models import (
    AuditEvent,
    BuddyVetting,
    CaseNote,
    Concern,
    ConcernAction,
    ConsentRecord,
    DBSCheck,
    DiaryEntry,
    Interview,
    InterviewAnswer,
    Membership,
    Notification,
    ParticipantEnrolment,
    Profile,
    Referral,
    Supervision,
    SupportContact,
    TrainingCompletion,
    User,
    VettingStep,
)
from buddyscheme.special_category import consent_on_record, special_category_text
from contracts.models import Contract, ContractState, Signature
from contracts.pdf import PDF_VARIANT, STATIC_PREFIX, StaticOnlyFetcher, contract_pdf
from contracts.pdf import document_language as pdf_language
from contracts.services import settings_for as contract_settings_for
from groups.models import Attendance, Exclusion, GroupMember, SessionFacilitator
from matching.models import (
    BreachRecord,
    Ending,
    FriendshipDisclosure,
    Goal,
    GoalProgress,
    Match,
    MatchEvent,
    MatchProfile,
    MatchReview,
    RematchRequest,
    SpeedMeeting,
    SpeedPreference,
    StopRequest,
    SuggestionOffer,
)
from meetings.models import (
    BoundaryAnswer,
    BuddySafety,
    CalendarFeed,
    Debrief,
    DebriefItem,
    Meeting,
    OnCallShift,
    RearrangeRequest,
    SafetyEvent,
    TrainingInvitation,
)
from messaging.models import Conversation, Message, NetworkMember
from recruitment.models import Application, Reference
from signposting.models import NextStepsPlan, PlanAction
from volunteering.models import DocumentRead, ExpenseClaim

from .models import Answer, Response
from .models import Invitation as QuestionnaireInvitation

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

    def count(self) -> int:
        return sum(len(section.rows) for section in self.sections)


def subject_access_gather(*, membership: Membership, viewer) -> SubjectAccess:
    """Everything about the person of `membership` in its scheme (all their roles there)."""
    scheme = membership.scheme
    user = membership.user
    memberships = list(Membership.objects.filter(user=user, scheme=scheme).order_by("pk"))
    ids = {member.pk for member in memberships}
    namer = _Namer(user, ids)
    matches = Match.objects.filter(Q(buddy__in=ids) | Q(participant__in=ids), scheme=scheme)
    match_ids = set(matches.values_list("pk", flat=True))
    meetings = Meeting.objects.filter(Q(buddy__in=ids) | Q(match__in=match_ids), scheme=scheme)
    meeting_ids = set(meetings.values_list("pk", flat=True))
    conversations = Conversation.objects.filter(Q(member__in=ids) | Q(other__in=ids), scheme=scheme)
    contracts = Contract.objects.filter(
        Q(volunteer__in=ids) | Q(attendee__in=ids) | Q(match__in=match_ids), scheme=scheme
    ).select_related("version")
    invitations = QuestionnaireInvitation.objects.filter(person__in=ids)
    user_type = ContentType.objects.get_for_model(User)

    profile = Profile.objects.filter(user=user).first()
    account = {
        "id": user.pk,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "date_joined": _plain(user.date_joined),
        "last_login": _plain(user.last_login),
    }
    if profile is not None:
        account.update(
            {key: value for key, value in _row(profile, namer).items() if key not in ("id", "user")}
        )

    enrolments = []
    for enrolment in ParticipantEnrolment.objects.filter(membership__in=ids).select_related(
        "membership"
    ):
        row = _row(enrolment, namer)
        row["sensitive_notes"] = special_category_text(
            enrolment, viewer=viewer, consent=consent_on_record(enrolment.membership)
        )
        enrolments.append(row)

    sections = [
        Section("profile", "Profile and contact details", [account]),
        Section("memberships", "Roles in the scheme", _rows(memberships, namer)),
        Section(
            "consents",
            "Consents (with the wording version agreed to)",
            _rows(ConsentRecord.objects.filter(membership__in=ids).order_by("given_at"), namer),
        ),
        Section("enrolment", "Enrolment", enrolments),
        Section(
            "referrals", "Referrals", _rows(Referral.objects.filter(membership__in=ids), namer)
        ),
        Section(
            "menu",
            "What they would like to do (the menu)",
            [
                _row(profile_row, namer, {"items": [str(item) for item in profile_row.items.all()]})
                for profile_row in MatchProfile.objects.filter(membership__in=ids)
            ],
        ),
        Section("matches", "Matches", _rows(matches.order_by("pk"), namer)),
        Section(
            "match_events",
            "What happened in each match",
            _rows(MatchEvent.objects.filter(match__in=match_ids).order_by("at", "pk"), namer),
        ),
        Section("goals", "Goals", _rows(Goal.objects.filter(match__in=match_ids), namer)),
        Section(
            "reviews",
            "Match reviews and goal progress",
            _rows(MatchReview.objects.filter(match__in=match_ids), namer)
            + _rows(GoalProgress.objects.filter(goal__match__in=match_ids), namer),
        ),
        Section(
            "match_requests",
            "Requests about a match (new buddy, stop, friendship)",
            _rows(RematchRequest.objects.filter(match__in=match_ids), namer)
            + _rows(StopRequest.objects.filter(match__in=match_ids), namer)
            + _rows(FriendshipDisclosure.objects.filter(match__in=match_ids), namer)
            + _rows(BreachRecord.objects.filter(person__in=ids), namer),
        ),
        Section(
            "suggestions",
            "Buddy suggestions and speed-matching",
            _rows(SuggestionOffer.objects.filter(participant__in=ids), namer)
            + _rows(SpeedMeeting.objects.filter(Q(buddy__in=ids) | Q(participant__in=ids)), namer)
            + _rows(SpeedPreference.objects.filter(ranker__in=ids), namer),
        ),
        Section("endings", "Endings", _rows(Ending.objects.filter(match__in=match_ids), namer)),
        Section(
            "agreements",
            "Agreements and signatures",
            _rows(contracts.order_by("pk"), namer)
            + _rows(Signature.objects.filter(membership__in=ids), namer),
        ),
        Section("meetings", "Meetings", _rows(meetings.order_by("planned_start", "pk"), namer)),
        Section(
            "meeting_changes",
            "Rearranged meetings and safety check-ins",
            _rows(RearrangeRequest.objects.filter(meeting__in=meeting_ids), namer)
            + _rows(SafetyEvent.objects.filter(meeting__in=meeting_ids).order_by("at"), namer),
        ),
        Section(
            "debriefs",
            "Debriefs after meetings",
            _rows(Debrief.objects.filter(meeting__in=meeting_ids), namer)
            + _rows(
                DebriefItem.objects.filter(
                    Q(debrief__meeting__in=meeting_ids) | Q(match__in=match_ids)
                ),
                namer,
            )
            + _rows(BoundaryAnswer.objects.filter(debrief__meeting__in=meeting_ids), namer),
        ),
        Section(
            "diary",
            "Diary entries",
            _rows(DiaryEntry.objects.filter(Q(buddy__in=ids) | Q(shared_with__in=ids)), namer),
        ),
        Section(
            "notes",
            "Coordinators' notes",
            _rows(CaseNote.objects.filter(membership__in=ids).order_by("created_at"), namer),
        ),
        Section(
            "concerns",
            "Concerns raised by or about them",
            _rows(Concern.objects.filter(Q(raised_by__in=ids) | Q(about__in=ids)), namer)
            + _rows(
                ConcernAction.objects.filter(
                    Q(concern__raised_by__in=ids) | Q(concern__about__in=ids)
                ),
                namer,
            ),
        ),
        Section(
            "messages",
            "Messages",
            _rows(conversations, namer)
            + _rows(Message.objects.filter(conversation__in=conversations).order_by("pk"), namer),
        ),
        Section(
            "outbox",
            "Emails and texts sent to them",
            _rows(Notification.objects.filter(recipient=user, scheme=scheme), namer),
        ),
        Section(
            "questionnaires",
            "Questionnaires and answers",
            _rows(invitations, namer)
            + _rows(Response.objects.filter(invitation__in=invitations), namer)
            + [
                _row(answer, namer, {"question": answer.question.text})
                for answer in Answer.objects.filter(
                    response__invitation__in=invitations
                ).select_related("question")
            ],
        ),
        Section(
            "groups",
            "Groups",
            _rows(GroupMember.objects.filter(membership__in=ids), namer)
            + _rows(Attendance.objects.filter(member__membership__in=ids), namer)
            + _rows(Exclusion.objects.filter(member__membership__in=ids), namer)
            + _rows(SessionFacilitator.objects.filter(membership__in=ids), namer),
        ),
        Section(
            "next_steps",
            "Next-steps plans",
            _rows(NextStepsPlan.objects.filter(participant__in=ids), namer)
            + _rows(PlanAction.objects.filter(plan__participant__in=ids), namer),
        ),
        Section(
            "volunteering",
            "Volunteering: vetting, training, support, expenses",
            _rows(BuddyVetting.objects.filter(membership__in=ids), namer)
            + _rows(VettingStep.objects.filter(vetting__membership__in=ids), namer)
            + _rows(DBSCheck.objects.filter(membership__in=ids), namer)
            + _rows(TrainingCompletion.objects.filter(membership__in=ids), namer)
            + _rows(TrainingInvitation.objects.filter(invitee__in=ids), namer)
            + _rows(Supervision.objects.filter(buddy__in=ids), namer)
            + _rows(SupportContact.objects.filter(buddy__in=ids), namer)
            + _rows(ExpenseClaim.objects.filter(buddy__in=ids), namer)
            + _rows(DocumentRead.objects.filter(buddy__in=ids), namer)
            + _rows(OnCallShift.objects.filter(responder__in=ids), namer)
            + _rows(BuddySafety.objects.filter(membership__in=ids), namer)
            + _rows(CalendarFeed.objects.filter(membership__in=ids), namer)
            + _rows(NetworkMember.objects.filter(membership__in=ids), namer),
        ),
        Section(
            "recruitment",
            "Application, references and interviews",
            _rows(Application.objects.filter(membership__in=ids), namer)
            + _rows(Reference.objects.filter(membership__in=ids), namer)
            + _rows(Interview.objects.filter(applicant__in=ids), namer)
            + _rows(InterviewAnswer.objects.filter(interview__applicant__in=ids), namer),
        ),
    ]
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
        for contract in contracts.filter(state=ContractState.SIGNED)
    ]
    return SubjectAccess(membership, sections, agreements, timezone.now())


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
