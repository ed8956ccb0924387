"""The funder report: a list of sections, each a table (and usually a chart) of figures for the
scheme's chosen period, and the services that make it and record each look at it.

The report is built from `SECTION_BUILDERS`, in order; each builder takes the report and the
period's figures and returns its sections, so outcomes (wellbeing change, shared quotes) are one
more builder each. Every number is suppressed once, here, when the table is made: the page, the
PDF, the CSV and the XLSX all print the same cells, so none can show what another hides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.safestring import SafeString

from buddyscheme.audit import audit_record
from buddyscheme.errors import DomainError

from .charts import bar_chart
from .figures import FunderFigures, funder_figures
from .outcomes import shareable_quotes, wellbeing_summary
from .report_models import FunderReport
from .suppression import SUPPRESSED, is_suppressed, shown

Cell = int | float | str


@dataclass
class Table:
    slug: str  # its file name in the exports: people.csv, endings.xlsx
    caption: str
    header: list[str]
    rows: list[list[Cell]]


@dataclass
class Section:
    title: str
    table: Table
    intro: str = ""
    chart: SafeString | None = None
    notes: list[str] = field(default_factory=list)


def _number(value: float | None) -> Cell:
    if value is None:
        return "none"
    return int(value) if float(value).is_integer() else round(value, 1)


def _measure(values: list[int], measure: Callable[[], float | None]) -> Cell:
    """A median or percentile of fewer than five people could describe one of them."""
    if is_suppressed(len(values)):
        return SUPPRESSED
    return _number(measure())


def _based_on(count: int, value: float) -> Cell:
    """Hours that come from fewer than five meetings (or sessions) are suppressed with them."""
    return SUPPRESSED if is_suppressed(count) else _number(value)


def _shown(count: int) -> Cell:
    value = shown(count)
    return "" if value is None else value


def people_section(report: FunderReport, figures: FunderFigures) -> list[Section]:
    return [
        Section(
            title="Referrals and people supported",
            intro=(
                "Waiting time runs from joining the waiting list to being offered a buddy; time "
                "to match, to the match starting. Both are in days, for matches offered or "
                "started in the period (not for people who have joined the list again since). The "
                "90th percentile is the wait nine in ten people did not exceed."
            ),
            table=Table(
                slug="people",
                caption="Referrals and people supported",
                header=["Measure", "Figure"],
                rows=[
                    ["Referrals received", _shown(figures.referrals)],
                    ["People supported by a buddy", _shown(figures.people_supported)],
                    ["Matches offered (basis of waiting time)", _shown(len(figures.waiting_days))],
                    [
                        "Waiting time, median (days)",
                        _measure(figures.waiting_days, lambda: figures.waiting_median),
                    ],
                    [
                        "Waiting time, 90th percentile (days)",
                        _measure(figures.waiting_days, lambda: figures.waiting_p90),
                    ],
                    [
                        "Matches started (basis of time to match)",
                        _shown(len(figures.days_to_match)),
                    ],
                    [
                        "Time to match, median (days)",
                        _measure(figures.days_to_match, lambda: figures.match_median),
                    ],
                    [
                        "Time to match, 90th percentile (days)",
                        _measure(figures.days_to_match, lambda: figures.match_p90),
                    ],
                ],
            ),
        )
    ]


def meetings_section(report: FunderReport, figures: FunderFigures) -> list[Section]:
    return [
        Section(
            title="Meetings and time given",
            intro=(
                "Meetings are buddy meetings that were checked in and out safely; contact hours "
                "are their real length. Buddy hours add the volunteers' other time given: "
                "groups, training and one-to-ones."
            ),
            table=Table(
                slug="meetings",
                caption="Meetings and time given",
                header=["Measure", "Figure"],
                rows=[
                    ["Buddy meetings held", _shown(figures.meetings)],
                    ["Contact hours", _based_on(figures.meetings, figures.contact_hours)],
                    [
                        "Hours volunteered by buddies",
                        _based_on(figures.buddy_time_items, figures.buddy_hours),
                    ],
                ],
            ),
        )
    ]


def groups_section(report: FunderReport, figures: FunderFigures) -> list[Section]:
    attendance = {"New": figures.group_new, "Returning": figures.group_returning}
    return [
        Section(
            title="Group attendance",
            intro="Attendances at group sessions that took place, counted by the facilitators.",
            chart=bar_chart("Group attendances, new and returning", attendance, "attendances"),
            table=Table(
                slug="groups",
                caption="Group attendance",
                header=["Measure", "Figure"],
                rows=[
                    ["Group sessions held", _shown(figures.group_sessions)],
                    ["New attendances", _shown(figures.group_new)],
                    ["Returning attendances", _shown(figures.group_returning)],
                ],
            ),
        )
    ]


def buddies_section(report: FunderReport, figures: FunderFigures) -> list[Section]:
    counts = {
        "Recruited": figures.buddies_recruited,
        "Trained": figures.buddies_trained,
        "Retained": figures.buddies_retained,
    }
    return [
        Section(
            title="Buddies recruited, trained and retained",
            intro=(
                "Recruited: joined in the period. Trained: completed a training module in the "
                "period. Retained: of the buddies with us when the period began, those who had "
                "not left by its end."
            ),
            chart=bar_chart("Buddies recruited, trained and retained", counts, "buddies"),
            table=Table(
                slug="buddies",
                caption="Buddies recruited, trained and retained",
                header=["Measure", "Figure"],
                rows=[
                    ["Buddies recruited", _shown(figures.buddies_recruited)],
                    ["Buddies trained", _shown(figures.buddies_trained)],
                    ["Buddies with us at the start", _shown(figures.buddies_at_start)],
                    ["Buddies retained", _shown(figures.buddies_retained)],
                ],
            ),
        )
    ]


def endings_section(report: FunderReport, figures: FunderFigures) -> list[Section]:
    return [
        Section(
            title="How matches ended",
            intro="Matches that ended in the period, by the type of ending the coordinator recorded.",
            chart=bar_chart("Matches ended, by type of ending", figures.endings, "matches"),
            table=Table(
                slug="endings",
                caption="Matches ended, by type",
                header=["Type of ending", "Matches"],
                rows=[[label, _shown(count)] for label, count in figures.endings.items()],
            ),
        ),
        Section(
            title="Goals achieved",
            intro=(
                "The goals set with participants whose matches ended in the period, and how many "
                "were achieved (scored 10 out of 10 at a review or at the end)."
            ),
            table=Table(
                slug="goals",
                caption="Goals set and achieved, in matches that ended",
                header=["Measure", "Figure"],
                rows=[
                    ["Goals set", _shown(figures.goals_set)],
                    ["Goals achieved", _shown(figures.goals_achieved)],
                ],
            ),
        ),
    ]


def _score(value: float | None) -> Cell:
    return "" if value is None else _number(value)


def wellbeing_section(report: FunderReport, figures: FunderFigures) -> list[Section]:
    """ONS4 at the start and end of each match, for those who answered both (outcomes.py)."""
    summary = wellbeing_summary(report.scheme, report.starts_on, report.ends_on)
    rows: list[list[Cell]] = []
    for outcome in summary.measures:
        if outcome.suppressed:
            rows.append([outcome.label, _shown(outcome.pairs), "", "", "", "", ""])
            continue
        rows.append(
            [
                outcome.label,
                _shown(outcome.pairs),
                _score(outcome.median_start),
                _score(outcome.median_end),
                _score(outcome.median_change),
                "" if outcome.p_value is None else round(outcome.p_value, 3),
                SUPPRESSED
                if outcome.share_moved_out is None
                else f"{_shown(outcome.moved_out)} of {_shown(outcome.in_problem_band)}",
            ]
        )
    return [
        Section(
            title="Wellbeing at the start and end (ONS4)",
            intro=(
                "The ONS personal wellbeing questions (0 to 10), asked at the start and at the end "
                "of each match, for the people who answered both. For anxiety a fall is "
                "an improvement. The last column counts those who began in ONS's low band (for "
                "anxiety, its high band) and left it."
            ),
            table=Table(
                slug="wellbeing",
                caption="Wellbeing change from start to end (ONS4), paired answers",
                header=[
                    "Measure",
                    "People who answered both",
                    "Median at start",
                    "Median at end",
                    "Median change",
                    "p-value (Wilcoxon signed-rank)",
                    "Left the low (anxiety: high) band",
                ],
                rows=rows,
            ),
            notes=list(summary.caveats),
        )
    ]


def quotes_section(report: FunderReport, figures: FunderFigures) -> list[Section]:
    """In their own words: exit answers the person agreed to share, names taken out."""
    quotes = shareable_quotes(report.scheme, report.starts_on, report.ends_on)
    if not quotes:
        return []
    return [
        Section(
            title="In their own words",
            intro=(
                "From the exit feedback of participants who agreed that what they wrote may be "
                "quoted without their name. Names and other details that could identify someone "
                "are taken out."
            ),
            table=Table(
                slug="quotes",
                caption="Quotes shared with consent",
                header=["What they wrote", "Month"],
                rows=[[quote.text, quote.month] for quote in quotes],
            ),
        )
    ]


# In order: the counts, then the outcomes (evaluation.outcomes: wellbeing change start -> end,
# quotes shared with consent).
SECTION_BUILDERS: list[Callable[[FunderReport, FunderFigures], list[Section]]] = [
    people_section,
    meetings_section,
    groups_section,
    buddies_section,
    endings_section,
    wellbeing_section,
    quotes_section,
]


def report_sections(report: FunderReport) -> list[Section]:
    figures = funder_figures(report.scheme, report.starts_on, report.ends_on)
    sections: list[Section] = []
    for build in SECTION_BUILDERS:
        sections += build(report, figures)
    return sections


def report_table(report: FunderReport, slug: str) -> Table | None:
    return next(
        (section.table for section in report_sections(report) if section.table.slug == slug), None
    )


def last_full_year(today: date) -> tuple[date, date]:
    """The twelve whole months before this one: the default period."""
    first_of_month = today.replace(day=1)
    return first_of_month.replace(year=first_of_month.year - 1), first_of_month.fromordinal(
        first_of_month.toordinal() - 1
    )


# --- Services ----------------------------------------------------------------------------------

LONGEST_PERIOD_DAYS = 3 * 366


@transaction.atomic
def funder_report_create(*, scheme, starts_on: date, ends_on: date, by) -> FunderReport:
    """The scheme's report for this period, made once: asking again returns the same one."""
    if ends_on < starts_on:
        raise DomainError("The period must end on or after the day it starts.")
    if (ends_on - starts_on).days > LONGEST_PERIOD_DAYS:
        raise DomainError("Choose a period of three years or less.")
    if starts_on > timezone.localdate():
        raise DomainError("The period has not started yet: choose a start date in the past.")
    existing = FunderReport.objects.filter(scheme=scheme, starts_on=starts_on, ends_on=ends_on)
    report = existing.first()
    if report is not None:
        return report
    try:
        with transaction.atomic():
            report = FunderReport.objects.create(
                scheme=scheme, starts_on=starts_on, ends_on=ends_on, created_by=by
            )
    except IntegrityError:  # the same period made at the same moment by another request
        return existing.get()
    audit_record(actor=by, verb="funder_report_create", obj=report, scheme=scheme)
    return report


@transaction.atomic
def funder_report_text_save(*, report: FunderReport, text: str, by) -> FunderReport:
    locked = FunderReport.objects.select_for_update().get(pk=report.pk)
    locked.text = text.strip()
    locked.updated_at = timezone.now()
    locked.save(update_fields=["text", "updated_at"])
    audit_record(actor=by, verb="funder_report_text_save", obj=locked, scheme=locked.scheme_id)
    return locked


EXPORT_VERBS = {
    "view": "funder_report_view",
    "pdf": "funder_report_pdf_download",
    "csv": "funder_report_csv_download",
    "xlsx": "funder_report_xlsx_download",
}


def funder_report_looked_at(*, report: FunderReport, how: str, by) -> None:
    """The access log: who viewed or downloaded which report, and when (the audit row's time)."""
    audit_record(actor=by, verb=EXPORT_VERBS[how], obj=report, scheme=report.scheme_id)
