"""Forms of the ending flow: the type, each type's questions, the attempts to reach someone,
and what a buddy or participant fills in on their phone (stop, friends)."""

from django import forms
from django.utils import timezone

from buddyscheme.forms import FocusFirstErrorMixin
from buddyscheme.initials import IdentifyingDetailsFormMixin
from buddyscheme.models import SupervisionMode

from .endings import FOLLOW_UP_TYPES, LONGEST_SILENCE_WEEKS, NOTES_LENGTH, QUESTIONS, EndingAnswers
from .models import ContactHow, EndingType, Side, StopReason

# What each type's page explains before its questions (seed 003's own words where they fit).
INTRODUCTIONS = {
    EndingType.PLANNED: "The match reached its planned end. Record how the goals went, if you "
    "like, and celebrate what they did together.",
    EndingType.BREAKDOWN: "The match is not working. Nobody needs to be blamed: offer each of "
    "them a new match if they want one.",
    EndingType.DISENGAGED: "“Sometimes people will simply stop engaging.” Before ending, "
    "record the attempts made to reach them.",
    EndingType.FRIENDSHIP: "“If they decide they are friends” they tell the coordinator and the "
    "match ends. Either of them can tell us from their phone.",
    EndingType.BREACH: "A boundary or confidentiality was breached. Say what happened, by whom, "
    "and the consequences applied: they are kept on that person's record.",
    EndingType.MOVED: "One of them is moving away.",
    EndingType.SAFEGUARDING: "The match ends because of a safeguarding concern. Raise the "
    "concern or make the referral first.",
    EndingType.OTHER: "Another reason. Say what it is.",
}


class EndingTypeForm(forms.Form):
    ending_type = forms.ChoiceField(
        choices=EndingType.choices,
        widget=forms.RadioSelect,
        label="Why is the match ending?",
        error_messages={"required": "Please choose why the match is ending."},
    )


class EndingForm(IdentifyingDetailsFormMixin, FocusFirstErrorMixin, forms.Form):
    """One type's questions: the fields not asked by the type are taken away."""

    identifying_fields = ("notes", "goals_note", "breach_what", "breach_consequences")

    goals_note = forms.CharField(
        required=False,
        max_length=NOTES_LENGTH,
        label="How did the goals go? (optional)",
        help_text="Initials only.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    weeks_without_contact = forms.IntegerField(
        min_value=1,
        max_value=LONGEST_SILENCE_WEEKS,
        label="Weeks with no contact",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    told_in_person = forms.BooleanField(
        required=False, label="They told me themselves (by phone or in person)"
    )
    breach_by = forms.ChoiceField(
        choices=Side.choices, widget=forms.RadioSelect, label="Who breached it?"
    )
    breach_what = forms.CharField(
        max_length=NOTES_LENGTH,
        label="What happened",
        help_text="Initials only.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    breach_consequences = forms.CharField(
        max_length=NOTES_LENGTH,
        label="Consequences applied",
        help_text="For example: a warning, more supervision, stepping back from buddying.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    safeguarding_acted = forms.BooleanField(
        required=False, label="The concern is raised or the referral made"
    )
    notes = forms.CharField(
        required=False,
        max_length=NOTES_LENGTH,
        label="Notes",
        help_text="Initials only.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    rematch_participant = forms.BooleanField(
        required=False, label="Offer the participant a new buddy"
    )
    rematch_buddy = forms.BooleanField(required=False, label="Offer the buddy a new match")
    never_again = forms.BooleanField(required=False, label="Never re-match this pair")
    one_to_one_at = forms.DateTimeField(
        required=False,
        label="Book the buddy's one-to-one for (optional)",
        help_text="Leave empty to flag it on your dashboard and book it later.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    one_to_one_mode = forms.ChoiceField(
        required=False,
        choices=SupervisionMode.choices,
        initial=SupervisionMode.PHONE,
        label="How",
    )

    def __init__(self, *args, ending_type: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.ending_type = ending_type
        kept = set(QUESTIONS[ending_type])
        if ending_type in FOLLOW_UP_TYPES:
            kept |= {"one_to_one_at", "one_to_one_mode"}
        if ending_type in (EndingType.BREAKDOWN, EndingType.OTHER):
            self.fields["notes"].required = True
            self.fields["notes"].label = (
                "What went wrong" if ending_type == EndingType.BREAKDOWN else "Why it is ending"
            )
        for name in list(self.fields):
            if name not in kept and name not in ("not_identifying", "identifying_shown"):
                del self.fields[name]

    def clean_one_to_one_at(self):
        when = self.cleaned_data.get("one_to_one_at")
        if when is not None and when < timezone.now():
            raise forms.ValidationError("That time has passed: choose one still to come.")
        return when

    def answers(self) -> EndingAnswers:
        data = self.cleaned_data
        return EndingAnswers(
            notes=data.get("notes") or "",
            goals_note=data.get("goals_note") or "",
            weeks_without_contact=data.get("weeks_without_contact"),
            told_in_person=bool(data.get("told_in_person")),
            breach_by=data.get("breach_by") or "",
            breach_what=data.get("breach_what") or "",
            breach_consequences=data.get("breach_consequences") or "",
            rematch_participant=bool(data.get("rematch_participant")),
            rematch_buddy=bool(data.get("rematch_buddy")),
            never_again=bool(data.get("never_again")),
            safeguarding_acted=bool(data.get("safeguarding_acted")),
            one_to_one_at=data.get("one_to_one_at"),
            one_to_one_mode=data.get("one_to_one_mode") or SupervisionMode.PHONE,
        )


class ContactAttemptForm(IdentifyingDetailsFormMixin, FocusFirstErrorMixin, forms.Form):
    identifying_fields = ("outcome",)

    tried_on = forms.DateField(
        label="Date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    who = forms.ChoiceField(
        choices=Side.choices, initial=Side.PARTICIPANT, label="Whom you tried to reach"
    )
    how = forms.ChoiceField(choices=ContactHow.choices, label="How")
    outcome = forms.CharField(
        max_length=200, label="What happened", help_text="For example: no answer, left a message."
    )


class FriendshipForm(IdentifyingDetailsFormMixin, FocusFirstErrorMixin, forms.Form):
    identifying_fields = ("note",)

    note = forms.CharField(
        required=False,
        max_length=500,
        label="Anything you want to add? (optional)",
        help_text="Use initials, not names.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class StopForm(forms.Form):
    reason = forms.ChoiceField(
        required=False,
        choices=[("", "I would rather not say")] + list(StopReason.choices),
        widget=forms.RadioSelect,
        label="Do you want to tell us why? You do not have to.",
    )
