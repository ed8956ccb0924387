"""The erasure and retention forms: what to keep under a legal hold and why."""

from django import forms

from .forms import FreeTextarea
from .personal_data import HOLD_LABELS

REASON_HELP = (
    "The law or contract that makes the scheme keep it, and until when. No names: write "
    "'insurer's claim ref. 42, until March 2027'."
)


class ErasureForm(forms.Form):
    hold = forms.MultipleChoiceField(
        label="Keep under a legal hold (tick only what the scheme must keep)",
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reason = forms.CharField(
        label="Why it must be kept",
        required=False,
        max_length=1000,
        help_text=REASON_HELP,
        widget=FreeTextarea(attrs={"rows": 3}),
    )
    understood = forms.BooleanField(
        label="I understand this cannot be undone: the person's details are gone for good.",
    )

    def __init__(self, *args, holdable=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hold"].choices = [(kind, HOLD_LABELS[kind]) for kind in holdable]
        if not holdable:
            del self.fields["hold"]
            del self.fields["reason"]

    def clean(self):
        data = super().clean()
        if data.get("hold") and not (data.get("reason") or "").strip():
            self.add_error("reason", "Say why the scheme must keep what you ticked.")
        return data


class KeepForm(forms.Form):
    reason = forms.CharField(
        label="Why the scheme must keep this person's records",
        max_length=1000,
        help_text=REASON_HELP,
        widget=FreeTextarea(attrs={"rows": 3}),
    )


class RetentionConfirmForm(forms.Form):
    understood = forms.BooleanField(
        label="I have read the report: anonymise these matches now. This cannot be undone.",
    )
