"""Reads for the shared core."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import cast

import django.dispatch
from django.db.models import Count, Q
from django.utils import timezone

from .models import EligibilityQuestion, Heartbeat, Invitation, Membership, Role


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
