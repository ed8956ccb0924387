"""The shared core: people, schemes, memberships and roles, invitations, heartbeats."""

import secrets
import zoneinfo
from datetime import time

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person who logs in. Identified by email; there are no usernames."""

    username = None
    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        profile = getattr(self, "profile", None)
        if profile and profile.preferred_name:
            return profile.preferred_name
        return self.first_name or self.email.split("@")[0]

    @property
    def initials(self) -> str:
        name = self.get_full_name() or self.display_name
        return "".join(part[0].upper() for part in name.split() if part)[:3] or "?"


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value} is not a known time zone, for example Europe/London.")


class Scheme(models.Model):
    """One organisation's buddying or peer-support programme."""

    name = models.CharField(max_length=120, unique=True)
    sender_name = models.CharField(
        max_length=60,
        help_text="Neutral name shown on emails and texts, e.g. 'Appointments'. "
        "Never the condition or the charity's full name unless the scheme opts in.",
    )
    time_zone = models.CharField(
        max_length=64, default="Europe/London", validators=[validate_time_zone]
    )
    working_hours_start = models.TimeField(default=time(9, 0))
    working_hours_end = models.TimeField(default=time(17, 0))
    working_days = models.CharField(
        max_length=13,
        default="0,1,2,3,4",
        help_text="Weekdays with office cover, 0 = Monday … 6 = Sunday, comma separated.",
    )
    retention_months = models.PositiveSmallIntegerField(
        default=72, help_text="Months after a match closes before its records are anonymised."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(working_hours_start__lt=models.F("working_hours_end")),
                name="scheme_working_hours_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(retention_months__gte=1), name="scheme_retention_positive"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        start, end = self.working_hours_start, self.working_hours_end
        if start and end and start >= end:
            errors["working_hours_end"] = "Working hours must end after they start."
        try:
            days = self.working_day_numbers
        except ValueError:
            days = None
        if not days or any(day not in range(7) for day in days):
            errors["working_days"] = "Give weekday numbers 0–6 separated by commas, e.g. 0,1,2,3,4."
        if errors:
            raise ValidationError(errors)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def working_day_numbers(self) -> list[int]:
        return [int(day) for day in self.working_days.split(",") if day.strip()]

    def is_within_working_hours(self, moment) -> bool:
        local = timezone.localtime(moment, self.zone)
        return (
            local.weekday() in self.working_day_numbers
            and self.working_hours_start <= local.time() < self.working_hours_end
        )


class Role(models.TextChoices):
    COORDINATOR = "coordinator", "Coordinator"
    BUDDY = "buddy", "Buddy"
    PARTICIPANT = "participant", "Participant"


class Membership(models.Model):
    """A person's role in one scheme. One row per (user, scheme, role)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    is_facilitator = models.BooleanField(default=False, help_text="Can run drop-in groups.")
    is_on_call = models.BooleanField(
        default=False, help_text="Receives out-of-hours lone-working escalations."
    )
    is_active = models.BooleanField(default=True)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["scheme__name", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "scheme", "role"], name="membership_unique_role"
            ),
        ]
        indexes = [
            models.Index(fields=["scheme", "role", "is_active"], name="membership_scheme_role")
        ]

    def __str__(self):
        return f"{self.get_role_display()} in {self.scheme}"


class ContactMethod(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"
    PHONE = "phone", "Phone call"


class Profile(models.Model):
    """Basic details everyone has; role-specific details live with the role's app."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    preferred_name = models.CharField(
        max_length=60, blank=True, help_text="What should we call you?"
    )
    pronouns = models.CharField(
        max_length=30, blank=True, help_text="For example she/her, he/him, they/them."
    )
    phone = models.CharField(max_length=30, blank=True)
    preferred_contact = models.CharField(
        max_length=10, choices=ContactMethod.choices, default=ContactMethod.EMAIL
    )
    contact_notes = models.CharField(
        max_length=200,
        blank=True,
        help_text="When we may contact you, e.g. 'weekdays after 4pm, no voicemail'.",
    )
    emergency_contact_name = models.CharField(max_length=80, blank=True)
    emergency_contact_phone = models.CharField(max_length=30, blank=True)
    emergency_contact_relationship = models.CharField(max_length=40, blank=True)

    def __str__(self):
        return f"Profile of {self.user_id}"


def new_invitation_token() -> str:
    return secrets.token_urlsafe(32)


class InvitationQuerySet(models.QuerySet):
    def open(self, now=None):
        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now or timezone.now()
        )


class Invitation(models.Model):
    """A single-use, expiring link that lets someone join a scheme in a role."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices)
    is_facilitator = models.BooleanField(default=False)
    is_on_call = models.BooleanField(default=False)
    token = models.CharField(
        max_length=64, unique=True, default=new_invitation_token, editable=False
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["scheme", "-created_at"], name="invitation_scheme_recent")]

    def __str__(self):
        return f"Invitation to {self.scheme} as {self.get_role_display()}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "open"


class Heartbeat(models.Model):
    """Last time a periodic job ran. /healthz reports its age so a dead safety net is an alarm."""

    name = models.CharField(max_length=40, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self):
        return self.name


# --- People and vetting -------------------------------------------------------------------


class BuddyStage(models.TextChoices):
    APPLIED = "applied", "Applied"
    REFERENCES = "references", "References"
    DBS_CHECK = "dbs_check", "DBS/CRB check"
    TRAINING = "training", "Induction and training"
    APPROVED = "approved", "Approved"
    PAUSED = "paused", "Paused"
    LEFT = "left", "Left"


# The application pipeline, in order. Paused and left can be reached from any stage.
BUDDY_PIPELINE = [
    BuddyStage.APPLIED,
    BuddyStage.REFERENCES,
    BuddyStage.DBS_CHECK,
    BuddyStage.TRAINING,
    BuddyStage.APPROVED,
]


class BuddyVetting(models.Model):
    """Where a buddy is in the application pipeline. One per buddy membership."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="vetting")
    stage = models.CharField(max_length=16, choices=BuddyStage.choices, default=BuddyStage.APPLIED)
    stage_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "buddy vetting"
        indexes = [models.Index(fields=["stage"], name="vetting_stage")]

    def __str__(self):
        return f"{self.get_stage_display()} ({self.membership_id})"


class VettingStep(models.Model):
    """Append-only record of each step: who moved the buddy on, when, and on what evidence."""

    vetting = models.ForeignKey(BuddyVetting, on_delete=models.CASCADE, related_name="steps")
    from_stage = models.CharField(max_length=16, choices=BuddyStage.choices, blank=True)
    to_stage = models.CharField(max_length=16, choices=BuddyStage.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    evidence = models.TextField(
        help_text="What was checked, e.g. 'two references received and satisfactory'."
    )

    class Meta:
        ordering = ["recorded_at", "pk"]

    def __str__(self):
        return f"{self.from_stage or '—'} → {self.to_stage}"


class DBSLevel(models.TextChoices):
    BASIC = "basic", "Basic"
    STANDARD = "standard", "Standard"
    ENHANCED = "enhanced", "Enhanced"
    ENHANCED_BARRED = "enhanced_barred", "Enhanced with barred list"


class DBSCheck(models.Model):
    """A DBS (formerly CRB) certificate. The latest one decides whether a buddy is cleared."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="dbs_checks")
    level = models.CharField(max_length=16, choices=DBSLevel.choices)
    certificate_number = models.CharField(max_length=20)
    issue_date = models.DateField()
    renewal_due = models.DateField()
    update_service = models.BooleanField(
        default=False, help_text="Subscribed to the DBS Update Service."
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "DBS check"
        ordering = ["-issue_date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(renewal_due__gt=models.F("issue_date")),
                name="dbs_renewal_after_issue",
            ),
        ]
        indexes = [
            models.Index(fields=["membership", "-renewal_due"], name="dbs_membership_renewal")
        ]

    def __str__(self):
        return f"{self.get_level_display()} DBS, renew by {self.renewal_due:%d %b %Y}"

    def clean(self):
        errors = {}
        if self.issue_date and self.renewal_due and self.renewal_due <= self.issue_date:
            errors["renewal_due"] = "The renewal date must be after the issue date."
        if self.certificate_number and not self.certificate_number.strip().isalnum():
            errors["certificate_number"] = "Use only the letters and digits on the certificate."
        if errors:
            raise ValidationError(errors)


class TrainingModule(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="training_modules")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    mandatory = models.BooleanField(default=True)
    valid_for_months = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Leave empty if it never needs refreshing."
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["scheme", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "name"], name="training_module_unique_name")
        ]

    def __str__(self):
        return self.name


class TrainingCompletion(models.Model):
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="training_completions"
    )
    module = models.ForeignKey(TrainingModule, on_delete=models.CASCADE, related_name="completions")
    completed_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-completed_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "module", "completed_on"], name="training_completion_once"
            ),
        ]

    def __str__(self):
        return f"{self.module} on {self.completed_on:%d %b %Y}"


class ReferralSource(models.TextChoices):
    SELF = "self", "Self-referral"
    CLINIC = "clinic", "Clinic or GP"
    SOCIAL_CARE = "social_care", "Social worker or care team"
    VOLUNTARY = "voluntary", "Another charity or community group"
    OTHER = "other", "Other"


class EligibilityQuestion(models.Model):
    """A yes/no question asked at enrolment; the expected answer makes someone eligible."""

    scheme = models.ForeignKey(
        Scheme, on_delete=models.CASCADE, related_name="eligibility_questions"
    )
    text = models.CharField(max_length=200)
    eligible_answer = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["scheme", "order", "pk"]

    def __str__(self):
        return self.text


class ParticipantEnrolment(models.Model):
    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="enrolment"
    )
    referral_source = models.CharField(
        max_length=16, choices=ReferralSource.choices, default=ReferralSource.SELF
    )
    referral_detail = models.CharField(
        max_length=120, blank=True, help_text="Which service referred them."
    )
    eligibility_answers = models.JSONField(default=dict, blank=True)
    eligible = models.BooleanField(default=False)
    consent_to_hold_data = models.BooleanField(default=False)
    consent_given_at = models.DateTimeField(null=True, blank=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    enrolled_at = models.DateTimeField(default=timezone.now)
    waiting_since = models.DateField(default=timezone.localdate)
    buddies_needed = models.PositiveSmallIntegerField(default=1, help_text="Usually 1.")
    # Special-category data: recorded only with its own consent, seen by coordinators only.
    sensitive_notes = models.TextField(
        blank=True, help_text="Health, HIV status, sexuality: only with consent; coordinators only."
    )
    sensitive_flagged_for_deletion_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Enrolment {self.membership_id}"


# --- Notifications (the outbox) ---------------------------------------------------------------


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    """One message to one person on one channel. Written in the same transaction as the event
    that causes it; a worker claims it with a lease, sends it, and marks it sent. A worker that
    dies mid-send leaves the lease to expire, and the row is claimed again."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
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

    def __str__(self):
        return f"{self.template} via {self.channel} ({self.status})"


# --- Consent ------------------------------------------------------------------------------------


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
