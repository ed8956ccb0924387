"""The duress PIN (DESIGN §3): a check-out that looks ordinary and silently calls for help.

A buddy may set a check-out PIN and a second, duress PIN. Checking out with the duress PIN
records the check-out as the buddy sees it (the meeting is checked out, so their screen and
their next Today look normal) and raises a level-3 duress alert to every on-call responder. The
alert never resolves by itself, no check-out closes it, and while it is open nobody is told
"all clear". Nothing about it is ever shown or sent to the buddy.

Wrong PINs: the fifth wrong PIN within ten minutes on one meeting raises a level-3 "wrong PIN
five times" alert, and the check-out PIN is refused until fewer than five wrong tries fall in
the last ten minutes. Why this and not more tries or a plain lock: a phone that cannot give the
right PIN may not be in the buddy's hands, or the buddy may be mistyping on purpose; either way
a responder should look now rather than wait for the overdue alerts. Someone guessing gets five
tries per ten minutes (a 4-digit PIN would take days; a meeting lasts hours). A buddy who only
forgot their PIN stays checked in, so the net keeps watching them and someone calls. The duress
PIN is never refused, locked or not: it is a call for help.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from buddyscheme.errors import DomainError

from ..models import (
    TOP_LEVEL,
    AlertReason,
    BuddySafety,
    Meeting,
    MeetingState,
    SafetyEvent,
    SafetyEventKind,
)
from .alerts import alert_send_soon, raise_alert
from .buttons import meeting_check_out
from .locations import Position, alert_location_record
from .rules import lone_working

WRONG_PIN_LIMIT = 5
WRONG_PIN_WINDOW = timedelta(minutes=10)
PIN = re.compile(r"[0-9]{4,8}")


class PinNeeded(DomainError):
    def __init__(self):
        super().__init__("Type your PIN, then tap “I've left safely”.")


class PinNotRight(DomainError):
    def __init__(self):
        super().__init__("That PIN is not right. You are still checked in. Please try again.")


class TooManyWrongPins(DomainError):
    def __init__(self):
        super().__init__(
            "That PIN has been typed wrong too many times. You are still checked in. "
            "Wait 10 minutes and try again, or call your coordinator."
        )


def buddy_safety(membership) -> BuddySafety | None:
    """The buddy's PINs and location choice, or None when they have never set either."""
    return BuddySafety.objects.filter(membership=membership).first()


@dataclass(frozen=True)
class CheckOutOptions:
    pin_asked: bool  # the buddy has PINs: the check-out form asks for one
    pin_required: bool  # ... and the scheme says it must be typed
    pin_missing: bool  # the scheme asks for PINs and this buddy has not set them yet
    # Every PIN check-out of a buddy who allowed sharing sends the position (the phone cannot
    # know which PIN it is); the server keeps it only for a duress check-out.
    sends_location: bool


def check_out_options(membership) -> CheckOutOptions:
    safety = buddy_safety(membership)
    has_pins = safety is not None and safety.has_pins
    required = lone_working(membership.scheme).check_out_pin_required
    return CheckOutOptions(
        pin_asked=has_pins,
        pin_required=has_pins and required,
        pin_missing=required and not has_pins,
        sends_location=has_pins and safety is not None and safety.share_location,
    )


@transaction.atomic
def buddy_pins_set(*, membership, check_out_pin: str, duress_pin: str, now=None) -> BuddySafety:
    """Set or change both PINs, stored hashed like passwords.

    Not during a meeting: whoever holds an unlocked phone mid-meeting must not be able to
    replace the duress PIN the buddy is counting on.
    """
    now = now or timezone.now()
    if not (PIN.fullmatch(check_out_pin) and PIN.fullmatch(duress_pin)):
        raise DomainError("Each PIN must be 4 to 8 numbers.")
    if check_out_pin == duress_pin:
        raise DomainError("Your two PINs must be different.")
    if Meeting.objects.filter(buddy=membership, state=MeetingState.CHECKED_IN).exists():
        raise DomainError(
            "You cannot change your PINs during a meeting. Change them after you have checked out."
        )
    safety, _ = BuddySafety.objects.select_for_update().get_or_create(membership=membership)
    safety.check_out_pin = make_password(check_out_pin)
    safety.duress_pin = make_password(duress_pin)
    safety.pins_changed_at = now
    safety.save(update_fields=["check_out_pin", "duress_pin", "pins_changed_at"])
    return safety


def meeting_check_out_with_pin(
    *,
    meeting: Meeting,
    key: str,
    pin: str,
    by,
    now=None,
    position: Position | None = None,
    pin_required: bool = False,
    device_at=None,
) -> Meeting:
    """Check out, with the buddy's PIN when they have set one.

    The check-out PIN checks out. The duress PIN checks out in exactly the same way and raises
    the duress alert (keeping the phone's position with it, if the buddy allowed sharing). A
    wrong PIN changes nothing but the count of wrong tries; the caller gets a DomainError.
    `pin_required`: a buddy who has PINs must type one whatever the scheme says (by text, where
    the sender's number is all that says who it is).
    """
    now = now or timezone.now()
    pin = (pin or "").strip()
    options = check_out_options(meeting.buddy)
    if not options.pin_asked or (not pin and not (options.pin_required or pin_required)):
        return meeting_check_out(meeting=meeting, key=key, by=by, now=now, device_at=device_at)
    if not pin:
        raise PinNeeded()
    with transaction.atomic():
        # What a wrong try wrote (its count, perhaps an alert) must stay: the error is raised
        # only once this block has committed.
        outcome = _check_out_with_pin(
            meeting, (key or "").strip()[:64], pin, by, now, position, device_at
        )
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def _check_out_with_pin(
    meeting, key, pin, by, now, position, device_at=None
) -> Meeting | DomainError:
    meeting = Meeting.objects.select_for_update(of=("self",)).get(pk=meeting.pk)
    if not key:
        return DomainError("Something went wrong with the page. Please reload it and press again.")
    earlier = (
        SafetyEvent.objects.filter(idempotency_key=key, meeting=meeting)
        .values_list("kind", flat=True)
        .first()
    )
    if earlier == SafetyEventKind.WRONG_PIN:
        return PinNotRight()  # the same wrong try again (a retry on a poor signal)
    if earlier == SafetyEventKind.CHECK_OUT:
        # recorded already
        return meeting_check_out(meeting=meeting, key=key, by=by, now=now, device_at=device_at)
    safety = BuddySafety.objects.get(membership_id=meeting.buddy_id)
    # Both checks always run, so the time the answer takes says nothing about which PIN it was.
    is_duress = check_password(pin, safety.duress_pin)
    is_check_out = check_password(pin, safety.check_out_pin)
    if is_duress:
        return _duress_check_out(meeting, key, by, now, position, device_at)
    wrong_recently = SafetyEvent.objects.filter(
        meeting=meeting, kind=SafetyEventKind.WRONG_PIN, at__gt=now - WRONG_PIN_WINDOW
    ).count()
    if is_check_out:
        if wrong_recently >= WRONG_PIN_LIMIT:
            return TooManyWrongPins()
        return meeting_check_out(meeting=meeting, key=key, by=by, now=now, device_at=device_at)
    try:
        with transaction.atomic():
            SafetyEvent.objects.create(
                meeting=meeting, kind=SafetyEventKind.WRONG_PIN, idempotency_key=key, at=now, by=by
            )
    except IntegrityError:
        return DomainError("Please reload the page and press again.")
    if wrong_recently + 1 == WRONG_PIN_LIMIT:
        raise_alert(
            meeting,
            TOP_LEVEL,
            AlertReason.WRONG_PINS,
            due_at=now,
            now=now,
            cycle=meeting.alerts.filter(reason=AlertReason.WRONG_PINS).count(),
        )
    return TooManyWrongPins() if wrong_recently + 1 >= WRONG_PIN_LIMIT else PinNotRight()


def _duress_check_out(meeting, key, by, now, position, device_at=None) -> Meeting | DomainError:
    # The alert comes first and stays whatever the check-out makes of the meeting: the buddy
    # has said they are in danger. With it open, the check-out tells nobody "all clear".
    alert = raise_alert(
        meeting,
        TOP_LEVEL,
        AlertReason.DURESS,
        due_at=now,
        now=now,
        cycle=meeting.alerts.filter(reason=AlertReason.DURESS).count(),
    )
    alert_location_record(alert=alert, position=position, now=now)
    if alert is not None:
        alert_send_soon(alert)  # leaves at once, without slowing the ordinary-looking answer
    try:
        with transaction.atomic():
            return meeting_check_out(meeting=meeting, key=key, by=by, now=now, device_at=device_at)
    except DomainError as error:
        return error  # what the check-out PIN would have shown (say, already finished)
