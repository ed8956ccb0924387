"""Writes for matching. Every state change goes through `_transition` and leaves a MatchEvent,
and every service that changes a match, a pair block or a rematch request leaves an audit row."""

from __future__ import annotations

from dataclasses import dataclass

import django.dispatch
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from buddyscheme.audit import audit_record
from buddyscheme.errors import DomainError
from buddyscheme.models import Membership, Role
from buddyscheme.notifications import notification_enqueue
from buddyscheme.vetting import (
    _add_months,
    buddy_support_changed,
    support_person_check,
    vetting_blockers,
)

from . import notify, selectors
from .assignment import assign_greedy, assign_optimal, stable_match, total, why_left_out
from .models import (
    CLOSED_STATES,
    OPEN_OFFER,
    OPEN_STATES,
    EndingType,
    Match,
    MatchEvent,
    MatchingRound,
    MatchState,
    MenuItem,
    PairBlock,
    PairBlockKind,
    RematchRequest,
    RoundLeftOut,
    SpeedEvent,
    SpeedMeeting,
    SpeedPreference,
    StopReason,
    StopRequest,
    SuggestionOffer,
    SuggestionOption,
)
from .scoring import (
    Weights,
    preference_problems,
    preferences_allow,
    round_scores,
    score_pair,
)
from .signals import match_activated, match_ended

# Sent inside the activation transaction; a receiver (e.g. contracts: "not signed yet") may
# raise DomainError to refuse. Lets higher apps add rules without matching importing them.
match_activating = django.dispatch.Signal()

STATE_LABEL = {state.value: state.label for state in MatchState}


def _transition(
    match: Match, allowed_from: set[str], to_state: str, actor, note: str = "", now=None
) -> Match:
    """Lock the row, check the current state, move it, record the event."""
    now = now or timezone.now()
    locked = Match.objects.select_for_update().get(pk=match.pk)
    if locked.state not in allowed_from:
        raise DomainError(
            f"This match is {STATE_LABEL[locked.state].lower()}, so it cannot be "
            f"{'moved to ' + STATE_LABEL[to_state].lower() if to_state != locked.state else 'changed that way'}."
        )
    MatchEvent.objects.create(
        match=locked, from_state=locked.state, to_state=to_state, actor=actor, at=now, note=note
    )
    locked.state = to_state
    return locked


def _side(match: Match, membership: Membership) -> str:
    if membership.pk == match.buddy_id:
        return "buddy"
    if membership.pk == match.participant_id:
        return "participant"
    raise DomainError("Only the two people in a match can answer for it.")


def check_pair(
    participant: Membership, buddy: Membership, today=None, replacing: Match | None = None
) -> list[str]:
    """Every hard constraint in plain words; empty when the pair may be matched. The match a
    new one `replacing` does not count against the participant's places."""
    problems = []
    if participant.scheme_id != buddy.scheme_id:
        return ["they belong to different schemes"]
    if participant.role != Role.PARTICIPANT or buddy.role != Role.BUDDY:
        return ["a match needs one participant and one buddy"]
    problems += [
        f"the buddy is {p}" if p.startswith("not") else f"the buddy's {p}"
        for p in vetting_blockers(buddy, today)
    ]
    if (participant.pk, buddy.pk) in selectors.blocked_pairs(participant.scheme):
        problems.append(
            "this pair is blocked (never re-match, conflict of interest, or already matched)"
        )
    capacity = buddy.match_profile.capacity if hasattr(buddy, "match_profile") else 1
    if Match.objects.filter(buddy=buddy, state__in=OPEN_STATES).count() >= capacity:
        problems.append("the buddy has no places left")
    participant_capacity = (
        participant.match_profile.capacity if hasattr(participant, "match_profile") else 1
    )
    open_matches = Match.objects.filter(participant=participant, state__in=OPEN_STATES)
    if replacing is not None:
        open_matches = open_matches.exclude(pk=replacing.pk)
    if open_matches.count() >= participant_capacity:
        problems.append("the participant already has as many buddies as they asked for")
    wanted, offered = selectors.facts(participant), selectors.facts(buddy)
    problems += [f"the participant {p}" for p in preference_problems(wanted, offered)]
    return problems


def _score(participant: Membership, buddy: Membership):
    weights = Weights.from_settings(selectors.matching_settings(participant.scheme))
    names = dict(
        MenuItem.objects.filter(category__scheme=participant.scheme_id).values_list("pk", "name")
    )
    return score_pair(selectors.facts(participant), selectors.facts(buddy), weights, names)


def match_create(
    *,
    participant: Membership,
    buddy: Membership,
    by,
    state=MatchState.DRAFT,
    matching_round=None,
    participant_accepted_at=None,
    replaces: Match | None = None,
    now=None,
) -> Match:
    """A draft, or a proposal that asks both people at once (`participant_accepted_at` when
    the participant chose this buddy themself: then only the buddy is asked). `replaces`: the
    earlier match this one takes over from (a re-match)."""
    problems = check_pair(participant, buddy, replacing=replaces)
    if problems:
        raise DomainError("This pair cannot be matched: " + "; ".join(problems) + ".")
    now = now or timezone.now()
    suggestion = _score(participant, buddy)
    try:
        with transaction.atomic():
            match = Match.objects.create(
                scheme=participant.scheme,
                buddy=buddy,
                participant=participant,
                state=state,
                score=suggestion.total,
                reasons=[reason.as_dict() for reason in suggestion.reasons],
                round=matching_round,
                created_by=by,
                created_at=now,
                proposed_at=now if state == MatchState.PROPOSED else None,
                participant_accepted_at=participant_accepted_at,
                replaces=replaces,
            )
            MatchEvent.objects.create(match=match, to_state=state, actor=by, at=now)
            audit_record(actor=by, verb="match_create", obj=match, scheme=match.scheme_id)
            if state == MatchState.PROPOSED:
                notify.proposal_tell(match, now=now)
            _offers_after_places_taken(buddy_ids=[buddy.pk], participant=participant, now=now)
    except IntegrityError as error:
        raise DomainError("This pair already has an open match.") from error
    return match


@transaction.atomic
def match_propose(*, match: Match, by, now=None) -> Match:
    now = now or timezone.now()
    match = _transition(match, {MatchState.DRAFT}, MatchState.PROPOSED, by, now=now)
    match.proposed_at = now
    match.save(update_fields=["state", "proposed_at"])
    audit_record(actor=by, verb="match_propose", obj=match, scheme=match.scheme_id)
    notify.proposal_tell(match, now=now)
    return match


def _recorded_note(side: str, answer: str) -> str:
    return f"The {side} said {answer}, recorded for them"


@transaction.atomic
def match_accept(*, match: Match, by_membership: Membership, now=None, recorded_by=None) -> Match:
    """One side says yes; when both have, the match is accepted. `recorded_by`: the
    coordinator who took this yes by phone or in person."""
    now = now or timezone.now()
    side = _side(match, by_membership)
    locked = Match.objects.select_for_update().get(pk=match.pk)
    if locked.state != MatchState.PROPOSED:
        raise DomainError(
            f"This match is {STATE_LABEL[locked.state].lower()}: there is nothing to accept."
        )
    if recorded_by is not None and getattr(locked, f"{side}_accepted_at"):
        raise DomainError(f"The {side} has already said yes.")
    setattr(locked, f"{side}_accepted_at", getattr(locked, f"{side}_accepted_at") or now)
    changed = [f"{side}_accepted_at"]
    if recorded_by is not None:
        setattr(locked, f"{side}_answer_recorded_by", recorded_by)
        changed.append(f"{side}_answer_recorded_by")
        MatchEvent.objects.create(
            match=locked,
            from_state=locked.state,
            to_state=locked.state,
            actor=recorded_by,
            at=now,
            note=_recorded_note(side, "yes"),
        )
    locked.save(update_fields=changed)
    actor = recorded_by or by_membership.user
    if locked.buddy_accepted_at and locked.participant_accepted_at:
        locked = _transition(locked, {MatchState.PROPOSED}, MatchState.ACCEPTED, actor, now=now)
        locked.save(update_fields=["state"])
    audit_record(actor=actor, verb="match_accept", obj=locked, scheme=locked.scheme_id)
    return locked


@transaction.atomic
def match_decline(
    *, match: Match, by_membership: Membership, reason: str = "", now=None, recorded_by=None
) -> Match:
    """Either side says no, with a reason if they want to give one. The participant returns
    to the waiting pool. `recorded_by`: the coordinator who took this no by phone."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    side = _side(match, by_membership)
    actor = recorded_by or by_membership.user
    note = reason if recorded_by is None else f"{_recorded_note(side, 'no')}. {reason}".strip()
    match = _transition(
        match,
        {MatchState.PROPOSED, MatchState.ACCEPTED},
        MatchState.DECLINED,
        actor,
        note[:200],
        now,
    )
    match.declined_by, match.decline_reason = side, reason[:200]
    setattr(match, f"{side}_answer_recorded_by", recorded_by)
    match.save(
        update_fields=["state", "declined_by", "decline_reason", f"{side}_answer_recorded_by"]
    )
    audit_record(actor=actor, verb="match_decline", obj=match, scheme=match.scheme_id)
    return match


@transaction.atomic
def match_withdraw(*, match: Match, by, reason: str = "", now=None) -> Match:
    match = _transition(
        match, {MatchState.DRAFT, MatchState.PROPOSED}, MatchState.WITHDRAWN, by, reason, now
    )
    match.save(update_fields=["state"])
    audit_record(actor=by, verb="match_withdraw", obj=match, scheme=match.scheme_id)
    return match


@transaction.atomic
def match_introduce(*, match: Match, intro_at, by, now=None) -> Match:
    now = now or timezone.now()
    if intro_at is None:
        raise DomainError("Give the date and time of the introduction meeting.")
    match = _transition(match, {MatchState.ACCEPTED}, MatchState.INTRODUCED, by, now=now)
    match.intro_at = intro_at
    match.save(update_fields=["state", "intro_at"])
    audit_record(actor=by, verb="match_introduce", obj=match, scheme=match.scheme_id)
    return match


@transaction.atomic
def match_activate(
    *, match: Match, by, now=None, planned_sessions: int | None = None, planned_end=None
) -> Match:
    """Start the match; the planned length (sessions, end date) agreed at the introduction
    may be given here, and is kept when it was set earlier and is not given again."""
    now = now or timezone.now()
    match = _transition(match, {MatchState.INTRODUCED}, MatchState.ACTIVE, by, now=now)
    if planned_sessions is not None:
        if not 1 <= planned_sessions <= 200:
            raise DomainError("Give a number of sessions from 1 to 200.")
        match.planned_sessions = planned_sessions
    if planned_end is not None:
        if planned_end <= timezone.localdate(now):
            raise DomainError("The planned end date has to be after today.")
        match.planned_end = planned_end
    match_activating.send(sender=Match, match=match, by=by)
    problems = vetting_blockers(match.buddy)
    if problems:
        raise DomainError("The buddy cannot start: " + "; ".join(problems) + ".")
    months = selectors.matching_settings(match.scheme).review_after_months
    match.activated_at = now
    match.review_due = _add_months(timezone.localdate(now), months)
    match.save(
        update_fields=["state", "activated_at", "review_due", "planned_sessions", "planned_end"]
    )
    audit_record(actor=by, verb="match_activate", obj=match, scheme=match.scheme_id)
    match_activated.send(sender=Match, match=match, by=by, now=now)
    return match


@transaction.atomic
def match_start_ending(*, match: Match, by, reason: str, now=None) -> Match:
    now = now or timezone.now()
    match = _transition(match, {MatchState.ACTIVE}, MatchState.ENDING, by, reason, now)
    match.ending_at, match.end_reason = now, (reason or "")[:200]
    match.save(update_fields=["state", "ending_at", "end_reason"])
    audit_record(actor=by, verb="match_start_ending", obj=match, scheme=match.scheme_id)
    return match


@transaction.atomic
def match_end(
    *,
    match: Match,
    by,
    reason: str,
    never_again: bool = False,
    ending_type: str = "",
    now=None,
) -> Match:
    now = now or timezone.now()
    if ending_type and ending_type not in EndingType.values:
        raise DomainError("Please choose how the match ended.")
    match = _transition(
        match, {MatchState.ACTIVE, MatchState.ENDING}, MatchState.ENDED, by, reason, now
    )
    match.ended_at = now
    match.end_reason = (reason or match.end_reason)[:200]
    match.ending_type = ending_type or match.ending_type
    match.save(update_fields=["state", "ended_at", "end_reason", "ending_type"])
    audit_record(actor=by, verb="match_end", obj=match, scheme=match.scheme_id)
    if not selectors.participant_has_open_match(match.participant):
        # Closing their last match is what the coordinator does about "I want to stop".
        StopRequest.objects.filter(
            participant_id=match.participant_id, handled_at__isnull=True
        ).update(handled_at=now)
    if never_again:
        pair_block(
            buddy=match.buddy,
            participant=match.participant,
            kind=PairBlockKind.NEVER_AGAIN,
            reason=reason,
            by=by,
        )
    match_ended.send(sender=Match, match=match, by=by, now=now)
    return match


def pair_block(
    *, buddy: Membership, participant: Membership, kind: str, reason: str, by
) -> PairBlock:
    if buddy.scheme_id != participant.scheme_id:
        raise DomainError("They belong to different schemes.")
    with transaction.atomic():
        block, created = PairBlock.objects.get_or_create(
            buddy=buddy,
            participant=participant,
            kind=kind,
            defaults={"reason": (reason or "")[:200], "recorded_by": by},
        )
        if created:
            audit_record(actor=by, verb="pair_block", obj=block, scheme=buddy.scheme_id)
    return block


def rematch_request(
    *, match: Match, by_membership: Membership, reason: str, now=None
) -> RematchRequest:
    """Either side asks for a different match. Coordinators see it; repeats are flagged."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Please say a little about why, so your coordinator can help.")
    _side(match, by_membership)
    if match.state not in (
        MatchState.ACCEPTED,
        MatchState.INTRODUCED,
        MatchState.ACTIVE,
        MatchState.ENDING,
    ):
        raise DomainError("You can ask for a different match once a match has been agreed.")
    with transaction.atomic():
        rematch = RematchRequest.objects.create(
            match=match,
            requested_by=by_membership,
            reason=reason[:300],
            created_at=now or timezone.now(),
        )
        audit_record(
            actor=by_membership.user,
            verb="rematch_request",
            obj=rematch,
            scheme=match.scheme_id,
        )
    return rematch


def _open_rematch_locked(rematch: RematchRequest) -> RematchRequest:
    return RematchRequest.objects.select_for_update().select_related("match").get(pk=rematch.pk)


def rematch_request_handle(*, rematch: RematchRequest, note: str, by, now=None) -> RematchRequest:
    """The coordinator has answered a re-match request some other way (talked it through,
    agreed to carry on). Handling it twice (a double submit) changes nothing."""
    note = (note or "").strip()
    if not note:
        raise DomainError("Please say in a few words how it was handled.")
    with transaction.atomic():
        locked = _open_rematch_locked(rematch)
        if locked.handled_at is not None:
            return locked
        locked.handled_at = now or timezone.now()
        locked.handled_by = by
        locked.handled_note = note[:300]
        locked.save(update_fields=["handled_at", "handled_by", "handled_note"])
        audit_record(actor=by, verb="rematch_handle", obj=locked, scheme=locked.match.scheme_id)
    return locked


def rematch_request_new_match(
    *, rematch: RematchRequest, buddy: Membership, by, note: str = "", now=None
) -> Match:
    """Answer a re-match request with a new match for the participant: a draft that replaces
    the old match (the coordinator proposes it, and ends the old one, as usual). The request
    is handled by it. A double submit returns the match the first one made."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _open_rematch_locked(rematch)
        if locked.new_match_id is not None:
            return Match.objects.get(pk=locked.new_match_id)
        if locked.handled_at is not None:
            raise DomainError("This request was already handled without a new match.")
        old = locked.match
        if buddy.pk == old.buddy_id:
            raise DomainError("Choose a different buddy: this is the match being replaced.")
        match = match_create(participant=old.participant, buddy=buddy, by=by, replaces=old, now=now)
        locked.handled_at = now
        locked.handled_by = by
        locked.handled_note = ((note or "").strip() or "A new match was made.")[:300]
        locked.new_match = match
        locked.save(update_fields=["handled_at", "handled_by", "handled_note", "new_match"])
        audit_record(actor=by, verb="rematch_new_match", obj=locked, scheme=old.scheme_id)
    return match


def participant_stop_request(*, participant: Membership, now=None) -> StopRequest:
    if participant.role != Role.PARTICIPANT:
        raise DomainError("Only a participant can ask to stop here.")
    return member_stop_request(membership=participant, now=now)


def member_stop_request(*, membership: Membership, reason: str = "", now=None) -> StopRequest:
    """A participant or a buddy says "I want to stop". Recorded, audited, and their coordinator
    is told at once through the outbox (a discreet message: a reference and a link, no name).
    Asking again while the first is open changes nothing and sends nothing."""
    if membership.role not in (Role.PARTICIPANT, Role.BUDDY) or not membership.is_active:
        raise DomainError("Only a participant or a buddy of the scheme can ask to stop here.")
    if reason and reason not in StopReason.values:
        raise DomainError("Choose one of the reasons, or none.")
    now = now or timezone.now()
    is_buddy = membership.role == Role.BUDDY
    with transaction.atomic():
        existing = selectors.open_stop_request(membership)
        if existing is not None:
            return existing
        match = (
            selectors.current_match_for_buddy(membership)
            if is_buddy
            else selectors.current_match_for(membership)
        )
        try:
            with transaction.atomic():
                stop_request = StopRequest.objects.create(
                    participant=membership, match=match, reason=reason, created_at=now
                )
        except IntegrityError:
            # The same request, sent twice at once: the first one stands.
            return StopRequest.objects.get(participant=membership, handled_at__isnull=True)
        audit_record(
            actor=membership.user,
            verb="buddy_stop_request" if is_buddy else "participant_stop_request",
            obj=stop_request,
            scheme=membership.scheme_id,
        )
        coordinator = (
            selectors.coordinator_for_participant(match.participant, match)
            if match is not None
            else selectors.coordinator_for_participant(membership)
        )
        if coordinator is not None:
            notification_enqueue(
                scheme=membership.scheme,
                recipient=coordinator.user,
                template="buddy_stop" if is_buddy else "participant_stop",
                dedupe_key=f"stop:{stop_request.pk}",
                context={("buddy_id" if is_buddy else "participant_id"): membership.pk},
                now=now,
            )
    return stop_request


# --- Rounds -----------------------------------------------------------------------------------


def round_run(
    *, scheme, participant_ids: list[int], buddy_ids: list[int], by, now=None
) -> MatchingRound:
    """Draft matches for the selected people with the maximum total score (waiting time
    included), and a note of everyone left out with the reason."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    # Someone choosing from their own suggestions is left out: a round must not decide for
    # them while they are deciding (the round page says who is choosing).
    waiting = (
        selectors.waiting_participants(scheme, today)
        .filter(pk__in=participant_ids)
        .exclude(pk__in=selectors.participants_choosing(scheme))
    )
    participant_users = dict(waiting.values_list("pk", "user_id"))
    participants = selectors.facts_for_many(waiting, today)
    if not participants:
        raise DomainError("Choose at least one waiting participant.")
    chosen = set(buddy_ids)
    available = [
        entry
        for entry in selectors.available_buddy_facts(scheme, today)
        if entry[0].membership_id in chosen
    ]
    if not available:
        raise DomainError("Choose at least one buddy who is cleared and has a place.")
    buddies = [facts for facts, _, _ in available]
    weights = Weights.from_settings(selectors.matching_settings(scheme))
    scores, allowed = round_scores(participants, buddies, weights)
    blocked = selectors.blocked_pairs(scheme)
    for row, participant in enumerate(participants):
        for col, (buddy, _, buddy_user) in enumerate(available):
            if (participant.membership_id, buddy.membership_id) in blocked or participant_users[
                participant.membership_id
            ] == buddy_user:
                allowed[row, col] = False
    capacities = [places for _, places, _ in available]
    pairs = assign_optimal(scores, allowed, capacities)
    greedy = assign_greedy(scores, allowed, capacities)
    left_out = why_left_out(preferences_allow(participants, buddies), allowed, pairs)
    names = dict(MenuItem.objects.filter(category__scheme=scheme).values_list("pk", "name"))
    with transaction.atomic():
        matching_round = MatchingRound.objects.create(
            scheme=scheme,
            created_by=by,
            created_at=now,
            participant_count=len(participants),
            buddy_count=len(available),
            assigned_count=len(pairs),
            total_score=total(scores, pairs),
            greedy_score=total(scores, greedy),
        )
        # Every constraint was applied to the whole matrix above, so the drafts go in bulk.
        drafts = []
        for row, col in pairs:
            explained = score_pair(participants[row], buddies[col], weights, names)
            drafts.append(
                Match(
                    scheme=scheme,
                    participant_id=participants[row].membership_id,
                    buddy_id=buddies[col].membership_id,
                    score=explained.total,
                    reasons=[reason.as_dict() for reason in explained.reasons],
                    round=matching_round,
                    created_by=by,
                    created_at=now,
                )
            )
        Match.objects.bulk_create(drafts)
        MatchEvent.objects.bulk_create(
            MatchEvent(
                match=match, to_state=MatchState.DRAFT, actor=by, at=now, note="matching round"
            )
            for match in Match.objects.filter(round=matching_round)
        )
        RoundLeftOut.objects.bulk_create(
            RoundLeftOut(
                round=matching_round,
                participant_id=participants[row].membership_id,
                reason=reason,
                days_waiting=participants[row].days_waiting,
            )
            for row, reason in left_out.items()
        )
        _offers_after_places_taken(
            buddy_ids=sorted({draft.buddy_id for draft in drafts}), participant=None, now=now
        )
        # One row for the round, not one per draft: each draft names its round, and a round
        # of hundreds stays one bulk insert. Releasing the drafts audits each proposal.
        audit_record(actor=by, verb="round_run", obj=matching_round, scheme=scheme)
    return matching_round


@transaction.atomic
def round_release(*, matching_round: MatchingRound, by, now=None) -> int:
    """Propose every draft still in the round (the coordinator has removed those they did not want)."""
    now = now or timezone.now()
    drafts = list(matching_round.matches.filter(state=MatchState.DRAFT))
    for match in drafts:
        match_propose(match=match, by=by, now=now)
    matching_round.released_at = now
    matching_round.save(update_fields=["released_at"])
    return len(drafts)


# --- Participant choice -----------------------------------------------------------------------


def _offer_options_add(offer: SuggestionOffer, count: int) -> int:
    """Add up to `count` of the best eligible buddies this participant has not been shown."""
    if count <= 0:
        return 0
    shown = set(
        SuggestionOption.objects.filter(offer__participant=offer.participant_id).values_list(
            "buddy_id", flat=True
        )
    )
    candidates = selectors.suggestions_for(offer.participant, limit=count, exclude=shown)
    last = max(offer.options.values_list("position", flat=True), default=0)
    SuggestionOption.objects.bulk_create(
        SuggestionOption(
            offer=offer,
            buddy=c.buddy,
            position=position,
            score=c.suggestion.total,
            # The participant reads these as "why we suggest them": reasons about the pair only.
            reasons=[r.as_dict() for r in c.suggestion.reasons if r.about_the_pair],
        )
        for position, c in enumerate(candidates, start=last + 1)
    )
    return len(candidates)


@transaction.atomic
def suggestion_offer_create(*, participant: Membership, by, now=None) -> SuggestionOffer:
    """Show the participant the best few buddies (first names only) to choose from."""
    now = now or timezone.now()
    if selectors.participant_has_open_match(participant):
        raise DomainError("This participant already has a match in progress.")
    count = selectors.matching_settings(participant.scheme).choices_shown
    # A newer offer replaces an unanswered one (one open offer each: a database rule).
    SuggestionOffer.objects.filter(OPEN_OFFER, participant=participant).update(withdrawn_at=now)
    offer = SuggestionOffer.objects.create(participant=participant, created_by=by, created_at=now)
    if not _offer_options_add(offer, count):
        raise DomainError("There are no suitable buddies to suggest right now.")
    audit_record(actor=by, verb="suggestion_offer_create", obj=offer, scheme=participant.scheme_id)
    return offer


@dataclass
class OfferRefresh:
    dropped: list[SuggestionOption]
    added: int
    withdrawn: bool
    participant_full: bool


def _offer_refresh(offer: SuggestionOffer, now) -> OfferRefresh:
    """Drop the suggested buddies who can no longer be matched with this participant (their
    places filled, their vetting lapsed, a block recorded) and offer the next eligible ones in
    their place; when nobody is left, or the participant has no place left, withdraw the offer.
    The caller holds the offer's row lock."""
    participant = offer.participant
    live = list(
        offer.options.filter(dropped_at__isnull=True).select_related("buddy__user__profile")
    )
    dropped = [option for option in live if check_pair(participant, option.buddy)]
    if dropped:
        SuggestionOption.objects.filter(pk__in=[option.pk for option in dropped]).update(
            dropped_at=now
        )
    participant_full = (
        not selectors.waiting_participants(participant.scheme).filter(pk=participant.pk).exists()
    )
    added = 0
    if not participant_full:
        added = _offer_options_add(offer, len(dropped))
    withdrawn = participant_full or len(live) - len(dropped) + added == 0
    if withdrawn:
        offer.withdrawn_at = now
        offer.save(update_fields=["withdrawn_at"])
    if dropped or withdrawn:
        audit_record(
            actor=None, verb="suggestion_offer_refresh", obj=offer, scheme=participant.scheme_id
        )
    return OfferRefresh(
        dropped=dropped, added=added, withdrawn=withdrawn, participant_full=participant_full
    )


def _offers_after_places_taken(*, buddy_ids: list[int], participant: Membership | None, now):
    """A match has just taken places: refresh every open offer that suggests one of these
    buddies, and close the participant's own open offer once they have no place left."""
    offer_ids = set(
        SuggestionOffer.objects.filter(OPEN_OFFER)
        .filter(
            Q(options__buddy_id__in=buddy_ids, options__dropped_at__isnull=True)
            | Q(participant=participant)
        )
        .values_list("pk", flat=True)
    )
    for offer in (
        SuggestionOffer.objects.filter(pk__in=offer_ids)
        .select_for_update(of=("self",))
        .select_related("participant__scheme")
        .order_by("pk")  # one lock order for every caller
    ):
        if offer.is_open:  # answered between the read and the lock
            _offer_refresh(offer, now)


class SuggestionGone(DomainError):
    """The buddy chosen can no longer be matched; the offer has moved on (and is saved)."""


def _lock_open_offer(offer: SuggestionOffer, by_membership: Membership) -> SuggestionOffer:
    """The offer, locked, if it is this participant's and still unanswered."""
    offer = (
        SuggestionOffer.objects.select_for_update(of=("self",))
        .select_related("participant__scheme")
        .get(pk=offer.pk)
    )
    if offer.participant_id != by_membership.pk:
        raise DomainError("Only the participant can answer.")
    if offer.withdrawn_at is not None:
        raise DomainError(
            "These suggestions have closed. Your coordinator will be in touch about what next."
        )
    if not offer.is_open:
        raise DomainError("You have already answered these suggestions.")
    return offer


def suggestion_choose(
    *, offer: SuggestionOffer, option_id: int, by_membership: Membership, now=None
) -> Match:
    """The participant picks a buddy: a proposal only that buddy must now answer.

    A buddy who can no longer be matched is dropped and the next one offered, and that is
    kept (the transaction commits) before the participant is told: so choosing them again
    gives a different answer, never the same error.
    """
    now = now or timezone.now()
    with transaction.atomic():
        offer = _lock_open_offer(offer, by_membership)
        option = offer.options.filter(pk=option_id).select_related("buddy__user__profile").first()
        if option is None:
            raise DomainError("Please choose one of the buddies shown.")
        if option.dropped_at is not None:
            raise DomainError(
                f"{option.buddy.user.display_name} is no longer free. "
                "Please choose someone from the list below."
            )
        if not check_pair(offer.participant, option.buddy):
            offer.chosen = option
            offer.save(update_fields=["chosen"])
            return match_create(
                participant=offer.participant,
                buddy=option.buddy,
                by=by_membership.user,
                state=MatchState.PROPOSED,
                participant_accepted_at=now,
                now=now,
            )
        refresh = _offer_refresh(offer, now)
    name = option.buddy.user.display_name
    if refresh.participant_full:
        raise SuggestionGone(
            "You already have a match in progress, so these suggestions have closed. "
            "Your coordinator will be in touch."
        )
    if refresh.withdrawn:
        raise SuggestionGone(
            f"Sorry, {name} can no longer take on someone new, and nobody else we could "
            "suggest is free right now. Your coordinator will find someone for you."
        )
    raise SuggestionGone(
        f"Sorry, {name} can no longer take on someone new. We have taken them off your list"
        + (" and added someone else." if refresh.added else ".")
    )


@transaction.atomic
def suggestion_ask_for_others(
    *, offer: SuggestionOffer, by_membership: Membership, now=None
) -> SuggestionOffer:
    offer = _lock_open_offer(offer, by_membership)
    offer.asked_for_others_at = now or timezone.now()
    offer.save(update_fields=["asked_for_others_at"])
    return offer


# --- Speed-buddying ---------------------------------------------------------------------------


def speed_meeting_record(
    *, event: SpeedEvent, buddy: Membership, participant: Membership
) -> SpeedMeeting:
    if {buddy.scheme_id, participant.scheme_id} != {event.scheme_id}:
        raise DomainError("Both people must belong to the event's scheme.")
    if buddy.role != Role.BUDDY or participant.role != Role.PARTICIPANT:
        raise DomainError("Record a buddy and a participant.")
    meeting, _ = SpeedMeeting.objects.get_or_create(
        event=event, buddy=buddy, participant=participant
    )
    return meeting


def _met(event: SpeedEvent, a: Membership, b: Membership) -> bool:
    buddy, participant = (a, b) if a.role == Role.BUDDY else (b, a)
    return SpeedMeeting.objects.filter(event=event, buddy=buddy, participant=participant).exists()


@transaction.atomic
def speed_preferences_save(
    *, event: SpeedEvent, ranker: Membership, choices: dict[int, str], now=None
) -> None:
    """Save one person's answers: {membership id: "1", "2", … or "veto" or ""}."""
    closed = selectors.speed_rankings_closed(event, now)
    if closed:
        raise DomainError(closed)
    # Every answer is checked before anything is written: a typo in the third place must not
    # leave the earlier ranking deleted and only the first two saved.
    choices = {pk: (value or "").strip() for pk, value in choices.items()}
    places = range(1, len(choices) + 1)
    ranks = []
    for value in choices.values():
        if value in ("", "veto"):
            continue
        if not (value.isascii() and value.isdigit() and int(value) in places):
            raise DomainError(
                f"Places are numbers from 1 to {len(choices)}: 1 for your first choice."
            )
        ranks.append(int(value))
    if len(ranks) != len(set(ranks)):
        raise DomainError("Give each person a different place (1, 2, 3 …).")
    others = {m.pk: m for m in Membership.objects.filter(pk__in=choices, scheme=event.scheme)}
    with transaction.atomic():
        SpeedPreference.objects.filter(event=event, ranker=ranker).delete()
        for pk, value in choices.items():
            other = others.get(pk)
            if other is None or not _met(event, ranker, other) or value == "":
                continue
            if value == "veto":
                SpeedPreference.objects.create(event=event, ranker=ranker, ranked=other, veto=True)
            else:
                SpeedPreference.objects.create(
                    event=event, ranker=ranker, ranked=other, rank=int(value)
                )


def speed_event_match(*, event: SpeedEvent, by, now=None) -> list[Match]:
    """A stable matching from everyone's rankings; vetoes hold; buddies up to their places.

    Only pairs that may be matched now take part (the participant still waiting, the buddy
    cleared with a place, the pair not blocked, no declared preference broken). Filtering
    afterwards would let someone who cannot be matched hold a place in the matching and then
    drop it, leaving a place nobody was offered: what is saved would not be stable.
    """
    now = now or timezone.now()
    with transaction.atomic():
        event = SpeedEvent.objects.select_for_update().select_related("scheme").get(pk=event.pk)
        if event.matched_at:
            raise DomainError("Matches for this event have already been made.")
        met = set(
            SpeedMeeting.objects.filter(event=event).values_list("participant_id", "buddy_id")
        )
        preferences = list(SpeedPreference.objects.filter(event=event))
        vetoed = {(p.ranker_id, p.ranked_id) for p in preferences if p.veto}
        today = timezone.localdate(now)
        acceptable = {
            (participant, buddy)
            for participant, buddy in selectors.matchable_pairs(event.scheme, met, today)
            if (participant, buddy) not in vetoed and (buddy, participant) not in vetoed
        }
        places = {
            facts.membership_id: left
            for facts, left, _ in selectors.available_buddy_facts(event.scheme, today)
        }
        ranks = {(p.ranker_id, p.ranked_id): p.rank for p in preferences if not p.veto}

        def ordered(ranker_id, candidates):
            # Ranked people first, best first; then those they were not sure about.
            def key(other):
                rank = ranks.get((ranker_id, other))
                return (rank is None, rank or 0, other)

            return sorted(candidates, key=key)

        participant_prefs = {
            p: ordered(p, [b for (q, b) in acceptable if q == p])
            for p in {p for p, _ in acceptable}
        }
        buddy_prefs = {
            b: ordered(b, [p for (p, c) in acceptable if c == b])
            for b in {b for _, b in acceptable}
        }
        result = stable_match(participant_prefs, buddy_prefs, places)
        members = Membership.objects.select_related("match_profile").in_bulk(
            set(result) | set(result.values())
        )
        # Every pair passed the rules above, inside this transaction: match_create checks them
        # again and would refuse (rolling everything back) rather than save a broken matching.
        matches = [
            match_create(
                participant=members[participant_id], buddy=members[buddy_id], by=by, now=now
            )
            for participant_id, buddy_id in sorted(result.items())
        ]
        event.matched_at = now
        event.save(update_fields=["matched_at"])
        audit_record(actor=by, verb="speed_event_match", obj=event, scheme=event.scheme_id)
    return matches


@transaction.atomic
def match_support_person_set(
    *, match: Match, support_person: Membership | None, by, now=None
) -> Match:
    """Name a support person for this match only (None: the buddy's own, as for any match)."""
    support_person_check(match.scheme, support_person)
    locked = Match.objects.select_for_update().select_related("buddy").get(pk=match.pk)
    if locked.state in CLOSED_STATES:
        raise DomainError(f"This match is {STATE_LABEL[locked.state].lower()}: nothing to change.")
    locked.support_person = support_person
    locked.save(update_fields=["support_person"])
    name = support_person.user.display_name if support_person else "the buddy's own"
    MatchEvent.objects.create(
        match=locked,
        from_state=locked.state,
        to_state=locked.state,
        actor=by,
        at=now or timezone.now(),
        note=f"Support person: {name}",
    )
    buddy_support_changed.send(sender=Match, buddy=locked.buddy)
    return locked
