from datetime import date
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from buddyscheme.forms import FreeTextarea
from buddyscheme.initials import IdentifyingDetailsFormMixin

from .models import ClaimState, DocumentCategory, ExpenseCategory
from .uploads import DOCUMENT_KINDS, RECEIPT_KINDS, sniff


class _SniffedFile(forms.FileField):
    """A file checked by its contents (volunteering/uploads.py), never its name."""

    def __init__(self, *args, kinds=DOCUMENT_KINDS, **kwargs):
        self.kinds = kinds
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        uploaded = super().clean(data, initial)
        if uploaded:
            sniff(uploaded, self.kinds)
        return uploaded


class PackDocumentForm(forms.Form):
    title = forms.CharField(max_length=120)
    category = forms.ChoiceField(choices=DocumentCategory.choices)
    required = forms.BooleanField(required=False, initial=True, label="Every buddy must read it")
    file = _SniffedFile(
        label="File",
        help_text="A PDF, a plain text file, or a PNG or JPEG image; up to 10 MB.",
    )


class PackDocumentReplaceForm(forms.Form):
    file = _SniffedFile(
        label="New version",
        help_text="Buddies who read the old version are asked to read this one.",
    )


class ExpenseClaimForm(IdentifyingDetailsFormMixin, forms.Form):
    identifying_fields = ("description",)

    spent_on = forms.DateField(
        label="Date you spent it",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter the date as day, month and year."},
    )
    amount = forms.DecimalField(
        label="Amount (£)",
        min_value=Decimal("0.01"),
        max_value=Decimal("9999.99"),
        max_digits=6,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        error_messages={
            "invalid": "Enter the amount in pounds and pence, for example 4.50.",
            "max_decimal_places": "Use pounds and pence: at most 2 digits after the point.",
            "min_value": "Enter an amount above £0.00.",
        },
    )
    category = forms.ChoiceField(choices=ExpenseCategory.choices, widget=forms.RadioSelect)
    description = forms.CharField(
        max_length=200,
        label="What was it for?",
        help_text="For example “bus fares, return”. Use initials, never names.",
    )
    meeting = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Meeting (if it was for one)"
    )
    receipt = _SniffedFile(
        required=False,
        kinds=RECEIPT_KINDS,
        label="Receipt photo",
        help_text="A photo (JPEG or PNG) or a PDF; up to 10 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}),
    )

    submit_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, meetings=(), zone, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["meeting"].choices = [("", "Not for a meeting")] + [
            (item.meeting_id, f"{timezone.localtime(item.started_at, zone):%-d %b}: {item.what}")
            for item in meetings
        ]

    def clean_spent_on(self):
        spent_on = self.cleaned_data["spent_on"]
        if spent_on > self.today:
            raise ValidationError("The date is in the future: claim once the money is spent.")
        return spent_on


class RefuseForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        label="Why it is refused",
        help_text="The buddy reads this.",
        widget=FreeTextarea(attrs={"rows": 2}),
        error_messages={"required": "Say why it is refused: the buddy reads the reason."},
    )


class PaidForm(forms.Form):
    paid_on = forms.DateField(
        label="Paid on", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class ClaimFilterForm(forms.Form):
    month = forms.DateField(
        required=False,
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month", "class": "form-control"}, format="%Y-%m"),
    )
    state = forms.ChoiceField(
        required=False,
        choices=[("", "Any status"), *ClaimState.choices],
        label="Status",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
