"""Help and duress leave at once, from the request that records them, and the buddy's screen
says truthfully what has left (issue 13 item 2). The broker is down in every test here."""

import contextlib

import pytest
import time_machine
from django.core import mail

from buddyscheme import notifications, tasks
from buddyscheme.channels import ChannelError
from buddyscheme.models import Notification
from meetings import services
from meetings.services import alerts as alert_services

from .net import MONDAY_10AM, checked_in, minutes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    def broker_down(*args, **kwargs):
        raise OSError("Connection refused")

    monkeypatch.setattr(tasks.deliver_notifications, "delay", broker_down)


def press_help(client, people, meeting):
    with time_machine.travel(MONDAY_10AM + minutes(20), tick=False):
        client.force_login(people["buddy"].user)
        return client.post(f"/meetings/{meeting.pk}/help/", {"key": "help-1"})


def test_a_help_press_is_sent_by_the_request_itself(client, people):
    people["on_call"].user.first_name = "Ruth"
    people["on_call"].user.save()
    response = press_help(client, people, checked_in(people))
    assert Notification.objects.filter(template="alert_help", status="sent").exists()
    assert not Notification.objects.filter(template="alert_help", status="pending").exists()
    assert "oncall@example.org" in [message.to[0] for message in mail.outbox]
    page = response.content.decode()
    assert "We have told the on-call team" in page
    assert "Sent to Ruth at 10:20" in page


def test_when_nothing_could_be_sent_the_buddy_is_told_to_call(client, people, monkeypatch):
    people["buddy"].scheme.emergency_phone = "0161 496 0000"
    people["buddy"].scheme.save()

    def channel_down(message):
        raise ChannelError("email: SMTPServerDisconnected")

    monkeypatch.setattr(notifications, "email_send", channel_down)
    response = press_help(client, people, checked_in(people))
    page = " ".join(response.content.decode().split())
    assert "We could not reach the on-call team yet" in page
    assert "Not sent yet:</span> call 999" in page and 'href="tel:0161 496 0000"' in page
    assert "someone will call you" not in page
    # Nothing was lost: the rows wait for the sweeper, which sends once the channel is back.
    assert Notification.objects.filter(template="alert_help", status="pending").exists()


def test_a_duress_check_out_sends_after_its_answer_without_waiting(
    people, monkeypatch, django_capture_on_commit_callbacks
):
    services.buddy_pins_set(membership=people["buddy"], check_out_pin="2468", duress_pin="1357")
    meeting = checked_in(people)

    class RunsAtOnce:  # the thread, run in the test's own connection
        def __init__(self, target, **kwargs):
            self.target = target

        def start(self):
            self.target()

    monkeypatch.setattr(alert_services.threading, "Thread", RunsAtOnce)
    monkeypatch.setattr(alert_services, "close_old_connections", lambda: None)
    moment = MONDAY_10AM + minutes(50)
    with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks() as callbacks:
        services.meeting_check_out_with_pin(meeting=meeting, key="out", pin="1357", by=None)
    # Nothing was sent while the answer was being made...
    assert not Notification.objects.filter(template="alert_duress", status="sent").exists()
    with time_machine.travel(moment, tick=False):
        for callback in callbacks:
            # Queueing the Celery task fails (robust in real commits): the broker is down.
            with contextlib.suppress(OSError):
                callback()
    # ...and everything went as soon as it was committed.
    assert Notification.objects.filter(template="alert_duress", status="sent").exists()
    assert not Notification.objects.filter(template="alert_duress", status="pending").exists()
