"""Reads for recruitment: the public front door, and what the coordinator sees of an
applicant (their application and references) on the person page and the settings hub."""

from __future__ import annotations

from dataclasses import dataclass

from django.dispatch import receiver
from django.http import Http404
from django.urls import reverse

from buddyscheme.discretion import masked
from buddyscheme.models import Role, Scheme
from buddyscheme.selectors import (
    PersonSection,
    SettingsSection,
    person_record_sections,
    settings_sections,
)

from .models import Application, FrontDoor, Reference
from .services import front_door_sensitive_problems


@dataclass
class ReferenceLine:
    reference: Reference
    status: str  # returned, awaiting, expired or not requested: Reference.status


# The meta description of a discreet page: it says nothing a passer-by could read into.
DISCREET_DESCRIPTION = "Volunteering and one-to-one support in your area."


def front_door_published(slug: str) -> FrontDoor:
    """The published front door at /s/<slug>/ with its scheme, in one query; 404 otherwise."""
    front_door = (
        FrontDoor.objects.select_related("scheme")
        .filter(scheme__slug=slug, is_published=True)
        .first()
    )
    if front_door is None:
        raise Http404
    return front_door


def scheme_taking_applications(slug: str) -> Scheme:
    """A scheme whose front door is published: only those take public applications."""
    return front_door_published(slug).scheme


def referral_url(scheme: Scheme) -> str:
    """The scheme's public referral form (buddyscheme/referral_views.py)."""
    return reverse("public_referral", kwargs={"slug": scheme.slug})


def public_page_words(front_door: FrontDoor) -> dict:
    """Title and description for the page's <title> and meta tags, checked as they are shown:
    the scheme's sensitive words may have changed since the page was saved."""
    title = front_door.public_title
    description = " ".join(front_door.offer.split())[:155]
    if front_door.is_discreet:
        words = front_door.scheme.sensitive_word_list
        title = masked(title, words)
        description = DISCREET_DESCRIPTION
    return {"title": title, "description": description}


@receiver(settings_sections)
def _front_door_on_the_settings_hub(sender, scheme, **kwargs) -> list[SettingsSection]:
    front_door = FrontDoor.objects.filter(scheme=scheme).first()
    attention = ""
    if front_door is None:
        summary = "Not written yet: people cannot apply to volunteer online."
    else:
        summary = (
            f"/s/{scheme.slug}/ · {'published' if front_door.is_published else 'not published'}"
        )
        if front_door.is_discreet and front_door_sensitive_problems(
            scheme=scheme, slug=scheme.slug, public_title=front_door.public_title
        ):
            attention = "The address or the title contains a sensitive word: change it."
    return [
        SettingsSection(
            position=15,
            title="Public page",
            url_name="recruitment:settings_front_door",
            summary=summary,
            attention=attention,
        )
    ]


@receiver(person_record_sections)
def _application_on_the_person_page(sender, member, now, **kwargs) -> list[PersonSection]:
    """A buddy's latest application and every reference named in their applications, in two
    queries however many."""
    if member.role != Role.BUDDY:
        return []
    applications = list(Application.objects.filter(membership=member))
    if not applications:
        return []
    references = list(
        Reference.objects.filter(membership=member)
        .select_related("decided_by__profile")
        .order_by("-application__submitted_at", "position")
    )
    lines = [ReferenceLine(reference, reference.status(now)) for reference in references]
    latest = applications[0]
    return [
        PersonSection(
            title="Application and references",
            template="recruitment/_person_application.html",
            order=5,
            context={
                "application": latest,
                "application_count": len(applications),
                "references": lines,
                "can_request": any(
                    line.reference.application_id == latest.pk
                    and line.status in ("not requested", "expired")
                    for line in lines
                ),
            },
        )
    ]
