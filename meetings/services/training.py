"""Induction and training sessions (issue 15; seed 000: training sessions with "Apologies").

A coordinator puts on a dated session of a training module at a venue, invites buddies and
applicants (by email, through the outbox), each answers attending or apologies on their phone,
and after the session the coordinator records who came: attending completes the module for
that person, on the session's day, with the module's renewal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.dispatch import receiver
from django.utils import timezone

from buddyscheme.audit import audit_record
from buddyscheme.errors import DomainError
from buddyscheme.models import (
    BuddyStage,
    Channel,
    Membership,
    Role,
    TrainingCompletion,
    TrainingModule,
)
from buddyscheme.notifications import notification_enqueue
from buddyscheme.selectors import HomeCard, SettingsSection, home_cards, settings_sections
from buddyscheme.support import spoken_day
from buddyscheme.vetting import training_complete

from ..models import TrainingAnswer, TrainingInvitation, TrainingSession, Venue

LONGEST_SESSION = timedelta(hours=10)
# Invitations are offered to buddies on their way in and to those already approved (refreshers).
INVITED_STAGES = [
    BuddyStage.APPLIED,
    BuddyStage.REFERENCES,
    BuddyStage.DBS_CHECK,
    BuddyStage.TRAINING,
    BuddyStage.APPROVED,
]

# --- Reads ----------------------------------------------------------------------------------


def training_sessions_for(scheme) -> QuerySet[TrainingSession]:
    """The scheme's sessions, newest first, with their counts (one query)."""
    return (
        TrainingSession.objects.filter(scheme=scheme)
        .select_related("module", "venue")
        .annotate(
            invited=Count("invitations"),
            attending=Count("invitations", filter=Q(invitations__answer=TrainingAnswer.ATTENDING)),
            apologies=Count("invitations", filter=Q(invitations__answer=TrainingAnswer.APOLOGIES)),
            came=Count("invitations", filter=Q(invitations__attended=True)),
        )
    )


def session_invitations(session: TrainingSession) -> list[TrainingInvitation]:
    return list(
        session.invitations.select_related("invitee__user__profile", "invitee__vetting").order_by(
            "invitee__user__first_name", "invitee__user__last_name", "pk"
        )
    )


def invitable_people(session: TrainingSession) -> QuerySet[Membership]:
    """Active buddies (applicants included) of the scheme not invited to this session yet."""
    return (
        Membership.objects.filter(
            scheme=session.scheme_id,
            role=Role.BUDDY,
            is_active=True,
            vetting__stage__in=INVITED_STAGES,
        )
        .exclude(training_invitations__session=session)
        .select_related("user__profile", "vetting")
        .order_by("user__first_name", "user__last_name", "pk")
    )


def upcoming_invitations(membership: Membership, now=None) -> list[TrainingInvitation]:
    """Sessions this person is invited to that have not ended, soonest first (one query)."""
    now = now or timezone.now()
    return list(
        TrainingInvitation.objects.filter(invitee=membership, session__ends_at__gt=now)
        .select_related("session__module", "session__venue")
        .order_by("session__starts_at", "pk")
    )


@dataclass
class TrainingDue:
    module: TrainingModule
    expires_on: date | None = None  # set when a completion runs out soon or has run out


@dataclass
class MyTraining:
    due: list[TrainingDue] = field(default_factory=list)
    invitations: list[TrainingInvitation] = field(default_factory=list)


def training_due(membership: Membership, today: date | None = None, within_days: int = 60):
    """The scheme's required modules this person has not done, or whose completion runs out
    within `within_days` (two queries)."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=within_days)
    modules = list(TrainingModule.objects.filter(scheme=membership.scheme_id, mandatory=True))
    if not modules:
        return []
    latest: dict[int, date | None] = {}
    done: set[int] = set()
    completions = list(
        TrainingCompletion.objects.filter(membership=membership).values_list(
            "module_id", "expires_on"
        )
    )
    for module_id, expires_on in completions:
        done.add(module_id)
        if expires_on is None:
            latest[module_id] = None
        elif module_id not in latest or (
            latest[module_id] is not None and expires_on > latest[module_id]  # type: ignore[operator]
        ):
            latest[module_id] = expires_on
    due = []
    for module in modules:
        if module.pk not in done:
            due.append(TrainingDue(module))
        elif latest[module.pk] is not None and latest[module.pk] <= horizon:  # type: ignore[operator]
            due.append(TrainingDue(module, latest[module.pk]))
    return due


def my_training(membership: Membership, now=None) -> MyTraining:
    now = now or timezone.now()
    return MyTraining(
        due=training_due(membership, timezone.localdate(now)),
        invitations=upcoming_invitations(membership, now),
    )


# --- Writes ---------------------------------------------------------------------------------


def training_session_create(
    *,
    scheme,
    module: TrainingModule,
    venue: Venue,
    starts_at,
    ends_at,
    capacity: int,
    by,
    now=None,
) -> TrainingSession:
    now = now or timezone.now()
    if module.scheme_id != scheme.pk or venue.scheme_id != scheme.pk:
        raise DomainError("Choose a module and a venue of this scheme.")
    if not venue.is_active:
        raise DomainError("This venue is no longer used.")
    if ends_at <= starts_at:
        raise DomainError("The session must end after it starts.")
    if ends_at - starts_at > LONGEST_SESSION:
        raise DomainError("A session can last at most 10 hours.")
    if starts_at < now - timedelta(minutes=5):
        raise DomainError("The start time has passed: put on a session still to come.")
    if not capacity or capacity < 1:
        raise DomainError("A session needs at least one place.")
    with transaction.atomic():
        session = TrainingSession.objects.create(
            scheme=scheme,
            module=module,
            venue=venue,
            starts_at=starts_at,
            ends_at=ends_at,
            capacity=capacity,
            created_by=by,
            created_at=now,
        )
        audit_record(actor=by, verb="training_session_create", obj=session, scheme=scheme.pk)
    return session


def training_invite(
    *, session: TrainingSession, invitees: list[Membership], by, now=None
) -> list[TrainingInvitation]:
    """Invite people to a session; each is emailed once. Someone already invited is skipped."""
    now = now or timezone.now()
    if now >= session.starts_at:
        raise DomainError("This session has started: invitations are sent before it.")
    created = []
    for invitee in invitees:
        if invitee.scheme_id != session.scheme_id or invitee.role != Role.BUDDY:
            raise DomainError("Only buddies and applicants of this scheme can be invited.")
        try:
            with transaction.atomic():
                invitation = TrainingInvitation.objects.create(
                    session=session, invitee=invitee, invited_at=now
                )
                audit_record(
                    actor=by, verb="training_invite", obj=invitation, scheme=session.scheme_id
                )
                notification_enqueue(
                    scheme=session.scheme,
                    recipient=invitee.user,
                    template="training_invitation",
                    dedupe_key=f"training-invitation:{invitation.pk}",
                    context={
                        "session_id": session.pk,
                        "module": session.module.name,
                        "when": spoken_day(session.starts_at, session.scheme),
                        "where": session.venue.name,
                    },
                    channels=[Channel.EMAIL],
                    now=now,
                )
        except IntegrityError:
            continue  # invited already (a second click, or two coordinators at once)
        created.append(invitation)
    return created


@transaction.atomic
def training_answer(*, invitation: TrainingInvitation, answer: str, now=None) -> TrainingInvitation:
    """The invitee says they will come, or sends apologies; they may change their mind until
    the session starts. A full session takes no more "attending"."""
    now = now or timezone.now()
    if answer not in TrainingAnswer.values:
        raise DomainError("Say whether you are coming or sending apologies.")
    session = TrainingSession.objects.select_for_update().get(pk=invitation.session_id)
    invitation = TrainingInvitation.objects.select_for_update().get(pk=invitation.pk)
    if now >= session.starts_at:
        raise DomainError("This session has started: please speak to your coordinator.")
    if invitation.answer == answer:
        return invitation
    if answer == TrainingAnswer.ATTENDING:
        taken = session.invitations.filter(answer=TrainingAnswer.ATTENDING).count()
        if taken >= session.capacity:
            raise DomainError(
                "Sorry, this session is full. Your coordinator will offer you another date."
            )
    invitation.answer = answer
    invitation.answered_at = now
    invitation.save(update_fields=["answer", "answered_at"])
    audit_record(
        actor=invitation.invitee.user,
        verb="training_answer",
        obj=invitation,
        scheme=session.scheme_id,
    )
    return invitation


@transaction.atomic
def training_attendance_record(
    *, session: TrainingSession, attended: set[int], by, now=None
) -> int:
    """After the session: `attended` holds the ids of the invitations of those who came. Each
    of them completes the module on the session's day; the others are marked as not there.
    Recording again corrects it (a completion recorded by mistake stays: remove it in the
    admin). Returns how many came."""
    now = now or timezone.now()
    session = (
        TrainingSession.objects.select_for_update(of=("self",))
        .select_related("module", "scheme")
        .get(pk=session.pk)
    )
    if now < session.starts_at:
        raise DomainError("Attendance is recorded once the session has started.")
    day = timezone.localtime(session.starts_at, session.scheme.zone).date()
    came = 0
    for invitation in session.invitations.select_related("invitee"):
        was_there = invitation.pk in attended
        if invitation.attended != was_there:
            invitation.attended = was_there
            invitation.save(update_fields=["attended"])
        if was_there:
            came += 1
            training_complete(
                membership=invitation.invitee,
                module=session.module,
                completed_on=day,
                by=by,
                now=now,
            )
    session.attendance_recorded_at = now
    session.save(update_fields=["attendance_recorded_at"])
    audit_record(actor=by, verb="training_attendance_record", obj=session, scheme=session.scheme_id)
    return came


# --- Extension points -----------------------------------------------------------------------


@receiver(home_cards)
def _training_on_the_home_page(sender, membership, now, **kwargs) -> list[HomeCard]:
    """A buddy's invitations still to answer, and training they need (three queries)."""
    if membership.role != Role.BUDDY:
        return []
    mine = my_training(membership, now)
    waiting = [invitation for invitation in mine.invitations if not invitation.answer]
    if not waiting and not mine.due:
        return []
    return [HomeCard("meetings/training/_home_card.html", {"waiting": waiting, "due": mine.due})]


@receiver(settings_sections)
def _training_sessions_on_the_settings_hub(sender, scheme, **kwargs) -> list[SettingsSection]:
    upcoming = TrainingSession.objects.filter(scheme=scheme, ends_at__gt=timezone.now()).count()
    return [
        SettingsSection(
            position=65,
            title="Training sessions",
            url_name="meetings:training_sessions",
            summary=f"{upcoming} session{'' if upcoming == 1 else 's'} to come; invitations, "
            "apologies and attendance",
        )
    ]
