"""Signposting directory entries and next-steps plans.

Seed 003: "Putting together an action plan for the 3-6 months after the end" and "Signposting
people is an important part of moving on". Every ending gets a plan (a draft first); the
coordinator writes it with the participant, each action optionally pointing to a service in the
scheme's directory."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from buddyscheme.models import Membership, Scheme

# An entry not checked for this long may be out of date: the directory and dashboard warn.
STALE_AFTER_DAYS = 365


class OfferKind(models.TextChoices):
    PEER_SUPPORT = "peer_support", "Peer support"
    HEALTH = "health", "Health and sexual health"
    MENTAL_HEALTH = "mental_health", "Mental health and emotional support"
    MONEY = "money", "Money, benefits and debt"
    HOUSING = "housing", "Housing"
    LEGAL = "legal", "Legal and immigration advice"
    SOCIAL = "social", "Social activities and friendship"
    LEARNING = "learning", "Learning, volunteering and work"
    CRISIS = "crisis", "Crisis and helplines"
    OTHER = "other", "Other"


class DirectoryEntry(models.Model):
    """A service outside the scheme that people can be pointed to when their match ends."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="signposting_entries")
    name = models.CharField(max_length=120)
    kind = models.CharField(
        "What it offers (type)", max_length=20, choices=OfferKind.choices, default=OfferKind.OTHER
    )
    offers = models.CharField("What it offers", max_length=400)
    area = models.CharField(
        max_length=80, help_text="Where it works, for example “Lambeth” or “UK-wide”."
    )
    contact = models.CharField("How to contact", max_length=300)
    eligibility = models.CharField(
        max_length=300, blank=True, help_text="Who can use it; leave empty if anyone can."
    )
    last_checked_on = models.DateField(
        help_text="When someone last checked the details are still right."
    )
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "pk"]
        verbose_name_plural = "directory entries"
        constraints = [
            # A double submit of "Add" makes one entry, and two live entries never share a name.
            models.UniqueConstraint(
                fields=["scheme", "name"],
                condition=Q(retired_at__isnull=True),
                name="signposting_entry_name_once",
            ),
        ]
        indexes = [
            models.Index(
                fields=["scheme", "last_checked_on"],
                condition=Q(retired_at__isnull=True),
                name="signposting_live_checked",
            )
        ]

    def __str__(self):
        return self.name


class PlanState(models.TextChoices):
    DRAFT = "draft", "Being written"
    FINISHED = "finished", "Finished"


class NextStepsPlan(models.Model):
    """The participant's plan for the months after their match ends: one per ended match."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="next_steps_plans")
    match = models.OneToOneField(
        "matching.Match", on_delete=models.CASCADE, related_name="next_steps_plan"
    )
    participant = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="next_steps_plans"
    )
    state = models.CharField(max_length=10, choices=PlanState.choices, default=PlanState.DRAFT)
    starts_on = models.DateField(help_text="The day the match ended: actions run from here.")
    remind_me = models.BooleanField(
        default=False,
        help_text="The participant agreed to a reminder on each action's date, by their usual "
        "channel.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    finished_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state=PlanState.DRAFT) | Q(finished_at__isnull=False),
                name="signposting_finished_plan_has_time",
            ),
        ]

    def __str__(self):
        return f"Next-steps plan {self.pk}"


class ActionBy(models.TextChoices):
    PARTICIPANT = "participant", "The participant"
    COORDINATOR = "coordinator", "The coordinator"
    TOGETHER = "together", "The participant and coordinator together"
    SERVICE = "service", "The service named"


# The same, as the participant reads it on their own page and in the PDF.
ACTION_BY_FOR_PARTICIPANT: dict[str, str] = {
    ActionBy.PARTICIPANT: "You",
    ActionBy.COORDINATOR: "Your coordinator",
    ActionBy.TOGETHER: "You and your coordinator together",
    ActionBy.SERVICE: "The service named",
}


class PlanAction(models.Model):
    """One dated step of a plan. `reminded_at` is set once, by the claim that sends its
    reminder, so a second beat or a redelivered task never sends it twice."""

    plan = models.ForeignKey(NextStepsPlan, on_delete=models.CASCADE, related_name="actions")
    due_on = models.DateField()
    what = models.CharField(max_length=200)
    entry = models.ForeignKey(
        DirectoryEntry,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="plan_actions",
    )
    who = models.CharField(max_length=12, choices=ActionBy.choices, default=ActionBy.PARTICIPANT)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(
                fields=["due_on"],
                condition=Q(reminded_at__isnull=True),
                name="signposting_action_unreminded",
            )
        ]

    def __str__(self):
        return f"Action {self.pk}"

    @property
    def who_for_participant(self) -> str:
        return ACTION_BY_FOR_PARTICIPANT.get(self.who, self.get_who_display())
