"""HTTP throughput and dashboard query counts for `make bench` (scripts/bench.sh runs it).

    bench.py http URL      requests/s of four endpoints on the running server, as ratios
                           to a bare Django view on the same server, measured in one run
    bench.py queries N...  SQL queries of one coordinator dashboard request with N members

Both use the database and settings in the environment that scripts/bench.sh sets up.
Load comes from wrk when it is installed, otherwise from a threaded http.client loop; every
measurement is bounded in time (BENCH_SECONDS, 5 s by default, per endpoint).
BENCH_TOOL=python forces the Python client.
"""

import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "buddyscheme.settings")

DEMO_COORDINATOR = "coordinator@example.org"
DEMO_PASSWORD = "buddy-demo-2026"
HOST = "127.0.0.1"  # the Host header every request sends (in ALLOWED_HOSTS)


def django_setup():
    import django

    django.setup()


def get(base, path, headers=None, timeout=10.0):
    """One GET on a fresh connection: (status, body)."""
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_until_up(base, path, seconds=30.0):
    deadline = time.monotonic() + seconds
    while True:
        try:
            status, _ = get(base, path, timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"the server at {base} did not answer {path} within {seconds:.0f} s")
        time.sleep(0.2)


def coordinator_cookie():
    """Log the demo coordinator in (the login form's backend) and return the session cookie."""
    from django.conf import settings
    from django.test import Client

    client = Client(HTTP_HOST=HOST)
    if not client.login(email=DEMO_COORDINATOR, password=DEMO_PASSWORD):
        sys.exit(f"could not log in as {DEMO_COORDINATOR}: did seed_demo run?")
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}"


def record_heartbeat():
    # What the Celery beat would do every 30 s: /healthz answers 503 without it.
    from buddyscheme.services import heartbeat_record

    heartbeat_record("celery")
    heartbeat_record("sweep")


def load_wrk(base, path, headers, seconds, connections):
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    for key, value in headers.items():
        command += ["-H", f"{key}: {value}"]
    command.append(base + path)
    output = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 30, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(failed[1]) if failed else 0
    if socket:
        errors += sum(int(n) for n in socket.groups())
    return rate, errors


def load_python(base, path, headers, seconds, connections):
    """Threads with one keep-alive connection each (reopened when the server closes it)."""
    url = urlsplit(base)
    deadline = time.monotonic() + seconds
    done = [0] * connections
    errors = [0] * connections

    def worker(index):
        conn = None
        while time.monotonic() < deadline:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    done[index] += 1
                else:
                    errors[index] += 1
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - started), sum(errors)


def bench_http(base, seconds, connections):
    django_setup()
    wait_until_up(base, "/bench/bare")
    record_heartbeat()
    cookie = coordinator_cookie()
    endpoints = [
        ("bare view", "/bench/bare", {}),
        ("healthz", "/healthz", {}),
        ("login page", "/accounts/login/", {}),
        ("coordinator dashboard", "/coordinator/", {"Cookie": cookie}),
    ]
    # Every endpoint must answer 200 first: a redirect or a 503 would be measured as fast.
    for name, path, headers in endpoints:
        status, body = get(base, path, {"Host": HOST, **headers})
        if status != 200:
            sys.exit(f"{name} ({path}) answered {status}, not 200: {body[:300]!r}")

    tool = os.environ.get("BENCH_TOOL") or ("wrk" if shutil.which("wrk") else "python")
    load = load_wrk if tool == "wrk" else load_python
    print(
        f"HTTP: gunicorn with 2 sync workers on {base}, SQLite, DEBUG=false; "
        f"{tool}, {connections} connections, {seconds} s per endpoint after a 1 s warm-up"
    )
    rates = {}
    for name, path, headers in endpoints:
        if path == "/healthz":
            record_heartbeat()  # stays fresh however long the run is
        load(base, path, headers, 1, connections)  # warm-up: imports, templates, connections
        rate, errors = load(base, path, headers, seconds, connections)
        if errors:
            sys.exit(f"{name}: {errors} failed requests during the run")
        rates[name] = rate
    bare = rates["bare view"]
    width = max(len(name) for name in rates) + 1
    for name, rate in rates.items():
        print(f"  {name + ':':<{width}} {rate:7.0f} req/s ({rate / bare:.2f}x bare view)")


def dashboard_queries(members):
    """A new scheme: one coordinator and `members - 1` others, every buddy due to renew."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from buddyscheme.models import (
        BuddyStage,
        BuddyVetting,
        DBSCheck,
        DBSLevel,
        Membership,
        Profile,
        Role,
        Scheme,
        TrainingCompletion,
        TrainingModule,
        User,
    )
    from buddyscheme.services import membership_grant
    from buddyscheme.vetting import vetting_lapses

    today = timezone.localdate()
    tag = f"{members}-{time.time_ns()}"
    scheme = Scheme.objects.create(name=f"Dashboard bench {tag}", sender_name="Bench")
    coordinator = User.objects.create_user(email=f"bench-coordinator-{tag}@example.org")
    membership_grant(user=coordinator, scheme=scheme, role=Role.COORDINATOR)
    others = User.objects.bulk_create(
        User(email=f"bench-{n}-{tag}@example.org", first_name=f"Person{n}", password="!")
        for n in range(members - 1)
    )
    Profile.objects.bulk_create(Profile(user=user) for user in others)
    memberships = Membership.objects.bulk_create(
        Membership(user=user, scheme=scheme, role=Role.BUDDY if n % 2 else Role.PARTICIPANT)
        for n, user in enumerate(others)
    )
    buddies = [m for m in memberships if m.role == Role.BUDDY]
    module = TrainingModule.objects.create(scheme=scheme, name="Safeguarding", valid_for_months=24)
    BuddyVetting.objects.bulk_create(
        BuddyVetting(membership=b, stage=BuddyStage.APPROVED) for b in buddies
    )
    DBSCheck.objects.bulk_create(
        DBSCheck(
            membership=b,
            level=DBSLevel.ENHANCED_BARRED,
            certificate_number="001100000001",
            issue_date=today - timedelta(days=1085),
            renewal_due=today + timedelta(days=10),
        )
        for b in buddies
    )
    TrainingCompletion.objects.bulk_create(
        TrainingCompletion(
            membership=b,
            module=module,
            completed_on=today - timedelta(days=700),
            expires_on=today + timedelta(days=20),
        )
        for b in buddies
    )

    client = Client(HTTP_HOST=HOST)
    client.force_login(coordinator)
    client.get("/coordinator/")  # the first request also sets up the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/coordinator/")
    if response.status_code != 200:
        sys.exit(f"the bench coordinator's dashboard answered {response.status_code}")
    return len(queries), len(vetting_lapses(scheme))


def bench_queries(sizes):
    django_setup()
    counts = {size: dashboard_queries(size) for size in sizes}
    print("SQL queries for one coordinator dashboard request (every buddy has lapses listed):")
    for size, (queries, lapses) in counts.items():
        print(f"  {size:4d} members: {queries} queries ({lapses} lapses listed)")
    values = {queries for queries, _ in counts.values()}
    print(f"  constant as the scheme grows: {'yes' if len(values) == 1 else 'NO'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    http_command = commands.add_parser("http")
    http_command.add_argument("base", help="the server, e.g. http://127.0.0.1:8123")
    http_command.add_argument(
        "--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 5))
    )
    http_command.add_argument("--connections", type=int, default=8)
    queries_command = commands.add_parser("queries")
    queries_command.add_argument("members", type=int, nargs="+")
    args = parser.parse_args()
    if args.command == "http":
        bench_http(args.base.rstrip("/"), args.seconds, args.connections)
    else:
        bench_queries(args.members)


if __name__ == "__main__":
    main()
