"""Health check, Celery wiring, and the demo data command."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from buddyscheme import tasks
from buddyscheme.celery import app as celery_app
from buddyscheme.models import Heartbeat, Membership, Role, Scheme, User
from buddyscheme.services import heartbeat_record

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
class TestHealthz:
    def test_healthy_when_the_heartbeat_is_fresh(self, client):
        heartbeat_record("celery", now=timezone.now() - timedelta(seconds=45))
        heartbeat_record("sweep", now=timezone.now() - timedelta(seconds=10))
        response = client.get("/healthz")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        assert body["database"] == "ok"
        assert body["broker"] == "ok"
        assert 44 <= body["heartbeat_age_seconds"] <= 50
        assert 9 <= body["sweep_age_seconds"] <= 15

    def test_503_when_the_safety_sweep_has_stopped(self, client):
        heartbeat_record("celery")
        heartbeat_record("sweep", now=timezone.now() - timedelta(minutes=3))
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["sweep"] == "stale"

    def test_503_when_the_heartbeat_is_older_than_two_minutes(self, client):
        heartbeat_record("sweep")
        heartbeat_record("celery", now=timezone.now() - timedelta(seconds=121))
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["heartbeat"] == "stale"

    def test_503_when_nothing_has_ever_beaten(self, client):
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["heartbeat"] == "missing"

    def test_503_when_the_broker_is_unreachable(self, client, monkeypatch):
        from kombu import Connection

        heartbeat_record("celery")
        heartbeat_record("sweep")
        # A real connection attempt to a port where nothing listens (the discard port).
        monkeypatch.setattr(
            celery_app, "connection_for_write", lambda: Connection("redis://127.0.0.1:9/0")
        )
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["broker"] == "error"

    def test_no_personal_data_and_no_cache(self, client):
        heartbeat_record("celery")
        heartbeat_record("sweep")
        response = client.get("/healthz")
        assert response.status_code == 200
        assert set(response.json()) == {
            "status",
            "database",
            "broker",
            "heartbeat",
            "heartbeat_age_seconds",
            "sweep",
            "sweep_age_seconds",
            "sms",
            "problems",  # sentences saying what is wrong, naming no one
        }
        assert response.json()["problems"] == []
        assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_heartbeat_task_records_a_beat():
    tasks.heartbeat.delay()
    assert Heartbeat.objects.get(name="celery").beat_at > timezone.now() - timedelta(seconds=5)


def test_the_periodic_schedule_lives_in_one_place_and_beats_often_enough():
    schedule = celery_app.conf.beat_schedule
    assert schedule["heartbeat"]["task"] == "buddyscheme.tasks.heartbeat"
    assert schedule["heartbeat"]["schedule"] < settings.HEARTBEAT_MAX_AGE_SECONDS / 2
    assert "buddyscheme.tasks.heartbeat" in celery_app.tasks


def test_the_file_broker_carries_messages_between_processes(tmp_path):
    """make run's embedded broker: a message published by one connection is consumed by another."""
    from kombu import Connection, Exchange, Queue

    folder = tmp_path / "broker"
    folder.mkdir()
    options = {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "control_folder": str(folder),
    }
    queue = Queue("probe", Exchange("probe"), routing_key="probe")
    with Connection("filesystem://", transport_options=options) as producer_side:
        producer_side.Producer().publish(
            {"n": 1}, exchange=queue.exchange, routing_key="probe", declare=[queue]
        )
    received = []

    def on_message(body, message):
        received.append(body)
        message.ack()

    with Connection("filesystem://", transport_options=options) as consumer_side:
        consumer = consumer_side.Consumer(queue, callbacks=[on_message])
        with consumer:
            consumer_side.drain_events(timeout=5)
    assert received == [{"n": 1}]


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_realistic():
    call_command("seed_demo", stdout=StringIO())
    counts = (User.objects.count(), Membership.objects.count(), Scheme.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (User.objects.count(), Membership.objects.count(), Scheme.objects.count()) == counts
    scheme = Scheme.objects.get(name="Positive Steps Buddies")
    buddies = scheme.memberships.filter(role=Role.BUDDY)
    # Ten buddies; applicants: three on the pipeline page and applicant@example.org, who applied
    # through the public page.
    assert buddies.exclude(user__email__startswith="applicant").count() == 10
    assert buddies.filter(applications__isnull=False).count() == 1
    # Applicants for the pipeline page: one with an interview booked, two invited to training.
    from buddyscheme.models import Interview, Referral
    from meetings.models import TrainingInvitation

    assert buddies.filter(user__email__startswith="applicant").count() == 4
    assert (
        Interview.objects.filter(
            scheme=scheme, applicant__user__email="applicant1@example.org"
        ).count()
        == 1
    )
    assert TrainingInvitation.objects.filter(session__scheme=scheme).count() == 3
    # Twenty participants, and one referred, enrolled and matched until their match ended (the
    # evidence pack's journey from referral to ending).
    assert scheme.memberships.filter(role=Role.PARTICIPANT, is_active=True).count() == 21
    # Three referrals waiting (one urgent, one assessed): people referred are participants on
    # no list (inactive) until enrolled.
    referrals = Referral.objects.filter(scheme=scheme)
    assert sorted(referrals.values_list("status", "urgency")) == [
        ("assessing", "soon"),
        ("enrolled", "routine"),
        ("new", "routine"),
        ("new", "urgent"),
    ]
    assert scheme.memberships.filter(role=Role.PARTICIPANT, is_active=False).count() == 3
    assert scheme.memberships.filter(role=Role.COORDINATOR).count() >= 1
    # Everything the demo is for: vetted buddies, a menu, enrolments, matches under way.
    from buddyscheme.vetting import cleared_buddies
    from contracts.models import Contract
    from matching.models import Match, MenuItem

    assert cleared_buddies(scheme).count() == 9
    assert MenuItem.objects.filter(category__scheme=scheme).count() >= 10
    # The match meeting today, one started seven months ago whose review is overdue, two that
    # the dashboard's pattern flags pick up, two whose endings are waiting (a stop, a
    # friendship told). Ended: the evidence pack's journey, six with wellbeing answers at start
    # and end (the outcomes page), two with next-steps plans, one that broke down.
    assert Match.objects.filter(scheme=scheme, state="active").count() == 6
    assert Match.objects.filter(scheme=scheme, state="ended").count() == 10
    assert Contract.objects.filter(scheme=scheme, state="signed", kind="match").count() == 3
    active = (
        Match.objects.filter(scheme=scheme, state="active", review_due__gt=timezone.localdate())
        .exclude(goals=None)
        .distinct()
        .get()
    )
    assert active.goals.count() == 3 and active.reviews.count() == 1
    assert active.planned_sessions == 12
    # The demo group: one member has signed its agreement, the other not yet.
    assert Contract.objects.filter(scheme=scheme, state="signed", kind="group").count() == 1
    coordinator = User.objects.get(email="coordinator@example.org")
    assert coordinator.is_staff and coordinator.memberships.count() == 2
    assert coordinator.check_password("buddy-demo-2026")


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_consumes_from_redis_and_writes_to_postgres():
    """The production shape end to end: enqueue on Redis, a separate worker process runs it."""
    database = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    queue = f"probe-{os.getpid()}-{time.monotonic_ns()}"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "buddyscheme",
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        celery_app.conf.task_always_eager = False
        try:
            tasks.heartbeat.apply_async(queue=queue)
        finally:
            celery_app.conf.task_always_eager = True
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not Heartbeat.objects.filter(name="celery").exists():
            time.sleep(0.2)
        assert Heartbeat.objects.filter(name="celery").exists(), "the worker never ran the task"
    finally:
        worker.terminate()
        output = worker.communicate(timeout=20)[0].decode(errors="replace")
    assert "Traceback" not in output, output
