"""The buddy's Today page and its safety buttons, booking, the live board, calendar feeds."""

import re
import uuid
from datetime import timedelta
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from icalendar import Calendar, Event

from buddyscheme.access import role_required
from buddyscheme.channels import twilio_signature_valid
from buddyscheme.emails import sms_reply_build
from buddyscheme.errors import DomainError
from buddyscheme.models import Role

from . import selectors, services
from .access import get_alert_for_user, get_meeting_for_user
from .forms import LocationSharingForm, MeetingForm, PinsForm, ResolveForm
from .models import CalendarFeed, Meeting, MeetingState


def _key():
    """A fresh idempotency key per rendered button: a retried post repeats it, a new press does not."""
    return uuid.uuid4().hex


@require_GET
@role_required(Role.BUDDY)
def today(request):
    meetings = selectors.meetings_for_buddy_today(request.membership)
    feed, _ = CalendarFeed.objects.get_or_create(membership=request.membership)
    return render(
        request,
        "meetings/today.html",
        {
            "cards": [(meeting, _key()) for meeting in meetings],
            "extensions": services.EXTENSIONS,
            "check_out": services.check_out_options(request.membership),
            "feed_url": request.build_absolute_uri(reverse("meetings:calendar", args=[feed.token])),
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


@require_POST
@role_required(Role.BUDDY, Role.COORDINATOR)
def meeting_action(request, pk, action):
    meeting = get_meeting_for_user(request, pk)
    if request.membership.role == Role.COORDINATOR and meeting.buddy.user_id != request.user.pk:
        raise Http404  # the buttons are the buddy's own; coordinators use the board
    key = request.POST.get("key", "")
    try:
        if action in ACTIONS:
            service, done = ACTIONS[action]
            extra = (
                {
                    "pin": request.POST.get("pin", ""),
                    "position": services.position_from(request.POST),
                }
                if action == "check-out"
                else {}
            )
            service(meeting=meeting, key=key, by=request.user, **extra)
        elif action == "extend":
            minutes = int(request.POST.get("minutes", "0") or 0)
            meeting = services.meeting_extend(
                meeting=meeting, minutes=minutes, key=key, by=request.user
            )
            done = f"Done. We now expect you to finish by {timezone.localtime(meeting.expected_end, meeting.scheme.zone):%H:%M}."
            latest = services.last_response_needed(
                meeting, meeting.expected_end, services.lone_working(meeting.scheme), timedelta(0)
            )
            if services.cover_ends_before(meeting.scheme, timezone.now(), latest):
                messages.warning(
                    request,
                    "Nobody from the team is on call for all of that time. If you feel unsafe, "
                    "leave and call 999.",
                )
        else:
            raise Http404
    except (DomainError, ValueError) as error:
        messages.error(
            request,
            str(error) if isinstance(error, DomainError) else "Choose 15, 30 or 60 minutes.",
        )
    else:
        messages.success(request, done)
    return redirect("meetings:today")


@require_http_methods(["GET", "POST"])
@role_required(Role.BUDDY)
def meeting_help(request, pk):
    """A confirm step, then the top-level alert at once (with where the phone is, if the buddy
    allowed it and the phone could tell in time)."""
    meeting = get_meeting_for_user(request, pk)
    if request.method == "POST":
        try:
            alert = services.meeting_help(
                meeting=meeting, key=request.POST.get("key", ""), by=request.user
            )
        except DomainError as error:
            messages.error(request, str(error))
            return redirect("meetings:today")
        services.alert_location_record(alert=alert, position=services.position_from(request.POST))
        return render(request, "meetings/help_sent.html", {"meeting": meeting})
    return render(
        request,
        "meetings/help_confirm.html",
        {
            "meeting": meeting,
            "key": _key(),
            "share_location": services.location_sharing_allowed(meeting.buddy),
        },
    )


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


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def meeting_edit(request, pk):
    meeting = get_meeting_for_user(request, pk)
    zone = meeting.scheme.zone
    local_start, local_end = (
        timezone.localtime(meeting.planned_start, zone),
        timezone.localtime(meeting.planned_end, zone),
    )
    initial = {
        "buddy": meeting.buddy,
        "match": meeting.match,
        "venue": meeting.venue,
        "day": local_start.date(),
        "start": local_start.time(),
        "end": local_end.time(),
        "purpose": meeting.purpose,
    }
    form = MeetingForm(request.POST or None, scheme=meeting.scheme, initial=initial)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "cancel":
                services.meeting_cancel(meeting=meeting, by=request.user)
                messages.success(request, "Meeting cancelled.")
                return redirect("meetings:list")
            if form.is_valid():
                data = form.cleaned_data
                services.meeting_reschedule(
                    meeting=meeting,
                    venue=data["venue"],
                    planned_start=data["planned_start"],
                    planned_end=data["planned_end"],
                    purpose=data["purpose"],
                    by=request.user,
                )
                messages.success(request, "Meeting changed.")
                return redirect("meetings:list")
        except DomainError as error:
            form.add_error(None, str(error))
    return render(request, "meetings/meeting_form.html", {"form": form, "meeting": meeting})


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


def _board_context(request):
    scheme = request.membership.scheme
    return {
        "in_progress": selectors.meetings_in_progress(scheme),
        "alerts": selectors.open_alerts(scheme),
        "resolve_form": ResolveForm(),
        "updated_at": timezone.localtime(timezone.now(), scheme.zone),
    }


@never_cache
@require_GET
@role_required(Role.COORDINATOR)
def board(request):
    return render(request, "meetings/board.html", _board_context(request))


@never_cache
@require_GET
@role_required(Role.COORDINATOR)
def board_live(request):
    """The part of the board htmx reloads every few seconds."""
    return render(request, "meetings/_board_live.html", _board_context(request))


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
        messages.error(request, "Choose what happened: safe, incident or false alarm.")
        return redirect("meetings:board")
    try:
        services.alert_resolve(alert=alert, by=request.user, **form.cleaned_data)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Resolved.")
    return redirect("meetings:board")


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
    for meeting in Meeting.objects.filter(buddy=feed.membership, planned_start__gte=since).exclude(
        state=MeetingState.CANCELLED
    ):
        event = Event()
        event.add("uid", f"meeting-{meeting.pk}@buddyscheme")
        event.add("summary", "Appointment")
        event.add("dtstart", meeting.planned_start)
        event.add("dtend", meeting.expected_end)
        event.add("dtstamp", meeting.created_at)
        calendar.add_component(event)
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@role_required(Role.BUDDY)
def calendar_reset(request):
    CalendarFeed.objects.filter(membership=request.membership).delete()
    CalendarFeed.objects.create(membership=request.membership)
    messages.success(request, "Your calendar address has changed. The old one no longer works.")
    return redirect("meetings:today")
