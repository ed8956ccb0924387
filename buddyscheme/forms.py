import zoneinfo

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import password_validation
from django.core.validators import MinValueValidator

from .models import (
    BUDDY_PIPELINE,
    BuddyStage,
    DBSCheck,
    EligibilityQuestion,
    Membership,
    Profile,
    ReferralSource,
    Role,
    Scheme,
    TrainingModule,
    User,
)
from .vetting import support_person_choices


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
            try:
                password_validation.validate_password(first, User(email=self.email or ""))
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class StageMoveForm(forms.Form):
    to_stage = forms.ChoiceField(label="Move to")
    evidence = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Evidence",
        help_text="What was checked, by whom.",
    )

    def __init__(self, *args, current_stage, **kwargs):
        super().__init__(*args, **kwargs)
        choices = []
        if current_stage in BUDDY_PIPELINE and current_stage != BuddyStage.APPROVED:
            following = BUDDY_PIPELINE[BUDDY_PIPELINE.index(current_stage) + 1]
            choices.append((following, BuddyStage(following).label))
        if current_stage == BuddyStage.PAUSED:
            choices.append((BuddyStage.APPROVED, "Approved (back from a pause)"))
        choices += [
            (s, BuddyStage(s).label)
            for s in (BuddyStage.PAUSED, BuddyStage.LEFT)
            if s != current_stage
        ]
        self.fields["to_stage"].choices = choices


class DBSCheckForm(forms.ModelForm):
    class Meta:
        model = DBSCheck
        fields = ["level", "certificate_number", "issue_date", "renewal_due", "update_service"]
        widgets = {
            "issue_date": forms.DateInput(attrs={"type": "date"}),
            "renewal_due": forms.DateInput(attrs={"type": "date"}),
        }


class TrainingCompletionForm(forms.Form):
    module = forms.ModelChoiceField(queryset=None)
    completed_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, scheme, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["module"].queryset = TrainingModule.objects.filter(scheme=scheme)


class EnrolmentForm(forms.Form):
    referral_source = forms.ChoiceField(label="How were they referred?")
    referral_detail = forms.CharField(
        max_length=120, required=False, label="Referred by (service name)"
    )
    consent_to_hold_data = forms.BooleanField(
        required=False,
        label="They agree to us holding their information (explained in plain words)",
    )
    buddies_needed = forms.IntegerField(
        min_value=1, max_value=3, initial=1, label="How many buddies do they need?"
    )

    def __init__(self, *args, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["referral_source"].choices = ReferralSource.choices
        self.questions = list(questions)
        for question in self.questions:
            self.fields[f"question_{question.pk}"] = forms.TypedChoiceField(
                label=question.text,
                choices=[("yes", "Yes"), ("no", "No")],
                coerce=lambda value: value == "yes",
                widget=forms.RadioSelect,
            )

    def answers(self) -> dict[int, bool]:
        return {q.pk: self.cleaned_data[f"question_{q.pk}"] for q in self.questions}


class SupportPersonForm(forms.Form):
    """One of the scheme's active coordinators, or nobody named (`empty_label` says what then)."""

    support_person = forms.ModelChoiceField(
        queryset=Membership.objects.none(),
        required=False,
        label="Support person",
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={
            "invalid_choice": "Choose one of this scheme's active coordinators.",
        },
    )

    def __init__(self, *args, scheme, empty_label, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["support_person"]
        field.queryset = support_person_choices(scheme)
        field.empty_label = empty_label
        field.label_from_instance = lambda membership: membership.user.display_name


# --- Settings pages ---------------------------------------------------------------------------


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class SchemeDetailsForm(CrispyMixin, forms.ModelForm):
    submit_label = "Save details"

    class Meta:
        model = Scheme
        fields = ["name", "sender_name", "time_zone", "emergency_phone", "retention_months"]
        labels = {
            "name": "Name of the scheme (staff see this)",
            "sender_name": "Who emails and texts are from",
            "time_zone": "Time zone",
            "emergency_phone": "Phone number buddies ring if an alert cannot be sent",
            "retention_months": "Keep records of an ended match for (months)",
        }
        help_texts = {
            "retention_months": "After this many months its records are anonymised.",
        }
        widgets = {"emergency_phone": forms.TextInput(attrs={"type": "tel"})}
        error_messages = {
            "name": {"unique": "Another scheme already has this name. Choose another."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].widget = forms.Select(choices=time_zone_choices())
        retention = self.fields["retention_months"]
        retention.validators.append(MinValueValidator(1))
        retention.widget.attrs["min"] = 1


WEEKDAY_CHOICES = [
    ("0", "Monday"),
    ("1", "Tuesday"),
    ("2", "Wednesday"),
    ("3", "Thursday"),
    ("4", "Friday"),
    ("5", "Saturday"),
    ("6", "Sunday"),
]


class OfficeHoursForm(CrispyMixin, forms.ModelForm):
    """The days and hours the office covers; the model keeps the days as "0,1,2,3,4"."""

    submit_label = "Save office hours"

    working_days = forms.MultipleChoiceField(
        choices=WEEKDAY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        label="Days the office is open",
        error_messages={"required": "Tick at least one day the office is open."},
    )

    class Meta:
        model = Scheme
        fields = ["working_days", "working_hours_start", "working_hours_end"]
        labels = {"working_hours_start": "Opens at", "working_hours_end": "Closes at"}
        widgets = {
            "working_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "working_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["working_days"] = [str(day) for day in self.instance.working_day_numbers]

    def clean_working_days(self) -> str:
        return ",".join(sorted(set(self.cleaned_data["working_days"])))


class TrainingModuleForm(CrispyMixin, forms.ModelForm):
    class Meta:
        model = TrainingModule
        fields = ["name", "description", "mandatory", "valid_for_months", "order"]
        labels = {
            "description": "What it covers (optional)",
            "mandatory": "Everyone must complete it before they are matched or meet anyone",
            "valid_for_months": "Needs refreshing every (months)",
            "order": "Position in the list",
        }
        help_texts = {
            "valid_for_months": "Leave empty if it never needs refreshing. A change applies to "
            "training recorded from now on.",
            "order": "Lower numbers come first.",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, scheme, **kwargs):
        editing = _editing(kwargs)
        self.submit_label = "Save changes" if editing else "Add module"
        super().__init__(*args, **kwargs)
        self.scheme = scheme
        if not editing:
            # Required counts at once (every buddy without it stops being cleared): a choice,
            # not a default.
            self.initial["mandatory"] = False
        self.fields["valid_for_months"].validators.append(MinValueValidator(1))
        self.fields["valid_for_months"].widget.attrs["min"] = 1

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        clash = TrainingModule.objects.filter(scheme=self.scheme, name__iexact=name)
        if clash.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("There is already a module with this name.")
        return name


class EligibilityQuestionForm(CrispyMixin, forms.ModelForm):
    eligible_answer = forms.TypedChoiceField(
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        label="Which answer means they can join?",
    )

    class Meta:
        model = EligibilityQuestion
        fields = ["text", "eligible_answer", "order"]
        labels = {"text": "Question (answered yes or no)", "order": "Position in the list"}
        help_texts = {
            "text": "For example “Do you live in the borough?”. People already enrolled keep "
            "the answers they gave.",
            "order": "Lower numbers come first.",
        }

    def __init__(self, *args, **kwargs):
        self.submit_label = "Save changes" if _editing(kwargs) else "Add question"
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["eligible_answer"] = "yes" if self.instance.eligible_answer else "no"


def _editing(form_kwargs) -> bool:
    instance = form_kwargs.get("instance")
    return instance is not None and instance.pk is not None
