"""Reads for the shared core."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import cast

import django.dispatch
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from .models import (
    BuddyStage,
    EligibilityQuestion,
    Heartbeat,
    Invitation,
    Membership,
    Role,
    TrainingCompletion,
    TrainingModule,
)


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


def invitations_for_scheme(scheme):
    return Invitation.objects.filter(scheme=scheme).select_related(
        "invited_by", "invited_by__profile"
    )


def members_for_scheme(scheme, role=None):
    qs = Membership.objects.filter(scheme=scheme, is_active=True).select_related(
        "user", "user__profile"
    )
    if role:
        qs = qs.filter(role=role)
    return qs.order_by("role", "user__email")


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
# Positions: 10 scheme details, 20 office hours, 30 on-call rota, 40 venues, 50 safety timings,
# 60 training, 70 eligibility, 80 menu.
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
