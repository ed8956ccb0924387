from typing import cast

from django import forms

from buddyscheme.forms import FreeTextarea
from buddyscheme.initials import IdentifyingDetailsFormMixin

from .models import ActionBy, DirectoryEntry, OfferKind


class DirectoryEntryForm(forms.ModelForm):
    class Meta:
        model = DirectoryEntry
        fields = ["name", "kind", "offers", "area", "contact", "eligibility"]
        widgets = {
            "offers": FreeTextarea(attrs={"rows": 2}),
            "contact": FreeTextarea(attrs={"rows": 2}),
            "eligibility": FreeTextarea(attrs={"rows": 2}),
        }
        help_texts = {
            "contact": "Phone, website, email or drop-in times, as the public can use them.",
        }


class DirectoryFilterForm(forms.Form):
    text = forms.CharField(required=False, max_length=80, label="Search")
    kind = forms.ChoiceField(
        required=False, choices=[("", "Any type")] + OfferKind.choices, label="What it offers"
    )
    area = forms.CharField(required=False, max_length=80, label="Area")
    stale = forms.BooleanField(required=False, label="Not checked for a year")


class PlanActionForm(IdentifyingDetailsFormMixin, forms.Form):
    """One step of a plan. The words go to the participant and into the PDF: initials only."""

    identifying_fields = ("what",)

    due_on = forms.DateField(
        label="When",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter the date as day, month and year."},
    )
    what = forms.CharField(
        max_length=200,
        label="What",
        help_text="In plain words, for example “Go to the Tuesday peer group”. No names.",
    )
    who = forms.ChoiceField(
        choices=ActionBy.choices, label="Who does it", initial=ActionBy.PARTICIPANT
    )
    entry = forms.ModelChoiceField(
        queryset=DirectoryEntry.objects.none(),
        required=False,
        label="Service from the directory (optional)",
        empty_label="No service",
    )

    def __init__(self, *args, entries=None, **kwargs):
        super().__init__(*args, **kwargs)
        if entries is not None:
            cast(forms.ModelChoiceField, self.fields["entry"]).queryset = entries


class RemindersForm(forms.Form):
    remind_me = forms.BooleanField(
        required=False,
        label="Send a reminder on the date of each step, by the usual email or text",
    )
