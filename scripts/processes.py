"""Starting and stopping the app's processes for the bench scripts (bench_latency.py, soak.py)
and the browser journeys (tests/browser/background.py: a worker and beat under libfaketime).

Each process runs in its own session (its own process group), with its output in a log file,
so `stop` can end it and everything it forked (gunicorn's and Celery's workers) at once.
The commands are the Procfile's, so a bench measures what `make run` and a deployment run.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def procfile(port: int | str = 8000) -> dict[str, list[str]]:
    """The Procfile's commands by name, as argument lists, with $PORT filled in."""
    commands = {}
    for line in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines():
        name, _, command = line.partition(":")
        if name.strip() and command.strip() and not name.startswith("#"):
            commands[name.strip()] = shlex.split(command.replace("$PORT", str(port)))
    return commands


def start(
    name: str, *command: str, log_dir: Path, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """One process in its own process group, its output in log_dir/<name>.log; `env` (if
    given) is its whole environment."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log = open(log_dir / f"{name}.log", "w")  # noqa: SIM115 - lives with the process
    return subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=env,
    )


def _absolute(argv: list[str]) -> list[str]:
    return [str(ROOT / argv[0]) if not argv[0].startswith("/") else argv[0], *argv[1:]]


def _quiet(argv: list[str]) -> list[str]:
    """The same command logging warnings only (the Procfile asks for INFO)."""
    if "--loglevel" in argv:
        at = argv.index("--loglevel")
        argv = argv[:at] + argv[at + 2 :]
    return [*argv, "--loglevel", "WARNING"]


def _solo(argv: list[str]) -> list[str]:
    """The same worker with one process (Celery's solo pool) instead of the Procfile's pool."""
    if "--concurrency" in argv:
        at = argv.index("--concurrency")
        argv = argv[:at] + argv[at + 2 :]
    return [*argv, "--pool", "solo"]


def celery_processes(
    log_dir: Path,
    *,
    quiet: bool = True,
    env: dict[str, str] | None = None,
    sweeper: bool = True,
    solo: bool = False,
) -> dict[str, subprocess.Popen]:
    """The worker, beat and (if the Procfile has one, and `sweeper`) the sweeper, as the
    Procfile runs them; beat keeps its schedule file in log_dir. `env`: their whole
    environment (the caller's by default); `solo`: the worker in one process."""
    commands = procfile()
    level = _quiet if quiet else list
    worker = level(commands["worker"])
    schedule = ["--schedule", str(log_dir / "celerybeat-schedule")]
    processes = {
        "worker": start(
            "worker", *_absolute(_solo(worker) if solo else worker), log_dir=log_dir, env=env
        ),
        "beat": start(
            "beat", *_absolute(level(commands["beat"] + schedule)), log_dir=log_dir, env=env
        ),
    }
    if sweeper and "sweeper" in commands:  # its own loop every 5 s, needing only the database
        processes["sweeper"] = start(
            "sweeper", *_absolute(commands["sweeper"]), log_dir=log_dir, env=env
        )
    return processes


def stop(processes, timeout: float = 20.0) -> None:
    """SIGTERM each process's group, wait, then SIGKILL any group still there."""
    processes = list(processes)
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
        # The group may outlive its leader (a forked worker): make sure none of it is left.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        if process.poll() is None:
            process.wait(timeout=5)
