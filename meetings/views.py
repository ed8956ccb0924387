"""The buddy's Today page and its safety buttons, booking, the live board, calendar feeds."""

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from icalendar import Calendar, Event

from buddyscheme.access import get_member_for_coordinator, login_required, role_required
from buddyscheme.channels import twilio_signature_valid
from buddyscheme.emails import sms_reply_build
from buddyscheme.errors import DomainError
from buddyscheme.models import Role
from buddyscheme.selectors import member_home_cards
from buddyscheme.support import own_support_person
from buddyscheme.watchdog import safety_net_status, sms_failing

from . import selectors, services
from .access import (
    RESPONDER_LINK_MAX_AGE,
    SAFETY_ACTIONS_CHECKED_IN,
    SafetyTokenRefused,
    get_alert_for_responder,
    get_alert_for_user,
    get_meeting_for_participant,
    get_meeting_for_safety_token,
    get_meeting_for_user,
    get_own_meeting_for_buddy,
    own_meeting_to_press,
    read_responder_link,
    safety_token,
)
from .board import CSRF_PLACEHOLDER, board_body
from .forms import (
    ConcernChoiceForm,
    LocationSharingForm,
    MeetingChangeForm,
    MeetingForm,
    PinsForm,
    ResolveForm,
    SupervisionForm,
)
from .models import CalendarFeed, Meeting, MeetingState


def _key():
    """A fresh idempotency key per rendered button: a retried post repeats it, a new press does not."""
    return uuid.uuid4().hex


OFFLINE_KEEP_HEADER = "Buddy-Offline"


@dataclass
class TodayCard:
    """A meeting on the Today list, with a fresh key for its buttons and where check-in stands."""

    meeting: Meeting
    key: str
    check_in: str  # "open", "not_yet" or "closed" (for a meeting not checked in yet)
    check_in_opens: datetime
    safety_token: str  # lets check-out, extend and help work once the session has gone
    carried: list  # the match's actions and goals still open, on its next meeting


def _today_card(meeting: Meeting, config, now, carried) -> TodayCard:
    opens, closes = services.check_in_window(meeting, config)
    check_in = "not_yet" if now < opens else "closed" if now > closes else "open"
    return TodayCard(
        meeting=meeting,
        key=_key(),
        check_in=check_in,
        check_in_opens=opens,
        safety_token=safety_token(meeting),
        carried=carried.get(meeting.pk, []),
    )


@require_GET
@role_required(Role.BUDDY, Role.COORDINATOR)
def today(request):
    if request.membership.role == Role.COORDINATOR:
        return _today_for_staff(request)
    now = timezone.now()
    meetings = selectors.meetings_for_buddy_today(request.membership, now)
    config = services.lone_working_to_read(request.membership.scheme)
    # Reading the page makes nothing: the feed exists once the buddy has asked for it.
    feed = selectors.calendar_feed_for(request.membership)
    carried = selectors.carried_forward_for(
        meetings.today + [meeting for _, day in meetings.coming_up for meeting in day]
    )
    response = render(
        request,
        "meetings/today.html",
        {
            **_help_context(request),
            "today": timezone.localdate(now),
            "cards": [_today_card(meeting, config, now, carried) for meeting in meetings.today],
            "coming_up": [
                (day, [(meeting, carried.get(meeting.pk, [])) for meeting in day_meetings])
                for day, day_meetings in meetings.coming_up
            ],
            "more_meetings": meetings.more,
            "debriefs_to_write": selectors.debriefs_to_write(request.membership),
            "extensions": services.EXTENSIONS,
            "check_out": services.check_out_options(request.membership),
            "feed_url": request.build_absolute_uri(reverse("meetings:calendar", args=[feed.token]))
            if feed
            else None,
            "calendar_open": request.GET.get("show") == "calendar",
            "home_cards": member_home_cards(request.membership, now),
        },
    )
    # The one page the phone may keep to read with no signal (static/js/sw.js): a buddy's own
    # Today. A coordinator's pages never carry this, so the phone never keeps them.
    response[OFFLINE_KEEP_HEADER] = "keep"
    return response


@require_GET
@role_required(Role.BUDDY, Role.COORDINATOR)
def my_meetings(request):
    """Every meeting still to come, a page at a time: what Today leaves out past its first few."""
    rows = selectors.meetings_upcoming_for_buddy(request.membership)
    page = Paginator(rows, selectors.MY_MEETINGS_PAGE).get_page(request.GET.get("page"))
    return render(request, "meetings/my_meetings.html", {"page": page})


def _today_for_staff(request):
    """A coordinator's own lone-working meetings today (a group session they facilitate): the
    same cards and buttons as a buddy's, where the reminder and alert texts point ("/today/")."""
    now = timezone.now()
    meetings = selectors.meetings_for_buddy_today(request.membership, now)
    config = services.lone_working_to_read(request.membership.scheme)
    return render(
        request,
        "meetings/today.html",
        {
            **_help_context(request),
            "staff": True,
            "today": timezone.localdate(now),
            "cards": [_today_card(meeting, config, now, {}) for meeting in meetings.today],
            "extensions": services.EXTENSIONS,
            "check_out": services.check_out_options(request.membership),
        },
    )


ACTIONS = {
    "check-in": (
        services.meeting_check_in,
        "Thank you. Remember to tap “I've left safely” when you leave.",
    ),
    # With the buddy's PIN, if they set one. The duress PIN gives exactly this same answer.
    "check-out": (services.meeting_check_out_with_pin, "Thank you. You have checked out safely."),
}


def device_time(post) -> datetime | None:
    """When the phone says a button was pressed: `device_at`, in milliseconds since 1970 UTC
    (JavaScript's Date.now()), sent by static/js/offline-queue.js with a press it saved while
    there was no signal. Anything else is ignored; the services decide whether to believe it."""
    raw = post.get("device_at", "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 15:
        return None
    try:
        return datetime.fromtimestamp(int(raw) / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _press(
    meeting: Meeting | services.OwnMeeting, action: str, key: str, by, post
) -> list[tuple[int, str]]:
    """Press one of the meeting's buttons; what to tell the buddy, as (message level, text)."""
    device_at = device_time(post)
    try:
        if action in ACTIONS:
            service, done = ACTIONS[action]
            extra = (
                {"pin": post.get("pin", ""), "position": services.position_from(post)}
                if action == "check-out"
                else {}
            )
            service(meeting=meeting, key=key, by=by, device_at=device_at, **extra)
        elif action == "extend":
            minutes = int(post.get("minutes", "0") or 0)
            meeting = services.meeting_extend(
                meeting=meeting, minutes=minutes, key=key, by=by, device_at=device_at
            )
            done = f"Done. We now expect you to finish by {timezone.localtime(meeting.expected_end, meeting.scheme.zone):%H:%M}."
            latest = services.last_response_needed(
                meeting, meeting.expected_end, services.lone_working(meeting.scheme), timedelta(0)
            )
            if services.cover_ends_before(meeting.scheme, timezone.now(), latest):
                return [
                    (messages.SUCCESS, done),
                    (
                        messages.WARNING,
                        "Nobody from the team is on call for all of that time. If you feel "
                        "unsafe, leave and call 999.",
                    ),
                ]
        else:
            raise Http404
    except (DomainError, ValueError) as error:
        return [
            (
                messages.ERROR,
                str(error) if isinstance(error, DomainError) else "Choose 15, 30 or 60 minutes.",
            )
        ]
    return [(messages.SUCCESS, done)]


@require_POST
def meeting_action(request, pk, action):
    """A button on the Today page. Signed in, as ever; with no live session (idle too long,
    signed out, a login locked by someone else's wrong passwords) the safety buttons still work
    by the token the page gave them (DESIGN §3), and every other button goes to the login."""
    if _by_safety_token(request) and action in SAFETY_ACTIONS_CHECKED_IN:
        return _safety_page_by_token(request, pk, action)
    return _meeting_action_signed_in(request, pk, action)


# The buttons whose service takes the meeting unread (services.OwnMeeting): its lock is also
# the access check, one query where there were two. Check-out reads the meeting first (the
# buddy's PINs).
PRESSED_UNREAD = ("check-in", "extend")


@role_required(Role.BUDDY, Role.COORDINATOR)
def _meeting_action_signed_in(request, pk, action):
    key = request.POST.get("key", "")
    if action in PRESSED_UNREAD:
        try:
            told = _press(
                own_meeting_to_press(request, pk), action, key, request.user, request.POST
            )
        except Meeting.DoesNotExist:
            # Not theirs to press, and nothing was written: 404 or 403, as ever.
            get_meeting_for_user(request, pk)
            raise Http404 from None  # a coordinator's buttons are on their own meetings only
        return _told(request, told)
    meeting = get_meeting_for_user(request, pk)
    if request.membership.role == Role.COORDINATOR and meeting.buddy.user_id != request.user.pk:
        raise Http404  # the buttons are the buddy's own; coordinators use the board
    told = _press(meeting, action, key, request.user, request.POST)
    for level, text in told:
        messages.add_message(request, level, text)
    if (
        action == "check-out"
        and request.membership.role == Role.BUDDY
        and all(level == messages.SUCCESS for level, _ in told)
    ):
        # Checked out (a duress PIN looks exactly the same): on to the meeting's debrief.
        return redirect("meetings:debrief", pk=meeting.pk)
    return redirect("meetings:today")


def _told(request, told):
    for level, text in told:
        messages.add_message(request, level, text)
    return redirect("meetings:today")


def _by_safety_token(request) -> bool:
    """Only without a live session: signed in, the session decides, exactly as before."""
    return not request.user.is_authenticated and bool(_safety_token_sent(request))


def _safety_token_sent(request) -> str:
    return request.POST.get("safety_token", "") or request.GET.get("t", "")


def _safety_page_by_token(request, pk, action):
    """The small page a buddy with no session sees: what happened, and the buttons that are
    still theirs (with a fresh token for the meeting's current watch). It needs no login."""
    response = _safety_page_for_token(request, pk, action)
    # Signed out, but the page holds a token and the buddy's meeting: no cache may keep it.
    patch_cache_control(response, no_store=True, no_cache=True, private=True, max_age=0)
    return response


def _safety_page_for_token(request, pk, action):
    now = timezone.now()
    try:
        meeting = get_meeting_for_safety_token(_safety_token_sent(request), pk, action, now)
    except SafetyTokenRefused as refused:
        if refused.reason != "old_watch":
            return _safety_token_problem(request, refused)
        meeting = refused.meeting
        told = [
            (
                messages.WARNING,
                "You have already asked for more time since this page was opened. We now "
                f"expect you to finish by {timezone.localtime(meeting.expected_end, meeting.scheme.zone):%H:%M}. "
                "Tap again if you need longer.",
            )
        ]
    else:
        if action == "help":
            return _help_by_token(request, meeting)
        if action == "safe":
            return _safe_by_token(request, meeting)
        told = _press(
            meeting, action, request.POST.get("key", ""), meeting.buddy.user, request.POST
        )
        meeting.refresh_from_db()
    return _safety_done(request, meeting, told)


def _safety_done(request, meeting, told, status=200):
    with timezone.override(meeting.scheme.zone):
        return render(
            request,
            "meetings/safety_done.html",
            {
                "meeting": meeting,
                "told": [{"level": level, "text": text} for level, text in told],
                "checked_out": meeting.state == MeetingState.CHECKED_OUT,
                "safety_token": safety_token(meeting),
                "key": _key(),
                "extensions": services.EXTENSIONS,
                "check_out": services.check_out_options(meeting.buddy),
                "scheme": meeting.scheme,
            },
            status=status,
        )


def _safety_token_problem(request, refused):
    scheme = refused.meeting.scheme if refused.meeting is not None else None
    return render(
        request,
        "meetings/safety_token_problem.html",
        {"problem": refused.reason, "scheme": scheme},
        status=403,
    )


def _help_by_token(request, meeting):
    if request.method == "POST":
        try:
            alert = services.meeting_help(
                meeting=meeting,
                key=request.POST.get("key", ""),
                by=meeting.buddy.user,
                device_at=device_time(request.POST),
            )
            if alert is not None:
                services.alert_send_now(alert)
        except DomainError as error:
            return _safety_done(request, meeting, [(messages.ERROR, str(error))])
        services.alert_location_record(alert=alert, position=services.position_from(request.POST))
        return _help_sent_by_token(request, meeting)
    return render(
        request,
        "meetings/help_confirm.html",
        {
            "meeting": meeting,
            "key": _key(),
            "safety_token": _safety_token_sent(request),
            "share_location": services.location_sharing_allowed(meeting.buddy),
        },
    )


def _help_sent_by_token(request, meeting, told=()):
    """The help page as a signed-in buddy sees it, for one with no session: what has left, and
    "I'm safe now" carrying the token."""
    return render(
        request,
        "meetings/help_sent.html",
        {
            "meeting": meeting,
            "membership": meeting.buddy,  # the scheme's emergency number, the role line
            "help_requests": selectors.help_requests_for_buddy(meeting.buddy),
            "safe_key": _key(),
            "safety_token": safety_token(meeting),
            "told": [{"level": level, "text": text} for level, text in told],
        },
    )


def _safe_by_token(request, meeting):
    try:
        services.meeting_safe_now(
            meeting=meeting, key=request.POST.get("key", ""), by=meeting.buddy.user
        )
    except DomainError as error:
        told = [(messages.INFO, str(error))]
    else:
        told = [(messages.SUCCESS, SAID_SAFE)]
    return _help_sent_by_token(request, meeting, told)


@require_http_methods(["GET", "POST"])
def meeting_help(request, pk):
    """A confirm step, then the top-level alert at once (with where the phone is, if the buddy
    allowed it and the phone could tell in time). Works by the page's token without a session."""
    if _by_safety_token(request):
        return _safety_page_by_token(request, pk, "help")
    return _meeting_help_signed_in(request, pk)


def _own_meeting(request, pk):
    """The signed-in person's own meeting: a buddy's, or a coordinator's own lone-working
    meeting (facilitating a group). A coordinator presses help only for themself."""
    if request.membership.role == Role.COORDINATOR:
        return get_own_meeting_for_buddy(request, pk)
    return get_meeting_for_user(request, pk)


def _back_home(request):
    """Where the safety pages lead back to: Today for a buddy, home for staff."""
    return redirect("meetings:today" if request.membership.role == Role.BUDDY else "home")


@role_required(Role.BUDDY, Role.COORDINATOR)
def _meeting_help_signed_in(request, pk):
    meeting = _own_meeting(request, pk)
    if request.method == "POST":
        try:
            alert = services.meeting_help(
                meeting=meeting,
                key=request.POST.get("key", ""),
                by=request.user,
                device_at=device_time(request.POST),
            )
            if alert is not None:
                # Sent from here and now, so the next screen can say truthfully what has left
                # (the sweeper sends whatever this could not).
                services.alert_send_now(alert)
        except DomainError as error:
            messages.error(request, str(error))
            return _back_home(request)
        services.alert_location_record(alert=alert, position=services.position_from(request.POST))
        return render(
            request, "meetings/help_sent.html", {"meeting": meeting, **_help_context(request)}
        )
    return render(
        request,
        "meetings/help_confirm.html",
        {
            "meeting": meeting,
            "key": _key(),
            "share_location": services.location_sharing_allowed(meeting.buddy),
        },
    )


def _help_context(request) -> dict:
    help_requests = selectors.help_requests_for_buddy(request.membership)
    return {
        "help_requests": help_requests,
        "help_open": any(help_request.is_open for help_request in help_requests),
        "safe_key": _key(),
    }


@never_cache
@require_GET
@role_required(Role.BUDDY, Role.COORDINATOR)
def help_status(request):
    """The help banner, which htmx reloads every few seconds while a request is open (and
    stops reloading once none is). Without JavaScript, reloading the page does the same."""
    return render(request, "meetings/_help_banner.html", _help_context(request))


SAID_SAFE = "Thank you. We have told the team you are safe. Someone will still call you."


@require_POST
def meeting_safe(request, pk):
    """The "I'm safe now" button: those told of the help request hear it; a responder closes it.
    Shown after a help press, it works by the same token when there is no session."""
    if _by_safety_token(request):
        return _safety_page_by_token(request, pk, "safe")
    return _meeting_safe_signed_in(request, pk)


@role_required(Role.BUDDY, Role.COORDINATOR)
def _meeting_safe_signed_in(request, pk):
    meeting = _own_meeting(request, pk)
    try:
        services.meeting_safe_now(meeting=meeting, key=request.POST.get("key", ""), by=request.user)
    except DomainError as error:
        messages.info(request, str(error))
    else:
        messages.success(request, SAID_SAFE)
    return _back_home(request)


@require_http_methods(["GET", "POST"])
@role_required(Role.BUDDY, Role.COORDINATOR)
def meeting_new(request):
    membership = request.membership
    is_buddy = membership.role == Role.BUDDY
    form = MeetingForm(
        request.POST or None, scheme=membership.scheme, buddy=membership if is_buddy else None
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.meeting_book(
                buddy=membership if is_buddy else data["buddy"],
                match=data["match"],
                venue=data["venue"],
                planned_start=data["planned_start"],
                planned_end=data["planned_end"],
                purpose=data["purpose"],
                key_holder=data.get("key_holder"),
                by=request.user,
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Meeting logged. We will remind you before it starts.")
            return redirect("meetings:today" if is_buddy else "meetings:list")
    return render(request, "meetings/meeting_form.html", {"form": form})


@require_GET
@role_required(Role.COORDINATOR)
def meeting_list(request):
    return render(
        request,
        "meetings/meeting_list.html",
        {"meetings": selectors.meetings_for_coordinator(request.membership.scheme)},
    )


def _initial_for(meeting: Meeting) -> dict:
    """The form's fields for a booked meeting, in the scheme's local time."""
    zone = meeting.scheme.zone
    local_start, local_end = (
        timezone.localtime(meeting.planned_start, zone),
        timezone.localtime(meeting.planned_end, zone),
    )
    return {
        "buddy": meeting.buddy,
        "match": meeting.match,
        "venue": meeting.venue,
        "key_holder": meeting.key_holder,
        "day": local_start.date(),
        "start": local_start.time(),
        "end": local_end.time(),
        "purpose": meeting.purpose,
    }


def _reschedule_from(form, meeting: Meeting, by) -> Meeting:
    """The one way a valid booking form (the buddy's or the coordinator's) changes a meeting."""
    data = form.cleaned_data
    return services.meeting_reschedule(
        meeting=meeting,
        venue=data["venue"],
        planned_start=data["planned_start"],
        planned_end=data["planned_end"],
        purpose=data["purpose"],
        key_holder=data.get("key_holder"),
        by=by,
    )


NOT_CHANGEABLE = "This meeting has started or finished, so it cannot be changed now."


@require_http_methods(["GET", "POST"])
@role_required(Role.BUDDY)
def meeting_change(request, pk):
    """The buddy moves their own planned meeting (a new watch starts; their calendar updates)."""
    meeting = get_own_meeting_for_buddy(request, pk)
    if meeting.state != MeetingState.PLANNED:
        messages.error(request, NOT_CHANGEABLE)
        return redirect("meetings:today")
    form = MeetingChangeForm(
        request.POST or None,
        scheme=meeting.scheme,
        buddy=request.membership,
        initial=_initial_for(meeting),
    )
    if request.method == "POST" and form.is_valid():
        try:
            _reschedule_from(form, meeting, request.user)
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Meeting changed. We will remind you before it starts.")
            return redirect("meetings:today")
    return render(request, "meetings/meeting_change.html", {"form": form, "meeting": meeting})


@require_POST
@role_required(Role.BUDDY)
def meeting_cancel(request, pk):
    """The buddy cancels their own planned meeting; the coordinators are told."""
    meeting = get_own_meeting_for_buddy(request, pk)
    try:
        services.meeting_cancel(meeting=meeting, by=request.user)
    except DomainError:
        messages.error(request, NOT_CHANGEABLE)
    else:
        messages.success(request, "Meeting cancelled. We have told your coordinator.")
    return redirect("meetings:today")


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def meeting_edit(request, pk):
    meeting = get_meeting_for_user(request, pk)
    initial = _initial_for(meeting)
    form = MeetingForm(request.POST or None, scheme=meeting.scheme, initial=initial)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "cancel":
                services.meeting_cancel(meeting=meeting, by=request.user)
                messages.success(request, "Meeting cancelled.")
                return redirect("meetings:list")
            if form.is_valid():
                _reschedule_from(form, meeting, request.user)
                messages.success(request, "Meeting changed.")
                return redirect("meetings:list")
        except DomainError as error:
            form.add_error(None, str(error))
    return render(request, "meetings/meeting_form.html", {"form": form, "meeting": meeting})


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def supervision_new(request, pk):
    """Book a one-to-one with a buddy (perhaps after a concern, `?concern=`); face to face, it is
    also a meeting the buddy checks in and out of."""
    buddy = get_member_for_coordinator(request, pk, role=Role.BUDDY)
    asked = ConcernChoiceForm(request.GET, buddy=buddy)
    concern = asked.cleaned_data["concern"] if asked.is_valid() else None
    own = own_support_person(buddy)
    form = SupervisionForm(
        request.POST if request.method == "POST" else None,
        buddy=buddy,
        initial={"concern": concern, "support_person": own or request.membership},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.supervision_arrange(
                buddy=buddy,
                mode=data["mode"],
                starts_at=data["planned_start"],
                ends_at=data["planned_end"],
                support_person=data["support_person"],
                venue=data["venue"],
                key_holder=data.get("key_holder"),
                concern=data["concern"],
                by=request.user,
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, f"One-to-one booked. {buddy.user.display_name} is told by email."
            )
            return redirect("buddy_support", pk=buddy.pk)
    return render(
        request,
        "meetings/supervision_form.html",
        {"form": form, "member": buddy, "concern": concern},
    )


# --- The buddy's safety settings: PINs and location sharing -----------------------------------


def _safety_page(request, pins_form=None):
    safety = services.buddy_safety(request.membership)
    return render(
        request,
        "meetings/safety.html",
        {
            "safety": safety,
            "pins_form": pins_form or PinsForm(),
            "location_form": LocationSharingForm(
                initial={"share_location": bool(safety and safety.share_location)}
            ),
            "settings": services.lone_working(request.membership.scheme),
        },
    )


@require_GET
@role_required(Role.BUDDY)
def safety_settings(request):
    return _safety_page(request)


@require_POST
@role_required(Role.BUDDY)
def safety_pins(request):
    form = PinsForm(request.POST)
    if form.is_valid():
        try:
            services.buddy_pins_set(
                membership=request.membership,
                check_out_pin=form.cleaned_data["check_out_pin"],
                duress_pin=form.cleaned_data["duress_pin"],
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Your PINs are saved. Keep them to yourself.")
            return redirect("meetings:safety")
    return _safety_page(request, pins_form=form)


@require_POST
@role_required(Role.BUDDY)
def safety_location(request):
    form = LocationSharingForm(request.POST)
    allowed = form.is_valid() and form.cleaned_data["share_location"]
    services.location_sharing_set(membership=request.membership, allowed=allowed)
    messages.success(
        request,
        "Your phone will send where it is when you ask for help or use your danger PIN."
        if allowed
        else "Your phone will not send where it is.",
    )
    return redirect("meetings:safety")


# --- Replies by text (the SMS provider's webhook) ------------------------------------------------

MESSAGE_ID = re.compile(r"[A-Za-z0-9]{1,58}")


@csrf_exempt  # the provider cannot hold a CSRF token: its signature stands in for it
@require_POST
def sms_reply(request):
    """Twilio posts each text a buddy sends to our number here; we answer in TwiML.

    Signed with the account's auth token over our public address and the posted fields; anything
    unsigned or mis-signed is refused before a number is looked at.
    """
    url = settings.SITE_URL.rstrip("/") + request.get_full_path()
    if not twilio_signature_valid(
        url,
        request.POST,
        request.headers.get("X-Twilio-Signature", ""),
        settings.SMS_AUTH_TOKEN,
    ):
        return HttpResponse(status=403)
    message_id = request.POST.get("MessageSid", "")
    if not MESSAGE_ID.fullmatch(message_id):
        return HttpResponse(status=400)
    answer = services.sms_reply_receive(
        from_number=request.POST.get("From", ""),
        body=request.POST.get("Body", ""),
        message_id=message_id,
    )
    text = sms_reply_build(template=answer.template, scheme=answer.scheme)
    return HttpResponse(
        f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escape(text)}</Message>'
        "</Response>",
        content_type="text/xml; charset=utf-8",
    )


# --- The live board ---------------------------------------------------------------------------


def _board_context(request, resolving=None):
    """`resolving`: an alert's Resolve form posted without an outcome, shown again as typed
    (that page is the poster's own, so it is rendered afresh, never kept)."""
    scheme = request.membership.scheme

    def build() -> str:
        board = selectors.board(scheme)
        now = timezone.now()
        return render_to_string(
            "meetings/_board_live.html",
            {
                "board": board,
                "alerts": [
                    (
                        alert,
                        resolving
                        if resolving and resolving.alert_pk == alert.pk
                        else ResolveForm(),
                    )
                    for alert in board.alerts
                ],
                "updated_at": timezone.localtime(now, scheme.zone),
                "now": now,
                "texts_failing": sms_failing(scheme),
                "safety_net_down": safety_net_status(now).explain(scheme.zone),
                "csrf_token": CSRF_PLACEHOLDER,
            },
        )

    body = build() if resolving else board_body(scheme.pk, build)
    # The reader's own token in the Acknowledge and Resolve forms.
    return {"board_body": mark_safe(body.replace(CSRF_PLACEHOLDER, get_token(request)))}  # noqa: S308


@never_cache
@require_GET
@role_required(Role.COORDINATOR)
def board(request):
    return render(request, "meetings/board.html", _board_context(request))


@never_cache
@require_GET
@role_required(Role.COORDINATOR)
def board_live(request):
    """The part of the board htmx reloads every few seconds: one screenful however many
    meetings the scheme has (see selectors.board)."""
    return HttpResponse(_board_context(request)["board_body"])


@never_cache
@require_GET
@role_required(Role.COORDINATOR)
def board_list(request):
    """Everything behind one of the board's counts, a page at a time."""
    show = request.GET.get("show", "now")
    scheme = request.membership.scheme
    if show == "alerts":
        title, rows = "Open alerts", selectors.open_alerts_list(scheme)
    elif show in selectors.BOARD_LISTS:
        title = selectors.BOARD_LISTS[show][0]
        rows = selectors.board_list(scheme, show)
    else:
        raise Http404
    page = Paginator(rows, selectors.BOARD_LIST_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "meetings/board_list.html",
        {
            "title": title,
            "show": show,
            "page": page,
            "lists": selectors.BOARD_LISTS,
            "now": timezone.now(),
        },
    )


@require_POST
@role_required(Role.COORDINATOR)
def alert_acknowledge(request, pk):
    alert = get_alert_for_user(request, pk)
    services.alert_acknowledge(alert=alert, by=request.user)
    messages.success(
        request, "Acknowledged: escalation has stopped. Resolve it when you know the outcome."
    )
    return redirect("meetings:board")


@require_POST
@role_required(Role.COORDINATOR)
def alert_resolve(request, pk):
    alert = get_alert_for_user(request, pk)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        form.alert_pk = alert.pk
        return render(request, "meetings/board.html", _board_context(request, resolving=form))
    try:
        services.alert_resolve(alert=alert, by=request.user, **form.cleaned_data)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Resolved.")
    return redirect("meetings:board")


# --- The responder page: everyone an alert reached, on their phone ------------------------------


@never_cache
@require_GET
def responder_link(request, token):
    """The link in an alert message. It says which alert and who it was sent to; it never shows
    the page by itself: the person signs in first, and must be the one it was sent to."""
    try:
        alert_id, person_id = read_responder_link(token)
    except signing.SignatureExpired:
        return _link_problem(request, "expired", status=410)
    except signing.BadSignature:
        return _link_problem(request, "invalid", status=404)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if request.user.pk != person_id:
        return _link_problem(request, "someone_else", status=403)
    return redirect("meetings:responder", pk=alert_id)


def _link_problem(request, problem, status):
    return render(
        request,
        "meetings/responder_link_problem.html",
        {"problem": problem, "max_age_hours": round(RESPONDER_LINK_MAX_AGE.total_seconds() / 3600)},
        status=status,
    )


def _responder_page(request, alert, form):
    meeting = alert.meeting
    # The alert's scheme's clock, whichever scheme the responder is acting in.
    with timezone.override(meeting.scheme.zone):
        return render(
            request,
            "meetings/responder.html",
            {
                "alert": alert,
                "meeting": meeting,
                "buddy": meeting.buddy.user,
                "history": selectors.meeting_history(meeting),
                "reached": selectors.alert_recipients(alert),
                "resolve_form": form,
            },
        )


@never_cache
@require_GET
@login_required
def responder(request, pk):
    alert = get_alert_for_responder(request, pk)
    return _responder_page(request, alert, ResolveForm())


@require_POST
@login_required
def responder_acknowledge(request, pk):
    alert = services.alert_acknowledge(alert=get_alert_for_responder(request, pk), by=request.user)
    if alert.resolved_at:
        messages.info(request, "This alert is already resolved: nothing more to do.")
    elif alert.acknowledged_by_id == request.user.pk:
        messages.success(
            request,
            "Acknowledged: escalation has stopped. Resolve it when you know the outcome.",
        )
    else:
        messages.info(
            request,
            f"{alert.acknowledged_by.display_name} acknowledged it first: escalation has stopped.",
        )
    return redirect("meetings:responder", pk=alert.pk)


@require_POST
@login_required
def responder_resolve(request, pk):
    alert = get_alert_for_responder(request, pk)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        return _responder_page(request, alert, form)
    try:
        alert = services.alert_resolve(alert=alert, by=request.user, **form.cleaned_data)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Resolved: {alert.get_outcome_display().lower()}.")
    return redirect("meetings:responder", pk=alert.pk)


# --- Calendar -----------------------------------------------------------------------------------


@require_GET
def calendar_feed(request, token):
    """Neutral titles only ("Appointment"): calendars sync to places we do not control."""
    feed = CalendarFeed.objects.filter(token=token).select_related("membership__scheme").first()
    if feed is None or not feed.membership.is_active:
        raise Http404
    calendar = Calendar()
    calendar.add("prodid", "-//Buddy scheme//appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", feed.membership.scheme.sender_name)
    since = timezone.now() - timedelta(days=30)
    for meeting in Meeting.objects.filter(buddy=feed.membership, planned_start__gte=since):
        event = Event()
        event.add("uid", f"meeting-{meeting.pk}@buddyscheme")
        event.add("summary", "Appointment")
        event.add("dtstart", meeting.planned_start)
        event.add("dtend", meeting.expected_end)
        # A calendar app replaces its copy only when SEQUENCE rises (RFC 5545); a cancelled
        # meeting stays in the feed as CANCELLED so the app takes it off the buddy's calendar.
        event.add("sequence", meeting.sequence)
        event.add("dtstamp", meeting.updated_at)
        event.add("last-modified", meeting.updated_at)
        event.add("status", "CANCELLED" if meeting.state == MeetingState.CANCELLED else "CONFIRMED")
        calendar.add_component(event)
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response


def _today_calendar():
    # Back to Today with the calendar part open at the address the buddy just asked for.
    return redirect(reverse("meetings:today") + "?show=calendar#calendar")


@require_POST
@role_required(Role.BUDDY)
def calendar_address(request):
    services.calendar_feed_create(request.membership, by=request.user)
    messages.success(request, "Your calendar address is ready. Copy it into your calendar app.")
    return _today_calendar()


@require_POST
@role_required(Role.BUDDY)
def calendar_reset(request):
    services.calendar_feed_reset(request.membership, by=request.user)
    messages.success(request, "Your calendar address has changed. The old one no longer works.")
    return _today_calendar()


@require_http_methods(["GET", "POST"])
@role_required(Role.PARTICIPANT)
def meeting_rearrange(request, pk):
    """The participant asks to move a meeting: what happens, then a confirmation."""
    meeting = get_meeting_for_participant(request, pk)
    if request.method == "POST":
        try:
            services.meeting_rearrange_ask(meeting=meeting, by_membership=request.membership)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request, "We have told your coordinator. They will contact you to find a new time."
            )
        return redirect("participant_home")
    return render(
        request,
        "meetings/rearrange.html",
        {
            "meeting": meeting,
            "asked": selectors.rearrange_request_for(meeting, request.membership),
        },
    )
