from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout, Submit
from django import forms

from buddyscheme.forms import CrispyMixin, FreeTextarea, PersonNameField
from buddyscheme.public_forms import HoneypotMixin

from .models import FrontDoor, HeardFrom, ReferenceDecision, Suitability


class FrontDoorForm(CrispyMixin, forms.ModelForm):
    submit_label = "Save the public page"

    slug = forms.SlugField(
        label="Address",
        max_length=40,
        help_text="The page is at /s/ followed by this address. Letters, numbers and hyphens, e.g. "
        "'north-buddies'. Avoid words that say what people live with.",
    )

    class Meta:
        model = FrontDoor
        fields = [
            "public_title",
            "offer",
            "who_for",
            "how_to_volunteer",
            "how_to_be_referred",
            "complaints_contact",
            "is_discreet",
            "is_published",
        ]
        labels = {
            "public_title": "Title",
            "is_discreet": "Discreet: never show a sensitive word in the title, address or "
            "description",
            "is_published": "Published: anyone with the address can see the page",
        }
        widgets = {
            "offer": FreeTextarea(attrs={"rows": 4}),
            "who_for": FreeTextarea(attrs={"rows": 3}),
            "how_to_volunteer": FreeTextarea(attrs={"rows": 3}),
            "how_to_be_referred": FreeTextarea(attrs={"rows": 3}),
            "complaints_contact": FreeTextarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, scheme, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].initial = scheme.slug
        self.order_fields(["slug", *self.Meta.fields])


class RefereeFields:
    """Two referees, as flat fields (referee1_name …), so the form works without JavaScript."""

    @staticmethod
    def build(number: int) -> dict:
        return {
            f"referee{number}_name": PersonNameField(label="Their name", max_length=120),
            f"referee{number}_email": forms.EmailField(label="Their email address"),
            f"referee{number}_relationship": forms.CharField(
                label="How do you know them?",
                max_length=120,
                help_text="For example: manager, teacher, volunteer coordinator, friend.",
            ),
            f"referee{number}_known_for": forms.CharField(
                label="How long have you known them?", max_length=60
            ),
        }


class ApplicationForm(HoneypotMixin, forms.Form):
    first_name = PersonNameField(max_length=150)
    last_name = PersonNameField(max_length=150)
    email = forms.EmailField(
        label="Email address", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = forms.CharField(
        label="Phone number",
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    motivation = forms.CharField(
        label="What attracts you to being a buddy?",
        max_length=3000,
        widget=FreeTextarea(attrs={"rows": 5}),
    )
    experience = forms.CharField(
        label="Any experience that helps (paid, volunteering or your own life)",
        max_length=3000,
        required=False,
        widget=FreeTextarea(attrs={"rows": 4}),
    )
    skills_languages = forms.CharField(
        label="Skills and languages you speak",
        max_length=2000,
        required=False,
        widget=FreeTextarea(attrs={"rows": 3}),
    )
    availability = forms.CharField(
        label="When are you usually free?",
        max_length=1000,
        help_text="For example: weekday evenings, Saturday mornings, about 2 hours a week.",
        widget=FreeTextarea(attrs={"rows": 3}),
    )
    heard_from = forms.ChoiceField(
        label="How did you hear about us?",
        choices=[("", "Choose one (optional)"), *HeardFrom.choices],
        required=False,
    )
    consent_to_checks = forms.BooleanField(
        label="I agree to the checks every buddy goes through: a DBS (criminal record) check "
        "and references from the two people above.",
        error_messages={"required": "Please agree to the checks: every buddy has them."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"
        for number in (1, 2):
            self.fields.update(RefereeFields.build(number))
        self.order_fields(
            [
                "first_name",
                "last_name",
                "email",
                "phone",
                "motivation",
                "experience",
                "skills_languages",
                "availability",
                "heard_from",
                *(
                    f"referee{n}_{part}"
                    for n in (1, 2)
                    for part in ("name", "email", "relationship", "known_for")
                ),
                "consent_to_checks",
                "website",
            ]
        )
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Fieldset("About you", "first_name", "last_name", "email", "phone"),
            Fieldset(
                "Being a buddy",
                "motivation",
                "experience",
                "skills_languages",
                "availability",
                "heard_from",
            ),
            HTML(
                '<h2 class="h3 mt-3">Two referees</h2><p class="form-text">People who know '
                "you well and are not family: we email each of them a short form.</p>"
            ),
            *(
                Fieldset(
                    title,
                    *(
                        f"referee{number}_{part}"
                        for part in ("name", "email", "relationship", "known_for")
                    ),
                )
                for number, title in ((1, "First referee"), (2, "Second referee"))
            ),
            Fieldset("Checks", "consent_to_checks"),
            # Off screen with its label: people never meet it, bots fill it.
            Div("website", css_class="honeypot", **{"aria-hidden": "true"}),
        )
        # The server's messages (with a summary at the top) rather than the browser's bubbles,
        # which screen readers and phone keyboards handle unevenly.
        self.helper.attrs = {"novalidate": ""}
        self.helper.add_input(Submit("submit", "Send my application", css_class="btn-lg w-100"))

    def clean(self):
        cleaned = super().clean()
        emails = [cleaned.get(f"referee{n}_email", "").lower() for n in (1, 2)]
        own = (cleaned.get("email") or "").lower()
        for number, referee_email in enumerate(emails, start=1):
            if referee_email and referee_email == own:
                self.add_error(
                    f"referee{number}_email", "A referee cannot be you: give their own address."
                )
        if emails[0] and emails[0] == emails[1]:
            self.add_error("referee2_email", "Give two different referees.")
        return cleaned

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            **{
                name: data[name]
                for name in (
                    "first_name",
                    "last_name",
                    "email",
                    "phone",
                    "motivation",
                    "experience",
                    "skills_languages",
                    "availability",
                    "heard_from",
                    "consent_to_checks",
                )
            },
            "referees": [
                {
                    part: data[f"referee{n}_{part}"]
                    for part in ("name", "email", "relationship", "known_for")
                }
                for n in (1, 2)
            ],
        }


class ReferenceForm(forms.Form):
    how_known = forms.CharField(
        label="How do you know the applicant, and for how long?",
        max_length=2000,
        widget=FreeTextarea(attrs={"rows": 3}),
    )
    suitable = forms.ChoiceField(
        label="Do you think they are suitable to volunteer with adults who may be vulnerable?",
        choices=Suitability.choices,
        widget=forms.RadioSelect,
    )
    suitability_comments = forms.CharField(
        label="Why do you say so?",
        max_length=3000,
        widget=FreeTextarea(attrs={"rows": 4}),
    )
    reliability = forms.CharField(
        label="How reliable are they (keeping appointments, doing what they say)?",
        max_length=2000,
        widget=FreeTextarea(attrs={"rows": 3}),
    )
    concerns = forms.CharField(
        label="Do you have any concerns about them working with vulnerable adults?",
        help_text="Leave empty if none. What you write is kept confidential by the scheme.",
        max_length=3000,
        required=False,
        widget=FreeTextarea(attrs={"rows": 3}),
    )
    consent_to_share = forms.BooleanField(
        label="The applicant may see this reference if they ask for it.",
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.add_input(Submit("submit", "Send the reference", css_class="btn-lg w-100"))


class ReferenceDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=ReferenceDecision.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label="Note",
        max_length=2000,
        required=False,
        widget=FreeTextarea(attrs={"rows": 2}),
    )
