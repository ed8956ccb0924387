"""Looking after the buddies: concerns raised at any time, one-to-one supervision, the monthly
contact and the buddy's own reflective diary (seed 000 "Support", seed 003 one-to-ones)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .people import Membership, Scheme


class SupportSettings(models.Model):
    """How often each buddy is seen and spoken to. Coordinators change it in the admin."""

    scheme = models.OneToOneField(Scheme, on_delete=models.CASCADE, related_name="support_settings")
    supervision_every_months = models.PositiveSmallIntegerField(
        default=2,
        help_text="A one-to-one with each buddy at least this often (seed: every two months).",
    )
    contact_every_months = models.PositiveSmallIntegerField(
        default=1, help_text="A phone call, email or chat with each buddy at least this often."
    )

    class Meta:
        verbose_name_plural = "support settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(supervision_every_months__gte=1, supervision_every_months__lte=12),
                name="supervision_every_1_to_12_months",
            ),
            models.CheckConstraint(
                condition=Q(contact_every_months__gte=1, contact_every_months__lte=12),
                name="contact_every_1_to_12_months",
            ),
        ]

    def __str__(self):
        return f"Support settings for {self.scheme}"


# --- Concerns -------------------------------------------------------------------------------


class ConcernKind(models.TextChoices):
    SOMEONE = "someone", "Worried about someone"
    MYSELF = "myself", "Worried about myself"


class ConcernSource(models.TextChoices):
    TODAY = "today", "the Today page"
    DEBRIEF = "debrief", "a debrief"


class ConcernStatus(models.TextChoices):
    RAISED = "raised", "Waiting for someone to take it"
    TAKEN = "taken", "Being looked after"
    CLOSED = "closed", "Closed"


class ConcernOutcome(models.TextChoices):
    NO_FURTHER_ACTION = "no_further_action", "Talked through: no further action"
    SUPPORTED = "supported", "Supported within the scheme"
    REFERRED = "referred", "Referred to an outside agency"
    SAFEGUARDING_REPORT = "safeguarding_report", "Reported to the safeguarding team"
    EMERGENCY = "emergency", "Emergency services involved"
    OTHER = "other", "Other (see the notes)"


class Concern(models.Model):
    """A buddy is worried about someone they support (safeguarding) or about themselves
    (wellbeing). Someone on the team takes it, logs what was done, and closes it with an
    outcome. The text is written with initials only."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="concerns")
    raised_by = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="concerns_raised"
    )
    kind = models.CharField(max_length=8, choices=ConcernKind.choices)
    about = models.ForeignKey(
        Membership,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="concerns_about",
        help_text="The participant it is about, when the buddy chose one.",
    )
    text = models.TextField()
    one_to_one_wanted = models.BooleanField(default=False)
    source = models.CharField(max_length=8, choices=ConcernSource.choices)
    raised_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=8, choices=ConcernStatus.choices, default=ConcernStatus.RAISED
    )
    owner = models.ForeignKey(
        Membership,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="concerns_owned",
    )
    taken_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=ConcernOutcome.choices, blank=True)
    outcome_notes = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-raised_at", "-pk"]
        constraints = [
            # Taken means someone has it; closed means there is an outcome.
            models.CheckConstraint(
                condition=Q(status=ConcernStatus.RAISED)
                | Q(owner__isnull=False, taken_at__isnull=False),
                name="concern_taken_has_owner",
            ),
            models.CheckConstraint(
                condition=~Q(status=ConcernStatus.CLOSED)
                | (~Q(outcome="") & Q(closed_at__isnull=False)),
                name="concern_closed_has_outcome",
            ),
        ]
        indexes = [
            # The dashboard's first question: concerns nobody has taken yet.
            models.Index(
                fields=["scheme", "raised_at"],
                condition=Q(status="raised"),
                name="concern_waiting",
            ),
            models.Index(fields=["raised_by", "-raised_at"], name="concern_raised_by"),
        ]

    def __str__(self):
        return f"Concern {self.pk} ({self.get_status_display()})"


class ConcernActionKind(models.TextChoices):
    TAKEN = "taken", "Took it"
    NOTE = "note", "Note"
    REFERRAL = "referral", "Referral to an outside agency"
    ONE_TO_ONE = "one_to_one", "One-to-one booked"
    CLOSED = "closed", "Closed"


class ConcernAction(models.Model):
    """The log of what was done about a concern: append-only, oldest first."""

    concern = models.ForeignKey(Concern, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(max_length=12, choices=ConcernActionKind.choices)
    text = models.TextField(blank=True)
    agency = models.CharField(max_length=120, blank=True)
    agency_reference = models.CharField(max_length=60, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=ConcernActionKind.REFERRAL) | ~Q(agency=""),
                name="referral_names_the_agency",
            ),
        ]

    def __str__(self):
        return self.get_kind_display()


# --- Supervision and contact ----------------------------------------------------------------


class SupervisionMode(models.TextChoices):
    IN_PERSON = "in_person", "Face to face"
    PHONE = "phone", "Phone call"
    VIDEO = "video", "Video call"


class SupervisionState(models.TextChoices):
    BOOKED = "booked", "Booked"
    HELD = "held", "Held"
    CANCELLED = "cancelled", "Cancelled"


class Supervision(models.Model):
    """A one-to-one between a buddy and their support person (seed 003: "bi monthly … these
    meetings should be noted and a copy of the notes given to the Peer Supporter").

    A face-to-face one is also a meeting with lone-working check-in (meetings links to it)."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="supervisions")
    buddy = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="supervisions")
    support_person = models.ForeignKey(
        Membership,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supervisions_given",
        help_text="Who holds the one-to-one.",
    )
    concern = models.ForeignKey(
        Concern,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supervisions",
        help_text="The concern it was booked to talk about, if any.",
    )
    mode = models.CharField(max_length=10, choices=SupervisionMode.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    state = models.CharField(
        max_length=10, choices=SupervisionState.choices, default=SupervisionState.BOOKED
    )
    held_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    notes_written_at = models.DateTimeField(null=True, blank=True)
    notes_written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shared_at = models.DateTimeField(null=True, blank=True)
    buddy_comment = models.TextField(blank=True)
    buddy_commented_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="supervision_ends_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(state=SupervisionState.HELD) | Q(held_at__isnull=False),
                name="supervision_held_has_date",
            ),
            # Only the notes of a one-to-one that took place can be given to the buddy.
            models.CheckConstraint(
                condition=Q(shared_at__isnull=True) | Q(state=SupervisionState.HELD) & ~Q(notes=""),
                name="supervision_shares_held_notes",
            ),
        ]
        indexes = [
            models.Index(fields=["buddy", "state", "held_at"], name="supervision_buddy_held"),
            models.Index(fields=["scheme", "state", "starts_at"], name="supervision_scheme_state"),
        ]

    def __str__(self):
        return f"One-to-one {self.pk} ({self.get_state_display()})"


class ContactMode(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"
    IN_PERSON = "in_person", "In person"


class SupportContact(models.Model):
    """The regular contact with a buddy (seed 000: "regular monthly phone contact with named
    contact"), logged in a few taps."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="support_contacts")
    buddy = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="support_contacts")
    mode = models.CharField(max_length=10, choices=ContactMode.choices)
    notes = models.CharField(max_length=200, blank=True)
    contacted_at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-contacted_at", "-pk"]
        indexes = [models.Index(fields=["buddy", "-contacted_at"], name="contact_buddy_recent")]

    def __str__(self):
        return f"{self.get_mode_display()} on {self.contacted_at:%d %b %Y}"


# --- The reflective diary -------------------------------------------------------------------


class DiaryEntry(models.Model):
    """A buddy's reflective diary entry: private to them unless they share it with their
    support person. Coordinators never see an entry that was not shared with them; there is
    no admin page for these."""

    buddy = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="diary_entries")
    text = models.TextField()
    written_at = models.DateTimeField(default=timezone.now)
    shared_with = models.ForeignKey(
        Membership,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="diary_entries_shared",
    )
    shared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "diary entries"
        ordering = ["-written_at", "-pk"]
        constraints = [
            # Shared with someone says when; an entry whose reader has gone is nobody's but
            # the buddy's again.
            models.CheckConstraint(
                condition=Q(shared_with__isnull=True) | Q(shared_at__isnull=False),
                name="diary_shared_says_when",
            ),
        ]
        indexes = [
            models.Index(fields=["buddy", "-written_at"], name="diary_buddy_recent"),
            models.Index(
                fields=["shared_with", "-written_at"],
                condition=Q(shared_with__isnull=False),
                name="diary_shared",
            ),
        ]

    def __str__(self):
        return f"Diary entry {self.pk}"
