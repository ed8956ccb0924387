"""Reads for the shared core."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import cast

import django.dispatch
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.text import slugify

from .models import (
    ConsentKind,
    ConsentRecord,
    EligibilityQuestion,
    Heartbeat,
    Invitation,
    Membership,
    Role,
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
