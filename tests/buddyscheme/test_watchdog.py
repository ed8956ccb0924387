"""The safety net is never silent about itself: a banner for coordinators, /healthz saying why,
one email and text per outage sent by the web process itself, container healthchecks and the
sweeper's dead-man ping. Time is moved, never slept."""

import http.server
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command

from buddyscheme import tasks
from buddyscheme.channels import ConsoleSMSBackend
from buddyscheme.models import Notification, Profile, Role
from buddyscheme.services import heartbeat_record
from buddyscheme.watchdog import safety_net_down_notify, safety_net_status

from ..factories import MembershipFactory, SchemeFactory

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def staff():
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    coordinator = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__email="coord@example.org"
    )
    on_call = MembershipFactory(
        scheme=scheme, role=Role.BUDDY, is_on_call=True, user__email="volunteer@example.org"
    )
    Profile.objects.update_or_create(user=on_call.user, defaults={"phone": "07700 900123"})
    buddy = MembershipFactory(scheme=scheme, role=Role.BUDDY, user__email="buddy@example.org")
    return {"scheme": scheme, "coordinator": coordinator, "on_call": on_call, "buddy": buddy}


@pytest.fixture
def no_broker(monkeypatch):
    def broker_down(*args, **kwargs):
        raise OSError("Connection refused")

    monkeypatch.setattr(tasks.deliver_notifications, "delay", broker_down)


def test_the_net_is_down_when_the_sweep_is_over_two_minutes_old_or_never_ran():
    assert safety_net_status(NOON).down and safety_net_status(NOON).last_run is None
    heartbeat_record("sweep", now=NOON)
    assert not safety_net_status(NOON + timedelta(seconds=120)).down
    assert safety_net_status(NOON + timedelta(seconds=121)).down


def test_staff_and_on_call_are_told_once_per_outage_directly(staff, no_broker):
    ConsoleSMSBackend.sent.clear()
    heartbeat_record("sweep", now=NOON)
    assert safety_net_down_notify(NOON + timedelta(minutes=1)) == 0  # still fresh
    # Down: the coordinator (email) and the on-call volunteer (email and text), not the buddy.
    assert safety_net_down_notify(NOON + timedelta(minutes=3)) == 3
    assert sorted(m.to[0] for m in mail.outbox) == ["coord@example.org", "volunteer@example.org"]
    assert "not running" in mail.outbox[0].subject
    assert len(ConsoleSMSBackend.sent) == 1
    # Polled again (healthz, another web process): nothing more for this outage.
    assert safety_net_down_notify(NOON + timedelta(minutes=4)) == 0
    # It recovers, then stops again: a new outage, told again.
    heartbeat_record("sweep", now=NOON + timedelta(minutes=10))
    assert safety_net_down_notify(NOON + timedelta(minutes=15)) == 3
    assert len(mail.outbox) == 4


def test_healthz_says_why_and_tells_staff(client, staff, no_broker):
    heartbeat_record("celery")
    with time_machine.travel(NOON, tick=False):
        heartbeat_record("sweep", now=NOON - timedelta(minutes=5))
        response = client.get("/healthz")
        again = client.get("/healthz")
    assert response.status_code == 503
    assert any("sweep has not run" in problem for problem in response.json()["problems"])
    assert again.status_code == 503
    assert Notification.objects.filter(template="safety_net_down", status="sent").count() == 3


def test_coordinators_see_a_red_banner_buddies_do_not(client, staff, settings):
    settings.COORDINATOR_MFA_REQUIRED = False  # TOTP is tested elsewhere
    with time_machine.travel(NOON, tick=False):
        heartbeat_record("sweep", now=NOON - timedelta(minutes=5))
        client.force_login(staff["coordinator"].user)
        for url in ("/coordinator/", "/coordinator/board/live/", "/coordinator/people/"):
            page = client.get(url)
            assert page.status_code == 200, url
            assert "The safety net has not run since 11:55" in page.content.decode(), url
        client.force_login(staff["buddy"].user)
        assert "safety net" not in client.get("/profile/").content.decode()
        heartbeat_record("sweep", now=NOON)
        client.force_login(staff["coordinator"].user)
        assert "safety net" not in client.get("/coordinator/").content.decode()


def test_the_board_page_shows_the_banner_once_in_its_live_part(client, staff, settings):
    settings.COORDINATOR_MFA_REQUIRED = False
    with time_machine.travel(NOON, tick=False):
        client.force_login(staff["coordinator"].user)
        page = client.get("/coordinator/board/").content.decode()
    assert page.count("The safety net has never run") == 1


def test_the_container_healthcheck_command_fails_on_a_stale_heartbeat():
    with time_machine.travel(NOON, tick=False):
        with pytest.raises(CommandError, match="no sweep heartbeat"):
            call_command("heartbeat_check", "sweep")
        heartbeat_record("sweep", now=NOON - timedelta(minutes=3))
        with pytest.raises(CommandError, match="180 s old"):
            call_command("heartbeat_check", "sweep")
        heartbeat_record("sweep", now=NOON - timedelta(seconds=30))
        call_command("heartbeat_check", "sweep")


class _PingServer(http.server.BaseHTTPRequestHandler):
    paths: list = []

    def do_GET(self):  # noqa: N802 - the http.server API
        _PingServer.paths.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def ping_server():
    _PingServer.paths = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _PingServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/ping/abc"
    server.shutdown()


def test_the_sweeper_pings_the_dead_mans_switch(settings, ping_server, monkeypatch):
    from meetings.management.commands import run_sweeper

    settings.SAFETY_PING_URL = ping_server
    call_command("run_sweeper", rounds=2, interval=0)
    assert _PingServer.paths == ["/ping/abc"]  # alive, at most once a minute

    def broken(**kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(run_sweeper, "sweep", broken)
    call_command("run_sweeper", rounds=1, interval=0)
    assert _PingServer.paths[-1] == "/ping/abc/fail"


def test_each_web_process_starts_the_watchdog(settings, monkeypatch):
    import importlib

    from buddyscheme import watchdog, wsgi

    started = []
    monkeypatch.setattr(watchdog, "start_watchdog", lambda seconds: started.append(seconds))
    settings.SAFETY_WATCHDOG_SECONDS = 30
    importlib.reload(wsgi)
    settings.SAFETY_WATCHDOG_SECONDS = 0
    importlib.reload(wsgi)
    assert started == [30]


def failing_texts(staff, count, attempts, name):
    from buddyscheme.models import Channel

    for number in range(count):
        Notification.objects.create(
            scheme=staff["scheme"],
            channel=Channel.SMS,
            recipient=staff["on_call"].user,
            template="alert_overdue",
            dedupe_key=f"{name}-{number}",
            attempts=attempts,
            last_error="sms: HTTPError",
            next_attempt_at=NOON,
        )


def test_texts_failing_three_times_tell_healthz_the_board_and_coordinators_once(
    staff, client, no_broker, settings
):
    from buddyscheme.watchdog import sms_failing_notify

    settings.COORDINATOR_MFA_REQUIRED = False

    traveller = time_machine.travel(NOON, tick=False)
    traveller.start()
    heartbeat_record("sweep", now=NOON)
    heartbeat_record("celery", now=NOON)
    failing_texts(staff, 2, attempts=2, name="blip")  # one bad number or a blip, not an outage
    assert sms_failing_notify(NOON) == 0
    assert "text" not in str(client.get("/healthz").json()["problems"]).lower()
    failing_texts(staff, 1, attempts=3, name="outage")
    mail.outbox.clear()
    body = client.get("/healthz").json()
    assert body["sms"] == "failing"
    assert any("Text messages are failing: 1 waiting" in p for p in body["problems"])
    # One email per outage to the coordinator (email only: texts are what fails).
    assert [m.to for m in mail.outbox] == [["coord@example.org"]]
    assert "Text messages are not being sent" in mail.outbox[0].subject
    assert sms_failing_notify(NOON + timedelta(minutes=5)) == 0
    assert len(mail.outbox) == 1
    client.force_login(staff["coordinator"].user)
    board = client.get("/coordinator/board/live/")
    traveller.stop()
    assert board.status_code == 200
    board = board.content.decode()
    assert "Text messages are not being sent: 1 waiting" in board


def test_safety_alerts_are_retried_at_least_once_a_minute():
    from buddyscheme.notifications import backoff

    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert [backoff(n, urgent=True).total_seconds() for n in (1, 2, 3, 9)] == [30, 60, 60, 60]
