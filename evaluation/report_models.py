"""The funder report's own row: a scheme's period and the words it wants funders to read.

Kept apart from the questionnaire models (evaluation/models.py imports it, so Django sees it).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from buddyscheme.models import Scheme


class FunderReport(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="funder_reports")
    starts_on = models.DateField()
    ends_on = models.DateField()
    text = models.TextField(
        blank=True,
        max_length=6000,
        help_text="The scheme's own words at the top of the report: what the period was like.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-ends_on", "-starts_on"]
        constraints = [
            # A double submit (or two coordinators) makes one report per period, not two.
            models.UniqueConstraint(
                fields=["scheme", "starts_on", "ends_on"], name="one_funder_report_per_period"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="funder_report_ends_after_start"
            ),
        ]

    def __str__(self):
        return f"Funder report {self.starts_on} to {self.ends_on}"
