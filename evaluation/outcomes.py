"""Wellbeing outcomes, honestly (issue 19): the paired ONS4 change from a match's start to its
end, for the people who answered both, with the number of pairs, the median change, a Wilcoxon
signed-rank test and the share who moved out of ONS's "low" band (for anxiety: out of "high").
Every count is suppressed below 5 (evaluation.suppression); below 5 pairs nothing else about a
measure is shown either, since a median of four people is near enough their answers.

`wellbeing_summary` and `shareable_quotes` return plain dataclasses for the funder report.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from scipy import stats

from buddyscheme.initials import identifying_details
from buddyscheme.models import Scheme

from .models import Answer, Invitation, Occasion, QuestionKind, Response
from .questionnaire_defaults import ONS4_MEASURES
from .suppression import SMALL_NUMBER, is_suppressed, shown

MEASURE_LABELS = {
    "life_satisfaction": "Life satisfaction",
    "worthwhile": "Feeling that what you do is worthwhile",
    "happiness": "Happiness yesterday",
    "anxiety": "Anxiety yesterday",
}

# ONS's published thresholds for the four personal wellbeing measures.
POSITIVE_BANDS = ((0, 4, "low"), (5, 6, "medium"), (7, 8, "high"), (9, 10, "very high"))
ANXIETY_BANDS = ((0, 1, "very low"), (2, 3, "low"), (4, 5, "medium"), (6, 10, "high"))

CAVEATS = [
    "These are the people who answered both at the start and at the end of their match; people "
    "who stopped early or did not answer are not in it, and they may have fared differently.",
    "There is no comparison group: a change may have happened without a buddy (time, treatment, "
    "other support), so it shows what changed, not that the scheme caused it.",
    "With small numbers a real change can fail to show, and a chance change can look real; the "
    "p-value is the chance of a shift at least this large if nothing had changed.",
    "Numbers from 1 to 4 are shown as “fewer than 5” so that nobody can be recognised; below 5 "
    "pairs nothing else is shown for that measure.",
]


def band(measure: str, score: int) -> str:
    for low, high, name in ANXIETY_BANDS if measure == "anxiety" else POSITIVE_BANDS:
        if low <= score <= high:
            return name
    raise ValueError(f"{score} is not on the 0-10 scale")


def starts_in_problem_band(measure: str, score: int) -> bool:
    """ONS's "low" band, or for anxiety its "high" band: where the change is looked for."""
    return band(measure, score) == ("high" if measure == "anxiety" else "low")


@dataclass
class MeasureOutcome:
    measure: str
    label: str
    pairs: int
    suppressed: bool  # fewer than 5 pairs: nothing but "fewer than 5" is shown
    median_start: float | None = None
    median_end: float | None = None
    median_change: float | None = None
    wilcoxon_statistic: float | None = None
    p_value: float | None = None
    # Those who began in the problem band, and how many of them had left it by the end.
    in_problem_band: int = 0
    moved_out: int = 0
    share_moved_out: float | None = None  # None when either count is suppressed
    better_is_lower: bool = False

    @property
    def pairs_shown(self):
        return shown(self.pairs)

    @property
    def in_problem_band_shown(self):
        return shown(self.in_problem_band)

    @property
    def moved_out_shown(self):
        return shown(self.moved_out)

    @property
    def problem_band(self) -> str:
        return "high" if self.better_is_lower else "low"


@dataclass
class WellbeingSummary:
    start: date
    end: date
    measures: list[MeasureOutcome]
    people: int  # people with at least one measure answered at both start and end
    caveats: list[str] = field(default_factory=lambda: list(CAVEATS))

    @property
    def people_shown(self):
        return shown(self.people)

    @property
    def suppressed(self) -> bool:
        return is_suppressed(self.people)


@dataclass
class Quote:
    text: str
    questionnaire: str
    question: str
    month: str  # "November 2026": when, without the day


def _period_bounds(scheme: Scheme, start: date, end: date) -> tuple[datetime, datetime]:
    zone = scheme.zone
    return (
        timezone.make_aware(datetime.combine(start, time.min), zone),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), zone),
    )


def paired_scores(scheme: Scheme, start: date, end: date) -> dict[str, list[tuple[int, int]]]:
    """{measure: [(start score, end score)]} for each match whose end-of-match ONS4 answers were
    sent in the period and whose start-of-match answers were sent too (in two queries)."""
    since, until = _period_bounds(scheme, start, end)
    ends = list(
        Invitation.objects.filter(
            questionnaire__scheme=scheme,
            questionnaire__key="ons4",
            occasion=Occasion.END,
            match__isnull=False,
            completed_at__gte=since,
            completed_at__lt=until,
        ).values_list("pk", "match_id", "person_id")
    )
    keys = {(match_id, person_id) for _, match_id, person_id in ends}
    answers = Answer.objects.filter(
        response__completed_at__isnull=False,
        response__invitation__questionnaire__scheme=scheme,
        response__invitation__questionnaire__key="ons4",
        response__invitation__occasion__in=[Occasion.START, Occasion.END],
        response__invitation__match_id__in={match_id for match_id, _ in keys},
        question__code__in=ONS4_MEASURES,
        question__kind=QuestionKind.SCALE,
    ).values_list(
        "response__invitation__match_id",
        "response__invitation__person_id",
        "response__invitation__occasion",
        "question__code",
        "value",
    )
    scores: dict[tuple[int, int, str], dict[str, int]] = {}
    for match_id, person_id, occasion, code, value in answers:
        if (match_id, person_id) in keys and isinstance(value, int):
            scores.setdefault((match_id, person_id, code), {})[occasion] = value
    pairs: dict[str, list[tuple[int, int]]] = {measure: [] for measure in ONS4_MEASURES}
    for (_, _, code), by_occasion in sorted(scores.items()):
        if Occasion.START in by_occasion and Occasion.END in by_occasion:
            pairs[code].append((by_occasion[Occasion.START], by_occasion[Occasion.END]))
    return pairs


def measure_outcome(measure: str, pairs: list[tuple[int, int]]) -> MeasureOutcome:
    """The figures for one measure from its (start, end) pairs."""
    outcome = MeasureOutcome(
        measure=measure,
        label=MEASURE_LABELS[measure],
        pairs=len(pairs),
        suppressed=len(pairs) < SMALL_NUMBER,
        better_is_lower=measure == "anxiety",
    )
    if outcome.suppressed:
        return outcome
    before = [b for b, _ in pairs]
    after = [a for _, a in pairs]
    changes = [a - b for b, a in pairs]
    outcome.median_start = float(statistics.median(before))
    outcome.median_end = float(statistics.median(after))
    outcome.median_change = float(statistics.median(changes))
    if any(changes):
        result = stats.wilcoxon(after, before)
        outcome.wilcoxon_statistic = float(result.statistic)
        outcome.p_value = float(result.pvalue)
    # Everyone's score the same at the end as at the start: no test to run (scipy refuses), no
    # change to report.
    started_low = [(b, a) for b, a in pairs if starts_in_problem_band(measure, b)]
    outcome.in_problem_band = len(started_low)
    outcome.moved_out = sum(1 for _, a in started_low if not starts_in_problem_band(measure, a))
    if (
        outcome.in_problem_band
        and not is_suppressed(outcome.in_problem_band)
        and not is_suppressed(outcome.moved_out)
    ):
        outcome.share_moved_out = outcome.moved_out / outcome.in_problem_band
    return outcome


def wellbeing_summary(scheme: Scheme, start: date, end: date) -> WellbeingSummary:
    """The paired ONS4 change for matches that ended (their end answers sent) in the period."""
    pairs = paired_scores(scheme, start, end)
    since, until = _period_bounds(scheme, start, end)
    people = (
        Invitation.objects.filter(
            questionnaire__scheme=scheme,
            questionnaire__key="ons4",
            occasion=Occasion.END,
            match__isnull=False,
            completed_at__gte=since,
            completed_at__lt=until,
            match__questionnaire_invitations__occasion=Occasion.START,
            match__questionnaire_invitations__questionnaire__key="ons4",
            match__questionnaire_invitations__completed_at__isnull=False,
        )
        .values("person_id")
        .distinct()
        .count()
    )
    return WellbeingSummary(
        start=start,
        end=end,
        measures=[measure_outcome(measure, pairs[measure]) for measure in ONS4_MEASURES],
        people=people,
    )


def _redacted(text: str, names: list[str]) -> str:
    """The quote with anything that could identify someone (a name, a phone number…) replaced."""
    hits = identifying_details(text, names)
    for hit in sorted(hits, key=lambda hit: hit.start, reverse=True):
        text = text[: hit.start] + "[…]" + text[hit.end :]
    return text


def shareable_quotes(scheme: Scheme, start: date, end: date) -> list[Quote]:
    """Free-text answers from responses sent in the period whose writer said yes to "May we
    quote what you wrote, without your name?", with names and other details taken out."""
    since, until = _period_bounds(scheme, start, end)
    responses = (
        Response.objects.filter(
            quote_consent=True,
            completed_at__gte=since,
            completed_at__lt=until,
            invitation__questionnaire__scheme=scheme,
        )
        .select_related(
            "invitation__questionnaire",
            "invitation__person__user",
            "invitation__match__buddy__user",
            "invitation__match__participant__user",
        )
        .order_by("completed_at", "pk")
    )
    by_response = {response.pk: response for response in responses}
    answers = (
        Answer.objects.filter(response_id__in=by_response, question__kind=QuestionKind.TEXT)
        .select_related("question")
        .order_by("response_id", "question__position")
    )
    quotes = []
    for answer in answers:
        text = str(answer.value or "").strip()
        if not text:
            continue
        response = by_response[answer.response_id]
        invitation = response.invitation
        people = [invitation.person.user]
        if invitation.match is not None:
            people += [invitation.match.buddy.user, invitation.match.participant.user]
        names = [name for user in people for name in (user.first_name, user.last_name) if name]
        assert response.completed_at is not None
        quotes.append(
            Quote(
                text=_redacted(text, names),
                questionnaire=invitation.questionnaire.name,
                question=answer.question.text,
                month=timezone.localtime(response.completed_at, scheme.zone).strftime("%B %Y"),
            )
        )
    return quotes
