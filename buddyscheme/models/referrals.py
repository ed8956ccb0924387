"""Referrals: the way in for participants, from an agency or from the person themselves.

A referral arrives through the scheme's public form (no account). It creates (or finds) the
person as a participant at *referred*, and the coordinator's assessment turns it into an
enrolment or a declined referral with a reason and where we suggested instead.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from ..validators import validate_person_name
from .people import ContactMethod, Membership, Scheme
from .vetting import ReferralSource


class ReferralStatus(models.TextChoices):
    NEW = "new", "New"
    ASSESSING = "assessing", "Being assessed"
    ENROLLED = "enrolled", "Enrolled"
    DECLINED = "declined", "Declined"


OPEN_REFERRAL_STATUSES = (ReferralStatus.NEW, ReferralStatus.ASSESSING)


class ReferralUrgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    SOON = "soon", "Soon (within two weeks)"
    URGENT = "urgent", "Urgent (within a few days)"


class DeclineReason(models.TextChoices):
    NOT_ELIGIBLE = "not_eligible", "Not eligible"
    OUTSIDE_OFFER = "outside_offer", "Needs are outside what we offer"
    NO_CAPACITY = "no_capacity", "No capacity"
    NO_CONTACT = "no_contact", "Could not contact"
    PERSON_DECLINED = "person_declined", "Declined by the person"
    OTHER = "other", "Other"


class Referral(models.Model):
    """One referral as received, and what the coordinator decided.

    The person is a participant membership (new, or the same one when they are referred again:
    `is_repeat`). What the form said about them is kept here as received; their account is not
    changed by a public form.
    """

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="referrals")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="referrals")
    source = models.CharField(max_length=16, choices=ReferralSource.choices)
    is_repeat = models.BooleanField(
        default=False, help_text="This person had been referred before (or is already with us)."
    )
    # Who referred (empty for a self-referral).
    referrer_name = models.CharField(max_length=120, blank=True, validators=[validate_person_name])
    referrer_organisation = models.CharField(max_length=120, blank=True)
    referrer_role = models.CharField(max_length=80, blank=True)
    referrer_email = models.EmailField(blank=True)
    referrer_phone = models.CharField(max_length=30, blank=True)
    referrer_may_be_told = models.BooleanField(
        default=False,
        help_text="The referrer may be told that the referral was accepted or closed (no more).",
    )
    # The person, as the form gave them.
    person_name = models.CharField(max_length=120, validators=[validate_person_name])
    person_email = models.EmailField(blank=True)
    person_phone = models.CharField(max_length=30, blank=True)
    preferred_contact = models.CharField(
        max_length=10, choices=ContactMethod.choices, default=ContactMethod.PHONE
    )
    safe_to_leave_messages = models.BooleanField(default=False)
    consent_to_contact = models.BooleanField(
        help_text="The person agrees to be contacted (for an agency: to this referral)."
    )
    # Names of the scheme's menu items, as chosen (names, not keys: the menu may change).
    needs = models.JSONField(default=list, blank=True)
    other_help = models.CharField(max_length=300, blank=True)
    urgency = models.CharField(
        max_length=8, choices=ReferralUrgency.choices, default=ReferralUrgency.ROUTINE
    )
    received_at = models.DateTimeField(default=timezone.now)
    # The coordinator's assessment.
    status = models.CharField(
        max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.NEW
    )
    eligibility_answers = models.JSONField(default=dict, blank=True)
    risks = models.TextField(blank=True, help_text="Initials only.")
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assessed_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(max_length=16, choices=DeclineReason.choices, blank=True)
    signposting = models.TextField(
        blank=True, help_text="Where we suggested instead (free text until a directory exists)."
    )

    class Meta:
        ordering = ["received_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(consent_to_contact=True), name="referral_consent_required"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="declined") | ~models.Q(decline_reason=""),
                name="referral_decline_has_reason",
            ),
        ]
        indexes = [
            models.Index(
                fields=["scheme", "received_at"],
                condition=models.Q(status__in=["new", "assessing"]),
                name="referral_open",
            ),
        ]

    def __str__(self):
        return f"Referral {self.pk} ({self.get_status_display()})"

    @property
    def is_self_referral(self) -> bool:
        return self.source == ReferralSource.SELF

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REFERRAL_STATUSES

    def days_waiting(self, now=None) -> int:
        end = self.decided_at or now or timezone.now()
        return (end - self.received_at).days
