"""The buddy pack (documents a buddy must read), what each buddy has read, and expense claims."""

import os
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from buddyscheme.models import Membership, Scheme

from .uploads import private_storage


def _random_name(folder: str, instance, filename: str) -> str:
    # The name the sender gave may carry a person's name: only its (already checked) extension
    # is kept.
    extension = os.path.splitext(filename)[1].lower()
    return f"{folder}/{instance.scheme_id}/{uuid.uuid4().hex}{extension}"


def pack_file_name(instance, filename: str) -> str:
    return _random_name("pack", instance, filename)


def receipt_file_name(instance, filename: str) -> str:
    return _random_name("receipts", instance, filename)


class DocumentCategory(models.TextChoices):
    CONFIDENTIALITY = "confidentiality", "Confidentiality"
    LONE_WORKING = "lone_working", "Lone working"
    SAFEGUARDING = "safeguarding", "Safeguarding"
    COMPLAINTS = "complaints", "Complaints"
    EXPENSES = "expenses", "Expenses"
    OTHER = "other", "Other"


class PackDocument(models.Model):
    """One document of the scheme's buddy pack. A new version replaces the file and asks every
    buddy to read it again (reads are kept per version)."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="pack_documents")
    title = models.CharField(max_length=120)
    category = models.CharField(max_length=20, choices=DocumentCategory.choices)
    required = models.BooleanField(
        default=True, help_text="Every buddy must read it (the dashboard lists who has not)."
    )
    version = models.PositiveIntegerField(default=1)
    file = models.FileField(storage=private_storage, upload_to=pack_file_name, max_length=200)
    content_type = models.CharField(max_length=60, help_text="Found from the file's contents.")
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["category", "title", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(version__gte=1), name="pack_version_from_one"),
        ]

    def __str__(self):
        return self.title


class DocumentRead(models.Model):
    """A buddy read one version of a pack document."""

    document = models.ForeignKey(PackDocument, on_delete=models.CASCADE, related_name="reads")
    buddy = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="pack_reads")
    version = models.PositiveIntegerField()
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # A second tap (or a double submit) records nothing new.
            models.UniqueConstraint(
                fields=["document", "buddy", "version"], name="pack_read_once_per_version"
            ),
        ]


class ExpenseCategory(models.TextChoices):
    TRAVEL = "travel", "Travel"
    REFRESHMENTS = "refreshments", "Refreshments"
    ACTIVITY = "activity", "Activity"
    OTHER = "other", "Other"


class ClaimState(models.TextChoices):
    SUBMITTED = "submitted", "Waiting for a decision"
    APPROVED = "approved", "Approved"
    REFUSED = "refused", "Refused"
    PAID = "paid", "Paid"


class ExpenseClaim(models.Model):
    """Out-of-pocket money a buddy asks back. Submitted → approved (→ paid) or refused."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="expense_claims")
    buddy = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="expense_claims")
    spent_on = models.DateField()
    amount = models.DecimalField(max_digits=8, decimal_places=2)
    category = models.CharField(max_length=20, choices=ExpenseCategory.choices)
    description = models.CharField(max_length=200)
    meeting = models.ForeignKey(
        "meetings.Meeting",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="expense_claims",
    )
    receipt = models.FileField(
        storage=private_storage, upload_to=receipt_file_name, max_length=200, blank=True
    )
    receipt_content_type = models.CharField(max_length=60, blank=True)
    state = models.CharField(
        max_length=10, choices=ClaimState.choices, default=ClaimState.SUBMITTED
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    refusal_reason = models.CharField(max_length=300, blank=True)
    paid_on = models.DateField(null=True, blank=True)
    # From the form as it was shown: a second tap on "Send" (or a resend after a lost
    # connection) finds the claim the first one made.
    submit_key = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-spent_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["buddy", "submit_key"], name="claim_submitted_once"),
            models.CheckConstraint(
                condition=Q(amount__gt=Decimal("0")), name="claim_amount_positive"
            ),
            models.CheckConstraint(
                condition=~Q(state=ClaimState.REFUSED) | ~Q(refusal_reason=""),
                name="claim_refused_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(state=ClaimState.PAID, paid_on__isnull=False)
                | ~Q(state=ClaimState.PAID) & Q(paid_on__isnull=True),
                name="claim_paid_has_date",
            ),
        ]
        indexes = [models.Index(fields=["scheme", "state", "spent_on"], name="claim_scheme_state")]

    def __str__(self):
        return f"Claim {self.pk}"
