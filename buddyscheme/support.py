"""Supporting the buddies (seed 000 "Support", seed 003 one-to-ones): supervision every few
months with notes shared with the buddy, the monthly contact, and the reflective diary.

Reads and writes live together here, as vetting's do. A face-to-face one-to-one is also a
meeting with lone-working check-in: `meetings` books that meeting and listens for
`supervision_cancelled`, so the core never imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import cast

import django.dispatch
from django.db import transaction
from django.db.models import (
    Count,
    DateTimeField,
    Func,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from .audit import audit_record
from .concerns import concern_one_to_one_booked
from .errors import DomainError
from .models import (
    BuddyStage,
    Channel,
    Concern,
    ConcernStatus,
    ContactMode,
    DiaryEntry,
    Membership,
    Role,
    Supervision,
    SupervisionMode,
    SupervisionState,
    SupportContact,
    SupportSettings,
)
from .notifications import notification_enqueue
from .vetting import _add_months, support_person_check

# Sent inside the transaction that cancels a one-to-one, with `supervision`: the meeting
# booked for a face-to-face one is cancelled with it.
supervision_cancelled = django.dispatch.Signal()

LONGEST_ONE_TO_ONE = timedelta(hours=4)
NOTES_LENGTH = 6000
COMMENT_LENGTH = 2000
DIARY_LENGTH = 6000

# --- Reads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeGiven:
    """Time a buddy gave the scheme, for their volunteering hours: a meeting from check-in to
    check-out, a one-to-one held. `meeting_id` names the meeting, when it was one."""

    buddy_id: int
    what: str
    started_at: datetime
    minutes: int
    meeting_id: int | None = None


def whole_minutes(length: timedelta) -> int:
    """A length of time in whole minutes, half a minute rounding up, never below nought: the
    rule WholeMinutes follows in the database, so the two always agree."""
    return max(0, (length // timedelta(microseconds=1) + 30_000_000) // 60_000_000)


class WholeMinutes(Func):
    """`whole_minutes(end - start)` in SQL, the same on SQLite and PostgreSQL (integer
    microseconds on SQLite through Django's own django_timestamp_diff; an exact numeric
    epoch on PostgreSQL)."""

    output_field = IntegerField()

    def __init__(self, end, start):
        super().__init__(end, start)

    def _operands(self, compiler, connection):
        end_sql, end_params = compiler.compile(self.source_expressions[0])
        start_sql, start_params = compiler.compile(self.source_expressions[1])
        return end_sql, start_sql, [*end_params, *start_params]

    def as_sqlite(self, compiler, connection, **extra_context):
        end, start, params = self._operands(compiler, connection)
        # Integer division truncates towards nought; below nought becomes nought either way.
        return (
            f"MAX(0, (django_timestamp_diff({end}, {start}) + 30000000) / 60000000)",
            params,
        )

    def as_postgresql(self, compiler, connection, **extra_context):
        end, start, params = self._operands(compiler, connection)
        return (
            f"GREATEST(0, FLOOR((EXTRACT(EPOCH FROM ({end} - {start})) + 30) / 60))::integer",
            params,
        )

    def as_sql(self, compiler, connection, *args, **extra_context):
        raise NotImplementedError(f"WholeMinutes has no SQL for {connection.vendor}")


# Apps above the core report the time buddies gave without the core importing them: each
# receiver gets `scheme`, `since`, `until` and `buddy` (None: every buddy) and returns a list
# of TimeGiven that started in [since, until), in a constant number of queries.
time_given = django.dispatch.Signal()
# The same time summed in the database, for totals over many meetings (the funder report):
# each receiver gets `scheme`, `since` and `until` and returns (minutes, items), in one query.
time_given_totals = django.dispatch.Signal()


def time_given_by(scheme, since: datetime, until: datetime, buddy=None) -> list[TimeGiven]:
    """Meetings (from the apps above) and held one-to-ones, earliest first.

    A face-to-face one-to-one is also a meeting: its real check-in and check-out count there,
    so only one-to-ones without a meeting (phone, video) count here, for their booked length.
    """
    held = Supervision.objects.filter(
        scheme=scheme,
        state=SupervisionState.HELD,
        starts_at__gte=since,
        starts_at__lt=until,
        meeting__isnull=True,
    )
    if buddy is not None:
        held = held.filter(buddy=buddy)
    given = [
        TimeGiven(
            buddy_id=buddy_id,
            what="One-to-one",
            started_at=starts_at,
            minutes=whole_minutes(ends_at - starts_at),
        )
        for buddy_id, starts_at, ends_at in held.values_list("buddy_id", "starts_at", "ends_at")
    ]
    for _, answer in time_given.send(
        sender=None, scheme=scheme, since=since, until=until, buddy=buddy
    ):
        given += cast(list[TimeGiven], answer)
    return sorted(given, key=lambda item: (item.started_at, item.buddy_id))


def time_given_total(scheme, since: datetime, until: datetime) -> tuple[int, int]:
    """The minutes and the number of items `time_given_by(scheme, since, until)` lists, summed
    in the database rather than read row by row (one query here, one per app above)."""
    held = Supervision.objects.filter(
        scheme=scheme,
        state=SupervisionState.HELD,
        starts_at__gte=since,
        starts_at__lt=until,
        meeting__isnull=True,
    ).aggregate(minutes=Sum(WholeMinutes("ends_at", "starts_at")), items=Count("pk"))
    minutes, items = held["minutes"] or 0, held["items"]
    for _, answer in time_given_totals.send(sender=None, scheme=scheme, since=since, until=until):
        more_minutes, more_items = cast(tuple[int, int], answer)
        minutes += more_minutes
        items += more_items
    return minutes, items


def support_settings_to_read(scheme) -> SupportSettings:
    """The scheme's support settings for reading, without writing: the defaults until saved."""
    return SupportSettings.objects.filter(scheme=scheme).first() or SupportSettings(scheme=scheme)


def own_support_person(buddy: Membership) -> Membership | None:
    """The buddy's named support person, while they are an active coordinator of the scheme."""
    return (
        Membership.objects.filter(
            buddies_supported__membership=buddy,
            scheme_id=buddy.scheme_id,
            role=Role.COORDINATOR,
            is_active=True,
        )
        .select_related("user__profile")
        .first()
    )


def spoken_day(moment: datetime, scheme) -> str:
    """'14:00 on Tuesday 3 March', in the scheme's zone (messages are read later)."""
    local = timezone.localtime(moment, scheme.zone)
    return f"{local:%H:%M} on {local:%A} {local.day} {local:%B}"


def _start_of(day: date, zone) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), zone)


@dataclass
class Overdue:
    """A buddy whose one-to-one (or contact) is overdue: since when, and what is booked."""

    buddy: Membership
    last: datetime | None  # the last one held (or contact made); None: never since approval
    due: date
    next_booked: datetime | None = None


def buddies_in_service(scheme) -> QuerySet[Membership]:
    """Approved, active buddies: the volunteers the scheme supervises and keeps in touch with."""
    return Membership.objects.filter(
        scheme=scheme, role=Role.BUDDY, is_active=True, vetting__stage=BuddyStage.APPROVED
    )


def _last_held():
    return Subquery(
        Supervision.objects.filter(buddy=OuterRef("pk"), state=SupervisionState.HELD)
        .order_by("-held_at")
        .values("held_at")[:1],
        output_field=DateTimeField(),
    )


def _last_contact():
    return Subquery(
        SupportContact.objects.filter(buddy=OuterRef("pk"))
        .order_by("-contacted_at")
        .values("contacted_at")[:1],
        output_field=DateTimeField(),
    )


def _next_booked(now):
    return Subquery(
        Supervision.objects.filter(
            buddy=OuterRef("pk"), state=SupervisionState.BOOKED, starts_at__gte=now
        )
        .order_by("starts_at")
        .values("starts_at")[:1],
        output_field=DateTimeField(),
    )


def _overdue(scheme, every_months: int, *, last, since, now) -> list[Overdue]:
    """Buddies whose `since` (the last one, else their approval) is over `every_months` ago."""
    zone = scheme.zone
    today = timezone.localdate(now, zone)
    cutoff = _start_of(_add_months(today, -every_months), zone)
    buddies = (
        buddies_in_service(scheme)
        .annotate(last=last, since=since, next_booked=_next_booked(now))
        .filter(since__lt=cutoff)
        .select_related("user__profile", "vetting__support_person__user__profile")
        .order_by("since", "pk")
    )
    return [
        Overdue(
            buddy=buddy,
            last=buddy.last,
            due=_add_months(timezone.localdate(buddy.since, zone), every_months),
            next_booked=buddy.next_booked,
        )
        for buddy in buddies
    ]


def supervision_overdue(scheme, now=None, config: SupportSettings | None = None) -> list[Overdue]:
    """Buddies whose last one-to-one (or approval, if none yet) is more than the scheme's
    `supervision_every_months` ago, longest waiting first. One query (and one for the
    settings, unless given)."""
    now = now or timezone.now()
    every = (config or support_settings_to_read(scheme)).supervision_every_months
    since = Coalesce(_last_held(), "vetting__stage_changed_at")
    return _overdue(scheme, every, last=_last_held(), since=since, now=now)


def contact_overdue(scheme, now=None, config: SupportSettings | None = None) -> list[Overdue]:
    """Buddies nobody has been in touch with for the scheme's `contact_every_months`: a
    logged contact or a one-to-one held both count. One query (and one for the settings,
    unless given)."""
    now = now or timezone.now()
    every = (config or support_settings_to_read(scheme)).contact_every_months
    start = "vetting__stage_changed_at"
    # Greatest is NULL on SQLite when any argument is: each side falls back to the other.
    since = Greatest(
        Coalesce(_last_contact(), _last_held(), start),
        Coalesce(_last_held(), _last_contact(), start),
    )
    return _overdue(
        scheme,
        every,
        last=Greatest(
            Coalesce(_last_contact(), _last_held()), Coalesce(_last_held(), _last_contact())
        ),
        since=since,
        now=now,
    )


def supervisions_for_buddy(buddy: Membership) -> QuerySet[Supervision]:
    return Supervision.objects.filter(buddy=buddy).select_related(
        "support_person__user__profile", "concern"
    )


def supervisions_coming(scheme, now=None) -> QuerySet[Supervision]:
    """Booked one-to-ones that have not finished, soonest first."""
    now = now or timezone.now()
    return (
        Supervision.objects.filter(
            scheme=scheme, state=SupervisionState.BOOKED, ends_at__gte=now - timedelta(days=1)
        )
        .select_related("buddy__user__profile", "support_person__user__profile")
        .order_by("starts_at", "pk")
    )


def contacts_for_buddy(buddy: Membership, shown: int = 12) -> QuerySet[SupportContact]:
    return SupportContact.objects.filter(buddy=buddy).select_related("by__profile")[:shown]


def diary_for_buddy(buddy: Membership) -> QuerySet[DiaryEntry]:
    """The buddy's own diary: for the buddy's eyes (their own page) only."""
    return DiaryEntry.objects.filter(buddy=buddy).select_related("shared_with__user__profile")


def diary_shared_with(reader: Membership, buddy: Membership | None = None) -> QuerySet[DiaryEntry]:
    """Entries buddies chose to share with `reader`: nothing else of a diary is ever read."""
    entries = DiaryEntry.objects.filter(shared_with=reader).select_related("buddy__user__profile")
    return entries.filter(buddy=buddy) if buddy is not None else entries


# --- Writes: supervision --------------------------------------------------------------------


def supervision_book(
    *,
    buddy: Membership,
    mode: str,
    starts_at: datetime,
    ends_at: datetime,
    by,
    support_person: Membership | None = None,
    concern: Concern | None = None,
    now=None,
) -> Supervision:
    """Book a one-to-one with a buddy (after a concern, to talk it through). The buddy is told.

    Face to face, it is also a meeting with lone-working check-in: book it through
    `meetings.services.supervision_arrange`, which calls this in the same transaction.
    """
    now = now or timezone.now()
    if buddy.role != Role.BUDDY or not buddy.is_active:
        raise DomainError("One-to-ones are booked with an active buddy of the scheme.")
    if mode not in SupervisionMode.values:
        raise DomainError("Choose face to face, phone or video.")
    if ends_at <= starts_at:
        raise DomainError("The one-to-one must end after it starts.")
    if ends_at - starts_at > LONGEST_ONE_TO_ONE:
        raise DomainError("A one-to-one can last at most 4 hours.")
    if starts_at < now - timedelta(minutes=5):
        raise DomainError("The start time has passed: book it for a time still to come.")
    if support_person is None:
        support_person = own_support_person(buddy)
    else:
        support_person_check(buddy.scheme, support_person)
    if concern is not None and (
        concern.raised_by_id != buddy.pk or concern.status == ConcernStatus.CLOSED
    ):
        raise DomainError("That concern is not an open one of this buddy's.")
    with transaction.atomic():
        supervision = Supervision.objects.create(
            scheme_id=buddy.scheme_id,
            buddy=buddy,
            support_person=support_person,
            concern=concern,
            mode=mode,
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=by,
            created_at=now,
        )
        audit_record(actor=by, verb="supervision_book", obj=supervision, scheme=buddy.scheme_id)
        when = spoken_day(starts_at, buddy.scheme)
        if concern is not None:
            concern_one_to_one_booked(concern=concern, when=when, by=by, now=now)
        notification_enqueue(
            scheme=buddy.scheme,
            recipient=buddy.user,
            template="supervision_booked",
            dedupe_key=f"supervision-booked:{supervision.pk}",
            context={
                "supervision_id": supervision.pk,
                "when": when,
                "how": SupervisionMode(mode).label.lower(),
            },
            channels=[Channel.EMAIL],
            now=now,
        )
    return supervision


def _locked(supervision: Supervision) -> Supervision:
    return (
        Supervision.objects.select_for_update(of=("self",))
        .select_related("buddy__user", "scheme")
        .get(pk=supervision.pk)
    )


def supervision_hold(*, supervision: Supervision, by, notes: str = "", now=None) -> Supervision:
    """Record that a booked one-to-one took place, with its notes if they are written now."""
    now = now or timezone.now()
    with transaction.atomic():
        supervision = _locked(supervision)
        if supervision.state != SupervisionState.BOOKED:
            raise DomainError(
                f"This one-to-one is {supervision.get_state_display().lower()}: it cannot be "
                "marked as held."
            )
        if now < supervision.starts_at:
            raise DomainError("This one-to-one has not started yet.")
        supervision.state = SupervisionState.HELD
        supervision.held_at = supervision.starts_at
        fields = ["state", "held_at"]
        if (notes or "").strip():
            fields += _notes_set(supervision, notes, by, now)
        supervision.save(update_fields=fields)
        audit_record(
            actor=by, verb="supervision_hold", obj=supervision, scheme=supervision.scheme_id
        )
    return supervision


def _notes_set(supervision: Supervision, notes: str, by, now) -> list[str]:
    notes = (notes or "").strip()
    if not notes:
        raise DomainError("Write the notes first.")
    if len(notes) > NOTES_LENGTH:
        raise DomainError(f"Please keep the notes under {NOTES_LENGTH} characters.")
    supervision.notes = notes
    supervision.notes_written_at = now
    supervision.notes_written_by = by
    return ["notes", "notes_written_at", "notes_written_by"]


def supervision_notes_save(*, supervision: Supervision, notes: str, by, now=None) -> Supervision:
    """Write (or correct) the notes of a one-to-one that took place. Once shared, the buddy
    reads the corrected notes."""
    now = now or timezone.now()
    with transaction.atomic():
        supervision = _locked(supervision)
        if supervision.state != SupervisionState.HELD:
            raise DomainError("Notes are written once the one-to-one has taken place.")
        supervision.save(update_fields=_notes_set(supervision, notes, by, now))
        audit_record(
            actor=by, verb="supervision_notes_save", obj=supervision, scheme=supervision.scheme_id
        )
    return supervision


def supervision_notes_share(*, supervision: Supervision, by, now=None) -> Supervision:
    """Give the buddy the notes (seed 003: "a copy of the notes given to the Peer
    Supporter"); they are told by email, which says only that notes are ready."""
    now = now or timezone.now()
    with transaction.atomic():
        supervision = _locked(supervision)
        if supervision.state != SupervisionState.HELD or not supervision.notes:
            raise DomainError("Write the notes of a one-to-one that took place first.")
        if supervision.shared_at is not None:
            return supervision
        supervision.shared_at = now
        supervision.save(update_fields=["shared_at"])
        audit_record(
            actor=by, verb="supervision_notes_share", obj=supervision, scheme=supervision.scheme_id
        )
        notification_enqueue(
            scheme=supervision.scheme,
            recipient=supervision.buddy.user,
            template="supervision_notes_shared",
            dedupe_key=f"supervision-notes:{supervision.pk}",
            context={"supervision_id": supervision.pk},
            channels=[Channel.EMAIL],
            now=now,
        )
    return supervision


def supervision_comment(
    *, supervision: Supervision, buddy: Membership, text: str, now=None
) -> Supervision:
    """The buddy's comment on the notes they were given (they can change it later)."""
    now = now or timezone.now()
    text = (text or "").strip()
    if not text:
        raise DomainError("Write your comment first.")
    if len(text) > COMMENT_LENGTH:
        raise DomainError(f"Please keep your comment under {COMMENT_LENGTH} characters.")
    with transaction.atomic():
        supervision = _locked(supervision)
        if supervision.buddy_id != buddy.pk or supervision.shared_at is None:
            raise DomainError("You can comment on notes once they are shared with you.")
        supervision.buddy_comment = text
        supervision.buddy_commented_at = now
        supervision.save(update_fields=["buddy_comment", "buddy_commented_at"])
        audit_record(
            actor=buddy.user,
            verb="supervision_comment",
            obj=supervision,
            scheme=supervision.scheme_id,
        )
    return supervision


def supervision_cancel(*, supervision: Supervision, by, now=None) -> Supervision:
    """Cancel a booked one-to-one (and, face to face, its meeting). Cancelling one already
    cancelled does nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        supervision = _locked(supervision)
        if supervision.state == SupervisionState.CANCELLED:
            return supervision
        if supervision.state != SupervisionState.BOOKED:
            raise DomainError("Only a one-to-one still to come can be cancelled.")
        supervision.state = SupervisionState.CANCELLED
        supervision.cancelled_at = now
        supervision.save(update_fields=["state", "cancelled_at"])
        audit_record(
            actor=by, verb="supervision_cancel", obj=supervision, scheme=supervision.scheme_id
        )
        supervision_cancelled.send(sender=Supervision, supervision=supervision, by=by, now=now)
    return supervision


# --- Writes: contact ------------------------------------------------------------------------


def contact_log(*, buddy: Membership, mode: str, notes: str = "", by, now=None) -> SupportContact:
    """Log a call, an email or a chat with a buddy: a few taps and a line of notes."""
    if buddy.role != Role.BUDDY:
        raise DomainError("Contact is logged for buddies.")
    if mode not in ContactMode.values:
        raise DomainError("Choose phone, email or in person.")
    with transaction.atomic():
        contact = SupportContact.objects.create(
            scheme_id=buddy.scheme_id,
            buddy=buddy,
            mode=mode,
            notes=(notes or "").strip()[:200],
            contacted_at=now or timezone.now(),
            by=by,
        )
        audit_record(actor=by, verb="contact_log", obj=contact, scheme=buddy.scheme_id)
    return contact


# --- Writes: the reflective diary -----------------------------------------------------------


def diary_write(*, buddy: Membership, text: str, now=None) -> DiaryEntry:
    """A new private entry: nobody but the buddy can read it until they share it."""
    text = (text or "").strip()
    if buddy.role != Role.BUDDY:
        raise DomainError("The reflective diary is for buddies.")
    if not text:
        raise DomainError("Write something first.")
    if len(text) > DIARY_LENGTH:
        raise DomainError(f"Please keep an entry under {DIARY_LENGTH} characters.")
    with transaction.atomic():
        entry = DiaryEntry.objects.create(buddy=buddy, text=text, written_at=now or timezone.now())
        # The row says an entry was written, never what it says.
        audit_record(actor=buddy.user, verb="diary_write", obj=entry, scheme=buddy.scheme_id)
    return entry


def _own_entry(entry: DiaryEntry, buddy: Membership) -> DiaryEntry:
    locked = DiaryEntry.objects.select_for_update().get(pk=entry.pk)
    if locked.buddy_id != buddy.pk:
        raise DomainError("This is not one of your diary entries.")
    return locked


def diary_share(*, entry: DiaryEntry, buddy: Membership, now=None) -> DiaryEntry:
    """Share an entry with the buddy's support person (only them), who is told by email."""
    now = now or timezone.now()
    support_person = own_support_person(buddy)
    if support_person is None:
        raise DomainError(
            "You do not have a named support person yet, so there is nobody to share it with. "
            "Ask your coordinator to name one."
        )
    with transaction.atomic():
        entry = _own_entry(entry, buddy)
        if entry.shared_with_id == support_person.pk:
            return entry
        entry.shared_with, entry.shared_at = support_person, now
        entry.save(update_fields=["shared_with", "shared_at"])
        audit_record(actor=buddy.user, verb="diary_share", obj=entry, scheme=buddy.scheme_id)
        notification_enqueue(
            scheme=buddy.scheme,
            recipient=support_person.user,
            template="diary_shared",
            dedupe_key=f"diary-shared:{entry.pk}:{support_person.pk}",
            context={"buddy_id": buddy.pk},
            channels=[Channel.EMAIL],
            now=now,
        )
    return entry


def diary_unshare(*, entry: DiaryEntry, buddy: Membership) -> DiaryEntry:
    """Make a shared entry private again."""
    with transaction.atomic():
        entry = _own_entry(entry, buddy)
        entry.shared_with, entry.shared_at = None, None
        entry.save(update_fields=["shared_with", "shared_at"])
        audit_record(actor=buddy.user, verb="diary_unshare", obj=entry, scheme=buddy.scheme_id)
    return entry


def diary_delete(*, entry: DiaryEntry, buddy: Membership) -> None:
    """The buddy's diary is theirs: an entry they delete is gone."""
    with transaction.atomic():
        entry = _own_entry(entry, buddy)
        audit_record(actor=buddy.user, verb="diary_delete", obj=entry, scheme=buddy.scheme_id)
        entry.delete()
