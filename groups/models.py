"""Drop-in and closed peer-support groups (DESIGN §4 "Groups / drop-ins", seed 003 "Working
with Groups"): groups, their sessions and facilitators, who joined and agreed the ground rules,
attendance counts, exclusions, anonymous feedback and the facilitators' debrief."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from buddyscheme.models import Membership, Scheme
from contracts.models import Contract
from meetings.models import Meeting, Venue


class GroupKind(models.TextChoices):
    DROP_IN = "drop_in", "Drop-in (anyone who has joined can come)"
    CLOSED = "closed", "Closed (the same people each time)"


class ScheduleKind(models.TextChoices):
    REGULAR = "regular", "Regular"
    ONE_OFF = "one_off", "One-off sessions"


class PeerGroup(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="peer_groups")
    name = models.CharField(max_length=80, help_text="What the team calls it (staff only).")
    neutral_name = models.CharField(
        max_length=60,
        help_text="The name used in every message to attendees, e.g. 'Tuesday group'. Say "
        "nothing about a condition.",
    )
    kind = models.CharField(max_length=8, choices=GroupKind.choices, default=GroupKind.DROP_IN)
    schedule = models.CharField(
        max_length=8, choices=ScheduleKind.choices, default=ScheduleKind.REGULAR
    )
    schedule_text = models.CharField(
        max_length=120,
        blank=True,
        help_text="For a regular group, e.g. 'Every other Tuesday, 6–8pm'.",
    )
    purpose = models.TextField(max_length=1000)
    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, related_name="peer_groups")
    # Seed 003 "Safe space": a venue outside the organisation is also checked for these.
    insurance_checked_on = models.DateField(null=True, blank=True)
    health_and_safety_checked_on = models.DateField(null=True, blank=True)
    premises_rules_checked_on = models.DateField(null=True, blank=True)
    signage_text = models.CharField(
        max_length=120,
        help_text="What the sign on the door says. It must not reveal what the group is for.",
    )
    complaints_contact = models.CharField(
        max_length=200,
        help_text="Who attendees contact with a complaint or query, e.g. 'Sam on 020 7946 0000'. "
        "Shown on every group page and in every message.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["scheme", "name"]

    def __str__(self):
        return self.name


class GroupQuestion(models.Model):
    """The scheme's own check that someone qualifies for group support: lighter than the
    one-to-one assessment (seed 003, "Referral to groups"). Every active question needs a yes."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="group_questions")
    text = models.CharField(max_length=160)
    order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["scheme", "order", "pk"]

    def __str__(self):
        return self.text


class GroupMember(models.Model):
    """A person who passed the group check; they have joined once their agreement is signed."""

    group = models.ForeignKey(PeerGroup, on_delete=models.CASCADE, related_name="members")
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="group_memberships"
    )
    # The questions as asked and the answers, kept with the row (the scheme may reword them).
    eligibility = models.JSONField(default=list)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField(default=timezone.now)
    agreement = models.ForeignKey(
        Contract,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The newest agreement made for this person and group.",
    )
    referred_one_to_one_at = models.DateTimeField(null=True, blank=True)
    referred_one_to_one_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["group", "checked_at"]
        constraints = [
            models.UniqueConstraint(fields=["group", "membership"], name="one_member_per_group")
        ]

    def __str__(self):
        return f"Member {self.pk} of {self.group}"


class SessionState(models.TextChoices):
    PLANNED = "planned", "Planned"
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    CANCELLED = "cancelled", "Cancelled"


def new_feedback_token() -> str:
    return secrets.token_urlsafe(9)


FACILITATOR_TASKS = (
    ("set_up", "Arrive early and set up the room"),
    ("timekeeping", "Keep the group on topic and to time"),
    ("resources", "Bring the resources needed"),
    ("tidy_up", "Tidy up and take all paperwork away"),
)


class GroupSession(models.Model):
    group = models.ForeignKey(PeerGroup, on_delete=models.CASCADE, related_name="sessions")
    planned_start = models.DateTimeField()
    planned_end = models.DateTimeField()
    state = models.CharField(
        max_length=10, choices=SessionState.choices, default=SessionState.PLANNED
    )
    started_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    # "Re visit ground rules at every meeting": read out to everyone, or ticked per attendee.
    ground_rules_read_out_at = models.DateTimeField(null=True, blank=True)
    ground_rules_read_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Counts always, names optional (DESIGN §4).
    new_count = models.PositiveSmallIntegerField(default=0)
    returning_count = models.PositiveSmallIntegerField(default=0)
    tasks_done = models.JSONField(default=list, help_text="Keys of FACILITATOR_TASKS ticked.")
    feedback_token = models.CharField(max_length=20, unique=True, default=new_feedback_token)
    short_of_facilitators_told_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["planned_start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_end__gt=models.F("planned_start")),
                name="group_session_ends_after_start",
            )
        ]
        indexes = [
            # The warning sweep looks only at planned sessions nobody was told about yet.
            models.Index(
                fields=["planned_start"],
                condition=Q(state="planned", short_of_facilitators_told_at__isnull=True),
                name="group_session_to_warn",
            )
        ]

    def __str__(self):
        return f"Session {self.pk} of {self.group}"

    @property
    def attendance_total(self) -> int:
        return self.new_count + self.returning_count


class SessionFacilitator(models.Model):
    """One of the (at least two) facilitators. A buddy facilitator has a meeting of their own
    for the session, so the lone-working net watches them like any meeting."""

    session = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="facilitators")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    meeting = models.OneToOneField(
        Meeting, null=True, blank=True, on_delete=models.SET_NULL, related_name="group_facilitator"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "membership"], name="facilitator_once_per_session"
            )
        ]


class Attendance(models.Model):
    """A named attendee at one session (names are optional: the counts are on the session)."""

    session = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="attendances")
    member = models.ForeignKey(GroupMember, on_delete=models.CASCADE, related_name="attendances")
    ground_rules_confirmed_at = models.DateTimeField(null=True, blank=True)
    present = models.BooleanField(default=False)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "member"], name="attendance_once")
        ]


class Exclusion(models.Model):
    """A participant asked to stop attending because it was not safe (seed 003,
    "Troubleshooting"), until a review lifts it."""

    member = models.ForeignKey(GroupMember, on_delete=models.CASCADE, related_name="exclusions")
    session = models.ForeignKey(
        GroupSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(max_length=1000)
    review_on = models.DateField()
    excluded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    excluded_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-excluded_at"]
        constraints = [
            # A second press excludes nobody twice.
            models.UniqueConstraint(
                fields=["member"], condition=Q(lifted_at__isnull=True), name="one_open_exclusion"
            )
        ]


class Rating(models.IntegerChoices):
    NOT_AT_ALL = 1, "Not at all"
    A_LITTLE = 2, "A little"
    MOSTLY = 3, "Mostly"
    VERY = 4, "Very much"


class SessionFeedback(models.Model):
    """Anonymous by construction: no person, no address, not even the time it was sent (which
    could tell who left first). The session is all it is linked to."""

    session = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="feedback")
    felt_welcome = models.PositiveSmallIntegerField(choices=Rating.choices)
    felt_safe = models.PositiveSmallIntegerField(choices=Rating.choices)
    would_come_again = models.BooleanField()
    comments = models.TextField(blank=True, max_length=1000)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(felt_welcome__gte=1, felt_welcome__lte=4)
                & Q(felt_safe__gte=1, felt_safe__lte=4),
                name="feedback_ratings_1_to_4",
            )
        ]


class GroupDebrief(models.Model):
    """The facilitators' debrief of one session (seed 003: what went well, any concerns, what
    to do next time), written by either and answered by the coordinator."""

    session = models.OneToOneField(GroupSession, on_delete=models.CASCADE, related_name="debrief")
    went_well = models.TextField(max_length=2000)
    did_not_go_well = models.TextField(blank=True, max_length=2000)
    to_pick_up = models.TextField(blank=True, max_length=2000)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now)
    reply = models.TextField(blank=True, max_length=2000)
    reply_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reply_at = models.DateTimeField(null=True, blank=True)


class GroupComplaint(models.Model):
    """A complaint or query about a group (seed 003, "Troubleshooting"), recorded by the
    coordinator and followed up until closed. Initials only in the summary."""

    group = models.ForeignKey(PeerGroup, on_delete=models.CASCADE, related_name="complaints")
    received_on = models.DateField()
    summary = models.TextField(max_length=2000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=300, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-received_on", "-pk"]
