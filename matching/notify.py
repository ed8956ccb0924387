"""What matching tells people, through the outbox, inside the caller's transaction.

Messages carry ids only (the match and which side): names, menus and reasons stay on the
pages behind the login. Subjects and texts are neutral (templates/notifications/match_*), so a
message seen over someone's shoulder says nothing about the scheme or anyone's health. Who may
be texted is the outbox's rule (`may_text`): participants only with their consent.
"""

from __future__ import annotations

from buddyscheme.models import Membership, Role
from buddyscheme.notifications import notification_enqueue

from .models import Match, MatchEvent, MatchState


def _member(match: Match, side: str) -> Membership:
    return match.buddy if side == "buddy" else match.participant


def proposal_tell(match: Match, *, now) -> int:
    """Ask everyone who must answer a new proposal. Once per person, however often called."""
    sent = 0
    for side in match.sides_to_answer:
        sent += len(
            notification_enqueue(
                scheme=match.scheme,
                recipient=_member(match, side).user,
                template="match_proposed",
                dedupe_key=f"match_proposed:{match.pk}",
                context={"match_id": match.pk, "side": side},
                now=now,
            )
        )
    return sent


def proposal_remind(match: Match, *, sides: list[str], dedupe_key: str, now) -> int:
    """Remind these sides that a proposal waits for their answer."""
    sent = 0
    for side in sides:
        sent += len(
            notification_enqueue(
                scheme=match.scheme,
                recipient=_member(match, side).user,
                template="match_reminder",
                dedupe_key=dedupe_key,
                context={"match_id": match.pk, "side": side},
                now=now,
            )
        )
    return sent


def proposing_coordinators(match: Match) -> list[Membership]:
    """Whoever proposed the match, while they are still a coordinator here; else every
    active coordinator of the scheme (a proposal from a released round or someone who left)."""
    coordinators = Membership.objects.filter(
        scheme_id=match.scheme_id, role=Role.COORDINATOR, is_active=True
    ).select_related("user__profile")
    proposer = (
        MatchEvent.objects.filter(match=match, to_state=MatchState.PROPOSED, actor__isnull=False)
        .values_list("actor_id", flat=True)
        .first()
    ) or match.created_by_id
    own = [membership for membership in coordinators if membership.user_id == proposer]
    return own or list(coordinators)


def talk_request_tell(match: Match, *, side: str, now) -> int:
    """Tell the coordinator that someone would like to talk before answering."""
    sent = 0
    for coordinator in proposing_coordinators(match):
        sent += len(
            notification_enqueue(
                scheme=match.scheme,
                recipient=coordinator.user,
                template="match_talk_request",
                dedupe_key=f"match_talk:{match.pk}:{side}",
                context={"match_id": match.pk, "side": side},
                now=now,
            )
        )
    return sent
