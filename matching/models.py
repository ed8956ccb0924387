"""The menu, matching profiles, matches and how they were made (rounds, speed-buddying, choice)."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from buddyscheme.models import Membership, Scheme

from .fields import TagListField

# --- The menu -------------------------------------------------------------------------------


class MenuCategory(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="menu_categories")
    name = models.CharField(max_length=80)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["scheme", "order", "name"]
        verbose_name_plural = "menu categories"
        constraints = [
            models.UniqueConstraint(fields=["scheme", "name"], name="menu_category_unique")
        ]

    def __str__(self):
        return self.name


class MenuItem(models.Model):
    """Something a buddy can offer and a participant can want (the same list for both)."""

    category = models.ForeignKey(MenuCategory, on_delete=models.CASCADE, related_name="items")
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["category__order", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["category", "name"], name="menu_item_unique")
        ]

    def __str__(self):
        return self.name


# --- Matching profiles ------------------------------------------------------------------------

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# Part of day and the hours it stands for (used to explain overlap "in hours").
DAY_PARTS = [
    ("morning", "Morning (9–12)", 3),
    ("afternoon", "Afternoon (12–5)", 5),
    ("evening", "Evening (5–9)", 4),
]
SLOT_HOURS = [hours for _day in WEEKDAYS for (_key, _label, hours) in DAY_PARTS]


def slot_index(day: int, part: int) -> int:
    return day * len(DAY_PARTS) + part


def slots_by_day(slots: list[int]) -> list[str]:
    """Slots in plain words, a line a day: "Monday morning", "Saturday afternoon and evening"."""
    days: dict[int, list[str]] = {}
    for index in sorted(slots):
        day, part = divmod(index, len(DAY_PARTS))
        days.setdefault(day, []).append(DAY_PARTS[part][0])
    lines = []
    for day, parts in days.items():
        words = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        lines.append(f"{WEEKDAYS[day]} {words}")
    return lines


class Gender(models.TextChoices):
    WOMAN = "woman", "Woman"
    MAN = "man", "Man"
    NON_BINARY = "non_binary", "Non-binary"
    UNDISCLOSED = "undisclosed", "Prefer not to say"


class AgeBand(models.TextChoices):
    UNDER_25 = "18_24", "18–24"
    FROM_25 = "25_34", "25–34"
    FROM_35 = "35_49", "35–49"
    FROM_50 = "50_64", "50–64"
    OVER_65 = "65_plus", "65 or over"


class TravelRange(models.TextChoices):
    DISTRICT = "district", "Only my own postcode district"
    AREA = "area", "My postcode area (e.g. anywhere in SW)"
    ANYWHERE = "anywhere", "Anywhere the scheme covers"


POSTCODE_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")


def validate_postcode_district(value):
    if not POSTCODE_DISTRICT.match(value or ""):
        raise ValidationError("Give only the first half of the postcode, for example SW9 or M14.")


class MatchProfile(models.Model):
    """What one side brings to matching. A buddy offers items; a participant wants them."""

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="match_profile"
    )
    items = models.ManyToManyField(MenuItem, blank=True, related_name="profiles")
    languages = TagListField()
    interests = TagListField()
    availability = models.PositiveIntegerField(
        default=0, help_text="Bit i = weekday i//3, part of day i%3."
    )
    postcode_district = models.CharField(
        max_length=4, blank=True, validators=[validate_postcode_district]
    )
    travel_range = models.CharField(
        max_length=10, choices=TravelRange.choices, default=TravelRange.AREA
    )
    gender = models.CharField(max_length=12, choices=Gender.choices, default=Gender.UNDISCLOSED)
    age_band = models.CharField(max_length=8, choices=AgeBand.choices, blank=True)
    wants_buddy_gender = models.CharField(
        max_length=12,
        blank=True,
        choices=[(g.value, g.label) for g in Gender if g != Gender.UNDISCLOSED],
    )
    wants_age_bands = TagListField(max_length=60)
    about = models.TextField(blank=True, max_length=1000)
    capacity = models.PositiveSmallIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__gte=1, capacity__lte=10), name="profile_capacity_1_10"
            )
        ]

    def __str__(self):
        return f"Matching profile {self.membership_id}"

    @property
    def available_slots(self) -> list[int]:
        return [i for i in range(len(SLOT_HOURS)) if self.availability >> i & 1]


# --- Matching settings ------------------------------------------------------------------------


class MatchingSettings(models.Model):
    """How a scheme weighs each reason. Coordinators tune these in the admin."""

    scheme = models.OneToOneField(
        Scheme, on_delete=models.CASCADE, related_name="matching_settings"
    )
    per_shared_item = models.FloatField(default=10)
    per_hour_of_shared_availability = models.FloatField(default=1)
    same_district = models.FloatField(default=15)
    same_area = models.FloatField(default=8)
    within_travel_range = models.FloatField(default=5)
    per_shared_language = models.FloatField(default=6)
    per_shared_interest = models.FloatField(default=3)
    preference_fit = models.FloatField(default=5)
    # Ten weeks' wait counts as much as one thing wanted and offered; a year's, about five.
    per_week_waiting = models.FloatField(
        default=1,
        help_text="Points for each week a participant has been waiting: rounds give a place "
        "to whoever has waited longer when the scores are close.",
    )
    choices_shown = models.PositiveSmallIntegerField(default=3)
    rematch_flag_count = models.PositiveSmallIntegerField(default=3)
    rematch_flag_months = models.PositiveSmallIntegerField(default=12)
    review_after_months = models.PositiveSmallIntegerField(default=6)
    review_reminder_days = models.PositiveSmallIntegerField(
        default=14,
        help_text="The coordinator and the buddy are reminded this many days before a review.",
    )
    remind_proposal_after_days = models.PositiveSmallIntegerField(
        default=3, help_text="Someone who has not answered a proposal is reminded once, after this."
    )

    class Meta:
        verbose_name_plural = "matching settings"

    def __str__(self):
        return f"Matching settings for {self.scheme}"


class PairBlockKind(models.TextChoices):
    NEVER_AGAIN = "never_again", "Never re-match this pair"
    CONFLICT = "conflict", "Conflict of interest"


class PairBlock(models.Model):
    buddy = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    participant = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=PairBlockKind.choices)
    reason = models.CharField(max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["buddy", "participant", "kind"], name="pair_block_once")
        ]

    def __str__(self):
        return self.get_kind_display()


# --- Matches ----------------------------------------------------------------------------------


class MatchState(models.TextChoices):
    DRAFT = "draft", "Draft"
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Accepted by both"
    INTRODUCED = "introduced", "Introduction booked"
    ACTIVE = "active", "Active"
    ENDING = "ending", "Ending"
    ENDED = "ended", "Ended"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"


class EndingType(models.TextChoices):
    """Why a match ended: each type has its own questions and consequences (the ending flow)."""

    PLANNED = "planned", "Planned completion"
    BREAKDOWN = "breakdown", "The match broke down"
    DISENGAGED = "disengaged", "Stopped engaging"
    FRIENDSHIP = "friendship", "Became friends"
    BREACH = "breach", "Boundary or confidentiality breach"
    MOVED = "moved", "Moved away"
    SAFEGUARDING = "safeguarding", "Safeguarding"
    OTHER = "other", "Other"


CLOSED_STATES = [MatchState.ENDED, MatchState.DECLINED, MatchState.WITHDRAWN]
# States that use up a buddy's capacity and take the participant out of the waiting pool.
OPEN_STATES = [s for s in MatchState if s not in CLOSED_STATES]


class MatchingRound(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="matching_rounds")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    participant_count = models.PositiveIntegerField(default=0)
    buddy_count = models.PositiveIntegerField(default=0)
    assigned_count = models.PositiveIntegerField(default=0)
    total_score = models.FloatField(default=0)
    greedy_score = models.FloatField(default=0)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Round of {self.created_at:%d %b %Y %H:%M}"


class LeftOutReason(models.TextChoices):
    PREFERENCE = (
        "preference",
        "A preference they gave (gender or age of buddy) ruled out every buddy in the round",
    )
    NO_ELIGIBLE_BUDDY = (
        "no_eligible_buddy",
        "No eligible buddy in the round (nothing in common, or the pair is blocked)",
    )
    ALL_FULL = "all_full", "All buddies who suit them are full (their places went to others)"


class RoundLeftOut(models.Model):
    """A participant chosen for a round who got no draft match, and why."""

    round = models.ForeignKey(MatchingRound, on_delete=models.CASCADE, related_name="left_out")
    participant = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=20, choices=LeftOutReason.choices)
    days_waiting = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-days_waiting", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["round", "participant"], name="left_out_once")
        ]

    def __str__(self):
        return self.get_reason_display()


class Match(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="matches")
    buddy = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="matches_as_buddy")
    participant = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="matches_as_participant"
    )
    state = models.CharField(max_length=12, choices=MatchState.choices, default=MatchState.DRAFT)
    score = models.FloatField(default=0)
    reasons = models.JSONField(default=list, blank=True)
    round = models.ForeignKey(
        MatchingRound, null=True, blank=True, on_delete=models.SET_NULL, related_name="matches"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    proposed_at = models.DateTimeField(null=True, blank=True)
    buddy_accepted_at = models.DateTimeField(null=True, blank=True)
    participant_accepted_at = models.DateTimeField(null=True, blank=True)
    intro_at = models.DateTimeField(
        null=True, blank=True, help_text="When the introduction meeting is booked."
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    review_due = models.DateField(null=True, blank=True)
    ending_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)
    ending_type = models.CharField(max_length=16, choices=EndingType.choices, blank=True)
    replaces = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replaced_by",
        help_text="The earlier match this one replaces (after a re-match request or an ending).",
    )
    planned_sessions = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="How many sessions are offered, if a number was agreed."
    )
    planned_end = models.DateField(
        null=True, blank=True, help_text="When the match is planned to end, if a date was agreed."
    )
    declined_by = models.CharField(max_length=12, blank=True)
    decline_reason = models.CharField(max_length=200, blank=True)
    support_person = models.ForeignKey(
        Membership,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="For this match only, instead of the buddy's own support person.",
    )
    # Answers a coordinator took by phone or in person on someone's behalf: who wrote them down.
    buddy_answer_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    participant_answer_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reminded_at = models.DateTimeField(
        null=True, blank=True, help_text="When the one automatic reminder to answer went."
    )
    nudged_at = models.DateTimeField(
        null=True, blank=True, help_text="When a coordinator last sent a reminder to answer."
    )
    talk_requested_at = models.DateTimeField(
        null=True, blank=True, help_text="When someone asked to talk to the coordinator first."
    )
    talk_requested_by = models.CharField(max_length=12, blank=True)

    class Meta:
        verbose_name_plural = "matches"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["buddy", "participant"],
                condition=~Q(state__in=CLOSED_STATES),
                name="one_open_match_per_pair",
            ),
            models.CheckConstraint(
                condition=~Q(buddy=models.F("participant")), name="match_two_people"
            ),
        ]
        indexes = [
            models.Index(fields=["scheme", "state"], name="match_scheme_state"),
            # The reminder sweep reads only proposals nobody has been reminded about yet.
            models.Index(
                fields=["proposed_at"],
                condition=Q(state="proposed", reminded_at__isnull=True),
                name="match_proposed_unreminded",
            ),
        ]

    def __str__(self):
        return f"Match {self.pk} ({self.get_state_display()})"

    def answered(self, side: str) -> bool:
        return getattr(self, f"{side}_accepted_at") is not None or self.declined_by == side

    @property
    def sides_to_answer(self) -> list[str]:
        """Who must still answer this proposal ("buddy", "participant")."""
        if self.state != MatchState.PROPOSED:
            return []
        return [side for side in ("buddy", "participant") if not self.answered(side)]


class MatchEvent(models.Model):
    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField(max_length=12, choices=MatchState.choices, blank=True)
    to_state = models.CharField(max_length=12, choices=MatchState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "pk"]


class RematchRequest(models.Model):
    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="rematch_requests")
    requested_by = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="rematch_requests"
    )
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_note = models.CharField(max_length=300, blank=True)
    new_match = models.ForeignKey(
        Match,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The match made for this request, when the answer was a new match.",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(handled_at__isnull=True), name="rematch_open"
            )
        ]

    @property
    def side(self) -> str:
        """Who asked: "buddy" or "participant"."""
        return "buddy" if self.requested_by_id == self.match.buddy_id else "participant"


class StopReason(models.TextChoices):
    """What someone may say, if they want to, when they ask to stop (never required)."""

    MOVING = "moving", "I am moving away"
    NOT_GETTING_ON = "not_getting_on", "We are not getting on"
    FRIENDS = "friends", "We have become friends"
    OTHER = "other", "Something else"


# The ending type a stop request's reason points to, for the coordinator's ending flow.
STOP_REASON_ENDING: dict[str, str] = {
    StopReason.MOVING: EndingType.MOVED,
    StopReason.NOT_GETTING_ON: EndingType.BREAKDOWN,
    StopReason.FRIENDS: EndingType.FRIENDSHIP,
}


class StopRequest(models.Model):
    """A participant or a buddy said "I want to stop", as the agreement says either may at any
    time and without a reason. Their coordinator is told at once and closes things with them.

    `participant` is the person who asked (a buddy too, since buddies can ask to stop: the
    field kept its first name so that older rows and code read the same)."""

    participant = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="stop_requests"
    )
    reason = models.CharField(max_length=16, choices=StopReason.choices, blank=True)
    match = models.ForeignKey(
        Match, null=True, blank=True, on_delete=models.SET_NULL, related_name="stop_requests"
    )
    created_at = models.DateTimeField(default=timezone.now)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Asking twice (a double tap, a second visit) is the same request.
            models.UniqueConstraint(
                fields=["participant"],
                condition=Q(handled_at__isnull=True),
                name="one_open_stop_request",
            )
        ]


# --- Endings ---------------------------------------------------------------------------------


class Side(models.TextChoices):
    BUDDY = "buddy", "The buddy"
    PARTICIPANT = "participant", "The participant"


class ContactHow(models.TextChoices):
    PHONE = "phone", "Phone call"
    TEXT = "text", "Text message"
    EMAIL = "email", "Email"
    LETTER = "letter", "Letter"
    VISIT = "visit", "Visit"
    OTHER = "other", "Another way"


class ContactAttempt(models.Model):
    """A try to reach someone who stopped engaging (seed 003: "Sometimes people will simply
    stop engaging"): a disengagement ending needs at least one on record."""

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="contact_attempts")
    tried_on = models.DateField()
    who = models.CharField(max_length=12, choices=Side.choices, default=Side.PARTICIPANT)
    how = models.CharField(max_length=8, choices=ContactHow.choices)
    outcome = models.CharField(max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["tried_on", "pk"]


class Ending(models.Model):
    """How a match ended, with the answers to its type's own questions and what followed."""

    match = models.OneToOneField(Match, on_delete=models.CASCADE, related_name="ending")
    ending_type = models.CharField(max_length=16, choices=EndingType.choices)
    notes = models.TextField(blank=True, max_length=2000)
    goals_note = models.TextField(blank=True, max_length=2000)
    last_meeting_on = models.DateField(null=True, blank=True)
    weeks_without_contact = models.PositiveSmallIntegerField(null=True, blank=True)
    told_in_person = models.BooleanField(
        default=False, help_text="Friendship: they told the coordinator themselves, not online."
    )
    breach_by = models.CharField(max_length=12, choices=Side.choices, blank=True)
    rematch_participant = models.BooleanField(default=False)
    rematch_buddy = models.BooleanField(default=False)
    never_again = models.BooleanField(default=False)
    supervision_follow_up = models.BooleanField(default=False)
    supervision = models.ForeignKey(
        "buddyscheme.Supervision",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The one-to-one booked for the buddy after this ending, if one was.",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # The dashboard reads only endings whose buddy still needs a one-to-one.
            models.Index(
                fields=["created_at"],
                condition=Q(supervision_follow_up=True, supervision__isnull=True),
                name="ending_follow_up_open",
            )
        ]

    def __str__(self):
        return self.get_ending_type_display()


class BreachRecord(models.Model):
    """A boundary or confidentiality breach, kept on the record of the person who made it."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="breaches")
    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="breaches")
    what_happened = models.TextField(max_length=2000)
    consequences = models.TextField(max_length=2000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["match", "person"], name="breach_once_per_match")
        ]


class FriendshipDisclosure(models.Model):
    """Seed 003: "If they decide they are friends" they tell the coordinator and the match
    ends. Either side tells us here, from their phone; once each."""

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="friendships")
    by = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["match", "by"], name="friendship_told_once")]


# --- Participant choice mode ------------------------------------------------------------------

OPEN_OFFER = Q(chosen__isnull=True, asked_for_others_at__isnull=True, withdrawn_at__isnull=True)


class SuggestionOffer(models.Model):
    """Up to N anonymised buddies shown to a participant, who picks one or asks for others."""

    participant = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="suggestion_offers"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    chosen = models.ForeignKey(
        "SuggestionOption", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    asked_for_others_at = models.DateTimeField(null=True, blank=True)
    # Closed without an answer: nobody suggested could still be matched, a coordinator
    # proposed a match instead, or a newer offer replaced this one.
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant"], condition=OPEN_OFFER, name="one_open_offer_per_participant"
            )
        ]

    @property
    def is_open(self) -> bool:
        return (
            self.chosen_id is None
            and self.asked_for_others_at is None
            and self.withdrawn_at is None
        )


class SuggestionOption(models.Model):
    offer = models.ForeignKey(SuggestionOffer, on_delete=models.CASCADE, related_name="options")
    buddy = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()
    score = models.FloatField()
    reasons = models.JSONField(default=list)
    # The buddy could no longer be matched (their places filled, their vetting lapsed) while
    # the offer was open: no longer shown, kept as the record of what was offered.
    dropped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "buddy"], name="suggestion_option_once")
        ]


# --- Speed-buddying ----------------------------------------------------------------------------


class SpeedEvent(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="speed_events")
    name = models.CharField(max_length=120)
    held_on = models.DateField()
    rankings_close_at = models.DateTimeField(null=True, blank=True)
    matched_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-held_on"]

    def __str__(self):
        return self.name


class SpeedMeeting(models.Model):
    """At the event, this buddy and this participant met."""

    event = models.ForeignKey(SpeedEvent, on_delete=models.CASCADE, related_name="meetings")
    buddy = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    participant = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event", "buddy", "participant"], name="speed_meeting_once"
            )
        ]


class SpeedPreference(models.Model):
    """One person's view of someone they met: a rank (1 = first choice) or a veto."""

    event = models.ForeignKey(SpeedEvent, on_delete=models.CASCADE, related_name="preferences")
    ranker = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    ranked = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField(null=True, blank=True)
    veto = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event", "ranker", "ranked"], name="speed_preference_once"
            ),
            models.CheckConstraint(
                condition=Q(veto=True) | Q(rank__isnull=False), name="speed_rank_or_veto"
            ),
        ]


# Goals, progress, reviews and their reminders live in their own module (issue 18).
from .goal_models import (  # noqa: E402, F401
    Goal,
    GoalProgress,
    MatchReview,
    ReviewOutcome,
    ReviewReminder,
    ReviewWith,
)
