"""Groups: the rules (two facilitators, the group check and agreement, ground rules every
session, exclusions) as services, each in one transaction. Views call these; nothing else writes.

A session is watched by the lone-working net through one meeting per buddy facilitator (the
meetings app's Meeting has one buddy each): each checks in and may ask for help on their own
meeting, and either may check out for both (a colleague leaving with them vouches for them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from buddyscheme.audit import audit_record
from buddyscheme.errors import DomainError
from buddyscheme.models import Membership, Role
from buddyscheme.notifications import notification_enqueue
from contracts.models import ContractKind, ContractState
from contracts.services import group_agreement_generate, templates_ensure
from meetings.models import Meeting, MeetingState, VenueKind
from meetings.services import (
    Position,
    meeting_book,
    meeting_check_in,
    meeting_check_out,
    meeting_check_out_with_pin,
)

from .models import (
    FACILITATOR_TASKS,
    Attendance,
    Exclusion,
    GroupComplaint,
    GroupDebrief,
    GroupMember,
    GroupQuestion,
    GroupSession,
    PeerGroup,
    SessionFacilitator,
    SessionFeedback,
    SessionState,
)

FACILITATORS_NEEDED = 2
# The coordinator hears this long before a session that still has fewer than two facilitators:
# time enough to find a second one (seed 003, "Best practice is for two people to facilitate").
WARN_SHORT_OF_FACILITATORS_HOURS = 48
SESSION_MEETING_PURPOSE = "Group session"
EXTERNAL_CHECKS = (
    ("insurance_checked_on", "insurance checked"),
    ("health_and_safety_checked_on", "health and safety checked"),
    ("premises_rules_checked_on", "the premises' rules checked"),
)
GROUP_FIELDS = (
    "name",
    "neutral_name",
    "kind",
    "schedule",
    "schedule_text",
    "purpose",
    "venue",
    "insurance_checked_on",
    "health_and_safety_checked_on",
    "premises_rules_checked_on",
    "signage_text",
    "complaints_contact",
    "is_active",
)


def _coordinators(scheme) -> list[Membership]:
    return list(
        Membership.objects.filter(
            scheme=scheme, role=Role.COORDINATOR, is_active=True
        ).select_related("user__profile")
    )


def venue_problems(group: PeerGroup, on: date) -> list[str]:
    """Seed 003 "Safe space": a current risk assessment; outside our building also insurance,
    health and safety and the premises' rules, each checked on a date."""
    venue = group.venue
    problems = []
    if not venue.is_active:
        problems.append("the venue is no longer used")
    if venue.risk_review_due < on:
        problems.append(
            f"the venue's risk assessment needed review by {venue.risk_review_due:%d %B %Y}"
        )
    if venue.kind != VenueKind.IN_HOUSE:
        for field, label in EXTERNAL_CHECKS:
            if getattr(group, field) is None:
                problems.append(f"a venue outside our building needs the date it had {label}")
    return problems


# --- Groups and sessions ----------------------------------------------------------------------


def _apply(group: PeerGroup, fields: dict) -> None:
    for name in GROUP_FIELDS:
        if name in fields:
            setattr(group, name, fields[name])
    if group.venue.scheme_id != group.scheme_id:
        raise DomainError("Choose one of this scheme's venues.")
    today = timezone.localdate()
    for field, label in EXTERNAL_CHECKS:
        checked = getattr(group, field)
        if checked is not None and checked > today:
            raise DomainError(f"The date {label} cannot be in the future.")


@transaction.atomic
def group_create(*, scheme, by, **fields) -> PeerGroup:
    group = PeerGroup(scheme=scheme)
    _apply(group, fields)
    group.save()
    audit_record(actor=by, verb="group_create", obj=group, scheme=scheme)
    return group


@transaction.atomic
def group_update(*, group: PeerGroup, by, **fields) -> PeerGroup:
    group = PeerGroup.objects.select_for_update().get(pk=group.pk)
    _apply(group, fields)
    group.save()
    audit_record(actor=by, verb="group_update", obj=group, scheme=group.scheme_id)
    return group


@transaction.atomic
def group_session_create(
    *, group: PeerGroup, planned_start, planned_end, by, now=None
) -> GroupSession:
    now = now or timezone.now()
    if planned_end <= planned_start:
        raise DomainError("The session must end after it starts.")
    if planned_start < now - timedelta(minutes=5):
        raise DomainError("Sessions are planned before they happen: the start time has passed.")
    if planned_end - planned_start > timedelta(hours=8):
        raise DomainError("A session can last at most 8 hours.")
    problems = venue_problems(group, timezone.localtime(planned_start, group.scheme.zone).date())
    if problems:
        raise DomainError("This session cannot be planned: " + "; ".join(problems) + ".")
    session = GroupSession.objects.create(
        group=group, planned_start=planned_start, planned_end=planned_end, created_at=now
    )
    audit_record(actor=by, verb="group_session_create", obj=session, scheme=group.scheme_id)
    return session


def can_facilitate(membership: Membership) -> bool:
    """Buddies with the facilitator flag, or staff (coordinators)."""
    return membership.is_active and (
        membership.role == Role.COORDINATOR
        or (membership.role == Role.BUDDY and membership.is_facilitator)
    )


@transaction.atomic
def facilitator_add(
    *, session: GroupSession, membership: Membership, by, now=None
) -> SessionFacilitator:
    """Add a facilitator. Each gets a lone-working meeting of their own for the session (with
    the usual booking rules: the venue's risk assessment, a key holder, out-of-hours cover; a
    buddy's vetting too). Staff are watched the same way: a coordinator running a group in a
    community venue is as alone as a buddy if their colleague does not turn up."""
    now = now or timezone.now()
    session = (
        GroupSession.objects.select_for_update(of=("self",))
        .select_related("group__venue")
        .get(pk=session.pk)
    )
    if membership.scheme_id != session.group.scheme_id or not can_facilitate(membership):
        raise DomainError("Facilitators are buddies marked as facilitators, or staff.")
    if session.state != SessionState.PLANNED:
        raise DomainError("Facilitators are chosen before the session starts.")
    if session.facilitators.filter(membership=membership).exists():
        raise DomainError("They are already facilitating this session.")
    meeting = meeting_book(
        buddy=membership,
        venue=session.group.venue,
        planned_start=session.planned_start,
        planned_end=session.planned_end,
        purpose=SESSION_MEETING_PURPOSE,
        by=by,
        staff=membership.role == Role.COORDINATOR,
        now=now,
    )
    facilitator = SessionFacilitator.objects.create(
        session=session, membership=membership, meeting=meeting, created_at=now
    )
    audit_record(
        actor=by, verb="group_facilitator_add", obj=facilitator, scheme=membership.scheme_id
    )
    return facilitator


def facilitator_of(session: GroupSession, membership: Membership) -> SessionFacilitator | None:
    return session.facilitators.select_related("meeting").filter(membership=membership).first()


def _may_run(session: GroupSession, membership: Membership) -> None:
    if membership.role != Role.COORDINATOR and facilitator_of(session, membership) is None:
        raise DomainError("Only the session's facilitators can do this.")


@transaction.atomic
def session_start(*, session: GroupSession, membership: Membership, now=None) -> GroupSession:
    """Refused with fewer than two facilitators: a group is never run by one person alone."""
    now = now or timezone.now()
    session = GroupSession.objects.select_for_update().get(pk=session.pk)
    _may_run(session, membership)
    if session.state == SessionState.RUNNING:
        return session  # a second tap, or the other facilitator
    if session.state != SessionState.PLANNED:
        raise DomainError("This session has already finished.")
    if session.facilitators.count() < FACILITATORS_NEEDED:
        raise DomainError(
            "A group needs two facilitators: this session has fewer, so it cannot start. "
            "Call your coordinator."
        )
    session.state = SessionState.RUNNING
    session.started_at = now
    session.started_by = membership.user
    session.save(update_fields=["state", "started_at", "started_by"])
    return session


def session_check_in(
    *, session: GroupSession, membership: Membership, key: str, now=None
) -> Meeting:
    """The facilitator's own "I've arrived" on their meeting for the session."""
    facilitator = facilitator_of(session, membership)
    if facilitator is None or facilitator.meeting is None:
        raise DomainError("You have no check-in for this session.")
    return meeting_check_in(meeting=facilitator.meeting, key=key, by=membership.user, now=now)


def session_check_out(
    *,
    session: GroupSession,
    membership: Membership,
    key: str,
    pin: str = "",
    position: Position | None = None,
    now=None,
) -> int:
    """Either facilitator checks out for both, and the session is finished. Returns how many
    meetings were checked out.

    The one pressing checks out their own meeting first, exactly as on Today: with their PIN if
    they set one (the duress PIN works here too and looks the same; a wrong PIN changes
    nothing). Only then are their colleagues' meetings still checked in closed: leaving
    together, they vouch for each other. Someone not checked in themselves cannot check anyone
    else out: each does it on their own phone."""
    now = now or timezone.now()
    key = (key or "")[:50]
    facilitator = facilitator_of(session, membership)
    if facilitator is None or facilitator.meeting is None:
        raise DomainError("Only the session's facilitators check out.")
    own = facilitator.meeting
    checked_out = 0
    if own.state == MeetingState.CHECKED_IN:
        # Outside any transaction of ours: what a wrong PIN records must stay when it refuses.
        meeting_check_out_with_pin(
            meeting=own,
            key=f"{key}:{own.pk}",
            pin=pin,
            by=membership.user,
            now=now,
            position=position,
        )
        checked_out = 1
    with transaction.atomic():
        session = GroupSession.objects.select_for_update().get(pk=session.pk)
        others = [
            f.meeting
            for f in session.facilitators.select_related("meeting").exclude(pk=facilitator.pk)
            if f.meeting is not None and f.meeting.state == MeetingState.CHECKED_IN
        ]
        if others and checked_out == 0:
            raise DomainError(
                "You are not checked in, so you cannot check out for the others: each of them "
                "checks out on their own phone."
            )
        for meeting in others:
            meeting_check_out(
                meeting=meeting, key=f"{key}:{meeting.pk}", by=membership.user, now=now
            )
            checked_out += 1
        if session.state in (SessionState.PLANNED, SessionState.RUNNING):
            session.state = SessionState.FINISHED
            session.ended_at = now
            session.save(update_fields=["state", "ended_at"])
    return checked_out


@transaction.atomic
def session_tasks_set(
    *, session: GroupSession, membership: Membership, done: list[str]
) -> GroupSession:
    session = GroupSession.objects.select_for_update().get(pk=session.pk)
    _may_run(session, membership)
    known = [key for key, _ in FACILITATOR_TASKS]
    session.tasks_done = [key for key in known if key in done]
    session.save(update_fields=["tasks_done"])
    return session


@transaction.atomic
def ground_rules_read_out(
    *, session: GroupSession, membership: Membership, now=None
) -> GroupSession:
    now = now or timezone.now()
    session = GroupSession.objects.select_for_update().get(pk=session.pk)
    _may_run(session, membership)
    if session.ground_rules_read_out_at is None:
        session.ground_rules_read_out_at = now
        session.ground_rules_read_out_by = membership.user
        session.save(update_fields=["ground_rules_read_out_at", "ground_rules_read_out_by"])
    return session


@transaction.atomic
def session_counts_set(
    *, session: GroupSession, membership: Membership, new_count: int, returning_count: int
) -> GroupSession:
    session = GroupSession.objects.select_for_update().get(pk=session.pk)
    _may_run(session, membership)
    if new_count < 0 or returning_count < 0 or new_count + returning_count > 500:
        raise DomainError("Type how many came: a number from 0.")
    named = session.attendances.filter(present=True).count()
    if new_count + returning_count < named:
        raise DomainError(
            f"You marked {named} people present: the counts must add up to at least that."
        )
    session.new_count, session.returning_count = new_count, returning_count
    session.save(update_fields=["new_count", "returning_count"])
    return session


# --- Joining: the group check and the agreement -----------------------------------------------


def group_questions(scheme) -> list[GroupQuestion]:
    return list(GroupQuestion.objects.filter(scheme=scheme, is_active=True))


@transaction.atomic
def group_member_add(
    *, group: PeerGroup, membership: Membership, answers: dict[int, bool], by, now=None
) -> GroupMember:
    """The group check (every active question answered yes), then an agreement to sign."""
    now = now or timezone.now()
    if membership.scheme_id != group.scheme_id or membership.role != Role.PARTICIPANT:
        raise DomainError("Only participants of this scheme can join a group.")
    questions = group_questions(group.scheme)
    missing = [question.text for question in questions if answers.get(question.pk) is not True]
    if missing:
        raise DomainError(
            "They do not qualify for this group yet: " + "; ".join(missing) + ". Consider "
            "one-to-one support instead."
        )
    try:
        with transaction.atomic():
            member = GroupMember.objects.create(
                group=group,
                membership=membership,
                eligibility=[{"question": question.text, "answer": True} for question in questions],
                checked_by=by,
                checked_at=now,
            )
    except IntegrityError:
        raise DomainError("They have already joined this group.") from None
    member.agreement = group_agreement_generate(
        attendee=membership,
        group_name=group.neutral_name,
        complaints_contact=group.complaints_contact,
        by=by,
        now=now,
    )
    member.save(update_fields=["agreement"])
    _tell_attendee_to_sign(member, now)
    audit_record(actor=by, verb="group_member_add", obj=member, scheme=group.scheme_id)
    return member


def _tell_attendee_to_sign(member: GroupMember, now) -> None:
    group = member.group
    notification_enqueue(
        scheme=group.scheme,
        recipient=member.membership.user,
        template="group_agreement",
        dedupe_key=f"group-agreement:{member.agreement_id}",
        context={
            "group_name": group.neutral_name,
            "complaints_contact": group.complaints_contact,
            "contract_id": member.agreement_id,
        },
        now=now,
    )


def agreement_status(member: GroupMember) -> str:
    """'signed' (the current version), 'reconsent' (a newer version waits to be made or
    signed), 'awaiting' (not signed yet) or 'none'."""
    agreement = member.agreement
    if agreement is None:
        return "none"
    current = templates_ensure(member.group.scheme)[ContractKind.GROUP].current
    if agreement.state == ContractState.AWAITING:
        return "awaiting"
    if current is not None and agreement.version.number < current.number:
        return "reconsent"
    return "signed"


@transaction.atomic
def group_member_reconsent(*, member: GroupMember, by, now=None) -> GroupMember:
    """A new version of the ground rules: a new agreement for this person to sign."""
    now = now or timezone.now()
    member = (
        GroupMember.objects.select_for_update(of=("self",))
        .select_related("group__scheme", "agreement__version")
        .get(pk=member.pk)
    )
    if agreement_status(member) != "reconsent":
        raise DomainError("Their agreement is up to date, or a new one is already waiting.")
    member.agreement = group_agreement_generate(
        attendee=member.membership,
        group_name=member.group.neutral_name,
        complaints_contact=member.group.complaints_contact,
        by=by,
        now=now,
    )
    member.save(update_fields=["agreement"])
    _tell_attendee_to_sign(member, now)
    return member


def open_exclusion(member: GroupMember) -> Exclusion | None:
    return member.exclusions.filter(lifted_at__isnull=True).first()


@transaction.atomic
def attendance_mark(
    *,
    session: GroupSession,
    member: GroupMember,
    membership: Membership,
    rules_confirmed: bool,
    now=None,
) -> Attendance:
    """Mark a named attendee present. The gates: not excluded, the current agreement signed,
    and the ground rules reconfirmed today (their own tick, or read out to everyone)."""
    now = now or timezone.now()
    session = GroupSession.objects.select_for_update().get(pk=session.pk)
    _may_run(session, membership)
    if member.group_id != session.group_id or member.left_at is not None:
        raise DomainError("They are not a member of this group.")
    if session.state not in (SessionState.PLANNED, SessionState.RUNNING):
        raise DomainError("This session has finished.")
    if open_exclusion(member) is not None:
        raise DomainError(
            "They cannot attend until the coordinator's review lifts their exclusion."
        )
    if agreement_status(member) != "signed":
        raise DomainError("They need to sign the group agreement (the current version) first.")
    if not rules_confirmed and session.ground_rules_read_out_at is None:
        raise DomainError(
            "Reconfirm the ground rules first: tick for them, or read them out to everyone."
        )
    attendance, _ = Attendance.objects.get_or_create(session=session, member=member)
    attendance.present = True
    attendance.marked_by = membership.user
    if attendance.ground_rules_confirmed_at is None:
        attendance.ground_rules_confirmed_at = now
    attendance.save()
    return attendance


# --- Exclusion, referral ----------------------------------------------------------------------


@transaction.atomic
def member_exclude(
    *,
    member: GroupMember,
    membership: Membership,
    reason: str,
    review_on: date,
    session=None,
    now=None,
) -> Exclusion:
    """A facilitator (or coordinator) excludes someone whose behaviour made the group unsafe.
    The coordinators are told at once; the reason stays inside the system."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if membership.role != Role.COORDINATOR and not (
        session is not None and facilitator_of(session, membership) is not None
    ):
        raise DomainError("Only the facilitators or the coordinator can exclude someone.")
    if not reason:
        raise DomainError("Say why: the coordinator reviews it.")
    if review_on <= timezone.localdate(now):
        raise DomainError("Choose a review date after today.")
    try:
        with transaction.atomic():
            exclusion = Exclusion.objects.create(
                member=member,
                session=session,
                reason=reason[:1000],
                review_on=review_on,
                excluded_by=membership.user,
                excluded_at=now,
            )
    except IntegrityError:
        raise DomainError("They are already excluded until a review.") from None
    for coordinator in _coordinators(member.group.scheme):
        notification_enqueue(
            scheme=member.group.scheme,
            recipient=coordinator.user,
            template="group_exclusion",
            dedupe_key=f"group-exclusion:{exclusion.pk}",
            context={"group_id": member.group_id},
            now=now,
        )
    audit_record(
        actor=membership.user,
        verb="group_member_exclude",
        obj=exclusion,
        scheme=member.group.scheme_id,
    )
    return exclusion


@transaction.atomic
def exclusion_review(
    *, exclusion: Exclusion, lift: bool, note: str, by, review_on: date | None = None, now=None
) -> Exclusion:
    now = now or timezone.now()
    exclusion = (
        Exclusion.objects.select_for_update(of=("self",))
        .select_related("member__group")
        .get(pk=exclusion.pk)
    )
    if exclusion.lifted_at is not None:
        raise DomainError("This exclusion has already been lifted.")
    exclusion.review_note = (note or "").strip()[:300]
    if lift:
        exclusion.lifted_at, exclusion.lifted_by = now, by
    else:
        if review_on is None or review_on <= timezone.localdate(now):
            raise DomainError("To keep the exclusion, choose the next review date (after today).")
        exclusion.review_on = review_on
    exclusion.save(update_fields=["review_note", "lifted_at", "lifted_by", "review_on"])
    audit_record(
        actor=by,
        verb="group_exclusion_review",
        obj=exclusion,
        scheme=exclusion.member.group.scheme_id,
    )
    return exclusion


@transaction.atomic
def member_refer_one_to_one(*, member: GroupMember, by, now=None) -> GroupMember:
    """Seed 003: someone may move from a group to one-to-one support. The referral shows on
    their record, where the coordinator starts matching."""
    now = now or timezone.now()
    updated = GroupMember.objects.filter(pk=member.pk, referred_one_to_one_at__isnull=True).update(
        referred_one_to_one_at=now, referred_one_to_one_by=by
    )
    member.refresh_from_db()
    if updated:
        audit_record(
            actor=by, verb="group_refer_one_to_one", obj=member, scheme=member.group.scheme_id
        )
    return member


# --- After the session: feedback and debrief --------------------------------------------------


@transaction.atomic
def feedback_record(
    *,
    session: GroupSession,
    felt_welcome: int,
    felt_safe: int,
    would_come_again: bool,
    comments: str,
) -> SessionFeedback:
    """No person, no address: the session is all the answer is linked to."""
    if session.state == SessionState.CANCELLED:
        raise DomainError("This session did not take place.")
    return SessionFeedback.objects.create(
        session=session,
        felt_welcome=felt_welcome,
        felt_safe=felt_safe,
        would_come_again=would_come_again,
        comments=(comments or "").strip()[:1000],
    )


@dataclass
class FeedbackSummary:
    count: int
    welcome: float | None
    safe: float | None
    again: int
    comments: list[str]


def feedback_summary(session: GroupSession) -> FeedbackSummary:
    rows = list(session.feedback.all())
    count = len(rows)
    return FeedbackSummary(
        count=count,
        welcome=round(sum(row.felt_welcome for row in rows) / count, 1) if count else None,
        safe=round(sum(row.felt_safe for row in rows) / count, 1) if count else None,
        again=sum(1 for row in rows if row.would_come_again),
        comments=[row.comments for row in rows if row.comments],
    )


@transaction.atomic
def group_debrief_send(
    *,
    session: GroupSession,
    membership: Membership,
    went_well: str,
    did_not_go_well: str,
    to_pick_up: str,
    now=None,
) -> GroupDebrief:
    now = now or timezone.now()
    session = GroupSession.objects.select_for_update().get(pk=session.pk)
    if facilitator_of(session, membership) is None:
        raise DomainError("The session's facilitators write its debrief.")
    if session.state != SessionState.FINISHED:
        raise DomainError("The debrief is written after the session, once you have checked out.")
    if not (went_well or "").strip():
        raise DomainError("Say what went well.")
    debrief, created = GroupDebrief.objects.get_or_create(
        session=session,
        defaults={
            "went_well": went_well.strip(),
            "did_not_go_well": (did_not_go_well or "").strip(),
            "to_pick_up": (to_pick_up or "").strip(),
            "written_by": membership.user,
            "sent_at": now,
        },
    )
    if not created:
        raise DomainError("The other facilitator has already sent the debrief for this session.")
    return debrief


@transaction.atomic
def group_debrief_reply(*, debrief: GroupDebrief, text: str, by, now=None) -> GroupDebrief:
    now = now or timezone.now()
    text = (text or "").strip()
    if not text:
        raise DomainError("Write a reply first.")
    debrief = (
        GroupDebrief.objects.select_for_update()
        .select_related("session__group__scheme")
        .get(pk=debrief.pk)
    )
    debrief.reply, debrief.reply_by, debrief.reply_at = text[:2000], by, now
    debrief.save(update_fields=["reply", "reply_by", "reply_at"])
    session = debrief.session
    for facilitator in session.facilitators.select_related("membership__user"):
        notification_enqueue(
            scheme=session.group.scheme,
            recipient=facilitator.membership.user,
            template="group_debrief_reply",
            dedupe_key=f"group-debrief-reply:{debrief.pk}:{now.timestamp():.0f}",
            context={"session_id": session.pk},
            now=now,
        )
    return debrief


# --- The warning: a session still short of a second facilitator ------------------------------


def sessions_short_of_facilitators_warn(*, now=None) -> int:
    """Every planned session starting within the warning window with fewer than two
    facilitators: its coordinators are told once. The claim is a conditional UPDATE, so two
    beats at once tell nobody twice."""
    now = now or timezone.now()
    due = (
        GroupSession.objects.filter(
            state=SessionState.PLANNED,
            short_of_facilitators_told_at__isnull=True,
            planned_start__gt=now,
            planned_start__lte=now + timedelta(hours=WARN_SHORT_OF_FACILITATORS_HOURS),
        )
        .annotate(facilitator_count=Count("facilitators"))
        .filter(facilitator_count__lt=FACILITATORS_NEEDED)
        .values_list("pk", flat=True)
    )
    told = 0
    for pk in list(due):
        with transaction.atomic():
            claimed = GroupSession.objects.filter(
                Q(pk=pk), short_of_facilitators_told_at__isnull=True
            ).update(short_of_facilitators_told_at=now)
            if not claimed:
                continue
            session = GroupSession.objects.select_related("group__scheme").get(pk=pk)
            for coordinator in _coordinators(session.group.scheme):
                notification_enqueue(
                    scheme=session.group.scheme,
                    recipient=coordinator.user,
                    template="group_short_of_facilitators",
                    dedupe_key=f"group-short:{session.pk}",
                    context={
                        "session_id": session.pk,
                        "starts": f"{timezone.localtime(session.planned_start, session.group.scheme.zone):%a %d %b, %H:%M}",
                    },
                    now=now,
                )
            told += 1
    return told


# --- Complaints -------------------------------------------------------------------------------


@transaction.atomic
def complaint_record(
    *, group: PeerGroup, received_on: date, summary: str, by, now=None
) -> GroupComplaint:
    now = now or timezone.now()
    summary = (summary or "").strip()
    if not summary:
        raise DomainError("Say what the complaint is about.")
    if received_on > timezone.localdate(now):
        raise DomainError("The date it was received cannot be in the future.")
    complaint = GroupComplaint.objects.create(
        group=group,
        received_on=received_on,
        summary=summary[:2000],
        recorded_by=by,
        recorded_at=now,
    )
    audit_record(actor=by, verb="group_complaint_record", obj=complaint, scheme=group.scheme_id)
    return complaint


@transaction.atomic
def complaint_close(*, complaint: GroupComplaint, outcome: str, by, now=None) -> GroupComplaint:
    """Followed up: what was done. A second press closes nothing twice."""
    now = now or timezone.now()
    outcome = (outcome or "").strip()
    if not outcome:
        raise DomainError("Say how it was followed up.")
    updated = GroupComplaint.objects.filter(pk=complaint.pk, closed_at__isnull=True).update(
        outcome=outcome[:300], closed_at=now, closed_by=by
    )
    if not updated:
        raise DomainError("This complaint was already closed.")
    complaint.refresh_from_db()
    audit_record(
        actor=by, verb="group_complaint_close", obj=complaint, scheme=complaint.group.scheme_id
    )
    return complaint
