import re

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Fieldset, Layout, Submit
from django import forms
from django.utils.html import format_html, format_html_join

from buddyscheme.discretion import is_sensitive, masked
from buddyscheme.forms import CrispyMixin, DaysWaitingField, FocusFirstErrorMixin, FreeTextarea
from buddyscheme.initials import IdentifyingDetailsFormMixin
from buddyscheme.models import Membership, Role

from .models import (
    DAY_PARTS,
    WEEKDAYS,
    AgeBand,
    MatchProfile,
    MatchState,
    MenuCategory,
    MenuItem,
    slot_index,
    validate_postcode_district,
)

FULL_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?[0-9][A-Z]{2}$")

AVAILABILITY_CHOICES = [
    (str(slot_index(day, part)), f"{WEEKDAYS[day]} {label.split(' ')[0].lower()}")
    for day in range(len(WEEKDAYS))
    for part, (_key, label, _hours) in enumerate(DAY_PARTS)
]


def _split_list(text: str) -> list[str]:
    seen = []
    for part in (text or "").replace(";", ",").split(","):
        value = " ".join(part.split()).lower()
        if value and value not in seen:
            seen.append(value)
    return seen[:20]


class MatchProfileForm(forms.ModelForm):
    """The menu, filled by a buddy (offers), a participant (wants) or a coordinator with them."""

    items = forms.ModelMultipleChoiceField(
        queryset=MenuItem.objects.none(), widget=forms.CheckboxSelectMultiple, required=False
    )
    availability_slots = forms.MultipleChoiceField(
        choices=AVAILABILITY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="When are you free?",
    )
    languages_text = forms.CharField(
        required=False,
        label="Languages you speak",
        help_text="Separate with commas, e.g. English, Shona",
    )
    interests_text = forms.CharField(
        required=False,
        label="Interests",
        help_text="Separate with commas, e.g. music, football, cooking",
    )
    wants_age_bands = forms.MultipleChoiceField(
        choices=AgeBand.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Age of buddy you would like (leave empty for any)",
    )

    postcode_district = forms.CharField(
        max_length=10,
        required=False,
        label="First half of your postcode",
        help_text="For example SW9 or M14. We never use your full address for matching.",
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "size": 8}),
    )

    class Meta:
        model = MatchProfile
        fields = [
            "postcode_district",
            "travel_range",
            "gender",
            "age_band",
            "wants_buddy_gender",
            "about",
            "capacity",
        ]
        widgets = {
            "postcode_district": forms.TextInput(attrs={"autocapitalize": "characters", "size": 5}),
            "travel_range": forms.RadioSelect,
            "gender": forms.RadioSelect,
            "wants_buddy_gender": forms.RadioSelect,
            "about": FreeTextarea(attrs={"rows": 4}),
        }
        labels = {
            "postcode_district": "First half of your postcode",
            "travel_range": "How far can you travel?",
            "gender": "Your gender",
            "age_band": "Your age",
            "wants_buddy_gender": "Would you like a buddy of a particular gender?",
            "about": "About you (a few lines; no surnames, addresses or health details)",
        }
        help_texts = {
            "postcode_district": "For example SW9 or M14. We never use your full address for matching."
        }

    def __init__(self, *args, scheme, side, **kwargs):
        super().__init__(*args, **kwargs)
        self.side = side
        self.fields["items"].queryset = MenuItem.objects.filter(
            category__scheme=scheme, is_active=True
        ).select_related("category")
        # A participant's menu is read on their phone: sensitive words stay masked, and the
        # full names are a tap away, in small type (buddyscheme.discretion).
        words = scheme.sensitive_word_list if side == "participant" else []
        self.fields["items"].label_from_instance = lambda item: masked(
            f"{item.category.name}: {item.name}", words
        )
        private = [
            f"{item.category.name}: {item.name}"
            for item in self.fields["items"].queryset
            if is_sensitive(f"{item.category.name}: {item.name}", words)
        ]
        if private:
            self.fields["items"].help_text = format_html(
                '<details class="mt-1"><summary>Show the hidden words in full</summary>'
                '<ul class="small mb-0 mt-1">{}</ul></details>',
                format_html_join("", "<li>{}</li>", ((name,) for name in private)),
            )
        self.fields["items"].label = (
            "What can you offer?" if side == "buddy" else "What would you like help with?"
        )
        self.fields["wants_buddy_gender"].choices = [("", "No preference")] + list(
            self.fields["wants_buddy_gender"].choices
        )[1:]
        self.fields["wants_buddy_gender"].required = False
        if self.instance.pk:
            self.initial.setdefault("items", list(self.instance.items.all()))
            self.initial.setdefault(
                "availability_slots", [str(i) for i in self.instance.available_slots]
            )
            self.initial.setdefault("languages_text", ", ".join(self.instance.languages))
            self.initial.setdefault("interests_text", ", ".join(self.instance.interests))
            self.initial.setdefault("wants_age_bands", self.instance.wants_age_bands)
        if side == "buddy":
            del self.fields["wants_buddy_gender"]
            del self.fields["wants_age_bands"]
            self.fields["capacity"].label = "How many people could you support at once?"
            self.fields["capacity"].widget.attrs.update({"min": 1, "max": 5})
        else:
            del self.fields["capacity"]
            del self.fields["travel_range"]
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Fieldset("What you offer" if side == "buddy" else "What you want", "items"),
            Fieldset(
                "When", Field("availability_slots", template="matching/availability_grid.html")
            ),
            Fieldset(
                "Where",
                "postcode_district",
                *(["travel_range"] if side == "buddy" else []),
            ),
            Fieldset(
                "About you",
                "languages_text",
                "interests_text",
                "gender",
                "age_band",
                "about",
                *(["capacity"] if side == "buddy" else []),
            ),
            *(
                [Fieldset("Your buddy", "wants_buddy_gender", "wants_age_bands")]
                if side == "participant"
                else []
            ),
        )
        self.helper.add_input(Submit("submit", "Save", css_class="btn-lg w-100 mt-2"))

    def clean_postcode_district(self):
        typed = " ".join(self.cleaned_data["postcode_district"].split()).upper()
        # Someone who types their whole postcode gets only the first half kept: the rest is
        # never stored, so matching cannot reveal an address.
        full = FULL_POSTCODE.match(typed)
        district = full.group(1) if full else typed.replace(" ", "")
        if district:
            validate_postcode_district(district)
        return district

    def save(self, commit=True):
        profile = super().save(commit=False)
        profile.availability = sum(
            1 << int(slot) for slot in self.cleaned_data["availability_slots"]
        )
        profile.languages = _split_list(self.cleaned_data["languages_text"])
        profile.interests = _split_list(self.cleaned_data["interests_text"])
        if self.side == "participant":
            profile.wants_age_bands = list(self.cleaned_data["wants_age_bands"])
        if commit:
            profile.save()
            profile.items.set(self.cleaned_data["items"])
        return profile


class ReasonForm(FocusFirstErrorMixin, CrispyMixin, forms.Form):
    submit_label = "Send"
    reason = forms.CharField(
        max_length=300, widget=FreeTextarea(attrs={"rows": 3}), label="Please tell us why"
    )


class DeclineForm(CrispyMixin, forms.Form):
    """Asked only after someone says no; they may leave it empty."""

    submit_label = "Send my answer: no, thank you"
    reason = forms.CharField(
        max_length=200,
        required=False,
        widget=FreeTextarea(attrs={"rows": 3}),
        label="Would you like to tell us why? (optional)",
        help_text="It helps your coordinator find a better match. You can leave it empty.",
    )


class AnswerForm(forms.Form):
    """A coordinator writes down an answer someone gave by phone or in person."""

    side = forms.ChoiceField(label="Whose answer", widget=forms.RadioSelect)
    answer = forms.ChoiceField(
        label="Their answer",
        choices=[("yes", "Yes, go ahead"), ("no", "No, thank you")],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        max_length=200, required=False, label="Their reason, if they said no and gave one"
    )

    def __init__(self, *args, match, **kwargs):
        super().__init__(*args, **kwargs)
        names = {
            "buddy": f"The buddy, {match.buddy.user.display_name}",
            "participant": f"The participant, {match.participant.user.display_name}",
        }
        self.fields["side"].choices = [(side, names[side]) for side in match.sides_to_answer]
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page's own <form> posts it to the answer URL


class IntroductionForm(forms.Form):
    intro_at = forms.DateTimeField(
        label="Introduction meeting (date and time)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M"],
    )


class EndForm(forms.Form):
    reason = forms.CharField(max_length=200, label="Why is the match ending?")
    never_again = forms.BooleanField(required=False, label="Never re-match this pair")


class SpeedMeetingForm(forms.Form):
    buddy = forms.ModelChoiceField(queryset=None)
    participant = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args, scheme, **kwargs):
        super().__init__(*args, **kwargs)
        members = Membership.objects.filter(scheme=scheme, is_active=True).select_related(
            "user__profile"
        )
        self.fields["buddy"].queryset = members.filter(role=Role.BUDDY)
        self.fields["participant"].queryset = members.filter(role=Role.PARTICIPANT)
        for name in ("buddy", "participant"):
            self.fields[name].label_from_instance = lambda m: (
                f"{m.user.display_name} ({m.user.email})"
            )


# The start of a postcode district, as the waiting list's filter takes it: "S", "SW", "SW9".
DISTRICT_START = re.compile(r"^[A-Z]{1,2}([0-9][A-Z0-9]?)?$")
DISTRICT_MESSAGE = "Give only the first half of the postcode, for example SW9 or M14."


class WaitingListFilterForm(forms.Form):
    """The waiting list's filters, from the query string: a bad one is explained, not a 500."""

    district = forms.CharField(
        required=False,
        max_length=10,
        label="Postcode district",
        widget=forms.TextInput(attrs={"placeholder": "e.g. SW9", "autocapitalize": "characters"}),
        error_messages={"max_length": DISTRICT_MESSAGE},
    )
    min_days = DaysWaitingField(label="Waiting at least (days)", help_text="")

    def clean_district(self) -> str:
        district = "".join(self.cleaned_data["district"].split()).upper()
        if district and not DISTRICT_START.match(district):
            raise forms.ValidationError(DISTRICT_MESSAGE)
        return district


class MatchListFilterForm(forms.Form):
    state = forms.ChoiceField(
        required=False,
        choices=[("", "All"), *MatchState.choices],
        error_messages={"invalid_choice": "Choose one of the states in the list."},
    )


# --- The menu's settings page -------------------------------------------------------------------


class MenuCategoryForm(CrispyMixin, forms.ModelForm):
    prefix = "category"  # two forms share the menu page: keep their field ids apart

    class Meta:
        model = MenuCategory
        fields = ["name", "order"]
        labels = {"name": "Category name", "order": "Position in the menu"}
        help_texts = {"order": "Lower numbers come first."}

    def __init__(self, *args, scheme, **kwargs):
        instance = kwargs.get("instance")
        self.submit_label = "Save category" if instance and instance.pk else "Add category"
        super().__init__(*args, **kwargs)
        self.scheme = scheme

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        clash = MenuCategory.objects.filter(scheme=self.scheme, name__iexact=name)
        if clash.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("There is already a category with this name.")
        return name


class MenuItemForm(CrispyMixin, forms.ModelForm):
    """An item of the menu. Unticking "offered" retires it (items are never deleted)."""

    prefix = "item"

    class Meta:
        model = MenuItem
        fields = ["category", "name", "description", "order", "is_active"]
        labels = {
            "category": "Category",
            "name": "What it is, in a few words",
            "description": "A longer explanation (optional)",
            "order": "Position in its category",
            "is_active": "Offered on the menu",
        }
        help_texts = {
            "name": "People see this when they fill in their menu, so keep it plain and "
            "discreet: no condition names.",
            "order": "Lower numbers come first.",
            "is_active": "Untick to retire it: people who chose it keep it until they next "
            "change their menu, and nobody new can choose it.",
        }

    def __init__(self, *args, scheme, **kwargs):
        instance = kwargs.get("instance")
        editing = instance is not None and instance.pk is not None
        self.submit_label = "Save item" if editing else "Add item"
        super().__init__(*args, **kwargs)
        self.scheme = scheme
        self.fields["category"].queryset = MenuCategory.objects.filter(scheme=scheme)
        self.fields["category"].empty_label = None
        self.fields["category"].error_messages["invalid_choice"] = (
            "Choose one of this scheme's categories."
        )
        if not editing:
            del self.fields["is_active"]  # a new item is offered

    def clean(self):
        cleaned = super().clean()
        category, name = cleaned.get("category"), (cleaned.get("name") or "").strip()
        if category and name:
            cleaned["name"] = name
            clash = MenuItem.objects.filter(category=category, name__iexact=name)
            if clash.exclude(pk=self.instance.pk).exists():
                self.add_error("name", f"“{category.name}” already has an item with this name.")
        return cleaned


class RematchHandledForm(IdentifyingDetailsFormMixin, FocusFirstErrorMixin, forms.Form):
    """How a re-match request was answered without a new match (initials only)."""

    identifying_fields = ("note",)

    note = forms.CharField(
        max_length=300,
        label="How it was handled",
        help_text="Use initials, not names, for example “Talked with P.: happy to carry on”.",
        widget=FreeTextarea(attrs={"rows": 3}),
    )


class RematchNewMatchForm(forms.Form):
    """The buddy for the new match, from the participant's best candidates."""

    buddy = forms.TypedChoiceField(
        coerce=int, label="New buddy", error_messages={"required": "Choose a buddy."}
    )

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["buddy"].choices = [("", "Choose a buddy")] + [
            (
                candidate.buddy.pk,
                f"{candidate.buddy.user.display_name} (score "
                f"{candidate.suggestion.total:.0f}, {candidate.places_left} free)",
            )
            for candidate in candidates
        ]
