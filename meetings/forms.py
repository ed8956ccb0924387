from datetime import timedelta

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from buddyscheme.forms import CrispyMixin, FilterColumnsMixin, FreeTextarea, RowsChoiceField
from buddyscheme.initials import IdentifyingDetailsFormMixin
from buddyscheme.localtime import LocalTimeProblem, Which, local_to_utc
from buddyscheme.models import (
    Concern,
    ConcernStatus,
    InterviewMode,
    Membership,
    Role,
    SupervisionMode,
    TrainingModule,
    User,
)
from buddyscheme.vetting import support_person_choices
from matching.models import Match

from .models import (
    ActionWho,
    AlertOutcome,
    Debrief,
    FollowUp,
    GivenBy,
    HowItWent,
    ItemKind,
    LoneWorkingSettings,
    OnCallShift,
    TrainingAnswer,
    Venue,
    VenueKind,
    WorriedAbout,
)
from .services.debriefs import MAX_ITEMS, Action, DebriefContent

WHICH_CHOICES = [
    (Which.FIRST, "The first one (before the clocks go back)"),
    (Which.SECOND, "The second one (after the clocks go back)"),
]


class MeetingForm(forms.Form):
    """Times are typed in the scheme's local time and stored in UTC."""

    buddy = forms.ModelChoiceField(queryset=Membership.objects.none(), required=False)
    match = forms.ModelChoiceField(queryset=None, required=False, label="Who with")
    venue = forms.ModelChoiceField(queryset=Venue.objects.none(), label="Where")
    # The formats a browser's date and time inputs take: a value shown as "30/11/2026" would
    # leave the date box empty when a meeting is changed.
    day = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), label="Date"
    )
    start = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"), label="From"
    )
    end = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"), label="Until"
    )
    key_holder = forms.ModelChoiceField(
        queryset=Membership.objects.none(),
        required=False,
        empty_label="The room's usual key holder",
        label="Who has the keys (rooms in our building only)",
    )
    purpose = forms.CharField(
        max_length=120, initial="Catch-up", label="What it is for (keep it general)"
    )
    # Asked only when a time happens twice (the night the clocks go back).
    start_which = forms.ChoiceField(
        choices=WHICH_CHOICES, required=False, widget=forms.RadioSelect, label="Which start time?"
    )
    end_which = forms.ChoiceField(
        choices=WHICH_CHOICES, required=False, widget=forms.RadioSelect, label="Which end time?"
    )

    field_order = [
        "buddy",
        "match",
        "venue",
        "key_holder",
        "day",
        "start",
        "start_which",
        "end",
        "end_which",
        "purpose",
    ]

    def __init__(self, *args, scheme, buddy=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.scheme = scheme
        venues = Venue.objects.filter(scheme=scheme, is_active=True)
        self.fields["venue"].queryset = venues
        if venues.filter(kind=VenueKind.IN_HOUSE).exists():
            self.fields["key_holder"].queryset = Membership.objects.filter(
                scheme=scheme, role=Role.COORDINATOR, is_active=True
            ).select_related("user__profile")
            self.fields["key_holder"].label_from_instance = lambda m: m.user.display_name
        else:
            del self.fields["key_holder"]  # no rooms of our own: one question fewer
        matches = Match.objects.filter(
            scheme=scheme, state__in=["introduced", "active", "ending"]
        ).select_related("participant__user__profile", "buddy__user__profile")
        if buddy is not None:
            del self.fields["buddy"]
            matches = matches.filter(buddy=buddy)
            self.fields["match"].label_from_instance = lambda m: m.participant.user.display_name
        else:
            self.fields["buddy"].required = True
            self.fields["buddy"].queryset = Membership.objects.filter(
                scheme=scheme, role=Role.BUDDY, is_active=True
            ).select_related("user__profile")
            self.fields["buddy"].label_from_instance = lambda m: m.user.display_name
            self.fields["match"].label_from_instance = lambda m: (
                f"{m.buddy.user.display_name} with {m.participant.user.display_name}"
            )
        self.fields["match"].queryset = matches
        self.clock_question = set()  # "start" / "end": a time that happens twice, to ask about

    def visible_fields(self):
        """The clock questions show only when asked, or when already answered (kept as typed)."""
        return [
            field
            for field in super().visible_fields()
            if not field.name.endswith("_which")
            or field.name.removesuffix("_which") in self.clock_question
            or self[field.name].value()
        ]

    def clean(self):
        cleaned = super().clean()
        day, start, end = cleaned.get("day"), cleaned.get("start"), cleaned.get("end")
        if day and start and end:
            # "22:00 until 01:00" runs past midnight.
            end_day = day + timedelta(days=1) if end <= start else day
            for name, on, at in (("start", day, start), ("end", end_day, end)):
                try:
                    cleaned[f"planned_{name}"] = local_to_utc(
                        on, at, self.scheme.zone, cleaned.get(f"{name}_which") or None
                    )
                except LocalTimeProblem as problem:
                    if problem.ambiguous:
                        self.clock_question.add(name)
                        self.add_error(f"{name}_which", str(problem))
                    else:
                        self.add_error(name, str(problem))
        return cleaned


class MeetingChangeForm(MeetingForm):
    """A buddy moves their own meeting: when, where and what for, not who it is with."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["match"]


class ResolveForm(forms.Form):
    """Nothing is chosen for the responder: "safe" must be a decision, never a default."""

    outcome = forms.ChoiceField(
        choices=AlertOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what happened: safe, incident or false alarm."},
    )
    notes = forms.CharField(
        required=False, widget=FreeTextarea(attrs={"rows": 2}), help_text="Initials only."
    )


def _pin_field(label, help_text=""):
    return forms.CharField(
        label=label,
        help_text=help_text,
        strip=True,
        # Shown as dots, never put back in the page: a form with errors comes back empty.
        widget=forms.PasswordInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "class": "fs-4"}
        ),
        error_messages={"required": "Type a PIN here."},
    )


class PinsForm(forms.Form):
    """The buddy's two PINs, each typed twice. No error message repeats what was typed."""

    check_out_pin = _pin_field(
        "Your check-out PIN", "4 to 8 numbers. You type it when you check out."
    )
    check_out_pin_again = _pin_field("Type your check-out PIN again")
    duress_pin = _pin_field(
        "Your danger PIN",
        "4 to 8 numbers, not the same as your check-out PIN. If someone is making you check "
        "out, type this one instead. Your screen looks just the same, but the on-call team "
        "is told at once that you may be in danger.",
    )
    duress_pin_again = _pin_field("Type your danger PIN again")

    def clean(self):
        cleaned = super().clean()
        for name in ("check_out_pin", "duress_pin"):
            pin = cleaned.get(name)
            if pin is None:
                continue
            if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8):
                self.add_error(name, "Use 4 to 8 numbers, nothing else.")
            elif cleaned.get(f"{name}_again") not in (None, pin):
                self.add_error(f"{name}_again", "This is not the same as the PIN above.")
        if (
            not self.errors
            and cleaned.get("check_out_pin")
            and cleaned.get("check_out_pin") == cleaned.get("duress_pin")
        ):
            self.add_error(
                "duress_pin", "Your danger PIN must be different from your check-out PIN."
            )
        return cleaned


class LocationSharingForm(forms.Form):
    share_location = forms.BooleanField(
        required=False,
        label="Send where my phone is when I ask for help or use my danger PIN",
    )


class StaffMeetingForm(MeetingForm):
    """A meeting with one of the scheme's support people (a one-to-one, an interview): how,
    with whom (the field `staff_field`), when; face to face, where (and, in a room of ours, who
    has the keys). Times are typed in the scheme's local time."""

    staff_field: str
    in_person: str

    def __init__(self, *args, person, **kwargs):
        super().__init__(*args, scheme=person.scheme, buddy=person, **kwargs)
        del self.fields["match"], self.fields["purpose"]
        self.fields["venue"].required = False
        self.fields["venue"].label = "Where (face to face only)"
        self.fields["venue"].empty_label = "Choose a place"
        self.fields[self.staff_field].queryset = support_person_choices(person.scheme)
        self.fields[self.staff_field].label_from_instance = lambda m: m.user.display_name
        self.order_fields(
            ["mode", self.staff_field, "day", "start", "start_which", "end", "end_which"]
            + ["venue", "key_holder"]
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("mode") == self.in_person and not cleaned.get("venue"):
            self.add_error("venue", "Choose where you will meet.")
        if cleaned.get("mode") != self.in_person:
            cleaned["venue"] = cleaned["key_holder"] = None
        return cleaned


class SupervisionForm(StaffMeetingForm):
    """A one-to-one with a buddy, perhaps about a concern they raised."""

    staff_field = "support_person"
    in_person = SupervisionMode.IN_PERSON
    mode = forms.ChoiceField(
        choices=SupervisionMode.choices,
        widget=forms.RadioSelect,
        initial=SupervisionMode.IN_PERSON,
        label="How",
    )
    support_person = forms.ModelChoiceField(
        queryset=Membership.objects.none(), label="With", empty_label=None
    )
    concern = forms.ModelChoiceField(
        queryset=Concern.objects.none(), required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, buddy, **kwargs):
        super().__init__(*args, person=buddy, **kwargs)
        self.fields["concern"].queryset = Concern.objects.filter(raised_by=buddy).exclude(
            status=ConcernStatus.CLOSED
        )


class ConcernChoiceForm(forms.Form):
    """The `?concern=` a one-to-one is booked for: one of the buddy's open concerns, or none."""

    concern = forms.ModelChoiceField(queryset=Concern.objects.none(), required=False)

    def __init__(self, *args, buddy, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["concern"].queryset = Concern.objects.filter(raised_by=buddy).exclude(
            status=ConcernStatus.CLOSED
        )


# --- Debriefs ---------------------------------------------------------------------------------

# The mouth of each face on the 1-5 scale, drawn as SVG (meetings/_face.html) so that every
# phone shows the same faces whatever emoji its fonts have.
FACES = {
    1: "M10 27 Q18 18 26 27",
    2: "M11 25 Q18 21 25 25",
    3: "M11 24 L25 24",
    4: "M11 22 Q18 27 25 22",
    5: "M10 21 Q18 31 26 21",
}
YES_NO = [("yes", "Yes"), ("no", "No")]
MIN_ACTION_ROWS, MIN_GOAL_ROWS = 2, 1


def _rows(data, name: str, saved: int, least: int) -> int:
    """How many action (or goal) rows the form has: those saved and one empty, or, posted, as
    many as the page had (it says so in a hidden field)."""
    if data is not None:
        try:
            return max(least, min(int(data.get(name, least)), MAX_ITEMS))
        except (TypeError, ValueError):
            return least
    return max(least, min(saved + 1, MAX_ITEMS))


class DebriefForm(IdentifyingDetailsFormMixin, forms.Form):
    """The debrief as a phone shows it. Sent, "how it went" and "what happened" are needed and
    the free text passes the initials-only check; a draft keeps anything as typed."""

    how_it_went = forms.TypedChoiceField(
        choices=HowItWent.choices,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
        label="How did it go?",
    )
    what_happened = forms.CharField(
        required=False,
        max_length=2000,
        widget=FreeTextarea(attrs={"rows": 3}),
        label="What happened",
        help_text="A few lines. Use initials, never names, numbers or addresses.",
    )
    worried_about = forms.ChoiceField(
        choices=WorriedAbout.choices,
        required=False,
        widget=forms.RadioSelect,
        label="Is anything worrying you after this meeting?",
    )
    concerns = forms.CharField(
        required=False,
        max_length=2000,
        widget=FreeTextarea(attrs={"rows": 3}),
        label="What is worrying you",
        help_text="If someone is in danger now, call 999 first.",
    )

    def __init__(
        self,
        data=None,
        *,
        carried=(),
        questions=(),
        debrief=None,
        sending=True,
        add_row="",
        match_goals=(),
        **kwargs,
    ):
        saved_actions = saved_goals = 0
        if debrief is not None and data is None:
            kwargs.setdefault("initial", self.initial_from(debrief))
            saved_actions = sum(1 for item in debrief.items.all() if item.kind == ItemKind.ACTION)
            saved_goals = sum(1 for item in debrief.items.all() if item.kind == ItemKind.GOAL)
        super().__init__(data, check_identifying=sending, **kwargs)
        self.sending = sending
        # "Save and add another": one more empty row than the page had.
        saved_actions += add_row == ItemKind.ACTION
        saved_goals += add_row == ItemKind.GOAL
        self.action_count = _rows(data, "action_rows", saved_actions, MIN_ACTION_ROWS)
        self.goal_count = _rows(data, "goal_rows", saved_goals, MIN_GOAL_ROWS)
        for row in range(self.action_count):
            self.fields[f"action_{row}_text"] = forms.CharField(
                required=False, max_length=200, label=f"Action {row + 1}"
            )
            self.fields[f"action_{row}_who"] = forms.ChoiceField(
                choices=[("", "Who?"), *ActionWho.choices], required=False, label="Who"
            )
            self.fields[f"action_{row}_due"] = forms.DateField(
                required=False,
                label="By when",
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )
        for row in range(self.goal_count):
            self.fields[f"goal_{row}"] = forms.CharField(
                required=False, max_length=200, label=f"Goal {row + 1}"
            )
            if match_goals:
                self.fields[f"goal_{row}_link"] = forms.TypedChoiceField(
                    choices=[("", "None of them"), *((str(pk), text) for pk, text in match_goals)],
                    coerce=int,
                    empty_value=None,
                    required=False,
                    label=f"Goal {row + 1} works towards which of the match's goals?",
                )
        self.carried = list(carried)
        for item in self.carried:
            self.fields[f"done_{item.pk}"] = forms.BooleanField(required=False, label=item.text)
        self.questions = list(questions)
        for question in self.questions:
            self.fields[f"boundary_{question.pk}"] = forms.ChoiceField(
                choices=YES_NO,
                required=False,
                widget=forms.RadioSelect(attrs={"class": "btn-check"}),
                label=question.text,
            )

    @staticmethod
    def initial_from(debrief: Debrief) -> dict:
        initial: dict = {
            "how_it_went": debrief.how_it_went,
            "what_happened": debrief.what_happened,
            "worried_about": debrief.worried_about,
            "concerns": debrief.concerns,
        }
        rows = {ItemKind.ACTION: 0, ItemKind.GOAL: 0}
        for item in debrief.items.all():
            row = rows[item.kind]
            rows[item.kind] += 1
            if item.kind == ItemKind.ACTION:
                initial.update(
                    {
                        f"action_{row}_text": item.text,
                        f"action_{row}_who": item.who,
                        f"action_{row}_due": item.due_on,
                    }
                )
            else:
                initial[f"goal_{row}"] = item.text
                initial[f"goal_{row}_link"] = item.goal_id
        for item in debrief.items_done.all():
            initial[f"done_{item.pk}"] = True
        for answer in debrief.boundary_answers.all():
            initial[f"boundary_{answer.question_id}"] = "yes" if answer.crossed else "no"
        return initial

    def identifying_field_names(self) -> list[str]:
        return (
            ["what_happened", "concerns"]
            + [f"action_{row}_text" for row in range(self.action_count)]
            + [f"goal_{row}" for row in range(self.goal_count)]
        )

    def clean(self):
        cleaned = super().clean()
        if self.sending:
            if cleaned.get("how_it_went") is None and "how_it_went" not in self.errors:
                self.add_error("how_it_went", "Choose how it went.")
            if (
                not (cleaned.get("what_happened") or "").strip()
                and "what_happened" not in self.errors
            ):
                self.add_error("what_happened", "Write a line or two about what happened.")
        for row in range(self.action_count):
            has_text = bool((cleaned.get(f"action_{row}_text") or "").strip())
            if not has_text and (
                cleaned.get(f"action_{row}_who") or cleaned.get(f"action_{row}_due")
            ):
                self.add_error(
                    f"action_{row}_text", "Say what the action is, or clear who and when."
                )
        return cleaned

    def content(self) -> DebriefContent:
        data = self.cleaned_data
        return DebriefContent(
            how_it_went=data.get("how_it_went"),
            what_happened=data.get("what_happened") or "",
            actions=[
                Action(
                    text=data.get(f"action_{row}_text") or "",
                    who=data.get(f"action_{row}_who") or "",
                    due_on=data.get(f"action_{row}_due"),
                )
                for row in range(self.action_count)
            ],
            goals=[data.get(f"goal_{row}") or "" for row in range(self.goal_count)],
            goal_links=[data.get(f"goal_{row}_link") for row in range(self.goal_count)],
            done_item_ids={item.pk for item in self.carried if data.get(f"done_{item.pk}")},
            boundaries={
                question.pk: {"yes": True, "no": False}.get(
                    data.get(f"boundary_{question.pk}") or ""
                )
                for question in self.questions
            },
            concerns=data.get("concerns") or "",
            worried_about=data.get("worried_about") or "",
        )

    # What the template lays out, grouped.
    def face_choices(self):
        return [(choice, FACES[int(choice.data["value"])]) for choice in self["how_it_went"]]

    def action_rows_fields(self):
        return [
            (self[f"action_{row}_text"], self[f"action_{row}_who"], self[f"action_{row}_due"])
            for row in range(self.action_count)
        ]

    def goal_fields(self):
        """Each goal row's text, then (when the match has goals) which goal it serves."""
        fields = []
        for row in range(self.goal_count):
            fields.append(self[f"goal_{row}"])
            if f"goal_{row}_link" in self.fields:
                fields.append(self[f"goal_{row}_link"])
        return fields

    def carried_fields(self):
        return [(item, self[f"done_{item.pk}"]) for item in self.carried]

    def boundary_fields(self):
        return [self[f"boundary_{question.pk}"] for question in self.questions]

    @property
    def boundary_open(self) -> bool:
        """Open the boundary questions when one is answered yes (or has an error)."""
        return any(field.value() == "yes" or field.errors for field in self.boundary_fields())

    @property
    def more_open(self) -> bool:
        return bool(
            any(field.value() for field in self.goal_fields())
            or any(field.errors for field in self.goal_fields())
        )

    @property
    def worry_open(self) -> bool:
        return bool(
            self["worried_about"].value() or self["concerns"].value() or self["concerns"].errors
        )


class DebriefOnBehalfForm(DebriefForm):
    """A coordinator records a debrief the buddy gave by phone, email or in person."""

    given_by = forms.ChoiceField(
        choices=[choice for choice in GivenBy.choices if choice[0] != GivenBy.BUDDY],
        widget=forms.RadioSelect,
        label="How did the buddy give it?",
        error_messages={"required": "Say how the buddy gave this debrief."},
    )

    field_order = ["given_by"]


class FeedbackForm(forms.Form):
    feedback = forms.CharField(
        max_length=2000,
        widget=FreeTextarea(attrs={"rows": 3}),
        label="Feedback for the buddy",
        help_text="The buddy sees this with their debrief.",
        error_messages={"required": "Write some feedback first."},
    )


class FollowUpForm(forms.Form):
    follow_up = forms.ChoiceField(
        choices=[(FollowUp.OPEN.value, "Still to follow up"), (FollowUp.DONE.value, "Followed up")],
        widget=forms.RadioSelect,
        label="Follow-up",
        error_messages={"required": "Choose whether it still needs following up."},
    )
    note = forms.CharField(max_length=300, required=False, label="What was done (initials only)")


class DebriefFilterForm(FilterColumnsMixin, forms.Form):
    """The coordinator's debrief list: by buddy, by match, or those to follow up. Anything
    else in the address is ignored rather than an error."""

    columns = {"buddy": "col-md-4", "match": "col-md-4", "follow_up": "col-md-2"}

    buddy = forms.ModelChoiceField(queryset=Membership.objects.none(), required=False)
    match = forms.ModelChoiceField(queryset=Match.objects.none(), required=False)
    follow_up = forms.ChoiceField(
        choices=[
            ("", "All"),
            (FollowUp.OPEN.value, "To follow up"),
            (FollowUp.DONE.value, "Followed up"),
        ],
        required=False,
        label="Follow-up",
    )

    def __init__(self, *args, scheme, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["buddy"].queryset = Membership.objects.filter(
            scheme=scheme, role=Role.BUDDY
        ).select_related("user__profile")
        self.fields["buddy"].label_from_instance = lambda m: m.user.display_name
        self.fields["match"].queryset = Match.objects.filter(scheme=scheme).select_related(
            "buddy__user__profile", "participant__user__profile"
        )
        self.fields["match"].label_from_instance = lambda m: (
            f"{m.buddy.user.display_name} with {m.participant.user.display_name}"
        )

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {key: value for key, value in self.cleaned_data.items() if value}


# --- Settings pages: venues, the on-call rota, safety timings ---------------------------------


class VenueForm(CrispyMixin, forms.ModelForm):
    """A venue and its risk assessment. The key holder is one of this scheme's coordinators."""

    class Meta:
        model = Venue
        fields = [
            "name",
            "kind",
            "area",
            "address",
            "room",
            "key_holder",
            "risk_rating",
            "risk_notes",
            "risk_review_due",
            "is_active",
        ]
        labels = {
            "name": "Name buddies see",
            "kind": "What kind of place is it?",
            "area": "Area (named in alert messages)",
            "address": "Address (staff only)",
            "room": "Room (optional)",
            "key_holder": "Who usually has the keys (rooms in our building only)",
            "risk_rating": "Risk rating",
            "risk_notes": "Risk assessment: what was checked and what to do",
            "risk_review_due": "Review the risk assessment by",
            "is_active": "In use (untick to retire it: nobody can book it any more)",
        }
        help_texts = {
            "address": "Never shown to participants, in calendars or in messages.",
            "risk_rating": "At a high-risk venue the first alert comes sooner.",
            "risk_review_due": "After this date the venue cannot be booked until someone "
            "reviews the assessment and sets a new date.",
        }
        widgets = {
            "kind": forms.RadioSelect,
            "risk_rating": forms.RadioSelect,
            "address": FreeTextarea(attrs={"rows": 2}),
            "risk_notes": FreeTextarea(attrs={"rows": 4}),
            "risk_review_due": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, scheme, **kwargs):
        instance = kwargs.get("instance")
        editing = instance is not None and instance.pk is not None
        self.submit_label = "Save venue" if editing else "Add venue"
        super().__init__(*args, **kwargs)
        self.scheme = scheme
        key_holder = self.fields["key_holder"]
        # Staff of this scheme only, chosen by name.
        key_holder.queryset = (
            User.objects.filter(
                memberships__scheme=scheme,
                memberships__role=Role.COORDINATOR,
                memberships__is_active=True,
            )
            .select_related("profile")
            .distinct()
            .order_by("first_name", "email")
        )
        key_holder.label_from_instance = lambda user: user.display_name
        key_holder.empty_label = "Nobody usually: chosen when a meeting is booked"
        key_holder.error_messages["invalid_choice"] = (
            "Choose one of this scheme's coordinators as the key holder."
        )
        self.fields["kind"].choices = VenueKind.choices  # no empty radio button
        if not editing:
            del self.fields["is_active"]  # a new venue is in use

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("key_holder") and cleaned.get("kind") != VenueKind.IN_HOUSE:
            self.add_error("key_holder", "Only a room in our building has a key holder.")
        return cleaned


def responder_choices(scheme):
    """Coordinators and buddies active in this scheme, coordinators first, by name."""
    return (
        Membership.objects.filter(
            scheme=scheme, is_active=True, role__in=[Role.COORDINATOR, Role.BUDDY]
        )
        .select_related("user__profile")
        .annotate(
            role_rank=Case(
                When(role=Role.COORDINATOR, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("role_rank", "user__first_name", "user__email")
    )


class ShiftForm(CrispyMixin, forms.Form):
    """A shift typed in the scheme's local time, from a day and time to a day and time."""

    responder = forms.ModelChoiceField(
        queryset=Membership.objects.none(),
        label="Who is on call",
        empty_label=None,
        error_messages={"invalid_choice": "Choose someone who is active in this scheme."},
    )
    start_day = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), label="From (day)"
    )
    start_time = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"), label="From (time)"
    )
    start_which = forms.ChoiceField(
        choices=WHICH_CHOICES, required=False, widget=forms.RadioSelect, label="Which one?"
    )
    end_day = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), label="Until (day)"
    )
    end_time = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"), label="Until (time)"
    )
    end_which = forms.ChoiceField(
        choices=WHICH_CHOICES, required=False, widget=forms.RadioSelect, label="Which one?"
    )

    def __init__(self, *args, scheme, editing=False, **kwargs):
        self.submit_label = "Save shift" if editing else "Add shift"
        super().__init__(*args, **kwargs)
        self.scheme = scheme
        self.clock_question: set[str] = set()
        field = self.fields["responder"]
        field.queryset = responder_choices(scheme)
        field.label_from_instance = lambda member: (
            f"{member.user.display_name} ({member.get_role_display().lower()})"
        )
        for name in ("start_which", "end_which"):
            if not self[name].value():
                self.fields[name].widget = forms.HiddenInput()

    @classmethod
    def initial_for(cls, shift: OnCallShift) -> dict:
        zone = shift.scheme.zone
        starts, ends = (
            timezone.localtime(shift.starts_at, zone),
            timezone.localtime(shift.ends_at, zone),
        )
        return {
            "responder": shift.responder,
            "start_day": starts.date(),
            "start_time": starts.time(),
            "end_day": ends.date(),
            "end_time": ends.time(),
        }

    def clean(self):
        cleaned = super().clean()
        for name in ("start", "end"):
            day, at = cleaned.get(f"{name}_day"), cleaned.get(f"{name}_time")
            if day is None or at is None:
                continue
            try:
                cleaned[f"{name}s_at"] = local_to_utc(
                    day, at, self.scheme.zone, cleaned.get(f"{name}_which") or None
                )
            except LocalTimeProblem as problem:
                if problem.ambiguous:
                    # Ask which one: the radio buttons appear with the error.
                    self.clock_question.add(name)
                    self.fields[f"{name}_which"].widget = forms.RadioSelect(choices=WHICH_CHOICES)
                    self.add_error(f"{name}_which", str(problem))
                else:
                    self.add_error(f"{name}_time", str(problem))
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("end_time", "The shift must end after it starts.")
        return cleaned

    def shift_data(self) -> dict:
        return {
            "responder": self.cleaned_data["responder"],
            "starts_at": self.cleaned_data["starts_at"],
            "ends_at": self.cleaned_data["ends_at"],
        }


class WeekForm(forms.Form):
    """?week=YYYY-MM-DD on the rota, or ?day= on a new shift. Anything else: this week."""

    day = forms.DateField(required=False)

    def clean_day(self):
        day = self.cleaned_data["day"]
        today = timezone.localdate()
        if day and abs((day - today).days) > 366 * 5:
            raise forms.ValidationError("Choose a date within five years.")
        return day


class LoneWorkingForm(CrispyMixin, forms.ModelForm):
    submit_label = "Save safety timings"

    class Meta:
        model = LoneWorkingSettings
        fields = [
            "grace_minutes",
            "high_risk_grace_minutes",
            "escalation_minutes",
            "reminder_before_minutes",
            "check_in_opens_minutes",
            "max_extension_minutes",
            "check_out_pin_required",
            "location_retention_days",
        ]
        labels = {
            "grace_minutes": "Minutes after a meeting should end before the first alert",
            "high_risk_grace_minutes": "The same, at a high-risk venue",
            "escalation_minutes": "Minutes between alert levels while nobody answers",
            "reminder_before_minutes": "Remind the buddy this many minutes before a meeting",
            "check_in_opens_minutes": "Buddies can check in this many minutes early",
            "max_extension_minutes": "Most minutes a meeting can be extended in total",
            "check_out_pin_required": "Buddies who set a PIN must type it to check out",
            "location_retention_days": "Delete a shared location this many days after its "
            "alert is resolved",
        }
        help_texts = {
            "escalation_minutes": "",
            "max_extension_minutes": "Someone must be able to answer alerts until this long "
            "after a meeting's planned end (and a little more), so it sets how long on-call "
            "shifts must run.",
            "location_retention_days": "",
        }

    LIMITS = {
        "grace_minutes": (1, 60),
        "high_risk_grace_minutes": (1, 60),
        "escalation_minutes": (1, 60),
        "reminder_before_minutes": (0, 24 * 60),
        "check_in_opens_minutes": (0, 240),
        "max_extension_minutes": (0, 8 * 60),
        "location_retention_days": (1, 90),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, (low, high) in self.LIMITS.items():
            field = self.fields[name]
            field.min_value, field.max_value = low, high
            field.validators += [MinValueValidator(low), MaxValueValidator(high)]
            field.widget.attrs.update(min=low, max=high)

    def clean(self):
        cleaned = super().clean()
        normal, high = cleaned.get("grace_minutes"), cleaned.get("high_risk_grace_minutes")
        if normal is not None and high is not None and high > normal:
            self.add_error(
                "high_risk_grace_minutes",
                "At a high-risk venue the first alert should come sooner, not later.",
            )
        return cleaned


# --- Interviews and training sessions (issue 15) ----------------------------------------------


class InterviewForm(StaffMeetingForm):
    """An applicant's interview, with one of the scheme's support people."""

    staff_field = "interviewer"
    in_person = InterviewMode.IN_PERSON
    mode = forms.ChoiceField(
        choices=InterviewMode.choices,
        widget=forms.RadioSelect,
        initial=InterviewMode.IN_PERSON,
        label="How",
    )
    interviewer = forms.ModelChoiceField(
        queryset=Membership.objects.none(), label="Interviewer", empty_label=None
    )

    def __init__(self, *args, applicant, **kwargs):
        super().__init__(*args, person=applicant, **kwargs)


class TrainingSessionForm(MeetingForm):
    """A dated session of a training module, at one of the scheme's venues."""

    module = forms.ModelChoiceField(queryset=TrainingModule.objects.none(), label="Module")
    capacity = forms.IntegerField(
        min_value=1, max_value=200, initial=12, label="Places", help_text="How many can come."
    )

    field_order = ["module", "venue", "day", "start", "start_which", "end", "end_which", "capacity"]

    def __init__(self, *args, scheme, **kwargs):
        super().__init__(*args, scheme=scheme, **kwargs)
        for name in ("buddy", "match", "purpose", "key_holder"):
            self.fields.pop(name, None)
        self.fields["module"].queryset = TrainingModule.objects.filter(scheme=scheme)
        self.order_fields(self.field_order)

    def clean(self):
        cleaned = super().clean()
        cleaned.setdefault("key_holder", None)
        return cleaned


class TrainingInviteForm(forms.Form):
    invitees = RowsChoiceField(
        queryset=Membership.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="Who to invite",
        error_messages={"required": "Tick who to invite."},
    )

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invitees"].queryset = people
        self.fields["invitees"].label_from_instance = lambda m: (
            f"{m.user.display_name} {m.user.last_name} ({m.vetting.get_stage_display().lower()})"
        )


class TrainingAnswerForm(forms.Form):
    answer = forms.ChoiceField(
        choices=TrainingAnswer.choices,
        error_messages={"required": "Say whether you are coming or sending apologies."},
    )


class PatternSettingsForm(CrispyMixin, forms.ModelForm):
    submit_label = "Save pattern flags"

    class Meta:
        model = LoneWorkingSettings
        fields = [
            "flag_weeks_without_meeting",
            "flag_cancelled_in_a_row",
            "flag_debriefs_missing_in_a_row",
        ]
        labels = {
            "flag_weeks_without_meeting": "Flag a match when nobody has met for this many weeks",
            "flag_cancelled_in_a_row": "Flag this many meetings in a row cancelled or missed",
            "flag_debriefs_missing_in_a_row": "Flag this many meetings in a row with no debrief",
        }
        help_texts = dict.fromkeys(fields, "")

    LIMITS = {
        "flag_weeks_without_meeting": (1, 26),
        "flag_cancelled_in_a_row": (1, 10),
        "flag_debriefs_missing_in_a_row": (1, 10),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, (low, high) in self.LIMITS.items():
            field = self.fields[name]
            field.min_value, field.max_value = low, high
            field.validators += [MinValueValidator(low), MaxValueValidator(high)]
            field.widget.attrs.update(min=low, max=high)


class PatternDismissForm(IdentifyingDetailsFormMixin, forms.Form):
    """ "Looked at, nothing to do", with a note (initials only: it may name people)."""

    identifying_fields = ("note",)

    note = forms.CharField(
        max_length=300,
        label="What you looked at",
        help_text="Use initials, not names, for example “Spoke to B.: on holiday, back next week”.",
        widget=FreeTextarea(attrs={"rows": 3}),
    )
