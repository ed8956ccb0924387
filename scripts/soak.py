"""A bounded soak on loopback that stops by itself (`make soak`, issue 20 "Load").

    soak.py            SOAK_SECONDS (600) of load, 50 buddies and 5 coordinators
    SOAK_QUICK=1       120 s, 10 buddies, 2 coordinators (scripts/bench.sh runs it when BENCH_QUICK=1)

What runs: the Procfile's processes (gunicorn with its sync workers, a Celery worker, beat and
the sweeper; scripts/processes.py) on PostgreSQL (its own database, buddyscheme_soak, dropped
after) and Redis (db 11 for the cache and the broker, emptied after). The demo data is seeded,
then SOAK_BUDDIES more buddies, each with meetings planned one after another over the period,
and coordinators up to SOAK_COORDINATORS, all on call.

What it does: every buddy is a phone with its own address on loopback (127.0.1.N: the login
rate limit is per address, as it is for real phones), its own cookies and session. It logs in
through the login form, and for each of its meetings opens Today, taps "I've arrived" (a real
POST with the form's CSRF token and key), later opens Today again and taps "I've left safely",
which leads to the debrief page; it thinks a few seconds between steps. One meeting in five is
checked out late, after its overdue moment (expected end + grace), so the sweep raises an
overdue alert and the alert message is handed to the email backend (console, as in the demo),
then the late check-out resolves it. Each coordinator opens the live board and polls its live
part every 10 s as the page's htmx does, and opens the dashboard about once a minute.

At the end it prints and records (scripts/bench_rows.py): requests per endpoint with errors,
p50 / p95 / max per endpoint, each process's RSS before and after the load (/proc/<pid>/status:
gunicorn's master and every worker, the Celery worker and its children, beat, the sweeper),
overdue alerts raised and delivered, and their latency from the due instant. A full run writes
benchmarks/soak.md. It exits 1 on any error response, a request that failed, a process that
died (or a gunicorn worker replaced), or an overdue alert not raised and delivered; every
process it started is killed on exit, Ctrl-C included.
"""

from __future__ import annotations

import contextlib
import html.parser
import http.client
import http.cookies
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench_rows import limit_row, ratio_row, rows_file  # noqa: E402 - scripts/, beside this one
from processes import celery_processes, procfile, start, stop  # noqa: E402

QUICK = os.environ.get("SOAK_QUICK") == "1" or os.environ.get("BENCH_QUICK") == "1"
SECONDS = int(os.environ.get("SOAK_SECONDS", 120 if QUICK else 600))
BUDDIES = int(os.environ.get("SOAK_BUDDIES", 10 if QUICK else 50))
COORDINATORS = int(os.environ.get("SOAK_COORDINATORS", 2 if QUICK else 5))
DATABASE = os.environ.get("SOAK_DATABASE", "buddyscheme_soak")
REDIS_URL = os.environ.get("SOAK_REDIS_URL", "redis://127.0.0.1:6379/11")
PASSWORD = "buddy-demo-2026"  # seed_demo's
SCHEME = "Positive Steps Buddies"  # seed_demo's scheme
HOST = "127.0.0.1"
LATE_EVERY = 5  # one meeting in five is checked out late and raises an overdue alert
BOARD_POLL_SECONDS = 10  # the board's hx-trigger="every 10s"
DASHBOARD_EVERY = 6  # polls: the dashboard about once a minute


@dataclass(frozen=True)
class Timing:
    """The meeting rhythm. A full soak: logins spread over the first 70 s (a login hashes the
    password: 55 at once would queue for a minute), then 90-second meetings two minutes apart,
    a minute of grace, late check-outs 30 s after the overdue moment. The quick one has no
    grace and 10-second meetings, checked in 35-40 s ahead, after 45 s for the logins (on a busy
    machine a login took 20-35 s and a page 15-25 s), so that two minutes hold a login, a
    meeting per buddy and some overdue alerts. Both check in well ahead of the start (the window opens 30 minutes before)."""

    lead: float  # seconds from the start of the load to the first check-in (logins in 70% of it)
    length: float  # planned start to planned end
    slot: float  # one buddy's meetings start this far apart
    grace_minutes: int  # the scheme's grace (and high-risk grace) for the soak
    early: tuple[float, float]  # check-in this many seconds before the planned start
    on_time: tuple[float, float]  # check-out this many seconds before the expected end
    late: tuple[float, float]  # late check-out this many seconds after the overdue moment


FULL = Timing(
    lead=100, length=90, slot=120, grace_minutes=1, early=(40, 60), on_time=(8, 20), late=(25, 35)
)
# SOAK_SECONDS under 600 (but not quick): 45-second meetings a minute apart.
SHORT = Timing(
    lead=80, length=45, slot=60, grace_minutes=1, early=(30, 40), on_time=(5, 10), late=(20, 25)
)
QUICK_TIMING = Timing(
    lead=45, length=10, slot=10, grace_minutes=0, early=(35, 40), on_time=(3, 4), late=(6, 8)
)


# --- Figures (unit-tested in tests/test_soak.py) -----------------------------------------------


def percentile(values, fraction: float) -> float | None:
    """The fraction-th percentile by linear interpolation between closest ranks (as numpy's
    default); None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


class Timings:
    """Every request's time by endpoint, and every error with what it was; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    def add(self, endpoint: str, ms: float, error: str | None = None) -> None:
        with self._lock:
            self.times[endpoint].append(ms)
            if error:
                self.errors[endpoint].append(error)

    def summary(self) -> list[dict]:
        """One row per endpoint, in the order first seen: requests, errors, p50, p95, max."""
        with self._lock:
            return [
                {
                    "endpoint": endpoint,
                    "requests": len(times),
                    "errors": len(self.errors[endpoint]),
                    "p50": percentile(times, 0.5),
                    "p95": percentile(times, 0.95),
                    "max": max(times),
                }
                for endpoint, times in self.times.items()
            ]

    def error_count(self) -> int:
        with self._lock:
            return sum(len(errors) for errors in self.errors.values())


def endpoint_table(rows: list[dict]) -> str:
    """Markdown: the per-endpoint figures."""
    lines = [
        "| endpoint | requests | errors | p50 (ms) | p95 (ms) | max (ms) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['endpoint']} | {row['requests']} | {row['errors']} | {row['p50']:.0f} "
            f"| {row['p95']:.0f} | {row['max']:.0f} |"
        )
    total = sum(row["requests"] for row in rows)
    errors = sum(row["errors"] for row in rows)
    lines.append(f"| **all** | **{total}** | **{errors}** | | | |")
    return "\n".join(lines) + "\n"


def memory_table(before: dict[str, float], after: dict[str, float]) -> str:
    """Markdown: each process's RSS before and after (MB); a process only in one of the two
    (started or replaced during the run) shows a dash for the other."""
    lines = ["| process | RSS before (MB) | RSS after (MB) | change (MB) |", "|---|---:|---:|---:|"]
    for name in list(before) + [name for name in after if name not in before]:
        first, last = before.get(name), after.get(name)
        change = f"{last - first:+.1f}" if first is not None and last is not None else "–"
        lines.append(
            f"| {name} | {first if first is None else f'{first:.1f}'} "
            f"| {last if last is None else f'{last:.1f}'} | {change} |".replace("None", "–")
        )
    return "\n".join(lines) + "\n"


# --- Processes and their memory -------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(n) for n in (task / "children").read_text().split()]
    return found


def rss_mb(pid: int) -> float | None:
    """VmRSS from /proc/<pid>/status, in MB; None when the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def process_tree(processes: dict[str, subprocess.Popen]) -> dict[str, int]:
    """Every process started, and what each forked (gunicorn's and Celery's workers), by name."""
    tree = {}
    for name, process in processes.items():
        tree[f"{name} (pid {process.pid})"] = process.pid
        for number, child in enumerate(sorted(_children(process.pid)), start=1):
            tree[f"{name} child {number} (pid {child})"] = child
    return tree


def memory(tree: dict[str, int]) -> dict[str, float]:
    return {name: mb for name, pid in tree.items() if (mb := rss_mb(pid)) is not None}


# --- One phone: its own address, cookies and session -----------------------------------------


class Forms(html.parser.HTMLParser):
    """The page's forms: action -> the fields a browser would send (inputs with a name)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self._current: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self._current = self.forms.setdefault(attributes.get("action") or "", {})
        elif (
            tag == "input"
            and self._current is not None
            and attributes.get("name")
            and attributes.get("type") not in ("checkbox", "radio", "submit")
        ):
            self._current[attributes["name"]] = attributes.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def forms(body: bytes) -> dict[str, dict[str, str]]:
    parser = Forms()
    parser.feed(body.decode("utf-8", "replace"))
    return parser.forms


class Failed(Exception):
    """A step went wrong (an error response, or a page without what the step needs)."""


class Phone:
    def __init__(self, port: int, address: str, timings: Timings) -> None:
        self.port, self.address, self.timings = port, address, timings
        self.cookies: dict[str, str] = {}

    def request(self, endpoint, method, path, fields=None, expect=200, headers=None):
        """One request on a new connection (gunicorn's sync workers close each one)."""
        sent = {"Host": HOST, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["Referer"] = f"http://{HOST}{path}"
        started = time.perf_counter()
        try:
            conn = http.client.HTTPConnection(
                HOST, self.port, timeout=60, source_address=(self.address, 0)
            )
            try:
                conn.request(method, path, body=body, headers=sent)
                response = conn.getresponse()
                content = response.read()
            finally:
                conn.close()
        except (OSError, http.client.HTTPException) as error:
            self.timings.add(endpoint, (time.perf_counter() - started) * 1000, repr(error))
            raise Failed(f"{endpoint}: {error!r}") from error
        ms = (time.perf_counter() - started) * 1000
        for header in response.msg.get_all("Set-Cookie") or []:
            cookie = http.cookies.SimpleCookie(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if response.status != expect:
            self.timings.add(endpoint, ms, f"{response.status} on {method} {path}")
            raise Failed(f"{endpoint}: {response.status} on {method} {path}")
        self.timings.add(endpoint, ms)
        return response, content

    def get(self, endpoint, path, **kwargs):
        return self.request(endpoint, "GET", path, **kwargs)

    def post_form(self, endpoint, page: bytes, action: str, extra=None):
        """Submit the page's form for `action` as a browser would (its hidden fields and CSRF
        token); returns where it redirects to."""
        found = forms(page)
        if action not in found:
            text = page.decode("utf-8", "replace")
            said = next(
                (
                    said
                    for said in ("Check-in closed", "Missed", "You can check in from")
                    if said in text
                ),
                "",
            )
            why = f"no form for {action} on the page" + (f" ({said!r})" if said else "")
            self.timings.add(endpoint, 0, why)
            raise Failed(f"{endpoint}: {why} at {time.strftime('%H:%M:%S')}")
        response, _ = self.request(
            endpoint, "POST", action, fields={**found[action], **(extra or {})}, expect=302
        )
        return response.getheader("Location", "")

    def log_in(self, email: str) -> None:
        _, page = self.get("login page", "/accounts/login/")
        where = self.post_form(
            "log in (POST)", page, "/accounts/login/", {"login": email, "password": PASSWORD}
        )
        if "/accounts/" in where:
            self.timings.add("log in (POST)", 0, f"log in went to {where}")
            raise Failed(f"log in went to {where}")


def sleep_until(moment: float, stopping: threading.Event) -> bool:
    """Wait until time.monotonic() reaches moment; False if the soak is being stopped."""
    return not stopping.wait(max(0.0, moment - time.monotonic()))


@dataclass
class Plan:
    """One buddy's part: its login, and for each meeting when to check in and out."""

    email: str
    address: str
    meetings: list[tuple[int, float, float, bool]] = field(default_factory=list)
    # (meeting pk, check-in at, check-out at, late) in time.monotonic() seconds


def buddy(plan: Plan, port: int, timings: Timings, stopping: threading.Event, failures: list):
    phone = Phone(port, plan.address, timings)
    think = random.Random(plan.email)
    try:
        phone.log_in(plan.email)
        for pk, check_in_at, check_out_at, _late in plan.meetings:
            if not sleep_until(check_in_at, stopping):
                return
            _, page = phone.get("Today", "/today/")
            stopping.wait(think.uniform(1, 3))  # reads the card, taps
            where = phone.post_form("check-in (POST)", page, f"/meetings/{pk}/check-in/")
            _, page = phone.get("Today", where)
            if "Remember to tap" not in page.decode("utf-8", "replace"):
                timings.add("check-in (POST)", 0, "check-in not confirmed on Today")
                raise Failed(f"check-in of meeting {pk} not confirmed")
            if not sleep_until(check_out_at - 3, stopping):
                return
            _, page = phone.get("Today", "/today/")
            stopping.wait(think.uniform(1, 3))
            where = phone.post_form("check-out (POST)", page, f"/meetings/{pk}/check-out/")
            if where != f"/meetings/{pk}/debrief/":
                timings.add("check-out (POST)", 0, f"check-out went to {where}")
                raise Failed(f"check-out of meeting {pk} went to {where}")
            phone.get("debrief page", where)
    except Failed as failure:
        failures.append(str(failure))


def coordinator(email, address, port, timings, stopping, deadline, failures):
    phone = Phone(port, address, timings)
    try:
        phone.log_in(email)
        phone.get("live board page", "/coordinator/board/")
        polls = 0
        while time.monotonic() < deadline and not stopping.is_set():
            phone.get(
                "live board poll",
                "/coordinator/board/live/",
                headers={"HX-Request": "true", "HX-Target": "board-live"},
            )
            polls += 1
            if polls % DASHBOARD_EVERY == 0:
                phone.get("dashboard", "/coordinator/")
            stopping.wait(BOARD_POLL_SECONDS)
    except Failed as failure:
        failures.append(str(failure))


# --- Set-up: database, processes, people and meetings ------------------------------------------


def environment(var_dir: Path, port: int) -> None:
    os.environ.update(
        {
            "BUDDY_VAR_DIR": str(var_dir),
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
            "CACHE_URL": REDIS_URL,
            "CELERY_BROKER_URL": REDIS_URL,
            "DEBUG": "false",
            "SECURE_HTTPS": "false",
            "COORDINATOR_MFA_REQUIRED": "false",
            "ALLOWED_HOSTS": HOST,
            "SITE_URL": f"http://{HOST}:{port}",
            "LOG_LEVEL": "WARNING",
            "SECRET_KEY": "soak-" + secrets.token_hex(32),
            "DJANGO_SETTINGS_MODULE": "buddyscheme.settings",
        }
    )
    for name in (
        "STATICFILES_BACKEND",
        "CELERY_TASK_ALWAYS_EAGER",
        "SECURE_SSL_REDIRECT",
        "EMAIL_URL",
        "BENCH_BARE_VIEW",
    ):
        os.environ.pop(name, None)


def psql(*sql: str) -> None:
    command = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-v", "ON_ERROR_STOP=1"]
    for statement in sql:
        command += ["-c", statement]
    subprocess.run([*command, "postgres"], check=True, stdout=subprocess.DEVNULL)


def redis_flush() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def manage(*args: str) -> None:
    started = time.monotonic()
    subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", *args],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(f"  manage.py {args[0]}: {time.monotonic() - started:.0f} s", flush=True)


def wait_until_up(port: int, processes, seconds: float = 180) -> None:
    """Until the login page answers 200 (a busy machine takes a while to boot the workers)."""
    deadline = time.monotonic() + seconds
    last = "no answer"
    while time.monotonic() < deadline:
        crashed = [name for name, process in processes.items() if process.poll() is not None]
        if crashed:
            raise SystemExit(f"soak: {', '.join(crashed)} exited during start-up (see its log)")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=30)
            conn.request("GET", "/accounts/login/", headers={"Host": HOST})
            status = conn.getresponse().status
            if status == 200:
                return
            last = f"status {status}"
        except OSError as error:
            last = repr(error)
        time.sleep(0.5)
    raise SystemExit(f"soak: the server did not answer within {seconds:.0f} s ({last})")


def warm_up(port: int, requests: int = 6) -> None:
    """A few pages at once, so that every gunicorn worker has served its first (slow) request
    before the load and the memory reading start."""

    def one():
        with contextlib.suppress(OSError):
            conn = http.client.HTTPConnection(HOST, port, timeout=60)
            conn.request("GET", "/accounts/login/", headers={"Host": HOST})
            conn.getresponse().read()

    threads = [threading.Thread(target=one) for _ in range(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def people_and_meetings(timing: Timing) -> tuple[float, list[Plan], list[str], int, list[int]]:
    """The soak's buddies and coordinators in the demo scheme, and the buddies' meetings
    planned over the period; returns the buddies' plans, the coordinators' emails and the
    number of meetings planned to be checked out late, and the meetings' ids. The load starts
    (the first value, in time.monotonic() seconds) once they are made."""
    from django.utils import timezone

    from buddyscheme.models import Membership, Role, Scheme, User
    from meetings.models import LoneWorkingSettings, Meeting, MeetingState
    from tests.factories import MembershipFactory, cleared_buddy, venue

    scheme = Scheme.objects.get(name=SCHEME)
    LoneWorkingSettings.objects.update_or_create(
        scheme=scheme,
        defaults={
            "grace_minutes": timing.grace_minutes,
            "high_risk_grace_minutes": timing.grace_minutes,
        },
    )
    demo_coordinator = Membership.objects.get(
        scheme=scheme, role=Role.COORDINATOR, user__email="coordinator@example.org"
    )
    Membership.objects.filter(pk=demo_coordinator.pk).update(is_on_call=True)
    coordinators = [demo_coordinator.user.email]
    stamp = f"{timezone.now():%H%M%S}"  # a second run on a kept database makes new people
    for number in range(2, COORDINATORS + 1):
        email = f"soak-{stamp}-coordinator{number}@example.org"
        MembershipFactory(scheme=scheme, role=Role.COORDINATOR, is_on_call=True, user__email=email)
        coordinators.append(email)
    buddies = [
        cleared_buddy(scheme, email=f"soak-{stamp}-buddy{number}@example.org")
        for number in range(1, BUDDIES + 1)
    ]
    load_start = time.monotonic() + 2
    # The demo password, with one hash for all (hashing 55 passwords only slows the set-up).
    User.objects.filter(email__startswith=f"soak-{stamp}-").update(
        password=User.objects.get(email="buddy1@example.org").password
    )
    place = venue(scheme, name="Soak café")
    grace = timing.grace_minutes * 60
    end = load_start + SECONDS
    # Wall clock for the database, monotonic for the phones: one instant links them.
    wall, mono = timezone.now(), time.monotonic()
    jitter = random.Random(2026)
    meetings, moments = [], []
    for number, membership in enumerate(buddies):
        first = load_start + timing.lead + timing.slot * number / len(buddies)
        k = 0
        free_at = first  # a buddy's next check-in waits until its last meeting is checked out
        while True:
            check_in_at = max(first + k * timing.slot, free_at + 10)
            starts = check_in_at + jitter.uniform(*timing.early)
            # Only meetings that are over (late ones too) a few seconds before the end.
            if starts + timing.length + grace + timing.late[1] + 8 > end:
                break
            late = (len(meetings) % LATE_EVERY) == 2
            planned_start = wall + timedelta(seconds=starts - mono)
            planned_end = planned_start + timedelta(seconds=timing.length)
            meetings.append(
                Meeting(
                    scheme=scheme,
                    buddy=membership,
                    venue=place,
                    purpose="Soak",
                    planned_start=planned_start,
                    planned_end=planned_end,
                    expected_end=planned_end,
                    state=MeetingState.PLANNED,
                    # As booking sets it: a missed check-in is due after the grace.
                    next_alert_at=planned_start + timedelta(seconds=grace),
                )
            )
            ends = starts + timing.length
            free_at = ends + grace + timing.late[1] if late else ends
            moments.append(
                (
                    number,
                    check_in_at,
                    ends + grace + jitter.uniform(*timing.late)
                    if late
                    else ends - jitter.uniform(*timing.on_time),
                    late,
                )
            )
            k += 1
    created = Meeting.objects.bulk_create(meetings)
    plans = [Plan(email=m.user.email, address=f"127.0.1.{n + 1}") for n, m in enumerate(buddies)]
    for meeting, (number, check_in_at, check_out_at, late) in zip(created, moments, strict=True):
        plans[number].meetings.append((meeting.pk, check_in_at, check_out_at, late))
    late = sum(1 for *_, late in moments if late)
    return load_start, plans, coordinators, late, [m.pk for m in created]


def alert_figures(meetings: list[int]) -> dict:
    """Overdue alerts on the soak's meetings: raised, delivered (the email handed over: its
    Notification.sent_at) and latency from the due instant; other alerts counted apart."""
    from meetings.models import Alert, AlertRecipient

    alerts = Alert.objects.filter(meeting__in=meetings)
    overdue = alerts.filter(reason="overdue", level=1)
    rows = list(overdue.values_list("pk", "due_at", "raised_at"))
    sent: dict[int, object] = {}
    for alert_id, sent_at in AlertRecipient.objects.filter(
        alert__in=overdue, channel="email", notification__sent_at__isnull=False
    ).values_list("alert_id", "notification__sent_at"):
        sent[alert_id] = min(sent_at, sent.get(alert_id, sent_at))  # the first message sent
    return {
        "raised": len(rows),
        "delivered": len(sent),
        "raised_latency": [(raised - due).total_seconds() for _, due, raised in rows],
        "delivered_latency": [
            (sent[pk] - due).total_seconds() for pk, due, _ in rows if pk in sent
        ],
        "other": alerts.exclude(pk__in=[pk for pk, *_ in rows]).count(),
        "open": overdue.filter(resolved_at__isnull=True).count(),
    }


# --- The run --------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def stopped_by_signal(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    timing = QUICK_TIMING if QUICK else FULL if SECONDS >= 600 else SHORT
    var_dir = Path(os.environ.get("SOAK_VAR_DIR", ROOT / "var" / "soak")).resolve()
    # From bench.sh the rows join the bench's table; alone they go with the soak's files.
    if "BENCH_ROWS" not in os.environ:
        os.environ["BENCH_ROWS"] = str(
            rows_file() if "BUDDY_VAR_DIR" in os.environ else var_dir / "bench-rows.jsonl"
        )
        if "BUDDY_VAR_DIR" not in os.environ:
            Path(os.environ["BENCH_ROWS"]).unlink(missing_ok=True)
    services = subprocess.run(
        ["bash", str(ROOT / "scripts/services.sh")], capture_output=True, text=True
    ).stdout
    if "postgres" not in services or "redis" not in services:
        print("soak: it needs PostgreSQL and Redis on 127.0.0.1 (neither is optional)")
        return 1
    port = free_port()
    environment(var_dir, port)
    signal.signal(signal.SIGTERM, stopped_by_signal)
    processes: dict[str, subprocess.Popen] = {}
    stopping = threading.Event()
    threads: list[threading.Thread] = []
    try:
        var_dir.mkdir(parents=True, exist_ok=True)
        print(
            f"Soak: {SECONDS} s, {BUDDIES} buddies, {COORDINATORS} coordinators; "
            f"setting up {DATABASE} (PostgreSQL) and Redis ({REDIS_URL})…",
            flush=True,
        )
        if os.environ.get("SOAK_REUSE") != "1":  # SOAK_REUSE=1: the database SOAK_KEEP=1 kept
            psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)", f"CREATE DATABASE {DATABASE}")
            redis_flush()
            manage("migrate", "--noinput", "-v0")
            manage("collectstatic", "--noinput", "-v0")
            manage("seed_demo")

        import django

        django.setup()
        from django.test.utils import override_settings

        # The Procfile's processes: gunicorn (its sync workers), worker, beat, sweeper.
        processes["web"] = start("web", *procfile(port)["web"], log_dir=var_dir)
        processes.update(celery_processes(var_dir))
        wait_until_up(port, processes)
        warm_up(port)
        time.sleep(3)  # the Celery worker's children fork after the web answers
        # The factories hash each password (PBKDF2, seconds apiece on a busy machine): a fast
        # hasher while they make the people, who are then given the demo password's hash.
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            load_start, plans, coordinators, late_planned, meeting_ids = people_and_meetings(timing)
        tree = process_tree(processes)
        rss_before = memory(tree)
        gunicorn_workers = set(_children(processes["web"].pid))
        planned = sum(len(plan.meetings) for plan in plans)
        print(
            f"{planned} meetings planned ({late_planned} to be checked out late), "
            f"gunicorn on port {port}; load for {SECONDS} s…",
            flush=True,
        )

        timings = Timings()
        failures: list[str] = []
        deadline = load_start + SECONDS
        # One login at a time, spread over 70% of the lead: the coordinators, then the buddies.
        login_gap = timing.lead * 0.7 / max(1, len(plans) + len(coordinators))

        def later(at, target, *args):
            def run():
                if sleep_until(at, stopping):
                    target(*args)

            return threading.Thread(target=run, daemon=True)

        for number, email in enumerate(coordinators):
            address = f"127.0.2.{number + 1}"
            threads.append(
                later(
                    load_start + number * login_gap,
                    coordinator,
                    *(email, address, port, timings, stopping, deadline, failures),
                )
            )
        for number, plan in enumerate(plans):
            threads.append(
                later(
                    load_start + (len(coordinators) + number) * login_gap,
                    buddy,
                    *(plan, port, timings, stopping, failures),
                )
            )
        for thread in threads:
            thread.start()

        crashed: list[str] = []
        while time.monotonic() < deadline and any(thread.is_alive() for thread in threads):
            for name, process in processes.items():
                if process.poll() is not None and name not in crashed:
                    crashed.append(f"{name} exited with {process.returncode}")
            gone = gunicorn_workers - set(_children(processes["web"].pid))
            if gone:
                crashed.append(f"gunicorn worker(s) {sorted(gone)} replaced")
                gunicorn_workers -= gone
            if crashed:
                break
            time.sleep(1)
        stopping.set()
        for thread in threads:
            thread.join(timeout=70)
        time.sleep(2)  # a message handed over in the last round is in the database
        rss_after = memory(tree)
        for name, process in processes.items():
            if process.poll() is not None and not any(c.startswith(name) for c in crashed):
                crashed.append(f"{name} exited with {process.returncode}")
        alerts = alert_figures(meeting_ids)
    except KeyboardInterrupt:
        print("soak: stopped (Ctrl-C or SIGTERM); every process it started is being ended")
        stopping.set()
        return 130
    finally:
        stopping.set()
        stop(processes.values())
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001, S110 - Django may not be set up yet
            pass
        if os.environ.get("SOAK_KEEP") != "1":
            psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
            redis_flush()

    return report(
        timing, timings, failures, crashed, rss_before, rss_after, alerts, late_planned, planned
    )


def report(timing, timings, failures, crashed, rss_before, rss_after, alerts, late, planned):
    rows = timings.summary()
    errors = timings.error_count()
    print()
    print(endpoint_table(rows))
    print(memory_table(rss_before, rss_after))
    raised_p50 = percentile(alerts["raised_latency"], 0.5)
    raised_p95 = percentile(alerts["raised_latency"], 0.95)
    sent_p50 = percentile(alerts["delivered_latency"], 0.5)
    sent_p95 = percentile(alerts["delivered_latency"], 0.95)

    def s(value):
        return "–" if value is None else f"{value:.1f} s"

    alert_lines = (
        f"Overdue alerts: {late} late check-outs planned, {alerts['raised']} alerts raised, "
        f"{alerts['delivered']} delivered (email handed to the backend), {alerts['open']} "
        f"still open at the end; other alerts on the soak's meetings: {alerts['other']}.\n"
        f"Latency from the due instant: to the alert row p50 {s(raised_p50)}, p95 "
        f"{s(raised_p95)}; to the message handed over p50 {s(sent_p50)}, p95 {s(sent_p95)}.\n"
    )
    print(alert_lines)
    for failure in failures[:20]:
        print(f"  failed: {failure}")
    for crash in crashed:
        print(f"  process: {crash}")

    mode = "quick" if QUICK else "full"
    limit_row(
        f"soak ({mode}): error responses",
        errors,
        "errors",
        maximum=0,
        note=f"{sum(r['requests'] for r in rows)} requests in {SECONDS} s, {BUDDIES} buddies, "
        f"{COORDINATORS} coordinators",
    )
    for row in rows:
        limit_row(
            f"soak: {row['endpoint']} p95",
            row["p95"],
            "ms",
            note=f"p50 {row['p50']:.0f} ms, {row['requests']} requests, {row['errors']} errors",
        )
    for name, mb in rss_after.items():
        first = rss_before.get(name)
        limit_row(
            f"soak: RSS {name.split(' (pid')[0]}{name.split(')')[-1]}",
            mb,
            "MB",
            note=f"{first:.1f} MB before the load"
            if first is not None
            else "started during the run",
        )
    ratio_row(
        "soak: overdue alerts delivered",
        alerts["delivered"],
        "alerts",
        late,
        "late check-outs",
        minimum=1.0,
    )
    limit_row(
        "soak: overdue alert latency p95, to the message handed over",
        sent_p95,
        "s",
        maximum=15,
        note=f"p50 {s(sent_p50)}; to the alert row p50 {s(raised_p50)}, p95 {s(raised_p95)}",
    )

    ok = not errors and not failures and not crashed and alerts["delivered"] >= late > 0
    if not QUICK:
        write_markdown(timing, rows, rss_before, rss_after, alert_lines, planned, ok, crashed)
    print(
        "soak: pass (no error, no process died, every overdue alert delivered)"
        if ok
        else "soak: FAIL"
    )
    return 0 if ok else 1


def write_markdown(timing, rows, before, after, alert_lines, planned, ok, crashed):
    out = ROOT / "benchmarks" / "soak.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        f"# make soak: last full run\n\n"
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {os.cpu_count()} cores, "
        f"PostgreSQL + Redis on loopback; the Procfile's processes (gunicorn 2 sync workers, "
        f"Celery worker concurrency 2, beat, sweeper). {SECONDS} s of load: {BUDDIES} buddies "
        f"({planned} meetings of {timing.length:.0f} s, {timing.grace_minutes} min grace, one "
        f"in {LATE_EVERY} checked out late) and {COORDINATORS} coordinators polling the live "
        f"board every {BOARD_POLL_SECONDS} s and opening the dashboard every "
        f"{BOARD_POLL_SECONDS * DASHBOARD_EVERY} s. Result: {'pass' if ok else 'FAIL'}.\n\n"
        f"## Requests\n\n{endpoint_table(rows)}\n"
        f"## Memory (RSS from /proc/<pid>/status, before and after the load)\n\n"
        f"{memory_table(before, after)}\n"
        f"## Alerts\n\n{alert_lines}\n" + ("".join(f"- {c}\n" for c in crashed) if crashed else ""),
        encoding="utf-8",
    )
    print(f"(written to {out.relative_to(ROOT)})")


if __name__ == "__main__":
    sys.exit(main())
