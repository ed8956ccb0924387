"""Goals set with the participant at the start, the progress recorded against them at reviews
and at the end, the review meetings themselves and the reminders sent before them (issue 18).
Imported by matching/models.py so the app label and migrations stay matching's."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Goal(models.Model):
    """Something the participant wants from the match, and how everyone will know it happened."""

    match = models.ForeignKey("matching.Match", on_delete=models.CASCADE, related_name="goals")
    text = models.CharField(max_length=200)
    menu_item = models.ForeignKey(
        "matching.MenuItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The menu want this goal came from, if it came from one.",
    )
    how_we_know = models.CharField(max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    achieved_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            # A double submit of the same goal is one goal.
            models.UniqueConstraint(fields=["match", "text"], name="goal_once_per_match")
        ]

    def __str__(self):
        return self.text


class ReviewWith(models.TextChoices):
    BOTH = "both", "The buddy and the participant together"
    BUDDY = "buddy", "The buddy"
    PARTICIPANT = "participant", "The participant"
    OTHERS = "others", "Others (say who in the notes)"


class ReviewOutcome(models.TextChoices):
    CONTINUE = "continue", "Carry on as we are"
    CHANGE = "change", "Carry on with changes"
    END = "end", "End the match"


class MatchReview(models.Model):
    """The review meeting due at `MatchingSettings.review_after_months` after the start."""

    match = models.ForeignKey("matching.Match", on_delete=models.CASCADE, related_name="reviews")
    due_on = models.DateField(help_text="The review date this review answered.")
    held_on = models.DateField()
    held_with = models.CharField(max_length=12, choices=ReviewWith.choices)
    outcome = models.CharField(max_length=10, choices=ReviewOutcome.choices)
    notes = models.TextField(blank=True, max_length=2000)
    next_due = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-held_on", "-pk"]
        constraints = [
            # One review answers one due date: a double submit cannot record it twice.
            models.UniqueConstraint(fields=["match", "due_on"], name="one_review_per_due_date")
        ]

    def __str__(self):
        return f"Review of {self.held_on:%d %b %Y}"


class GoalProgress(models.Model):
    """A goal's score (0 = not started, 10 = achieved) at a review or at the end."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="progress")
    score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(10)])
    note = models.CharField(max_length=300, blank=True)
    review = models.ForeignKey(
        MatchReview, null=True, blank=True, on_delete=models.CASCADE, related_name="progress"
    )
    at_end = models.BooleanField(default=False)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["recorded_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(score__lte=10), name="goal_progress_0_10"),
            models.UniqueConstraint(
                fields=["goal", "review"],
                condition=Q(review__isnull=False),
                name="goal_progress_once_per_review",
            ),
            models.UniqueConstraint(
                fields=["goal"], condition=Q(at_end=True), name="goal_progress_once_at_end"
            ),
        ]

    def __str__(self):
        return f"{self.score}/10"


class ReviewReminder(models.Model):
    """The reminders for one review date went out. The row is the claim: a second sweep (beat
    running twice, a retried task) finds it and sends nothing."""

    match = models.ForeignKey(
        "matching.Match", on_delete=models.CASCADE, related_name="review_reminders"
    )
    due_on = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["match", "due_on"], name="review_reminder_once")
        ]
