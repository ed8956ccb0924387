from django import forms

from buddyscheme.forms import FreeTextarea, PersonNameField
from buddyscheme.models import ConsentKind, ConsentMethod

from .services import SPECIFIC_DEFAULTS


class SignForm(forms.Form):
    read_to_end = forms.BooleanField(required=False, label="I have read the whole agreement")
    agreed = forms.BooleanField(required=False, label="I agree")
    typed_name = PersonNameField(max_length=120, label="Type your name to sign", required=False)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("read_to_end"):
            self.add_error("read_to_end", "Please read the agreement to the end first.")
        if not cleaned.get("agreed"):
            self.add_error("agreed", "Tick 'I agree' to sign.")
        if len((cleaned.get("typed_name") or "").strip()) < 2:
            self.add_error("typed_name", "Type your name to sign.")
        return cleaned


class WitnessedSignForm(SignForm):
    """Signing on the coordinator's device: the coordinator may accept a name that differs."""

    name_exception = forms.CharField(
        max_length=200,
        required=False,
        label="Only if the name typed differs from our records: why you accept it",
        help_text="For example: her name changed at marriage; we hold an old one. "
        "This is kept with the signature.",
    )


class SpecificsForm(forms.Form):
    """What this match agreed at the introduction; the rest comes from the template and the menu."""

    frequency = forms.CharField(initial=SPECIFIC_DEFAULTS["frequency"], label="How often they meet")
    meeting_length = forms.CharField(
        initial=SPECIFIC_DEFAULTS["meeting_length"], label="How long meetings last"
    )
    contact_means = forms.CharField(
        initial=SPECIFIC_DEFAULTS["contact_means"], label="How they keep in touch"
    )
    contact_hours = forms.CharField(
        initial=SPECIFIC_DEFAULTS["contact_hours"], label="When contact is allowed"
    )
    wont_do = forms.CharField(
        initial=SPECIFIC_DEFAULTS["wont_do"],
        label="What the buddy will not do",
        widget=FreeTextarea(attrs={"rows": 2}),
    )
    coordinator_phone = forms.CharField(
        initial="", label="Phone number for stopping at once", required=False
    )


class TemplateForm(forms.Form):
    clauses = forms.CharField(
        widget=FreeTextarea(attrs={"rows": 22}),
        help_text="One clause per block: the first line is its heading, the lines below are its text. "
        "Leave a blank line between clauses.",
    )
    easy_read = forms.CharField(
        widget=FreeTextarea(attrs={"rows": 6}),
        required=False,
        label="Easy-read version (one idea per line)",
    )
    requires_reconsent = forms.BooleanField(
        required=False, label="Active matches must sign this new version (re-consent)"
    )

    @staticmethod
    def to_text(clauses) -> str:
        return "\n\n".join(f"{c['heading']}\n{c['text']}" for c in clauses)

    def parsed_clauses(self) -> list[dict]:
        return self.clauses_from_text(self.cleaned_data["clauses"])

    @staticmethod
    def clauses_from_text(text: str) -> list[dict]:
        blocks = [b.strip() for b in (text or "").replace("\r\n", "\n").split("\n\n") if b.strip()]
        result = []
        for block in blocks:
            heading, _, text = block.partition("\n")
            result.append({"heading": heading.strip(), "text": " ".join(text.split())})
        return result


class ConsentForm(forms.Form):
    kind = forms.ChoiceField(choices=ConsentKind.choices)
    given_how = forms.ChoiceField(choices=ConsentMethod.choices, initial=ConsentMethod.PAPER)
    detail = forms.CharField(required=False, max_length=200, label="Details (e.g. which agencies)")
