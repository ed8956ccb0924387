"""Where the buddy's phone was, only when it matters (DESIGN §3 and §5).

A position arrives only with a help request or a check-out from a phone whose buddy allowed
sharing; it is kept only for a help or duress alert, shown only to that alert's responders,
and deleted a set number of days after the alert is resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from ..models import Alert, AlertLocation, AlertReason, BuddySafety, LoneWorkingSettings

# A position is only kept for an alert the buddy raised themself, never for a timing alert.
REASONS_WITH_LOCATION = (AlertReason.HELP, AlertReason.DURESS)


@dataclass(frozen=True)
class Position:
    latitude: Decimal
    longitude: Decimal
    accuracy_metres: int | None = None


def position_from(data) -> Position | None:
    """The position a form posted (hidden fields the phone filled in), or None when it sent
    none or something that is not a place on Earth. Never an error: help must not wait on it."""
    try:
        latitude = Decimal(data.get("latitude", "")).quantize(Decimal("0.000001"))
        longitude = Decimal(data.get("longitude", "")).quantize(Decimal("0.000001"))
    except (InvalidOperation, TypeError, ValueError):
        return None
    if not (latitude.is_finite() and longitude.is_finite()):
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    try:
        accuracy = round(float(data.get("accuracy", "")))
    except (TypeError, ValueError, OverflowError):  # "", "nan" and "inf" among them
        accuracy = None
    if accuracy is not None and not 0 <= accuracy <= 1_000_000:
        accuracy = None
    return Position(latitude, longitude, accuracy)


def location_sharing_allowed(membership) -> bool:
    return BuddySafety.objects.filter(membership=membership, share_location=True).exists()


@transaction.atomic
def location_sharing_set(*, membership, allowed: bool, now=None) -> BuddySafety:
    """The buddy's own choice, on their safety page. Turning it off keeps what alerts hold
    until their retention ends: responders may still be using it."""
    now = now or timezone.now()
    safety, _ = BuddySafety.objects.select_for_update().get_or_create(membership=membership)
    if safety.share_location != allowed:
        safety.share_location = allowed
        safety.share_location_changed_at = now
        safety.save(update_fields=["share_location", "share_location_changed_at"])
    return safety


def alert_location_record(*, alert: Alert | None, position: Position | None, now=None):
    """Keep the phone's position with a help or duress alert, if its buddy allowed sharing.

    A later press adds a newer position (responders see the latest): someone may be moving them.
    """
    if alert is None or position is None or alert.reason not in REASONS_WITH_LOCATION:
        return None
    if not location_sharing_allowed(alert.meeting.buddy_id):
        return None
    return AlertLocation.objects.create(
        alert=alert,
        latitude=position.latitude,
        longitude=position.longitude,
        accuracy_metres=position.accuracy_metres,
        captured_at=now or timezone.now(),
    )


def locations_expire(*, now=None) -> int:
    """Delete the positions of alerts resolved longer ago than their scheme keeps them.

    Hourly from beat. Returns how many were deleted.
    """
    now = now or timezone.now()
    deleted = 0
    scheme_ids = list(
        AlertLocation.objects.filter(alert__resolved_at__isnull=False)
        .values_list("alert__meeting__scheme_id", flat=True)
        .distinct()
    )
    days_for = dict(
        LoneWorkingSettings.objects.filter(scheme_id__in=scheme_ids).values_list(
            "scheme_id", "location_retention_days"
        )
    )
    default_days = LoneWorkingSettings._meta.get_field("location_retention_days").get_default()
    for scheme_id in scheme_ids:
        days = days_for.get(scheme_id, default_days)
        count, _ = AlertLocation.objects.filter(
            alert__meeting__scheme_id=scheme_id,
            alert__resolved_at__lte=now - timedelta(days=days),
        ).delete()
        deleted += count
    return deleted
