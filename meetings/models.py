"""Venues, meetings and the lone-working safety net: events, alerts, on-call cover, calendars."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from buddyscheme.models import (
    Channel,
    Interview,
    Membership,
    Notification,
    Scheme,
    Supervision,
    TrainingModule,
)


class LoneWorkingSettings(models.Model):
    """The scheme's safety timings. Coordinators change them in the admin."""

    scheme = models.OneToOneField(Scheme, on_delete=models.CASCADE, related_name="lone_working")
    grace_minutes = models.PositiveSmallIntegerField(default=10)
    high_risk_grace_minutes = models.PositiveSmallIntegerField(default=5)
    escalation_minutes = models.PositiveSmallIntegerField(
        default=10, help_text="Minutes between alert levels while nobody acknowledges."
    )
    reminder_before_minutes = models.PositiveSmallIntegerField(default=30)
    check_in_opens_minutes = models.PositiveSmallIntegerField(
        default=30,
        help_text="How long before the planned start a buddy can tap “I've arrived”. "
        "Check-in stays open until the planned end.",
    )
    max_extension_minutes = models.PositiveSmallIntegerField(
        default=120, help_text="The most a meeting can be extended in total."
    )
    check_out_pin_required = models.BooleanField(
        default=False,
        help_text="A buddy who has set a check-out PIN must type it to check out. Otherwise "
        "typing it is up to them (the duress PIN still works whenever they type it).",
    )
    location_retention_days = models.PositiveSmallIntegerField(
        default=7,
        help_text="Days after an alert is resolved before the position the phone sent with it "
        "is deleted.",
    )
    # Pattern flags on the coordinator dashboard (meetings/patterns.py).
    flag_weeks_without_meeting = models.PositiveSmallIntegerField(
        default=3, help_text="Flag an active match when nobody has met for this many weeks."
    )
    flag_cancelled_in_a_row = models.PositiveSmallIntegerField(
        default=3, help_text="Flag a match whose last meetings were all cancelled or missed."
    )
    flag_debriefs_missing_in_a_row = models.PositiveSmallIntegerField(
        default=3, help_text="Flag a match whose last meetings that happened have no debrief."
    )

    class Meta:
        verbose_name_plural = "lone working settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(escalation_minutes__gte=1), name="escalation_at_least_a_minute"
            ),
            models.CheckConstraint(
                condition=Q(location_retention_days__gte=1),
                name="location_kept_at_least_a_day",
            ),
            models.CheckConstraint(
                condition=Q(
                    flag_weeks_without_meeting__gte=1,
                    flag_cancelled_in_a_row__gte=1,
                    flag_debriefs_missing_in_a_row__gte=1,
                ),
                name="pattern_flags_at_least_one",
            ),
        ]

    def __str__(self):
        return f"Lone working settings for {self.scheme}"


class VenueKind(models.TextChoices):
    IN_HOUSE = "in_house", "In-house room"
    COMMUNITY = "community", "Community venue"
    HOME_VISIT = "home_visit", "Home visit"
    REMOTE = "remote", "Phone or video"


class RiskRating(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class Venue(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="venues")
    name = models.CharField(
        max_length=80, help_text="A neutral name buddies see, e.g. 'Café on the high street'."
    )
    kind = models.CharField(max_length=12, choices=VenueKind.choices)
    address = models.TextField(
        blank=True, help_text="Staff only: never shown to participants or in calendars."
    )
    area = models.CharField(
        max_length=40,
        blank=True,
        help_text="A short neutral locality, e.g. 'Hackney', named in alert messages so a "
        "responder knows where to head. Never the address.",
    )
    risk_rating = models.CharField(max_length=8, choices=RiskRating.choices, default=RiskRating.LOW)
    risk_notes = models.TextField(blank=True)
    risk_review_due = models.DateField(
        help_text="After this date the venue cannot be booked until reviewed."
    )
    room = models.CharField(max_length=60, blank=True)
    key_holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["scheme", "name"]

    def __str__(self):
        return self.name


class OnCallShift(models.Model):
    """Someone is on call for lone-working escalations in this window (out-of-hours cover)."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="on_call_shifts")
    responder = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="on_call_shifts"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="shift_ordered"
            )
        ]
        indexes = [models.Index(fields=["scheme", "starts_at", "ends_at"], name="shift_window")]

    def clean(self):
        if self.responder_id and self.scheme_id and self.responder.scheme_id != self.scheme_id:
            raise ValidationError({"responder": "The responder must be a member of this scheme."})
        if self.responder_id and not self.responder.is_active:
            raise ValidationError({"responder": "This person is no longer active in the scheme."})


class MeetingState(models.TextChoices):
    PLANNED = "planned", "Planned"
    CHECKED_IN = "checked_in", "In progress"
    CHECKED_OUT = "checked_out", "Finished safely"
    CANCELLED = "cancelled", "Cancelled"
    MISSED = "missed", "Missed"


class Meeting(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="meetings")
    match = models.ForeignKey(
        "matching.Match", null=True, blank=True, on_delete=models.PROTECT, related_name="meetings"
    )
    buddy = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="meetings")
    support_person = models.ForeignKey(
        Membership,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supported_meetings",
        help_text="Who the buddy checks in with; alerted at level 2.",
    )
    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, related_name="meetings")
    key_holder = models.ForeignKey(
        Membership,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meetings_holding_keys",
        help_text="In-house rooms: the member of staff on the premises with the keys.",
    )
    supervision = models.OneToOneField(
        Supervision,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meeting",
        help_text="A face-to-face one-to-one with the buddy's support person.",
    )
    interview = models.OneToOneField(
        Interview,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meeting",
        help_text="A face-to-face interview with an applicant.",
    )
    purpose = models.CharField(max_length=120, help_text="What it is for, in neutral words.")
    planned_start = models.DateTimeField()
    planned_end = models.DateTimeField()
    expected_end = models.DateTimeField(help_text="The planned end plus any extensions.")
    extended_minutes = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(
        max_length=12, choices=MeetingState.choices, default=MeetingState.PLANNED
    )
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    alert_level = models.PositiveSmallIntegerField(
        default=0, help_text="Highest overdue level raised so far."
    )
    # A new watch starts at each check-in, extension or reschedule: escalation restarts at the
    # bottom, and alerts of earlier watches never block the new ones.
    cycle = models.PositiveIntegerField(default=0)
    # The one instant the sweep looks at: when the next alert falls due (null = none pending).
    next_alert_at = models.DateTimeField(null=True, blank=True)
    next_reminder_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Calendar apps replace an event only when its SEQUENCE rises: every change a calendar
    # shows (reschedule, cancellation, extension) bumps it and stamps updated_at (DTSTAMP).
    sequence = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["planned_start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_end__gt=models.F("planned_start")),
                name="meeting_ends_after_start",
            ),
        ]
        indexes = [
            # The sweep's hot queries: only rows with something pending are in these indexes.
            models.Index(
                fields=["next_alert_at"],
                condition=Q(next_alert_at__isnull=False),
                name="meeting_alert_due",
            ),
            models.Index(
                fields=["next_reminder_at"],
                condition=Q(next_reminder_at__isnull=False),
                name="meeting_reminder_due",
            ),
            # Meetings never checked in, for the sweep to mark missed once they are over.
            models.Index(
                fields=["planned_end"],
                condition=Q(state=MeetingState.PLANNED),
                name="meeting_planned_end",
            ),
            # The live board's "Meetings now": planned ones in (start, id) order straight from the
            # index, so only the screenful is read however many start at the same time.
            models.Index(
                fields=["scheme", "state", "planned_start", "id"], name="meeting_scheme_state_start"
            ),
            models.Index(fields=["buddy", "planned_start"], name="meeting_buddy_start"),
            # Meetings held in a period, by when they began (the dashboard's month, the funder
            # report's year, buddy hours): a range scan, not a scan of every meeting.
            models.Index(
                fields=["scheme", "state", "checked_in_at"], name="meeting_scheme_state_in"
            ),
        ]

    def __str__(self):
        return f"Meeting {self.pk}"


class RearrangeRequest(models.Model):
    """The participant asked, from their Home, to move a meeting; their coordinator was told."""

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="rearrange_requests"
    )
    requested_by = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            # One ask per meeting and person: a second tap tells nobody twice.
            models.UniqueConstraint(
                fields=["meeting", "requested_by"], name="rearrange_once_per_meeting"
            )
        ]


class SafetyEventKind(models.TextChoices):
    CHECK_IN = "check_in", "Arrived"
    EXTEND = "extend", "Needed more time"
    CHECK_OUT = "check_out", "Left safely"
    HELP = "help", "Asked for help"
    SAFE = "safe", "Said they are safe now"
    WRONG_PIN = "wrong_pin", "Typed a wrong PIN"


SENT_LATE_AFTER = timedelta(minutes=1)


class SafetyEvent(models.Model):
    """What the buddy pressed. The client's idempotency key makes a repeated post count once."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="safety_events")
    kind = models.CharField(max_length=10, choices=SafetyEventKind.choices)
    idempotency_key = models.CharField(max_length=64, unique=True)
    at = models.DateTimeField(default=timezone.now, help_text="When the press reached us.")
    device_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the phone says it was pressed, if the phone said and it is believable "
        "(a press saved with no signal arrives later).",
    )
    minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at", "pk"]

    @property
    def sent_late(self) -> bool:
        """Pressed with no signal and sent on later: more than a minute between the two."""
        return self.device_at is not None and self.at - self.device_at > SENT_LATE_AFTER


class AlertReason(models.TextChoices):
    MISSED_CHECK_IN = "missed_check_in", "Missed check-in"
    OVERDUE = "overdue", "Overdue check-out"
    HELP = "help", "Help requested"
    DURESS = "duress", "Duress PIN used"
    WRONG_PINS = "wrong_pins", "Wrong PIN five times"


# Raised by what the buddy (or whoever holds their phone) did, not by a clock: no button, no
# check-out and no sweep closes them, only a responder who has spoken to the buddy.
ONLY_A_RESPONDER_CLOSES = (AlertReason.HELP, AlertReason.DURESS, AlertReason.WRONG_PINS)
# While one of these is open nobody is told "all clear": the buddy may be in danger.
NO_ALL_CLEAR_WHILE_OPEN = (AlertReason.DURESS, AlertReason.WRONG_PINS)


class AlertOutcome(models.TextChoices):
    SAFE = "safe", "Safe"
    INCIDENT = "incident", "Incident"
    FALSE_ALARM = "false_alarm", "False alarm"


MISSED_CHECK_IN_LEVEL = 0
TOP_LEVEL = 3


class Alert(models.Model):
    """Level 0: missed check-in. 1: buddy prompted. 2: support person. 3: every on-call responder."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="alerts")
    level = models.PositiveSmallIntegerField()
    reason = models.CharField(max_length=16, choices=AlertReason.choices)
    cycle = models.PositiveIntegerField(
        default=0, help_text="The meeting's watch (help: the nth request)."
    )
    due_at = models.DateTimeField(
        help_text="The instant it fell due (raised_at can be later after an outage)."
    )
    raised_at = models.DateTimeField(default=timezone.now)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=AlertOutcome.choices, blank=True)
    notes = models.TextField(blank=True)
    all_clear_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-level", "raised_at"]
        constraints = [
            # Two sweepers or a retried task: still one alert per level in each watch.
            models.UniqueConstraint(
                fields=["meeting", "reason", "cycle", "level"], name="one_alert_per_meeting_level"
            ),
        ]
        indexes = [
            models.Index(
                fields=["meeting"], condition=Q(resolved_at__isnull=True), name="alert_open"
            )
        ]

    def __str__(self):
        return f"Level {self.level} alert on meeting {self.meeting_id}"


class AlertRecipient(models.Model):
    """One person an alert reached on one channel, written in the transaction that queues the
    message. The all-clear goes to exactly these people, and responders see who knows."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="recipients")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts_received"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # Null only when the message was queued earlier under a key that can no longer be found:
    # the person still counts as reached, so the all-clear does not miss them.
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            # A retried sweep or a repeated help press records nobody twice.
            models.UniqueConstraint(
                fields=["alert", "person", "channel"], name="one_recipient_per_alert_channel"
            ),
        ]

    def __str__(self):
        return f"{self.person} by {self.get_channel_display()}"


class AlertLocation(models.Model):
    """Where the buddy's phone was when it asked for help or checked out with the duress PIN.

    Stored only when the buddy allowed sharing, only for those alerts, seen only by the alert's
    responders, and deleted a set number of days after the alert is resolved.
    """

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="locations")
    latitude = models.DecimalField(max_digits=8, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)
    accuracy_metres = models.PositiveIntegerField(
        null=True, blank=True, help_text="The phone's own estimate: 95% within this distance."
    )
    captured_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-captured_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90)
                & Q(longitude__gte=-180, longitude__lte=180),
                name="location_on_earth",
            ),
        ]

    def __str__(self):
        return f"Position for alert {self.alert_id}"


class BuddySafety(models.Model):
    """A buddy's own safety settings: the check-out and duress PINs (hashed with the password
    hashers, never stored as typed) and whether their phone may send its position with a help
    request or a duress check-out."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="safety")
    check_out_pin = models.CharField(max_length=128, blank=True)
    duress_pin = models.CharField(max_length=128, blank=True)
    pins_changed_at = models.DateTimeField(null=True, blank=True)
    share_location = models.BooleanField(default=False)
    share_location_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "buddy safety settings"
        constraints = [
            # The duress PIN only means something beside an ordinary one: both or neither.
            models.CheckConstraint(
                condition=Q(check_out_pin="", duress_pin="")
                | (~Q(check_out_pin="") & ~Q(duress_pin="")),
                name="pins_set_together",
            ),
        ]

    def __str__(self):
        return f"Safety settings of membership {self.membership_id}"

    @property
    def has_pins(self) -> bool:
        return bool(self.check_out_pin and self.duress_pin)


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class CalendarFeed(models.Model):
    """A buddy's private iCal address. Titles are neutral; the token can be reset at any time."""

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=40, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(default=timezone.now)


# --- Debriefs (DESIGN §4): after every meeting, opened by its check-out ------------------------


class DebriefState(models.TextChoices):
    DUE = "due", "Not started"
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"


class HowItWent(models.IntegerChoices):
    VERY_HARD = 1, "Very hard"
    HARD = 2, "Hard"
    OK = 3, "OK"
    GOOD = 4, "Good"
    VERY_GOOD = 5, "Very good"


class GivenBy(models.TextChoices):
    """How the debrief reached the scheme: typed by the buddy, or recorded by a coordinator
    from a phone call, an email or a conversation (seed 003: "debrief can be by phone, or email")."""

    BUDDY = "buddy", "Written by the buddy"
    PHONE = "phone", "Given by phone"
    EMAIL = "email", "Given by email"
    IN_PERSON = "in_person", "Given in person"


class WorriedAbout(models.TextChoices):
    NOBODY = "", "No"
    PARTICIPANT = "participant", "Yes, about the person I support"
    MYSELF = "myself", "Yes, about myself"


class FollowUp(models.TextChoices):
    NONE = "", "Nothing to follow up"
    OPEN = "open", "To follow up"
    DONE = "done", "Followed up"


class Debrief(models.Model):
    """What the buddy says about one meeting. A row exists from the check-out (state "due"),
    so a missing debrief is a row the reminder and the dashboard can find through an index."""

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="debrief")
    state = models.CharField(max_length=8, choices=DebriefState.choices, default=DebriefState.DUE)
    opened_at = models.DateTimeField(help_text="The check-out: the debrief is due from then.")
    how_it_went = models.PositiveSmallIntegerField(choices=HowItWent.choices, null=True, blank=True)
    what_happened = models.TextField(blank=True, max_length=2000)
    concerns = models.TextField(blank=True, max_length=2000)
    worried_about = models.CharField(
        max_length=12, choices=WorriedAbout.choices, blank=True, default=WorriedAbout.NOBODY
    )
    given_by = models.CharField(max_length=10, choices=GivenBy.choices, default=GivenBy.BUDDY)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The writer ticked "I have checked: these are not identifying" for what the guard found.
    identifying_confirmed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    feedback = models.TextField(blank=True, max_length=2000)
    feedback_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    feedback_at = models.DateTimeField(null=True, blank=True)
    follow_up = models.CharField(
        max_length=6, choices=FollowUp.choices, blank=True, default=FollowUp.NONE
    )
    follow_up_note = models.CharField(max_length=300, blank=True)
    followed_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    followed_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="sent", sent_at__isnull=False)
                | (~Q(state="sent") & Q(sent_at__isnull=True)),
                name="debrief_sent_when_sent",
            ),
            models.CheckConstraint(
                condition=Q(how_it_went__isnull=True) | Q(how_it_went__gte=1, how_it_went__lte=5),
                name="debrief_how_it_went_1_to_5",
            ),
        ]
        indexes = [
            # The reminder and the dashboard look only at debriefs not sent yet.
            models.Index(
                fields=["opened_at"], condition=Q(sent_at__isnull=True), name="debrief_outstanding"
            ),
            models.Index(
                fields=["follow_up"], condition=Q(follow_up="open"), name="debrief_follow_up_open"
            ),
        ]

    def __str__(self):
        return f"Debrief of meeting {self.meeting_id}"

    @property
    def is_sent(self) -> bool:
        return self.state == DebriefState.SENT


class ItemKind(models.TextChoices):
    ACTION = "action", "Action"
    GOAL = "goal", "Goal for next time"


class ActionWho(models.TextChoices):
    BUDDY = "buddy", "Me"
    PARTICIPANT = "participant", "The person I support"
    BOTH = "both", "Both of us"
    COORDINATOR = "coordinator", "The coordinator"


class DebriefItem(models.Model):
    """An action agreed or a goal for next time. It is carried forward on the match until a
    later debrief ticks it off."""

    debrief = models.ForeignKey(Debrief, on_delete=models.CASCADE, related_name="items")
    match = models.ForeignKey(
        "matching.Match", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=6, choices=ItemKind.choices)
    text = models.CharField(max_length=200)
    # A goal for next time may serve one of the goals set for the match at its start.
    goal = models.ForeignKey(
        "matching.Goal",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="debrief_items",
    )
    who = models.CharField(max_length=12, choices=ActionWho.choices, blank=True)
    due_on = models.DateField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    # Ticked in a later debrief (in its draft until that debrief is sent).
    done_in = models.ForeignKey(
        Debrief, null=True, blank=True, on_delete=models.SET_NULL, related_name="items_done"
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "position", "pk"]
        indexes = [
            models.Index(
                fields=["match"], condition=Q(done_at__isnull=True), name="debrief_item_open"
            )
        ]

    def __str__(self):
        return self.text


DEFAULT_BOUNDARY_QUESTIONS = [
    "Were gifts given or offered, either way?",
    "Was money lent or borrowed, or asked for?",
    "Was there contact outside the hours you agreed?",
    "Does it feel like a friendship or romance is starting?",
]


class BoundaryQuestion(models.Model):
    """A yes/no question every debrief asks (seed 003, "Managing boundaries"). "Yes" crosses
    the boundary and flags the match for the coordinator. Each scheme edits its own."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="boundary_questions")
    text = models.CharField(max_length=160)
    order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["scheme", "order", "pk"]

    def __str__(self):
        return self.text


class BoundaryAnswer(models.Model):
    debrief = models.ForeignKey(Debrief, on_delete=models.CASCADE, related_name="boundary_answers")
    question = models.ForeignKey(
        BoundaryQuestion, null=True, on_delete=models.SET_NULL, related_name="answers"
    )
    # The words as asked: the scheme may reword or retire the question later.
    question_text = models.CharField(max_length=160)
    crossed = models.BooleanField(help_text="Answered yes.")

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["debrief", "question"], name="one_answer_per_question")
        ]


class PatternKind(models.TextChoices):
    """The patterns a coordinator is shown on the dashboard and the match page."""

    NO_MEETING = "no_meeting", "No meeting for a while"
    CANCELLED = "cancelled", "Cancelled or missed in a row"
    REMATCH = "rematch", "Repeated re-match requests"
    BOUNDARY = "boundary", "Boundary crossed"
    FRIENDSHIP = "friendship", "Friendship or romance mentioned"
    NO_DEBRIEF = "no_debrief", "No debrief for recent meetings"


class PatternDismissal(models.Model):
    """A coordinator looked at a flag and found nothing to do. The flag stays away until the
    pattern shows again in what happens after `evidence_at` (the latest thing it was built on)."""

    match = models.ForeignKey(
        "matching.Match", on_delete=models.CASCADE, related_name="pattern_dismissals"
    )
    kind = models.CharField(max_length=12, choices=PatternKind.choices)
    evidence_at = models.DateTimeField()
    note = models.CharField(max_length=300)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dismissed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-dismissed_at", "-pk"]
        constraints = [
            # A double submit dismisses the same flag once.
            models.UniqueConstraint(
                fields=["match", "kind", "evidence_at"], name="pattern_dismissed_once"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} looked at"


# --- Induction and training sessions --------------------------------------------------------


class TrainingSession(models.Model):
    """A dated session of a training module (seed 000: training sessions with "Apologies").
    Attending it completes the module for that person."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="training_sessions")
    module = models.ForeignKey(TrainingModule, on_delete=models.PROTECT, related_name="sessions")
    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, related_name="training_sessions")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveSmallIntegerField(default=12, help_text="How many places there are.")
    attendance_recorded_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="training_session_ends_after_start",
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="training_session_capacity"),
        ]
        indexes = [models.Index(fields=["scheme", "starts_at"], name="training_session_when")]

    def __str__(self):
        return f"{self.module} on {self.starts_at:%d %b %Y}"


class TrainingAnswer(models.TextChoices):
    ATTENDING = "attending", "Attending"
    APOLOGIES = "apologies", "Apologies"


class TrainingInvitation(models.Model):
    """One person invited to a session: their answer, then whether they came."""

    session = models.ForeignKey(
        TrainingSession, on_delete=models.CASCADE, related_name="invitations"
    )
    invitee = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="training_invitations"
    )
    invited_at = models.DateTimeField(default=timezone.now)
    answer = models.CharField(max_length=10, choices=TrainingAnswer.choices, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    attended = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["session", "pk"]
        constraints = [
            # Inviting someone twice sends one invitation.
            models.UniqueConstraint(fields=["session", "invitee"], name="training_invitation_once"),
            models.CheckConstraint(
                condition=Q(answer="") | Q(answered_at__isnull=False),
                name="training_answer_has_date",
            ),
        ]
        indexes = [models.Index(fields=["invitee", "session"], name="training_invitee")]

    def __str__(self):
        return f"Invitation {self.pk}"
