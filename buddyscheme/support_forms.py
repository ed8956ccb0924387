"""Forms for concerns, one-to-ones, contact and the diary. Free text is checked for the names of
the people the buddy supports (initials only) and saved only once the writer edits it or
confirms it is all right."""

from django import forms

from .models import ConcernKind, ConcernOutcome, ContactMode, Membership
from .name_check import initials_warnings


class InitialsOnlyMixin:
    """`checked_fields` are looked at for `names`; a hit is an error on that field until the
    writer changes the text or ticks `names_checked` (shown only then)."""

    checked_fields: tuple[str, ...] = ()

    def __init__(self, *args, names=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.names = list(names)
        self.fields["names_checked"] = forms.BooleanField(
            required=False,
            label="I have checked: it does not name anyone. Save it as it is.",
        )
        self.names_found: list[str] = []

    def visible_fields(self):
        return [
            field
            for field in super().visible_fields()
            if field.name != "names_checked" or self.names_found or self["names_checked"].value()
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("names_checked"):
            return cleaned
        for name in self.checked_fields:
            found = initials_warnings(cleaned.get(name) or "", self.names)
            if found:
                self.names_found += [hit for hit in found if hit not in self.names_found]
                self.add_error(
                    name,
                    f"This names {_spoken_list(found)}. Notes use initials only (for example "
                    f"“{found[0][0]}.”): change it, or tick the box below if it is not about "
                    "the person you support.",
                )
        return cleaned


def _spoken_list(names: list[str]) -> str:
    quoted = [f"“{name}”" for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


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
