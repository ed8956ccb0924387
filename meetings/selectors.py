from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case, Count, Exists, F, OuterRef, Prefetch, Q, Sum, Value, When, Window
from django.dispatch import receiver
from django.utils import timezone

from buddyscheme.models import Membership, NotificationStatus, Role, User
from buddyscheme.selectors import (
    DashboardSection,
    HomeSection,
    PersonSection,
    dashboard_figures,
    dashboard_sections,
    participant_home_cards,
    person_record_sections,
)
from buddyscheme.support import (
    TimeGiven,
    WholeMinutes,
    time_given,
    time_given_totals,
    whole_minutes,
)
from matching.models import Goal
from matching.selectors import MatchSection, match_page_sections
from matching.signals import match_last_met

from .models import (
    Alert,
    AlertLocation,
    AlertReason,
    AlertRecipient,
    BoundaryAnswer,
    BoundaryQuestion,
    CalendarFeed,
    Debrief,
    DebriefItem,
    DebriefState,
    FollowUp,
    Meeting,
    MeetingState,
    RearrangeRequest,
    SafetyEvent,
    SafetyEventKind,
)


@dataclass
class BuddyMeetings:
    today: list[Meeting]
    coming_up: list[tuple[date, list[Meeting]]]  # (day, its meetings), earliest first
    more: bool = False  # more than TODAY_SHOWN: the rest are on the "All my meetings" pages


def _start_of(day: date, zone) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), zone)


COMING_UP_DAYS = 7
# Meetings on the Today page (today's and the next 7 days'), those checked in always first: a
# person sees what is next at a glance; the rest are a page at a time behind "All my meetings".
TODAY_SHOWN = 20
MY_MEETINGS_PAGE = 25


def _open_or_upcoming(buddy, now, until=None) -> Q:
    """Meetings still to come for the buddy: from the start of today (in the scheme's zone),
    anything checked in, and a meeting that began before midnight and has not ended."""
    zone = buddy.scheme.zone
    start_of_today = _start_of(timezone.localtime(now, zone).date(), zone)
    upcoming = Q(planned_start__gte=start_of_today)
    if until is not None:
        upcoming &= Q(planned_start__lt=until)
    return (
        upcoming
        | Q(state=MeetingState.CHECKED_IN)
        | Q(state=MeetingState.PLANNED, planned_start__lt=start_of_today, planned_end__gt=now)
    )


def meetings_for_buddy_today(buddy, now=None, shown=TODAY_SHOWN) -> BuddyMeetings:
    """Today's meetings (with any still open from before) and the next 7 days', by day: at most
    `shown` of them, those checked in first (their check-out button must always be there), then
    by start. One query, however many meetings the buddy has.
    """
    now = now or timezone.now()
    zone = buddy.scheme.zone
    today = timezone.localtime(now, zone).date()
    found = list(
        Meeting.objects.filter(buddy=buddy)
        .filter(
            _open_or_upcoming(
                buddy, now, until=_start_of(today + timedelta(days=COMING_UP_DAYS + 1), zone)
            )
        )
        .select_related(
            "venue",
            "match__participant__user__profile",
            "scheme",
            "key_holder__user__profile",
            "debrief",
        )
        .annotate(
            waiting=Case(When(state=MeetingState.CHECKED_IN, then=Value(0)), default=Value(1))
        )
        .order_by("waiting", "planned_start", "pk")[: shown + 1]
    )
    result = BuddyMeetings(today=[], coming_up=[], more=len(found) > shown)
    for meeting in sorted(found[:shown], key=lambda m: (m.planned_start, m.pk)):
        day = timezone.localtime(meeting.planned_start, zone).date()
        if day <= today:
            result.today.append(meeting)
        elif result.coming_up and result.coming_up[-1][0] == day:
            result.coming_up[-1][1].append(meeting)
        else:
            result.coming_up.append((day, [meeting]))
    return result


def meetings_upcoming_for_buddy(buddy, now=None):
    """All the buddy's meetings still to come (as Today counts them), by start: for the paged
    "All my meetings" list behind Today."""
    now = now or timezone.now()
    return (
        Meeting.objects.filter(buddy=buddy)
        .filter(_open_or_upcoming(buddy, now))
        .select_related("venue", "match__participant__user__profile", "scheme")
        .order_by("planned_start", "pk")
    )


def first_name(user) -> str:
    """How a responder appears to a buddy: their first name only."""
    return (user.first_name or user.display_name).split()[0] if user else ""


@dataclass
class HelpRequest:
    """A buddy's help request as their banner shows it."""

    alert: Alert
    seen_by: str  # a responder's first name once someone has seen it
    closed_by: str
    said_safe_at: datetime | None
    sent_to: list[str]  # first names of those a message has reached so far
    sent_at: datetime | None  # when the first of those left

    @property
    def is_open(self) -> bool:
        return self.alert.resolved_at is None


HELP_CLOSED_SHOWN_FOR = timedelta(hours=1)


def help_requests_for_buddy(buddy, now=None) -> list[HelpRequest]:
    """The buddy's help requests still open, and those closed in the last hour (so the banner
    says so rather than vanishing), newest first, with whom a message has reached. Three
    queries."""
    now = now or timezone.now()
    alerts = list(
        Alert.objects.filter(meeting__buddy=buddy, reason=AlertReason.HELP)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=now - HELP_CLOSED_SHOWN_FOR))
        .select_related("acknowledged_by__profile", "resolved_by__profile")
        .order_by("-raised_at")
    )
    if not alerts:
        return []
    said_safe = list(
        SafetyEvent.objects.filter(
            meeting_id__in={alert.meeting_id for alert in alerts}, kind=SafetyEventKind.SAFE
        ).values_list("meeting_id", "at")
    )
    sent: dict[int, list[tuple[datetime, str]]] = {}
    for recipient in AlertRecipient.objects.filter(
        alert__in=alerts, notification__status=NotificationStatus.SENT
    ).select_related("person", "notification"):
        message = recipient.notification
        if message is not None and message.sent_at is not None:
            sent.setdefault(recipient.alert_id, []).append(
                (message.sent_at, first_name(recipient.person))
            )
    return [
        HelpRequest(
            alert=alert,
            sent_to=sorted({name for _, name in sent.get(alert.pk, [])}),
            sent_at=min((at for at, _ in sent.get(alert.pk, [])), default=None),
            seen_by=first_name(alert.acknowledged_by),
            closed_by=first_name(alert.resolved_by),
            said_safe_at=min(
                (
                    at
                    for meeting_id, at in said_safe
                    if meeting_id == alert.meeting_id and at >= alert.raised_at
                ),
                default=None,
            ),
        )
        for alert in alerts
    ]


def open_alerts(scheme):
    """The board's alerts, each with the positions its buddy's phone sent (newest first, in
    `shared_locations`)."""
    return (
        Alert.objects.filter(meeting__scheme=scheme, resolved_at__isnull=True)
        .select_related("meeting__venue", "meeting__buddy__user__profile", "acknowledged_by")
        .prefetch_related(
            Prefetch(
                "locations",
                queryset=AlertLocation.objects.order_by("-captured_at", "-pk"),
                to_attr="shared_locations",
            )
        )
        .order_by("-level", "raised_at")
    )


def alert_location(alert) -> AlertLocation | None:
    """The newest position the buddy's phone sent with this alert (help or duress), if any.
    Show it only to the alert's responders (meetings/_alert_location.html)."""
    return alert.locations.order_by("-captured_at", "-pk").first()


def alert_recipients(alert):
    """Who an alert reached, on which channel, and how far each message has got."""
    return (
        AlertRecipient.objects.filter(alert=alert)
        .select_related("person__profile", "notification")
        .order_by("created_at", "pk")
    )


def people_alerted(meeting, alerts=None):
    """Everyone the meeting's alerts reached (only those of `alerts`, if given), each once."""
    reached = AlertRecipient.objects.filter(alert__meeting=meeting)
    if alerts is not None:
        reached = reached.filter(alert__in=alerts)
    return (
        User.objects.filter(pk__in=reached.values("person_id"))
        .select_related("profile")
        .order_by("pk")
    )


def meeting_for_message(pk: int) -> Meeting | None:
    """A meeting with what its messages name: the buddy, the venue, the scheme's clock."""
    return (
        Meeting.objects.select_related("scheme", "venue", "buddy__user__profile")
        .filter(pk=pk)
        .first()
    )


def alert_for_message(pk: int) -> Alert | None:
    """An alert with what its messages name (as meeting_for_message), in one query."""
    return (
        Alert.objects.select_related(
            "meeting__scheme", "meeting__venue", "meeting__buddy__user__profile"
        )
        .filter(pk=pk)
        .first()
    )


def meetings_for_coordinator(scheme, now=None):
    now = now or timezone.now()
    return (
        Meeting.objects.filter(scheme=scheme, planned_start__gte=now - timedelta(days=7))
        .select_related("venue", "buddy__user__profile", "debrief")
        .order_by("planned_start")[:300]
    )


def calendar_feed_for(membership):
    """The buddy's calendar feed, or None until they ask for one."""
    return CalendarFeed.objects.filter(membership=membership).first()


def meetings_missed_this_month(scheme, now=None) -> int:
    """Meetings of this calendar month (the scheme's) that were never checked in. One query,
    on the (scheme, state, planned_start) index."""
    now = now or timezone.now()
    first_day = timezone.localtime(now, scheme.zone).date().replace(day=1)
    next_month = (first_day + timedelta(days=32)).replace(day=1)
    return Meeting.objects.filter(
        scheme=scheme,
        state=MeetingState.MISSED,
        planned_start__gte=_start_of(first_day, scheme.zone),
        planned_start__lt=_start_of(next_month, scheme.zone),
    ).count()


@receiver(dashboard_figures)
def _missed_on_the_dashboard(sender, scheme, **kwargs) -> list[tuple[str, int]]:
    return [("Missed this month", meetings_missed_this_month(scheme))]


MEETINGS_SHOWN = 5


@receiver(person_record_sections)
def _meetings_on_the_person_page(sender, member, now, **kwargs) -> list[PersonSection]:
    """A buddy's or participant's next and latest meetings, in 3 queries however many."""
    if member.role == Role.BUDDY:
        theirs = Meeting.objects.filter(buddy=member)
    elif member.role == Role.PARTICIPANT:
        theirs = Meeting.objects.filter(match__participant=member)
    else:
        return []
    theirs = theirs.select_related("venue", "buddy__user__profile")
    # In progress counts as upcoming: it is not over yet.
    upcoming = Q(planned_start__gte=now) | Q(state=MeetingState.CHECKED_IN)
    return [
        PersonSection(
            title="Meetings",
            template="meetings/_person_meetings.html",
            order=20,
            context={
                "upcoming": list(
                    theirs.filter(upcoming).order_by("planned_start")[:MEETINGS_SHOWN]
                ),
                "past": list(theirs.exclude(upcoming).order_by("-planned_start")[:MEETINGS_SHOWN]),
                "past_count": theirs.exclude(upcoming).count(),
            },
        )
    ]


@dataclass
class HistoryEntry:
    at: datetime
    what: str
    who: User | None = None
    alert: Alert | None = None
    notes: str = ""
    pressed_at: datetime | None = None  # a press sent late: when the phone says it was pressed


def meeting_history(meeting) -> list[HistoryEntry]:
    """What happened at a meeting, oldest first: the buddy's presses and every alert's steps.

    For responders: the alert in hand is one line of it, with the others around it.
    """
    entries = [
        HistoryEntry(
            at=event.at,
            what=event.get_kind_display(),
            pressed_at=event.device_at if event.sent_late else None,
        )
        for event in SafetyEvent.objects.filter(meeting=meeting)
    ]
    for alert in Alert.objects.filter(meeting=meeting).select_related(
        "acknowledged_by__profile", "resolved_by__profile"
    ):
        title = f"Level {alert.level} alert: {alert.get_reason_display()}"
        entries.append(HistoryEntry(at=alert.raised_at, what=title, alert=alert))
        if alert.acknowledged_at and alert.acknowledged_at != alert.resolved_at:
            entries.append(
                HistoryEntry(
                    at=alert.acknowledged_at,
                    what=f"{title}: acknowledged",
                    who=alert.acknowledged_by,
                    alert=alert,
                )
            )
        if alert.resolved_at:
            outcome = alert.get_outcome_display() or "closed"
            entries.append(
                HistoryEntry(
                    at=alert.resolved_at,
                    what=f"{title}: resolved ({outcome.lower()})",
                    who=alert.resolved_by,
                    alert=alert,
                    notes=alert.notes,
                )
            )
    return sorted(entries, key=lambda entry: entry.at)


def membership_for_message(membership_id):
    """The buddy a notice is about, with what the message says of them (None if gone)."""
    if not membership_id:
        return None
    return Membership.objects.filter(pk=membership_id).select_related("user__profile").first()


def next_meeting_for_participant(participant: Membership, now=None) -> Meeting | None:
    """The participant's next meeting with a buddy: the one in progress, else the next planned."""
    now = now or timezone.now()
    return (
        Meeting.objects.filter(match__participant=participant)
        .filter(
            Q(state=MeetingState.CHECKED_IN) | Q(state=MeetingState.PLANNED, planned_end__gt=now)
        )
        .select_related("venue", "buddy__user__profile")
        .order_by("planned_start", "pk")
        .first()
    )


def rearrange_request_for(meeting: Meeting, participant: Membership) -> RearrangeRequest | None:
    return RearrangeRequest.objects.filter(meeting=meeting, requested_by=participant).first()


@receiver(participant_home_cards)
def _next_meeting_on_home(sender, membership, **kwargs) -> list[HomeSection]:
    meeting = next_meeting_for_participant(membership)
    asked = rearrange_request_for(meeting, membership) if meeting else None
    return [
        HomeSection(
            20,
            "meetings/home/next_meeting.html",
            {"meeting": meeting, "rearrange_request": asked, "now": timezone.now()},
        )
    ]


# --- Debriefs ---------------------------------------------------------------------------------

DEBRIEF_MISSING_AFTER = timedelta(hours=48)
DEBRIEF_LIST_LIMIT = 200


def carried_forward_for(meetings, now=None) -> dict[int, list[DebriefItem]]:
    """{meeting id: the match's actions and goals still open}, on the next meeting of each
    match not started yet (DESIGN §2 step 6: shown before the meeting starts). One query."""
    next_meeting: dict[int, int] = {}
    for meeting in sorted(meetings, key=lambda meeting: meeting.planned_start):
        if meeting.match_id and meeting.state == MeetingState.PLANNED:
            next_meeting.setdefault(meeting.match_id, meeting.pk)
    if not next_meeting:
        return {}
    carried: dict[int, list[DebriefItem]] = {pk: [] for pk in next_meeting.values()}
    for item in DebriefItem.objects.filter(
        match_id__in=next_meeting, done_at__isnull=True, debrief__state=DebriefState.SENT
    ).order_by("debrief__opened_at", "kind", "position", "pk"):
        assert item.match_id is not None
        carried[next_meeting[item.match_id]].append(item)
    return carried


def debriefs_to_write(buddy) -> list[Debrief]:
    """The buddy's debriefs not sent yet, oldest first, with what their cards name."""
    return list(
        Debrief.objects.filter(meeting__buddy=buddy, sent_at__isnull=True)
        .select_related("meeting__venue", "meeting__match__participant__user__profile")
        .order_by("opened_at")
    )


def _debrief_list(qs):
    return qs.select_related(
        "meeting__venue",
        "meeting__buddy__user__profile",
        "meeting__match__participant__user__profile",
        "recorded_by__profile",
    ).prefetch_related(
        Prefetch(
            "boundary_answers",
            queryset=BoundaryAnswer.objects.filter(crossed=True),
            to_attr="crossed_answers",
        )
    )


def debriefs_for_buddy(buddy):
    """A buddy's own debriefs, newest first, with their coordinator's feedback."""
    return _debrief_list(Debrief.objects.filter(meeting__buddy=buddy)).order_by("-opened_at")[
        :DEBRIEF_LIST_LIMIT
    ]


def debriefs_for_coordinator(scheme, *, buddy=None, match=None, follow_up=None):
    """Sent debriefs of the scheme, newest first; by buddy, by match, or those to follow up.
    Three queries however many rows (the crossed boundaries come prefetched)."""
    qs = Debrief.objects.filter(meeting__scheme=scheme, state=DebriefState.SENT)
    if buddy is not None:
        qs = qs.filter(meeting__buddy=buddy)
    if match is not None:
        qs = qs.filter(meeting__match=match)
    if follow_up:
        qs = qs.filter(follow_up=follow_up)
    return _debrief_list(qs).order_by("-sent_at")[:DEBRIEF_LIST_LIMIT]


def debriefs_missing(scheme, now=None) -> list[Debrief]:
    """Debriefs still not sent 48 hours after the check-out, oldest first (the dashboard)."""
    now = now or timezone.now()
    return list(
        Debrief.objects.filter(
            meeting__scheme=scheme,
            sent_at__isnull=True,
            opened_at__lte=now - DEBRIEF_MISSING_AFTER,
        )
        .select_related("meeting__buddy__user__profile", "meeting__venue")
        .order_by("opened_at")[:DEBRIEF_LIST_LIMIT]
    )


def debriefs_to_follow_up(scheme) -> list[Debrief]:
    """Sent debriefs with an issue still open (a crossed boundary, a worry), oldest first."""
    return list(
        _debrief_list(
            Debrief.objects.filter(meeting__scheme=scheme, follow_up=FollowUp.OPEN)
        ).order_by("sent_at")[:DEBRIEF_LIST_LIMIT]
    )


def boundary_flags_for_match(match) -> list[BoundaryAnswer]:
    """Boundary answers that crossed, in debriefs whose follow-up is still open: the match's
    flag for the coordinator."""
    return list(
        BoundaryAnswer.objects.filter(
            debrief__meeting__match=match, crossed=True, debrief__follow_up=FollowUp.OPEN
        )
        .select_related("debrief__meeting")
        .order_by("debrief__sent_at", "pk")
    )


def items_for_match(match) -> list[DebriefItem]:
    """Every action and goal of the match from debriefs sent, open ones first."""
    return list(
        DebriefItem.objects.filter(match=match, debrief__state=DebriefState.SENT)
        .select_related("debrief__meeting", "done_in__meeting")
        .order_by(F("done_at").asc(nulls_first=True), "kind", "debrief__opened_at", "position")
    )


def boundary_questions_for(scheme) -> list[BoundaryQuestion]:
    return list(BoundaryQuestion.objects.filter(scheme=scheme, is_active=True))


def debrief_for(meeting) -> Debrief | None:
    """The meeting's debrief with what its form needs (items, ticks, boundary answers)."""
    return (
        Debrief.objects.filter(meeting=meeting)
        .select_related("feedback_by__profile", "recorded_by__profile")
        .prefetch_related("items", "items_done", "boundary_answers")
        .first()
    )


def match_goal_choices(meeting) -> list[tuple[int, str]]:
    """The goals set for the meeting's match, for a debrief's goals for next time to link to."""
    if meeting.match_id is None:
        return []
    return list(Goal.objects.filter(match_id=meeting.match_id).values_list("pk", "text"))


def participant_names(meeting) -> tuple[str, ...]:
    """The names the initials-only check looks for: the participant's, if the meeting has one."""
    match = meeting.match
    if match is None:
        return ()
    user = match.participant.user
    profile = getattr(user, "profile", None)
    return tuple(
        name
        for name in (user.first_name, user.last_name, getattr(profile, "preferred_name", ""))
        if name
    )


# --- Debriefs on other apps' pages ----------------------------------------------------------------


@receiver(match_page_sections)
def _debriefs_on_the_match_page(sender, match, viewer, **kwargs) -> list[MatchSection]:
    """The match's actions and goals (open first) for its buddy and the coordinators; and, for
    coordinators, boundary answers still to follow up and the latest debriefs. Never for the
    participant: debriefs are between the buddy and the scheme."""
    is_coordinator = viewer.role == Role.COORDINATOR and viewer.scheme_id == match.scheme_id
    if not (is_coordinator or viewer.pk == match.buddy_id):
        return []
    context = {"match": match, "items": items_for_match(match), "is_coordinator": is_coordinator}
    if is_coordinator:
        context["flags"] = boundary_flags_for_match(match)
        context["debriefs"] = list(debriefs_for_coordinator(match.scheme, match=match)[:10])
    return [MatchSection(template="meetings/_match_debriefs.html", context=context)]


@receiver(dashboard_sections)
def _debriefs_on_the_dashboard(sender, scheme, now, **kwargs) -> list[DashboardSection]:
    return [
        DashboardSection(
            template="meetings/_dashboard_debriefs.html",
            context={
                "missing": debriefs_missing(scheme, now),
                "to_follow_up": debriefs_to_follow_up(scheme),
            },
        )
    ]


# --- Volunteering hours -----------------------------------------------------------------------


def _meetings_given_query(scheme, since, until):
    return Meeting.objects.filter(
        scheme=scheme,
        buddy__role=Role.BUDDY,
        state=MeetingState.CHECKED_OUT,
        checked_in_at__gte=since,
        checked_in_at__lt=until,
        checked_in_at__isnull=False,
        checked_out_at__isnull=False,
    )


@receiver(time_given_totals)
def _meetings_given_total(sender, scheme, since, until, **kwargs) -> tuple[int, int]:
    """What _meetings_given lists, summed in the database: (minutes, meetings), one query."""
    totals = _meetings_given_query(scheme, since, until).aggregate(
        minutes=Sum(WholeMinutes("checked_out_at", "checked_in_at")), items=Count("pk")
    )
    return totals["minutes"] or 0, totals["items"]


@receiver(time_given)
def _meetings_given(sender, scheme, since, until, buddy=None, **kwargs) -> list[TimeGiven]:
    """Each meeting the buddy checked into and out of, for its real length (one query). A
    coordinator's own lone-working meeting (facilitating a group) is work, not volunteering."""
    meetings = _meetings_given_query(scheme, since, until)
    if buddy is not None:
        meetings = meetings.filter(buddy=buddy)
    given = []
    for (
        pk,
        buddy_id,
        purpose,
        supervision_id,
        checked_in_at,
        checked_out_at,
    ) in meetings.values_list(
        "pk", "buddy_id", "purpose", "supervision_id", "checked_in_at", "checked_out_at"
    ):
        if checked_in_at is None or checked_out_at is None:  # filtered out above; for mypy
            continue
        given.append(
            TimeGiven(
                buddy_id=buddy_id,
                what="One-to-one" if supervision_id else purpose,
                started_at=checked_in_at,
                minutes=whole_minutes(checked_out_at - checked_in_at),
                meeting_id=pk,
            )
        )
    return given


# --- The live board: one screenful however large the scheme ----------------------------------

BOARD_ALERTS = 10  # alert cards on the board; the rest are counted and listed behind a link
BOARD_ROWS = 50  # rows of "Meetings now"; likewise
BOARD_LIST_PAGE = 50  # rows per page of the board's lists


@dataclass
class BoardCounts:
    in_progress: int
    overdue: int  # checked in, past their expected end
    not_arrived: int  # start passed, not checked in yet (the sweep marks them missed at the end)
    starting_soon: int  # within the hour
    later_today: int  # after the hour, before the scheme's midnight

    @property
    def now(self) -> int:
        """Every meeting "Meetings now" could list."""
        return self.in_progress + self.not_arrived + self.starting_soon


@dataclass
class Board:
    alerts: list
    alerts_total: int
    rows: list
    counts: BoardCounts

    @property
    def alerts_more(self) -> int:
        return self.alerts_total - len(self.alerts)

    @property
    def rows_more(self) -> int:
        return self.counts.now - len(self.rows)


NOT_ARRIVED_FOR = timedelta(hours=12)  # "not arrived": started at most this long ago
STARTING_SOON = timedelta(hours=1)  # "starting within the hour"


def midnight_after(scheme, now):
    """The scheme's next local midnight: the end of "later today"."""
    local = timezone.localtime(now, scheme.zone)
    return timezone.make_aware(
        datetime.combine(local.date() + timedelta(days=1), time.min), scheme.zone
    )


def _board_windows(scheme, now):
    midnight = midnight_after(scheme, now)
    return {
        "in_progress": Q(state=MeetingState.CHECKED_IN),
        "overdue": Q(state=MeetingState.CHECKED_IN, expected_end__lt=now),
        "not_arrived": Q(
            state=MeetingState.PLANNED,
            planned_start__lte=now,
            planned_start__gte=now - NOT_ARRIVED_FOR,
        ),
        "starting_soon": Q(
            state=MeetingState.PLANNED,
            planned_start__gt=now,
            planned_start__lte=now + STARTING_SOON,
        ),
        "later_today": Q(
            state=MeetingState.PLANNED,
            planned_start__gt=now + STARTING_SOON,
            planned_start__lt=max(midnight, now + STARTING_SOON),
        ),
    }


BOARD_LISTS = {
    # ?show= on the board's paged list: its heading, and the windows it takes its rows from.
    "now": ("Meetings now", ("in_progress", "not_arrived", "starting_soon")),
    "overdue": ("Past their expected end", ("overdue",)),
    "in_progress": ("In progress", ("in_progress",)),
    "not_arrived": ("Not arrived yet", ("not_arrived",)),
    "starting_soon": ("Starting within the hour", ("starting_soon",)),
    "later_today": ("Later today", ("later_today",)),
}


def _board_meetings(scheme):
    return (
        Meeting.objects.filter(scheme=scheme)
        .select_related("venue", "buddy__user__profile", "key_holder__user__profile")
        .annotate(
            has_open_alert=Exists(
                Alert.objects.filter(meeting=OuterRef("pk"), resolved_at__isnull=True)
            )
        )
    )


def board(scheme, now=None) -> Board:
    """What the coordinator's live board shows, in a fixed number of queries whatever the size
    of the scheme: the open alerts (most urgent first, at most BOARD_ALERTS, with their total),
    then "Meetings now" (checked in, most overdue first, then those not arrived or starting
    within the hour; at most BOARD_ROWS), and counts of the rest."""
    now = now or timezone.now()
    windows = _board_windows(scheme, now)
    alerts = list(open_alerts(scheme).annotate(total=Window(Count("pk")))[:BOARD_ALERTS])
    checked_in = list(
        _board_meetings(scheme)
        .filter(windows["in_progress"])
        .order_by("expected_end", "pk")[:BOARD_ROWS]
    )
    # Not arrived or starting within the hour: one range of planned_start (the two windows
    # meet at now), so the (scheme, state, planned_start, id) index reads only these rows.
    planned = list(
        _board_meetings(scheme)
        .filter(
            state=MeetingState.PLANNED,
            planned_start__gte=now - NOT_ARRIVED_FOR,
            planned_start__lte=now + STARTING_SOON,
        )
        .order_by("planned_start", "pk")[:BOARD_ROWS]
    )
    # Only the rows some count takes, in two queries that each read one range of the
    # (scheme, state, planned_start, id) index, so the scheme's history is never scanned:
    # those checked in (as many as there are buddies), then the planned ones from 12 hours ago
    # to midnight, counted from the index alone (no table rows read).
    figures = (
        Meeting.objects.filter(scheme=scheme, state=MeetingState.CHECKED_IN)
        .order_by()
        .aggregate(in_progress=Count("pk"), overdue=Count("pk", filter=Q(expected_end__lt=now)))
    )
    figures |= (
        Meeting.objects.filter(
            scheme=scheme,
            state=MeetingState.PLANNED,
            planned_start__gte=now - NOT_ARRIVED_FOR,
            planned_start__lt=max(midnight_after(scheme, now), now + STARTING_SOON),
        )
        .order_by()
        .aggregate(
            **{
                name: Count("planned_start", filter=windows[name])
                for name in ("not_arrived", "starting_soon", "later_today")
            }
        )
    )
    return Board(
        alerts=alerts,
        alerts_total=alerts[0].total if alerts else 0,
        rows=(checked_in + planned)[:BOARD_ROWS],
        counts=BoardCounts(**figures),
    )


def board_list(scheme, show, now=None):
    """The meetings behind one of the board's counts (`show`, a key of BOARD_LISTS), in the
    board's order: checked in by expected end, then planned by start."""
    now = now or timezone.now()
    windows = _board_windows(scheme, now)
    wanted = Q()
    for name in BOARD_LISTS[show][1]:
        wanted |= windows[name]
    return (
        _board_meetings(scheme)
        .filter(wanted)
        .annotate(
            waiting=Case(When(state=MeetingState.CHECKED_IN, then=Value(0)), default=Value(1))
        )
        .order_by(
            "waiting",
            Case(
                When(state=MeetingState.CHECKED_IN, then=F("expected_end")),
                default=F("planned_start"),
            ),
            "pk",
        )
    )


def open_alerts_list(scheme):
    """Every open alert, for the board's paged list when there are more than its cards."""
    return (
        Alert.objects.filter(meeting__scheme=scheme, resolved_at__isnull=True)
        .select_related("meeting__venue", "meeting__buddy__user__profile")
        .order_by("-level", "raised_at", "pk")
    )


@receiver(match_last_met)
def _last_meeting_of_match(sender, match, **kwargs) -> date | None:
    """For the ending flow's "last met on": the last meeting the buddy checked out of."""
    last = (
        Meeting.objects.filter(match=match, state=MeetingState.CHECKED_OUT)
        .order_by("-planned_start")
        .values_list("planned_start", flat=True)
        .first()
    )
    return timezone.localdate(last, match.scheme.zone) if last else None
