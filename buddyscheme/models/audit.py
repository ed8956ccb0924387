"""Who changed what, when, and from where: one append-only row per write a service makes.

Rows hold ids only (who, which object, which scheme), never names, emails or note text, so the
trail can be kept longer than the records it points at and never needs redacting itself.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from .people import Scheme


class AuditEventImmutable(RuntimeError):
    """An audit row was about to be changed or deleted. They are written once and kept."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditEventImmutable("Audit events are append-only: they cannot be updated.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AuditEventImmutable("Audit events are append-only: they cannot be updated.")

    def delete(self):
        raise AuditEventImmutable("Audit events are append-only: they cannot be deleted.")


class AuditEvent(models.Model):
    """One write by one person (or by the system, when `actor` is empty).

    Written through `buddyscheme.audit.audit_record` inside the service's own transaction, so
    a change and its audit row are committed together or not at all.

    The only change the table ever sees is Django's SET_NULL emptying `actor` or `scheme` when
    that user or scheme is deleted outright (erasure): the row survives without pointing at
    them. Deletion goes through the plain base manager, so the refusals below do not stop it.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    verb = models.CharField(
        max_length=50, help_text="What was done, named after the service: consent_withdraw."
    )
    object_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    scheme = models.ForeignKey(
        Scheme, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["scheme", "-at"], name="audit_scheme_recent"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self):
        return f"{self.verb} {self.object_type_id}:{self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditEventImmutable("Audit events are append-only: they cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditEventImmutable("Audit events are append-only: they cannot be deleted.")
