"""Writes around a proposal while it waits for answers: the reminder after a few days, a
coordinator's nudge, "I'd like to talk to the coordinator first", and answers a coordinator
took by phone. Each owns its transaction and leaves an audit row. (Asking people when a
match is proposed happens in `services.match_propose` / `match_create`.)"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from buddyscheme.audit import audit_record
from buddyscheme.errors import DomainError

from . import notify, selectors, services
from .models import Match, MatchEvent, MatchState

NUDGE_EVERY = timedelta(days=1)
SIDES = ("buddy", "participant")


def _event(match: Match, note: str, actor, now) -> None:
    MatchEvent.objects.create(
        match=match, from_state=match.state, to_state=match.state, actor=actor, at=now, note=note
    )


def proposals_remind(*, now=None) -> int:
    """Remind, once, whoever has not answered a proposal after the scheme's number of days
    (default 3). Safe to run as often as the schedule likes, and twice at once: each
    proposal is claimed with a conditional UPDATE before anything is queued, and the outbox
    key is the proposal's, so a redelivered task queues nothing new."""
    now = now or timezone.now()
    sent = 0
    due = (
        Match.objects.filter(state=MatchState.PROPOSED, reminded_at__isnull=True)
        .filter(proposed_at__lte=now - timedelta(days=1))
        .select_related("scheme", "buddy__user__profile", "participant__user__profile")
        .order_by("proposed_at", "pk")
    )
    after_days = {}
    for match in due:
        if match.scheme_id not in after_days:
            after_days[match.scheme_id] = selectors.matching_settings(
                match.scheme
            ).remind_proposal_after_days
        if match.proposed_at > now - timedelta(days=after_days[match.scheme_id]):
            continue
        with transaction.atomic():
            claimed = Match.objects.filter(
                pk=match.pk, state=MatchState.PROPOSED, reminded_at__isnull=True
            ).update(reminded_at=now)
            if not claimed:
                continue  # another run took it, or it was answered meanwhile
            match.reminded_at = now
            # Someone who asked to talk first is waiting for the coordinator's call, not us.
            sides = [side for side in match.sides_to_answer if match.talk_requested_by != side]
            if not sides:
                continue  # the claim stands: nobody is reminded about this one again
            sent += notify.proposal_remind(
                match, sides=sides, dedupe_key=f"match_reminder:{match.pk}", now=now
            )
            _event(match, "Reminder to answer sent", None, now)
            audit_record(actor=None, verb="match_remind", obj=match, scheme=match.scheme_id)
    return sent


def nudge_available_at(match: Match):
    """When a coordinator may next nudge (None: now)."""
    if match.nudged_at is None:
        return None
    return match.nudged_at + NUDGE_EVERY


@transaction.atomic
def match_nudge(*, match: Match, by, now=None) -> int:
    """A coordinator reminds whoever has not answered. At most once a day per proposal: the
    conditional UPDATE is the rate limit, so two quick presses (or two coordinators) send once."""
    now = now or timezone.now()
    claimed = (
        Match.objects.filter(pk=match.pk, state=MatchState.PROPOSED)
        .filter(Q(nudged_at__isnull=True) | Q(nudged_at__lte=now - NUDGE_EVERY))
        .update(nudged_at=now)
    )
    locked = Match.objects.select_related(
        "scheme", "buddy__user__profile", "participant__user__profile"
    ).get(pk=match.pk)
    if not claimed:
        if locked.state != MatchState.PROPOSED:
            raise DomainError("This proposal is no longer waiting for an answer.")
        again = timezone.localtime(nudge_available_at(locked), locked.scheme.zone)
        raise DomainError(
            f"They were already reminded in the last day. You can nudge again from "
            f"{again:%H:%M on %-d %b}."
        )
    sides = locked.sides_to_answer
    sent = notify.proposal_remind(
        locked, sides=sides, dedupe_key=f"match_nudge:{locked.pk}:{now:%Y%m%d%H%M%S}", now=now
    )
    _event(locked, "Reminder to answer sent by a coordinator", by, now)
    audit_record(actor=by, verb="match_nudge", obj=locked, scheme=locked.scheme_id)
    return sent


@transaction.atomic
def match_talk_request(*, match: Match, by_membership, now=None) -> bool:
    """Someone asks to talk to the coordinator before answering. The coordinator is told (once
    per person); the proposal stays open. False when they had already asked."""
    now = now or timezone.now()
    side = services._side(match, by_membership)
    locked = Match.objects.select_for_update().select_related("scheme").get(pk=match.pk)
    if locked.state != MatchState.PROPOSED:
        raise DomainError("This suggestion is no longer waiting for an answer.")
    if locked.talk_requested_at is not None and locked.talk_requested_by == side:
        return False
    locked.talk_requested_at, locked.talk_requested_by = now, side
    locked.save(update_fields=["talk_requested_at", "talk_requested_by"])
    notify.talk_request_tell(locked, side=side, now=now)
    _event(locked, f"The {side} asked to talk to a coordinator first", by_membership.user, now)
    audit_record(
        actor=by_membership.user, verb="match_talk_request", obj=locked, scheme=locked.scheme_id
    )
    return True


def match_answer_record(
    *, match: Match, side: str, answer: str, reason: str = "", by, now=None
) -> Match:
    """A coordinator writes down an answer given by phone or in person. The answer counts as
    that person's; who recorded it is kept on the match, in its history and the audit."""
    if side not in SIDES:
        raise DomainError("Say whose answer this is: the buddy's or the participant's.")
    member = match.buddy if side == "buddy" else match.participant
    if answer == "yes":
        return services.match_accept(match=match, by_membership=member, now=now, recorded_by=by)
    if answer == "no":
        return services.match_decline(
            match=match, by_membership=member, reason=reason, now=now, recorded_by=by
        )
    raise DomainError("Say whether the answer was yes or no.")
