"""The fault harness: its own PostgreSQL, Redis, gunicorn, sweeper, Celery worker and beat.

Plain pytest (no pytest-django database): the processes under test are real subprocesses
with the harness env; assertions read the harness database with psycopg. Only processes
started here are stopped or killed, by their own id.
"""

import http.server
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
# The newest PostgreSQL installed (Debian keeps each major version in its own folder).
PG_BIN = max(
    Path("/usr/lib/postgresql").glob("*/bin"),
    key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    default=Path("/usr/lib/postgresql/15/bin"),
)
REPORT = Path(__file__).resolve().parent / "last-run.md"
VENV = ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def figures(values) -> str:
    if not values:
        return "n=0"
    return (
        f"n={len(values)} p50={statistics.median(values):.1f}s "
        f"p95={percentile(values, 0.95):.1f}s max={max(values):.1f}s"
    )


def report(line: str) -> None:
    print(line)
    with REPORT.open("a") as out:
        out.write(line + "\n")


def as_postgres(*command, **kwargs):
    """PostgreSQL will not run as root: as root, run it as the postgres user; otherwise as
    whoever we are."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run(
        [*prefix, *map(str, command)],
        check=True,
        capture_output=True,
        text=True,
        **kwargs,
    )


class SMSProvider:
    """A Twilio-compatible stand-in the harness controls: it records every text it accepts,
    with the time, and refuses them all (HTTP 503) while `failing` is set."""

    def __init__(self):
        self.failing = False
        self.accepted: list[tuple[float, str, str]] = []
        self.refused = 0
        self.pings: list[tuple[float, str]] = []  # the sweeper's dead-man pings (GET)
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                provider.pings.append((time.time(), self.path))
                self.send_response(200)
                self.end_headers()

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                if provider.failing:
                    provider.refused += 1
                    self.send_response(503)
                    self.end_headers()
                    return
                provider.accepted.append((time.time(), form["To"][0], form["Body"][0]))
                body = json.dumps({"status": "queued", "sid": f"SM{len(provider.accepted)}"})
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Harness:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.pg_dir = tmp / "pg"
        self.pg_port = free_port()
        self.redis_port = free_port()
        self.web_port = free_port()
        self.redis = None
        self.procs: dict[str, subprocess.Popen] = {}
        self.extra = 0
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.pg_port}/postgres"
        self.sms = SMSProvider()
        env = dict(os.environ)
        for name in (
            "CELERY_TASK_ALWAYS_EAGER",
            "SECURE_SSL_REDIRECT",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "SAFETY_WATCHDOG_SECONDS",
            "PYTEST_CURRENT_TEST",
        ):
            env.pop(name, None)
        redis = f"redis://127.0.0.1:{self.redis_port}"
        env.update(
            DJANGO_SETTINGS_MODULE="buddyscheme.settings",
            BUDDY_VAR_DIR=str(tmp / "var"),
            DATABASE_URL=self.dsn,
            CELERY_BROKER_URL=f"{redis}/0",
            CACHE_URL=f"{redis}/1",
            SECRET_KEY="faults-" + os.urandom(16).hex(),
            ALLOWED_HOSTS="127.0.0.1",
            SITE_URL=f"http://127.0.0.1:{self.web_port}",
            DEBUG="false",
            SECURE_HTTPS="false",
            COORDINATOR_MFA_REQUIRED="false",
            SAFETY_WATCHDOG_SECONDS="5",
            EMAIL_URL="consolemail://",
            SMS_BACKEND="buddyscheme.channels.TwilioSMSBackend",
            SMS_API_URL=self.sms.url,
            SMS_ACCOUNT_ID="ACfaults",
            SMS_AUTH_TOKEN="faults",
            SMS_FROM="+447700900000",
            SAFETY_PING_URL=f"{self.sms.url}/ping/faults",
            LOG_LEVEL="INFO",
            STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage",
            PYTHONUNBUFFERED="1",
            PORT=str(self.web_port),
        )
        self.env = env

    # --- services -------------------------------------------------------------------------
    def start_postgres(self):
        self.pg_dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.pg_dir, "postgres", "postgres")
        as_postgres(PG_BIN / "initdb", "-D", self.pg_dir, "-A", "trust", "-U", "postgres")
        as_postgres(
            PG_BIN / "pg_ctl",
            "-D",
            self.pg_dir,
            "-o",
            f"-p {self.pg_port} -k {self.pg_dir} -c listen_addresses=127.0.0.1",
            "-l",
            self.pg_dir / "log",
            "-w",
            "start",
        )

    def stop_postgres(self):
        if (self.pg_dir / "postmaster.pid").exists():
            as_postgres(PG_BIN / "pg_ctl", "-D", self.pg_dir, "-m", "fast", "-w", "stop")

    def restart_postgres(self, gap: float):
        """Stop PostgreSQL (fast: every connection is cut), wait `gap` seconds, start it."""
        self.stop_postgres()
        time.sleep(gap)
        as_postgres(
            PG_BIN / "pg_ctl",
            "-D",
            self.pg_dir,
            "-o",
            f"-p {self.pg_port} -k {self.pg_dir} -c listen_addresses=127.0.0.1",
            "-l",
            self.pg_dir / "log",
            "-w",
            "start",
        )

    def start_redis(self):
        log = open(self.tmp / "redis.log", "a")  # noqa: SIM115 - lives with the process
        self.redis = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.redis_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("redis did not start")

    def kill_redis(self):
        if self.redis and self.redis.poll() is None:
            self.redis.kill()
            self.redis.wait(10)

    # --- app processes --------------------------------------------------------------------
    def manage(self, *args, timeout=300) -> str:
        done = subprocess.run(
            [str(VENV / "python"), "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {args}: {done.stdout}\n{done.stderr}")
        return done.stdout

    def ops(self, *args) -> str:
        done = subprocess.run(
            [str(VENV / "python"), str(ROOT / "faults" / "ops.py"), *map(str, args)],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode:
            raise RuntimeError(f"ops.py {args}: {done.stdout}\n{done.stderr}")
        return done.stdout.strip()

    def commands(self, name):
        celery = [str(VENV / "celery"), "-A", "buddyscheme"]
        base = name.split("-")[0]
        return {
            "web": [
                str(VENV / "gunicorn"),
                "buddyscheme.wsgi",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--workers",
                "2",
                "--timeout",
                "30",
            ],
            "worker": [*celery, "worker", "--loglevel", "INFO", "--concurrency", "2"],
            "beat": [
                *celery,
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(self.tmp / f"celerybeat-schedule-{name}"),
            ],
            "sweeper": [str(VENV / "python"), "manage.py", "run_sweeper"],
        }[base]

    def start(self, name):
        log = open(self.tmp / f"{name}.log", "a")  # noqa: SIM115 - lives with the process
        self.procs[name] = subprocess.Popen(
            self.commands(name),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def signal(self, name, sig):
        process = self.procs.get(name)
        if process and process.poll() is None:
            os.killpg(process.pid, sig)

    def kill(self, name):
        self.signal(name, signal.SIGKILL)
        self.procs[name].wait(10)

    def stop(self, name):
        process = self.procs.get(name)
        if process and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    def running(self, name) -> bool:
        process = self.procs.get(name)
        return bool(process and process.poll() is None)

    # --- reading --------------------------------------------------------------------------
    def query(self, sql, params=()):
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def emails_logged(self) -> int:
        """Messages the console mail backend wrote, over every process log (a send is one)."""
        total = 0
        for path in self.tmp.glob("*.log"):
            with path.open(errors="replace") as log:
                total += sum(1 for line in log if line.startswith("Subject: "))
        return total

    def emails_sent(self) -> int:
        return self.query(
            "SELECT count(*) FROM buddyscheme_notification WHERE channel = 'email' "
            "AND sent_at IS NOT NULL"
        )[0][0]

    def level1(self, scheme_id):
        """(meeting, due, raised, sent_at, status) for each level-1 alert's notifications."""
        return self.query(
            "SELECT a.meeting_id, a.due_at, a.raised_at, n.sent_at, n.status, n.id "
            "FROM meetings_alert a JOIN meetings_meeting m ON m.id = a.meeting_id "
            "LEFT JOIN meetings_alertrecipient r ON r.alert_id = a.id "
            "LEFT JOIN buddyscheme_notification n ON n.id = r.notification_id "
            "WHERE m.scheme_id = %s AND a.level = 1",
            (scheme_id,),
        )

    def duplicate_alerts(self) -> int:
        return self.query(
            "SELECT count(*) FROM (SELECT meeting_id, reason, cycle, level FROM meetings_alert "
            "GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d"
        )[0][0]

    def wait_all_sent(self, scheme_id, count, deadline_seconds):
        """Poll until every meeting has a level-1 alert whose notifications are all sent."""
        deadline = time.monotonic() + deadline_seconds
        while True:
            rows = self.level1(scheme_id)
            meetings = {row[0] for row in rows}
            unsent = [row for row in rows if row[3] is None]
            if len(meetings) == count and not unsent:
                return rows
            if time.monotonic() > deadline:
                return rows
            time.sleep(1)

    def healthz(self):
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.web_port}/healthz", timeout=10
            ) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())


@pytest.fixture(scope="session")
def harness():
    REPORT.write_text(f"# Fault tests, {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}\n\n")
    tmp = Path(tempfile.mkdtemp(prefix="buddy-faults-"))
    tmp.chmod(0o755)
    h = Harness(tmp)
    try:
        h.start_postgres()
        h.start_redis()
        h.manage("migrate", "--noinput", "-v0")
        h.manage("seed_demo")
        for name in ("web", "worker", "beat", "sweeper"):
            h.start(name)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, body = h.healthz()
                if body.get("sweep") == "ok" and body.get("heartbeat") == "ok":
                    break
            except OSError:
                pass
            time.sleep(1)
        else:
            raise RuntimeError(f"the harness did not become healthy: see {tmp}")
        yield h
    finally:
        for name in list(h.procs):
            h.stop(name)
        h.kill_redis()
        h.stop_postgres()
        if os.environ.get("FAULTS_KEEP") != "1":
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"harness files kept in {tmp}", file=sys.stderr)
