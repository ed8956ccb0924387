"""Selection interviews: an applicant is asked the scheme's questions, the interviewer notes
the answers, and an outcome is recorded (the applicant is told the reason, kindly)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .people import Membership, Scheme

# Offered to a scheme with no questions of its own yet (seed 000: "What attracts you to the
# idea of being a buddy?").
DEFAULT_INTERVIEW_QUESTIONS = [
    "What attracts you to the idea of being a buddy?",
    "What experience do you have of supporting someone, paid or unpaid?",
    "How would you keep to the boundaries of the role, for example if asked for money?",
    "What would you do if you were worried about the person you support?",
    "How much time can you give, and for how long?",
    "Is there anything you would like to ask us?",
]


class InterviewQuestion(models.Model):
    """One of the scheme's standard interview questions, asked in order."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="interview_questions")
    text = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["scheme", "order", "pk"]

    def __str__(self):
        return self.text


class InterviewMode(models.TextChoices):
    IN_PERSON = "in_person", "Face to face"
    PHONE = "phone", "Phone call"
    VIDEO = "video", "Video call"


class InterviewOutcome(models.TextChoices):
    PROCEED = "proceed", "Proceed"
    NOT_NOW = "not_now", "Not now"
    NOT_SUITABLE = "not_suitable", "Not suitable"


class Interview(models.Model):
    """An applicant's interview. Face to face, it is also a meeting with lone-working check-in
    (meetings links to it), as a one-to-one is."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="interviews")
    applicant = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="interviews")
    interviewer = models.ForeignKey(
        Membership,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interviews_given",
    )
    mode = models.CharField(max_length=10, choices=InterviewMode.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    outcome = models.CharField(max_length=12, choices=InterviewOutcome.choices, blank=True)
    # What the applicant is told, in the email that gives the outcome.
    outcome_reason = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="interview_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(outcome="") | Q(decided_at__isnull=False),
                name="interview_outcome_has_date",
            ),
            # Declining someone always says why: they are told.
            models.CheckConstraint(
                condition=Q(outcome__in=["", InterviewOutcome.PROCEED]) | ~Q(outcome_reason=""),
                name="interview_decline_has_reason",
            ),
            # One open interview per applicant: a second click on "Book" books nothing more.
            models.UniqueConstraint(
                fields=["applicant"],
                condition=Q(outcome="", cancelled_at__isnull=True),
                name="interview_one_open_per_applicant",
            ),
        ]

    def __str__(self):
        return f"Interview {self.pk}"

    @property
    def is_open(self) -> bool:
        return not self.outcome and self.cancelled_at is None


class InterviewAnswer(models.Model):
    """The interviewer's notes on one question, the question's words kept as they were asked."""

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="answers")
    question = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["interview", "order", "pk"]

    def __str__(self):
        return self.question
