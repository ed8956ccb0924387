"""Reads for the shared core."""

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import cast

import django.dispatch
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.text import slugify

from .models import (
    BuddyStage,
    ConsentKind,
    ConsentRecord,
    EligibilityQuestion,
    Heartbeat,
    Invitation,
    Membership,
    Role,
    TrainingCompletion,
    TrainingModule,
)
from .vetting import cleared_buddies


def scheme_counts(scheme) -> dict[str, int]:
    """Head counts for the coordinator dashboard, in one query."""
    counts = Membership.objects.filter(scheme=scheme, is_active=True).aggregate(
        coordinators=Count("pk", filter=Q(role=Role.COORDINATOR)),
        buddies=Count("pk", filter=Q(role=Role.BUDDY)),
        participants=Count("pk", filter=Q(role=Role.PARTICIPANT)),
        on_call=Count("pk", filter=Q(is_on_call=True)),
        facilitators=Count("pk", filter=Q(is_facilitator=True)),
    )
    counts["open_invitations"] = Invitation.objects.open().filter(scheme=scheme).count()
    return counts


# Apps above the core add figures to the coordinator dashboard without the core importing
# them: each receiver gets `scheme` and returns a list of (label, number), in one query.
dashboard_figures = django.dispatch.Signal()


def scheme_figures(scheme) -> list[tuple[str, int]]:
    """The other apps' figures for the dashboard, in the order the apps are installed."""
    figures: list[tuple[str, int]] = []
    for _, answer in dashboard_figures.send(sender=None, scheme=scheme):
        figures += cast(list[tuple[str, int]], answer)
    return figures


@dataclass
class HomeCard:
    """Something for a buddy or participant to do, shown on their home page: a template from
    the app that asks (rendered with `card` set to `context`)."""

    template: str
    context: dict = field(default_factory=dict)


# The participant's Home is made of sections from the apps above the core (their buddy, their
# next meeting, what to sign), as the dashboard is of figures: each receiver gets `membership`
# and returns a list of HomeSection, in a constant number of queries however much there is.
participant_home_cards = django.dispatch.Signal()


@dataclass
class HomeSection:
    order: int  # smaller first
    template: str
    context: dict = field(default_factory=dict)


# Apps above the core put cards on a buddy's Today and a participant's Home without the core
# importing them: each receiver gets `membership` and `now` and returns a list of HomeCard, in
# a constant number of queries however many cards there are.
home_cards = django.dispatch.Signal()


def member_home_cards(membership, now=None) -> list[HomeCard]:
    """Every app's cards for this person, in the order the apps are installed."""
    cards: list[HomeCard] = []
    for _, answer in home_cards.send(sender=None, membership=membership, now=now or timezone.now()):
        cards += cast(list[HomeCard], answer)
    return cards


def participant_home(membership) -> list[HomeSection]:
    sections = [HomeSection(85, "buddyscheme/home/links.html")]
    for _, answer in participant_home_cards.send(sender=None, membership=membership):
        sections += cast(list[HomeSection], answer)
    return sorted(sections, key=lambda section: section.order)


# Apps above the core say whom a buddy supports, without the core importing them: each receiver
# gets `buddy` and returns a list of participant memberships (the people of their current
# matches first). Concerns offer them as "who is it about", and notes are checked for their names.
people_supported = django.dispatch.Signal()


def participants_of(buddy: Membership) -> list[Membership]:
    """The participants a buddy supports or has supported, each once, current ones first."""
    people: list[Membership] = []
    for _, answer in people_supported.send(sender=None, buddy=buddy):
        people += [person for person in cast(list[Membership], answer) if person not in people]
    return people


def names_of(people) -> list[str]:
    """The first and last names (and preferred names) notes must not spell out."""
    names: list[str] = []
    for person in people:
        user = person.user
        profile = getattr(user, "profile", None)
        for name in (
            user.first_name,
            user.last_name,
            getattr(profile, "preferred_name", ""),
        ):
            names += [part for part in (name or "").split() if part not in names]
    return names


@dataclass
class PersonSection:
    """A part of the person page that an app above the core fills in: its template is
    included with `context`, in `order` (lower first)."""

    title: str
    template: str
    order: int
    context: dict = field(default_factory=dict)

    @property
    def anchor(self) -> str:
        """The id of the section's heading, for the page's "on this page" links."""
        return f"person-{slugify(self.title)}"


# Apps above the core add their part of a person's record (matches, meetings, agreements)
# without the core importing them: each receiver gets `member` and `now` and returns a list of
# PersonSection, in a constant number of queries however long the person's history.
person_record_sections = django.dispatch.Signal()


def person_sections(member: Membership, now=None) -> list[PersonSection]:
    now = now or timezone.now()
    sections: list[PersonSection] = []
    for _, answer in person_record_sections.send(sender=None, member=member, now=now):
        sections += cast(list[PersonSection], answer)
    return sorted(sections, key=lambda section: section.order)


@dataclass
class ConsentLine:
    kind: str
    label: str
    live: ConsentRecord | None
    withdrawn: ConsentRecord | None  # the latest withdrawn one, when none is live


def person_consents(member: Membership) -> list[ConsentLine]:
    """Each kind of consent and where it stands for this person, from the consent records
    (the one source the enrolment and the consents page share), in one query."""
    records = list(member.consents.order_by("-given_at", "-pk"))
    lines = []
    for kind, label in ConsentKind.choices:
        of_kind = [record for record in records if record.kind == kind]
        live = next((record for record in of_kind if record.withdrawn_at is None), None)
        withdrawn = None if live else next(iter(of_kind), None)
        lines.append(ConsentLine(kind, label, live, withdrawn))
    return lines


CASE_NOTES_SHOWN = 20


def case_notes_for(member: Membership):
    """The newest notes on the person's record, with their authors."""
    return member.case_notes.select_related("author__profile")[:CASE_NOTES_SHOWN]


@dataclass(frozen=True)
class DashboardSection:
    """A part of the coordinator dashboard another app adds: its template and what it needs.
    `urgent` sections come first; `figures` sections (counts and charts) sit beside the
    to-do lists rather than among them."""

    template: str
    context: dict
    urgent: bool = False
    figures: bool = False


# Apps above the core add whole sections (lists with links) the same way: each receiver gets
# `scheme` and `now` and returns a list of DashboardSection, each in a constant number of queries.
dashboard_sections = django.dispatch.Signal()


def scheme_sections(scheme, now=None) -> list[DashboardSection]:
    now = now or timezone.now()
    sections: list[DashboardSection] = []
    for _, answer in dashboard_sections.send(sender=None, scheme=scheme, now=now):
        sections += cast(list[DashboardSection], answer)
    return sorted(sections, key=lambda section: not section.urgent)


def invitations_for_scheme(scheme):
    return Invitation.objects.filter(scheme=scheme).select_related(
        "invited_by", "invited_by__profile"
    )


# --- The people list --------------------------------------------------------------------------


class ParticipantStage(models.TextChoices):
    NOT_ENROLLED = "not_enrolled", "Not enrolled"
    ELIGIBLE = "eligible", "Enrolled, eligible"
    NOT_ELIGIBLE = "not_eligible", "Enrolled, not eligible"


class PersonStatus(models.TextChoices):
    """Where someone stands in matching. Buddies and participants only."""

    MATCHED = "matched", "Matched"
    ARRANGING = "arranging", "Match being arranged"
    WAITING = "waiting", "Waiting or free"
    NOT_READY = "not_ready", "Not ready to match"


# Apps above the core say who is matched without the core importing them: each receiver gets
# `scheme` and returns {membership id: "matched" or "arranging"} for people with an open
# match, in one query.
people_match_statuses = django.dispatch.Signal()


@dataclass
class PersonRow:
    member: Membership
    stage: str  # a BuddyStage or ParticipantStage label; empty for coordinators
    status: str  # a PersonStatus value; empty for coordinators
    waiting_days: int | None = None

    @property
    def status_label(self) -> str:
        if not self.status:
            return ""
        if self.status == PersonStatus.WAITING:
            if self.member.role == Role.BUDDY:
                return "Free to match"
            return f"Waiting {self.waiting_days} day{'' if self.waiting_days == 1 else 's'}"
        if self.status == PersonStatus.NOT_READY:
            return "Not cleared yet" if self.member.role == Role.BUDDY else "Not ready to match"
        return PersonStatus(self.status).label


def natural_key(text: str) -> tuple:
    """Sorts "participant2" before "participant10": runs of digits compare as numbers."""
    parts = re.split(r"(\d+)", text.casefold())
    return tuple(int(part) if index % 2 else part for index, part in enumerate(parts))


def _stage_filter(stage: str) -> Q:
    if stage in ParticipantStage.values:
        participant = Q(role=Role.PARTICIPANT)
        if stage == ParticipantStage.NOT_ENROLLED:
            return participant & Q(enrolment__isnull=True)
        return participant & Q(enrolment__eligible=stage == ParticipantStage.ELIGIBLE)
    buddy = Q(role=Role.BUDDY, vetting__stage=stage)
    if stage == BuddyStage.APPLIED:  # a buddy with no vetting row yet is at the first stage
        buddy |= Q(role=Role.BUDDY, vetting__isnull=True)
    return buddy


def _search_filter(search: str) -> Q:
    """Every word of the search matches some part of the name or the email."""
    condition = Q()
    for word in search.split():
        condition &= (
            Q(user__first_name__icontains=word)
            | Q(user__last_name__icontains=word)
            | Q(user__profile__preferred_name__icontains=word)
            | Q(user__email__icontains=word)
        )
    return condition


def people_list(
    scheme,
    *,
    search: str = "",
    role: str = "",
    stage: str = "",
    status: str = "",
    min_days: int | None = None,
    today: date | None = None,
) -> list[PersonRow]:
    """The scheme's active people with their stage and matching status, filtered, in natural
    order of name, in three queries however many people there are.

    Status and waiting time are worked out in Python for the rows the database filters
    leave, as is the order (no database collation sorts "2" before "10" on both SQLite and
    PostgreSQL); a scheme has hundreds of people, not millions.
    """
    today = today or timezone.localdate()
    members = Membership.objects.filter(scheme=scheme, is_active=True).select_related(
        "user__profile", "vetting", "enrolment"
    )
    if search:
        members = members.filter(_search_filter(search))
    if role:
        members = members.filter(role=role)
    if stage:
        members = members.filter(_stage_filter(stage))
    cleared = set(cleared_buddies(scheme, today).values_list("pk", flat=True))
    in_matching: dict[int, str] = {}
    for _, answer in people_match_statuses.send(sender=None, scheme=scheme):
        in_matching.update(cast(dict[int, str], answer))
    rows = [_person_row(member, in_matching, cleared, today) for member in members]
    if status:
        rows = [row for row in rows if row.status == status]
    if min_days is not None:
        rows = [
            row for row in rows if row.waiting_days is not None and row.waiting_days >= min_days
        ]
    return sorted(
        rows,
        key=lambda row: (
            natural_key(row.member.user.display_name),
            natural_key(row.member.user.email),
        ),
    )


def _person_row(
    member: Membership, in_matching: dict[int, str], cleared: set[int], today
) -> PersonRow:
    if member.role == Role.BUDDY:
        vetting = getattr(member, "vetting", None)
        stage = str(BuddyStage(vetting.stage if vetting else BuddyStage.APPLIED).label)
        ready = member.pk in cleared
    elif member.role == Role.PARTICIPANT:
        enrolment = getattr(member, "enrolment", None)
        if enrolment is None:
            stage = str(ParticipantStage.NOT_ENROLLED.label)
        else:
            stage = str(
                (
                    ParticipantStage.ELIGIBLE
                    if enrolment.eligible
                    else ParticipantStage.NOT_ELIGIBLE
                ).label
            )
        ready = enrolment is not None and enrolment.eligible
    else:
        return PersonRow(member, stage="", status="")
    status = in_matching.get(member.pk) or (
        PersonStatus.WAITING if ready else PersonStatus.NOT_READY
    )
    waiting_days = None
    if status == PersonStatus.WAITING and member.role == Role.PARTICIPANT:
        waiting_days = (today - member.enrolment.waiting_since).days
    return PersonRow(member, stage=stage, status=status, waiting_days=waiting_days)


def eligibility_questions(scheme):
    return EligibilityQuestion.objects.filter(scheme=scheme)


def heartbeat_age(name: str, now=None) -> timedelta | None:
    beat_at = Heartbeat.objects.filter(name=name).values_list("beat_at", flat=True).first()
    if beat_at is None:
        return None
    return (now or timezone.now()) - beat_at


# --- The settings pages -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SettingsSection:
    """One entry on the settings hub: where it is, what is set now, and what needs doing."""

    position: int  # where it goes on the hub: lower first
    title: str
    url_name: str
    summary: str
    attention: str = ""


# Apps above the core add their own settings pages to the hub without the core importing them:
# each receiver gets `scheme` and returns a list of SettingsSection, in a query or two.
# Positions: 10 scheme details, 15 public page, 20 office hours, 30 on-call rota, 40 venues,
# 50 safety timings, 55 pattern flags, 60 training, 62 interview questions, 65 training
# sessions, 70 eligibility, 80 menu, 90 messages.
settings_sections = django.dispatch.Signal()


WEEKDAY_SHORT = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def office_days_label(days: list[int]) -> str:
    """[0, 1, 2, 3, 4] as "Mon–Fri"; [0, 2, 5] as "Mon, Wed, Sat"."""
    days = sorted(set(days))
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        return f"{WEEKDAY_SHORT[days[0]]}–{WEEKDAY_SHORT[days[-1]]}"
    return ", ".join(WEEKDAY_SHORT[day] for day in days)


def settings_sections_for(scheme) -> list[SettingsSection]:
    """Every section of the settings hub, the core's and the other apps', in hub order."""
    training = TrainingModule.objects.filter(scheme=scheme).aggregate(
        modules=Count("pk"), required=Count("pk", filter=Q(mandatory=True))
    )
    questions = EligibilityQuestion.objects.filter(scheme=scheme).count()
    sections: list[SettingsSection] = [
        SettingsSection(
            position=10,
            title="Scheme details",
            url_name="settings_scheme",
            summary=f"Emails and texts are signed “{scheme.sender_name}” · times in {scheme.time_zone}",
            attention=""
            if scheme.emergency_phone
            else "No emergency phone number: a buddy whose alert cannot be sent has no number "
            "to ring.",
        ),
        SettingsSection(
            position=20,
            title="Office hours",
            url_name="settings_office_hours",
            summary=f"{office_days_label(scheme.working_day_numbers)}, "
            f"{scheme.working_hours_start:%H:%M}–{scheme.working_hours_end:%H:%M}. Meetings "
            "outside these hours need someone on call.",
        ),
        SettingsSection(
            position=60,
            title="Training modules",
            url_name="settings_training",
            summary=f"{training['modules']} module{'' if training['modules'] == 1 else 's'}, "
            f"{training['required']} that everyone must complete",
            attention="" if training["modules"] else "No training modules yet.",
        ),
        SettingsSection(
            position=70,
            title="Eligibility questions",
            url_name="settings_eligibility",
            summary=f"{questions} question{'' if questions == 1 else 's'} asked when someone enrols",
            attention=""
            if questions
            else "No questions yet: everyone who enrols counts as eligible.",
        ),
    ]
    for _, answer in settings_sections.send(sender=None, scheme=scheme):
        sections += cast(list[SettingsSection], answer)
    return sorted(sections, key=lambda section: section.position)


def training_modules_for(scheme):
    """The scheme's modules, each with how many people have completed it (one query)."""
    return TrainingModule.objects.filter(scheme=scheme).annotate(
        people_done=Count("completions__membership", distinct=True)
    )


def approved_buddies_missing(module: TrainingModule, today=None) -> int:
    """Approved, active buddies with no completion of `module` in date: while it is required,
    none of them can be matched or booked."""
    today = today or timezone.localdate()
    done = TrainingCompletion.objects.filter(membership=OuterRef("pk"), module=module).filter(
        Q(expires_on__isnull=True) | Q(expires_on__gte=today)
    )
    return (
        Membership.objects.filter(
            scheme=module.scheme_id,
            role=Role.BUDDY,
            is_active=True,
            vetting__stage=BuddyStage.APPROVED,
        )
        .exclude(Exists(done))
        .count()
    )
