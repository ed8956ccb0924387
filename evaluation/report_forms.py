from __future__ import annotations

from datetime import date

from django import forms

from buddyscheme.forms import FocusFirstErrorMixin
from buddyscheme.initials import IdentifyingDetailsFormMixin

from .report_models import FunderReport


class PeriodForm(FocusFirstErrorMixin, forms.Form):
    starts_on = forms.DateField(
        label="From", widget=forms.DateInput(attrs={"type": "date"}), help_text="The first day."
    )
    ends_on = forms.DateField(
        label="To", widget=forms.DateInput(attrs={"type": "date"}), help_text="The last day."
    )

    def clean(self):
        cleaned = super().clean()
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if isinstance(starts_on, date) and isinstance(ends_on, date) and ends_on < starts_on:
            self.add_error("ends_on", "The period must end on or after the day it starts.")
        return cleaned


class ReportTextForm(IdentifyingDetailsFormMixin, FocusFirstErrorMixin, forms.Form):
    """The scheme's own words, through the initials-only guard: a report leaves the system."""

    identifying_fields = ("text",)

    text = forms.CharField(
        required=False,
        max_length=FunderReport._meta.get_field("text").max_length,
        label="Your words for the funder",
        help_text="What the period was like, in your own words. Use no names: initials at most.",
        widget=forms.Textarea(attrs={"rows": 6}),
    )
