"""Case notes: short dated notes a coordinator keeps on a person's record."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from .people import Membership

CASE_NOTE_LENGTH = 1000


class CaseNote(models.Model):
    """One note on one person's record, seen by the scheme's coordinators only. Notes use
    initials, not names (DESIGN §4): the service warns before saving a note that names them."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="case_notes")
    text = models.TextField(max_length=CASE_NOTE_LENGTH)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    names_confirmed = models.BooleanField(
        default=False,
        help_text="The writer was warned that the note names the person and kept it.",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["membership", "-created_at"], name="case_note_recent"),
        ]

    def __str__(self):
        return f"Case note {self.pk}"
