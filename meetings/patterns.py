"""Pattern flags: matches a coordinator should look at (issue 18, DESIGN §2 step 8).

Each flag is worked out from what the database already holds (meetings, debriefs, boundary
answers, re-match requests), for every open match of a scheme in a constant number of queries.
A coordinator can dismiss a flag ("looked at, nothing to do"); it comes back only when the
pattern shows again in what happened after the dismissal.

Nothing personal leaves the record here: a flag says *that* a debrief mentions friendship or
romance and links to the match, never the words or who wrote them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from operator import or_
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.dispatch import receiver
from django.utils import timezone

from buddyscheme.audit import audit_record
from buddyscheme.cache import cache_forget, cache_kept
from buddyscheme.dashboard import dashboard_forget
from buddyscheme.errors import DomainError
from buddyscheme.models import Role
from buddyscheme.selectors import (
    DashboardSection,
    SettingsSection,
    dashboard_sections,
    settings_sections,
)
from matching.models import Match, MatchingSettings, MatchState, RematchRequest
from matching.selectors import MatchSection, match_page_sections

from .models import (
    BoundaryAnswer,
    Debrief,
    DebriefState,
    FollowUp,
    LoneWorkingSettings,
    Meeting,
    MeetingState,
    PatternDismissal,
    PatternKind,
)
from .services.rules import lone_working_settings_save, lone_working_to_read

# Matches that are running: a flag on an ended or proposed match would be noise.
FLAGGED_STATES = [MatchState.ACTIVE, MatchState.ENDING]
# A debrief is not missing until the buddy has had this long to write it (as the dashboard).
DEBRIEF_GRACE = timedelta(hours=48)
HAPPENED = [MeetingState.CHECKED_IN, MeetingState.CHECKED_OUT]
NOT_HAPPENED = [MeetingState.CANCELLED, MeetingState.MISSED]
# Words in a debrief that suggest a friendship or romance is starting (seed 003: "If they
# decide they are friends"). Matched in the database: the text itself is never read out here.
FRIENDSHIP_WORDS = (
    "friendship",
    "be friends",
    "become friends",
    "becoming friends",
    "best friends",
    "just friends",
    "romance",
    "romantic",
    "dating",
    "on a date",
    "asked me out",
    "crush on",
    "in love",
    "attracted to",
    "kissed",
)
# A boundary question about friendship or romance (the default set has one) counts as that flag.
FRIENDSHIP_QUESTION_WORDS = ("friend", "romance", "romantic")


@dataclass(frozen=True)
class PatternFlag:
    match: Match
    kind: str
    detail: str
    evidence_at: datetime  # the latest thing the flag is built on; a dismissal keys on it

    @property
    def label(self) -> str:
        return str(PatternKind(self.kind).label)


def _is_friendship_question(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in FRIENDSHIP_QUESTION_WORDS)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _matches(scheme, match: Match | None) -> QuerySet[Match]:
    matches = Match.objects.filter(scheme=scheme, state__in=FLAGGED_STATES)
    if match is not None:
        matches = matches.filter(pk=match.pk)
    return matches


def _scope(scheme, match: Match | None, path: str = "match") -> Q:
    """Rows of the scheme's running matches (or of `match`), reached through `path`."""
    scope = Q(**{f"{path}__scheme": scheme, f"{path}__state__in": FLAGGED_STATES})
    if match is not None:
        scope &= Q(**{path: match})
    return scope


def _last_meetings(meetings: QuerySet[Meeting], count: int) -> dict[int, list[dict]]:
    """The `count` latest of `meetings` for each match, newest first (one query)."""
    ranked = (
        meetings.annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("match_id")],
                order_by=[F("planned_start").desc(), F("pk").desc()],
            )
        )
        .filter(position__lte=count)
        .values("match_id", "state", "planned_start", "debrief__sent_at")
        .order_by("match_id", "position")
    )
    by_match: dict[int, list[Any]] = defaultdict(list)
    for row in ranked:
        by_match[row["match_id"]].append(row)
    return by_match


def pattern_flags(scheme, now: datetime | None = None, match: Match | None = None):
    """Every flag showing for the scheme's running matches (or only `match`), in ten queries
    however many matches, meetings and debriefs there are."""
    now = now or timezone.now()
    matches = {
        m.pk: m
        for m in _matches(scheme, match).select_related(
            "buddy__user__profile", "participant__user__profile"
        )
    }
    if not matches:
        return []  # one query for a scheme with no running match
    config = lone_working_to_read(scheme)
    matching = MatchingSettings.objects.filter(scheme=scheme).first() or MatchingSettings()
    scope = _scope(scheme, match)
    dismissed: dict[tuple[int, str], datetime] = {
        (row["match_id"], row["kind"]): row["latest"]
        for row in PatternDismissal.objects.filter(scope)
        .values("match_id", "kind")
        .annotate(latest=Max("dismissed_at"))
    }

    def after_dismissal(match_id: int, kind: str, at: datetime) -> bool:
        cutoff = dismissed.get((match_id, kind))
        return cutoff is None or at > cutoff

    flags: list[PatternFlag] = []
    meetings = Meeting.objects.filter(scope)

    # No meeting for N weeks: counted from the last meeting held, the start, or the dismissal.
    last_met = dict(
        meetings.filter(state__in=HAPPENED)
        .values("match_id")
        .annotate(last=Max("checked_in_at"))
        .values_list("match_id", "last")
    )
    quiet = timedelta(weeks=config.flag_weeks_without_meeting)
    for pk, m in matches.items():
        started = m.activated_at or m.created_at
        since = max(
            at
            for at in (started, last_met.get(pk), dismissed.get((pk, PatternKind.NO_MEETING)))
            if at is not None
        )
        if now - since >= quiet:
            weeks = (now - since).days // 7
            if last_met.get(pk) is not None and since == last_met[pk]:
                detail = f"Last met {_plural(weeks, 'week')} ago."
            elif since == started:
                detail = f"No meeting since the match started, {_plural(weeks, 'week')} ago."
            else:
                detail = f"No meeting in the {_plural(weeks, 'week')} since it was last looked at."
            flags.append(PatternFlag(m, PatternKind.NO_MEETING, detail, since))

    # N cancelled or missed in a row (meetings still to come do not count either way).
    in_a_row = config.flag_cancelled_in_a_row
    decided = meetings.filter(state__in=HAPPENED + NOT_HAPPENED)
    for pk, rows in _last_meetings(decided, in_a_row).items():
        if (
            len(rows) == in_a_row
            and all(row["state"] in NOT_HAPPENED for row in rows)
            and after_dismissal(pk, PatternKind.CANCELLED, rows[-1]["planned_start"])
        ):
            flags.append(
                PatternFlag(
                    matches[pk],
                    PatternKind.CANCELLED,
                    f"The last {_plural(in_a_row, 'meeting')} were cancelled or missed.",
                    rows[0]["planned_start"],
                )
            )

    # No debrief for the last N meetings that happened (each given 48 hours to arrive).
    missing = config.flag_debriefs_missing_in_a_row
    held = meetings.filter(state=MeetingState.CHECKED_OUT, checked_out_at__lte=now - DEBRIEF_GRACE)
    for pk, rows in _last_meetings(held, missing).items():
        if (
            len(rows) == missing
            and all(row["debrief__sent_at"] is None for row in rows)
            and after_dismissal(pk, PatternKind.NO_DEBRIEF, rows[-1]["planned_start"])
        ):
            flags.append(
                PatternFlag(
                    matches[pk],
                    PatternKind.NO_DEBRIEF,
                    f"No debrief for the last {_plural(missing, 'meeting')} that happened.",
                    rows[0]["planned_start"],
                )
            )

    flags += _rematch_flags(scheme, matches, matching, now, after_dismissal)
    flags += _debrief_flags(_scope(scheme, match, "meeting__match"), matches, after_dismissal)
    return sorted(flags, key=lambda flag: (flag.match.pk, flag.kind))


def _rematch_flags(scheme, matches, matching, now, after_dismissal) -> list[PatternFlag]:
    """Someone (buddy or participant) who keeps asking for a different match, counted over
    all their matches; the flag goes on the match they are in now."""
    since = now - timedelta(days=30 * matching.rematch_flag_months)
    requests: dict[int, list[datetime]] = defaultdict(list)
    for person_id, at in RematchRequest.objects.filter(
        match__scheme=scheme, created_at__gte=since
    ).values_list("requested_by_id", "created_at"):
        requests[person_id].append(at)
    flags = []
    for pk, m in matches.items():
        sides = []
        latest = None
        for side, person_id in (("participant", m.participant_id), ("buddy", m.buddy_id)):
            counted = [
                at for at in requests.get(person_id, []) if after_dismissal(pk, "rematch", at)
            ]
            if len(counted) >= matching.rematch_flag_count:
                sides.append(
                    f"the {side} has asked for a different match "
                    f"{_plural(len(counted), 'time')} in {matching.rematch_flag_months} months"
                )
                latest = max([*counted, latest] if latest else counted)
        if sides and latest is not None:
            detail = "; ".join(sides)
            flags.append(
                PatternFlag(m, PatternKind.REMATCH, detail[0].upper() + detail[1:] + ".", latest)
            )
    return flags


def _debrief_flags(scope: Q, matches, after_dismissal) -> list[PatternFlag]:
    """Boundary answers "yes", and debriefs that mention friendship or romance, in debriefs
    sent and not yet followed up."""
    sent = Debrief.objects.filter(scope, state=DebriefState.SENT).exclude(follow_up=FollowUp.DONE)
    boundary: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    friendship: dict[int, list[datetime]] = defaultdict(list)
    for match_id, text, sent_at in BoundaryAnswer.objects.filter(
        debrief__in=sent, crossed=True
    ).values_list("debrief__meeting__match_id", "question_text", "debrief__sent_at"):
        if match_id is None or sent_at is None:  # neither, for a sent debrief of a match
            continue
        if _is_friendship_question(text):
            friendship[match_id].append(sent_at)
        else:
            boundary[match_id].append((text, sent_at))
    words = reduce(
        or_,
        (
            Q(what_happened__icontains=word) | Q(concerns__icontains=word)
            for word in FRIENDSHIP_WORDS
        ),
    )
    for match_id, sent_at in sent.filter(words).values_list("meeting__match_id", "sent_at"):
        if match_id is not None and sent_at is not None:
            friendship[match_id].append(sent_at)

    flags = []
    for pk, answers in boundary.items():
        answers = [(text, at) for text, at in answers if after_dismissal(pk, "boundary", at)]
        if answers:
            questions = sorted({text for text, _ in answers})
            flags.append(
                PatternFlag(
                    matches[pk],
                    PatternKind.BOUNDARY,
                    f"“Yes” in {_plural(len(answers), 'answer')}: " + " · ".join(questions),
                    max(at for _, at in answers),
                )
            )
    for pk, times in friendship.items():
        times = sorted({at for at in times if after_dismissal(pk, "friendship", at)})
        if times:
            flags.append(
                PatternFlag(
                    matches[pk],
                    PatternKind.FRIENDSHIP,
                    f"In the debrief sent {timezone.localtime(times[0]):%-d %b}."
                    if len(times) == 1
                    else f"In {len(times)} debriefs, the latest sent "
                    f"{timezone.localtime(times[-1]):%-d %b}.",
                    times[-1],
                )
            )
    return flags


def pattern_dismiss(*, match: Match, kind: str, note: str, by, now=None) -> PatternDismissal:
    """ "Looked at, nothing to do": the flag goes until its pattern shows again. Dismissing a flag
    already dismissed (a double submit) returns the first dismissal."""
    note = (note or "").strip()
    if kind not in PatternKind.values:
        raise DomainError("That is not a flag this page shows.")
    if not note:
        raise DomainError("Please say in a few words what you looked at.")
    now = now or timezone.now()
    with transaction.atomic():
        Match.objects.select_for_update().filter(pk=match.pk).first()
        showing = [f for f in pattern_flags(match.scheme, now, match=match) if f.kind == kind]
        if not showing:
            latest = PatternDismissal.objects.filter(match=match, kind=kind).first()
            if latest is not None:
                return latest
            raise DomainError("This match has no such flag now: nothing to dismiss.")
        try:
            with transaction.atomic():
                dismissal, created = PatternDismissal.objects.get_or_create(
                    match=match,
                    kind=kind,
                    evidence_at=showing[0].evidence_at,
                    defaults={"note": note[:300], "dismissed_by": by, "dismissed_at": now},
                )
        except IntegrityError:
            dismissal = PatternDismissal.objects.get(
                match=match, kind=kind, evidence_at=showing[0].evidence_at
            )
            created = False
        if created:
            audit_record(actor=by, verb="pattern_dismiss", obj=dismissal, scheme=match.scheme_id)
            transaction.on_commit(lambda: forget_flags(match.scheme_id))
    return dismissal


# --- On the dashboard and the match page ------------------------------------------------------


def flags_by_match(flags: list[PatternFlag]) -> list[tuple[Match, list[PatternFlag]]]:
    """The flags grouped by match, the match with the most flags first."""
    grouped: dict[int, list[PatternFlag]] = defaultdict(list)
    for flag in flags:
        grouped[flag.match.pk].append(flag)
    return sorted(
        ((group[0].match, group) for group in grouped.values()),
        key=lambda pair: (-len(pair[1]), pair[0].pk),
    )


# The dashboard lists this many flagged matches (most flags first) and counts the rest: a long
# list is not read, and drawing thousands of rows made the page slow on a large scheme.
DASHBOARD_FLAGGED_SHOWN = 20
# Flags are about weeks (no meeting for three weeks, the last three cancelled), so the dashboard
# keeps the scheme's list for a minute rather than reading every meeting of every running match
# on each request; a dismissal or a settings change forgets it at once (`forget_flags`). The
# match page works them out afresh for its one match.
DASHBOARD_FLAGS_SECONDS = 60


def _flags_key(scheme_id: int) -> str:
    return f"meetings:dashboard-flags:{scheme_id}"


def forget_flags(scheme) -> None:
    """The dashboard's flagged matches (and the kept dashboard body that shows them) are
    worked out afresh on the next request."""
    scheme_id = getattr(scheme, "pk", scheme)
    cache_forget(_flags_key(scheme_id))
    dashboard_forget(scheme_id)


def _flags_kept(scheme, now: datetime) -> dict:
    grouped = flags_by_match(pattern_flags(scheme, now))
    return {
        "shown": [
            (m.pk, [(f.kind, f.detail, f.evidence_at) for f in flags])
            for m, flags in grouped[:DASHBOARD_FLAGGED_SHOWN]
        ],
        "more": max(len(grouped) - DASHBOARD_FLAGGED_SHOWN, 0),
    }


def dashboard_flags(scheme, now: datetime) -> tuple[list[tuple[Match, list[PatternFlag]]], int]:
    """The first DASHBOARD_FLAGGED_SHOWN flagged matches and how many more: worked out at most
    once a minute per scheme (kept as ids and words), the matches shown read fresh (one query)."""
    kept = cache_kept(
        _flags_key(scheme.pk),
        lambda: _flags_kept(scheme, now),
        seconds=DASHBOARD_FLAGS_SECONDS,
        now=now,
    ).value
    if not kept["shown"]:
        return [], kept["more"]
    matches = (
        Match.objects.filter(scheme=scheme, pk__in=[pk for pk, _ in kept["shown"]])
        .select_related("buddy__user__profile", "participant__user__profile")
        .in_bulk()
    )
    return [
        (
            matches[pk],
            [PatternFlag(matches[pk], kind, detail, at) for kind, detail, at in flags],
        )
        for pk, flags in kept["shown"]
        if pk in matches
    ], kept["more"]


@receiver(dashboard_sections)
def _flags_on_the_dashboard(sender, scheme, now, **kwargs) -> list[DashboardSection]:
    shown, more = dashboard_flags(scheme, now)
    return [
        DashboardSection(
            template="meetings/_dashboard_patterns.html",
            context={"matches": shown, "more": more},
        )
    ]


@receiver(match_page_sections)
def _flags_on_the_match_page(sender, match, viewer, **kwargs) -> list[MatchSection]:
    """Coordinators only: a flag is the scheme's worry, not something to show either side."""
    if not (viewer.role == Role.COORDINATOR and viewer.scheme_id == match.scheme_id):
        return []
    if match.state not in FLAGGED_STATES:
        return []
    return [
        MatchSection(
            template="meetings/_match_patterns.html",
            context={
                "match": match,
                "flags": pattern_flags(match.scheme, match=match),
                "kinds": PatternKind,
            },
        )
    ]


# --- Settings ---------------------------------------------------------------------------------

PATTERN_SETTINGS_FIELDS = (
    "flag_weeks_without_meeting",
    "flag_cancelled_in_a_row",
    "flag_debriefs_missing_in_a_row",
)


def pattern_settings_update(*, scheme, by, **fields) -> LoneWorkingSettings:
    """Change when matches are flagged. The match page works flags out afresh and the
    dashboard's list is forgotten, so the new numbers apply at once."""
    saved = lone_working_settings_save(
        scheme=scheme,
        by=by,
        allowed=PATTERN_SETTINGS_FIELDS,
        verb="pattern_settings_update",
        fields=fields,
    )
    forget_flags(scheme)
    return saved


@receiver(settings_sections)
def _pattern_flags_on_the_settings_hub(sender, scheme, **kwargs) -> list[SettingsSection]:
    config = lone_working_to_read(scheme)
    return [
        SettingsSection(
            position=55,
            title="Pattern flags",
            url_name="meetings:settings_patterns",
            summary=f"A match is flagged after {_plural(config.flag_weeks_without_meeting, 'week')} "
            f"without a meeting, {config.flag_cancelled_in_a_row} cancelled or missed in a row, "
            f"or {config.flag_debriefs_missing_in_a_row} meetings in a row with no debrief.",
        )
    ]
