"""Messages through the scheme. Thin: authorise through one access helper, call one service,
then redirect, or show the page again with the form as typed."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from buddyscheme.access import get_member_for_coordinator, get_scheme_for_coordinator, role_required
from buddyscheme.errors import DomainError
from buddyscheme.models import Role

from . import selectors, services
from .access import (
    get_conversation_for_coordinator,
    get_member_to_message,
    get_message_for_coordinator,
)
from .forms import InboxFilterForm, MessageForm, MessagingSettingsForm, RelayForm
from .models import ConversationKind, Side

MEMBERS = (Role.BUDDY, Role.PARTICIPANT)
SENT = "Sent. You will see the reply here."


def _thread(conversation, side) -> list:
    """The conversation's messages, oldest first, each marked `mine` when written by `side`."""
    if conversation is None:
        return []
    thread = list(selectors.messages_in(conversation))
    for message in thread:
        message.mine = message.side == side
    return thread


def _send(request, form, send, success_url):
    """Call `send(text, form_key)` for a valid form; on a rule's refusal keep what was typed."""
    if form.is_valid():
        try:
            send(form.cleaned_data["text"], form.cleaned_data["form_key"])
        except DomainError as error:
            form.add_error("text", str(error))
        else:
            messages.success(request, SENT)
            return redirect(success_url)
    return None


# --- A buddy's or participant's side ----------------------------------------------------------


@require_GET
@role_required(*MEMBERS)
def my_messages(request):
    member = request.membership
    rows = selectors.conversations_for_member(member)
    talking_to = {row.url_arg for row in rows if row.url_arg}
    return render(
        request,
        "messaging/my_messages.html",
        {
            "rows": rows,
            "contacts": [
                person
                for person in selectors.direct_contacts_for(member)
                if person.pk not in talking_to
            ],
            "in_network": selectors.in_network(member),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(*MEMBERS)
def with_coordinators(request):
    member = request.membership
    form = MessageForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        done = _send(
            request,
            form,
            lambda text, key: services.message_to_coordinators(
                member=member, text=text, form_key=key
            ),
            "messaging:coordinators",
        )
        if done:
            return done
    conversation = selectors.conversation_with_coordinators(member)
    if conversation is not None and request.method == "GET":
        services.conversation_read(conversation=conversation, reader=member)
    return render(
        request,
        "messaging/thread.html",
        {
            "title": "Messages with your coordinators",
            "conversation": conversation,
            "thread": _thread(conversation, Side.MEMBER),
            "form": form,
            "intro": "Your coordinators read these messages and reply in office hours. "
            "In an emergency call 999.",
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(*MEMBERS)
def with_person(request, pk):
    member = request.membership
    person = get_member_to_message(request, pk)
    form = MessageForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        done = _send(
            request,
            form,
            lambda text, key: services.message_to_person(
                sender=member, recipient=person, text=text, form_key=key
            ),
            request.path,
        )
        if done:
            return done
    conversation = selectors.conversation_between(member, person)
    if conversation is not None and request.method == "GET":
        services.conversation_read(conversation=conversation, reader=member)
    return render(
        request,
        "messaging/thread.html",
        {
            "title": f"Messages with {person.user.display_name}",
            "conversation": conversation,
            "thread": _thread(conversation, conversation.side_of(member) if conversation else None),
            "form": form,
            "intro": "Your coordinators can read these messages. Keep phone numbers, "
            "addresses and other private details out of them.",
        },
    )


@require_GET
@role_required(Role.BUDDY)
def network(request):
    buddy = request.membership
    return render(
        request,
        "messaging/network.html",
        {"joined": selectors.in_network(buddy), "buddies": selectors.network_buddies(buddy)},
    )


@require_POST
@role_required(Role.BUDDY)
def network_join(request):
    try:
        services.network_join(buddy=request.membership)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "You are in the buddy network. Other buddies in it can see you.")
    return redirect("messaging:network")


@require_POST
@role_required(Role.BUDDY)
def network_leave(request):
    services.network_leave(buddy=request.membership)
    messages.success(request, "You have left the buddy network. Nobody in it can see you now.")
    return redirect("messaging:network")


# --- The coordinators' side -------------------------------------------------------------------


@require_GET
@role_required(Role.COORDINATOR)
def inbox(request):
    form = InboxFilterForm(request.GET or None)
    show = form.cleaned_data["show"] if form.is_valid() else ""
    return render(
        request,
        "messaging/inbox.html",
        {
            "form": form,
            "show": show,
            "conversations": selectors.inbox_for_coordinator(request.membership.scheme, show),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def conversation(request, pk):
    coordinator = request.membership
    conversation = get_conversation_for_coordinator(request, pk)
    may_reply = conversation.kind == ConversationKind.COORDINATORS
    if request.method == "POST" and not may_reply:
        raise PermissionDenied(
            "Coordinators read conversations between members; they do not write in them."
        )
    form = MessageForm(request.POST if request.method == "POST" else None, label="Your reply")
    if request.method == "POST":
        done = _send(
            request,
            form,
            lambda text, key: services.message_from_coordinator(
                coordinator=coordinator, member=conversation.member, text=text, form_key=key
            ),
            request.path,
        )
        if done:
            return done
    if may_reply and request.method == "GET":
        services.conversation_read(conversation=conversation, reader=coordinator)
    thread = _thread(conversation, Side.OTHER if may_reply else None)
    return render(
        request,
        "messaging/coordinator_thread.html",
        {
            "conversation": conversation,
            "thread": thread,
            "form": form if may_reply else None,
            "may_relay": may_reply
            and bool(selectors.relay_targets_for_member(conversation.member)),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def start(request, pk):
    """A coordinator's first message to a buddy or participant."""
    member = get_member_for_coordinator(request, pk)
    if member.role not in MEMBERS:
        raise PermissionDenied("Messages go to buddies and participants.")
    existing = selectors.conversation_with_coordinators(member)
    if existing is not None and request.method == "GET":
        return redirect("messaging:conversation", pk=existing.pk)
    form = MessageForm(request.POST if request.method == "POST" else None, label="Your message")
    if request.method == "POST" and form.is_valid():
        try:
            message = services.message_from_coordinator(
                coordinator=request.membership,
                member=member,
                text=form.cleaned_data["text"],
                form_key=form.cleaned_data["form_key"],
            )
        except DomainError as error:
            form.add_error("text", str(error))
        else:
            messages.success(request, "Sent.")
            return redirect("messaging:conversation", pk=message.conversation_id)
    return render(request, "messaging/start.html", {"member": member, "form": form})


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def relay(request, pk):
    message = get_message_for_coordinator(request, pk)
    targets = selectors.relay_targets(message)
    if not targets:
        messages.error(request, "This message can only be relayed to the other person of a match.")
        return redirect("messaging:conversation", pk=message.conversation_id)
    form = RelayForm(
        request.POST if request.method == "POST" else None,
        targets=targets,
        initial={"text": message.text, "to": targets[0].pk},
    )
    if request.method == "POST" and form.is_valid():
        try:
            relayed = services.message_relay(
                message=message,
                coordinator=request.membership,
                to=form.cleaned_data["to"],
                text=form.cleaned_data["text"],
                form_key=form.cleaned_data["form_key"],
            )
        except DomainError as error:
            form.add_error("text", str(error))
        else:
            messages.success(request, "Relayed. It is in their conversation as from you.")
            return redirect("messaging:conversation", pk=relayed.conversation_id)
    return render(request, "messaging/relay.html", {"message": message, "form": form})


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def settings_messages(request):
    scheme = get_scheme_for_coordinator(request)
    config = selectors.messaging_settings_to_read(scheme)
    form = MessagingSettingsForm(
        request.POST if request.method == "POST" else None,
        initial={"direct_messages": config.direct_messages},
    )
    if request.method == "POST" and form.is_valid():
        services.messaging_settings_update(
            scheme=scheme, by=request.user, direct_messages=form.cleaned_data["direct_messages"]
        )
        messages.success(request, "Saved.")
        return redirect("messaging:settings")
    return render(request, "messaging/settings.html", {"form": form})
