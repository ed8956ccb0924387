"""Granular, withdrawable consent: one row per answer to one question."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from .people import Membership


class ConsentKind(models.TextChoices):
    HOLD_DATA = "hold_data", "Holding my personal information"
    SPECIAL_CATEGORY = (
        "special_category",
        "Holding sensitive information (health, HIV status, sexuality)",
    )
    SHARE_PARTNERS = "share_partners", "Sharing information with named partner agencies"
    PHOTOS = "photos", "Photographs and case studies"
    SMS = "sms", "Contact by text message"


class ConsentMethod(models.TextChoices):
    ONLINE = "online", "Online"
    PAPER = "paper", "On paper"
    VERBAL = "verbal", "Verbally"


# The wording each consent was asked with; bump a version when the wording changes.
CONSENT_WORDING_VERSION = "2026-11"


class ConsentRecord(models.Model):
    """One answer to one consent question. Append-only: a withdrawal closes the record."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    wording_version = models.CharField(max_length=20, default=CONSENT_WORDING_VERSION)
    detail = models.CharField(max_length=200, blank=True, help_text="E.g. which partner agencies.")
    given_at = models.DateTimeField(default=timezone.now)
    given_how = models.CharField(
        max_length=8, choices=ConsentMethod.choices, default=ConsentMethod.ONLINE
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "-given_at"]
        constraints = [
            # At most one live consent of each kind per person.
            models.UniqueConstraint(
                fields=["membership", "kind"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="one_live_consent_per_kind",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({'withdrawn' if self.withdrawn_at else 'given'})"
