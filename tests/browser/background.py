"""A real Celery worker and beat for the browser journeys, their clock moved with the test's.

The worker (Celery's solo pool) and beat run as the Procfile runs them (scripts/processes.py,
which the bench scripts use too), as separate processes on the test's committed database
(pytest-django's live server uses a real `test_<name>` database), the test's broker and cache.
They leave out the Procfile's sweeper loop, so every alert is raised by beat's scheduled sweep.

Their clock: both run under libfaketime (Debian's `faketime` package), which reads an offset
such as `+10368000s` from a file on every clock call (FAKETIME_TIMESTAMP_FILE with
FAKETIME_NO_CACHE=1). `Background.travel()` starts time-machine in the test (which moves the
live server's clock: it runs in the test's process) and writes the same offset to that file;
each `Clock.move_to()` / `Clock.shift()` moves both. libfaketime fakes the monotonic clock too:
Python 3.12's time.sleep fails (EINVAL) under libfaketime 0.9.10 when it does not.

What the worker sends: emails through Django's file backend (EMAIL_URL=filemail://…) and
texts through buddyscheme.channels.FileSMSBackend, both into the test's temporary folder;
`mails()` and `texts()` read them back. Nothing here sleeps for safety: `wait_until` polls a
condition until a deadline.
"""

from __future__ import annotations

import contextlib
import email
import glob
import json
import os
import sys
import time
import urllib.parse
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from pathlib import Path

import time_machine
from time_machine import escape_hatch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from processes import celery_processes, stop  # noqa: E402 - scripts/ is not a package

# The multi-threaded build: the worker and beat have threads of their own.
LIBFAKETIME = next(iter(sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1"))), "")
# What Django's file email backend writes after each message.
MAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"
STARTUP_SECONDS = 60  # a worker on a busy 2-core machine can take a while to be ready


@dataclass(frozen=True)
class Mail:
    to: list[str]
    subject: str
    body: str

    @classmethod
    def parse(cls, raw: bytes) -> Mail:
        message = email.message_from_bytes(raw, policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        return cls(
            to=[address.strip() for address in str(message["To"]).split(",")],
            subject=str(message["Subject"]),
            body=body.get_content() if body is not None else "",
        )


class Clock:
    """The test's clock (time-machine) and the worker's and beat's (libfaketime), moved
    together."""

    def __init__(self, traveller, background: Background):
        self._traveller = traveller
        self._background = background

    def move_to(self, destination) -> None:
        self._traveller.move_to(destination)
        self._background.clock_follow()

    def shift(self, delta) -> None:
        self._traveller.shift(delta)
        self._background.clock_follow()


class Background:
    """A worker and beat, the files they write, and the clock they read.

    One pair serves the tests of a module while the clock only moves forward; a test that
    travelled in time leaves its clock in the future, so its pair is stopped after it and the
    next test starts a fresh one (`travelled`)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.clock_file = folder / "faketime"
        self.mail_dir = folder / "mail"
        self.sms_file = folder / "sms.jsonl"
        self.processes: dict = {}
        self.travelled = False
        folder.mkdir(parents=True, exist_ok=True)
        self.mail_dir.mkdir(exist_ok=True)
        self._offset(0)

    @property
    def running(self) -> bool:
        return bool(self.processes)

    def forget_sent(self) -> None:
        """A test starts with no email or text sent (the previous test's are deleted)."""
        for path in self.mail_dir.glob("*.log"):
            path.unlink()
        self.sms_file.unlink(missing_ok=True)

    # The processes.

    def environment(self, database: dict, site_url: str) -> dict[str, str]:
        assert LIBFAKETIME, "libfaketime is missing: scripts/system-deps.sh test installs it"
        user = urllib.parse.quote(database["USER"] or "")
        password = database["PASSWORD"]
        credentials = f"{user}:{urllib.parse.quote(password)}" if password else user
        host = f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
        return {
            **os.environ,
            "DATABASE_URL": f"postgres://{credentials}@{host}/{database['NAME']}",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "SITE_URL": site_url,
            "EMAIL_URL": f"filemail:///{self.mail_dir}",  # four slashes: an absolute path
            "SMS_BACKEND": "buddyscheme.channels.FileSMSBackend",
            "SMS_FILE_PATH": str(self.sms_file),
            "LD_PRELOAD": LIBFAKETIME,
            "FAKETIME_TIMESTAMP_FILE": str(self.clock_file),
            "FAKETIME_NO_CACHE": "1",
        }

    def start(self, database: dict, site_url: str) -> None:
        from django.utils import timezone

        from buddyscheme.models import Heartbeat

        started = timezone.now() - timedelta(seconds=1)
        self.processes = celery_processes(
            self.folder,
            quiet=False,
            env=self.environment(database, site_url),
            sweeper=False,
            solo=True,
        )
        # The worker sweeps once when it is ready (buddyscheme.celery.beat_once_at_start): its
        # heartbeat in the test's database says the worker is up and reading that database.
        self.wait_until(
            lambda: Heartbeat.objects.filter(name="sweep", beat_at__gte=started).exists(),
            "the worker is ready",
            timeout=STARTUP_SECONDS,
        )

    def stop(self) -> None:
        stop(self.processes.values(), timeout=10)
        self.processes = {}
        self.travelled = False
        self._offset(0)

    def log(self, name: str, lines: int = 15) -> str:
        path = self.folder / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    # Waiting.

    def wait_until(self, condition, what: str, timeout: float = 30.0):
        """Poll `condition` until it returns something true (returned), or fail after
        `timeout` real seconds saying what did not happen and how the processes are."""
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            if time.monotonic() > deadline:
                state = {name: process.poll() for name, process in self.processes.items()}
                raise AssertionError(
                    f"not within {timeout:g} s: {what} (exit codes, None = running: {state})\n"
                    f"worker log:\n{self.log('worker')}\nbeat log:\n{self.log('beat')}"
                )
            time.sleep(0.25)  # a poll's interval, not a wait for safety

    def wait_for_sweep(self, timeout: float = 30.0) -> None:
        """Until beat's sweep has run at (or after) the test's clock time now."""
        from django.utils import timezone

        from buddyscheme.models import Heartbeat

        now = timezone.now()
        self.wait_until(
            lambda: Heartbeat.objects.filter(name="sweep", beat_at__gte=now).exists(),
            f"beat's sweep runs at {now:%Y-%m-%d %H:%M:%S}",
            timeout=timeout,
        )

    # The clock.

    @contextlib.contextmanager
    def travel(self, destination):
        """time-machine for the test (ticking), and the same time for the worker and beat."""
        self.travelled = True
        with time_machine.travel(destination, tick=True) as traveller:
            self.clock_follow()
            try:
                yield Clock(traveller, self)
            finally:
                self._offset(0)

    def clock_follow(self) -> None:
        """The worker's and beat's clock set to the test's, to the second."""
        self._offset(time.time() - escape_hatch.time.time())

    def _offset(self, seconds: float) -> None:
        # Written whole and renamed into place: libfaketime never reads half a line.
        partial = self.clock_file.with_suffix(".new")
        partial.write_text(f"{round(seconds):+d}s\n")
        partial.replace(self.clock_file)

    # What the worker sent.

    def mails(self) -> list[Mail]:
        """Every email the worker has finished writing (each ends with the separator)."""
        found = []
        for path in sorted(self.mail_dir.glob("*.log")):
            *whole, _rest = path.read_bytes().split(MAIL_SEPARATOR)
            found += [Mail.parse(raw) for raw in whole if raw.strip()]
        return found

    def wait_for_mail(self, to: str, subject: str = "", timeout: float = 30.0) -> Mail:
        """The first email to `to` (whose subject starts with `subject`), once it is sent."""
        return self.wait_until(
            lambda: next(
                (m for m in self.mails() if m.to == [to] and m.subject.startswith(subject)),
                None,
            ),
            f"an email to {to} {subject!r}",
            timeout=timeout,
        )

    def texts(self) -> list[dict]:
        """Every text the worker has sent: {"notification", "to", "text"}."""
        if not self.sms_file.exists():
            return []
        lines = self.sms_file.read_text(encoding="utf-8").split("\n")[:-1]  # whole lines only
        return [json.loads(line) for line in lines if line]
