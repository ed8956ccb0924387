"""A scheme's public front door, buddy applications, and references asked for by link."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from buddyscheme.models import Membership, Scheme


class FrontDoor(models.Model):
    """The scheme's public page (/s/<slug>/), written by its coordinators."""

    scheme = models.OneToOneField(Scheme, on_delete=models.CASCADE, related_name="front_door")
    is_published = models.BooleanField(
        default=False, help_text="Unpublished, the public address shows 'page not found'."
    )
    is_discreet = models.BooleanField(
        default=True,
        help_text="The page's title, address and description never contain the scheme's "
        "sensitive words (someone may see the page over a shoulder or in a browser history).",
    )
    public_title = models.CharField(
        max_length=120, help_text="The page's heading and title, e.g. 'North Buddies'."
    )
    offer = models.TextField("What the scheme offers", max_length=3000)
    who_for = models.TextField("Who it is for", max_length=2000)
    how_to_volunteer = models.TextField(
        "How to volunteer",
        max_length=2000,
        blank=True,
        help_text="Shown above the link to the application form.",
    )
    how_to_be_referred = models.TextField(
        "How to be referred",
        max_length=2000,
        blank=True,
        help_text="Shown above the link to the referral form.",
    )
    complaints_contact = models.TextField(
        "Complaints contact",
        max_length=1000,
        help_text="Who to contact with a complaint, and how (a name or role, email, phone).",
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Front door of {self.scheme_id}"


class HeardFrom(models.TextChoices):
    """How an applicant heard of the scheme (the same values as the vetting record's source)."""

    WORD_OF_MOUTH = "word_of_mouth", "Word of mouth"
    SOCIAL_MEDIA = "social_media", "Social media"
    WEBSITE = "website", "Website"
    EVENT = "event", "Event or stall"
    PARTNER = "partner", "Partner organisation"
    OTHER = "other", "Other"


class Application(models.Model):
    """What someone sent with the public buddy application form. A person who applies again
    keeps one account and membership; each application is its own row (`is_repeat`)."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="applications")
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="applications"
    )
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    email = models.EmailField()
    phone = models.CharField(max_length=30)
    motivation = models.TextField(max_length=3000)
    experience = models.TextField(max_length=3000, blank=True)
    skills_languages = models.TextField(max_length=2000, blank=True)
    availability = models.TextField(max_length=1000)
    heard_from = models.CharField(max_length=16, choices=HeardFrom.choices, blank=True)
    consent_to_checks = models.BooleanField()
    is_repeat = models.BooleanField(default=False)
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        indexes = [
            models.Index(fields=["membership", "-submitted_at"], name="application_member_recent")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(consent_to_checks=True), name="application_consents_to_checks"
            )
        ]

    def __str__(self):
        return f"Application {self.pk} ({self.scheme_id})"


def new_nonce() -> str:
    return secrets.token_urlsafe(12)


class ReferenceDecision(models.TextChoices):
    SATISFACTORY = "satisfactory", "Satisfactory"
    NOT_SATISFACTORY = "not_satisfactory", "Not satisfactory"


class Suitability(models.TextChoices):
    YES = "yes", "Yes"
    NOT_SURE = "not_sure", "Not sure"
    NO = "no", "No"


class Reference(models.Model):
    """One referee named in an application, the link they were sent and what they answered.

    The link is signed (django.core.signing) over the row's id and `nonce`; asking again gives
    a new nonce, so an older link stops working. Expiry and single use are kept here, in the
    database: the link itself carries no date.
    """

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="references"
    )
    # The applicant's membership, copied from the application: the person page reads by it.
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="references")
    position = models.PositiveSmallIntegerField()
    referee_name = models.CharField(max_length=120)
    referee_email = models.EmailField()
    relationship = models.CharField(max_length=120)
    known_for = models.CharField("How long known", max_length=60)
    nonce = models.CharField(max_length=32, default=new_nonce)
    requested_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    # The referee's answers.
    how_known = models.TextField(max_length=2000, blank=True)
    suitable = models.CharField(max_length=10, choices=Suitability.choices, blank=True)
    suitability_comments = models.TextField(max_length=3000, blank=True)
    reliability = models.TextField(max_length=2000, blank=True)
    concerns = models.TextField(max_length=3000, blank=True)
    consent_to_share = models.BooleanField(default=False)
    # The coordinator's decision.
    decision = models.CharField(max_length=20, choices=ReferenceDecision.choices, blank=True)
    decision_note = models.TextField(max_length=2000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["application_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "position"], name="reference_one_per_position"
            ),
            models.CheckConstraint(
                condition=models.Q(decision="") | models.Q(returned_at__isnull=False),
                name="reference_decided_once_returned",
            ),
        ]
        indexes = [
            # The reminder sweep: requested, not returned, not yet reminded.
            models.Index(
                fields=["requested_at"],
                name="reference_awaiting_reminder",
                condition=models.Q(
                    requested_at__isnull=False, returned_at__isnull=True, reminded_at__isnull=True
                ),
            )
        ]

    def __str__(self):
        return f"Reference {self.position} of application {self.application_id}"

    def status(self, now=None) -> str:
        if self.returned_at:
            return "returned"
        if not self.requested_at:
            return "not requested"
        if self.expires_at and self.expires_at <= (now or timezone.now()):
            return "expired"
        return "awaiting"
