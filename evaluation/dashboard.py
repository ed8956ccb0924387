"""The evaluation app's parts of the coordinator dashboard, added through the core's
`dashboard_sections` signal (the core never imports evaluation).

"Needs me today" gathers what waits on a coordinator that no other section shows (answers to
proposals, signatures, open alerts): worked out on every request, as it is what the coordinator
acts on. The figures section (the waiting list's length, matches by state, this month's meetings,
hours and alerts, endings by type, with their charts) is kept in Django's cache per scheme for
FIGURES_SECONDS, or until something it counts is saved or deleted, and says on the page when it
was worked out; the charts' SVG is drawn once per fill. Live: three counts and the longest
waiting (four queries); a fill adds five.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from buddyscheme.cache import cache_bump, cache_forget, cache_kept
from buddyscheme.dashboard import dashboard_forget
from buddyscheme.models import Membership, ParticipantEnrolment
from buddyscheme.selectors import DashboardSection, dashboard_sections
from contracts.models import Contract, ContractState
from matching.models import Match, MatchProfile, SuggestionOffer
from matching.selectors import proposals_awaiting_answer, waiting_participants
from meetings.models import Alert
from meetings.patterns import forget_flags

from .charts import bar_chart
from .figures import WAITING_SHOWN, dashboard_figures
from .suppression import SUPPRESSED_SHORT, is_suppressed, shown

FIGURES_SECONDS = 60
_GENERATION = "evaluation:dashboard-figures:generation"


def _key(scheme_id: int) -> str:
    return f"evaluation:dashboard-figures:{scheme_id}"


def forget_figures(scheme=None) -> None:
    """The dashboard figures are worked out afresh on the next request: the scheme's, or every
    scheme's when it is not known which (a change seen without its scheme at hand)."""
    # The figures are part of the kept dashboard body: it goes with them.
    if scheme is not None:
        cache_forget(_key(getattr(scheme, "pk", scheme)))
        forget_flags(scheme)
        return
    cache_bump(_GENERATION)
    dashboard_forget(None)


def _scheme_id_of(instance) -> int | None:
    """The scheme of a saved row the figures count, without a query: None when unknown."""
    if isinstance(instance, Match | Membership):
        return instance.scheme_id
    owner_field = {
        ParticipantEnrolment: "membership",
        MatchProfile: "membership",
        SuggestionOffer: "participant",
    }[type(instance)]
    if type(instance)._meta.get_field(owner_field).is_cached(instance):
        return getattr(instance, owner_field).scheme_id
    return None


def _changed(sender, instance, **kwargs) -> None:
    scheme_id = _scheme_id_of(instance)
    forget_figures(scheme_id)


# Not meetings or alerts: they are saved on every check-in and check-out, so on a busy day the
# figures would never stay cached (and each check-in would pay for forgetting them); this
# month's meetings, hours and alerts are at most FIGURES_SECONDS old, as the page says.
for _model in (
    Match,
    Membership,
    ParticipantEnrolment,
    MatchProfile,
    SuggestionOffer,
):
    post_save.connect(_changed, sender=_model, dispatch_uid=f"dashboard-figures-{_model.__name__}")
    post_delete.connect(
        _changed, sender=_model, dispatch_uid=f"dashboard-figures-{_model.__name__}-d"
    )


def figures_context(scheme, now) -> dict:
    """The figures section's numbers and charts: from the cache while fresh, else worked out
    (eight queries) and kept. `as_of` is when they were worked out."""
    kept = cache_kept(
        _key(scheme.pk),
        lambda: _figures(scheme, now),
        seconds=FIGURES_SECONDS,
        now=now,
        generation_key=_GENERATION,
    )
    return {**kept.value, "as_of": kept.as_of}


def _figures(scheme, now) -> dict:
    today = timezone.localtime(now, scheme.zone).date()
    figures = dashboard_figures(scheme, now)
    # The figures are evaluation and pass through the small-number suppression like every
    # report ("Needs me today" and the waiting list are work to do, shown whole).
    few_meetings = is_suppressed(figures.meetings_this_month)
    few_acknowledged = is_suppressed(figures.alerts_acknowledged)
    return {
        "waiting_count": waiting_participants(scheme, today=today).count(),
        "meetings": shown(figures.meetings_this_month, short=True),
        "contact_hours": SUPPRESSED_SHORT if few_meetings else figures.contact_hours_this_month,
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
            label: shown(count, short=True) for label, count in figures.matches_by_state.items()
        },
    }


@receiver(dashboard_sections)
def _evaluation_on_the_dashboard(sender, scheme, now, **kwargs) -> list[DashboardSection]:
    needs = {
        "proposals": proposals_awaiting_answer(scheme).count(),
        "unsigned": Contract.objects.filter(scheme=scheme, state=ContractState.AWAITING).count(),
        "alerts": Alert.objects.filter(meeting__scheme=scheme, resolved_at__isnull=True).count(),
    }
    today = timezone.localtime(now, scheme.zone).date()
    figures = figures_context(scheme, now)
    waiting = [
        (person, (today - person.enrolment.waiting_since).days)
        for person in waiting_participants(scheme, today=today)[:WAITING_SHOWN]
    ]
    return [
        DashboardSection(
            template="evaluation/dashboard/_needs.html", context=needs, urgent=any(needs.values())
        ),
        DashboardSection(
            template="evaluation/dashboard/_figures.html",
            context={
                **figures,
                "as_of": timezone.localtime(figures["as_of"], scheme.zone),
                "waiting": waiting,
            },
            figures=True,
        ),
    ]
