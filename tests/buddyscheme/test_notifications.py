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
