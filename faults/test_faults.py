"""Fault tests against the harness's own processes (faults/conftest.py). Run by
`make test-faults`; `make test` never collects them (pytest's testpaths is tests/)."""

import signal
import time

from conftest import figures, report

COUNT = 100


def latencies(rows):
    raised = sorted({(r[0], (r[2] - r[1]).total_seconds()) for r in rows})
    sent = [(r[3] - r[1]).total_seconds() for r in rows if r[3] is not None]
    return [v for _, v in raised], sent


def test_0_smoke(harness):
    status, body = harness.healthz()
    report(f"## Start\n\nhealthz {status}: sweep={body['sweep']} heartbeat={body['heartbeat']}\n")
    assert status == 200


def settle(harness, seconds=3):
    """Sends in flight finish; then (emails written, email notifications marked sent)."""
    time.sleep(seconds)
    return harness.emails_logged(), harness.emails_sent()


def check_delivered(harness, scheme_id, rows, label):
    meetings = {row[0] for row in rows}
    unsent = [row for row in rows if row[3] is None]
    raised, sent = latencies(rows)
    report(
        f"- {label}: {len(meetings)}/{COUNT} meetings alerted, {len(rows)} level-1 messages, "
        f"{len(unsent)} unsent"
    )
    report(f"  - due -> alert row: {figures(raised)}")
    report(f"  - due -> message sent: {figures(sent)}")
    assert len(meetings) == COUNT, f"{COUNT - len(meetings)} meetings have no level-1 alert"
    assert not unsent, f"{len(unsent)} level-1 messages not sent"
    assert harness.duplicate_alerts() == 0
    return raised, sent


def test_1_redis_down(harness):
    """Redis (broker and cache) dies; 100 meetings fall overdue over 30 s: the sweeper alone
    raises and sends every one within due + 60 s, none twice, during the outage."""
    report("## 1. Redis killed while 100 meetings fall overdue over 30 s\n")
    before = settle(harness, 0)
    harness.kill_redis()
    try:
        scheme = int(harness.ops("make", COUNT, 10, 30))
        rows = harness.wait_all_sent(scheme, COUNT, 10 + 30 + 60 + 10)
        still_down = harness.redis.poll() is not None
        _, sent = check_delivered(harness, scheme, rows, "during the outage")
        after = settle(harness)
        doubled = (after[0] - before[0]) - (after[1] - before[1])
        report(
            f"  - emails written {after[0] - before[0]}, email notifications sent "
            f"{after[1] - before[1]}: {doubled} sent twice; Redis still down: {still_down}\n"
        )
        assert still_down
        assert max(sent) <= 60
        assert doubled <= 0
    finally:
        harness.start_redis()


def test_2_kill_worker_beat_sweeper(harness):
    """Worker, beat and sweeper SIGKILLed while 100 meetings fall due; only the sweeper is
    restarted: every alert raised once, every message sent at least once, few twice."""
    report("## 2. Worker, beat and sweeper SIGKILLed mid-send; the sweeper restarted\n")
    before = settle(harness, 0)
    made = time.monotonic()
    scheme = int(harness.ops("make", COUNT, 15, 20))
    # Due from ~made + 15 s to ~made + 35 s (making them takes seconds): kill at the middle.
    time.sleep(max(0.0, made + 26 - time.monotonic()))
    killed = ("worker", "beat", "sweeper")
    for name in killed:
        harness.signal(name, signal.SIGKILL)
    for name in killed:
        harness.procs[name].wait(10)
    killed_at = harness.query("SELECT now()")[0][0]
    harness.start("sweeper")
    try:
        rows = harness.wait_all_sent(scheme, COUNT, 20 + 60 + 20)
        check_delivered(harness, scheme, rows, "after the restart")
        before_kill = sum(1 for row in rows if row[3] and row[3] < killed_at)
        recovery = [
            (row[3] - max(row[1], killed_at)).total_seconds()
            for row in rows
            if row[3] and row[3] >= killed_at
        ]
        after = settle(harness)
        doubled = (after[0] - before[0]) - (after[1] - before[1])
        in_flight = 2 + 1  # the worker's two slots and the sweeper's one send at a time
        report(
            f"  - {before_kill} sent before the kill; the rest, from max(due, kill) -> sent: "
            f"{figures(recovery)}"
        )
        report(
            f"  - emails written {after[0] - before[0]}, email notifications sent "
            f"{after[1] - before[1]}: {max(doubled, 0)} sent twice (bound {in_flight})\n"
        )
        assert max(recovery) <= 60
        assert doubled <= in_flight
    finally:
        harness.start("worker")
        harness.start("beat")


def test_3_two_sweepers(harness):
    """Two sweepers for ~60 s while 100 meetings fall due: no duplicate alert or send."""
    report("## 3. Two sweepers while 100 meetings fall due over 60 s\n")
    harness.start("sweeper-2")
    try:
        time.sleep(3)
        before = settle(harness, 0)
        scheme = int(harness.ops("make", COUNT, 5, 55))
        rows = harness.wait_all_sent(scheme, COUNT, 5 + 55 + 60)
        _, sent = check_delivered(harness, scheme, rows, "two sweepers")
        after = settle(harness)
        doubled = (after[0] - before[0]) - (after[1] - before[1])
        report(
            f"  - emails written {after[0] - before[0]}, email notifications sent "
            f"{after[1] - before[1]}: {doubled} sent twice\n"
        )
        assert harness.running("sweeper") and harness.running("sweeper-2")
        assert max(sent) <= 60
        assert doubled <= 0
    finally:
        harness.stop("sweeper-2")


def test_4_only_web_left(harness):
    """Everything but the web process stopped: within ~2.5 min /healthz says the sweep has not
    run and the coordinators were sent the direct safety_net_down message."""
    report("## 4. Everything but the web process stopped\n")
    before = settle(harness, 0)
    for name in ("worker", "beat", "sweeper"):
        harness.stop(name)
    started = time.monotonic()
    stale_after = told_after = None
    body = {}
    while time.monotonic() - started < 170:
        elapsed = time.monotonic() - started
        if (
            told_after is None
            and harness.query(
                "SELECT count(*) FROM buddyscheme_notification "
                "WHERE template = 'safety_net_down' AND status = 'sent'"
            )[0][0]
        ):
            told_after = elapsed
        status, body = harness.healthz()
        if stale_after is None and status == 503 and body.get("sweep") == "stale":
            stale_after = elapsed
        if stale_after is not None and told_after is not None:
            break
        time.sleep(2)
    told = harness.query(
        "SELECT count(*), count(DISTINCT recipient_id) FROM buddyscheme_notification "
        "WHERE template = 'safety_net_down' AND status = 'sent'"
    )[0]
    report(
        f"- healthz says the sweep is stale after {stale_after and round(stale_after)} s: "
        f"{[p for p in body.get('problems', []) if 'sweep' in p]}"
    )
    report(
        f"- safety_net_down sent after {told_after and round(told_after)} s: "
        f"{told[0]} messages to {told[1]} people"
    )
    after = settle(harness)
    doubled = (after[0] - before[0]) - (after[1] - before[1])
    report(
        f"- emails written {after[0] - before[0]}, email notifications sent "
        f"{after[1] - before[1]}: {doubled} sent twice\n"
    )
    assert stale_after is not None and stale_after <= 150
    assert any("sweep has not run" in p for p in body["problems"])
    assert told_after is not None and told_after <= 150
    assert told[0] >= 1
    assert doubled <= 0
