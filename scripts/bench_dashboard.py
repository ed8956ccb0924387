"""The coordinator dashboard at scale for `make bench` (scripts/bench.sh runs it after
`bench.py lone`, against the same server and database).

    bench_dashboard.py URL

Adds a year of data to the demo coordinator's scheme (5,000 matches and 100,000 checked-out
meetings; BENCH_QUICK=1: 200 and 2,000), then measures in one run the bare view requested with
the coordinator's session and /coordinator/ with the same session, and counts the dashboard's
SQL queries on that data: with nothing kept, with the figures kept, and with the whole body
kept (buddyscheme/dashboard.py: what a coordinator reloading the page gets for 20 s).
"""

import collections
import os
import re
import shutil
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import (  # noqa: E402
    DEMO_COORDINATOR,
    HOST,
    RETRY_FACTOR,
    coordinator_cookie,
    get,
    load_python,
    load_wrk,
    record_heartbeat,
    wait_until_up,
)
from bench_report import MATCHES, MEETINGS, year_of_data  # noqa: E402 - sets Django up

TARGET = 0.3
NAME = f"coordinator dashboard, {MATCHES:,} matches / {MEETINGS:,} meetings"


def dashboard_queries(client):
    """Queries per request: (nothing kept, the figures and flags kept but not the body, the
    body kept)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from buddyscheme.dashboard import dashboard_forget
    from evaluation.dashboard import forget_figures

    # What the beat does every 30 s. Without it, after the minutes spent adding a year of data,
    # the page finds the safety net silent and tells the staff (the watchdog's own queries),
    # which is not the dashboard growing with the data.
    record_heartbeat()
    # And a request first: the session's idle timestamp is refreshed at most once a minute,
    # so after minutes of adding data the first request would also save the session.
    client.get("/bench/bare")
    scheme = client_scheme(client)
    forget_figures(scheme)  # the figures, the flags and the body
    counts, statements = [], []
    for forget in (lambda: None, lambda: dashboard_forget(scheme.pk), lambda: None):
        forget()
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/coordinator/")
        if response.status_code != 200:
            sys.exit(f"the dashboard answered {response.status_code}")
        counts.append(len(queries))
        statements.append([query["sql"] for query in queries])
    return tuple(counts), statements


def grown(before, after):
    """The statements (numbers blanked) run more often on the big data than on the demo's."""
    shape = collections.Counter(re.sub(r"\d+", "N", sql)[:240] for sql in before)
    more = collections.Counter(re.sub(r"\d+", "N", sql)[:240] for sql in after)
    return [f"  {more[sql] - shape[sql]:+d}  {sql}" for sql in more if more[sql] > shape[sql]]


def client_scheme(client):
    """The scheme the demo coordinator's dashboard shows (the first joined, as the middleware
    chooses when the session holds no choice)."""
    from buddyscheme.models import Membership, Role

    return (
        Membership.objects.filter(
            user__email=DEMO_COORDINATOR, role=Role.COORDINATOR, is_active=True
        )
        .select_related("scheme")
        .order_by("joined_at", "pk")
        .first()
        .scheme
    )


def measure(base, seconds, connections):
    """Requests per second of the bare view and of the dashboard, with the coordinator's
    session, one after the other on the same server."""
    record_heartbeat()  # what the Celery beat does: without it every page warns staff
    cookie = coordinator_cookie()
    tool = os.environ.get("BENCH_TOOL") or ("wrk" if shutil.which("wrk") else "python")
    load = load_wrk if tool == "wrk" else load_python
    endpoints = {
        "logged-in bare view": "/bench/bare",
        "coordinator dashboard": "/coordinator/",
    }
    # Every endpoint must answer 200; a few requests each first warm both workers (imports,
    # templates, the figures' cache), which on a busy machine can take longer than a window.
    for name, path in endpoints.items():
        for _ in range(4):
            status, body = get(base, path, {"Host": HOST, "Cookie": cookie}, timeout=60)
            if status != 200:
                sys.exit(f"{name} ({path}) answered {status}, not 200: {body[:300]!r}")
    rates = {}
    for name, path in endpoints.items():
        headers = {"Host": HOST, "Cookie": cookie}
        load(base, path, headers, 1, connections)  # warm-up
        rate, errors = load(base, path, headers, seconds, connections)
        if rate <= 0 and not errors:
            rate, errors = load(base, path, headers, max(seconds, 1) * RETRY_FACTOR, connections)
        if errors:
            sys.exit(f"{name}: {errors} failed requests during the run")
        if rate <= 0:
            sys.exit(f"{name}: no request completed even in {seconds * RETRY_FACTOR} s")
        rates[name] = rate
    return tool, rates["logged-in bare view"], rates["coordinator dashboard"]


def main(base, seconds, connections):
    from django.test import Client
    from django.utils import timezone

    from buddyscheme.models import User

    wait_until_up(base, "/bench/bare")
    client = Client(HTTP_HOST=HOST)
    client.force_login(User.objects.get(email=DEMO_COORDINATOR))
    client.get("/coordinator/")  # the session
    before, before_sql = dashboard_queries(client)
    scheme = client_scheme(client)
    year_of_data(
        timezone.localdate() - timedelta(days=360),
        scheme=scheme,
        matches_wanted=MATCHES,
        meetings_wanted=MEETINGS,
    )
    after, after_sql = dashboard_queries(client)

    tool, bare, dashboard = measure(base, seconds, connections)
    print(
        f"Coordinator dashboard with {MATCHES:,} matches and {MEETINGS:,} meetings added to the "
        f"demo scheme ({tool}, {connections} connections, {seconds} s each, same server):"
    )
    print(f"  bare view, logged-in coordinator: {bare:7.1f} req/s")
    print(
        f"  coordinator dashboard:            {dashboard:7.1f} req/s "
        f"({dashboard / bare:.3f}x logged-in bare view; target >= {TARGET}x)"
    )
    print(
        f"  queries per request: {after[0]} with nothing kept, {after[1]} with the figures "
        f"kept, {after[2]} with the body kept (on the demo data before: "
        f"{before[0]}, {before[1]} and {before[2]})"
    )
    from bench_rows import limit_row, ratio_row

    ratio_row(NAME, dashboard, "req/s", bare, "logged-in bare view", TARGET)
    limit_row(
        f"dashboard queries, {MATCHES:,} matches / {MEETINGS:,} meetings",
        after[0],
        "queries",
        maximum=before[0],
        note=f"{before[0]} on the demo data: must not grow; {after[1]} with the figures kept, "
        f"{after[2]} with the body kept",
    )
    if after[0] > before[0] or after[1] > before[1] or after[2] > before[2]:
        for kept, (was, now) in enumerate(zip(before_sql, after_sql, strict=True)):
            print(
                f"statements run more often (request {kept + 1} of 3):", *grown(was, now), sep="\n"
            )
        sys.exit("the dashboard's number of queries grows with the data")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), int(os.environ.get("BENCH_SECONDS", 5)), 8)
