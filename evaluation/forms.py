"""Forms for questionnaires: the coordinator's builder and the answers, one question at a time
on a phone or all together on the coordinator's screen."""

from datetime import date, timedelta

from django import forms
from django.utils import timezone

from buddyscheme.forms import CrispyMixin, FreeTextarea

from .models import (
    AUTOMATIC_OCCASIONS,
    Audience,
    Occasion,
    Purpose,
    Question,
    QuestionKind,
    Questionnaire,
)


class QuestionnaireForm(CrispyMixin, forms.Form):
    submit_label = "Create the questionnaire"
    name = forms.CharField(max_length=100, label="Name (staff only)")
    purpose = forms.ChoiceField(choices=Purpose.choices, initial=Purpose.OTHER)
    audience = forms.ChoiceField(choices=Audience.choices, label="Who answers it")


class QuestionEditForm(CrispyMixin, forms.Form):
    submit_label = "Save the question"
    text = forms.CharField(max_length=300, label="Question")
    kind = forms.ChoiceField(choices=QuestionKind.choices, label="Kind of answer")
    choices = forms.CharField(
        required=False,
        widget=FreeTextarea(attrs={"rows": 4}),
        label="Choices (one on each line)",
        help_text="For “Choose one” and “Choose any” only.",
    )
    required = forms.BooleanField(required=False, initial=True, label="An answer is needed")
    help_text = forms.CharField(
        max_length=300,
        required=False,
        label="Easy-read help",
        help_text="Short words, shown under the question. E.g. “0 means not at all.”",
    )
    low_label = forms.CharField(max_length=40, required=False, label="Label for 0 (scale only)")
    high_label = forms.CharField(max_length=40, required=False, label="Label for 10 (scale only)")

    def __init__(self, *args, question: Question | None = None, **kwargs):
        if question is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "text": question.text,
                "kind": question.kind,
                "choices": "\n".join(question.choices),
                "required": question.required,
                "help_text": question.help_text,
                "low_label": question.low_label,
                "high_label": question.high_label,
            }
        super().__init__(*args, **kwargs)

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        data["choices"] = data["choices"].splitlines()
        return data


class ScheduleForm(forms.Form):
    occasions = forms.MultipleChoiceField(
        choices=[(o.value, o.label) for o in AUTOMATIC_OCCASIONS],
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        label="Send it automatically at",
    )


class StartWithPersonForm(forms.Form):
    questionnaire = forms.ModelChoiceField(
        queryset=Questionnaire.objects.none(),
        widget=forms.Select(attrs={"class": "form-select"}),
        empty_label=None,
    )
    occasion = forms.ChoiceField(
        choices=Occasion.choices,
        label="When is this being asked",
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, questionnaires=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["questionnaire"].queryset = Questionnaire.objects.filter(
            pk__in=[q.pk for q in questionnaires]
        )


def answer_field(question: Question, required: bool) -> forms.Field:
    """The form field for one question: big radio buttons for a choice or a 0-10 scale."""
    label = question.text
    if question.kind == QuestionKind.SCALE:
        return forms.TypedChoiceField(
            label=label,
            choices=[(str(n), str(n)) for n in range(11)],
            coerce=str,
            widget=forms.RadioSelect,
            required=required,
            help_text=question.help_text,
        )
    if question.kind in (QuestionKind.SINGLE, QuestionKind.LIKERT):
        return forms.ChoiceField(
            label=label,
            choices=[(option, option) for option in question.options],
            widget=forms.RadioSelect,
            required=required,
            help_text=question.help_text,
        )
    if question.kind == QuestionKind.MULTIPLE:
        return forms.MultipleChoiceField(
            label=label,
            choices=[(option, option) for option in question.options],
            widget=forms.CheckboxSelectMultiple,
            required=required,
            help_text=question.help_text,
        )
    return forms.CharField(
        label=label,
        widget=FreeTextarea(attrs={"rows": 5}),
        required=required,
        max_length=4000,
        help_text=question.help_text,
    )


def _initial(question: Question, value):
    if value is None:
        return None
    return str(value) if question.kind == QuestionKind.SCALE else value


class AnswersForm(forms.Form):
    """The given questions (one on the phone's screen; all on the coordinator's). Required-ness
    is checked when the answers are sent, not on each save, so "finish later" always works."""

    def __init__(self, *args, questions: list[Question], saved: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            name = f"q{question.pk}"
            self.fields[name] = answer_field(question, required=False)
            self.fields[name].initial = _initial(question, saved.get(question.pk))
            self.fields[name].question = question  # type: ignore[attr-defined]

    def answers(self) -> dict[int, object]:
        return {q.pk: self.cleaned_data.get(f"q{q.pk}") for q in self.questions}


class PeriodForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="From")
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="To")

    @staticmethod
    def default_period(today: date | None = None) -> tuple[date, date]:
        today = today or timezone.localdate()
        return today - timedelta(days=365), today

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            raise forms.ValidationError("The period must end after it starts.")
        if start and end and (end - start).days > 366 * 5:
            raise forms.ValidationError("Choose a period of five years or less.")
        return cleaned
