"""Lighthouse scores for `make bench` (scripts/bench.sh runs it against its server).

    bench_lighthouse.py URL

Lighthouse 12 (npm, pinned in package-lock.json, installed by scripts/npm-install.sh) with
Debian's chromium, mobile (its default phone: simulated slow 4G and a mid-range CPU), on three
pages: the login page (anonymous), Today (the demo buddy, buddy1) and the coordinator
dashboard (the demo coordinator; the bench turns MFA off). The logged-in pages are opened with
a session made here through the login form, as the soak's phones log in (scripts/soak.py),
and handed to Lighthouse as a Cookie header (--extra-headers).

Rows: accessibility (target 100) and best practices (target >= 95) for each page, the lowest
of its runs; performance printed for information (on a shared 2-core machine it says more
about the machine), from the run with the median score. A full run runs each page three times
(BENCH_LIGHTHOUSE_RUNS), quick mode once. The audits that cost points are printed under the
scores, and every report is kept in var/lighthouse/ (git-ignored) to read.

Anything that stops a page being measured fails the script (exit 1) and leaves its rows
unmeasured: Lighthouse or chromium missing, a run that errors or times out, a page that
redirects elsewhere (to the login page: the session did not take).

On plain HTTP loopback: Chromium counts http://127.0.0.1 as a secure context, so "Uses HTTPS"
passes here for what it is (loopback), and "Redirects HTTP traffic to HTTPS" is not applicable
to it; neither says anything about a deployment, where the proxy terminates TLS and Django
redirects (SECURE_HTTPS, README). The bench excludes no audit.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import DEMO_COORDINATOR, django_setup, record_heartbeat  # noqa: E402
from bench_rows import QUICK, limit_row  # noqa: E402
from soak import Failed, Phone, Timings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
REPORTS = ROOT / "var" / "lighthouse"
CATEGORIES = ("accessibility", "best-practices", "performance")
# (row name, who is logged in or None, path)
PAGES = (
    ("login page", None, "/accounts/login/"),
    ("Today", "buddy1@example.org", "/today/"),
    ("coordinator dashboard", DEMO_COORDINATOR, "/coordinator/"),
)
TARGETS = {"accessibility": 100, "best-practices": 95}
TITLES = {
    "accessibility": "accessibility",
    "best-practices": "best practices",
    "performance": "performance",
}
# One run takes 20-40 s here; a run that has not finished in this time has hung.
RUN_TIMEOUT = 240
# Runs a page: performance varies from run to run, so a full run takes the median of three.
RUNS = 1 if QUICK else int(os.environ.get("BENCH_LIGHTHOUSE_RUNS", 3))
ATTEMPTS = 3  # tries of one run before it counts as not measured


class NotMeasured(Exception):
    """Lighthouse could not measure a page."""


def chromium() -> str:
    found = os.environ.get("CHROME_PATH") or shutil.which("chromium") or ""
    if not found or not Path(found).exists():
        raise NotMeasured(
            "no chromium (Debian's, scripts/system-deps.sh bench); CHROME_PATH names another"
        )
    return found


def stop_marked_chromium(mark: str) -> None:
    """Stop the chromium whose command line carries `mark` (this run's), if it outlived it."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # gone meanwhile, or not ours to read
        if mark.encode() in arguments:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)


def session_cookie(port: int, email: str, path: str) -> str:
    """A logged-in session for `email`, made through the login form, as a Cookie header; the
    page must answer 200 with it (not a redirect to the login page)."""
    phone = Phone(port, "127.0.0.1", Timings())
    try:
        phone.log_in(email)
        phone.get(path, path)
    except Failed as failure:
        raise NotMeasured(f"logging in as {email}: {failure}") from failure
    return "; ".join(f"{name}={value}" for name, value in phone.cookies.items())


def lighthouse(url: str, report: Path, headers: dict[str, str] | None) -> dict:
    # A mark on this run's chromium command line: chrome-launcher starts chromium in its own
    # process group, so a hung run's browser is found by this mark and stopped by its pid.
    mark = f"--bench-lighthouse-run={uuid.uuid4().hex}"
    command = [
        str(LIGHTHOUSE),
        url,
        "--output=json",
        f"--output-path={report}",
        "--form-factor=mobile",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags=--headless=new --no-sandbox --disable-gpu {mark}",
        "--quiet",
    ]
    if headers:
        extra = report.with_suffix(".headers.json")
        extra.write_text(json.dumps(headers), encoding="utf-8")
        extra.chmod(0o600)
        command.append(f"--extra-headers={extra}")
    lighthouse_run = subprocess.Popen(
        command,
        env={**os.environ, "CHROME_PATH": chromium()},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        said, _ = lighthouse_run.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired as timeout:
        lighthouse_run.kill()
        lighthouse_run.communicate()
        raise NotMeasured(f"Lighthouse did not finish in {RUN_TIMEOUT} s") from timeout
    finally:
        stop_marked_chromium(mark)
        if headers:
            extra.unlink(missing_ok=True)  # the session cookie: not left lying about
    if lighthouse_run.returncode != 0 or not report.exists():
        last = said.strip().splitlines()[-5:]
        raise NotMeasured(f"Lighthouse exited {lighthouse_run.returncode}: " + " / ".join(last))
    result = json.loads(report.read_text(encoding="utf-8"))
    if result.get("runtimeError"):
        raise NotMeasured(f"Lighthouse: {result['runtimeError'].get('message')}")
    if urlsplit(result.get("finalDisplayedUrl", "")).path != urlsplit(url).path:
        raise NotMeasured(f"{url} ended at {result.get('finalDisplayedUrl')}")
    return result


def costly_audits(result: dict, category: str) -> list[str]:
    """The audits with a weight in the category's score that did not pass in full."""
    found = []
    for ref in result["categories"][category]["auditRefs"]:
        audit = result["audits"][ref["id"]]
        if ref.get("weight") and audit.get("score") is not None and audit["score"] < 1:
            found.append(f"{ref['id']} ({audit['score']:.2g})")
    return found


def performance_note(result: dict) -> str:
    audits = result["audits"]
    parts = [
        f"{label} {audits[key].get('displayValue', '?')}"
        for label, key in (
            ("FCP", "first-contentful-paint"),
            ("LCP", "largest-contentful-paint"),
            ("TBT", "total-blocking-time"),
            ("CLS", "cumulative-layout-shift"),
        )
        if key in audits
    ]
    return ", ".join(parts) + "; simulated slow 4G, for information"


def score(result: dict, category: str) -> float | None:
    value = result["categories"].get(category, {}).get("score")
    return None if value is None else round(value * 100)


def record(page: str, results: list[dict]) -> None:
    """The page's rows: accessibility and best practices as the lowest of its runs (they
    should not vary), performance from the run with the median performance score."""
    median = median_run(results) if results else None
    for category in CATEGORIES:
        if not results:
            measured, note = None, ""
        elif category == "performance":
            measured, note = score(median, category), performance_note(median)
        else:
            lowest = min(results, key=lambda result: score(result, category) or 0)
            measured, costly = score(lowest, category), costly_audits(lowest, category)
            note = ("below 1: " + ", ".join(costly)) if costly else ""
        if results and len(results) > 1:
            which = "median" if category == "performance" else "lowest"
            note = f"{which} of {len(results)} runs" + (f"; {note}" if note else "")
        limit_row(
            f"Lighthouse {TITLES[category]} ({page}, mobile)",
            measured,
            "/ 100",
            minimum=TARGETS.get(category),
            note=note,
        )


def median_run(results: list[dict]) -> dict:
    ranked = sorted(results, key=lambda result: score(result, "performance") or 0)
    return ranked[(len(ranked) - 1) // 2]


def measure(base: str, port: int, email: str | None, path: str, report: Path) -> dict:
    """One Lighthouse run of the page (a fresh session for a logged-in page)."""
    if not LIGHTHOUSE.exists():
        raise NotMeasured(f"{LIGHTHOUSE} is missing: run scripts/npm-install.sh")
    headers = None
    if email:
        record_heartbeat()  # what the beat does: without it staff pages warn
        headers = {"Cookie": session_cookie(port, email, path)}
    # Lighthouse itself sometimes fails to record a page load's trace on a busy machine
    # ("NO_NAVSTART ... Please run Lighthouse again", seen on a loaded 2-core run): such a run
    # is tried again, at most ATTEMPTS times, and each retry is said; only then is it unmeasured.
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return lighthouse(base + path, report, headers)
        except NotMeasured as failure:
            if attempt == ATTEMPTS:
                raise
            print(f"    (run {attempt} of {path} not measured, tried again: {failure})")
    raise AssertionError("unreachable")


def main(base: str) -> int:
    port = urlsplit(base).port or 80
    REPORTS.mkdir(parents=True, exist_ok=True)
    django_setup()
    failed = 0
    version = "?"
    print(f"Lighthouse scores, mobile ({RUNS} run{'s' * (RUNS != 1)} a page):")
    for page, email, path in PAGES:
        started = time.monotonic()
        name = path.strip("/").replace("/", "-") or "home"
        for old in REPORTS.glob(f"{name}*.json"):
            old.unlink()  # an earlier run's, perhaps with another number of runs
        results = []
        try:
            for run in range(RUNS):
                report = REPORTS / f"{name}{f'-{run + 1}' if RUNS > 1 else ''}.json"
                results.append(measure(base, port, email, path, report))
        except NotMeasured as failure:
            print(f"  {page}: NOT MEASURED: {failure}", file=sys.stderr)
            record(page, [])
            failed += 1
            continue
        version = results[0].get("lighthouseVersion", version)
        runs = "; ".join(
            ", ".join(f"{TITLES[c]} {score(result, c)}" for c in CATEGORIES) for result in results
        )
        print(f"  {page} ({path}): {runs}  [{time.monotonic() - started:.0f} s]")
        for category in TARGETS:
            for audit in sorted({a for r in results for a in costly_audits(r, category)}):
                print(f"      {TITLES[category]}: {audit}")
        # Lighthouse's own warnings (a slow CPU, a page that redirected): worth reading.
        for warning in sorted({w for r in results for w in r.get("runWarnings", [])}):
            print(f"      Lighthouse warns: {warning.split('. ')[0]}.")
        record(page, results)
    print(f"  (Lighthouse {version}; the reports are in {REPORTS.relative_to(ROOT)}/)")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: bench_lighthouse.py URL")
    sys.exit(main(sys.argv[1].rstrip("/")))
