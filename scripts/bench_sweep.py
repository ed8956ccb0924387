"""Lone-working sweep over 1,000,000 meetings (a few hundred due), for `make bench`.

Runs on PostgreSQL (a throwaway database `buddyscheme_bench` on 127.0.0.1) when it answers,
otherwise on a SQLite file; prints the time per tick and the query plan of the due-meetings
query, which must use the partial index `meeting_alert_due`.
"""

import os
import socket
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "buddyscheme.settings")
TOTAL, DUE = 1_000_000, 300


def postgres_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        return True
    except OSError:
        return False


if postgres_answers():
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS buddyscheme_bench")
        admin.execute("CREATE DATABASE buddyscheme_bench")
    os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/buddyscheme_bench"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402


def fill(scheme, buddy, venue, now):
    """1,000,000 meetings: most finished long ago, a few hundred overdue right now."""
    table = "meetings_meeting"
    columns = (
        "scheme_id, buddy_id, venue_id, purpose, planned_start, planned_end, expected_end, "
        "extended_minutes, state, alert_level, next_alert_at, created_at, cycle, sequence, "
        "updated_at"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT %s, %s, %s, 'Coffee', "  # noqa: S608
                "%s - (n || ' minutes')::interval, %s - (n || ' minutes')::interval + interval '1 hour', "
                "%s - (n || ' minutes')::interval + interval '1 hour', 0, "
                "CASE WHEN n <= %s THEN 'checked_in' ELSE 'checked_out' END, 0, "
                "CASE WHEN n <= %s THEN %s - interval '1 minute' ELSE NULL END, %s, 1, 0, %s "
                "FROM generate_series(1, %s) AS n",
                [scheme.pk, buddy.pk, venue.pk, now, now, now, DUE, DUE, now, now, now, TOTAL],
            )
            cursor.execute(f"ANALYZE {table}")
        else:
            rows = []
            for n in range(1, TOTAL + 1):
                start = now - timedelta(minutes=n)
                due = n <= DUE
                rows.append(
                    (
                        scheme.pk,
                        buddy.pk,
                        venue.pk,
                        "Coffee",
                        start,
                        start + timedelta(hours=1),
                        start + timedelta(hours=1),
                        0,
                        "checked_in" if due else "checked_out",
                        0,
                        now - timedelta(minutes=1) if due else None,
                        now,
                        1,
                        0,
                        now,
                    )
                )
                if len(rows) == 50_000:
                    cursor.executemany(
                        f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * 15)})", rows
                    )  # noqa: S608
                    rows = []
            cursor.execute(f"ANALYZE {table}")


def main():
    from buddyscheme.models import Membership, Role, Scheme, User
    from meetings.models import Meeting, Venue
    from meetings.services import sweep

    call_command("migrate", verbosity=0)
    now = timezone.now()
    scheme, _ = Scheme.objects.get_or_create(name="Sweep bench", defaults={"sender_name": "Bench"})
    user, _ = User.objects.get_or_create(email="sweep-bench@example.org")
    buddy, _ = Membership.objects.get_or_create(user=user, scheme=scheme, role=Role.BUDDY)
    Membership.objects.get_or_create(
        user=user, scheme=scheme, role=Role.COORDINATOR, defaults={"is_on_call": True}
    )
    venue = Venue.objects.create(
        scheme=scheme, name="Café", kind="community", risk_review_due=now.date()
    )
    started = time.perf_counter()
    fill(scheme, buddy, venue, now)
    print(
        f"sweep over {TOTAL:,} meetings on {connection.vendor} ({DUE} due), filled in {time.perf_counter() - started:.1f} s"
    )

    due_query = (
        Meeting.objects.filter(next_alert_at__lte=now)
        .order_by("next_alert_at")
        .values_list("pk", "next_alert_at")[:500]
    )
    plan = due_query.explain()
    uses_index = "meeting_alert_due" in plan
    print(
        f"  plan of the due-meetings query uses the partial index meeting_alert_due: {'yes' if uses_index else 'NO'}"
    )
    print("    " + plan.splitlines()[0][:150])

    started = time.perf_counter()
    raised = sweep(now=now)
    busy = time.perf_counter() - started
    print(
        f"  tick that raises {raised} alerts (with their notifications): {busy * 1000:.0f} ms ({busy * 1000 / max(raised, 1):.2f} ms per alert)"
    )
    idle = []
    for _ in range(20):
        started = time.perf_counter()
        sweep(now=now)
        idle.append(time.perf_counter() - started)
    print(
        f"  tick with nothing due (median of 20): {statistics.median(idle) * 1000:.2f} ms (target <= 10 ms)"
    )
    selects = []
    for _ in range(20):
        started = time.perf_counter()
        list(
            Meeting.objects.filter(next_alert_at__lte=now + timedelta(minutes=10)).values_list(
                "pk", "next_alert_at"
            )[:500]
        )
        selects.append(time.perf_counter() - started)
    print(
        f"  finding {DUE} due meetings among {TOTAL:,} (median of 20): {statistics.median(selects) * 1000:.2f} ms"
    )


if __name__ == "__main__":
    try:
        main()
    finally:
        if os.environ.get("DATABASE_URL", "").endswith("buddyscheme_bench"):
            connection.close()
            with psycopg.connect(
                "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
            ) as admin:
                admin.execute("DROP DATABASE IF EXISTS buddyscheme_bench")
