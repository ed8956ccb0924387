"""Forms for referrals: the public form (two steps, no JavaScript needed) and the coordinator's
assessment, enrolment and decline."""

import re

from django import forms

from .initials import IdentifyingDetailsFormMixin
from .models import ConsentMethod, ContactMethod, DeclineReason, ReferralSource, ReferralUrgency
from .public_forms import HoneypotMixin
from .referrals import TEXT_LENGTH, ReferralDetails
from .validators import validate_person_name

SELF, SOMEONE_ELSE = "self", "else"
WHO_CHOICES = [(SELF, "I am referring myself"), (SOMEONE_ELSE, "I am referring someone else")]
YES_NO = [("yes", "Yes"), ("no", "No")]


def _yes(value) -> bool:
    return value == "yes"


class WhoForm(forms.Form):
    """The first question, on its own page (a GET form): the answer decides the questions."""

    who = forms.ChoiceField(
        choices=WHO_CHOICES,
        widget=forms.RadioSelect,
        label="Are you referring yourself or someone else?",
        error_messages={"required": "Choose one to continue."},
    )


class PublicReferralForm(HoneypotMixin, forms.Form):
    """The referral itself. `who` (from the first step) decides which questions are asked and
    how they are worded; `needs` are the names of the scheme's menu items."""

    referrer_name = forms.CharField(max_length=120, label="Your name", required=False)
    referrer_organisation = forms.CharField(
        max_length=120, label="Your organisation", required=False
    )
    referrer_role = forms.CharField(
        max_length=80, required=False, label="Your role", help_text="For example support worker."
    )
    agency_kind = forms.ChoiceField(
        label="What kind of service are you?",
        choices=[c for c in ReferralSource.choices if c[0] != ReferralSource.SELF],
        widget=forms.RadioSelect,
        required=False,
    )
    referrer_email = forms.EmailField(
        label="Your work email", required=False, help_text="We send a short acknowledgement."
    )
    referrer_phone = forms.CharField(max_length=30, label="Your work phone", required=False)

    person_name = forms.CharField(max_length=120, validators=[validate_person_name])
    person_email = forms.EmailField(required=False)
    person_phone = forms.CharField(max_length=30, required=False)
    preferred_contact = forms.ChoiceField(
        choices=[
            (ContactMethod.PHONE, "Phone call"),
            (ContactMethod.SMS, "Text message"),
            (ContactMethod.EMAIL, "Email"),
        ],
        widget=forms.RadioSelect,
        initial=ContactMethod.PHONE,
    )
    safe_to_leave_messages = forms.ChoiceField(
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether we may leave a message."},
    )
    needs = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="What help is wanted?"
    )
    other_help = forms.CharField(
        max_length=300,
        required=False,
        label="Anything else, in a few words",
        help_text="Please leave out health details: we talk about these in person.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    urgency = forms.ChoiceField(
        choices=ReferralUrgency.choices,
        widget=forms.RadioSelect,
        initial=ReferralUrgency.ROUTINE,
        label="How soon is help needed?",
        help_text="This is not an emergency service. If someone is in danger now, call 999. "
        "For urgent medical help, call NHS 111.",
    )
    consent_to_contact = forms.BooleanField(
        error_messages={"required": "We can only accept a referral with this agreement."},
    )
    referrer_may_be_told = forms.BooleanField(
        required=False,
        label="You may tell me when the referral is accepted or closed",
        help_text="We never share more than that.",
    )

    def __init__(self, *args, who: str, needs: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.who = who
        self.fields["needs"].choices = [(name, name) for name in needs]
        if not needs:
            del self.fields["needs"]
            self.fields["other_help"].label = "What help is wanted, in a few words"
        fields = self.fields
        if who == SELF:
            for name in self.agency_field_names:
                del fields[name]
            fields["person_name"].label = "Your name"
            fields["person_email"].label = "Your email"
            fields["person_phone"].label = "Your phone"
            fields["preferred_contact"].label = "How should we contact you?"
            fields["safe_to_leave_messages"].label = "Is it safe to leave you a message?"
            fields["consent_to_contact"].label = "I agree to the scheme contacting me about this"
        else:
            for name in ("referrer_name", "referrer_organisation", "referrer_email"):
                fields[name].required = True
            fields["agency_kind"].required = True
            fields["person_name"].label = "Their name"
            fields["person_email"].label = "Their email"
            fields["person_phone"].label = "Their phone"
            fields["preferred_contact"].label = "How should we contact them?"
            fields["safe_to_leave_messages"].label = "Is it safe to leave them a message?"
            fields[
                "consent_to_contact"
            ].label = "The person agrees to this referral and to the scheme contacting them"
        fields["person_email"].help_text = "Give an email address, a phone number, or both."

    agency_field_names = (
        "referrer_name",
        "referrer_organisation",
        "referrer_role",
        "agency_kind",
        "referrer_email",
        "referrer_phone",
        "referrer_may_be_told",
    )

    @property
    def agency_fields(self):
        return [self[name] for name in self.agency_field_names if name in self.fields]

    @property
    def person_fields(self):
        names = ("person_name", "person_email", "person_phone")
        return [self[name] for name in names]

    def clean(self):
        cleaned = super().clean()
        email, phone = cleaned.get("person_email"), (cleaned.get("person_phone") or "").strip()
        if not email and not phone and "person_email" not in self.errors:
            self.add_error(
                "person_email", "Give an email address or a phone number, so we can get in touch."
            )
        contact = cleaned.get("preferred_contact")
        if contact == ContactMethod.EMAIL and not email and "person_email" not in self.errors:
            self.add_error("person_email", "Give an email address, or choose another way.")
        if contact in (ContactMethod.PHONE, ContactMethod.SMS) and not phone:
            self.add_error("person_phone", "Give a phone number, or choose email.")
        return cleaned

    @property
    def rate_key(self) -> str:
        """Whose posts are counted: the referrer's email, or the person's own email or phone
        (a self-referral may give only a phone)."""
        data = self.cleaned_data
        if self.who == SOMEONE_ELSE:
            return data.get("referrer_email") or ""
        return data.get("person_email") or re.sub(r"\D", "", data.get("person_phone") or "")

    def details(self) -> ReferralDetails:
        data = self.cleaned_data
        agency = self.who == SOMEONE_ELSE
        return ReferralDetails(
            source=data["agency_kind"] if agency else ReferralSource.SELF,
            person_name=data["person_name"],
            person_email=data.get("person_email") or "",
            person_phone=data.get("person_phone") or "",
            preferred_contact=data["preferred_contact"],
            safe_to_leave_messages=_yes(data["safe_to_leave_messages"]),
            consent_to_contact=data["consent_to_contact"],
            needs=list(data.get("needs") or []),
            other_help=data.get("other_help") or "",
            urgency=data["urgency"],
            referrer_name=data.get("referrer_name", "") if agency else "",
            referrer_organisation=data.get("referrer_organisation", "") if agency else "",
            referrer_role=data.get("referrer_role", "") if agency else "",
            referrer_email=data.get("referrer_email", "") if agency else "",
            referrer_phone=data.get("referrer_phone", "") if agency else "",
            referrer_may_be_told=bool(data.get("referrer_may_be_told")) if agency else False,
        )


class AssessmentForm(IdentifyingDetailsFormMixin, forms.Form):
    """Eligibility questions (may be saved part-answered), needs and risks (initials only)."""

    needs = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Needs"
    )
    risks = forms.CharField(
        required=False,
        max_length=TEXT_LENGTH,
        label="Risks",
        help_text="To them, to a buddy, or from the situation. Initials only, never names.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    identifying_fields = ("risks",)

    def __init__(self, *args, questions, needs: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["needs"].choices = [(name, name) for name in needs]
        self.questions = list(questions)
        for question in self.questions:
            self.fields[f"question_{question.pk}"] = forms.ChoiceField(
                label=question.text, choices=YES_NO, widget=forms.RadioSelect, required=False
            )
        self.order_fields([f"question_{question.pk}" for question in self.questions])

    @classmethod
    def for_referral(cls, referral, *, questions, needs, **kwargs) -> "AssessmentForm":
        questions = list(questions)
        initial = {"needs": referral.needs, "risks": referral.risks}
        for question in questions:
            answer = referral.eligibility_answers.get(str(question.pk))
            if answer is not None:
                initial[f"question_{question.pk}"] = "yes" if answer else "no"
        return cls(questions=questions, needs=needs, initial=initial, **kwargs)

    @property
    def question_fields(self):
        return [self[f"question_{question.pk}"] for question in self.questions]

    def answers(self) -> dict[int, bool]:
        return {
            question.pk: _yes(self.cleaned_data[f"question_{question.pk}"])
            for question in self.questions
            if self.cleaned_data.get(f"question_{question.pk}")
        }


class ReferralEnrolForm(forms.Form):
    consent_to_hold_data = forms.BooleanField(
        label="They agree to us holding their information (explained in plain words)",
        error_messages={
            "required": "We can only enrol someone who agrees to us holding their information."
        },
    )
    consent_given_how = forms.ChoiceField(
        choices=[(ConsentMethod.VERBAL, "Verbally"), (ConsentMethod.PAPER, "On paper")],
        initial=ConsentMethod.VERBAL,
        widget=forms.RadioSelect,
        label="How did they agree?",
    )
    buddies_needed = forms.IntegerField(
        min_value=1, max_value=3, initial=1, label="How many buddies do they need?"
    )


class ReferralDeclineForm(IdentifyingDetailsFormMixin, forms.Form):
    reason = forms.ChoiceField(
        choices=DeclineReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a reason."},
    )
    signposting = forms.CharField(
        required=False,
        max_length=TEXT_LENGTH,
        label="Where we suggested instead",
        help_text="Services we pointed them to. Initials only if you mention anyone.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    identifying_fields = ("signposting",)
