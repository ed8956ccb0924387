"""Writes for messaging, each in one transaction.

A message's words stay in the database: never in a log, a task's arguments, a URL or a
notification. The notification only says "You have a new message", from the scheme's neutral
sender name, at most once per conversation per 15 minutes while the messages are unread.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from buddyscheme.audit import audit_record
from buddyscheme.errors import DomainError
from buddyscheme.models import Channel, Membership, Role
from buddyscheme.notifications import notification_enqueue

from .models import (
    MESSAGE_MAX_LENGTH,
    Conversation,
    ConversationKind,
    Message,
    MessagingSettings,
    NetworkMember,
    Side,
)
from .selectors import may_message_directly, relay_targets

NOTIFY_AT_MOST_EVERY = timedelta(minutes=15)


def _checked_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise DomainError("Write your message first.")
    if len(text) > MESSAGE_MAX_LENGTH:
        raise DomainError(
            f"A message can be at most {MESSAGE_MAX_LENGTH} characters; this one has {len(text)}."
        )
    return text


def _member_may_write(member: Membership) -> None:
    if member.role not in (Role.BUDDY, Role.PARTICIPANT) or not member.is_active:
        raise DomainError("Only buddies and participants write to the coordinators here.")


def _conversation_open(*, scheme_id: int, kind: str, member: Membership, other=None):
    """The conversation, created the first time (two first messages at once make one)."""
    lookup = {"kind": kind, "member": member, "other": other}
    conversation = Conversation.objects.filter(**lookup).first()
    if conversation is not None:
        return conversation
    try:
        with transaction.atomic():
            return Conversation.objects.create(scheme_id=scheme_id, **lookup)
    except IntegrityError:
        return Conversation.objects.get(**lookup)


def _recipients(conversation: Conversation, side: str) -> list[tuple[object, list[str] | None]]:
    """(user, channels) to tell about a message written to `side`. The coordinators are told
    by email only: they have the inbox and the dashboard, and a text a day is noise."""
    if conversation.kind == ConversationKind.COORDINATORS and side == Side.OTHER:
        coordinators = Membership.objects.filter(
            scheme=conversation.scheme_id, role=Role.COORDINATOR, is_active=True
        ).select_related("user__profile")
        return [(coordinator.user, [Channel.EMAIL]) for coordinator in coordinators]
    person = conversation.member if side == Side.MEMBER else conversation.other
    if person is None or not person.is_active:
        return []
    return [(person.user, None)]


def _notify(conversation: Conversation, message: Message, side: str, now) -> None:
    """Tell `side` there is a new message, unless it was told less than 15 minutes ago and has
    not read since. The conditional UPDATE is the claim: two messages at once notify once."""
    field = f"{side}_notified_at"
    claimed = (
        Conversation.objects.filter(pk=conversation.pk)
        .filter(
            Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lte": now - NOTIFY_AT_MOST_EVERY})
        )
        .update(**{field: now})
    )
    if not claimed:
        return
    path = (
        f"/coordinator/messages/{conversation.pk}/"
        if conversation.kind == ConversationKind.COORDINATORS and side == Side.OTHER
        else "/messages/"
    )
    for user, channels in _recipients(conversation, side):
        notification_enqueue(
            scheme=conversation.scheme,
            template="message_new",
            dedupe_key=f"message_new:{message.pk}",
            recipient=user,
            channels=channels,
            context={"path": path},
            now=now,
        )


def _post(
    conversation: Conversation,
    *,
    sender: Membership,
    side: str,
    text: str,
    form_key: str,
    now,
    relayed_from: Message | None = None,
) -> Message:
    text = _checked_text(text)
    with transaction.atomic():
        if form_key:
            already = Message.objects.filter(sender=sender, form_key=form_key).first()
            if already is not None and already.text == text:
                return already  # a second tap on Send: the message is there once
            if already is not None:
                form_key = ""  # a page kept from before (Back), with new words: a new message
        try:
            with transaction.atomic():
                message = Message.objects.create(
                    conversation=conversation,
                    sender=sender,
                    side=side,
                    text=text,
                    sent_at=now,
                    relayed_from=relayed_from,
                    form_key=form_key,
                )
        except IntegrityError:
            return Message.objects.get(sender=sender, form_key=form_key)
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now)
        conversation.last_message_at = now
        _notify(conversation, message, Side.OTHER if side == Side.MEMBER else Side.MEMBER, now)
    return message


def message_to_coordinators(
    *, member: Membership, text: str, form_key: str = "", now=None
) -> Message:
    """A buddy or participant writes to the scheme's coordinators."""
    now = now or timezone.now()
    _member_may_write(member)
    conversation = _conversation_open(
        scheme_id=member.scheme_id, kind=ConversationKind.COORDINATORS, member=member
    )
    return _post(
        conversation, sender=member, side=Side.MEMBER, text=text, form_key=form_key, now=now
    )


def message_from_coordinator(
    *,
    coordinator: Membership,
    member: Membership,
    text: str,
    form_key: str = "",
    now=None,
    relayed_from: Message | None = None,
) -> Message:
    """A coordinator writes to a buddy or participant of their scheme (a reply, a first
    message, or a relay)."""
    now = now or timezone.now()
    if coordinator.role != Role.COORDINATOR or coordinator.scheme_id != member.scheme_id:
        raise DomainError("Only the scheme's coordinators write here.")
    _member_may_write(member)
    conversation = _conversation_open(
        scheme_id=member.scheme_id, kind=ConversationKind.COORDINATORS, member=member
    )
    return _post(
        conversation,
        sender=coordinator,
        side=Side.OTHER,
        text=text,
        form_key=form_key,
        now=now,
        relayed_from=relayed_from,
    )


def message_to_person(
    *, sender: Membership, recipient: Membership, text: str, form_key: str = "", now=None
) -> Message:
    """A buddy and their matched participant (when the scheme allows it), or two buddies of
    the network, write to each other; the coordinators can read it."""
    now = now or timezone.now()
    kind = may_message_directly(sender, recipient)
    if kind is None:
        raise DomainError("You cannot message this person directly.")
    if kind == ConversationKind.DIRECT:
        member, other = (sender, recipient) if sender.role == Role.BUDDY else (recipient, sender)
    else:
        member, other = sorted((sender, recipient), key=lambda person: person.pk)
    conversation = _conversation_open(
        scheme_id=sender.scheme_id, kind=kind, member=member, other=other
    )
    side = Side.MEMBER if sender.pk == member.pk else Side.OTHER
    return _post(conversation, sender=sender, side=side, text=text, form_key=form_key, now=now)


def message_relay(
    *,
    message: Message,
    coordinator: Membership,
    to: Membership,
    text: str,
    form_key: str = "",
    now=None,
) -> Message:
    """Forward a buddy's message (edited if needed) to the participant of the same match, or a
    participant's to their buddy, as the coordinator. The new message records which one it
    relays; the coordinator and the time are its sender and sent time."""
    now = now or timezone.now()
    if (
        coordinator.role != Role.COORDINATOR
        or coordinator.scheme_id != message.conversation.scheme_id
    ):
        raise DomainError("Only the scheme's coordinators relay messages.")
    if to.pk not in {person.pk for person in relay_targets(message)}:
        raise DomainError("That message can only be relayed to the other person of a match.")
    if form_key:
        already = Message.objects.filter(sender=coordinator, form_key=form_key).first()
        if already is not None:
            return already  # a second tap on Relay: relayed once, audited once
    with transaction.atomic():
        relayed = message_from_coordinator(
            coordinator=coordinator,
            member=to,
            text=text,
            form_key=form_key,
            now=now,
            relayed_from=message,
        )
        audit_record(
            actor=coordinator.user, verb="message_relay", obj=relayed, scheme=coordinator.scheme_id
        )
    return relayed


def conversation_read(*, conversation: Conversation, reader: Membership, now=None) -> int:
    """Mark what was written to `reader`'s side as read; returns how many messages that was."""
    now = now or timezone.now()
    side = conversation.side_of(reader)
    if side is None:
        raise DomainError("This conversation is not yours.")
    with transaction.atomic():
        read = (
            conversation.messages.filter(read_at__isnull=True)
            .exclude(side=side)
            .update(read_at=now, read_by=reader)
        )
        if read:
            Conversation.objects.filter(pk=conversation.pk).update(**{f"{side}_notified_at": None})
    return read


# --- The buddy network ------------------------------------------------------------------------


def network_join(*, buddy: Membership, now=None) -> NetworkMember:
    if buddy.role != Role.BUDDY or not buddy.is_active:
        raise DomainError("Only buddies can join the buddy network.")
    member, _ = NetworkMember.objects.get_or_create(
        membership=buddy, defaults={"joined_at": now or timezone.now()}
    )
    return member


def network_leave(*, buddy: Membership) -> bool:
    """Out of the network at once: nobody sees them, and network conversations close."""
    deleted, _ = NetworkMember.objects.filter(membership=buddy).delete()
    return bool(deleted)


# --- Settings -------------------------------------------------------------------------------------


def messaging_settings_update(*, scheme, by, direct_messages: bool) -> MessagingSettings:
    with transaction.atomic():
        config, _ = MessagingSettings.objects.select_for_update().get_or_create(scheme=scheme)
        config.direct_messages = direct_messages
        config.save(update_fields=["direct_messages", "updated_at"])
        audit_record(actor=by, verb="messaging_settings_update", obj=config, scheme=scheme)
    return config
