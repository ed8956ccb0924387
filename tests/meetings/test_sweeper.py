"""The sweeper process (manage.py run_sweeper): alerts raised and sent with no broker at all."""

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from buddyscheme import tasks
from buddyscheme.models import Notification
from meetings import services

from .net import MONDAY_10AM, checked_in, levels, minutes

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_broker(monkeypatch):
    """Any attempt to queue a Celery task fails, as it would with Redis down."""

    def broker_down(*args, **kwargs):
        raise OSError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.deliver_notifications, "delay", broker_down)
    monkeypatch.setattr(tasks.deliver_notifications, "apply_async", broker_down)


def test_overdue_alerts_are_raised_and_sent_without_the_broker(people, no_broker):
    meeting = checked_in(people)
    overdue = meeting.planned_end + minutes(10)
    with time_machine.travel(overdue, tick=False):
        call_command("run_sweeper", rounds=1)
    assert levels(meeting) == [1]
    prompt = Notification.objects.get(template="alert_check_out_prompt", channel="email")
    assert prompt.status == "sent"
    # The prompt and the end-of-meeting reminder, both to the buddy, each once.
    sent = Notification.objects.filter(status="sent", channel="email")
    assert sorted(sent.values_list("template", flat=True)) == [
        "alert_check_out_prompt",
        "reminder_check_out",
    ]
    assert [message.to for message in mail.outbox] == [["buddy@example.org"]] * 2


def test_a_help_press_during_an_outage_is_sent_by_the_next_round(people, no_broker):
    meeting = checked_in(people)
    moment = MONDAY_10AM + minutes(5)
    # The web request's own attempt to hand delivery to Celery fails (robust on_commit).
    services.meeting_help(meeting=meeting, key="help", by=None, now=moment)
    assert not Notification.objects.filter(status="sent").exists()
    with time_machine.travel(moment + minutes(0.1), tick=False):
        call_command("run_sweeper", rounds=1)
    assert Notification.objects.filter(template="alert_help", status="pending").count() == 0
    assert "oncall@example.org" in [address for message in mail.outbox for address in message.to]


def test_a_failed_round_does_not_stop_the_sweeper(people, monkeypatch, no_broker):
    from meetings.management.commands import run_sweeper

    calls = []
    real_sweep = run_sweeper.sweep

    def flaky_sweep(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database restarting")
        return real_sweep(**kwargs)

    monkeypatch.setattr(run_sweeper, "sweep", flaky_sweep)
    meeting = checked_in(people)
    with time_machine.travel(meeting.planned_end + minutes(10), tick=False):
        call_command("run_sweeper", rounds=2, interval=0)
    assert len(calls) == 2
    assert levels(meeting) == [1]
