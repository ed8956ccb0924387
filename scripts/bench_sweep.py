"""Lone-working sweep over 1,000,000 meetings (a few hundred due), for `make bench`.

Runs on PostgreSQL (a throwaway database `buddyscheme_bench` on 127.0.0.1) when it answers,
otherwise (or with BENCH_SWEEP_ON=sqlite) on a SQLite file; prints the time per tick and the query plan of the due-meetings
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
# BENCH_QUICK=1 (CI) runs the same code on a small table, so the script cannot rot unseen.
QUICK = os.environ.get("BENCH_QUICK") == "1"
TOTAL, DUE = (20_000, 30) if QUICK else (1_000_000, 300)


def postgres_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        return True
    except OSError:
        return False


# BENCH_SWEEP_ON=sqlite measures the embedded default even where PostgreSQL answers.
if os.environ.get("BENCH_SWEEP_ON") != "sqlite" and postgres_answers():
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


def fill(template, now):
    """TOTAL meetings copied from one real row (so every column the model has today is filled,
    however the model grows): most finished long ago, DUE overdue right now."""
    from meetings.models import Meeting

    table = Meeting._meta.db_table
    overrides = {
        "planned_start": "{now} - {n_minutes}",
        "planned_end": "{now} - {n_minutes} + {hour}",
        "expected_end": "{now} - {n_minutes} + {hour}",
        "checked_in_at": "{now} - {n_minutes}",
        "state": "CASE WHEN n <= {due} THEN 'checked_in' ELSE 'checked_out' END",
        "next_alert_at": "CASE WHEN n <= {due} THEN {now} - {minute} ELSE NULL END",
    }
    if connection.vendor == "postgresql":
        words = {
            "now": "%(now)s",
            "n_minutes": "(n || ' minutes')::interval",
            "hour": "interval '1 hour'",
            "minute": "interval '1 minute'",
            "due": "%(due)s",
        }
        series = "generate_series(1, %(total)s) AS n"
        params = {"now": now, "due": DUE, "total": TOTAL, "template": template.pk}
    else:
        # SQLite keeps datetimes as ISO text; datetime() does the arithmetic.
        words = {
            "now": "%(now)s",
            "n_minutes": "",
            "hour": "",
            "minute": "",
            "due": "%(due)s",
        }
        overrides = {
            "planned_start": "datetime(%(now)s, '-' || n || ' minutes')",
            "planned_end": "datetime(%(now)s, '-' || n || ' minutes', '+1 hour')",
            "expected_end": "datetime(%(now)s, '-' || n || ' minutes', '+1 hour')",
            "checked_in_at": "datetime(%(now)s, '-' || n || ' minutes')",
            "state": "CASE WHEN n <= %(due)s THEN 'checked_in' ELSE 'checked_out' END",
            "next_alert_at": "CASE WHEN n <= %(due)s THEN datetime(%(now)s, '-1 minute') ELSE NULL END",
        }
        series = "series"
        params = {"now": now.strftime("%Y-%m-%d %H:%M:%S"), "due": DUE, "total": TOTAL}
        params["template"] = template.pk
    columns, values = [], []
    for field in Meeting._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        expression = overrides.get(field.name)
        values.append(
            expression.format(**words)
            if expression
            else f"t.{connection.ops.quote_name(field.column)}"
        )
    insert = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} "  # noqa: S608
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                insert + f"FROM {table} AS t, {series} WHERE t.id = %(template)s", params
            )
        else:
            cursor.execute(
                "WITH RECURSIVE series(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM series "
                "WHERE n < %(total)s) "
                + insert
                + f"FROM {table} AS t, {series} WHERE t.id = %(template)s",
                params,
            )
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [template.pk])
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
    # One meeting made the ordinary way: the bulk rows are copies of it.
    template = Meeting.objects.create(
        scheme=scheme,
        buddy=buddy,
        venue=venue,
        purpose="Coffee",
        planned_start=now - timedelta(hours=2),
        planned_end=now - timedelta(hours=1),
        expected_end=now - timedelta(hours=1),
        state="checked_out",
    )
    started = time.perf_counter()
    fill(template, now)
    if Meeting.objects.count() != TOTAL:
        sys.exit(f"the sweep bench filled {Meeting.objects.count()} meetings, not {TOTAL}")
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
    if not raised:
        sys.exit(f"the sweep raised no alert for the {DUE} overdue meetings: nothing to measure")
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
    from bench_rows import limit_row

    limit_row(
        f"sweep tick, nothing due, {TOTAL:,} meetings ({connection.vendor})",
        statistics.median(idle) * 1000,
        "ms",
        maximum=10,
        note="due-meetings plan uses the partial index"
        if uses_index
        else "PLAN DOES NOT USE THE INDEX",
    )
    limit_row(
        f"sweep tick raising {raised} alerts",
        busy * 1000,
        "ms",
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
