import zoneinfo

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import password_validation
from django.core.validators import MinValueValidator

from .initials import IdentifyingDetailsFormMixin
from .models import (
    BUDDY_PIPELINE,
    CASE_NOTE_LENGTH,
    BuddyStage,
    ConsentMethod,
    DBSCheck,
    EligibilityQuestion,
    Membership,
    ParticipantEnrolment,
    Profile,
    ReferralSource,
    Role,
    Scheme,
    TrainingModule,
    User,
)
from .selectors import ParticipantStage, PersonStatus
from .validators import clean_free_text, clean_person_name, validate_person_name
from .vetting import support_person_choices


class CrispyMixin:
    submit_label = "Save"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", self.submit_label, css_class="btn-lg w-100 mt-2"))


class FilterColumnsMixin:
    """A list's filter form, laid out in one grid row by `_filter_form.html`: `columns` names the
    fields shown, in order, with their Bootstrap column classes (a hidden page number is not)."""

    columns: dict[str, str] = {}

    def column_fields(self) -> list:
        return [(self[name], classes) for name, classes in self.columns.items()]


def posted_id(value) -> int:
    """A row id sent by a button or a ticked box; 0, which finds nothing, for anything else
    ("abc", "²", "-1", a number too big for the database)."""
    text = (value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else 0


class RowsChoiceField(forms.ModelMultipleChoiceField):
    """Ticked rows; a value that is not a row id ("abc", a number past 64 bits, which SQLite
    cannot even compare) is "not one of the choices" before the database sees it."""

    def _check_values(self, value):
        for pk in value:
            if not posted_id(str(pk)):
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": pk},
                )
        return super()._check_values(value)


class PersonNameField(forms.CharField):
    """A person's name: stored composed and tidied, refused with hidden formatting characters
    or a flood of accents (buddyscheme/validators.py)."""

    default_validators = [validate_person_name]

    def to_python(self, value):
        return clean_person_name(super().to_python(value))


class FreeTextarea(forms.Textarea):
    """The box for free text (a note, a message, a description). What arrives is cleaned before
    any field sees it: bidi controls removed and floods of combining marks cut
    (buddyscheme/validators.py); everything else typed is kept, so a form sent back with an
    error shows the text as it will be stored."""

    def value_from_datadict(self, data, files, name):
        value = super().value_from_datadict(data, files, name)
        return clean_free_text(value) if isinstance(value, str) else value


class FocusFirstErrorMixin:
    """A form sent back with errors puts the cursor, and a screen reader, on the first field
    that needs fixing, even when the form was folded away (a closed <details>)."""

    def add_error(self, field, error):
        # Every error passes here: the fields' own, clean()'s, and a view's after a service
        # said no. The first field in the form's order that has one gets the focus.
        super().add_error(field, error)
        first = next((name for name in self.fields if name in self._errors), None)
        for name, form_field in self.fields.items():
            if name == first:
                form_field.widget.attrs["autofocus"] = True
            else:
                form_field.widget.attrs.pop("autofocus", None)


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
        field_classes = {
            "preferred_name": PersonNameField,
            "emergency_contact_name": PersonNameField,
        }

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

    preferred_name = PersonNameField(
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
        widget=FreeTextarea(attrs={"rows": 2}),
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
    consent_given_how = forms.ChoiceField(
        choices=[(ConsentMethod.VERBAL, "Verbally"), (ConsentMethod.PAPER, "On paper")],
        initial=ConsentMethod.VERBAL,
        required=False,
        widget=forms.RadioSelect,
        label="How did they agree?",
        help_text="Recorded on their consents page, where a withdrawal is recorded too.",
    )
    buddies_needed = forms.IntegerField(
        min_value=1, max_value=3, initial=1, label="How many buddies do they need?"
    )

    def __init__(self, *args, questions, consent_given=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["referral_source"].choices = ReferralSource.choices
        if consent_given:
            # Already on their consents page: how it was given is recorded there.
            del self.fields["consent_given_how"]
        self.questions = list(questions)
        for question in self.questions:
            self.fields[f"question_{question.pk}"] = forms.TypedChoiceField(
                label=question.text,
                choices=[("yes", "Yes"), ("no", "No")],
                coerce=lambda value: value == "yes",
                widget=forms.RadioSelect,
            )

    @classmethod
    def for_enrolment(
        cls, enrolment: ParticipantEnrolment | None, *, questions, consent_given: bool
    ) -> "EnrolmentForm":
        """The form as stored: what the summary above it describes, ready to correct."""
        if enrolment is None:
            return cls(
                questions=questions,
                consent_given=consent_given,
                initial={"consent_to_hold_data": consent_given},
            )
        stored = enrolment.eligibility_answers
        initial = {
            "referral_source": enrolment.referral_source,
            "referral_detail": enrolment.referral_detail,
            "consent_to_hold_data": consent_given,
            "buddies_needed": enrolment.buddies_needed,
        }
        for question in questions:
            if str(question.pk) in stored:
                initial[f"question_{question.pk}"] = "yes" if stored[str(question.pk)] else "no"
        return cls(questions=questions, consent_given=consent_given, initial=initial)

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


class CaseNoteForm(IdentifyingDetailsFormMixin, FocusFirstErrorMixin, forms.Form):
    """A note on the person's record, through the initials-only guard (pass `names=`)."""

    identifying_fields = ("text",)

    text = forms.CharField(
        max_length=CASE_NOTE_LENGTH,
        label="New note",
        help_text="Use initials, not names, for example “G. rang about Tuesday”.",
        widget=FreeTextarea(attrs={"rows": 3}),
    )


PAGE_LIMIT = 10_000
# A wait longer than this is a mistake in the filter, not a wait (and would overflow a date).
LONGEST_WAIT_DAYS = 3650


class DaysWaitingField(forms.IntegerField):
    """A waiting-time filter: whole days, 0 to LONGEST_WAIT_DAYS, optional."""

    def __init__(self, **kwargs):
        message = f"Give a number of days from 0 to {LONGEST_WAIT_DAYS}."
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Days waiting")
        kwargs.setdefault("help_text", "Participants waiting at least this many days for a buddy.")
        super().__init__(
            min_value=0,
            max_value=LONGEST_WAIT_DAYS,
            widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            error_messages=dict.fromkeys(("invalid", "min_value", "max_value"), message),
            **kwargs,
        )


class PeopleFilterForm(FilterColumnsMixin, forms.Form):
    """The people list's filters, from the query string: anything else is explained, not a 500."""

    columns = {
        "q": "col-12 col-md-6 col-xl-3",
        "role": "col-6 col-md-3 col-xl-2",
        "stage": "col-6 col-md-3 col-xl-2",
        "status": "col-6 col-md-4 col-xl-2",
        "min_days": "col-6 col-md-4 col-xl-2",
    }

    q = forms.CharField(max_length=100, required=False, label="Name or email")
    role = forms.ChoiceField(
        required=False,
        choices=[("", "Everyone"), *Role.choices],
        label="Role",
        error_messages={"invalid_choice": "Choose one of the roles in the list."},
    )
    stage = forms.ChoiceField(
        required=False,
        label="Stage",
        choices=[
            ("", "Any stage"),
            ("Buddies", BuddyStage.choices),
            ("Participants", ParticipantStage.choices),
        ],
        error_messages={"invalid_choice": "Choose one of the stages in the list."},
    )
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any status"), *PersonStatus.choices],
        label="Status",
        error_messages={"invalid_choice": "Choose one of the statuses in the list."},
    )
    min_days = DaysWaitingField()
    page = forms.IntegerField(
        required=False, min_value=1, max_value=PAGE_LIMIT, widget=forms.HiddenInput
    )

    def filters(self) -> dict:
        """The valid filters; a field with an error filters nothing (its message says why)."""
        cleaned = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return {
            "search": cleaned.get("q") or "",
            "role": cleaned.get("role") or "",
            "stage": cleaned.get("stage") or "",
            "status": cleaned.get("status") or "",
            "min_days": cleaned.get("min_days"),
        }


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
        widgets = {"description": FreeTextarea(attrs={"rows": 3})}

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
