"""Users (by email), schemes, memberships and roles, profiles and invitations."""

import secrets
import zoneinfo
from datetime import time

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify

from ..sms import validate_gsm7
from ..validators import validate_person_name


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
    first_name = models.CharField(
        "first name", max_length=150, blank=True, validators=[validate_person_name]
    )
    last_name = models.CharField(
        "last name", max_length=150, blank=True, validators=[validate_person_name]
    )

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


SENDER_NAME_LENGTH = 15
DEFAULT_SENSITIVE_WORDS = "HIV, AIDS, diagnosis, diagnosed, medication, sexuality, sexual health"


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value} is not a known time zone, for example Europe/London.")


class Scheme(models.Model):
    """One organisation's buddying or peer-support programme."""

    name = models.CharField(max_length=120, unique=True)
    # The scheme's short public address (/s/<slug>/): its front door, application and referral
    # forms. Chosen by the coordinator; neutral by default (never the condition).
    slug = models.SlugField(
        max_length=40,
        unique=True,
        blank=True,
        help_text="Short address of the scheme's public pages, e.g. 'north-buddies'. Letters, "
        "numbers and hyphens; avoid words that say what people live with.",
    )
    # Short and plain because it begins every text message, which must fit one SMS (160
    # characters of the GSM-7 set) with the buddy's name, the place, a phone and a link.
    sender_name = models.CharField(
        max_length=SENDER_NAME_LENGTH,
        validators=[validate_gsm7],
        help_text=f"Neutral name shown on emails and texts, e.g. 'Appointments' (at most "
        f"{SENDER_NAME_LENGTH} plain characters). Never the condition or the charity's full "
        "name unless the scheme opts in.",
    )
    time_zone = models.CharField(
        max_length=64, default="Europe/London", validators=[validate_time_zone]
    )
    emergency_phone = models.CharField(
        max_length=30,
        blank=True,
        help_text="A number buddies can ring when an alert could not be sent (the office or "
        "the on-call phone). Shown after they ask for help.",
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
    sensitive_words = models.CharField(
        max_length=300,
        default=DEFAULT_SENSITIVE_WORDS,
        blank=True,
        help_text="Words that say what someone lives with, separated by commas. On "
        "participants' pages they never appear in titles or headings, and only after a tap, "
        "in small type (someone may be looking at the phone).",
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

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = self.free_slug(self.name, exclude_pk=self.pk)
        super().save(*args, **kwargs)

    @classmethod
    def free_slug(cls, name: str, exclude_pk=None) -> str:
        """A slug from the name not used by another scheme: 'north', then 'north-2'…"""
        base = slugify(name)[:34].strip("-") or "scheme"
        taken = set(
            cls.objects.filter(slug__startswith=base)
            .exclude(pk=exclude_pk)
            .values_list("slug", flat=True)
        )
        candidate, number = base, 2
        while candidate in taken:
            candidate, number = f"{base}-{number}", number + 1
        return candidate

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
    def sensitive_word_list(self) -> list[str]:
        return [word.strip() for word in self.sensitive_words.split(",") if word.strip()]

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
        max_length=60,
        blank=True,
        help_text="What should we call you?",
        validators=[validate_person_name],
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
    emergency_contact_name = models.CharField(
        max_length=80, blank=True, validators=[validate_person_name]
    )
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
