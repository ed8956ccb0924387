"""The Celery app. Every periodic task is declared here, in one schedule."""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "buddyscheme.settings")

app = Celery("buddyscheme")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Proves the worker and beat are alive; /healthz turns 503 when it goes stale.
    "heartbeat": {"task": "buddyscheme.tasks.heartbeat", "schedule": 30.0},
    # The lone-working safety net. Its heartbeat is what /healthz watches. Every 10 s: an alert
    # row lands at most ~10 s after it falls due (make bench measures p95 and max); an idle
    # sweep is one indexed query of a few milliseconds.
    "sweep": {"task": "meetings.tasks.sweep", "schedule": 10.0, "options": {"expires": 8}},
    # The outbox is also drained on every commit that adds to it; this catches retries and
    # anything a dead worker or broker left behind.
    "deliver-notifications": {"task": "buddyscheme.tasks.deliver_notifications", "schedule": 15.0},
    # A phone's position sent with a help or duress alert is deleted a set number of days
    # (LoneWorkingSettings) after the alert is resolved; hourly keeps that to the hour.
    "expire-alert-locations": {
        "task": "meetings.tasks.locations_expire",
        "schedule": crontab(minute=20),
    },
    # A debrief still unsent 24 hours after its check-out: one reminder to the buddy. Every
    # quarter of an hour keeps "24 hours" to within 15 minutes.
    "remind-missing-debriefs": {
        "task": "meetings.tasks.remind_missing_debriefs",
        "schedule": crontab(minute="*/15"),
    },
    # A group session within 48 hours that still has fewer than two facilitators: its
    # coordinators are told once, in time to find a second.
    "warn-short-of-facilitators": {
        "task": "groups.tasks.warn_short_of_facilitators",
        "schedule": crontab(minute="*/15"),
    },
    # Whoever has not signed an agreement after 3 days gets one nudge a day.
    "remind-unsigned-contracts": {
        "task": "contracts.tasks.remind_unsigned_contracts",
        "schedule": crontab(minute=0, hour=10),
    },
    # Whoever has not answered a proposed match after 3 days (a scheme setting) is reminded once.
    "remind-unanswered-proposals": {
        "task": "matching.tasks.remind_unanswered_proposals",
        "schedule": crontab(minute=0, hour=10),
    },
    # A match's review is coming up (14 days ahead, a scheme setting): the buddy and the
    # coordinator are told once for each review date.
    "remind-match-reviews": {
        "task": "matching.tasks.remind_match_reviews",
        "schedule": crontab(minute=15, hour=10),
    },
    # A referee who has not answered a week after being asked gets one reminder.
    "chase-references": {
        "task": "recruitment.tasks.chase_references",
        "schedule": crontab(minute=30, hour="9-17"),
    },
    # Coordinators hear about DBS and training renewals a month ahead, every Monday morning.
    "remind-vetting-lapses": {
        "task": "buddyscheme.tasks.remind_vetting_lapses",
        "schedule": crontab(minute=0, hour=8, day_of_week="mon"),
    },
    # A step of a next-steps plan falls due: one discreet reminder, if the participant agreed.
    # Hourly, from 9 to 17: the reminder lands on the morning of its day, never at night.
    # Retention: each night a dry-run report of closed matches past the scheme's retention
    # period, for a coordinator to confirm; and sensitive notes whose consent was withdrawn
    # are deleted (they were hidden at once).
    "prepare-retention-reviews": {
        "task": "buddyscheme.tasks.prepare_retention_reviews",
        "schedule": crontab(minute=40, hour=2),
    },
    "remind-plan-steps": {
        "task": "signposting.tasks.remind_plan_steps",
        "schedule": crontab(minute=5, hour="9-17"),
    },
}


@worker_ready.connect
def beat_once_at_start(sender, **kwargs):
    # /healthz should turn healthy as soon as a worker is up, not a beat later; and a worker
    # coming back after an outage should raise whatever fell due at once.
    sender.app.send_task("buddyscheme.tasks.heartbeat")
    sender.app.send_task("meetings.tasks.sweep")
