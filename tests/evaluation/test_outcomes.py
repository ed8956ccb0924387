"""Wellbeing outcomes on known data: figures worked out by hand, the Wilcoxon result equal to
scipy's called directly, suppression at 4 and 5, the quotes people agreed to share."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from scipy import stats

from buddyscheme.models import Role
from evaluation import outcomes
from evaluation import questionnaires as services
from evaluation.models import Occasion, QuestionKind
from evaluation.questionnaire_defaults import QUOTE_CONSENT
from evaluation.suppression import SUPPRESSED
from matching.models import Match

from ..factories import MembershipFactory, SchemeFactory
from .helpers import paired

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
ENDED = datetime(2026, 6, 15, 12, 0, tzinfo=LONDON)
PERIOD = (date(2026, 4, 1), date(2027, 3, 31))

# Ten matches, worked by hand (see each test).
LIFE = (
    [1, 2, 3, 4, 2, 3, 4, 0, 6, 8],
    [5, 6, 7, 5, 8, 3, 4, 1, 7, 7],
)
ANXIETY = (
    [8, 7, 6, 9, 6, 2, 3, 5, 7, 10],
    [3, 5, 6, 4, 2, 2, 3, 5, 6, 4],
)
WORTHWHILE = ([5] * 10, [5] * 10)  # nobody changed
HAPPY = (
    [4, 4, 4, 4, 4, 4, 4, 4, 4, 4],
    [4, 4, 4, 4, 4, 4, 4, 4, 4, 6],
)


@pytest.fixture
def scheme():
    return SchemeFactory(sender_name="Appointments")


def _match(scheme):
    return Match.objects.create(
        scheme=scheme,
        buddy=MembershipFactory(scheme=scheme, role=Role.BUDDY),
        participant=MembershipFactory(scheme=scheme, role=Role.PARTICIPANT),
        state="ended",
    )


def _answered(scheme, count, at=ENDED):
    for i in range(count):
        paired(
            scheme,
            _match(scheme),
            {
                "life_satisfaction": LIFE[0][i],
                "worthwhile": WORTHWHILE[0][i],
                "happiness": HAPPY[0][i],
                "anxiety": ANXIETY[0][i],
            },
            {
                "life_satisfaction": LIFE[1][i],
                "worthwhile": WORTHWHILE[1][i],
                "happiness": HAPPY[1][i],
                "anxiety": ANXIETY[1][i],
            },
            ended_at=at,
        )


def _by_measure(summary):
    return {measure.measure: measure for measure in summary.measures}


def test_ons_bands():
    assert [outcomes.band("life_satisfaction", s) for s in (0, 4, 5, 6, 7, 8, 9, 10)] == [
        "low",
        "low",
        "medium",
        "medium",
        "high",
        "high",
        "very high",
        "very high",
    ]
    assert [outcomes.band("anxiety", s) for s in (0, 1, 2, 3, 4, 5, 6, 10)] == [
        "very low",
        "very low",
        "low",
        "low",
        "medium",
        "medium",
        "high",
        "high",
    ]


def test_the_paired_change_on_known_data(scheme):
    _answered(scheme, 10)
    summary = outcomes.wellbeing_summary(scheme, *PERIOD)
    assert summary.people == 10
    measures = _by_measure(summary)

    life = measures["life_satisfaction"]
    assert life.pairs == 10 and not life.suppressed
    # Starts sorted 0,1,2,2,3,3,4,4,6,8: median 3. Ends 1,3,4,5,5,6,7,7,7,8: median 5.5.
    # Changes sorted -1,0,0,1,1,1,4,4,4,6: median 1.
    assert (life.median_start, life.median_end, life.median_change) == (3.0, 5.5, 1.0)
    # Zeros dropped: |d| = 4,4,4,1,6,1,1,1 ranked 6,6,6,2.5,8,2.5,2.5,2.5; the one fall (-1)
    # has rank 2.5, so W = min(33.5, 2.5) = 2.5.
    assert life.wilcoxon_statistic == 2.5
    direct = stats.wilcoxon(LIFE[1], LIFE[0])
    assert life.wilcoxon_statistic == pytest.approx(float(direct.statistic))
    assert life.p_value == pytest.approx(float(direct.pvalue))
    assert 0 < life.p_value < 0.05
    # Eight began in the low band (0-4); five of them ended at 5 or more.
    assert (life.in_problem_band, life.moved_out) == (8, 5)
    assert life.share_moved_out == pytest.approx(5 / 8)

    anxiety = measures["anxiety"]
    assert anxiety.better_is_lower and anxiety.problem_band == "high"
    # Changes sorted -6,-5,-5,-4,-2,-1,0,0,0,0: median -1.5.
    assert anxiety.median_change == -1.5
    direct = stats.wilcoxon(ANXIETY[1], ANXIETY[0])
    assert anxiety.p_value == pytest.approx(float(direct.pvalue))
    assert anxiety.wilcoxon_statistic == pytest.approx(float(direct.statistic))
    # Seven began in the high band (6-10): ends 3,5,6,4,2,6,4, so five left it.
    assert (anxiety.in_problem_band, anxiety.moved_out) == (7, 5)
    assert anxiety.share_moved_out == pytest.approx(5 / 7)

    worthwhile = measures["worthwhile"]
    # Nobody changed: no test to run (scipy refuses), and it says so rather than failing.
    assert worthwhile.median_change == 0 and worthwhile.p_value is None
    assert worthwhile.in_problem_band == 0 and worthwhile.share_moved_out is None

    happy = measures["happiness"]
    # All ten began low (4); one left it: a count of 1 is suppressed, and so is the share.
    assert (happy.in_problem_band, happy.moved_out) == (10, 1)
    assert happy.moved_out_shown == SUPPRESSED and happy.share_moved_out is None


def test_four_pairs_are_suppressed_and_five_are_shown(scheme):
    _answered(scheme, 4)
    summary = outcomes.wellbeing_summary(scheme, *PERIOD)
    assert summary.suppressed and summary.people_shown == SUPPRESSED
    for measure in summary.measures:
        assert measure.pairs == 4 and measure.suppressed
        assert measure.pairs_shown == SUPPRESSED
        assert measure.median_change is None and measure.p_value is None
        assert measure.share_moved_out is None

    _answered(scheme, 1)
    summary = outcomes.wellbeing_summary(scheme, *PERIOD)
    assert summary.people_shown == 5
    life = _by_measure(summary)["life_satisfaction"]
    assert life.pairs_shown == 5 and not life.suppressed
    assert life.median_change is not None
    # The first four matches and the first again: all five began low (1,2,3,4,1) and ended at
    # 5 or more (5,6,7,5,5).
    assert (life.in_problem_band, life.moved_out) == (5, 5)
    assert life.moved_out_shown == 5 and life.share_moved_out == 1.0


def test_only_pairs_whose_end_falls_in_the_period_and_that_have_a_start(scheme):
    _answered(scheme, 5)
    _answered(scheme, 3, at=datetime(2026, 3, 1, 12, 0, tzinfo=LONDON))  # before the period
    # End answered, start never answered.
    match = _match(scheme)
    questionnaire = services.defaults_ensure(scheme)["ons4"]
    invitation = services.invitation_create(
        person=match.participant,
        questionnaire=questionnaire,
        occasion=Occasion.END,
        match=match,
        now=ENDED,
    )
    questions = services.questions_of(invitation)
    services.answers_save(invitation=invitation, answers={q.pk: "5" for q in questions}, now=ENDED)
    services.response_complete(invitation=invitation, now=ENDED)
    summary = outcomes.wellbeing_summary(scheme, *PERIOD)
    assert summary.people == 5
    assert {m.pairs for m in summary.measures} == {5}


def test_the_summary_takes_the_same_queries_however_many_pairs(scheme):
    _answered(scheme, 5)
    with CaptureQueriesContext(connection) as few:
        outcomes.wellbeing_summary(scheme, *PERIOD)
    _answered(scheme, 5)
    with CaptureQueriesContext(connection) as many:
        summary = outcomes.wellbeing_summary(scheme, *PERIOD)
    assert summary.people == 10
    assert len(many) == len(few) == 3


def _exit_answers(invitation, consent: str, text: str):
    answers = {}
    for question in services.questions_of(invitation):
        if question.code == QUOTE_CONSENT:
            answers[question.pk] = consent
        elif question.kind in (QuestionKind.SINGLE, QuestionKind.LIKERT):
            answers[question.pk] = question.options[0]
        elif question.kind == QuestionKind.TEXT and "difference" in question.text:
            answers[question.pk] = text
    return answers


def test_shareable_quotes_only_with_consent_and_without_names(scheme):
    exit_form = services.defaults_ensure(scheme)["exit"]
    quotes = {}
    for consent in ("Yes", "No"):
        match = _match(scheme)
        match.buddy.user.first_name = "Roberta"
        match.buddy.user.save()
        invitation = services.invitation_create(
            person=match.participant,
            questionnaire=exit_form,
            occasion=Occasion.END,
            match=match,
            now=ENDED,
        )
        services.answers_save(
            invitation=invitation,
            answers=_exit_answers(
                invitation, consent, f"Roberta helped me feel less alone ({consent})."
            ),
            now=ENDED,
        )
        services.response_complete(invitation=invitation, now=ENDED)
        quotes[consent] = invitation
    shared = outcomes.shareable_quotes(scheme, *PERIOD)
    assert [quote.text for quote in shared] == ["[…] helped me feel less alone (Yes)."]
    assert shared[0].month == "June 2026"
    assert shared[0].questionnaire == exit_form.name
    assert outcomes.shareable_quotes(scheme, date(2027, 4, 1), date(2027, 5, 1)) == []


def _wellbeing_rows(scheme):
    from evaluation.report import funder_report_create, report_table

    report = funder_report_create(scheme=scheme, starts_on=PERIOD[0], ends_on=PERIOD[1], by=None)
    table = report_table(report, "wellbeing")
    return {row[0]: row[1:] for row in table.rows}


def test_the_funder_report_prints_the_paired_change_and_hides_small_numbers(scheme):
    _answered(scheme, 10)
    life = _wellbeing_rows(scheme)["Life satisfaction"]
    expected_p = stats.wilcoxon(LIFE[1], LIFE[0]).pvalue
    # Pairs, median start, median end, median change, p-value, left the low band.
    assert life == [10, 3, 5.5, 1, round(expected_p, 3), "5 of 8"]


def test_the_funder_report_shows_fewer_than_five_pairs_as_nothing_but_that(scheme):
    _answered(scheme, 4)
    life = _wellbeing_rows(scheme)["Life satisfaction"]
    assert life == [SUPPRESSED, "", "", "", "", ""]
