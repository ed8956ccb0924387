"""Requests to erase a person, and retention reviews a coordinator confirms before anything goes.

Neither holds a name: a request points at the (anonymised) account by id, and says what was
removed in counts per kind of record, so the record of an erasure survives the erasure.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from .people import Scheme


class ErasureSource(models.TextChoices):
    CONSENT_WITHDRAWN = "consent_withdrawn", "Withdrew consent to keep their details"
    COORDINATOR = "coordinator", "Asked a coordinator"


class ErasureStatus(models.TextChoices):
    OPEN = "open", "Waiting for review"
    ERASED = "erased", "Erased"
    KEPT = "kept", "Kept under a legal hold"


class ErasureRequest(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="erasure_requests")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=20, choices=ErasureSource.choices)
    status = models.CharField(
        max_length=8, choices=ErasureStatus.choices, default=ErasureStatus.OPEN
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Which kinds of record were kept (personal_data.HOLD_LABELS keys) and why.
    held = models.JSONField(default=list, blank=True)
    legal_hold_reason = models.TextField(blank=True)
    # Kind of record -> rows removed or emptied: the record of what erasure did, no names.
    removed_counts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "person"],
                condition=models.Q(status="open"),
                name="one_open_erasure_request_per_person",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="kept") | ~models.Q(legal_hold_reason=""),
                name="erasure_kept_has_reason",
            ),
        ]

    def __str__(self):
        return f"Erasure request {self.pk} ({self.get_status_display()})"


class RetentionStatus(models.TextChoices):
    PROPOSED = "proposed", "Waiting for a coordinator"
    DONE = "done", "Anonymised"
    SUPERSEDED = "superseded", "Replaced by a newer report"


class RetentionReview(models.Model):
    """A dry run of retention for one scheme: which closed matches are past the retention
    period. Nothing changes until a coordinator confirms it."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="retention_reviews")
    prepared_at = models.DateTimeField(default=timezone.now)
    match_ids = models.JSONField(default=list)
    # Kind of record -> rows that would be (then were) anonymised.
    counts = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=RetentionStatus.choices, default=RetentionStatus.PROPOSED
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-prepared_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme"],
                condition=models.Q(status="proposed"),
                name="one_proposed_retention_review_per_scheme",
            ),
        ]

    def __str__(self):
        return f"Retention review {self.pk} ({self.get_status_display()})"
