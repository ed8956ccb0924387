from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import password_validation

from .models import Profile, Role


class CrispyMixin:
    submit_label = "Save"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", self.submit_label, css_class="btn-lg w-100 mt-2"))


class ProfileForm(CrispyMixin, forms.ModelForm):
    class Meta:
        model = Profile
        fields = [
            "preferred_name",
            "pronouns",
            "phone",
            "preferred_contact",
            "contact_notes",
            "emergency_contact_name",
            "emergency_contact_phone",
            "emergency_contact_relationship",
        ]
        widgets = {
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "emergency_contact_phone": forms.TextInput(attrs={"type": "tel"}),
            "preferred_name": forms.TextInput(attrs={"autocomplete": "nickname"}),
            "preferred_contact": forms.RadioSelect,
        }
        labels = {"preferred_contact": "How should we contact you?"}

    def __init__(self, *args, show_emergency_contact=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not show_emergency_contact:
            for name in (
                "emergency_contact_name",
                "emergency_contact_phone",
                "emergency_contact_relationship",
            ):
                del self.fields[name]
        else:
            self.fields[
                "emergency_contact_name"
            ].help_text = "Someone we can call if you are ever not safe."

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        digits = [c for c in phone if c.isdigit()]
        if phone and not (7 <= len(digits) <= 15):
            raise forms.ValidationError(
                "Enter a phone number with 7 to 15 digits, for example 07700 900123."
            )
        return phone


class InvitationForm(CrispyMixin, forms.Form):
    submit_label = "Send invitation"

    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(choices=Role.choices, widget=forms.RadioSelect, initial=Role.BUDDY)
    is_facilitator = forms.BooleanField(required=False, label="Can facilitate drop-in groups")
    is_on_call = forms.BooleanField(
        required=False, label="On-call responder for lone-working alerts"
    )


class AcceptInvitationForm(CrispyMixin, forms.Form):
    submit_label = "Create my account"

    preferred_name = forms.CharField(
        max_length=60, required=False, label="What should we call you? (optional)"
    )
    password1 = forms.CharField(
        label="Choose a password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters. A short sentence is easy to remember.",
    )
    password2 = forms.CharField(
        label="Type the password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email=None, **kwargs):
        self.email = email
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords are different. Please type them again.")
        elif first:
            from .models import User

            try:
                password_validation.validate_password(first, User(email=self.email or ""))
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned
