"""Buddies' application pipeline, DBS/CRB checks, training, and participants' enrolment."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from .people import Membership, Scheme


class BuddyStage(models.TextChoices):
    APPLIED = "applied", "Applied"
    REFERENCES = "references", "References"
    DBS_CHECK = "dbs_check", "DBS/CRB check"
    TRAINING = "training", "Induction and training"
    APPROVED = "approved", "Approved"
    PAUSED = "paused", "Paused"
    LEFT = "left", "Left"


# The application pipeline, in order. Paused and left can be reached from any stage.
BUDDY_PIPELINE: list[str] = [
    BuddyStage.APPLIED,
    BuddyStage.REFERENCES,
    BuddyStage.DBS_CHECK,
    BuddyStage.TRAINING,
    BuddyStage.APPROVED,
]


class RecruitmentSource(models.TextChoices):
    WORD_OF_MOUTH = "word_of_mouth", "Word of mouth"
    SOCIAL_MEDIA = "social_media", "Social media"
    WEBSITE = "website", "Website"
    EVENT = "event", "Event or stall"
    PARTNER = "partner", "Partner organisation"
    OTHER = "other", "Other"


class BuddyVetting(models.Model):
    """A buddy's own record: where they are in the application pipeline, and who supports
    them. One per buddy membership."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="vetting")
    stage = models.CharField(max_length=16, choices=BuddyStage.choices, default=BuddyStage.APPLIED)
    stage_changed_at = models.DateTimeField(default=timezone.now)
    support_person = models.ForeignKey(
        Membership,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="buddies_supported",
        help_text="A coordinator of this scheme the buddy checks in with: alerted first when "
        "a meeting runs over (level 2), and named in agreements. None: every coordinator.",
    )
    # How they heard of the scheme, for the recruitment report (blank: not known).
    recruitment_source = models.CharField(
        max_length=16, choices=RecruitmentSource.choices, blank=True
    )

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


class EnrolmentStatus(models.TextChoices):
    # Referred: a referral came in and the coordinator has not decided yet (see Referral).
    REFERRED = "referred", "Referred"
    ENROLLED = "enrolled", "Enrolled"
    DECLINED = "declined", "Referral declined"


class ParticipantEnrolment(models.Model):
    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="enrolment"
    )
    status = models.CharField(
        max_length=10, choices=EnrolmentStatus.choices, default=EnrolmentStatus.ENROLLED
    )
    referral_source = models.CharField(
        max_length=16, choices=ReferralSource.choices, default=ReferralSource.SELF
    )
    referral_detail = models.CharField(
        max_length=120, blank=True, help_text="Which service referred them."
    )
    eligibility_answers = models.JSONField(default=dict, blank=True)
    eligible = models.BooleanField(default=False)
    # Their consent to us holding their information is a ConsentRecord (kind hold_data), the
    # one record the consents page shows and withdraws, never a copy here.
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
