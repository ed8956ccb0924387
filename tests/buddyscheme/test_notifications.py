"""The outbox's addressing and the one message builder every message goes through."""

from pathlib import Path

import pytest
from django.db import IntegrityError, transaction

from buddyscheme.emails import email_build
from buddyscheme.models import Channel, Notification
from buddyscheme.notifications import notification_enqueue

from ..factories import SchemeFactory, UserFactory

pytestmark = pytest.mark.django_db
MESSAGES = Path(__file__).resolve().parents[2] / "templates" / "notifications"


@pytest.mark.parametrize(
    "address",
    [
        {},  # nobody
        {"to_email": "new@example.org", "with_recipient": True},  # two addresses
        {"to_email": "new@example.org", "channel": Channel.SMS},  # a text to an email address
    ],
)
def test_an_outbox_row_has_exactly_one_address_the_database_enforces(address):
    scheme = SchemeFactory()
    row = Notification(
        scheme=scheme,
        channel=address.get("channel", Channel.EMAIL),
        recipient=UserFactory() if address.get("with_recipient") else None,
        to_email=address.get("to_email", ""),
        template="invitation",
        dedupe_key="test",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()


def test_a_message_goes_to_a_recipient_or_an_address_never_both():
    scheme, user = SchemeFactory(), UserFactory()
    for address in ({}, {"recipient": user, "to_email": "new@example.org"}):
        with pytest.raises(ValueError):
            notification_enqueue(scheme=scheme, template="invitation", dedupe_key="x", **address)
    [row] = notification_enqueue(
        scheme=scheme,
        to_email="new@example.org",
        template="invitation",
        dedupe_key="invitation:1",
        channels=[Channel.EMAIL, Channel.SMS],
    )
    assert (row.channel, row.email_address, row.dedupe_key) == (
        Channel.EMAIL,
        "new@example.org",
        "invitation:1:email",
    )


@pytest.mark.parametrize("template", sorted(p.name for p in MESSAGES.iterdir() if p.is_dir()))
def test_every_message_is_built_from_its_templates_by_the_discreet_sender(template):
    scheme = SchemeFactory(name="Positive Living HIV Buddies", sender_name="Appointments")
    message = email_build(template=template, context={}, scheme=scheme, to="someone@example.org")
    assert message.from_email.startswith("Appointments <")
    assert message.subject and message.body.strip()
    [(html, kind)] = message.alternatives
    assert kind == "text/html" and "<html" in html
    for text in (message.subject, message.body, html):
        assert "HIV" not in text and "Positive Living" not in text


@pytest.mark.parametrize("seconds_per_message", [1.5, 10])
def test_a_slow_channel_with_two_workers_sends_each_message_exactly_once(
    monkeypatch, seconds_per_message
):
    """60 messages through a channel that takes 1.5 s (or the SMS provider's full 10 s
    timeout) each, while a second worker wakes every few sends. The clock moves by the
    channel's time, never by sleeping. (Claiming 50 under a 60 s lease sent the end of the
    batch twice: the second worker claimed rows whose lease had run out before their turn.)"""
    from collections import Counter
    from datetime import UTC, datetime, timedelta

    import time_machine

    from buddyscheme import notifications

    scheme = SchemeFactory()
    people = [UserFactory() for _ in range(60)]
    for person in people:
        notification_enqueue(
            scheme=scheme,
            recipient=person,
            template="contract_reminder",
            dedupe_key="slow",
            context={"contract_id": 1},
            channels=[Channel.EMAIL],
        )
    sent = Counter()
    state = {"sends": 0, "nested": False}

    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), tick=False) as clock:

        def slow_send(message):
            sent[message.to[0]] += 1
            if state["nested"]:
                return  # the other worker runs alongside: its time is not this send's
            clock.shift(timedelta(seconds=seconds_per_message))
            state["sends"] += 1
            # Another worker wakes up every 7 sends while this one is busy, and takes
            # whatever it may claim at that moment.
            if state["sends"] % 7 == 0:
                state["nested"] = True
                try:
                    notifications.notifications_deliver()
                finally:
                    state["nested"] = False

        monkeypatch.setattr(notifications, "email_send", slow_send)
        notifications.notifications_deliver()

    assert sorted(sent) == sorted(person.email for person in people)
    assert set(sent.values()) == {1}, [email for email, n in sent.items() if n > 1]
    assert Notification.objects.filter(status="sent").count() == 60
