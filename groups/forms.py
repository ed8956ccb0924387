from django import forms
from django.utils import timezone

from buddyscheme.forms import CrispyMixin, FreeTextarea
from buddyscheme.initials import IdentifyingDetailsFormMixin
from buddyscheme.localtime import LocalTimeProblem, local_to_utc
from buddyscheme.models import Membership, Role
from buddyscheme.public_forms import HoneypotMixin
from meetings.models import Venue

from .models import FACILITATOR_TASKS, PeerGroup, Rating

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class GroupForm(CrispyMixin, forms.ModelForm):
    submit_label = "Save the group"

    class Meta:
        model = PeerGroup
        fields = [
            "name",
            "neutral_name",
            "kind",
            "schedule",
            "schedule_text",
            "purpose",
            "venue",
            "insurance_checked_on",
            "health_and_safety_checked_on",
            "premises_rules_checked_on",
            "signage_text",
            "complaints_contact",
            "is_active",
        ]
        widgets = {
            "purpose": FreeTextarea(attrs={"rows": 3}),
            "insurance_checked_on": DATE_WIDGET,
            "health_and_safety_checked_on": DATE_WIDGET,
            "premises_rules_checked_on": DATE_WIDGET,
        }
        labels = {
            "neutral_name": "Name in messages to attendees",
            "insurance_checked_on": "Insurance checked on (venues outside our building)",
            "health_and_safety_checked_on": "Health and safety checked on (outside our building)",
            "premises_rules_checked_on": "Premises' rules checked on (outside our building)",
            "signage_text": "Signage text",
        }

    def __init__(self, *args, scheme, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["venue"].queryset = Venue.objects.filter(scheme=scheme, is_active=True)
        self.fields[
            "venue"
        ].help_text = "Its risk assessment must be current on the day of each session."


class SessionForm(CrispyMixin, forms.Form):
    submit_label = "Plan the session"
    day = forms.DateField(widget=DATE_WIDGET, label="Date")
    starts = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"), label="From"
    )
    ends = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"), label="Until"
    )

    def __init__(self, *args, zone, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone

    def clean(self):
        cleaned = super().clean()
        day, starts, ends = cleaned.get("day"), cleaned.get("starts"), cleaned.get("ends")
        if day and starts and ends:
            try:
                cleaned["planned_start"] = local_to_utc(day, starts, self.zone, "first")
                cleaned["planned_end"] = local_to_utc(day, ends, self.zone, "first")
            except LocalTimeProblem as problem:
                raise forms.ValidationError(str(problem)) from None
        return cleaned


class FacilitatorForm(CrispyMixin, forms.Form):
    submit_label = "Add facilitator"
    membership = forms.ModelChoiceField(queryset=Membership.objects.none(), label="Facilitator")

    def __init__(self, *args, scheme, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["membership"]
        field.queryset = (
            Membership.objects.filter(scheme=scheme, is_active=True, role=Role.COORDINATOR)
            | Membership.objects.filter(
                scheme=scheme, is_active=True, role=Role.BUDDY, is_facilitator=True
            )
        ).select_related("user__profile")
        field.label_from_instance = lambda m: (
            f"{m.user.display_name} ({m.get_role_display().lower()})"
        )


class MemberAddForm(CrispyMixin, forms.Form):
    """The group check: the scheme's own questions, every one answered yes."""

    submit_label = "Check and add to the group"
    membership = forms.ModelChoiceField(queryset=Membership.objects.none(), label="Participant")

    def __init__(self, *args, scheme, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        field = self.fields["membership"]
        field.queryset = Membership.objects.filter(
            scheme=scheme, role=Role.PARTICIPANT, is_active=True
        ).select_related("user__profile")
        field.label_from_instance = lambda m: m.user.display_name
        for question in questions:
            self.fields[f"q{question.pk}"] = forms.BooleanField(required=False, label=question.text)

    def answers(self) -> dict[int, bool]:
        return {q.pk: bool(self.cleaned_data.get(f"q{q.pk}")) for q in self.questions}


class QuestionForm(CrispyMixin, forms.Form):
    submit_label = "Add the question"
    text = forms.CharField(
        max_length=160, label="A yes/no question someone must answer yes to join"
    )


class TasksForm(forms.Form):
    done = forms.MultipleChoiceField(
        choices=FACILITATOR_TASKS, required=False, widget=forms.CheckboxSelectMultiple
    )


class CountsForm(forms.Form):
    new_count = forms.IntegerField(min_value=0, max_value=500, label="New this time")
    returning_count = forms.IntegerField(min_value=0, max_value=500, label="Came before")


class ExcludeForm(CrispyMixin, forms.Form):
    submit_label = "Exclude and tell the coordinator"
    reason = forms.CharField(
        max_length=1000,
        widget=FreeTextarea(attrs={"rows": 3}),
        help_text="What happened that made the group unsafe. Use initials only.",
    )
    review_on = forms.DateField(widget=DATE_WIDGET, label="Review by")

    def clean_review_on(self):
        review_on = self.cleaned_data["review_on"]
        if review_on <= timezone.localdate():
            raise forms.ValidationError("Choose a date after today.")
        return review_on


class ExclusionReviewForm(CrispyMixin, forms.Form):
    submit_label = "Record the review"
    decision = forms.ChoiceField(
        choices=[("lift", "Lift: they may come again"), ("keep", "Keep it until a later review")],
        widget=forms.RadioSelect,
    )
    review_on = forms.DateField(widget=DATE_WIDGET, required=False, label="Next review (if kept)")
    note = forms.CharField(max_length=300, required=False, label="Note (initials only)")


class FeedbackForm(HoneypotMixin, forms.Form):
    felt_welcome = forms.TypedChoiceField(
        choices=Rating.choices, coerce=int, widget=forms.RadioSelect, label="Did you feel welcome?"
    )
    felt_safe = forms.TypedChoiceField(
        choices=Rating.choices, coerce=int, widget=forms.RadioSelect, label="Did you feel safe?"
    )
    would_come_again = forms.TypedChoiceField(
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        label="Would you come again?",
    )
    comments = forms.CharField(
        max_length=1000,
        required=False,
        widget=FreeTextarea(attrs={"rows": 3}),
        label="Anything else? (optional)",
        help_text="Please do not write your name or anyone else's.",
    )


class GroupDebriefForm(IdentifyingDetailsFormMixin, forms.Form):
    identifying_fields = ("went_well", "did_not_go_well", "to_pick_up")
    went_well = forms.CharField(
        max_length=2000, widget=FreeTextarea(attrs={"rows": 3}), label="What went well"
    )
    did_not_go_well = forms.CharField(
        max_length=2000,
        required=False,
        widget=FreeTextarea(attrs={"rows": 3}),
        label="What did not go well",
    )
    to_pick_up = forms.CharField(
        max_length=2000,
        required=False,
        widget=FreeTextarea(attrs={"rows": 3}),
        label="Issues to pick up (concerns, what to do next time)",
        help_text="Initials only: no names, numbers or addresses.",
    )


class ReplyForm(CrispyMixin, forms.Form):
    submit_label = "Send reply"
    text = forms.CharField(
        max_length=2000, widget=FreeTextarea(attrs={"rows": 3}), label="Your reply"
    )


class ComplaintForm(IdentifyingDetailsFormMixin, forms.Form):
    received_on = forms.DateField(widget=DATE_WIDGET, label="Received on")
    summary = forms.CharField(
        max_length=2000,
        widget=FreeTextarea(attrs={"rows": 3}),
        label="What it is about",
        help_text="Initials only: no names, numbers or addresses.",
    )
    identifying_fields = ("summary",)


class ComplaintCloseForm(forms.Form):
    outcome = forms.CharField(max_length=300, label="How it was followed up")
