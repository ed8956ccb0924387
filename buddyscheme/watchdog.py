"""The safety net is never silent about itself.

The sweep writes a heartbeat every round. When it is older than HEARTBEAT_MAX_AGE_SECONDS
(or missing), alerts are not being raised: coordinators see a red banner on every page, and
the web process itself (not Celery, not the sweeper: they may be what is down) sends one
email and text per outage to every scheme's coordinators and on-call responders. "One per
outage" is the outbox's dedupe key, made from the last heartbeat's time, so any number of web
processes and /healthz polls send it once.
"""

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from .models import Channel, Heartbeat, Membership, Notification, NotificationStatus, Role, Scheme
from .notifications import delivering_here, notification_enqueue, notifications_send_now

logger = logging.getLogger(__name__)

SWEEP = "sweep"


@dataclass(frozen=True)
class NetStatus:
    """Whether the sweep has run recently; `last_run` is None when it never has."""

    down: bool
    last_run: datetime | None

    def explain(self, zone=None) -> str:
        if not self.down:
            return ""
        if self.last_run is None:
            return "The safety net has never run: no check-in alerts are being raised."
        when = timezone.localtime(self.last_run, zone)
        return (
            f"The safety net has not run since {when:%H:%M} on {when:%-d %B}: no check-in "
            "alerts are being raised."
        )


def safety_net_status(now=None) -> NetStatus:
    now = now or timezone.now()
    last_run = Heartbeat.objects.filter(name=SWEEP).values_list("beat_at", flat=True).first()
    stale = timedelta(seconds=settings.HEARTBEAT_MAX_AGE_SECONDS)
    return NetStatus(down=last_run is None or now - last_run > stale, last_run=last_run)


def safety_net_down_notify(now=None) -> int:
    """If the net is down, tell every scheme's staff and on-call once for this outage, sending
    from this process. Returns how many messages left now."""
    now = now or timezone.now()
    status = safety_net_status(now)
    if not status.down:
        return 0
    outage = status.last_run.isoformat() if status.last_run else "never"
    rows = []
    with delivering_here():
        for scheme in Scheme.objects.all():
            people = (
                Membership.objects.filter(scheme=scheme, is_active=True)
                .filter(Q(role=Role.COORDINATOR) | Q(is_on_call=True))
                .select_related("user__profile")
            )
            since = (
                f"{timezone.localtime(status.last_run, scheme.zone):%H:%M}"
                if status.last_run
                else "it was installed"
            )
            for membership in people:
                rows += notification_enqueue(
                    scheme=scheme,
                    recipient=membership.user,
                    template="safety_net_down",
                    dedupe_key=f"safety-net-down:{outage}",
                    context={"since": since},
                    now=now,
                )
    sent = notifications_send_now(rows, now=now)
    if rows:
        logger.error("safety net down since %s: %d staff told directly", outage, sent)
    return sent


# Text messages count as failing once one has failed this many times in a row: by then the
# provider is down, not one number wrong. Emails go out beside every text all the while.
SMS_FAILING_AFTER = 3


def _failing_texts():
    """Texts waiting after failing SMS_FAILING_AFTER times or more."""
    return Notification.objects.filter(
        channel=Channel.SMS, status=NotificationStatus.PENDING, attempts__gte=SMS_FAILING_AFTER
    )


def sms_failing(scheme=None) -> int:
    """How many texts are failing (in one scheme, or in all)."""
    rows = _failing_texts()
    if scheme is not None:
        rows = rows.filter(scheme=scheme)
    return rows.count()


def sms_failing_notify(now=None) -> int:
    """While texts are failing, email each scheme's coordinators once per outage (named by the
    oldest failing text), from this process. Returns how many emails left now."""
    now = now or timezone.now()
    failing = _failing_texts()
    first = failing.order_by("pk").values_list("pk", flat=True).first()
    if first is None:
        return 0
    rows = []
    with delivering_here():
        for scheme in Scheme.objects.filter(pk__in=failing.values("scheme")):
            coordinators = Membership.objects.filter(
                scheme=scheme, is_active=True, role=Role.COORDINATOR
            ).select_related("user__profile")
            for membership in coordinators:
                rows += notification_enqueue(
                    scheme=scheme,
                    recipient=membership.user,
                    template="sms_failing",
                    dedupe_key=f"sms-failing:{first}",
                    channels=[Channel.EMAIL],  # the texts are what is failing
                    now=now,
                )
    sent = notifications_send_now(rows, now=now)
    if rows:
        logger.error("text messages failing since notification %s: %d staff told", first, sent)
    return sent


def start_watchdog(interval: float = 30.0) -> threading.Thread:
    """A daemon thread in the web process that checks the net every `interval` seconds."""

    def watch():
        while True:
            time.sleep(interval)
            try:
                safety_net_down_notify()
                sms_failing_notify()
            except Exception:  # the watchdog must outlive a database blip
                logger.exception("watchdog: check failed")
            finally:
                close_old_connections()

    thread = threading.Thread(target=watch, name="safety-net-watchdog", daemon=True)
    thread.start()
    return thread
