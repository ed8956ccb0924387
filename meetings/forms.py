from datetime import datetime, timedelta

from django import forms
from django.utils import timezone

from buddyscheme.models import Membership, Role
from matching.models import Match

from .models import AlertOutcome, Venue


class MeetingForm(forms.Form):
    """Times are typed in the scheme's local time and stored in UTC."""

    buddy = forms.ModelChoiceField(queryset=Membership.objects.none(), required=False)
    match = forms.ModelChoiceField(queryset=None, required=False, label="Who with")
    venue = forms.ModelChoiceField(queryset=Venue.objects.none(), label="Where")
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Date")
    start = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}), label="From")
    end = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}), label="Until")
    purpose = forms.CharField(
        max_length=120, initial="Catch-up", label="What it is for (keep it general)"
    )

    def __init__(self, *args, scheme, buddy=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.scheme = scheme
        self.fields["venue"].queryset = Venue.objects.filter(scheme=scheme, is_active=True)
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

    def clean(self):
        cleaned = super().clean()
        day, start, end = cleaned.get("day"), cleaned.get("start"), cleaned.get("end")
        if day and start and end:
            zone = self.scheme.zone
            cleaned["planned_start"] = timezone.make_aware(datetime.combine(day, start), zone)
            planned_end = timezone.make_aware(datetime.combine(day, end), zone)
            if end <= start:
                planned_end += timedelta(days=1)  # "22:00 until 01:00" runs past midnight
            cleaned["planned_end"] = planned_end
        return cleaned


class ResolveForm(forms.Form):
    outcome = forms.ChoiceField(choices=AlertOutcome.choices, widget=forms.RadioSelect)
    notes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Initials only."
    )
