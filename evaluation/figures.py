"""The counts funders ask for, for one scheme and period, and the coordinator dashboard's figures.

Reads only, each in a fixed number of queries however much data there is. Every count here is
raw: whoever shows it (screen, PDF, CSV, XLSX) passes it through `evaluation.suppression.shown`.
A period is two local dates in the scheme's time zone, both included.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone

from buddyscheme.models import BuddyStage, Membership, Referral, Role, TrainingCompletion
from buddyscheme.support import time_given_total
from groups.models import GroupSession, SessionState
from matching.models import EndingType, Goal, Match, MatchState
from meetings.models import Alert, Meeting, MeetingState


def start_of(day: date, zone) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), zone)


def median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def percentile_90(values: list[float]) -> float | None:
    """The nearest-rank 90th percentile: the smallest value at least 90% of values do not
    exceed (so it is always one of the values, and can be checked by hand)."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[math.ceil(0.9 * len(ordered)) - 1])


def _duration_hours(total: timedelta | None) -> float:
    return round(total.total_seconds() / 3600, 1) if total else 0.0


CONTACT_TIME = ExpressionWrapper(
    F("checked_out_at") - F("checked_in_at"), output_field=DurationField()
)


@dataclass
class FunderFigures:
    since: date
    until: date
    referrals: int
    people_supported: int
    waiting_days: list[int]  # joining the waiting list -> a buddy proposed, one per match
    days_to_match: list[int]  # joining the waiting list -> the match active, one per match
    meetings: int
    contact_hours: float
    group_sessions: int
    group_new: int
    group_returning: int
    buddy_hours: float
    buddy_time_items: int  # the meetings, sessions and one-to-ones the buddy hours add up
    buddies_recruited: int
    buddies_trained: int
    buddies_at_start: int
    buddies_retained: int
    endings: dict[str, int] = field(default_factory=dict)  # label -> count, every type listed
    # The goals of the matches that ended in the period, and how many of them were achieved
    # (scored 10 at a review or at the end: matching.goals).
    goals_set: int = 0
    goals_achieved: int = 0

    @property
    def waiting_median(self) -> float | None:
        return median([float(days) for days in self.waiting_days])

    @property
    def waiting_p90(self) -> float | None:
        return percentile_90([float(days) for days in self.waiting_days])

    @property
    def match_median(self) -> float | None:
        return median([float(days) for days in self.days_to_match])

    @property
    def match_p90(self) -> float | None:
        return percentile_90([float(days) for days in self.days_to_match])


def _endings(scheme, since: datetime, until: datetime) -> dict[str, int]:
    rows = (
        Match.objects.filter(
            scheme=scheme, state=MatchState.ENDED, ended_at__gte=since, ended_at__lt=until
        )
        .order_by()
        .values("ending_type")
        .annotate(count=Count("pk"))
    )
    counts = {row["ending_type"] or EndingType.OTHER: row["count"] for row in rows}
    endings: dict[str, int] = {}
    for value, label in EndingType.choices:
        endings[str(label)] = endings.get(str(label), 0) + counts.get(value, 0)
    return endings


def _days_between(start: date | None, moment: datetime | None, zone) -> int | None:
    """Days from joining the waiting list to `moment`; None when unknown: no date, or a
    waiting-list date after it (the person has joined the list again since that match)."""
    if start is None or moment is None:
        return None
    days = (moment.astimezone(zone).date() - start).days  # aware: localtime's checks, 10,000 times
    return days if days >= 0 else None


def funder_figures(scheme, since: date, until: date) -> FunderFigures:
    """The funder counts for `scheme` from `since` to `until` (local dates, both included),
    in eleven queries whatever the size of the scheme."""
    zone = scheme.zone
    start, end = start_of(since, zone), start_of(until + timedelta(days=1), zone)
    referrals = Referral.objects.filter(
        scheme=scheme, received_at__gte=start, received_at__lt=end
    ).count()
    # Supported: a match that was active at some moment of the period (started before its end,
    # not ended before its start).
    people_supported = (
        Match.objects.filter(scheme=scheme, activated_at__isnull=False, activated_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=start))
        .values("participant_id")
        .distinct()
        .count()
    )
    waiting_days: list[int] = []
    days_to_match: list[int] = []
    for waiting_since, proposed_at, activated_at in Match.objects.filter(
        Q(proposed_at__gte=start, proposed_at__lt=end)
        | Q(activated_at__gte=start, activated_at__lt=end),
        scheme=scheme,
    ).values_list("participant__enrolment__waiting_since", "proposed_at", "activated_at"):
        if proposed_at and start <= proposed_at < end:
            days = _days_between(waiting_since, proposed_at, zone)
            if days is not None:
                waiting_days.append(days)
        if activated_at and start <= activated_at < end:
            days = _days_between(waiting_since, activated_at, zone)
            if days is not None:
                days_to_match.append(days)
    meetings = Meeting.objects.filter(
        scheme=scheme,
        match__isnull=False,
        state=MeetingState.CHECKED_OUT,
        checked_in_at__gte=start,
        checked_in_at__lt=end,
    ).aggregate(count=Count("pk"), time=Sum(CONTACT_TIME))
    groups = GroupSession.objects.filter(
        group__scheme=scheme,
        state=SessionState.FINISHED,
        planned_start__gte=start,
        planned_start__lt=end,
    ).aggregate(sessions=Count("pk"), new=Sum("new_count"), returning=Sum("returning_count"))
    # Summed in the database: a year of a large scheme is 100,000 meetings.
    buddy_minutes, buddy_time_items = time_given_total(scheme, start, end)
    buddies = Membership.objects.filter(scheme=scheme, role=Role.BUDDY)
    left_before = Q(vetting__stage=BuddyStage.LEFT, vetting__stage_changed_at__lt=start)
    left_by_end = Q(vetting__stage=BuddyStage.LEFT, vetting__stage_changed_at__lt=end)
    buddy_counts = buddies.aggregate(
        recruited=Count("pk", filter=Q(joined_at__gte=start, joined_at__lt=end)),
        at_start=Count("pk", filter=Q(joined_at__lt=start) & ~left_before),
        retained=Count(
            "pk", filter=Q(joined_at__lt=start, is_active=True) & ~left_before & ~left_by_end
        ),
    )
    trained = (
        TrainingCompletion.objects.filter(
            membership__scheme=scheme,
            membership__role=Role.BUDDY,
            completed_on__gte=since,
            completed_on__lte=until,
        )
        .values("membership_id")
        .distinct()
        .count()
    )
    goals = Goal.objects.filter(
        match__scheme=scheme,
        match__state=MatchState.ENDED,
        match__ended_at__gte=start,
        match__ended_at__lt=end,
    ).aggregate(set=Count("pk"), achieved=Count("pk", filter=Q(achieved_at__isnull=False)))
    return FunderFigures(
        since=since,
        until=until,
        referrals=referrals,
        people_supported=people_supported,
        waiting_days=waiting_days,
        days_to_match=days_to_match,
        meetings=meetings["count"],
        contact_hours=_duration_hours(meetings["time"]),
        group_sessions=groups["sessions"],
        group_new=groups["new"] or 0,
        group_returning=groups["returning"] or 0,
        buddy_hours=round(buddy_minutes / 60, 1),
        buddy_time_items=buddy_time_items,
        buddies_recruited=buddy_counts["recruited"],
        buddies_trained=trained,
        buddies_at_start=buddy_counts["at_start"],
        buddies_retained=buddy_counts["retained"],
        endings=_endings(scheme, start, end),
        goals_set=goals["set"],
        goals_achieved=goals["achieved"],
    )


# --- The coordinator dashboard ---------------------------------------------------------------

WAITING_SHOWN = 8
# Shown on the dashboard in this order; draft, declined and withdrawn are not matches yet/any more.
DASHBOARD_STATES = [
    MatchState.PROPOSED,
    MatchState.ACCEPTED,
    MatchState.INTRODUCED,
    MatchState.ACTIVE,
    MatchState.ENDING,
]


@dataclass
class DashboardFigures:
    matches_by_state: dict[str, int]
    meetings_this_month: int
    contact_hours_this_month: float
    alerts_this_month: int
    alerts_acknowledged: int
    median_minutes_to_acknowledge: float | None
    endings: dict[str, int]  # the last 12 months


def month_start(today: date) -> date:
    return today.replace(day=1)


def dashboard_figures(scheme, now: datetime) -> DashboardFigures:
    """This month's figures for the dashboard, in five queries."""
    zone = scheme.zone
    today = timezone.localtime(now, zone).date()
    start = start_of(month_start(today), zone)
    by_state = Counter(
        dict(
            Match.objects.filter(scheme=scheme, state__in=DASHBOARD_STATES)
            .order_by()
            .values_list("state")
            .annotate(count=Count("pk"))
            .values_list("state", "count")
        )
    )
    meetings = Meeting.objects.filter(
        scheme=scheme,
        match__isnull=False,
        state=MeetingState.CHECKED_OUT,
        checked_in_at__gte=start,
        checked_in_at__lt=now,
    ).aggregate(count=Count("pk"), time=Sum(CONTACT_TIME))
    alerts = list(
        Alert.objects.filter(
            meeting__scheme=scheme, raised_at__gte=start, raised_at__lt=now
        ).values_list("raised_at", "acknowledged_at")
    )
    minutes = [
        (acknowledged - raised).total_seconds() / 60
        for raised, acknowledged in alerts
        if acknowledged
    ]
    year_ago = start_of(today - timedelta(days=365), zone)
    return DashboardFigures(
        matches_by_state={
            str(MatchState(state).label): by_state.get(state, 0) for state in DASHBOARD_STATES
        },
        meetings_this_month=meetings["count"],
        contact_hours_this_month=_duration_hours(meetings["time"]),
        alerts_this_month=len(alerts),
        alerts_acknowledged=len(minutes),
        median_minutes_to_acknowledge=round(m, 1) if (m := median(minutes)) is not None else None,
        endings=_endings(scheme, year_ago, now),
    )
