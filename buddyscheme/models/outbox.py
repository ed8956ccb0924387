"""The notification outbox and the heartbeats of periodic jobs."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from .people import Scheme


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    # What it was about went away before it could go (an invitation withdrawn meanwhile).
    SKIPPED = "skipped", "Not needed any more"


class Notification(models.Model):
    """One message to one person on one channel. Written in the same transaction as the event
    that causes it; a worker claims it with a lease, sends it, and marks it sent. A worker that
    dies mid-send leaves the lease to expire, and the row is claimed again.

    It goes to a user, or by email to an address that has no account yet (an invitation).
    """

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    to_email = models.EmailField(blank=True, help_text="Only for someone who has no account yet.")
    template = models.CharField(max_length=60)
    context = models.JSONField(default=dict, blank=True, help_text="Ids and neutral values only.")
    dedupe_key = models.CharField(max_length=120, unique=True)
    status = models.CharField(
        max_length=8, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="notification_pending",
            ),
        ]
        constraints = [
            # Exactly one address: a user (on any channel), or an email address by email.
            models.CheckConstraint(
                condition=models.Q(recipient__isnull=False, to_email="")
                | (models.Q(recipient__isnull=True, channel="email") & ~models.Q(to_email="")),
                name="notification_one_address",
            ),
        ]

    def __str__(self):
        return f"{self.template} via {self.channel} ({self.status})"

    @property
    def email_address(self) -> str:
        """Where an email goes: the user's address as it is now, or the bare address."""
        return self.recipient.email if self.recipient_id else self.to_email


class Heartbeat(models.Model):
    """Last time a periodic job ran. /healthz reports its age so a dead safety net is an alarm."""

    name = models.CharField(max_length=40, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self):
        return self.name
