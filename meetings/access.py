"""Authorisation for meetings and alerts, built on buddyscheme.access (404 other scheme, 403 role)."""

from datetime import timedelta

from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from buddyscheme.access import get_scheme_object_for_user, mfa_missing
from buddyscheme.models import Membership, Role

from .models import (
    Alert,
    AlertRecipient,
    Debrief,
    Meeting,
    MeetingState,
    OnCallShift,
    TrainingInvitation,
    TrainingSession,
    Venue,
)
from .services.buttons import OwnMeeting
from .services.rules import last_response_needed, lone_working_to_read


def get_meeting_for_user(request, pk: int) -> Meeting:
    """Coordinators see every meeting of their scheme; a buddy only their own."""
    qs = Meeting.objects.select_related("venue", "scheme", "buddy__user__profile")
    return get_scheme_object_for_user(
        request, qs, pk, scheme_path="scheme_id", roles=[Role.COORDINATOR], own_paths=["buddy"]
    )


def own_meeting_to_press(request, pk: int) -> OwnMeeting:
    """A button on the person's own meeting, as the service's lock will read it: in the scheme
    they act in, and theirs (a buddy's through this membership; a coordinator's through any of
    theirs, once two-step sign-in is set up, as get_meeting_for_user asks). Nothing is read
    here; a press outside the scope finds no meeting, and the view asks get_meeting_for_user
    why (404 or 403)."""
    current = request.membership
    if current is None:
        raise Http404
    if current.role == Role.COORDINATOR:
        if mfa_missing(request.user):
            raise PermissionDenied("Set up two-step sign-in first.")
        return OwnMeeting(pk, Q(scheme_id=current.scheme_id, buddy__user_id=request.user.pk))
    return OwnMeeting(pk, Q(scheme_id=current.scheme_id, buddy_id=current.pk))


def get_own_meeting_for_buddy(request, pk: int) -> Meeting:
    """A buddy's own meeting, for them to change or cancel. Coordinators use their own pages;
    whether it can still change (planned, not started) is the services' rule."""
    qs = Meeting.objects.select_related("venue", "scheme", "buddy__user", "match")
    return get_scheme_object_for_user(
        request, qs, pk, scheme_path="scheme_id", roles=[], own_paths=["buddy"]
    )


def get_venue_for_user(request, pk: int) -> Venue:
    return get_scheme_object_for_user(
        request,
        Venue.objects.select_related("scheme"),
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR],
    )


def get_shift_for_user(request, pk: int) -> OnCallShift:
    return get_scheme_object_for_user(
        request,
        OnCallShift.objects.select_related("scheme", "responder__user__profile"),
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR],
    )


def get_meeting_for_participant(request, pk: int) -> Meeting:
    """A meeting of the participant's own match (to ask to move it)."""
    qs = Meeting.objects.select_related("venue", "scheme", "match", "buddy__user__profile")
    return get_scheme_object_for_user(
        request, qs, pk, scheme_path="scheme_id", roles=[], own_paths=["match__participant"]
    )


def get_alert_for_user(request, pk: int) -> Alert:
    qs = Alert.objects.select_related("meeting__scheme")
    return get_scheme_object_for_user(
        request, qs, pk, scheme_path="meeting__scheme_id", roles=[Role.COORDINATOR]
    )


def get_alert_for_responder(request, pk: int) -> Alert:
    """An alert for its responder page: whoever it reached, and the scheme's coordinators.

    The page shows the buddy's phone and the venue's address, so everyone else gets 404, as
    does the buddy it is about (their level-1 prompt reaches them; the page is not theirs).
    It does not depend on the scheme the person is acting in: an on-call buddy of one scheme
    may coordinate another. Recipients must still be active members of the alert's scheme.
    """
    alert = (
        Alert.objects.select_related(
            "meeting__scheme",
            "meeting__venue",
            "meeting__buddy__user__profile",
            "acknowledged_by__profile",
            "resolved_by__profile",
        )
        .filter(pk=pk)
        .first()
    )
    user = request.user
    if alert is None or not user.is_authenticated:
        raise Http404
    meeting = alert.meeting
    member = Membership.objects.filter(user=user, scheme_id=meeting.scheme_id, is_active=True)
    reached = (
        AlertRecipient.objects.filter(alert=alert, person=user).exists()
        and user.pk != meeting.buddy.user_id
    )
    if reached and member.exists():
        return alert
    if member.filter(role=Role.COORDINATOR).exists():
        if mfa_missing(user):
            raise PermissionDenied("Set up two-step sign-in first.")
        return alert
    raise Http404


# --- The link in an alert message ----------------------------------------------------------------

RESPONDER_LINK_SALT = "meetings.responder-link"
# Long enough to act on an alert that came in the night, short enough that an old text
# forwarded or left on a phone leads nowhere.
RESPONDER_LINK_MAX_AGE = timedelta(hours=24)
SIGNATURE_LENGTH = 8  # 48 bits


class _ShortSigner(signing.TimestampSigner):
    """Django's TimestampSigner with the HMAC cut to 48 bits, so the link fits a text message.

    The link is never enough on its own: the page behind it still asks for the responder's
    login. The token names only the alert and the person it was sent to (ids, base 62).
    """

    def __init__(self):
        super().__init__(salt=RESPONDER_LINK_SALT, sep=".")

    def signature(self, value, key=None):
        return super().signature(value, key)[:SIGNATURE_LENGTH]


def responder_link_token(alert_id: int, person_id: int) -> str:
    value = f"{signing.b62_encode(alert_id)}-{signing.b62_encode(person_id)}"
    return _ShortSigner().sign(value)


def read_responder_link(token: str) -> tuple[int, int]:
    """(alert id, person id) from a link's token.

    Raises signing.SignatureExpired for an old link, signing.BadSignature for anything else
    that is not a link we made.
    """
    value = _ShortSigner().unsign(token, max_age=RESPONDER_LINK_MAX_AGE)
    alert_part, _, person_part = value.partition("-")
    return signing.b62_decode(alert_part), signing.b62_decode(person_part)


# --- The safety buttons' token (DESIGN §3: a safety button always works) -------------------------

SAFETY_TOKEN_SALT = "meetings.safety-buttons"
SAFETY_ACTIONS_CHECKED_IN = ("check-out", "extend", "help")
SAFETY_ACTIONS_PLANNED = ("help",)


class SafetyTokenRefused(Exception):
    """A token that cannot press this button: `reason` is "invalid", "expired" or "old_watch"."""

    def __init__(self, reason: str, meeting: Meeting | None = None):
        super().__init__(reason)
        self.reason = reason
        self.meeting = meeting


def safety_token(meeting: Meeting) -> str:
    """The token the Today page's safety buttons carry, so they work without a live session.

    It names ids only (the buddy's membership, the meeting, its current watch) and the buttons
    shown with it; the signature is Django's (SECRET_KEY, this salt). It is honoured until the
    meeting's escalation would be over, whatever the session or the login throttle says.
    """
    actions = (
        SAFETY_ACTIONS_CHECKED_IN
        if meeting.state == MeetingState.CHECKED_IN
        else SAFETY_ACTIONS_PLANNED
    )
    return signing.dumps(
        [meeting.buddy_id, meeting.pk, meeting.cycle, list(actions)],
        salt=SAFETY_TOKEN_SALT,
        compress=True,
    )


def safety_token_expires(meeting: Meeting):
    """The last moment anyone may need the buddy's answer: the latest the meeting could end
    (every extension the scheme allows), its grace, two rounds of escalation."""
    return last_response_needed(meeting, meeting.expected_end, lone_working_to_read(meeting.scheme))


def get_meeting_for_safety_token(token: str, pk: int, action: str, now) -> Meeting:
    """The meeting a safety button's token may act on, for a buddy with no live session.

    Refused (SafetyTokenRefused) when the token is not ours or was altered, names another
    meeting or a button it did not carry, its buddy is no longer an active member, or the
    meeting's escalation is over. A token from an older watch may still check out (the buddy is
    saying they are safe) and ask for help (always honoured), but not extend: more time is
    asked for against the end the buddy last saw, and a stale page must not push the net back.
    """
    try:
        membership_id, meeting_id, cycle, actions = signing.loads(token, salt=SAFETY_TOKEN_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise SafetyTokenRefused("invalid") from None
    if action == "safe" and "help" in actions:
        action = "help"  # "I'm safe now" follows a help press, with the same token
    if meeting_id != pk or action not in actions:
        raise SafetyTokenRefused("invalid")
    meeting = (
        Meeting.objects.select_related("venue", "scheme", "buddy__user__profile", "buddy__scheme")
        .filter(pk=pk, buddy_id=membership_id)
        .first()
    )
    if (
        meeting is None
        or not meeting.buddy.is_active
        or not meeting.buddy.user.is_active
        or meeting.buddy.role != Role.BUDDY
    ):
        raise SafetyTokenRefused("invalid")
    if now > safety_token_expires(meeting):
        raise SafetyTokenRefused("expired", meeting)
    if action == "extend" and cycle != meeting.cycle:
        raise SafetyTokenRefused("old_watch", meeting)
    return meeting


# --- Debriefs ------------------------------------------------------------------------------------


def get_debrief_for_coordinator(request, pk: int) -> Debrief:
    """A debrief of the coordinator's scheme. Buddies read theirs by their meeting's page."""
    qs = Debrief.objects.select_related(
        "meeting__scheme",
        "meeting__venue",
        "meeting__buddy__user__profile",
        "meeting__match__participant__user__profile",
        "recorded_by__profile",
        "feedback_by__profile",
        "followed_up_by__profile",
    )
    return get_scheme_object_for_user(
        request, qs, pk, scheme_path="meeting__scheme_id", roles=[Role.COORDINATOR]
    )


def get_training_session_for_coordinator(request, pk: int) -> TrainingSession:
    return get_scheme_object_for_user(
        request,
        TrainingSession.objects.select_related("scheme", "module", "venue"),
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR],
    )


def get_own_training_invitation(request, pk: int) -> TrainingInvitation:
    """An invitation to the requesting buddy; anyone else's is not found."""
    return get_scheme_object_for_user(
        request,
        TrainingInvitation.objects.select_related(
            "session__module", "session__venue", "session__scheme", "invitee__user"
        ),
        pk,
        scheme_path="session__scheme_id",
        roles=[],
        own_paths=["invitee"],
    )
