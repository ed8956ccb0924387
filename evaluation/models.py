"""Questionnaires (issue 19): a scheme's own and the shipped defaults (ONS4 personal wellbeing,
exit feedback, the buddy's questionnaire), in versions; who was asked, when and why
(an Invitation per person, match and occasion); and what they answered, kept with the version
they answered."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from buddyscheme.models import Membership, Scheme
from matching.models import Match


def new_nonce() -> str:
    return secrets.token_urlsafe(12)


class Purpose(models.TextChoices):
    WELLBEING = "wellbeing", "Wellbeing"
    EXIT = "exit", "Exit feedback"
    BUDDY = "buddy", "Buddy's experience"
    OTHER = "other", "Other"


class Audience(models.TextChoices):
    PARTICIPANT = "participant", "Participants"
    BUDDY = "buddy", "Buddies"


class Occasion(models.TextChoices):
    START = "start", "Start of a match"
    REVIEW = "review", "Review"
    END = "end", "End of a match"
    OTHER = "other", "Other"


# The occasions a questionnaire can be sent at automatically (the match's signals).
AUTOMATIC_OCCASIONS = (Occasion.START, Occasion.REVIEW, Occasion.END)


class Questionnaire(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="questionnaires")
    name = models.CharField(max_length=100)
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.OTHER)
    audience = models.CharField(
        max_length=12, choices=Audience.choices, default=Audience.PARTICIPANT
    )
    # Set on the shipped defaults ("ons4", "exit", "buddy") so they are made once per scheme
    # and the outcomes know which one holds the ONS4 answers.
    key = models.CharField(max_length=20, blank=True)
    # The occasions it is sent at automatically, from the match's life: "start,review,end".
    send_at = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "key"], condition=~Q(key=""), name="questionnaire_one_default"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def send_occasions(self) -> list[str]:
        return [occasion for occasion in self.send_at.split(",") if occasion]

    @property
    def send_occasions_display(self) -> str:
        labels: dict[str, str] = {"start": "start", "review": "review", "end": "end"}
        words = ", ".join(labels.get(occasion, occasion) for occasion in self.send_occasions)
        return words.capitalize() or "Not sent automatically"


class QuestionnaireVersion(models.Model):
    """A numbered version. A draft (not yet published) may be edited; a published one never
    changes, so every answer keeps the wording it was given."""

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveSmallIntegerField()
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["questionnaire", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "number"], name="questionnaire_version_number"
            ),
            models.UniqueConstraint(
                fields=["questionnaire"],
                condition=Q(published_at__isnull=True),
                name="questionnaire_one_draft",
            ),
        ]

    def __str__(self):
        return f"{self.questionnaire} v{self.number}"

    @property
    def is_draft(self) -> bool:
        return self.published_at is None


class QuestionKind(models.TextChoices):
    SINGLE = "single", "Choose one"
    MULTIPLE = "multiple", "Choose any"
    SCALE = "scale", "0 to 10 scale"
    LIKERT = "likert", "Agree / disagree (5 points)"
    TEXT = "text", "Free text"


LIKERT_CHOICES = [
    "Strongly disagree",
    "Disagree",
    "Neither agree nor disagree",
    "Agree",
    "Strongly agree",
]


class Question(models.Model):
    version = models.ForeignKey(
        QuestionnaireVersion, on_delete=models.CASCADE, related_name="questions"
    )
    position = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=300)
    kind = models.CharField(max_length=10, choices=QuestionKind.choices)
    required = models.BooleanField(default=True)
    help_text = models.CharField(
        max_length=300, blank=True, help_text="Easy-read help shown under the question."
    )
    choices = models.JSONField(default=list, blank=True)
    # Labels for the two ends of a 0-10 scale, e.g. "Not at all" / "Completely".
    low_label = models.CharField(max_length=40, blank=True)
    high_label = models.CharField(max_length=40, blank=True)
    # What the answer measures, for the outcomes: the ONS4 measures and the quotes consent.
    code = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="question_position"),
        ]

    def __str__(self):
        return self.text

    @property
    def options(self) -> list[str]:
        return LIKERT_CHOICES if self.kind == QuestionKind.LIKERT else list(self.choices)


class Invitation(models.Model):
    """One person asked to answer one questionnaire: at a match's start, review or end, or by a
    coordinator. The link to answer carries only this row's id and nonce, signed."""

    person = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="questionnaire_invitations"
    )
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="invitations"
    )
    version = models.ForeignKey(
        QuestionnaireVersion, on_delete=models.PROTECT, related_name="invitations"
    )
    match = models.ForeignKey(
        Match,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="questionnaire_invitations",
    )
    occasion = models.CharField(max_length=8, choices=Occasion.choices)
    nonce = models.CharField(max_length=24, default=new_nonce)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Sent once per match, occasion and questionnaire, however often the signal comes.
            models.UniqueConstraint(
                fields=["person", "match", "occasion", "questionnaire"],
                condition=Q(match__isnull=False) & ~Q(occasion="other"),
                name="questionnaire_invitation_once_per_occasion",
            ),
        ]
        indexes = [models.Index(fields=["person", "completed_at"], name="invitation_person_open")]

    def __str__(self):
        return f"{self.questionnaire} ({self.get_occasion_display()})"


class Response(models.Model):
    """The answers to one invitation, saved as they go; complete once sent."""

    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="response")
    version = models.ForeignKey(
        QuestionnaireVersion, on_delete=models.PROTECT, related_name="responses"
    )
    started_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Filled in with a coordinator (on the coordinator's screen), not by the person alone.
    completed_with = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "May we quote what you wrote, without your name?": the answer to that question, kept with
    # the answers it is about.
    quote_consent = models.BooleanField(default=False)

    def __str__(self):
        return f"Response to {self.invitation}"


class Answer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    # An int for a scale, a choice's text, a list of choices, or free text.
    value = models.JSONField(null=True)
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="answer_once"),
        ]

    def __str__(self):
        return f"Answer to {self.question_id}"


from .report_models import FunderReport  # noqa: E402, F401  (the funder report, evaluation/report.py)
