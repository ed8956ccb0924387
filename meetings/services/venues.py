"""Venues and their risk assessments, as coordinators set them up.

A venue whose assessment is past its review date stays saved (the coordinator may be recording
what is already the case) but cannot be booked until someone reviews it: `booking_problems`
refuses it. Venues are retired (not deleted): meetings point at them.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.db.models import Count, Q
from django.dispatch import receiver
from django.utils import timezone

from buddyscheme.audit import audit_record
from buddyscheme.errors import DomainError
from buddyscheme.models import Membership, Role, Scheme
from buddyscheme.selectors import SettingsSection, settings_sections

from ..models import Meeting, MeetingState, Venue, VenueKind

VENUE_FIELDS = (
    "name",
    "kind",
    "area",
    "address",
    "room",
    "key_holder",
    "risk_rating",
    "risk_notes",
    "risk_review_due",
    "is_active",
)


def _apply(venue: Venue, fields: dict) -> None:
    if set(fields) - set(VENUE_FIELDS):
        raise DomainError("Those details cannot be changed here.")
    for field, value in fields.items():
        setattr(venue, field, value)
    key_holder = venue.key_holder
    if key_holder is not None:
        if venue.kind != VenueKind.IN_HOUSE:
            raise DomainError("Only a room in our building has a key holder.")
        # Staff of this scheme only: the key holder is named to buddies and responders.
        if not Membership.objects.filter(
            user=key_holder, scheme_id=venue.scheme_id, role=Role.COORDINATOR, is_active=True
        ).exists():
            raise DomainError("The key holder must be one of this scheme's coordinators.")
    venue.full_clean()


def venue_create(*, scheme: Scheme, by, **fields) -> Venue:
    venue = Venue(scheme=scheme)
    _apply(venue, fields)
    with transaction.atomic():
        venue.save()
        audit_record(actor=by, verb="venue_create", obj=venue, scheme=scheme)
    return venue


def venue_update(*, venue: Venue, by, **fields) -> Venue:
    """Meetings already booked keep their venue; a retired one cannot be chosen for new ones."""
    with transaction.atomic():
        locked = Venue.objects.select_for_update().get(pk=venue.pk)
        _apply(locked, fields)
        locked.save(update_fields=list(fields))
        audit_record(actor=by, verb="venue_update", obj=locked, scheme=locked.scheme_id)
    return locked


def venue_review_overdue(venue: Venue, today: date | None = None) -> bool:
    """Its risk assessment's review date has passed (in the scheme's zone): it cannot be booked."""
    today = today or timezone.localdate(timezone=venue.scheme.zone)
    return venue.risk_review_due < today


def venue_meetings_still_booked(venue: Venue, now=None) -> int:
    """Meetings not yet started that are booked there (to warn when it is retired)."""
    return Meeting.objects.filter(
        venue=venue, state=MeetingState.PLANNED, planned_start__gt=now or timezone.now()
    ).count()


def venues_for_scheme(scheme: Scheme):
    """In use first, then retired; each with its key holder (one query)."""
    return (
        Venue.objects.filter(scheme=scheme)
        .select_related("key_holder__profile")
        .order_by("-is_active", "name")
    )


@receiver(settings_sections)
def _venues_on_the_settings_hub(sender, scheme, **kwargs) -> list[SettingsSection]:
    today = timezone.localdate(timezone=scheme.zone)
    counts = Venue.objects.filter(scheme=scheme, is_active=True).aggregate(
        in_use=Count("pk"), overdue=Count("pk", filter=Q(risk_review_due__lt=today))
    )
    in_use, overdue = counts["in_use"], counts["overdue"]
    if overdue == 1:
        attention = "1 risk assessment is past its review date: that venue cannot be booked."
    elif overdue:
        attention = (
            f"{overdue} risk assessments are past their review date: those venues cannot be booked."
        )
    else:
        attention = "" if in_use else "No venues yet: no meeting can be booked."
    return [
        SettingsSection(
            position=40,
            title="Venues",
            url_name="meetings:settings_venues",
            summary=f"{in_use} venue{'' if in_use == 1 else 's'} in use, each with its risk "
            "assessment",
            attention=attention,
        )
    ]
