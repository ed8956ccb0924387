"""Alert latency end to end, with a real Celery worker and beat at the production interval.

    bench_latency.py [N]   N meetings (500 by default) fall overdue over the next ~40 s

Run by scripts/bench.sh after it has set up the database and the broker (BENCH_* env). It
starts the worker, beat and the sweeper as the Procfile does, makes N checked-in meetings
whose overdue moment (expected end + grace) falls at spread instants in the near future, and
waits until each has its level-1 alert and that alert's message was handed to the channel.
It prints, from each due instant: the alert row (raised_at) and the message sent (sent_at),
p50 / p95 / max, against the goal (p95 <= 15 s, max <= 30 s). Nothing is timed in a test.
"""

import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from processes import celery_processes, stop  # noqa: E402 - scripts/, beside this one

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "buddyscheme.settings")

GOAL_P95, GOAL_MAX = 15.0, 30.0
SPREAD_SECONDS = 40  # due instants spread over this long, starting a little after the start
WAIT_SECONDS = 150


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def make_meetings(count, first_due):
    """Checked-in meetings whose level-1 alert falls due at first_due + i * spread / count."""
    from django.utils import timezone

    from buddyscheme.models import Role, Scheme
    from meetings.models import Meeting, MeetingState, Venue
    from meetings.services import grace, lone_working
    from tests.factories import MembershipFactory, cleared_buddy, venue

    now = timezone.now()
    scheme = Scheme.objects.create(name=f"Latency bench {now:%H%M%S}", sender_name="Appointments")
    stamp = f"{now:%H%M%S%f}"  # a second run in the same database makes new people
    MembershipFactory(
        scheme=scheme,
        role=Role.COORDINATOR,
        is_on_call=True,
        user__email=f"latency-{stamp}-coordinator@example.org",
    )
    buddies = [
        cleared_buddy(scheme, email=f"latency-{stamp}-{number}@example.org") for number in range(20)
    ]
    place: Venue = venue(scheme)
    config = lone_working(scheme)
    meetings = []
    for number in range(count):
        due = first_due + timedelta(seconds=SPREAD_SECONDS * number / count)
        end = due - grace(place, config)
        meetings.append(
            Meeting(
                scheme=scheme,
                buddy=buddies[number % len(buddies)],
                venue=place,
                purpose="Bench",
                planned_start=end - timedelta(hours=1),
                planned_end=end,
                expected_end=end,
                state=MeetingState.CHECKED_IN,
                checked_in_at=now,
                cycle=1,
                next_alert_at=due,
            )
        )
    Meeting.objects.bulk_create(meetings, batch_size=500)
    return scheme


def main():
    import django

    django.setup()
    from django.utils import timezone

    from buddyscheme.celery import app
    from buddyscheme.models import Notification
    from meetings.models import Alert, AlertRecipient

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    interval = app.conf.beat_schedule["sweep"]["schedule"]
    # The worker and beat start first, so their start-up is not counted as latency.
    # As the Procfile runs them, with the sweeper (scripts/processes.py), logging warnings.
    processes = celery_processes(ROOT / "var" / "bench").values()
    try:
        time.sleep(8)
        first_due = timezone.now() + timedelta(seconds=10)
        scheme = make_meetings(count, first_due)
        alerts = Alert.objects.filter(meeting__scheme=scheme, level=1)
        deadline = time.monotonic() + SPREAD_SECONDS + WAIT_SECONDS
        while time.monotonic() < deadline:
            sent = Notification.objects.filter(
                scheme=scheme, template="alert_check_out_prompt", sent_at__isnull=False
            ).count()
            if alerts.count() == count and sent >= count:
                break
            time.sleep(1)
        rows = list(alerts.values_list("pk", "due_at", "raised_at"))
        sent_at = dict(
            AlertRecipient.objects.filter(alert__in=alerts, channel="email").values_list(
                "alert_id", "notification__sent_at"
            )
        )
    finally:
        stop(processes)

    raised = [(raised_at - due).total_seconds() for _, due, raised_at in rows]
    handed = [
        (sent_at[pk] - due).total_seconds() for pk, due, _ in rows if sent_at.get(pk) is not None
    ]
    print(f"Alert latency: {count} meetings fall overdue over {SPREAD_SECONDS} s; the sweeper")
    print(
        f"loops every 5 s, beat also sweeps every {interval:g} s, a worker (concurrency 2) sends."
    )
    print(f"{'from the due instant to':<32}{'n':>6}{'p50':>8}{'p95':>8}{'max':>8}  goal")
    from bench_rows import limit_row

    broker = "broker down" if ":9/" in os.environ.get("CELERY_BROKER_URL", "") else "worker + beat"
    for label, values in (("the alert row", raised), ("the message handed over", handed)):
        limit_row(
            f"alert latency p95 to {label} ({broker})",
            percentile(values, 0.95) if len(values) == count else None,
            "s",
            maximum=GOAL_P95,
            note=f"{len(values)} of {count} alerts",
        )
        if len(values) < count:
            print(
                f"{label:<32}{len(values):>6}  only {len(values)} of {count} within the wait: FAIL"
            )
            continue
        p50, p95, worst = (
            statistics.median(values),
            percentile(values, 0.95),
            max(values),
        )
        verdict = "pass" if p95 <= GOAL_P95 and worst <= GOAL_MAX else "FAIL"
        print(
            f"{label:<32}{len(values):>6}{p50:>7.1f}s{p95:>7.1f}s{worst:>7.1f}s"
            f"  p95 <= {GOAL_P95:g} s, max <= {GOAL_MAX:g} s: {verdict}"
        )


if __name__ == "__main__":
    main()
