"""Messages through the scheme (issue 16): sending, read state per side, relaying between
the two people of a match, the direct-messages setting, batched discreet notifications and
the buddy network's opt-in."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from buddyscheme.errors import DomainError
from buddyscheme.models import AuditEvent, Notification
from matching.models import Match
from messaging.models import MESSAGE_MAX_LENGTH, Conversation, Message, Side
from messaging.selectors import (
    conversations_for_member,
    inbox_for_coordinator,
    network_buddies,
    relay_targets,
    unread_count_for_member,
    unread_for_coordinators,
)
from messaging.services import (
    conversation_read,
    message_from_coordinator,
    message_relay,
    message_to_coordinators,
    message_to_person,
    messaging_settings_update,
    network_join,
    network_leave,
)

pytestmark = pytest.mark.django_db

PRIVATE = "Grace told me about her new medication and it worries me."


def test_a_buddy_writes_to_the_coordinators_and_any_of_them_reads_and_replies(people):
    buddy, sunita, omar = people["buddy"], people["coordinator"], people["second_coordinator"]
    sent = message_to_coordinators(member=buddy, text=f"  {PRIVATE}  ")
    assert sent.text == PRIVATE
    assert sent.side == Side.MEMBER
    assert unread_for_coordinators(people["scheme"]) == 1
    [row] = inbox_for_coordinator(people["scheme"])
    assert row.unread == 1

    assert conversation_read(conversation=sent.conversation, reader=omar) == 1
    sent.refresh_from_db()
    assert sent.read_at is not None and sent.read_by == omar
    assert unread_for_coordinators(people["scheme"]) == 0

    reply = message_from_coordinator(coordinator=sunita, member=buddy, text="Thanks, call me.")
    assert reply.conversation == sent.conversation
    assert unread_count_for_member(buddy) == 1
    conversation_read(conversation=reply.conversation, reader=buddy)
    assert unread_count_for_member(buddy) == 0
    # The buddy reading the reply does not mark their own message unread or read again.
    sent.refresh_from_db()
    assert sent.read_by == omar


def test_empty_and_too_long_messages_are_refused(people):
    with pytest.raises(DomainError, match="Write your message"):
        message_to_coordinators(member=people["buddy"], text="   ")
    with pytest.raises(DomainError, match=f"at most {MESSAGE_MAX_LENGTH}"):
        message_to_coordinators(member=people["buddy"], text="x" * (MESSAGE_MAX_LENGTH + 1))
    assert not Message.objects.exists()


def test_a_second_tap_on_send_records_the_message_once(people):
    first = message_to_coordinators(member=people["buddy"], text="Hello", form_key="abc")
    again = message_to_coordinators(member=people["buddy"], text="Hello", form_key="abc")
    assert first == again
    assert Message.objects.count() == 1
    # The same page kept (Back) and used for new words: that is a new message, not a repeat.
    other = message_to_coordinators(member=people["buddy"], text="Something else", form_key="abc")
    assert other != first and Message.objects.count() == 2
    Message.objects.filter(pk=other.pk).delete()
    assert Notification.objects.filter(template="message_new").count() == 2  # two coordinators


def test_only_the_schemes_coordinators_write_as_coordinators(people):
    with pytest.raises(DomainError):
        message_from_coordinator(
            coordinator=people["other_coordinator"], member=people["buddy"], text="Hi"
        )
    with pytest.raises(DomainError):
        message_from_coordinator(
            coordinator=people["second_buddy"], member=people["buddy"], text="Hi"
        )
    with pytest.raises(DomainError):
        message_to_coordinators(member=people["coordinator"], text="Hi")


def test_the_notification_is_discreet_and_never_carries_the_text(people, caplog):
    caplog.set_level(logging.DEBUG)
    message_from_coordinator(
        coordinator=people["coordinator"], member=people["participant"], text=PRIVATE
    )
    [notification] = Notification.objects.filter(template="message_new")
    assert notification.recipient == people["participant"].user
    assert notification.context == {"path": "/messages/"}
    assert PRIVATE not in str(notification.context) and PRIVATE not in notification.dedupe_key
    assert "medication" not in caplog.text
    from buddyscheme.emails import email_build, sms_build

    email = email_build(
        template="message_new", context={"path": "/messages/"}, scheme=people["scheme"], to="x@y.z"
    )
    assert email.subject == "You have a new message"
    assert "Appointments" in email.from_email and "medication" not in email.body
    text = sms_build(
        template="message_new", context={"path": "/messages/"}, scheme=people["scheme"]
    )
    assert text.startswith("Appointments: You have a new message.") and len(text) <= 160


def test_notifications_are_batched_per_conversation_every_15_minutes_while_unread(people):
    buddy, coordinator = people["buddy"], people["coordinator"]

    def told():
        return Notification.objects.filter(template="message_new", recipient=buddy.user).count()

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        message_from_coordinator(coordinator=coordinator, member=buddy, text="One")
        assert told() == 1
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        message_from_coordinator(coordinator=coordinator, member=buddy, text="Two")
        assert told() == 1  # still unread, told 10 minutes ago
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        message_from_coordinator(coordinator=coordinator, member=buddy, text="Three")
        assert told() == 2  # 15 minutes on, and still unread: told again
        conversation_read(conversation=Conversation.objects.get(member=buddy), reader=buddy)
    with time_machine.travel(start + timedelta(minutes=17), tick=False):
        message_from_coordinator(coordinator=coordinator, member=buddy, text="Four")
        assert told() == 3  # they read everything since: a new message is news again
    # The coordinators' side is batched on its own.
    with time_machine.travel(start + timedelta(minutes=18), tick=False):
        message_to_coordinators(member=buddy, text="Reply")
        message_to_coordinators(member=buddy, text="And another")
    coordinator_emails = Notification.objects.filter(
        template="message_new", recipient=coordinator.user
    )
    assert [n.channel for n in coordinator_emails] == ["email"]


def test_a_coordinator_relays_a_buddys_message_edited_to_the_participant(people):
    buddy, participant, coordinator = people["buddy"], people["participant"], people["coordinator"]
    original = message_to_coordinators(member=buddy, text=f"Please tell Grace: {PRIVATE}")
    assert relay_targets(original) == [participant]
    relayed = message_relay(
        message=original,
        coordinator=coordinator,
        to=participant,
        text="Sam is running ten minutes late on Thursday.",
        form_key="k1",
    )
    assert relayed.conversation.member == participant
    assert relayed.relayed_from == original and relayed.sender == coordinator
    assert relayed.text == "Sam is running ten minutes late on Thursday."
    assert AuditEvent.objects.filter(verb="message_relay", object_id=relayed.pk).count() == 1
    # Pressed twice: relayed and audited once.
    message_relay(
        message=original, coordinator=coordinator, to=participant, text="x", form_key="k1"
    )
    assert Message.objects.filter(relayed_from=original).count() == 1
    assert AuditEvent.objects.filter(verb="message_relay").count() == 1
    # And the other way round.
    answer = message_to_coordinators(member=participant, text="Thank you")
    assert relay_targets(answer) == [buddy]


def test_relaying_goes_only_to_the_other_person_of_a_match(people):
    original = message_to_coordinators(member=people["buddy"], text="Hello")
    with pytest.raises(DomainError, match="other person of a match"):
        message_relay(
            message=original,
            coordinator=people["coordinator"],
            to=people["second_participant"],
            text="Hello",
        )
    with pytest.raises(DomainError):
        message_relay(
            message=original,
            coordinator=people["other_coordinator"],
            to=people["participant"],
            text="Hello",
        )
    # A coordinator's own message is not relayed, nor a match that has ended.
    own = message_from_coordinator(
        coordinator=people["coordinator"], member=people["buddy"], text="Hi"
    )
    assert relay_targets(own) == []
    Match.objects.filter(pk=people["match"].pk).update(state="ended")
    assert relay_targets(original) == []


def test_direct_messages_need_the_setting_and_an_active_match(people):
    buddy, participant, scheme = people["buddy"], people["participant"], people["scheme"]
    with pytest.raises(DomainError, match="cannot message this person"):
        message_to_person(sender=buddy, recipient=participant, text="Hi Grace")
    messaging_settings_update(scheme=scheme, by=people["coordinator"].user, direct_messages=True)
    sent = message_to_person(sender=buddy, recipient=participant, text="Hi Grace")
    reply = message_to_person(sender=participant, recipient=buddy, text="Hi Sam")
    assert sent.conversation == reply.conversation
    assert sent.conversation.member == buddy and sent.conversation.other == participant
    assert unread_count_for_member(participant) == 1
    # Not with someone they are not matched with.
    with pytest.raises(DomainError):
        message_to_person(sender=buddy, recipient=people["second_participant"], text="Hi")
    # The coordinators can read it (in the inbox), though it is not theirs to answer.
    assert sent.conversation in inbox_for_coordinator(scheme, "between")
    assert unread_for_coordinators(scheme) == 0
    # The match ends: the conversation closes for both.
    Match.objects.filter(pk=people["match"].pk).update(state="ended")
    with pytest.raises(DomainError):
        message_to_person(sender=participant, recipient=buddy, text="Still there?")
    assert [row.title for row in conversations_for_member(participant)] == ["Your coordinators"]
    # The setting off closes it too.
    Match.objects.filter(pk=people["match"].pk).update(state="active")
    assert len(conversations_for_member(participant)) == 2
    messaging_settings_update(scheme=scheme, by=None, direct_messages=False)
    assert len(conversations_for_member(participant)) == 1


def test_buddies_see_each_other_in_the_network_only_once_both_opt_in(people):
    sam, priya, scheme_b_buddy = people["buddy"], people["second_buddy"], people["other_buddy"]
    assert network_buddies(sam) == []
    network_join(buddy=sam)
    assert network_buddies(sam) == []  # Priya has not joined
    network_join(buddy=priya)
    network_join(buddy=scheme_b_buddy)
    assert network_buddies(sam) == [priya]
    assert [p.match_profile.interests for p in network_buddies(sam)] == [["cooking", "walking"]]
    message = message_to_person(sender=sam, recipient=priya, text="Fancy a coffee?")
    assert message.conversation.kind == "network"
    with pytest.raises(DomainError):
        message_to_person(sender=sam, recipient=scheme_b_buddy, text="Hi")
    # Opting out hides them at once, and their conversations close.
    network_leave(buddy=priya)
    assert network_buddies(sam) == []
    assert [row.title for row in conversations_for_member(sam)] == ["Your coordinators"]
    with pytest.raises(DomainError):
        message_to_person(sender=sam, recipient=priya, text="Still there?")


def test_participants_never_join_the_network_nor_reach_other_participants(people):
    with pytest.raises(DomainError):
        network_join(buddy=people["participant"])
    assert network_buddies(people["participant"]) == []
    messaging_settings_update(scheme=people["scheme"], by=None, direct_messages=True)
    with pytest.raises(DomainError):
        message_to_person(
            sender=people["participant"], recipient=people["second_participant"], text="Hi"
        )
