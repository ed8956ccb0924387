"""A bounded soak on loopback that stops by itself (`make soak`, issue 20 "Load").

    soak.py            SOAK_SECONDS (600) of load, 50 buddies and 5 coordinators
    SOAK_QUICK=1       150 s, 10 buddies, 2 coordinators (scripts/bench.sh runs it when BENCH_QUICK=1)

What runs: the Procfile's processes (gunicorn with its sync workers, a Celery worker, beat and
the sweeper; scripts/processes.py) on PostgreSQL (its own database, SOAK_DATABASE, default
buddyscheme_soak, dropped after) and Redis (SOAK_CACHE_URL and SOAK_BROKER_URL, by default db 3
and db 4 as scripts/bench.sh uses them, emptied before and after). The demo data is seeded,
then SOAK_BUDDIES more buddies, each with meetings planned one after another over the period,
and coordinators up to SOAK_COORDINATORS, all on call.

What it does: every buddy is a phone with its own address on loopback (127.0.1.N: the login
rate limit is per address, as it is for real phones), its own cookies and session. It logs in
through the login form, and for each of its meetings opens Today, taps "I've arrived" (a real
POST with the form's CSRF token and key), later opens Today again and taps "I've left safely",
which leads to the debrief page; it thinks a few seconds between steps. One meeting in five is
checked out late, after its overdue moment (expected end + grace), so the sweep raises a
level-1 overdue alert (the check-out prompt to the buddy) and its message is handed to the
email backend (console, as in the demo); the late check-out resolves it. SOAK_FORGETFUL
buddies (2 quick, 5 full) log in first and forget to check out of their first meeting: with
the escalation step at its least (a minute) it climbs to level 2 (the coordinators) and, in a
full run, level 3 (everyone on call), and only then do they check out, which sends those told
the all-clear. Each coordinator opens the live board and polls its live part every 10 s as the
page's htmx does, and opens the dashboard about once a minute.

At the end it prints and records (scripts/bench_rows.py): requests per endpoint with errors,
p50 / p95 / max per endpoint, each process's RSS before and after the load (/proc/<pid>/status:
gunicorn's master and every worker, the Celery worker and its children, beat, the sweeper),
and for each kind of check-out and level the overdue alerts expected, raised and delivered,
with their latency from the due instant. A full run writes benchmarks/soak.md. It exits 1 on
any error response, a request that failed, a process that died (or a gunicorn worker
replaced), a plan without late or forgotten check-outs, or an expected alert or all-clear not
raised and delivered; every process it started is killed on exit, Ctrl-C included.
"""

from __future__ import annotations

import contextlib
import html.parser
import http.client
import http.cookies
import math
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
SECONDS = int(os.environ.get("SOAK_SECONDS", 150 if QUICK else 600))
BUDDIES = int(os.environ.get("SOAK_BUDDIES", 10 if QUICK else 50))
COORDINATORS = int(os.environ.get("SOAK_COORDINATORS", 2 if QUICK else 5))
# Buddies who check in and forget to check out: their meeting escalates level by level.
FORGETFUL = int(os.environ.get("SOAK_FORGETFUL", 2 if QUICK else 5))
# Where it runs. The defaults are what scripts/bench.sh uses (Redis db 3 for the cache, 4 for
# the broker); its own PostgreSQL database, dropped after. Each is emptied before and after.
DATABASE = os.environ.get("SOAK_DATABASE", "buddyscheme_soak")
CACHE_URL = os.environ.get("SOAK_CACHE_URL", "redis://127.0.0.1:6379/3")
BROKER_URL = os.environ.get("SOAK_BROKER_URL", "redis://127.0.0.1:6379/4")
PASSWORD = "buddy-demo-2026"  # seed_demo's
SCHEME = "Positive Steps Buddies"  # seed_demo's scheme
HOST = "127.0.0.1"
LATE_EVERY = 5  # one other meeting in five is checked out late and raises an overdue alert
ESCALATION_MINUTES = 1  # the scheme's escalation step for the soak (the least it allows)
END_MARGIN = 8  # every meeting is over (checked out) this many seconds before the load ends
FORGET_GAP = 3  # seconds between the forgetful buddies' check-ins
LOGIN_GAP = 1.5  # seconds at least between two logins
LOGIN_AHEAD = 30  # seconds a buddy logs in before its first check-in (if it can: LOGIN_GAP)
BOARD_POLL_SECONDS = 10  # the board's hx-trigger="every 10s"
DASHBOARD_EVERY = 6  # polls: the dashboard about once a minute

ON_TIME, LATE, FORGOTTEN = "on time", "late check-out", "forgotten check-out"
KINDS = (ON_TIME, LATE, FORGOTTEN)


@dataclass(frozen=True)
class Timing:
    """The meeting rhythm. A full soak: logins spread over the first 70 s (a login hashes the
    password: 55 at once would queue for a minute), then 90-second meetings two minutes apart,
    a minute of grace, late check-outs 30 s after the overdue moment; the forgetful buddies'
    meetings escalate to the top level (3: every on-call responder) before they check out. The
    quick one has no grace, 10-second meetings checked in 18-22 s ahead, late check-outs
    12-15 s after the overdue moment (the sweeper runs every 5 s) and forgotten meetings that
    escalate to level 2 (the coordinators), so that 150 s hold a login, one or two meetings
    per buddy and a real escalation. The forgetful buddies log in first and check in
    early: level 2 falls due a minute after level 1 (the least a scheme can set)."""

    lead: float  # seconds from the start of the load to the first check-in (logins in 70% of it)
    length: float  # planned start to planned end
    slot: float  # one buddy's meetings start this far apart (or 10 s after its last check-out)
    grace_minutes: int  # the scheme's grace (and high-risk grace) for the soak
    early: tuple[float, float]  # check-in this many seconds before the planned start
    on_time: tuple[float, float]  # check-out this many seconds before the expected end
    late: tuple[float, float]  # late check-out this many seconds after the overdue moment
    forget_lead: float  # the first forgetful buddy's check-in, from the start of the load
    forget_levels: int  # a forgotten meeting escalates this far before the buddy checks out
    remember: tuple[float, float]  # ... this many seconds after that level fell due


FULL = Timing(
    lead=100,
    length=90,
    slot=120,
    grace_minutes=1,
    early=(40, 60),
    on_time=(8, 20),
    late=(25, 35),
    forget_lead=40,
    forget_levels=3,
    remember=(30, 40),
)
# SOAK_SECONDS under 600 (but not quick): 45-second meetings a minute apart.
SHORT = Timing(
    lead=80,
    length=45,
    slot=60,
    grace_minutes=1,
    early=(30, 40),
    on_time=(5, 10),
    late=(20, 25),
    forget_lead=30,
    forget_levels=2,
    remember=(20, 30),
)
QUICK_TIMING = Timing(
    lead=35,
    length=10,
    slot=20,
    grace_minutes=0,
    early=(18, 22),
    on_time=(3, 4),
    late=(12, 15),
    forget_lead=12,
    forget_levels=2,
    remember=(15, 20),
)


@dataclass(frozen=True)
class Slot:
    """One planned meeting: whose, what kind, and its moments in seconds from the start of the
    load (the buddy's taps, the planned start and end, and the overdue moment)."""

    buddy: int
    kind: str
    check_in: float
    start: float
    end: float
    due: float  # end + grace: level 1 of the overdue alert falls due
    check_out: float

    def levels(self, timing: Timing) -> int:
        """The overdue levels this meeting must raise and deliver (0: none)."""
        return {ON_TIME: 0, LATE: 1, FORGOTTEN: timing.forget_levels}[self.kind]

    def level_due(self, level: int) -> float:
        return self.due + (level - 1) * ESCALATION_MINUTES * 60


def plan(timing: Timing, buddies: int, seconds: float, forgetful: int, seed=2026) -> list[Slot]:
    """Every buddy's meetings over `seconds` of load. The first `forgetful` buddies log in
    first and check in early to a meeting they forget to check out of: it escalates a level a
    minute up to `timing.forget_levels`, and they remember and check out a little after that
    level fell due. Then, as for every other buddy, meetings one after another from
    `timing.lead` on: each checked in `timing.early` ahead of its start, and checked out just
    before its end, or, one in LATE_EVERY, after its overdue moment. A buddy's next check-in
    waits until 10 s after its last check-out, and every meeting is checked out END_MARGIN s
    before the end; one that would not be is not planned."""
    jitter = random.Random(seed)
    grace = timing.grace_minutes * 60

    def moments(check_in: float) -> tuple[float, float, float]:
        """A meeting's planned start, end and overdue moment, from its check-in."""
        start = check_in + jitter.uniform(*timing.early)
        end = start + timing.length
        return start, end, end + grace

    def check_out_at(kind: str, end: float, due: float) -> float:
        if kind == FORGOTTEN:  # a little after the last level it must raise fell due
            last_level = due + (timing.forget_levels - 1) * ESCALATION_MINUTES * 60
            return last_level + jitter.uniform(*timing.remember)
        if kind == LATE:
            return due + jitter.uniform(*timing.late)
        return end - jitter.uniform(*timing.on_time)

    slots: list[Slot] = []
    others = 0
    for number in range(buddies):
        free_at = -math.inf
        if number < forgetful:
            check_in = timing.forget_lead + FORGET_GAP * number
            start, end, due = moments(check_in)
            check_out = check_out_at(FORGOTTEN, end, due)
            if check_out + END_MARGIN <= seconds:
                slots.append(Slot(number, FORGOTTEN, check_in, start, end, due, check_out))
                free_at = check_out
        first = timing.lead + timing.slot * number / buddies
        k = 0
        while True:
            check_in = max(first + k * timing.slot, free_at + 10)
            start, end, due = moments(check_in)
            if due + timing.late[1] + END_MARGIN > seconds:
                break
            kind = LATE if others % LATE_EVERY == 2 else ON_TIME
            check_out = check_out_at(kind, end, due)
            slots.append(Slot(number, kind, check_in, start, end, due, check_out))
            others += 1
            free_at = check_out
            k += 1
    return slots


def login_moments(
    first_check_ins: list[float], coordinators: int, forgetful: int
) -> tuple[list, list]:
    """When each buddy and each coordinator logs in, in seconds from the start of the load. A
    login hashes the password (a second or more of CPU, several on a busy machine) and the
    web has two sync workers, so logins go one at a time, LOGIN_GAP apart, and never all at
    once: the forgetful buddies first (their meetings must escalate within the run), then the
    coordinators, then every other buddy LOGIN_AHEAD s before its first check-in, as a phone
    would (they stay logged in)."""
    coordinator_logins = []
    at = -LOGIN_GAP
    order = sorted(range(len(first_check_ins)), key=lambda n: first_check_ins[n])
    first, others = order[:forgetful], order[forgetful:]
    moments: dict[int, float] = {}
    for number in first:
        at += LOGIN_GAP
        moments[number] = at
    for _ in range(coordinators):
        at += LOGIN_GAP
        coordinator_logins.append(at)
    for number in others:
        ahead = first_check_ins[number] - LOGIN_AHEAD  # (a buddy with no meeting: at once)
        at = max(at + LOGIN_GAP, ahead if math.isfinite(ahead) else 0)
        moments[number] = at
    return [moments[number] for number in range(len(first_check_ins))], coordinator_logins


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
    meetings: list[tuple[int, float, float, str]] = field(default_factory=list)
    # (meeting pk, check-in at, check-out at, kind) in time.monotonic() seconds


def buddy(plan: Plan, port: int, timings: Timings, stopping: threading.Event, failures: list):
    phone = Phone(port, plan.address, timings)
    think = random.Random(plan.email)
    try:
        phone.log_in(plan.email)
        for pk, check_in_at, check_out_at, _kind in plan.meetings:
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
            "CACHE_URL": CACHE_URL,
            "CELERY_BROKER_URL": BROKER_URL,
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

    for url in dict.fromkeys((CACHE_URL, BROKER_URL)):  # only the soak's own dbs
        redis.Redis.from_url(url).flushdb()


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


def lone_working_for_soak(scheme, timing: Timing) -> None:
    """The scheme's grace (both) and escalation step as the soak's rhythm needs them."""
    from meetings.models import LoneWorkingSettings

    LoneWorkingSettings.objects.update_or_create(
        scheme=scheme,
        defaults={
            "grace_minutes": timing.grace_minutes,
            "high_risk_grace_minutes": timing.grace_minutes,
            "escalation_minutes": ESCALATION_MINUTES,
        },
    )


def meetings_create(scheme, buddies, place, slots: list[Slot], timing: Timing, origin):
    """The planned meetings as rows, the load starting at `origin` (a datetime); returns
    (meeting pk, slot) pairs. Booked as meeting_book leaves them: planned, a missed check-in
    due after the grace."""
    from meetings.models import Meeting, MeetingState

    grace = timedelta(minutes=timing.grace_minutes)
    rows = []
    for slot in slots:
        start = origin + timedelta(seconds=slot.start)
        end = origin + timedelta(seconds=slot.end)
        rows.append(
            Meeting(
                scheme=scheme,
                buddy=buddies[slot.buddy],
                venue=place,
                purpose="Soak",
                planned_start=start,
                planned_end=end,
                expected_end=end,
                state=MeetingState.PLANNED,
                next_alert_at=start + grace,
            )
        )
    created = Meeting.objects.bulk_create(rows)
    return [(meeting.pk, slot) for meeting, slot in zip(created, slots, strict=True)]


def people_and_meetings(timing: Timing):
    """The soak's buddies and coordinators in the demo scheme (every coordinator on call), and
    the buddies' meetings planned over the period. Returns the load's start (time.monotonic()
    seconds, once they are made), the buddies' plans (the forgetful ones first), the
    coordinators' emails and the (meeting pk, slot) pairs."""
    from django.utils import timezone

    from buddyscheme.models import Membership, Role, Scheme, User
    from tests.factories import MembershipFactory, cleared_buddy, venue

    scheme = Scheme.objects.get(name=SCHEME)
    lone_working_for_soak(scheme, timing)
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
    # The demo password, with one hash for all (hashing 55 passwords only slows the set-up).
    User.objects.filter(email__startswith=f"soak-{stamp}-").update(
        password=User.objects.get(email="buddy1@example.org").password
    )
    place = venue(scheme, name="Soak café")
    load_start = time.monotonic() + 2
    # Wall clock for the database, monotonic for the phones: one instant links them.
    origin = timezone.now() + timedelta(seconds=load_start - time.monotonic())
    created = meetings_create(
        scheme, buddies, place, plan(timing, BUDDIES, SECONDS, FORGETFUL), timing, origin
    )
    plans = [Plan(email=m.user.email, address=f"127.0.1.{n + 1}") for n, m in enumerate(buddies)]
    for pk, slot in created:
        plans[slot.buddy].meetings.append(
            (pk, load_start + slot.check_in, load_start + slot.check_out, slot.kind)
        )
    return load_start, plans, coordinators, created


def alert_figures(created: list[tuple[int, Slot]], timing: Timing) -> dict:
    """The overdue alerts each late or forgotten check-out must raise, level by level: how many
    expected, raised and delivered (a message to someone it reached handed to its channel:
    Notification.sent_at), with the latency from the due instant to the alert row and to the
    first message sent. Every other alert on the soak's meetings (a missed check-in on a slow
    page, a check-out that came after its moment) is counted apart, as are the alerts still
    open; and for the forgotten meetings, whether those told heard the all-clear."""
    from buddyscheme.models import Notification
    from meetings.models import Alert, AlertRecipient

    meetings = [pk for pk, _ in created]
    expected = {pk: (slot.kind, slot.levels(timing)) for pk, slot in created if slot.levels(timing)}
    rows: dict[tuple[str, int], dict] = {}
    for kind, levels in sorted(expected.values()):
        for level in range(1, levels + 1):
            row = rows.setdefault(
                (kind, level),
                {
                    "kind": kind,
                    "level": level,
                    "expected": 0,
                    "raised": 0,
                    "delivered": 0,
                    "raised_latency": [],
                    "delivered_latency": [],
                },
            )
            row["expected"] += 1
    sent: dict[int, object] = {}
    for alert_id, sent_at in AlertRecipient.objects.filter(
        alert__meeting__in=meetings, notification__sent_at__isnull=False
    ).values_list("alert_id", "notification__sent_at"):
        sent[alert_id] = min(sent_at, sent.get(alert_id, sent_at))  # the first message sent
    other = still_open = 0
    for pk, meeting, level, reason, due, raised, resolved in Alert.objects.filter(
        meeting__in=meetings
    ).values_list("pk", "meeting_id", "level", "reason", "due_at", "raised_at", "resolved_at"):
        still_open += resolved is None
        kind, levels = expected.get(meeting, (ON_TIME, 0))
        if reason != "overdue" or not 1 <= level <= levels:
            other += 1
            continue
        row = rows[(kind, level)]
        row["raised"] += 1
        row["raised_latency"].append((raised - due).total_seconds())
        if pk in sent:
            row["delivered"] += 1
            row["delivered_latency"].append((sent[pk] - due).total_seconds())
    # Level 2 and above reached people other than the buddy: they must hear it is over.
    told = [pk for pk, (kind, levels) in expected.items() if kind == FORGOTTEN and levels >= 2]
    cleared = set(
        Notification.objects.filter(
            template="all_clear", sent_at__isnull=False, context__meeting_id__in=told
        ).values_list("context__meeting_id", flat=True)
    )
    return {
        "rows": list(rows.values()),
        "other": other,
        "open": still_open,
        "all_clear": {"expected": len(told), "delivered": len(cleared)},
    }


def alerts_outstanding(alerts: dict) -> int:
    """Expected alerts (and all-clears) not yet delivered."""
    return sum(row["expected"] - row["delivered"] for row in alerts["rows"]) + (
        alerts["all_clear"]["expected"] - alerts["all_clear"]["delivered"]
    )


def verdict(errors: int, failures: list[str], crashed: list[str], alerts: dict) -> list[str]:
    """What fails the soak (nothing: it passes): an error response or a failed step, a process
    that died, a plan with no late or no forgotten check-out, or an expected alert or all-clear
    not raised and delivered."""
    problems = [f"{errors} error response(s) or failed request(s)"] if errors else []
    problems += [f"failed: {failure}" for failure in failures]
    problems += [f"process: {crash}" for crash in crashed]
    kinds = {row["kind"] for row in alerts["rows"]}
    problems += [f"the plan has no {kind}" for kind in (LATE, FORGOTTEN) if kind not in kinds]
    for row in alerts["rows"]:
        for what in ("raised", "delivered"):
            if row[what] < row["expected"]:
                problems.append(
                    f"{row['kind']}, level {row['level']}: {row[what]} of {row['expected']} {what}"
                )
    clear = alerts["all_clear"]
    if clear["delivered"] < clear["expected"]:
        problems.append(
            f"all-clear after a forgotten check-out: {clear['delivered']} of "
            f"{clear['expected']} delivered"
        )
    return problems


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
            f"setting up {DATABASE} (PostgreSQL), Redis cache {CACHE_URL} and broker "
            f"{BROKER_URL}…",
            flush=True,
        )
        if os.environ.get("SOAK_REUSE") != "1":  # SOAK_REUSE=1: the database SOAK_KEEP=1 kept
            psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)", f"CREATE DATABASE {DATABASE}")
            redis_flush()
            manage("migrate", "--noinput", "-v0")
            manage("collectstatic", "--noinput", "-v0")
            manage("seed_demo")
        elif not (var_dir / "staticfiles" / "staticfiles.json").exists():
            manage("collectstatic", "--noinput", "-v0")  # a kept database in a new SOAK_VAR_DIR

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
            load_start, plans, coordinators, created = people_and_meetings(timing)
        tree = process_tree(processes)
        rss_before = memory(tree)
        load = [os.getloadavg()[0]]  # the machine's 1-minute load average, before and after
        gunicorn_workers = set(_children(processes["web"].pid))
        planned = {kind: sum(1 for _, slot in created if slot.kind == kind) for kind in KINDS}
        print(
            f"{len(created)} meetings planned ({planned[LATE]} to be checked out late, "
            f"{planned[FORGOTTEN]} forgotten until level {timing.forget_levels}), "
            f"gunicorn on port {port}; load for {SECONDS} s…",
            flush=True,
        )

        timings = Timings()
        failures: list[str] = []
        deadline = load_start + SECONDS
        # One login at a time: the forgetful buddies, the coordinators, then each other buddy
        # a little before its first check-in.
        first_check_ins = [
            min((at - load_start for _, at, _, _ in plan.meetings), default=math.inf)
            for plan in plans
        ]
        buddy_logins, coordinator_logins = login_moments(
            first_check_ins, len(coordinators), FORGETFUL
        )

        def later(at, target, *args):
            def run():
                if sleep_until(at, stopping):
                    target(*args)

            return threading.Thread(target=run, daemon=True)

        for number, email in enumerate(coordinators):
            address = f"127.0.2.{number + 1}"
            threads.append(
                later(
                    load_start + coordinator_logins[number],
                    coordinator,
                    *(email, address, port, timings, stopping, deadline, failures),
                )
            )
        for plan, at in zip(plans, buddy_logins, strict=True):
            threads.append(
                later(load_start + at, buddy, *(plan, port, timings, stopping, failures))
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
        # Messages handed over in the last round: the outbox drains (bounded) before counting.
        drained = time.monotonic() + 20
        while alerts_outstanding(alert_figures(created, timing)) and time.monotonic() < drained:
            time.sleep(1)
        rss_after = memory(tree)
        load.append(os.getloadavg()[0])
        for name, process in processes.items():
            if process.poll() is not None and not any(c.startswith(name) for c in crashed):
                crashed.append(f"{name} exited with {process.returncode}")
        alerts = alert_figures(created, timing)
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

    return report(timing, timings, failures, crashed, rss_before, rss_after, alerts, planned, load)


def _seconds(values) -> str:
    """p50 / p95 / max of some latencies, in seconds ("–" for none)."""
    if not values:
        return "–"
    return " / ".join(
        f"{v:.1f}" for v in (percentile(values, 0.5), percentile(values, 0.95), max(values))
    )


def alert_table(alerts: dict) -> str:
    """Markdown: for each kind of check-out and level, the overdue alerts expected, raised and
    delivered, and their latency from the due instant."""
    lines = [
        "| meetings | level (told) | expected | raised | delivered "
        "| to the alert row p50 / p95 / max (s) | to the message handed over p50 / p95 / max (s) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    told = {1: "1 (the buddy)", 2: "2 (coordinators)", 3: "3 (everyone on call)"}
    for row in alerts["rows"]:
        lines.append(
            f"| {row['kind']} | {told.get(row['level'], row['level'])} | {row['expected']} "
            f"| {row['raised']} | {row['delivered']} | {_seconds(row['raised_latency'])} "
            f"| {_seconds(row['delivered_latency'])} |"
        )
    clear = alerts["all_clear"]
    lines.append(
        f"| {FORGOTTEN}: all-clear once checked out | those told | {clear['expected']} | – "
        f"| {clear['delivered']} | – | – |"
    )
    return (
        "\n".join(lines)
        + f"\n\nOther alerts on the soak's meetings (a missed check-in or check-out moment on a "
        f"slow page): {alerts['other']}; alerts still open at the end: {alerts['open']}.\n"
    )


def report(timing, timings, failures, crashed, rss_before, rss_after, alerts, planned, load):
    rows = timings.summary()
    errors = timings.error_count()
    print()
    print(endpoint_table(rows))
    print(memory_table(rss_before, rss_after))
    print(alert_table(alerts))
    problems = verdict(errors, failures, crashed, alerts)
    for problem in problems[:25]:
        print(f"  {problem}")

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
    for row in alerts["rows"]:
        ratio_row(
            f"soak: {row['kind']} level {row['level']} alerts delivered",
            row["delivered"],
            "alerts",
            row["expected"],
            "expected",
            minimum=1.0,
            note=f"{row['raised']} raised",
        )
    delivered = [s for row in alerts["rows"] for s in row["delivered_latency"]]
    raised = [s for row in alerts["rows"] for s in row["raised_latency"]]
    limit_row(
        "soak: overdue alert latency p95, to the message handed over",
        percentile(delivered, 0.95),
        "s",
        maximum=15,
        note=f"p50 / p95 / max {_seconds(delivered)} s; to the alert row {_seconds(raised)} s",
    )

    if not QUICK:
        write_markdown(timing, rows, rss_before, rss_after, alerts, planned, problems, load)
    print(
        "soak: pass (no error, no process died, every expected alert raised and delivered)"
        if not problems
        else "soak: FAIL"
    )
    return 0 if not problems else 1


def write_markdown(timing, rows, before, after, alerts, planned, problems, load):
    out = ROOT / "benchmarks" / "soak.md"
    out.parent.mkdir(exist_ok=True)
    result = "pass" if not problems else "FAIL"
    # Other work on a shared machine shows as a load average above its cores.
    busy = (
        "the machine was busy, so latencies are noisy"
        if max(load) > (os.cpu_count() or 1)
        else "nothing else was running"
    )
    out.write_text(
        f"# make soak: last full run\n\n"
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {os.cpu_count()} cores (load "
        f"average {load[0]:.1f} when the load began, {load[-1]:.1f} when it ended: "
        f"{busy}), PostgreSQL + Redis on loopback; the Procfile's "
        f"processes (gunicorn 2 sync workers, Celery worker concurrency 2, beat, sweeper). "
        f"{SECONDS} s of load: {BUDDIES} buddies and {COORDINATORS} coordinators (all on call) "
        f"polling the live board every {BOARD_POLL_SECONDS} s and opening the dashboard every "
        f"{BOARD_POLL_SECONDS * DASHBOARD_EVERY} s. {sum(planned.values())} meetings of "
        f"{timing.length:.0f} s with {timing.grace_minutes} min grace and escalation every "
        f"{ESCALATION_MINUTES} min: {planned[ON_TIME]} checked out on time, {planned[LATE]} "
        f"checked out late (after the overdue moment), {planned[FORGOTTEN]} forgotten until "
        f"level {timing.forget_levels} of the escalation, then checked out. "
        f"Result: **{result}**.\n\n"
        f"## Requests\n\n{endpoint_table(rows)}\n"
        f"## Memory (RSS from /proc/<pid>/status, before and after the load)\n\n"
        f"{memory_table(before, after)}\n"
        f"## Overdue alerts (latency from the due instant)\n\n{alert_table(alerts)}"
        + ("\n## What failed\n\n" + "".join(f"- {p}\n" for p in problems) if problems else ""),
        encoding="utf-8",
    )
    print(f"(written to {out.relative_to(ROOT)})")


if __name__ == "__main__":
    sys.exit(main())
