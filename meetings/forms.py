from datetime import timedelta

from django import forms

from buddyscheme.localtime import LocalTimeProblem, Which, local_to_utc
from buddyscheme.models import Concern, ConcernStatus, Membership, Role, SupervisionMode
from buddyscheme.vetting import support_person_choices
from matching.models import Match

from .models import AlertOutcome, Venue, VenueKind

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
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Initials only."
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


class SupervisionForm(MeetingForm):
    """A one-to-one with a buddy: when, how, with whom; face to face, where (and, in a room of
    ours, who has the keys). Times are typed in the scheme's local time."""

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

    field_order = [
        "mode",
        "support_person",
        "day",
        "start",
        "start_which",
        "end",
        "end_which",
        "venue",
        "key_holder",
    ]

    def __init__(self, *args, buddy, **kwargs):
        super().__init__(*args, scheme=buddy.scheme, buddy=buddy, **kwargs)
        del self.fields["match"], self.fields["purpose"]
        self.fields["venue"].required = False
        self.fields["venue"].label = "Where (face to face only)"
        self.fields["venue"].empty_label = "Choose a place"
        people = support_person_choices(buddy.scheme)
        self.fields["support_person"].queryset = people
        self.fields["support_person"].label_from_instance = lambda m: m.user.display_name
        self.fields["concern"].queryset = Concern.objects.filter(raised_by=buddy).exclude(
            status=ConcernStatus.CLOSED
        )
        self.order_fields(self.field_order)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("mode") == SupervisionMode.IN_PERSON and not cleaned.get("venue"):
            self.add_error("venue", "Choose where you will meet.")
        if cleaned.get("mode") != SupervisionMode.IN_PERSON:
            cleaned["venue"] = cleaned["key_holder"] = None
        return cleaned


class ConcernChoiceForm(forms.Form):
    """The `?concern=` a one-to-one is booked for: one of the buddy's open concerns, or none."""

    concern = forms.ModelChoiceField(queryset=Concern.objects.none(), required=False)

    def __init__(self, *args, buddy, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["concern"].queryset = Concern.objects.filter(raised_by=buddy).exclude(
            status=ConcernStatus.CLOSED
        )
