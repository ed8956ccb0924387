"""The quality-standard evidence pack (issue 19): one ZIP for an accreditation visit.

Both UK standards for befriending and mentoring ask for *live* evidence, not only policies:
anonymised records that show the scheme does what its procedures say. The Approved Provider
Standard (APS, run today by NCVO Mentoring and Befriending, formerly the Mentoring and
Befriending Foundation) has 10 requirements in four areas; the Quality in Befriending award
(Befriending Networks) assesses indicators in 7 domains and asks that at least one match has
gone the whole way from referral to ending. Each file here is built from records the app
already holds, and the index says which requirement or domain it speaks to and what the scheme
must still add by hand (its aims, budget, policies' own text, interviews on the day).

What leaves the building: pseudonymous ids that exist only inside one pack (B001, P001, M001),
dates, states, counts and the matching engine's own reason lines (checked for the pair's
names). Never a name, an email, a phone number, a date of birth or a note someone typed.
Counts from 1 to 4 are suppressed (`evaluation.suppression.shown`).
"""

from __future__ import annotations

import csv
import io
import re
import statistics
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils import timezone

from buddyscheme.audit import audit_record
from buddyscheme.initials import identifying_details
from buddyscheme.models import (
    BuddyStage,
    BuddyVetting,
    Concern,
    ConcernOutcome,
    DBSCheck,
    Membership,
    ParticipantEnrolment,
    Referral,
    ReferralSource,
    ReferralStatus,
    Role,
    Scheme,
    Supervision,
    SupportContact,
    TrainingCompletion,
    TrainingModule,
)
from buddyscheme.selectors import DashboardSection, dashboard_sections, names_of
from contracts.models import Contract, ContractKind, ContractState, Signature
from contracts.pdf import PDF_VARIANT, STATIC_PREFIX, StaticOnlyFetcher, document_language
from matching.models import EndingType, Match, MatchEvent, MatchState
from meetings.models import Alert, Meeting, MeetingState, OnCallShift, Venue
from volunteering.models import DocumentRead, PackDocument

from .suppression import SUPPRESSED, shown

AUDIT_VERB = "evidence_pack_built"
MONTHS_COVERED = 12
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# "Same postcode district (SE5)": the district is where someone lives; the pack keeps the
# reason and drops the place.
IN_BRACKETS = re.compile(r"\s*\([^)]*\)")


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula (as volunteering/export.py does)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


def _day(moment: datetime | None, zone) -> str:
    return timezone.localtime(moment, zone).date().isoformat() if moment else ""


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _median(values: list[float]) -> float | str:
    """The median when at least five values go into it, otherwise the suppression words."""
    if not values:
        return ""
    if len(values) < 5:
        return SUPPRESSED
    return round(statistics.median(values), 1)


@dataclass
class Pseudonyms:
    """Ids that mean something only inside this pack: B001 for the first buddy the scheme
    took on, P001 for the first participant, M001 for the first match."""

    buddies: dict[int, str] = field(default_factory=dict)
    participants: dict[int, str] = field(default_factory=dict)
    matches: dict[int, str] = field(default_factory=dict)

    @classmethod
    def for_scheme(cls, scheme: Scheme) -> Pseudonyms:
        people = Membership.objects.filter(
            scheme=scheme, role__in=[Role.BUDDY, Role.PARTICIPANT]
        ).order_by("pk")
        pseudonyms = cls()
        for pk, role in people.values_list("pk", "role"):
            table = pseudonyms.buddies if role == Role.BUDDY else pseudonyms.participants
            table[pk] = f"{'B' if role == Role.BUDDY else 'P'}{len(table) + 1:03d}"
        for number, pk in enumerate(
            Match.objects.filter(scheme=scheme).order_by("pk").values_list("pk", flat=True), 1
        ):
            pseudonyms.matches[pk] = f"M{number:03d}"
        return pseudonyms


@dataclass
class PackFile:
    name: str
    title: str
    shows: str
    content: bytes = b""
    rows: int | None = None


@dataclass
class Pack:
    scheme: Scheme
    built_at: datetime
    files: list[PackFile]
    journey_found: bool

    def file_names(self) -> list[str]:
        return [pack_file.name for pack_file in self.files]


# --- The files ---------------------------------------------------------------------------------


def scheme_figures(scheme: Scheme, today: date) -> list[list[Any]]:
    """What the scheme has to work with today: staff, volunteers, people, places and cover."""
    people = Membership.objects.filter(scheme=scheme, is_active=True).aggregate(
        coordinators=Count("pk", filter=Q(role=Role.COORDINATOR)),
        on_call=Count("pk", filter=Q(is_on_call=True)),
        facilitators=Count("pk", filter=Q(is_facilitator=True)),
        buddies_approved=Count("pk", filter=Q(role=Role.BUDDY, vetting__stage=BuddyStage.APPROVED)),
        buddies_in_recruitment=Count(
            "pk",
            filter=Q(
                role=Role.BUDDY,
                vetting__stage__in=[
                    BuddyStage.APPLIED,
                    BuddyStage.REFERENCES,
                    BuddyStage.DBS_CHECK,
                    BuddyStage.TRAINING,
                ],
            ),
        ),
    )
    enrolment = ParticipantEnrolment.objects.filter(membership__scheme=scheme).aggregate(
        enrolled=Count("pk", filter=Q(status="enrolled")),
        referred=Count("pk", filter=Q(status="referred")),
    )
    matches = Match.objects.filter(scheme=scheme).aggregate(
        live=Count("pk", filter=Q(state=MatchState.ACTIVE)),
        ended=Count("pk", filter=Q(state=MatchState.ENDED)),
    )
    venues = Venue.objects.filter(scheme=scheme).aggregate(
        all=Count("pk"), in_date=Count("pk", filter=Q(risk_review_due__gte=today))
    )
    shifts = OnCallShift.objects.filter(
        scheme=scheme,
        starts_at__lt=timezone.now() + timedelta(days=30),
        ends_at__gt=timezone.now(),
    ).count()
    return [
        ["Coordinators (staff)", shown(people["coordinators"]), "Resources"],
        ["On-call responders", shown(people["on_call"]), "Safety"],
        ["Group facilitators", shown(people["facilitators"]), "Resources"],
        ["Buddies approved", shown(people["buddies_approved"]), "Recruitment and selection"],
        [
            "Buddies in recruitment (applied to training)",
            shown(people["buddies_in_recruitment"]),
            "Recruitment and selection",
        ],
        ["Participants enrolled", shown(enrolment["enrolled"]), "Identification and referral"],
        [
            "People referred, not yet enrolled",
            shown(enrolment["referred"]),
            "Identification and referral",
        ],
        ["Matches active", shown(matches["live"]), "Matching"],
        ["Matches ended", shown(matches["ended"]), "Monitoring"],
        ["Venues", shown(venues["all"]), "Safety"],
        ["Venues with a risk assessment in date", shown(venues["in_date"]), "Safety"],
        # A rota count says nothing about a person: shown as it is.
        ["On-call shifts in the next 30 days", shifts, "Safety"],
    ]


def policies_read(scheme: Scheme, zone) -> list[list[Any]]:
    """Each buddy-pack document at its current version, and each agreement version, with how
    many have read or signed it."""
    buddies = Membership.objects.filter(
        scheme=scheme, role=Role.BUDDY, is_active=True, vetting__stage=BuddyStage.APPROVED
    ).count()
    readers: dict[tuple[int, int], set[int]] = defaultdict(set)
    for document_id, read_version, buddy_id in DocumentRead.objects.filter(
        document__scheme=scheme
    ).values_list("document_id", "version", "buddy_id"):
        readers[(document_id, read_version)].add(buddy_id)
    rows: list[list[Any]] = []
    for document in PackDocument.objects.filter(scheme=scheme, withdrawn_at__isnull=True).order_by(
        "category", "title"
    ):
        current_readers = readers[(document.pk, document.version)]
        current = len(current_readers)
        earlier_readers: set[int] = set()
        for earlier_version in range(1, document.version):
            earlier_readers |= readers[(document.pk, earlier_version)]
        earlier = len(earlier_readers - current_readers)
        rows.append(
            [
                "Buddy pack",
                document.title,
                document.get_category_display(),
                document.version,
                _day(document.uploaded_at, zone),
                _yes(document.required),
                shown(current),
                shown(earlier),
                shown(buddies),
            ]
        )
    signed = Counter(
        Contract.objects.filter(scheme=scheme, state=ContractState.SIGNED).values_list(
            "version_id", flat=True
        )
    )
    versions = (
        Contract.objects.filter(scheme=scheme)
        .values("version_id", "version__template__title", "version__number", "kind")
        .distinct()
        .order_by("version__template__title", "version__number")
    )
    for version in versions:
        rows.append(
            [
                "Agreement",
                version["version__template__title"],
                ContractKind(version["kind"]).label,
                version["version__number"],
                "",
                "yes",
                shown(signed[version["version_id"]]),
                "",
                "",
            ]
        )
    return rows


POLICIES_HEADER = [
    "Kind",
    "Document",
    "Category",
    "Version",
    "Version issued on",
    "Required",
    "Read or signed at this version",
    "Read at an earlier version only",
    "Approved buddies asked to read it",
]


def vetting_and_training(
    scheme: Scheme, pseudonyms: Pseudonyms, today: date
) -> tuple[list[list[Any]], list[list[Any]]]:
    """One row per buddy (pseudonymous) and one per training module."""
    modules = list(TrainingModule.objects.filter(scheme=scheme).order_by("order", "name"))
    mandatory = [module for module in modules if module.mandatory]
    latest_dbs: dict[int, DBSCheck] = {}
    for dbs in DBSCheck.objects.filter(membership__scheme=scheme).order_by("issue_date", "pk"):
        latest_dbs[dbs.membership_id] = dbs
    valid: dict[int, set[int]] = defaultdict(set)
    ever: dict[int, set[int]] = defaultdict(set)
    for membership_id, module_id, expires_on in TrainingCompletion.objects.filter(
        module__scheme=scheme
    ).values_list("membership_id", "module_id", "expires_on"):
        ever[membership_id].add(module_id)
        if expires_on is None or expires_on >= today:
            valid[membership_id].add(module_id)
    stages = dict(
        BuddyVetting.objects.filter(membership__scheme=scheme).values_list("membership_id", "stage")
    )
    stage_labels = dict(BuddyStage.choices)
    buddy_rows: list[list[Any]] = []
    for membership_id, pseudonym in pseudonyms.buddies.items():
        check = latest_dbs.get(membership_id)
        done = len([module for module in mandatory if module.pk in valid[membership_id]])
        buddy_rows.append(
            [
                pseudonym,
                stage_labels.get(stages.get(membership_id, ""), "Not started"),
                check.get_level_display() if check else "",
                _iso(check.issue_date) if check else "",
                _iso(check.renewal_due) if check else "",
                _yes(bool(check and check.renewal_due >= today)),
                _yes(bool(check and check.update_service)),
                f"{done} of {len(mandatory)}",
                _yes(done == len(mandatory)),
            ]
        )
    module_rows: list[list[Any]] = []
    for module in modules:
        completed = sum(1 for done in ever.values() if module.pk in done)
        in_date = sum(1 for done in valid.values() if module.pk in done)
        module_rows.append(
            [
                module.name,
                _yes(module.mandatory),
                module.valid_for_months or "",
                shown(completed),
                shown(in_date),
            ]
        )
    return buddy_rows, module_rows


VETTING_HEADER = [
    "Buddy",
    "Stage",
    "DBS level",
    "DBS issued on",
    "DBS renewal due",
    "DBS in date",
    "On the DBS update service",
    "Mandatory training in date",
    "All mandatory training in date",
]
TRAINING_HEADER = [
    "Module",
    "Mandatory",
    "Refresh every (months)",
    "Buddies who completed it",
    "Buddies whose completion is in date",
]


def supervision_log(scheme: Scheme, pseudonyms: Pseudonyms, zone) -> list[list[Any]]:
    """Supervision one-to-ones and support contacts: dates, modes and states, never notes."""
    rows: list[list[Any]] = []
    for supervision in Supervision.objects.filter(scheme=scheme).order_by("starts_at"):
        rows.append(
            [
                _day(supervision.starts_at, zone),
                pseudonyms.buddies.get(supervision.buddy_id, ""),
                "Supervision one-to-one",
                supervision.get_mode_display(),
                supervision.get_state_display(),
                _yes(bool(supervision.notes_written_at)),
                _yes(bool(supervision.shared_at)),
            ]
        )
    for contact in SupportContact.objects.filter(scheme=scheme).order_by("contacted_at"):
        rows.append(
            [
                _day(contact.contacted_at, zone),
                pseudonyms.buddies.get(contact.buddy_id, ""),
                "Support contact",
                contact.get_mode_display(),
                "Held",
                "",
                "",
            ]
        )
    return sorted(rows, key=lambda row: row[0])


SUPERVISION_HEADER = [
    "Date",
    "Buddy",
    "Kind",
    "How",
    "State",
    "Notes written",
    "Notes shared with the buddy",
]


def _month_keys(today: date, months: int = MONTHS_COVERED) -> list[str]:
    keys: list[str] = []
    year, month = today.year, today.month
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(keys))


def _month(moment: datetime, zone) -> str:
    return timezone.localtime(moment, zone).strftime("%Y-%m")


def referral_figures(scheme: Scheme, zone, today: date) -> list[list[Any]]:
    """Referrals per month: how many came, from where, and what was decided, with the median
    days from arrival to a decision (APS: identification, referral and needs assessed)."""
    months = _month_keys(today)
    since = today - timedelta(days=31 * MONTHS_COVERED)
    by_month: dict[str, Counter] = defaultdict(Counter)
    days_to_decide: dict[str, list[float]] = defaultdict(list)
    for source, status, received, assessed, decided in Referral.objects.filter(
        scheme=scheme, received_at__date__gte=since
    ).values_list("source", "status", "received_at", "assessed_at", "decided_at"):
        key = _month(received, zone)
        by_month[key]["received"] += 1
        by_month[key][source] += 1
        by_month[key][status] += 1
        if assessed:
            by_month[key]["assessed"] += 1
        if decided:
            days_to_decide[key].append((decided - received).total_seconds() / 86400)
    rows = []
    for key in months:
        counts = by_month[key]
        rows.append(
            [
                key,
                shown(counts["received"]),
                *(shown(counts[source]) for source in ReferralSource.values),
                shown(counts["assessed"]),
                shown(counts[ReferralStatus.ENROLLED]),
                shown(counts[ReferralStatus.DECLINED]),
                _median(days_to_decide[key]),
            ]
        )
    return rows


REFERRALS_HEADER = [
    "Month",
    "Referrals received",
    *(f"From: {label}" for label in ReferralSource.labels),
    "Needs assessed",
    "Enrolled",
    "Declined (and signposted)",
    "Median days to a decision",
]


def _clean_reason(label: str, names: list[str]) -> str:
    label = IN_BRACKETS.sub("", label)
    for hit in sorted(identifying_details(label, names), key=lambda hit: -hit.start):
        label = label[: hit.start] + "[removed]" + label[hit.end :]
    return label


def matching_reasons(matches: list[Match], pseudonyms: Pseudonyms, zone) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for match in matches:
        names = names_of([match.buddy, match.participant])
        reasons = "; ".join(
            _clean_reason(str(reason.get("label", "")), names)
            for reason in (match.reasons or [])
            if isinstance(reason, dict)
        )
        how = (
            "Matching round"
            if match.round_id
            else "Re-match"
            if match.replaces_id
            else "Proposed by a coordinator"
        )
        rows.append(
            [
                pseudonyms.matches[match.pk],
                pseudonyms.buddies.get(match.buddy_id, ""),
                pseudonyms.participants.get(match.participant_id, ""),
                _day(match.created_at, zone),
                how,
                round(match.score, 1),
                reasons or "No reasons recorded",
                match.get_state_display(),
            ]
        )
    return rows


MATCHING_HEADER = [
    "Match",
    "Buddy",
    "Participant",
    "Suggested on",
    "How it was made",
    "Score",
    "Why this pair (the matching engine's reasons)",
    "State now",
]


def reviews_and_endings(matches: list[Match], pseudonyms: Pseudonyms, today: date, zone):
    rows: list[list[Any]] = []
    for match in matches:
        if not match.activated_at:
            continue
        overdue = (
            match.state == MatchState.ACTIVE
            and match.review_due is not None
            and match.review_due < today
        )
        rows.append(
            [
                pseudonyms.matches[match.pk],
                _day(match.activated_at, zone),
                _iso(match.review_due),
                _yes(overdue),
                _day(match.ended_at, zone),
                match.get_ending_type_display() if match.ending_type else "",
                match.planned_sessions or "",
                _iso(match.planned_end),
            ]
        )
    return rows


REVIEWS_HEADER = [
    "Match",
    "Started on",
    "Review due on",
    "Review overdue",
    "Ended on",
    "How it ended",
    "Planned sessions",
    "Planned end",
]


def meeting_and_alert_figures(scheme: Scheme, zone, today: date) -> list[list[Any]]:
    """Per month: meetings held and their hours, cancelled and missed, and the lone-working
    alerts with the median minutes to someone acknowledging them."""
    months = _month_keys(today)
    since = timezone.now() - timedelta(days=31 * MONTHS_COVERED + 1)
    counts: dict[str, Counter] = defaultdict(Counter)
    hours: dict[str, float] = defaultdict(float)
    for state, start, checked_in, checked_out in Meeting.objects.filter(
        scheme=scheme, planned_start__gte=since
    ).values_list("state", "planned_start", "checked_in_at", "checked_out_at"):
        key = _month(start, zone)
        counts[key][state] += 1
        if state == MeetingState.CHECKED_OUT and checked_in and checked_out:
            hours[key] += (checked_out - checked_in).total_seconds() / 3600
    minutes: dict[str, list[float]] = defaultdict(list)
    for raised, acknowledged in Alert.objects.filter(
        meeting__scheme=scheme, raised_at__gte=since
    ).values_list("raised_at", "acknowledged_at"):
        key = _month(raised, zone)
        counts[key]["alerts"] += 1
        if acknowledged:
            minutes[key].append((acknowledged - raised).total_seconds() / 60)
    rows = []
    for key in months:
        held = counts[key][MeetingState.CHECKED_OUT]
        rows.append(
            [
                key,
                shown(held),
                round(hours[key], 1) if held >= 5 else (SUPPRESSED if held else 0),
                shown(counts[key][MeetingState.CANCELLED]),
                shown(counts[key][MeetingState.MISSED]),
                shown(counts[key]["alerts"]),
                _median(minutes[key]),
            ]
        )
    return rows


MEETINGS_HEADER = [
    "Month",
    "Meetings held (checked in and out)",
    "Hours of contact",
    "Cancelled",
    "Missed",
    "Lone-working alerts raised",
    "Median minutes to acknowledge an alert",
]


def safety_records(scheme: Scheme, today: date) -> list[list[Any]]:
    """Venue risk assessments (kind and rating, not the place) and concerns by outcome."""
    rows: list[list[Any]] = []
    for number, venue in enumerate(Venue.objects.filter(scheme=scheme).order_by("pk"), 1):
        rows.append(
            [
                "Venue risk assessment",
                f"V{number:03d} ({venue.get_kind_display()})",
                venue.get_risk_rating_display(),
                _iso(venue.risk_review_due),
                _yes(venue.risk_review_due >= today) if venue.risk_review_due else "no",
            ]
        )
    outcomes = Counter(
        Concern.objects.filter(scheme=scheme).values_list("status", "outcome").order_by()
    )
    raised = sum(outcomes.values())
    rows.append(["Concerns raised by buddies", "All", "", "", shown(raised)])
    closed: Counter = Counter()
    for (status, outcome), count in outcomes.items():
        if status == "closed":
            closed[outcome] += count
    for outcome, label in ConcernOutcome.choices:
        rows.append(["Concerns closed", label, "", "", shown(closed[outcome])])
    return rows


SAFETY_HEADER = ["Record", "Which", "Risk rating", "Review due", "In date / count"]


def outcome_figures(matches: list[Match], scheme: Scheme) -> list[list[Any]]:
    """Endings by type, how long matches lasted and how often they met. Wellbeing scores come
    from the evaluation questionnaires (the funder report), not from here."""
    ended = [match for match in matches if match.state == MatchState.ENDED]
    by_type = Counter(match.ending_type or "" for match in ended)
    lengths = [
        (match.ended_at - match.activated_at).days
        for match in ended
        if match.ended_at and match.activated_at
    ]
    held = Counter(
        Meeting.objects.filter(
            scheme=scheme, match__state=MatchState.ENDED, state=MeetingState.CHECKED_OUT
        ).values_list("match_id", flat=True)
    )
    rows: list[list[Any]] = [["Matches ended", shown(len(ended))]]
    for value, label in EndingType.choices:
        rows.append([f"Ended: {label}", shown(by_type[value])])
    if by_type[""]:
        rows.append(["Ended: type not recorded", shown(by_type[""])])
    planned = by_type[EndingType.PLANNED] + by_type[EndingType.FRIENDSHIP]
    rows.append(["Ended as planned or as friends", shown(planned)])
    rows.append(["Median days a match lasted", _median([float(days) for days in lengths])])
    rows.append(
        [
            "Median meetings held per ended match",
            _median([float(held[match.pk]) for match in ended]),
        ]
    )
    return rows


OUTCOMES_HEADER = ["Figure", "Value"]


# --- One journey from referral to ending --------------------------------------------------------


@dataclass
class JourneyStep:
    on: date
    what: str


def journey_match(scheme: Scheme) -> Match | None:
    """The most recently ended match whose participant came through a referral, or failing
    that the most recently ended match: QiB asks for one journey from referral to ending."""
    ended = Match.objects.filter(scheme=scheme, state=MatchState.ENDED).order_by("-ended_at")
    referred = ended.filter(participant__referrals__isnull=False).first()
    return referred or ended.first()


def journey_steps(match: Match, zone) -> list[JourneyStep]:
    steps: list[JourneyStep] = []

    def day(moment: datetime) -> date:
        return timezone.localtime(moment, zone).date()

    referral = match.participant.referrals.order_by("received_at").first()
    if referral is not None:
        steps.append(
            JourneyStep(
                day(referral.received_at),
                f"Referral received from: {referral.get_source_display()} "
                f"(urgency: {referral.get_urgency_display().lower()})",
            )
        )
        if referral.assessed_at:
            steps.append(JourneyStep(day(referral.assessed_at), "Needs assessed"))
        if referral.decided_at:
            steps.append(
                JourneyStep(
                    day(referral.decided_at),
                    f"Referral decided: {referral.get_status_display().lower()}",
                )
            )
    enrolment = ParticipantEnrolment.objects.filter(membership=match.participant).first()
    if enrolment is not None and referral is None:
        steps.append(JourneyStep(day(enrolment.enrolled_at), "Enrolled"))
    labels = dict(MatchState.choices)
    # The ending is its own step below, with how it ended.
    events = MatchEvent.objects.filter(match=match).exclude(to_state=MatchState.ENDED)
    for event in events.order_by("at", "pk"):
        steps.append(JourneyStep(day(event.at), f"Match: {labels.get(event.to_state, '')}"))
    for signature in Signature.objects.filter(contract__match=match).order_by("signed_at"):
        steps.append(
            JourneyStep(
                day(signature.signed_at),
                f"Agreement signed by the {signature.get_party_display().lower()}",
            )
        )
    for meeting in (
        Meeting.objects.filter(match=match).select_related("venue").order_by("planned_start")
    ):
        if meeting.state == MeetingState.CHECKED_OUT:
            what = f"Meeting held ({meeting.venue.get_kind_display().lower()}), checked out safely"
        else:
            what = f"Meeting {meeting.get_state_display().lower()}"
        steps.append(JourneyStep(day(meeting.planned_start), what))
    if match.review_due:
        steps.append(JourneyStep(match.review_due, "Review due"))
    if match.ended_at:
        ending = match.get_ending_type_display() if match.ending_type else "type not recorded"
        steps.append(JourneyStep(day(match.ended_at), f"Match ended: {ending}"))
    return sorted(steps, key=lambda step: step.on)


JOURNEY_HEADER = ["Date", "Step"]


# --- The standards, mapped --------------------------------------------------------------------


@dataclass
class Requirement:
    number: str
    heading: str
    files: list[str]
    evidences: str
    by_hand: str


FIGURES = "01-scheme-figures.csv"
POLICIES = "02-policies-and-agreements-read.csv"
VETTING = "03-vetting-and-training-by-buddy.csv"
TRAINING = "04-training-modules.csv"
SUPERVISION = "05-supervision-log.csv"
REFERRALS = "06-referrals-by-month.csv"
MATCHING = "07-matching-reasons.csv"
REVIEWS = "08-reviews-and-endings.csv"
MEETINGS = "09-meetings-and-alerts-by-month.csv"
SAFETY = "10-safety-records.csv"
OUTCOMES = "11-outcome-figures.csv"
JOURNEY_CSV = "12-journey-referral-to-ending.csv"
JOURNEY_PDF = "12-journey-referral-to-ending.pdf"
INDEX = "00-index.pdf"

FILE_TITLES = {
    FIGURES: (
        "Scheme figures today",
        "Staff, on-call responders, buddies, participants, venues and rota cover.",
    ),
    POLICIES: (
        "Policies and agreements read",
        "Each buddy-pack document at its current version and each agreement version, with "
        "how many have read or signed it.",
    ),
    VETTING: (
        "Vetting and training by buddy",
        "One row per buddy (pseudonymous): stage, DBS level and dates, update service, "
        "mandatory training in date.",
    ),
    TRAINING: (
        "Training modules",
        "Each module, whether mandatory, how often it is refreshed, and how many completed it.",
    ),
    SUPERVISION: (
        "Supervision log",
        "Every supervision one-to-one and support contact: date, buddy id, how, state, "
        "whether notes were written and shared. No notes.",
    ),
    REFERRALS: (
        "Referrals by month",
        "Referrals received by source, needs assessed, enrolled, declined and signposted, and "
        "the median days to a decision, for the last 12 months.",
    ),
    MATCHING: (
        "Matching reasons",
        "Every match: when and how it was made, its score and the engine's reasons for the "
        "pair (shared needs and offers, availability, travel, language, preferences).",
    ),
    REVIEWS: (
        "Reviews and endings",
        "Every match that started: start date, review date, whether the review is overdue, "
        "end date and how it ended.",
    ),
    MEETINGS: (
        "Meetings and lone-working alerts by month",
        "Meetings held, hours of contact, cancellations, missed meetings, alerts raised and "
        "the median minutes to acknowledge, for the last 12 months.",
    ),
    SAFETY: (
        "Safety records",
        "Venue risk assessments with review dates, concerns raised and how they were closed.",
    ),
    OUTCOMES: (
        "Outcome figures",
        "Endings by type, planned endings, how long matches lasted and how often they met.",
    ),
    JOURNEY_CSV: (
        "One journey from referral to ending (table)",
        "A dated timeline of one anonymised participant's path: referral, assessment, "
        "matching, agreement, meetings, review and ending.",
    ),
    JOURNEY_PDF: ("One journey from referral to ending (printable)", "The same timeline as a PDF."),
}

APS_AREAS: list[tuple[str, list[Requirement]]] = [
    (
        "Management and operation",
        [
            Requirement(
                "1",
                "Clear aims",
                [FIGURES, OUTCOMES],
                "Who the scheme serves and how much it does, as figures an assessor can set "
                "against the aims.",
                "The written aims and objectives, the business plan and who agreed them.",
            ),
            Requirement(
                "2",
                "An appropriate level of resources",
                [FIGURES, MEETINGS],
                "Staff and on-call numbers against the number of buddies, participants and "
                "meetings each month.",
                "The budget, funding and its end dates, staff job descriptions and line "
                "management.",
            ),
            Requirement(
                "3",
                "Safety of staff, service users and mentors/befrienders",
                [SAFETY, MEETINGS, FIGURES, POLICIES],
                "Venue risk assessments in date, the on-call rota, lone-working alerts and how "
                "fast they were answered, concerns and how they closed, and that buddies read "
                "the lone-working and safeguarding guides.",
                "The safeguarding, lone-working, health and safety and insurance documents "
                "themselves, and the name of the safeguarding lead.",
            ),
        ],
    ),
    (
        "Service users",
        [
            Requirement(
                "4",
                "A clear process for identification and referral",
                [REFERRALS, JOURNEY_CSV, JOURNEY_PDF],
                "Where referrals come from, what happened to each, how long a decision took, "
                "and one referral followed to its end.",
                "The referral form and criteria, leaflets and how partners were told.",
            ),
            Requirement(
                "5",
                "Needs assessed to decide how the relationship can help",
                [REFERRALS, MATCHING, JOURNEY_CSV],
                "Referrals assessed before enrolment, and the needs and offers the matching "
                "engine paired.",
                "A blank and an anonymised completed assessment form.",
            ),
        ],
    ),
    (
        "Mentors and befrienders",
        [
            Requirement(
                "6",
                "Safe and effective recruitment and selection",
                [VETTING, FIGURES],
                "Every buddy's stage, DBS level, issue and renewal dates, and that none is "
                "matched without a DBS in date.",
                "The recruitment policy, role description, application and reference forms, "
                "and interview questions.",
            ),
            Requirement(
                "7",
                "Appropriate induction and training",
                [TRAINING, VETTING, POLICIES],
                "Each module and how many completed it, each buddy's mandatory training, and "
                "the buddy pack read.",
                "The training programme and materials, and trainers' names.",
            ),
            Requirement(
                "8",
                "Support for mentors and befrienders to develop their role",
                [SUPERVISION],
                "Supervision one-to-ones and support contacts for each buddy, with notes "
                "written and shared.",
                "The support and supervision policy, and volunteer feedback or interviews.",
            ),
        ],
    ),
    (
        "The mentoring and befriending relationship",
        [
            Requirement(
                "9",
                "A clear and consistent process for matching",
                [MATCHING, POLICIES, JOURNEY_CSV],
                "Why each pair was matched, in the same terms every time, and the agreements "
                "both sides signed.",
                "The matching policy and how a participant's choice is offered.",
            ),
            Requirement(
                "10",
                "Relationships monitored for progress and outcomes",
                [REVIEWS, MEETINGS, OUTCOMES, JOURNEY_PDF],
                "Review dates kept, meetings held each month, endings by type, and one "
                "relationship from start to finish.",
                "Wellbeing and goal outcomes from the evaluation questionnaires (the funder "
                "report), and case studies the people agreed to share.",
            ),
        ],
    ),
]

QIB_DOMAINS: list[Requirement] = [
    Requirement(
        "1",
        "The Service",
        [FIGURES, REFERRALS, MEETINGS],
        "Who the service reaches and what it delivers each month.",
        "The service description, aims, and who befriending is for.",
    ),
    Requirement(
        "2",
        "Policies and Procedures",
        [POLICIES, SAFETY],
        "Which policies buddies have read at their current version, and agreements signed.",
        "The policies themselves (confidentiality, safeguarding, lone working, data "
        "protection, complaints, expenses) with review dates.",
    ),
    Requirement(
        "3",
        "Staff Management",
        [FIGURES, SAFETY],
        "How many staff and on-call responders there are and how alerts and concerns were handled.",
        "Staff supervision, appraisal and training records: the app does not hold them.",
    ),
    Requirement(
        "4",
        "Monitoring and Evaluation",
        [MEETINGS, REVIEWS, OUTCOMES],
        "Contact each month, reviews, endings and outcome figures.",
        "The evaluation questionnaires' results (funder report) and the annual report.",
    ),
    Requirement(
        "5",
        "Befriendee Journey",
        [REFERRALS, JOURNEY_CSV, JOURNEY_PDF],
        "Referral, assessment and one complete journey from referral to ending.",
        "Interviews with befriendees on the day; their feedback forms.",
    ),
    Requirement(
        "6",
        "Befriender Journey",
        [VETTING, TRAINING, SUPERVISION, POLICIES],
        "Recruitment, vetting, training and ongoing support for every buddy.",
        "Interviews with volunteers on the day; volunteer recognition and exit records.",
    ),
    Requirement(
        "7",
        "Matching and Endings",
        [MATCHING, REVIEWS, OUTCOMES, JOURNEY_PDF],
        "Why pairs were matched, reviews, how each match ended, and one match from start to "
        "ending.",
        "The endings policy and examples of ending letters or next-steps plans.",
    ),
]


# --- Building the pack ------------------------------------------------------------------------


def _pdf(template: str, context: dict[str, Any]) -> bytes:
    from weasyprint import HTML  # noqa: PLC0415  (heavy: only when a PDF is made)

    html = render_to_string(
        template, {**context, "static": STATIC_PREFIX, "lang": document_language()}
    )
    return HTML(string=html, base_url=STATIC_PREFIX, url_fetcher=StaticOnlyFetcher()).write_pdf(
        pdf_variant=PDF_VARIANT
    )


def _csv_file(name: str, header: Sequence[str], rows: list[list[Any]]) -> PackFile:
    title, shows_what = FILE_TITLES[name]
    return PackFile(
        name=name,
        title=title,
        shows=shows_what,
        content=csv_text(header, rows).encode("utf-8"),
        rows=len(rows),
    )


def evidence_pack(scheme: Scheme, now: datetime | None = None) -> Pack:
    """Every file of the pack, built from the scheme's own records only."""
    now = now or timezone.now()
    zone = scheme.zone
    today = timezone.localdate(now, zone)
    pseudonyms = Pseudonyms.for_scheme(scheme)
    matches = list(
        Match.objects.filter(scheme=scheme)
        .select_related("buddy__user__profile", "participant__user__profile")
        .order_by("pk")
    )
    buddy_rows, module_rows = vetting_and_training(scheme, pseudonyms, today)
    files = [
        _csv_file(FIGURES, ["Figure", "Value", "Speaks to"], scheme_figures(scheme, today)),
        _csv_file(POLICIES, POLICIES_HEADER, policies_read(scheme, zone)),
        _csv_file(VETTING, VETTING_HEADER, buddy_rows),
        _csv_file(TRAINING, TRAINING_HEADER, module_rows),
        _csv_file(SUPERVISION, SUPERVISION_HEADER, supervision_log(scheme, pseudonyms, zone)),
        _csv_file(REFERRALS, REFERRALS_HEADER, referral_figures(scheme, zone, today)),
        _csv_file(MATCHING, MATCHING_HEADER, matching_reasons(matches, pseudonyms, zone)),
        _csv_file(REVIEWS, REVIEWS_HEADER, reviews_and_endings(matches, pseudonyms, today, zone)),
        _csv_file(MEETINGS, MEETINGS_HEADER, meeting_and_alert_figures(scheme, zone, today)),
        _csv_file(SAFETY, SAFETY_HEADER, safety_records(scheme, today)),
        _csv_file(OUTCOMES, OUTCOMES_HEADER, outcome_figures(matches, scheme)),
    ]
    match = journey_match(scheme)
    steps = journey_steps(match, zone) if match else []
    journey_rows: list[list[Any]] = [[step.on.isoformat(), step.what] for step in steps]
    files.append(_csv_file(JOURNEY_CSV, JOURNEY_HEADER, journey_rows))
    title, shows_what = FILE_TITLES[JOURNEY_PDF]
    files.append(
        PackFile(
            name=JOURNEY_PDF,
            title=title,
            shows=shows_what,
            content=_pdf(
                "evaluation/evidence/journey_pdf.html",
                {
                    "scheme": scheme,
                    "steps": steps,
                    "participant": pseudonyms.participants.get(match.participant_id, "")
                    if match
                    else "",
                    "match_id": pseudonyms.matches.get(match.pk, "") if match else "",
                    "today": today,
                },
            ),
        )
    )
    index = PackFile(
        name=INDEX,
        title="Index",
        shows="This file: what each file evidences, by requirement and domain, and the gaps.",
    )
    index.content = _pdf(
        "evaluation/evidence/index_pdf.html",
        {
            "scheme": scheme,
            "today": today,
            "files": files,
            "aps_areas": APS_AREAS,
            "qib_domains": QIB_DOMAINS,
            "journey_found": match is not None,
            "suppressed": SUPPRESSED,
        },
    )
    return Pack(scheme=scheme, built_at=now, files=[index, *files], journey_found=match is not None)


def zip_bytes(pack: Pack) -> bytes:
    out = io.BytesIO()
    stamp = timezone.localtime(pack.built_at, pack.scheme.zone).timetuple()[:6]
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for pack_file in pack.files:
            info = zipfile.ZipInfo(f"evidence-pack/{pack_file.name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, pack_file.content)
    return out.getvalue()


def evidence_pack_build(*, scheme: Scheme, by, now: datetime | None = None) -> tuple[str, bytes]:
    """The pack as a ZIP (file name, bytes), and an audit row saying who built it and when.

    Built in the request: the demo scheme takes 3-4 s on a busy 2-core machine, nearly all of
    it WeasyPrint, and a file the coordinator waits for is simpler than a task and a download
    page. Only the audit row is written, in a transaction of its own: SQLite's transactions
    take the write lock at the start, and holding it while PDFs render would stall the
    lone-working sweep."""
    now = now or timezone.now()
    pack = evidence_pack(scheme, now=now)
    content = zip_bytes(pack)
    with transaction.atomic():
        audit_record(actor=by, verb=AUDIT_VERB, obj=scheme, scheme=scheme)
    day = timezone.localdate(now, scheme.zone).isoformat()
    return f"evidence-pack-{day}.zip", content


def evidence_overview(scheme: Scheme) -> dict[str, Any]:
    """What the evidence page says before anything is built: the files, the standards and
    whether a journey from referral to ending exists yet."""
    return {
        "files": [(INDEX, "Index", "What each file evidences, and the gaps.")]
        + [(name, title, shows_what) for name, (title, shows_what) in FILE_TITLES.items()],
        "aps_areas": APS_AREAS,
        "qib_domains": QIB_DOMAINS,
        "journey_found": journey_match(scheme) is not None,
    }


@receiver(dashboard_sections)
def _evidence_on_the_dashboard(sender, scheme, now, **kwargs) -> list[DashboardSection]:
    """A link to the pack: no queries."""
    return [DashboardSection(template="evaluation/evidence/_dashboard.html", context={})]
