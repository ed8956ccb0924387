"""The safety net's own process: sweep and deliver in a loop, needing only the database.

As healthchecks' `sendalerts`: Celery beat still triggers the same sweep as a second,
redundant path, but this loop does not depend on the broker or a worker, so alerts are
raised and sent while Redis or Celery are down. Two copies may run: alerts are unique per
(meeting, reason, watch, level) and messages are claimed with a conditional UPDATE.
"""

import logging
import signal
import time
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, connections

from buddyscheme.notifications import delivering_here, notifications_deliver
from meetings.services import sweep

logger = logging.getLogger(__name__)
PING_EVERY = 60  # seconds between "still alive" pings


class Command(BaseCommand):
    help = "Raise due lone-working alerts and send the outbox every few seconds, until stopped."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval", type=float, default=5.0, help="Seconds between rounds (default 5)."
        )
        parser.add_argument(
            "--rounds", type=int, default=0, help="Stop after this many rounds (0: never)."
        )

    def handle(self, *args, interval, rounds, **options):
        self.stopping = False
        # Finish the round in hand on SIGTERM/SIGINT (a deploy or Ctrl-C), then exit.
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signal_number, self._stop)
        done = 0
        self.last_ping = None
        while not self.stopping:
            started = time.monotonic()
            try:
                with delivering_here():
                    raised = sweep()
                sent = notifications_deliver()
                if raised or sent:
                    logger.info("sweeper: %d alerts raised, %d messages sent", raised, sent)
            except Exception:  # a database blip must not end the safety net's process
                logger.exception("sweeper: round failed; trying again")
                if not connection.in_atomic_block:  # (never inside a caller's transaction)
                    connections.close_all()  # reconnect next round (a restarted PostgreSQL)
                self._ping("/fail")
            else:
                self._ping("")
            done += 1
            if rounds and done >= rounds:
                break
            self._sleep(interval - (time.monotonic() - started))

    def _ping(self, suffix):
        """Tell the external dead-man's switch (SAFETY_PING_URL) we are alive, at most once a
        minute, or at once that a round failed. Its silence is the alarm."""
        url = settings.SAFETY_PING_URL
        if not url or (
            not suffix and self.last_ping and time.monotonic() - self.last_ping < PING_EVERY
        ):
            return
        try:
            with urllib.request.urlopen(url.rstrip("/") + suffix, timeout=5):  # noqa: S310 - operator's URL
                pass
        except (OSError, ValueError):
            logger.warning("sweeper: the dead-man ping failed")
        else:
            self.last_ping = time.monotonic()

    def _stop(self, *args):
        self.stopping = True

    def _sleep(self, seconds):
        # In short steps, so a stop request is honoured quickly.
        deadline = time.monotonic() + max(seconds, 0)
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(0.2, deadline - time.monotonic()))
