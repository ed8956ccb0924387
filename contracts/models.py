"""Versioned contract templates, frozen contracts with a SHA-256 hash, and signatures."""

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from buddyscheme.models import Membership, Scheme


class ContractKind(models.TextChoices):
    MATCH = "match", "Buddy and participant agreement"
    VOLUNTEER = "volunteer", "Buddy volunteer agreement"
    GROUP = "group", "Group confidentiality agreement and ground rules"


class ContractTemplate(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="contract_templates")
    kind = models.CharField(max_length=10, choices=ContractKind.choices)
    title = models.CharField(max_length=120)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scheme", "kind"], name="one_template_per_kind")
        ]

    def __str__(self):
        return self.title

    @property
    def current(self):
        return self.versions.order_by("-number").first()


class TemplateVersion(models.Model):
    """The text as it stood. Editing a template makes a new version; old ones stay readable."""

    template = models.ForeignKey(
        ContractTemplate, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    clauses = models.JSONField(help_text='[{"heading": "...", "text": "..."}], numbered in order')
    easy_read = models.TextField(blank=True, help_text="One idea per line.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    requires_reconsent = models.BooleanField(default=False)

    class Meta:
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="template_version_once")
        ]

    def __str__(self):
        return f"{self.template} v{self.number}"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ContractState(models.TextChoices):
    AWAITING = "awaiting", "Waiting for signatures"
    SIGNED = "signed", "Signed by everyone"
    SUPERSEDED = "superseded", "Replaced by a newer version"


class Party(models.TextChoices):
    PARTICIPANT = "participant", "Participant"
    BUDDY = "buddy", "Buddy"
    COORDINATOR = "coordinator", "Coordinator"


class Contract(models.Model):
    """A filled-in template, frozen: its text and hash never change after it is made."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="contracts")
    kind = models.CharField(max_length=10, choices=ContractKind.choices)
    match = models.ForeignKey(
        "matching.Match", null=True, blank=True, on_delete=models.PROTECT, related_name="contracts"
    )
    volunteer = models.ForeignKey(
        Membership,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="volunteer_agreements",
    )
    # A group agreement (kind "group"): the one person joining; the group keeps which one.
    attendee = models.ForeignKey(
        Membership,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="group_agreements",
    )
    version = models.ForeignKey(TemplateVersion, on_delete=models.PROTECT, related_name="contracts")
    title = models.CharField(max_length=120)
    text = models.TextField()
    sha256 = models.CharField(max_length=64)
    state = models.CharField(
        max_length=10, choices=ContractState.choices, default=ContractState.AWAITING
    )
    is_reconsent = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["scheme", "state"], name="contract_scheme_state")]

    def __str__(self):
        return f"{self.title} ({self.get_state_display()})"

    def save(self, *args, **kwargs):
        # Service-level freeze (the database has a trigger too): text and hash are written once.
        if self.pk:
            stored = type(self).objects.filter(pk=self.pk).values_list("text", "sha256").first()
            if stored and stored != (self.text, self.sha256):
                raise ValidationError("A contract's text cannot change once it is made.")
        elif not self.sha256:
            self.sha256 = text_hash(self.text)
        super().save(*args, **kwargs)

    @property
    def hash_matches(self) -> bool:
        return text_hash(self.text) == self.sha256

    @property
    def parties(self) -> list[str]:
        if self.kind == ContractKind.VOLUNTEER:
            return [Party.BUDDY, Party.COORDINATOR]
        if self.kind == ContractKind.GROUP:
            # Joining a group is lighter than a match: the person alone agrees to its rules.
            return [Party.PARTICIPANT]
        return [Party.PARTICIPANT, Party.BUDDY, Party.COORDINATOR]


class SigningMode(models.TextChoices):
    ONLINE = "online", "Online"
    IN_PERSON = "in_person", "In person on the coordinator's device"


class Signature(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="signatures")
    party = models.CharField(max_length=12, choices=Party.choices)
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="signatures")
    typed_name = models.CharField(max_length=120)
    signed_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    mode = models.CharField(max_length=10, choices=SigningMode.choices, default=SigningMode.ONLINE)
    attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Nullable rather than blank: SQLite adds a nullable column in place, where a NOT NULL
    # one would make it rebuild the table and lose the trigger that freezes signatures.
    name_exception = models.CharField(
        max_length=200,
        null=True,
        blank=True,
        help_text="Why the witness accepted a typed name that differs from the signer's "
        "recorded name.",
    )

    class Meta:
        ordering = ["signed_at"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "party"], name="one_signature_per_party")
        ]


class ContractSettings(models.Model):
    scheme = models.OneToOneField(
        Scheme, on_delete=models.CASCADE, related_name="contract_settings"
    )
    match_needs_signed_contract = models.BooleanField(default=True)
    buddy_needs_volunteer_agreement = models.BooleanField(
        default=False,
        help_text="A buddy must have signed the volunteer agreement before a match starts.",
    )
    discreet_pdf = models.BooleanField(
        default=True, help_text="PDFs say 'Agreement' and carry no logo."
    )
    remind_after_days = models.PositiveSmallIntegerField(default=3)

    class Meta:
        verbose_name_plural = "contract settings"
