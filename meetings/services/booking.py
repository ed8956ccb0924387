"""Booking, rescheduling and cancelling meetings: the rules a meeting must pass before it is logged."""

from __future__ import annotations

from datetime import UTC, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone

from buddyscheme.audit import audit_record
from buddyscheme.errors import DomainError
from buddyscheme.interviews import interview_cancel
from buddyscheme.models import Membership, Role
from buddyscheme.notifications import notification_enqueue
from buddyscheme.support import supervision_cancel
from buddyscheme.vetting import buddy_support_changed, vetting_blockers
from matching.selectors import coordinator_for_participant, support_person_for

from ..models import (
    AlertOutcome,
    LoneWorkingSettings,
    Meeting,
    MeetingState,
    OnCallShift,
    RearrangeRequest,
    VenueKind,
)
from .alerts import resolve_open_alerts
from .rules import (
    MATCH_STATES_THAT_MEET,
    calendar_changed,
    grace,
    last_response_needed,
    lone_working,
    new_watch,
    spoken_time,
)


def _instant(moment):
    """UTC, so that differences and sums are in absolute time. Two datetimes that share a
    ZoneInfo subtract and compare by wall clock: across a clock change, an hour out."""
    return moment.astimezone(UTC)


def on_call_covers(scheme, start, end) -> bool:
    return OnCallShift.objects.filter(
        scheme=scheme, starts_at__lte=start, ends_at__gte=end, responder__is_active=True
    ).exists()


def cover_ends_before(scheme, start, end) -> bool:
    """True when nobody would be there to respond for all of start..end: outside office hours
    and no on-call shift covers it."""
    return not _within_working_hours(scheme, start, end) and not on_call_covers(scheme, start, end)


def _within_working_hours(scheme, start, end) -> bool:
    local_start, local_end = (
        timezone.localtime(start, scheme.zone),
        timezone.localtime(end, scheme.zone),
    )
    return (
        local_start.date() == local_end.date()
        and scheme.is_within_working_hours(start)
        and local_end.time() <= scheme.working_hours_end
        and local_end.weekday() in scheme.working_day_numbers
    )


def default_key_holder(venue) -> Membership | None:
    """The venue's usual key holder, when they are still active staff of its scheme."""
    if venue.kind != VenueKind.IN_HOUSE or venue.key_holder_id is None:
        return None
    return _active_staff(venue.scheme_id).filter(user_id=venue.key_holder_id).first()


def _active_staff(scheme_id):
    return Membership.objects.filter(scheme_id=scheme_id, role=Role.COORDINATOR, is_active=True)


def _key_holder_for(venue, chosen, current=None):
    """Only in-house rooms have one: the one chosen, else the meeting's own (when it stays in
    the same room), else the venue's usual key holder."""
    if venue.kind != VenueKind.IN_HOUSE:
        return None
    return chosen or current or default_key_holder(venue)


def booking_problems(
    *,
    buddy,
    venue,
    planned_start,
    planned_end,
    match=None,
    key_holder=None,
    vetting_needed=True,
    staff=False,
    now=None,
) -> list[str]:
    """Why a meeting cannot be booked. `staff`: the lone-working meeting of a member of staff
    (a coordinator facilitating a group session): watched like a buddy's, no vetting."""
    now = now or timezone.now()
    planned_start, planned_end = _instant(planned_start), _instant(planned_end)
    problems = []
    role = Role.COORDINATOR if staff else Role.BUDDY
    if buddy.role != role or venue.scheme_id != buddy.scheme_id:
        return ["the buddy and the venue must belong to this scheme"]
    if planned_end <= planned_start:
        problems.append("the meeting must end after it starts")
    if planned_start < now - timedelta(minutes=5):
        problems.append("meetings are logged before they happen: the start time has passed")
    if planned_end - planned_start > timedelta(hours=8):
        problems.append("a meeting can last at most 8 hours")
    # Vetting must hold on the day of the meeting, not just today.
    meeting_day = max(
        timezone.localdate(), timezone.localtime(planned_start, buddy.scheme.zone).date()
    )
    # A one-to-one with their support person is not work with a participant: a buddy whose
    # DBS has lapsed, or who is paused, still needs one (perhaps most).
    problems += [
        f"the buddy is {p}" if p.startswith("not") else f"the buddy's {p}"
        for p in (vetting_blockers(buddy, meeting_day) if vetting_needed else [])
    ]
    if not venue.is_active:
        problems.append("this venue is no longer used")
    elif venue.risk_review_due < timezone.localtime(planned_start, buddy.scheme.zone).date():
        problems.append(
            f"the venue's risk assessment needed review by {venue.risk_review_due:%d %B %Y}: a coordinator must review it first"
        )
    if match is not None and (
        match.buddy_id != buddy.pk or match.state not in MATCH_STATES_THAT_MEET
    ):
        problems.append("meetings can be booked only for your own introduced or active matches")
    # Seed 003: an in-house meeting needs a named key holder on the premises.
    if venue.kind == VenueKind.IN_HOUSE:
        if key_holder is None:
            problems.append(
                "a room in our building needs a key holder on the premises: choose who has the keys"
            )
        elif not _active_staff(buddy.scheme_id).filter(pk=key_holder.pk).exists():
            problems.append("the key holder must be a member of staff of this scheme")
    # Someone must be able to respond until the last alert could escalate: the meeting, the
    # longest extension allowed, the grace and two rounds of escalation.
    latest = last_response_needed(venue, planned_end, lone_working(buddy.scheme))
    out_of_hours = not problems and not _within_working_hours(buddy.scheme, planned_start, latest)
    if out_of_hours and not on_call_covers(buddy.scheme, planned_start, latest):
        until = timezone.localtime(latest, buddy.scheme.zone)
        problems.append(
            "it is outside office hours and nobody is on call for that time: someone may need "
            f"to respond until {until:%H:%M} if the meeting runs over and nobody answers (our "
            "out-of-hours policy: someone must be able to respond if you do not check out). "
            "Choose an earlier time or ask your coordinator"
        )
    return problems


def _deadlines(meeting: Meeting, config: LoneWorkingSettings, now) -> None:
    meeting.next_alert_at = meeting.planned_start + grace(meeting, config)
    reminder = meeting.planned_start - timedelta(minutes=config.reminder_before_minutes)
    meeting.next_reminder_at = reminder if reminder > now else None


def meeting_book(
    *,
    buddy,
    venue,
    planned_start,
    planned_end,
    purpose,
    by,
    match=None,
    support_person=None,
    key_holder=None,
    supervision=None,
    interview=None,
    staff=False,
    now=None,
) -> Meeting:
    """Log a meeting. An in-house room's key holder defaults to the venue's usual one.

    With `supervision`, it is the buddy's face-to-face one-to-one with their support person;
    with `interview`, an applicant's face-to-face interview (neither needs them cleared); with
    `staff`, a coordinator's own lone-working meeting (a group session they facilitate)."""
    now = now or timezone.now()
    planned_start, planned_end = _instant(planned_start), _instant(planned_end)
    key_holder = _key_holder_for(venue, key_holder)
    problems = booking_problems(
        buddy=buddy,
        venue=venue,
        planned_start=planned_start,
        planned_end=planned_end,
        match=match,
        key_holder=key_holder,
        vetting_needed=supervision is None and interview is None and not staff,
        staff=staff,
        now=now,
    )
    if problems:
        raise DomainError("This meeting cannot be booked: " + "; ".join(problems) + ".")
    if support_person is None:
        support_person = support_person_for(buddy, match)
    meeting = Meeting(
        scheme=buddy.scheme,
        match=match,
        buddy=buddy,
        support_person=support_person,
        supervision=supervision,
        interview=interview,
        venue=venue,
        key_holder=key_holder,
        purpose=purpose.strip() or "Appointment",
        planned_start=planned_start,
        planned_end=planned_end,
        expected_end=planned_end,
        created_by=by,
        created_at=now,
        updated_at=now,
    )
    _deadlines(meeting, lone_working(buddy.scheme), now)
    meeting.save()
    return meeting


@receiver(buddy_support_changed)
def meetings_support_person_refresh(sender, buddy, **kwargs) -> None:
    """A buddy's (or a match's) support person changed: the meetings still to come or under
    way are watched by the new one; finished meetings keep who was there for them."""
    open_meetings = Meeting.objects.filter(
        buddy=buddy, state__in=[MeetingState.PLANNED, MeetingState.CHECKED_IN]
    ).select_related("match")
    for meeting in open_meetings:
        support_person = support_person_for(buddy, meeting.match)
        if meeting.support_person_id != getattr(support_person, "pk", None):
            meeting.support_person = support_person
            meeting.save(update_fields=["support_person"])


@transaction.atomic
def meeting_reschedule(
    *, meeting: Meeting, venue, planned_start, planned_end, purpose, by, key_holder=None, now=None
) -> Meeting:
    """A coordinator, or the buddy, moves a meeting that has not started yet: a new watch, and
    the calendar event updates. The key holder stays unless another is chosen or the room
    changes."""
    now = now or timezone.now()
    planned_start, planned_end = _instant(planned_start), _instant(planned_end)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.state != MeetingState.PLANNED:
        raise DomainError("Only a meeting that has not started can be changed.")
    if meeting.supervision_id is not None:
        # The one-to-one and its meeting must not drift apart: it is cancelled and booked again.
        raise DomainError(
            "This is a one-to-one with a support person: cancel it and book another time."
        )
    if meeting.interview_id is not None:
        raise DomainError("This is an interview: cancel it and book another time.")
    key_holder = _key_holder_for(
        venue, key_holder, meeting.key_holder if venue.pk == meeting.venue_id else None
    )
    problems = booking_problems(
        buddy=meeting.buddy,
        venue=venue,
        planned_start=planned_start,
        planned_end=planned_end,
        match=meeting.match,
        key_holder=key_holder,
        now=now,
    )
    if problems:
        raise DomainError("This change cannot be made: " + "; ".join(problems) + ".")
    meeting.venue, meeting.planned_start, meeting.planned_end, meeting.purpose = (
        venue,
        planned_start,
        planned_end,
        purpose,
    )
    meeting.key_holder = key_holder
    meeting.expected_end = planned_end
    _deadlines(meeting, lone_working(meeting.scheme), now)
    new_watch(meeting)
    calendar_changed(meeting, now)
    meeting.save()
    resolve_open_alerts(meeting, by, AlertOutcome.SAFE, "meeting rescheduled", now)
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, by, now=None) -> Meeting:
    """Cancel a meeting that has not started. When the buddy cancels, the coordinators and the
    support person are told (a pattern of cancellations is something they watch for)."""
    now = now or timezone.now()
    meeting = (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("scheme", "buddy")
        .get(pk=meeting.pk)
    )
    if meeting.state != MeetingState.PLANNED:
        raise DomainError("Only a meeting that has not started can be cancelled.")
    meeting.state = MeetingState.CANCELLED
    meeting.next_alert_at = meeting.next_reminder_at = None
    meeting.save(
        update_fields=["state", "next_alert_at", "next_reminder_at"]
        + calendar_changed(meeting, now)
    )
    resolve_open_alerts(meeting, by, AlertOutcome.SAFE, "meeting cancelled", now)
    if meeting.supervision is not None:
        supervision_cancel(supervision=meeting.supervision, by=by, now=now)
    if meeting.interview is not None:
        interview_cancel(interview=meeting.interview, by=by, now=now)
    if by is not None and by.pk == meeting.buddy.user_id:
        _tell_staff_of_cancellation(meeting, now)
    return meeting


def _tell_staff_of_cancellation(meeting: Meeting, now) -> None:
    staff = Membership.objects.filter(scheme=meeting.scheme, is_active=True).filter(
        Q(role=Role.COORDINATOR) | Q(pk=meeting.support_person_id)
    )
    users = {membership.user_id: membership.user for membership in staff.select_related("user")}
    for user in users.values():
        notification_enqueue(
            scheme=meeting.scheme,
            recipient=user,
            template="meeting_cancelled",
            dedupe_key=f"cancelled:{meeting.pk}",
            context={
                "meeting_id": meeting.pk,
                "when": spoken_time(meeting.planned_start, meeting.scheme),
            },
            now=now,
        )


def meeting_rearrange_ask(*, meeting: Meeting, by_membership: Membership, now=None):
    """The participant asks to move a planned meeting. Their coordinator is told through the
    outbox (a reference and the time, no name) and agrees a new time with them and the buddy.
    Asking again for the same meeting changes nothing and sends nothing."""
    now = now or timezone.now()
    match = meeting.match
    if match is None or match.participant_id != by_membership.pk:
        raise DomainError("Only the person this meeting is with can ask to move it.")
    if meeting.state != MeetingState.PLANNED or meeting.planned_start <= now:
        raise DomainError("This meeting has already started or is over, so it cannot be moved.")
    with transaction.atomic():
        try:
            with transaction.atomic():
                asked = RearrangeRequest.objects.create(
                    meeting=meeting, requested_by=by_membership, created_at=now
                )
        except IntegrityError:
            return RearrangeRequest.objects.get(meeting=meeting, requested_by=by_membership)
        audit_record(
            actor=by_membership.user,
            verb="meeting_rearrange_ask",
            obj=asked,
            scheme=meeting.scheme_id,
        )
        coordinator = coordinator_for_participant(by_membership, match)
        if coordinator is not None:
            notification_enqueue(
                scheme=meeting.scheme,
                recipient=coordinator.user,
                template="meeting_rearrange",
                dedupe_key=f"rearrange:{asked.pk}",
                context={
                    "meeting_id": meeting.pk,
                    "when": spoken_time(meeting.planned_start, meeting.scheme),
                },
                now=now,
            )
    return asked
