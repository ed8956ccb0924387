"""The evaluation app's parts of the coordinator dashboard, added through the core's
`dashboard_sections` signal (the core never imports evaluation).

"Needs me today" gathers what waits on a coordinator that no other section shows (answers to
proposals, signatures, open alerts); the figures section shows the waiting list and this month's
counts with charts. Nine queries in all, however large the scheme.
"""

from __future__ import annotations

from django.dispatch import receiver
from django.utils import timezone

from buddyscheme.selectors import DashboardSection, dashboard_sections
from contracts.models import Contract, ContractState
from matching.selectors import proposals_awaiting_answer, waiting_participants
from meetings.models import Alert

from .charts import bar_chart
from .figures import WAITING_SHOWN, dashboard_figures
from .suppression import SUPPRESSED_SHORT, is_suppressed, shown


@receiver(dashboard_sections)
def _evaluation_on_the_dashboard(sender, scheme, now, **kwargs) -> list[DashboardSection]:
    needs = {
        "proposals": proposals_awaiting_answer(scheme).count(),
        "unsigned": Contract.objects.filter(scheme=scheme, state=ContractState.AWAITING).count(),
        "alerts": Alert.objects.filter(meeting__scheme=scheme, resolved_at__isnull=True).count(),
    }
    today = timezone.localtime(now, scheme.zone).date()
    waiting = waiting_participants(scheme, today=today)
    figures = dashboard_figures(scheme, now)
    # "Needs me today" and the waiting list are work to do, shown whole; the figures are
    # evaluation and pass through the small-number suppression like every report.
    few_meetings = is_suppressed(figures.meetings_this_month)
    few_acknowledged = is_suppressed(figures.alerts_acknowledged)
    return [
        DashboardSection(
            template="evaluation/dashboard/_needs.html", context=needs, urgent=any(needs.values())
        ),
        DashboardSection(
            template="evaluation/dashboard/_figures.html",
            context={
                "waiting": [
                    (person, (today - person.enrolment.waiting_since).days)
                    for person in waiting[:WAITING_SHOWN]
                ],
                "waiting_count": waiting.count(),
                "meetings": shown(figures.meetings_this_month, short=True),
                "contact_hours": SUPPRESSED_SHORT
                if few_meetings
                else figures.contact_hours_this_month,
                "alerts": shown(figures.alerts_this_month, short=True),
                "median_acknowledge": SUPPRESSED_SHORT
                if few_acknowledged
                else figures.median_minutes_to_acknowledge,
                "matches_chart": bar_chart("Matches by state", figures.matches_by_state, "matches"),
                "endings_chart": bar_chart(
                    "Endings in the last 12 months, by type", figures.endings, "matches"
                ),
                "endings_shown": {
                    label: shown(count, short=True) for label, count in figures.endings.items()
                },
                "matches_shown": {
                    label: shown(count, short=True)
                    for label, count in figures.matches_by_state.items()
                },
            },
            figures=True,
        ),
    ]
