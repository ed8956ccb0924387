"""Checking out, or asking for help, by replying to a text: for buddies without data or a
smartphone.

The provider posts each reply to the webhook, which checks its signature; this module matches
the sender's number to a buddy and their one meeting in progress and does what the reply asks.
OUT checks out (with the PIN whenever the buddy has PINs, whatever the scheme's setting:
"OUT 2468"; the duress PIN works here too), HELP raises help. Anything else gets a clear text back. Every reply is recorded under the
provider's message id (SafetyEvent key "sms:<id>"), so a retried webhook records it once.

A known buddy with no meeting in progress, or several, gets a clear text back and their
coordinators a neutral notice through the outbox (for HELP, an urgent one that also reaches
whoever is on call). An unknown number gets a neutral text and nothing else: no record, no
notice, nothing that says whose number it might have been.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from buddyscheme.channels import phone_e164
from buddyscheme.errors import DomainError
from buddyscheme.models import Membership, Role, Scheme
from buddyscheme.notifications import notification_enqueue

from ..models import Meeting, MeetingState, SafetyEvent, SafetyEventKind
from .alerts import on_call_responders
from .buttons import meeting_help
from .duress import PinNeeded, PinNotRight, TooManyWrongPins, meeting_check_out_with_pin

KEYWORDS = re.compile(r"\b(out|help)\b", re.IGNORECASE)
PIN_IN_TEXT = re.compile(r"\b[0-9]{4,8}\b")
# What a provider retry is answered with: what the first delivery of that message did.
ANSWER_FOR: dict[str, str] = {
    SafetyEventKind.CHECK_OUT: "checked_out",
    SafetyEventKind.HELP: "help",
    SafetyEventKind.WRONG_PIN: "wrong_pin",
}


@dataclass(frozen=True)
class SmsAnswer:
    """The text to send back: templates/sms_replies/<template>.txt, signed with the scheme's
    sender name (none when the number is unknown or spans schemes)."""

    template: str
    scheme: Scheme | None = None


def buddies_with_number(number: str) -> list[Membership]:
    """Active buddy memberships whose profile phone is this number (as the provider writes it)."""
    wanted = phone_e164(number)
    if len(wanted) < 8:
        return []
    candidates = (
        Membership.objects.filter(role=Role.BUDDY, is_active=True, user__is_active=True)
        .exclude(user__profile__phone="")
        .select_related("user__profile", "scheme")
    )
    return [member for member in candidates if phone_e164(member.user.profile.phone) == wanted]


@transaction.atomic
def sms_reply_receive(*, from_number: str, body: str, message_id: str, now=None) -> SmsAnswer:
    now = now or timezone.now()
    buddies = buddies_with_number(from_number)
    if not buddies:
        return SmsAnswer("unknown")
    schemes = {member.scheme_id: member.scheme for member in buddies}
    scheme = next(iter(schemes.values())) if len(schemes) == 1 else None
    key = f"sms:{message_id}"
    earlier = (
        SafetyEvent.objects.filter(meeting__buddy__in=buddies)
        .filter(Q(idempotency_key=key) | Q(idempotency_key__startswith=f"{key}:"))
        .select_related("meeting__scheme")
        .first()
    )
    if earlier is not None and earlier.kind in ANSWER_FOR:
        return SmsAnswer(ANSWER_FOR[earlier.kind], earlier.meeting.scheme)
    words = {word.upper() for word in KEYWORDS.findall(body)}
    if not words:
        return SmsAnswer("not_understood", scheme)
    in_progress = list(
        Meeting.objects.filter(buddy__in=buddies, state=MeetingState.CHECKED_IN)
        .select_related("scheme", "venue", "buddy__user")
        .order_by("pk")
    )
    if "HELP" in words:  # "help, can't get out": help wins
        return _help(buddies, in_progress, key, now, scheme)
    return _out(buddies, in_progress, key, PIN_IN_TEXT.search(body), now, scheme)


def _help(buddies, in_progress, key, now, scheme) -> SmsAnswer:
    raised = []
    for meeting in in_progress:
        # Two meetings in progress: help on both, rather than guess which.
        event_key = key if len(in_progress) == 1 else f"{key}:{meeting.pk}"
        try:
            raised.append(
                meeting_help(meeting=meeting, key=event_key, by=meeting.buddy.user, now=now)
            )
        except DomainError:
            continue
    if not raised:
        _tell_coordinators(buddies, "alert_sms_help", key, now, also_on_call=True)
    return SmsAnswer("help", in_progress[0].scheme if len(in_progress) == 1 else scheme)


def _out(buddies, in_progress, key, pin, now, scheme) -> SmsAnswer:
    if len(in_progress) != 1:
        _tell_coordinators(
            buddies, "sms_reply_unmatched", key, now, context={"several": bool(in_progress)}
        )
        return SmsAnswer("several" if in_progress else "no_meeting", scheme)
    meeting = in_progress[0]
    try:
        meeting_check_out_with_pin(
            meeting=meeting,
            key=key,
            pin=pin.group() if pin else "",
            by=meeting.buddy.user,
            now=now,
            # A text's sender number can be forged: a buddy with PINs must send one, so a
            # forged OUT can never silence the net for them.
            pin_required=True,
        )
    except PinNeeded:
        return SmsAnswer("pin_needed", meeting.scheme)
    except TooManyWrongPins:
        return SmsAnswer("too_many_pins", meeting.scheme)
    except PinNotRight:
        return SmsAnswer("wrong_pin", meeting.scheme)
    except DomainError:
        _tell_coordinators(buddies, "sms_reply_unmatched", key, now, context={"several": False})
        return SmsAnswer("no_meeting", meeting.scheme)
    return SmsAnswer("checked_out", meeting.scheme)


def _tell_coordinators(buddies, template, key, now, context=None, also_on_call=False) -> None:
    """A notice per buddy the number belongs to, to their scheme's coordinators (and on-call
    responders), once per provider message however often it is retried."""
    for buddy in buddies:
        people = list(
            Membership.objects.filter(
                scheme=buddy.scheme, role=Role.COORDINATOR, is_active=True
            ).select_related("user__profile")
        )
        if also_on_call:
            people += on_call_responders(buddy.scheme, now)
        reached = {
            member.user_id: member.user for member in people if member.user_id != buddy.user_id
        }
        for user in reached.values():
            notification_enqueue(
                scheme=buddy.scheme,
                recipient=user,
                template=template,
                dedupe_key=f"{key}:{buddy.pk}",
                context={"membership_id": buddy.pk, **(context or {})},
                now=now,
            )
