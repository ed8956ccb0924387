"""Forms for interviews, their questions and the recruitment source (issue 15)."""

from django import forms

from .forms import CrispyMixin
from .interviews import NOTES_LENGTH, REASON_LENGTH
from .models import InterviewOutcome, InterviewQuestion, RecruitmentSource


class RecruitmentSourceForm(forms.Form):
    recruitment_source = forms.ChoiceField(
        choices=[("", "Not known"), *RecruitmentSource.choices],
        required=False,
        label="How they heard of us",
    )


class InterviewQuestionForm(CrispyMixin, forms.ModelForm):
    submit_label = "Save the question"

    class Meta:
        model = InterviewQuestion
        fields = ["text", "order"]
        labels = {"text": "Question", "order": "Position (lower first)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["order"].required = False
        self.fields["order"].help_text = "Leave empty to ask it last."


class InterviewNotesForm(forms.Form):
    """One box of notes per question asked."""

    def __init__(self, *args, answers, **kwargs):
        super().__init__(*args, **kwargs)
        self.answers = answers
        for answer in answers:
            self.fields[f"answer_{answer.pk}"] = forms.CharField(
                label=answer.question,
                required=False,
                initial=answer.notes,
                max_length=NOTES_LENGTH,
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def notes(self) -> dict[int, str]:
        return {answer.pk: self.cleaned_data[f"answer_{answer.pk}"] for answer in self.answers}


class InterviewOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=InterviewOutcome.choices,
        widget=forms.RadioSelect,
        label="Outcome",
        error_messages={"required": "Choose proceed, not now or not suitable."},
    )
    reason = forms.CharField(
        required=False,
        max_length=REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="What we tell the applicant",
        help_text="Sent to them by email in these words: be kind and plain. Needed for "
        "“not now” and “not suitable”.",
    )

    def clean(self):
        cleaned = super().clean()
        declined = cleaned.get("outcome") in (
            InterviewOutcome.NOT_NOW,
            InterviewOutcome.NOT_SUITABLE,
        )
        if declined and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", "Write the reason: the applicant is told it.")
        return cleaned
