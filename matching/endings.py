"""Endings as a typed, guided flow (issue 18, "Endings"; seed 003 "Endings").

The coordinator chooses why a match is ending; each type asks its own questions and has its
own consequences (a breach record, a pair block, re-match offers, a one-to-one for the buddy
so they "do not internalise and blame themselves"), and the match ends with `match_end(...,
ending_type=...)`, which sends `match_ended` once. Buddies and participants start it: "I want
to stop" (services.member_stop_request) and "We have become friends" (friendship_disclose).

Reads and writes live together here, as the core's support module's do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.dispatch import receiver
from django.utils import timezone

from buddyscheme.audit import audit_record
from buddyscheme.errors import DomainError
from buddyscheme.models import Membership, Role, Supervision, SupervisionMode
from buddyscheme.notifications import notification_enqueue
from buddyscheme.selectors import (
    DashboardSection,
    HomeCard,
    PersonSection,
    dashboard_sections,
    home_cards,
    person_record_sections,
)
from buddyscheme.support import supervision_book

from . import selectors, services
from .models import (
    STOP_REASON_ENDING,
    BreachRecord,
    ContactAttempt,
    ContactHow,
    Ending,
    EndingType,
    FriendshipDisclosure,
    Match,
    MatchState,
    Side,
    StopReason,
    StopRequest,
)
from .signals import match_last_met

ENDABLE = {MatchState.ACTIVE, MatchState.ENDING}
# The buddy is offered a one-to-one after these endings, so they "do not internalise and
# blame themselves" (seed 003).
FOLLOW_UP_TYPES = {
    EndingType.BREAKDOWN,
    EndingType.BREACH,
    EndingType.SAFEGUARDING,
    EndingType.DISENGAGED,
}
# Each type's own questions (the form shows these fields and no others).
QUESTIONS: dict[str, tuple[str, ...]] = {
    EndingType.PLANNED: ("goals_note", "notes"),
    EndingType.BREAKDOWN: ("notes", "rematch_participant", "rematch_buddy", "never_again"),
    EndingType.DISENGAGED: ("weeks_without_contact", "notes", "rematch_buddy"),
    EndingType.FRIENDSHIP: ("told_in_person", "notes"),
    EndingType.BREACH: (
        "breach_by",
        "breach_what",
        "breach_consequences",
        "never_again",
        "rematch_participant",
        "rematch_buddy",
    ),
    EndingType.MOVED: ("notes", "rematch_buddy"),
    EndingType.SAFEGUARDING: ("safeguarding_acted", "notes"),
    EndingType.OTHER: ("notes",),
}
# What each type does besides ending the match, in plain words for the confirm step.
CONSEQUENCES: dict[str, list[str]] = {
    EndingType.PLANNED: ["Both are thanked for their time together."],
    EndingType.BREAKDOWN: [],
    EndingType.DISENGAGED: ["The attempts to reach them stay on the match's record."],
    EndingType.FRIENDSHIP: ["The match ends: they carry on as friends, outside the scheme."],
    EndingType.BREACH: ["A breach record is kept on the person's page."],
    EndingType.MOVED: [],
    EndingType.SAFEGUARDING: ["The safeguarding concern carries on in its own record."],
    EndingType.OTHER: [],
}
NOTES_LENGTH = 2000
LONGEST_SILENCE_WEEKS = 520


@dataclass
class EndingAnswers:
    """What the coordinator answered in the ending flow (each type reads its own)."""

    notes: str = ""
    goals_note: str = ""
    weeks_without_contact: int | None = None
    told_in_person: bool = False
    breach_by: str = ""
    breach_what: str = ""
    breach_consequences: str = ""
    rematch_participant: bool = False
    rematch_buddy: bool = False
    never_again: bool = False
    safeguarding_acted: bool = False
    one_to_one_at: datetime | None = None
    one_to_one_mode: str = SupervisionMode.PHONE


def consequences(ending_type: str, answers: EndingAnswers | None = None) -> list[str]:
    """What ending this way will do, for the confirm step."""
    lines = list(CONSEQUENCES.get(ending_type, []))
    if answers is not None:
        if answers.never_again:
            lines.append("This pair will never be matched again.")
        if answers.rematch_participant:
            lines.append(
                "The participant is offered a new buddy and goes back on the waiting list."
            )
        if answers.rematch_buddy:
            lines.append("The buddy is offered a new match.")
    if ending_type in FOLLOW_UP_TYPES:
        if answers is not None and answers.one_to_one_at:
            lines.append("A one-to-one is booked for the buddy, and they are told.")
        else:
            lines.append(
                "The buddy is flagged for a one-to-one on your dashboard until one is booked."
            )
    lines.append("The match ends, and the stop requests for it are marked handled.")
    return lines


# --- Reads ----------------------------------------------------------------------------------


def last_met_on(match: Match) -> date | None:
    answers = match_last_met.send(sender=Match, match=match)
    dates = [cast(date, answer) for _, answer in answers if answer]
    return max(dates) if dates else None


def weeks_since(day: date | None, now=None) -> int | None:
    if day is None:
        return None
    return max(0, (timezone.localdate(now or timezone.now()) - day).days // 7)


def contact_attempts(match: Match) -> QuerySet[ContactAttempt]:
    return ContactAttempt.objects.filter(match=match).select_related("recorded_by__profile")


def friendship_disclosures(match: Match) -> QuerySet[FriendshipDisclosure]:
    return FriendshipDisclosure.objects.filter(match=match).select_related("by__user__profile")


def stop_requests_for(match: Match) -> QuerySet[StopRequest]:
    return StopRequest.objects.filter(
        Q(match=match)
        | Q(match__isnull=True, participant__in=[match.buddy_id, match.participant_id]),
        handled_at__isnull=True,
    ).select_related("participant__user__profile")


def suggested_type(match: Match) -> str:
    """The type the flow starts on where it is obvious: friendship when one of them told us,
    else what a stop request said (moving away, not getting on, friends)."""
    if FriendshipDisclosure.objects.filter(match=match).exists():
        return EndingType.FRIENDSHIP
    for stop_request in stop_requests_for(match):
        ending_type = STOP_REASON_ENDING.get(StopReason(stop_request.reason or StopReason.OTHER))
        if ending_type:
            return ending_type
    return ""


def stop_requests_waiting(scheme) -> QuerySet[StopRequest]:
    return (
        StopRequest.objects.filter(participant__scheme=scheme, handled_at__isnull=True)
        .select_related("participant__user__profile", "match")
        .order_by("created_at", "pk")
    )


def friendships_waiting(scheme) -> QuerySet[FriendshipDisclosure]:
    """Friendships told of on matches still open: the coordinator ends them."""
    return (
        FriendshipDisclosure.objects.filter(match__scheme=scheme, match__state__in=ENDABLE)
        .select_related("by__user__profile", "match")
        .order_by("created_at", "pk")
    )


def follow_ups_waiting(scheme) -> QuerySet[Ending]:
    """Endings after which the buddy still needs a one-to-one: flagged, and none booked with
    them since the ending."""
    booked_since = Supervision.objects.filter(
        buddy_id=OuterRef("match__buddy_id"), created_at__gte=OuterRef("created_at")
    )
    return (
        Ending.objects.filter(
            match__scheme=scheme, supervision_follow_up=True, supervision__isnull=True
        )
        .exclude(Exists(booked_since))
        .select_related("match__buddy__user__profile")
        .order_by("created_at", "pk")
    )


def breaches_of(person: Membership) -> QuerySet[BreachRecord]:
    return BreachRecord.objects.filter(person=person).select_related("recorded_by__profile")


@receiver(dashboard_sections)
def _endings_on_the_dashboard(sender, scheme, now, **kwargs) -> list[DashboardSection]:
    """People asking to stop, friendships told of, buddies owed a one-to-one: three queries."""
    stops = list(stop_requests_waiting(scheme))
    friendships = list(friendships_waiting(scheme))
    follow_ups = list(follow_ups_waiting(scheme))
    return [
        DashboardSection(
            template="matching/endings/_dashboard.html",
            context={"stops": stops, "friendships": friendships, "follow_ups": follow_ups},
            urgent=bool(stops),
        )
    ]


@receiver(person_record_sections)
def _breaches_on_the_person_page(sender, member: Membership, now, **kwargs) -> list[PersonSection]:
    if member.role not in (Role.BUDDY, Role.PARTICIPANT):
        return []
    records = list(breaches_of(member))
    if not records:
        return []
    return [
        PersonSection(
            title="Boundary or confidentiality breaches",
            template="matching/endings/_person_breaches.html",
            order=12,
            context={"breaches": records},
        )
    ]


@receiver(home_cards)
def _buddy_stop_card(sender, membership, **kwargs) -> list[HomeCard]:
    """A buddy's plain way to stop, and to tell us they have become friends, on Today."""
    if membership.role != Role.BUDDY:
        return []
    match = selectors.current_match_for_buddy(membership)
    return [
        HomeCard(
            "matching/home/buddy_stop.html",
            {"stop_request": selectors.open_stop_request(membership), "match": match},
        )
    ]


# --- Writes ---------------------------------------------------------------------------------


def _endable(match: Match) -> None:
    if match.state not in ENDABLE:
        raise DomainError("Only an active match can be ended this way.")


def _clean(text: str, label: str, required: bool = False, length: int = NOTES_LENGTH) -> str:
    text = (text or "").strip()
    if required and not text:
        raise DomainError(f"Please fill in {label}.")
    if len(text) > length:
        raise DomainError(f"Please keep {label} under {length} characters.")
    return text


def contact_attempt_add(
    *, match: Match, tried_on: date, who: str, how: str, outcome: str, by, now=None
) -> ContactAttempt:
    """One try to reach someone who stopped engaging: when, how, and what came of it."""
    now = now or timezone.now()
    _endable(match)
    if who not in Side.values:
        raise DomainError("Say whom you tried to reach.")
    if how not in ContactHow.values:
        raise DomainError("Say how you tried to reach them.")
    if tried_on > timezone.localdate(now):
        raise DomainError("The date is still to come: record a try once it is made.")
    outcome = _clean(outcome, "what happened", required=True, length=200)
    with transaction.atomic():
        attempt = ContactAttempt.objects.create(
            match=match,
            tried_on=tried_on,
            who=who,
            how=how,
            outcome=outcome,
            recorded_by=by,
            created_at=now,
        )
        audit_record(actor=by, verb="contact_attempt_add", obj=attempt, scheme=match.scheme_id)
    return attempt


def friendship_disclose(
    *, match: Match, by_membership: Membership, note: str = "", now=None
) -> FriendshipDisclosure:
    """Either side tells the coordinator they have become friends. Their coordinator is told at
    once (a reference and a link, no names); telling twice is the same telling."""
    now = now or timezone.now()
    side = services._side(match, by_membership)
    _endable(match)
    note = _clean(note, "the note", length=500)
    with transaction.atomic():
        try:
            with transaction.atomic():
                disclosure = FriendshipDisclosure.objects.create(
                    match=match, by=by_membership, note=note, created_at=now
                )
        except IntegrityError:
            return FriendshipDisclosure.objects.get(match=match, by=by_membership)
        audit_record(
            actor=by_membership.user,
            verb="friendship_disclose",
            obj=disclosure,
            scheme=match.scheme_id,
        )
        coordinator = selectors.coordinator_for_participant(match.participant, match)
        if coordinator is not None:
            notification_enqueue(
                scheme=match.scheme,
                recipient=coordinator.user,
                template="friendship_told",
                dedupe_key=f"friendship:{disclosure.pk}",
                context={"match_id": match.pk, "side": side},
                now=now,
            )
    return disclosure


def _check_answers(match: Match, ending_type: str, answers: EndingAnswers, now) -> None:
    if ending_type not in EndingType.values:
        raise DomainError("Please choose why the match is ending.")
    if ending_type == EndingType.BREAKDOWN:
        _clean(answers.notes, "what went wrong", required=True)
    if ending_type == EndingType.OTHER:
        _clean(answers.notes, "why the match is ending", required=True)
    if ending_type == EndingType.DISENGAGED:
        weeks = answers.weeks_without_contact
        if weeks is None or not 1 <= weeks <= LONGEST_SILENCE_WEEKS:
            raise DomainError("Say for how many weeks there has been no contact (1 or more).")
        if not ContactAttempt.objects.filter(match=match).exists():
            raise DomainError(
                "Record at least one attempt to reach them (date, how, what happened) first."
            )
    if ending_type == EndingType.FRIENDSHIP and not (
        answers.told_in_person or FriendshipDisclosure.objects.filter(match=match).exists()
    ):
        raise DomainError(
            "Neither of them has told us yet: tick that they told you themselves, "
            "or ask them to tell us from their phone."
        )
    if ending_type == EndingType.BREACH:
        if answers.breach_by not in Side.values:
            raise DomainError("Say who breached the boundary: the buddy or the participant.")
        _clean(answers.breach_what, "what happened", required=True)
        _clean(answers.breach_consequences, "the consequences applied", required=True)
    if ending_type == EndingType.SAFEGUARDING and not answers.safeguarding_acted:
        raise DomainError(
            "Raise the concern or make the referral first, then tick that it is done."
        )
    if answers.one_to_one_at is not None and ending_type not in FOLLOW_UP_TYPES:
        raise DomainError("A one-to-one is booked here only after a difficult ending.")
    _clean(answers.notes, "the notes")
    _clean(answers.goals_note, "the note on goals")


def _tell(match: Match, member: Membership, template: str, now) -> None:
    notification_enqueue(
        scheme=match.scheme,
        recipient=member.user,
        template=template,
        dedupe_key=f"{template}:{match.pk}:{member.pk}",
        context={"match_id": match.pk},
        now=now,
    )


@transaction.atomic
def match_end_guided(*, match: Match, ending_type: str, answers: EndingAnswers, by, now=None):
    """End a match the way its type asks: check the type's answers, record the ending, end the
    match (match_ended goes once, with the type; its receivers can read `match.ending`), then
    apply the type's consequences. All or nothing."""
    now = now or timezone.now()
    _check_answers(match, ending_type, answers, now)
    # Locked first, so that a second confirm waits and then finds the match ended.
    locked = Match.objects.select_for_update().get(pk=match.pk)
    if locked.state not in ENDABLE:
        raise DomainError("This match is not active (it may have ended already).")
    never_again = answers.never_again and ending_type in (EndingType.BREAKDOWN, EndingType.BREACH)
    asked = set(QUESTIONS[ending_type])
    ending = Ending.objects.create(
        match=locked,
        ending_type=ending_type,
        notes=answers.notes.strip() if "notes" in asked else "",
        goals_note=answers.goals_note.strip() if "goals_note" in asked else "",
        last_meeting_on=last_met_on(locked),
        weeks_without_contact=answers.weeks_without_contact
        if ending_type == EndingType.DISENGAGED
        else None,
        told_in_person=answers.told_in_person and ending_type == EndingType.FRIENDSHIP,
        breach_by=answers.breach_by if ending_type == EndingType.BREACH else "",
        rematch_participant=answers.rematch_participant and "rematch_participant" in asked,
        rematch_buddy=answers.rematch_buddy and "rematch_buddy" in asked,
        never_again=never_again,
        supervision_follow_up=ending_type in FOLLOW_UP_TYPES,
        recorded_by=by,
        created_at=now,
    )
    match = services.match_end(
        match=locked,
        by=by,
        reason=EndingType(ending_type).label,
        never_again=never_again,
        ending_type=ending_type,
        now=now,
    )
    audit_record(actor=by, verb="match_end_guided", obj=ending, scheme=match.scheme_id)
    if ending_type == EndingType.BREACH:
        person = match.buddy if answers.breach_by == Side.BUDDY else match.participant
        breach = BreachRecord.objects.create(
            scheme_id=match.scheme_id,
            person=person,
            match=match,
            what_happened=answers.breach_what.strip(),
            consequences=answers.breach_consequences.strip(),
            recorded_by=by,
            created_at=now,
        )
        audit_record(actor=by, verb="breach_record", obj=breach, scheme=match.scheme_id)
    if ending.supervision_follow_up and answers.one_to_one_at is not None:
        ending.supervision = supervision_book(
            buddy=match.buddy,
            mode=answers.one_to_one_mode,
            starts_at=answers.one_to_one_at,
            ends_at=answers.one_to_one_at + timedelta(hours=1),
            by=by,
            now=now,
        )
        ending.save(update_fields=["supervision"])
    if ending.rematch_participant:
        _tell(match, match.participant, "rematch_offer", now)
    if ending.rematch_buddy:
        _tell(match, match.buddy, "rematch_offer", now)
    if ending_type == EndingType.PLANNED:
        for member in (match.participant, match.buddy):
            _tell(match, member, "match_completed", now)
    stop_requests_for(match).update(handled_at=now)
    return ending
