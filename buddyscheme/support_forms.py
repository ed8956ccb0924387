"""Forms for concerns, one-to-ones, contact and the diary. Free text goes through the
initials-only guard and is saved only once the writer edits it or confirms it is all right."""

from django import forms

from .initials import IdentifyingDetailsFormMixin
from .models import ConcernKind, ConcernOutcome, ContactMode, Membership


class InitialsOnlyMixin(IdentifyingDetailsFormMixin):
    """`checked_fields` go through the initials-only guard (buddyscheme/initials.py): names of
    the people the buddy supports, phone numbers, emails, postcodes, dates of birth, NHS numbers
    and address lines are highlighted, and the form is valid once the writer edits the text or
    ticks "I have checked" for exactly what was shown."""

    checked_fields: tuple[str, ...] = ()

    def identifying_field_names(self) -> list[str]:
        return [name for name in self.checked_fields if name in self.fields]


def _text(label, help_text="", rows=4, **kwargs):
    return forms.CharField(
        label=label,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
        **kwargs,
    )


SOMEONE_ELSE = "else"


class ConcernForm(InitialsOnlyMixin, forms.Form):
    checked_fields = ("text",)

    # A choice made on purpose, never a default: "someone else" is one of the answers.
    about = forms.ChoiceField(
        label="Who is it about?",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose who it is about, or “Someone else”."},
    )
    text = _text(
        "What is worrying you?",
        "A few words are enough. Use initials, not names.",
        max_length=4000,
        error_messages={"required": "Say in a few words what is worrying you."},
    )
    one_to_one_wanted = forms.BooleanField(
        required=False, label="I would like a one-to-one with my support person to talk it through"
    )

    def __init__(self, *args, kind, subjects=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.subjects: dict[str, Membership] = {}
        if kind == ConcernKind.MYSELF or not subjects:
            del self.fields["about"]
        else:
            self.subjects = {str(person.pk): person for person in subjects}
            self.fields["about"].choices = [
                (pk, person.user.display_name) for pk, person in self.subjects.items()
            ] + [(SOMEONE_ELSE, "Someone else")]
        if kind == ConcernKind.MYSELF:
            self.fields["text"].label = "What is on your mind?"
            self.fields["text"].help_text = "A few words are enough. Only the team can read it."

    def clean_about(self) -> Membership | None:
        return self.subjects.get(self.cleaned_data["about"])


class ConcernNoteForm(InitialsOnlyMixin, forms.Form):
    """The concern page holds three forms: each has its own prefix, so no two fields share an id."""

    prefix = "note"
    checked_fields = ("text",)

    text = _text("What was done", "For example a call made or advice given. Initials only.", rows=3)


class ReferralForm(InitialsOnlyMixin, forms.Form):
    prefix = "referral"
    checked_fields = ("text",)

    agency = forms.CharField(
        max_length=120,
        label="Agency referred to",
        help_text="For example the council's adult safeguarding team.",
    )
    reference = forms.CharField(max_length=60, required=False, label="Their reference (if any)")
    text = forms.CharField(
        required=False,
        label="Notes",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Initials only.",
    )


class ConcernCloseForm(InitialsOnlyMixin, forms.Form):
    prefix = "close"
    checked_fields = ("notes",)

    outcome = forms.ChoiceField(
        choices=ConcernOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the outcome."},
    )
    notes = forms.CharField(
        required=False,
        label="Notes on the outcome",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Initials only.",
    )


class SupervisionNotesForm(InitialsOnlyMixin, forms.Form):
    checked_fields = ("notes",)

    notes = _text(
        "Notes",
        "What you talked about and what you agreed. The buddy gets a copy when you share them. "
        "Initials only.",
        rows=6,
    )

    def __init__(self, *args, required=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["notes"].required = required


class SupervisionCommentForm(InitialsOnlyMixin, forms.Form):
    checked_fields = ("text",)

    text = _text(
        "Your comment on the notes",
        "Anything to add or correct. Your support person will read it.",
        rows=3,
        max_length=2000,
    )


CONTACT_BACK = {"dashboard": "coordinator_dashboard", "support": "buddy_support"}


class ContactForm(InitialsOnlyMixin, forms.Form):
    """A few taps: a line of notes (optional) and one button per way of being in touch."""

    checked_fields = ("notes",)

    mode = forms.ChoiceField(choices=ContactMode.choices, label="How")
    notes = forms.CharField(max_length=200, required=False, label="Notes (one line, optional)")
    back = forms.ChoiceField(
        choices=[(key, key) for key in CONTACT_BACK], required=False, widget=forms.HiddenInput
    )


class DiaryForm(InitialsOnlyMixin, forms.Form):
    checked_fields = ("text",)

    text = _text(
        "Today's entry",
        "How it went, what you noticed, what you might do differently. Only you can read it "
        "unless you share it.",
        rows=6,
        max_length=6000,
    )
