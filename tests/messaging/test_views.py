"""The messaging pages: a buddy or participant and the coordinators, the inbox, relaying,
the setting and the buddy network, seen by each role."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from buddyscheme.models import AuditEvent, Notification, Role
from messaging.models import Conversation, Message, MessagingSettings
from messaging.services import (
    message_from_coordinator,
    message_to_coordinators,
    message_to_person,
    messaging_settings_update,
    network_join,
)

from ..factories import MembershipFactory
from .conftest import client_for

pytestmark = pytest.mark.django_db


def test_a_buddy_sends_the_coordinator_replies_and_the_buddy_sees_the_reply(people):
    buddy, coordinator = people["buddy"], people["coordinator"]
    as_buddy = client_for(buddy)
    page = as_buddy.get("/messages/coordinators/")
    assert page.status_code == 200
    key = page.context["form"].initial["form_key"]
    response = as_buddy.post(
        "/messages/coordinators/", {"text": "Can we talk about Thursday?", "form_key": key}
    )
    assert response.status_code == 302
    # A double tap sends the same key: still one message.
    as_buddy.post(
        "/messages/coordinators/", {"text": "Can we talk about Thursday?", "form_key": key}
    )
    [message] = Message.objects.all()
    assert "Thursday" not in response["Location"]

    as_coordinator = client_for(coordinator)
    inbox = as_coordinator.get("/coordinator/messages/")
    assert [c.unread for c in inbox.context["conversations"]] == [1]
    dashboard = as_coordinator.get("/coordinator/")
    assert b"1 unread message" in dashboard.content
    thread = as_coordinator.get(f"/coordinator/messages/{message.conversation_id}/")
    assert b"Can we talk about Thursday?" in thread.content
    message.refresh_from_db()
    assert message.read_by == coordinator
    reply_key = thread.context["form"].initial["form_key"]
    as_coordinator.post(
        f"/coordinator/messages/{message.conversation_id}/",
        {"text": "Yes, I will ring at 2.", "form_key": reply_key},
    )
    assert client_for(buddy).get("/today/").context["home_cards"]
    mine = as_buddy.get("/messages/")
    assert [row.unread for row in mine.context["rows"]] == [1]
    page = as_buddy.get("/messages/coordinators/")
    assert b"Yes, I will ring at 2." in page.content
    assert b"Read " in page.content  # their own message shows it was read


def test_bad_input_keeps_what_was_typed(people):
    as_buddy = client_for(people["buddy"])
    too_long = "a" * 2001
    response = as_buddy.post("/messages/coordinators/", {"text": too_long, "form_key": "k"})
    assert response.status_code == 200
    assert too_long.encode() in response.content
    assert response.context["form"].errors
    empty = as_buddy.post("/messages/coordinators/", {"text": "", "form_key": "k"})
    assert b"Write your message first." in empty.content
    assert not Message.objects.exists()


def test_the_home_pages_show_unread_counts(people):
    message_from_coordinator(
        coordinator=people["coordinator"], member=people["participant"], text="Hello"
    )
    home = client_for(people["participant"]).get("/me/")
    assert b"1</span> new message" in home.content
    today = client_for(people["buddy"]).get("/today/")
    assert b"No new messages." in today.content


def test_another_schemes_coordinator_is_told_nothing_exists(people):
    message = message_to_coordinators(member=people["buddy"], text="Hello")
    stranger = client_for(people["other_coordinator"])
    assert stranger.get(f"/coordinator/messages/{message.conversation_id}/").status_code == 404
    assert stranger.get(f"/coordinator/messages/relay/{message.pk}/").status_code == 404
    assert stranger.get(f"/coordinator/messages/new/{people['buddy'].pk}/").status_code == 404
    assert stranger.get("/coordinator/messages/").context["conversations"] == []
    assert (
        client_for(people["buddy"])
        .get(f"/coordinator/messages/{message.conversation_id}/")
        .status_code
        == 403
    )


def test_the_coordinator_relays_an_edited_message_to_the_participant(people):
    buddy, participant, coordinator = people["buddy"], people["participant"], people["coordinator"]
    original = message_to_coordinators(
        member=buddy, text="Tell Grace I am late. My number is 07700 900123."
    )
    as_coordinator = client_for(coordinator)
    thread = as_coordinator.get(f"/coordinator/messages/{original.conversation_id}/")
    assert f"/coordinator/messages/relay/{original.pk}/".encode() in thread.content
    form = as_coordinator.get(f"/coordinator/messages/relay/{original.pk}/").context["form"]
    assert form.initial["text"] == original.text
    response = as_coordinator.post(
        f"/coordinator/messages/relay/{original.pk}/",
        {"to": participant.pk, "text": "Sam is running late.", "form_key": "r1"},
    )
    relayed = Message.objects.get(relayed_from=original)
    assert response["Location"] == f"/coordinator/messages/{relayed.conversation_id}/"
    assert relayed.conversation.member == participant
    assert AuditEvent.objects.filter(verb="message_relay", object_id=relayed.pk).exists()
    seen = client_for(participant).get("/messages/coordinators/")
    assert b"Sam is running late." in seen.content
    assert b"07700" not in seen.content
    assert b"passed on by the coordinator" in seen.content
    # Someone outside the match is refused, keeping what was typed.
    refused = as_coordinator.post(
        f"/coordinator/messages/relay/{original.pk}/",
        {"to": people["second_participant"].pk, "text": "Typed", "form_key": "r2"},
    )
    assert refused.status_code == 200 and b"Typed" in refused.content


def test_direct_messages_follow_the_scheme_setting(people):
    buddy, participant, coordinator = people["buddy"], people["participant"], people["coordinator"]
    as_buddy = client_for(buddy)
    assert as_buddy.get(f"/messages/with/{participant.pk}/").status_code == 404
    as_coordinator = client_for(coordinator)
    settings_page = as_coordinator.get("/coordinator/settings/messages/")
    assert settings_page.status_code == 200
    assert b"Messages" in as_coordinator.get("/coordinator/settings/").content
    as_coordinator.post("/coordinator/settings/messages/", {"direct_messages": "on"})
    assert MessagingSettings.objects.get(scheme=people["scheme"]).direct_messages
    assert b"Message Grace" in as_buddy.get("/messages/").content
    as_buddy.post(
        f"/messages/with/{participant.pk}/", {"text": "See you Thursday", "form_key": "d"}
    )
    conversation = Conversation.objects.get(kind="direct")
    as_participant = client_for(participant)
    assert b"See you Thursday" in as_participant.get(f"/messages/with/{buddy.pk}/").content
    # Coordinators read it, but do not write in it.
    page = as_coordinator.get(f"/coordinator/messages/{conversation.pk}/")
    assert b"See you Thursday" in page.content and page.context["form"] is None
    assert (
        as_coordinator.post(f"/coordinator/messages/{conversation.pk}/", {"text": "x"}).status_code
        == 403
    )
    # A participant never reaches another participant, nor a buddy they are not matched with.
    assert (
        as_participant.get(f"/messages/with/{people['second_participant'].pk}/").status_code == 404
    )
    assert as_participant.get(f"/messages/with/{people['second_buddy'].pk}/").status_code == 404
    as_coordinator.post("/coordinator/settings/messages/", {})
    assert as_buddy.get(f"/messages/with/{participant.pk}/").status_code == 404


def test_the_buddy_network_shows_first_names_interests_and_languages_only(people):
    sam, priya = people["buddy"], people["second_buddy"]
    priya.user.last_name = "Shah"
    priya.user.save()
    priya.user.profile.phone = "07700 900456"
    priya.user.profile.save()
    network_join(buddy=priya)
    as_sam = client_for(sam)
    assert b'href="/network/"' in as_sam.get("/support/").content
    page = as_sam.get("/network/")
    assert b"Join the buddy network" in page.content and b"Priya" not in page.content
    as_sam.post("/network/join/")
    page = as_sam.get("/network/")
    assert b"Priya" in page.content and b"cooking, walking" in page.content
    assert b"Gujarati" in page.content
    for private in (b"Shah", b"07700", priya.user.email.encode()):
        assert private not in page.content
    as_sam.post(f"/messages/with/{priya.pk}/", {"text": "Coffee?", "form_key": "n"})
    # Messages with participants never show in the network.
    message_to_coordinators(member=people["participant"], text="Participant's words")
    messaging_settings_update(scheme=people["scheme"], by=None, direct_messages=True)
    message_to_person(sender=people["participant"], recipient=sam, text="From Grace")
    assert b"From Grace" not in as_sam.get("/network/").content
    assert b"Participant" not in as_sam.get("/network/").content
    # Priya leaves: Sam no longer sees her, or their conversation.
    client_for(priya).post("/network/leave/")
    assert b"Priya" not in as_sam.get("/network/").content
    assert as_sam.get(f"/messages/with/{priya.pk}/").status_code == 404
    # Participants have no network page.
    assert client_for(people["participant"]).get("/network/").status_code == 403


def test_the_inbox_puts_unread_first_filters_and_stays_flat(people):
    scheme, coordinator = people["scheme"], people["coordinator"]
    read_one = message_to_coordinators(member=people["participant"], text="Old")
    as_coordinator = client_for(coordinator)
    as_coordinator.get(f"/coordinator/messages/{read_one.conversation_id}/")
    unread = message_to_coordinators(member=people["buddy"], text="New")
    message_from_coordinator(coordinator=coordinator, member=people["participant"], text="Later")

    def listed(query=""):
        with CaptureQueriesContext(connection) as queries:
            response = as_coordinator.get(f"/coordinator/messages/{query}")
        return [c.pk for c in response.context["conversations"]], len(queries)

    order, few = listed()
    assert order == [unread.conversation_id, read_one.conversation_id]
    assert listed("?show=unread")[0] == [unread.conversation_id]
    assert listed("?show=participants")[0] == [read_one.conversation_id]
    assert listed("?show=buddies")[0] == [unread.conversation_id]
    assert listed("?show=nonsense")[0] == order
    for _ in range(5):
        message_to_coordinators(
            member=MembershipFactory(scheme=scheme, role=Role.BUDDY), text="More"
        )
    assert listed()[1] == few


def test_a_coordinator_starts_a_conversation_from_the_person_page(people):
    participant = people["participant"]
    as_coordinator = client_for(people["coordinator"])
    person = as_coordinator.get(f"/coordinator/people/{participant.pk}/")
    assert f"/coordinator/messages/new/{participant.pk}/".encode() in person.content
    response = as_coordinator.post(
        f"/coordinator/messages/new/{participant.pk}/", {"text": "Hello Grace", "form_key": "s"}
    )
    conversation = Conversation.objects.get(member=participant)
    assert response["Location"] == f"/coordinator/messages/{conversation.pk}/"
    assert Notification.objects.filter(template="message_new", recipient=participant.user).exists()
    # Once there is one, the link opens it.
    assert as_coordinator.get(f"/coordinator/messages/new/{participant.pk}/").status_code == 302
    coordinator_member = people["second_coordinator"]
    assert (
        as_coordinator.get(f"/coordinator/messages/new/{coordinator_member.pk}/").status_code == 403
    )
