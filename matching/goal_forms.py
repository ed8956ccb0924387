"""Forms for goals, the planned length and reviews (issue 18). Goal texts and notes may name
people, so each goes through the initials guard (buddyscheme/initials.py)."""

from django import forms

from buddyscheme.forms import FocusFirstErrorMixin
from buddyscheme.initials import IdentifyingDetailsFormMixin

from .goals import MAX_PLANNED_SESSIONS, Score
from .models import ReviewOutcome, ReviewWith

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_ERRORS = {"invalid": "Enter the date as day, month and year."}
SCORE_CHOICES = [(str(n), str(n)) for n in range(11)]


class GoalForm(FocusFirstErrorMixin, IdentifyingDetailsFormMixin, forms.Form):
    identifying_fields = ("text", "how_we_know")

    menu_item = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="From what they want",
        empty_label="Type it instead",
    )
    text = forms.CharField(
        max_length=200,
        required=False,
        label="The goal, in their words",
        help_text="Leave empty to use what they picked. Use initials, never names.",
    )
    how_we_know = forms.CharField(
        max_length=300,
        required=False,
        label="How we will know it is achieved",
        help_text="For example: “goes to the clinic on their own”.",
    )

    def __init__(self, *args, wants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["menu_item"].queryset = wants

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("menu_item") and not (cleaned.get("text") or "").strip():
            self.add_error("text", "Pick one of the things they want, or type the goal.")
        return cleaned


class PlanForm(FocusFirstErrorMixin, forms.Form):
    planned_sessions = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PLANNED_SESSIONS,
        label="Planned number of sessions",
        error_messages={
            "invalid": "Give the number of sessions as a whole number, such as 12.",
            "min_value": "Give at least 1 session, or leave it empty.",
            "max_value": f"Give at most {MAX_PLANNED_SESSIONS} sessions.",
        },
    )
    planned_end = forms.DateField(
        required=False,
        label="Planned end date",
        widget=DATE_WIDGET,
        error_messages=DATE_ERRORS,
    )


class GoalScoresMixin:
    """A 0–10 score and a short note for each goal, as fields `score_<pk>` and `note_<pk>`."""

    def add_goal_fields(self, lines) -> None:
        self.goal_lines = lines
        for line in lines:
            goal = line.goal
            self.fields[f"score_{goal.pk}"] = forms.TypedChoiceField(
                choices=SCORE_CHOICES,
                coerce=int,
                label="Score from 0 (not started) to 10 (achieved)",
                error_messages={"required": f"Give a score for “{goal.text}”."},
                initial=str(line.latest.score) if line.latest else None,
            )
            self.fields[f"note_{goal.pk}"] = forms.CharField(
                max_length=300, required=False, label="A note (optional)"
            )

    def identifying_field_names(self) -> list[str]:
        return [
            *super().identifying_field_names(),
            *(f"note_{line.goal.pk}" for line in self.goal_lines),
        ]

    def scores(self) -> dict[int, Score]:
        return {
            line.goal.pk: Score(
                self.cleaned_data[f"score_{line.goal.pk}"],
                self.cleaned_data.get(f"note_{line.goal.pk}") or "",
            )
            for line in self.goal_lines
        }

    def goal_fields(self):
        """(goal line, score field, note field) for each goal, for the template."""
        return [
            (line, self[f"score_{line.goal.pk}"], self[f"note_{line.goal.pk}"])
            for line in self.goal_lines
        ]


class ReviewForm(GoalScoresMixin, FocusFirstErrorMixin, IdentifyingDetailsFormMixin, forms.Form):
    identifying_fields = ("notes",)

    held_on = forms.DateField(label="Held on", widget=DATE_WIDGET, error_messages=DATE_ERRORS)
    held_with = forms.ChoiceField(
        choices=ReviewWith.choices, widget=forms.RadioSelect, label="Held with"
    )
    outcome = forms.ChoiceField(
        choices=ReviewOutcome.choices, widget=forms.RadioSelect, label="What did you decide?"
    )
    notes = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Notes",
        help_text="What was said and what changes. Use initials, never names.",
    )

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_goal_fields(lines)


class EndProgressForm(
    GoalScoresMixin, FocusFirstErrorMixin, IdentifyingDetailsFormMixin, forms.Form
):
    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_goal_fields(lines)
