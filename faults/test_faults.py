"""Fault tests against the harness's own processes (faults/conftest.py), numbered as in issue
13. Run by `make test-faults`, and by `make test` (so CI) wherever PostgreSQL's binaries and
redis-server are installed (scripts/test.sh)."""

import json
import os
import random
import signal
import threading
import time

from conftest import figures, report
from phone import Phone

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


PHONES = 50


def test_3_postgres_restarted_under_50_phones(harness):
    """PostgreSQL stopped for 4 s and started again while 50 phones check in and out over
    HTTP, pressing again when told to: none lost, none doubled, every failed press told."""
    report(f"## 3. PostgreSQL restarted (4 s down) while {PHONES} phones check in and out\n")
    pairs = json.loads(harness.ops("phones", PHONES))
    base = f"http://127.0.0.1:{harness.web_port}"
    phones = [Phone(base, session) for _, session in pairs]
    errors: list[str] = []
    started = time.monotonic()
    deadline = started + 120

    # Every phone has its Today page open before the outage, so presses meet it.
    pages = {
        meeting: phone.today(deadline) for phone, (meeting, _) in zip(phones, pairs, strict=True)
    }

    def use(phone, meeting):
        try:
            time.sleep(random.uniform(0, 6))  # noqa: S311 - spread, not security
            check_in = f"/meetings/{meeting}/check-in/"
            phone.press(check_in, phone.forms(pages[meeting])[check_in], "check-in", deadline)
            time.sleep(random.uniform(0, 3))  # noqa: S311
            page = phone.today(deadline)
            check_out = f"/meetings/{meeting}/check-out/"
            phone.press(check_out, phone.forms(page)[check_out], "check-out", deadline)
        except Exception as error:  # the test reports every phone that failed
            errors.append(f"meeting {meeting}: {error!r}")

    threads = [
        threading.Thread(target=use, args=(phone, meeting))
        for phone, (meeting, _) in zip(phones, pairs, strict=True)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(2)
    down_at = time.monotonic() - started
    harness.restart_postgres(gap=4)
    up_at = time.monotonic() - started
    for thread in threads:
        thread.join(150)
    meetings = [meeting for meeting, _ in pairs]
    events = harness.query(
        "SELECT kind, count(*), count(DISTINCT meeting_id) FROM meetings_safetyevent "
        "WHERE meeting_id = ANY(%s) GROUP BY kind",
        (meetings,),
    )
    states = dict(
        harness.query(
            "SELECT state, count(*) FROM meetings_meeting WHERE id = ANY(%s) GROUP BY state",
            (meetings,),
        )
    )
    told = [answer for phone in phones for answer in phone.told]
    failed = [answer for answer in told if answer[1] != 200 or answer[2]]
    press_again = [answer for answer in failed if answer[2]]
    other = [answer for answer in failed if not answer[2]]
    report(
        f"- PostgreSQL down from {down_at:.1f} s to {up_at:.1f} s; {len(told)} presses, "
        f'{len(failed)} failed and were pressed again: {len(press_again)} told "press again" '
        f"(503), {len(other)} other answers {sorted({str(a[1]) for a in other})}"
    )
    report(f"- events by kind (rows, meetings): {sorted(events)}; meeting states {states}")
    for process in ("web", "sweeper", "worker", "beat"):
        assert harness.running(process), f"{process} did not survive the restart"
    status, body = 0, {}
    for _ in range(30):
        status, body = harness.healthz()
        if status == 200:
            break
        time.sleep(2)
    report(f"- after the restart every process still runs; healthz {status}\n")
    assert not errors, errors[:5]
    assert sorted(events) == [("check_in", PHONES, PHONES), ("check_out", PHONES, PHONES)]
    assert states == {"checked_out": PHONES}
    assert press_again, "no press met the outage: the test proved nothing"
    assert not other, f"failed presses not told to press again: {other[:5]}"
    assert status == 200


def test_4_two_sweepers_two_beats(harness):
    """Two sweepers and two beats while 100 meetings fall due over 60 s: no duplicate alert
    or send."""
    report("## 4. Two sweepers and two beats while 100 meetings fall due over 60 s\n")
    harness.start("sweeper-2")
    harness.start("beat-2")
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
        assert harness.running("beat") and harness.running("beat-2")
        assert max(sent) <= 60
        assert doubled <= 0
    finally:
        harness.stop("sweeper-2")
        harness.stop("beat-2")


SMS_OUTAGE = float(os.environ.get("FAULTS_SMS_OUTAGE", "300"))
TEXTED = 30


def test_5_sms_provider_failing(harness):
    """The SMS provider refuses every text for 5 minutes while 30 buddies fall overdue: emails
    go within 60 s all the same, texts back off (at least once a minute for safety alerts),
    /healthz and the coordinators are told, and every text arrives once after recovery."""
    report(f"## 5. The SMS provider refusing every text for {SMS_OUTAGE:.0f} s\n")
    sms = harness.sms
    sms.failing = True
    failed_from = time.time()
    scheme = int(harness.ops("make", TEXTED, 10, 20, "phones"))
    phones = {
        "+44" + row[0].replace(" ", "")[1:]
        for row in harness.query(
            "SELECT p.phone FROM buddyscheme_profile p JOIN buddyscheme_membership m "
            "ON m.user_id = p.user_id WHERE m.scheme_id = %s AND p.phone <> ''",
            (scheme,),
        )
    }

    def texts():
        return harness.query(
            "SELECT n.id, n.status, n.attempts, n.sent_at, n.created_at "
            "FROM buddyscheme_notification n WHERE n.scheme_id = %s AND n.channel = 'sms'",
            (scheme,),
        )

    def emails_sent():
        return harness.query(
            "SELECT count(*) FROM buddyscheme_notification WHERE scheme_id = %s "
            "AND channel = 'email' AND status = 'sent'",
            (scheme,),
        )[0][0]

    healthz_after = told_after = None
    while time.time() - failed_from < SMS_OUTAGE:
        elapsed = time.time() - failed_from
        if healthz_after is None:
            status, body = harness.healthz()
            if body.get("sms") == "failing":
                healthz_after = elapsed
        if (
            told_after is None
            and harness.query(
                "SELECT count(*) FROM buddyscheme_notification WHERE template = 'sms_failing' "
                "AND status = 'sent'"
            )[0][0]
        ):
            told_after = elapsed
        time.sleep(2)
    during = texts()
    rows = harness.level1(scheme)
    emailed = emails_sent()
    email_latency = [
        (row[3] - row[1]).total_seconds() for row in rows if row[3] is not None
    ]  # level1 joins every recipient row: email rows are sent, text rows are not
    # Texts queued at least 100 s before the end have met three refusals (after 0, 30, 90 s);
    # the escalation keeps queueing new ones until the end.
    settled = failed_from + SMS_OUTAGE - 100
    attempts = [row[2] for row in during if row[4].timestamp() < settled]
    report(
        f"- during the outage: {len(during)} texts queued, {sum(1 for r in during if r[1] == 'sent')} "
        f"sent, attempts each {min(attempts)}-{max(attempts)}; provider refused {sms.refused}"
    )
    report(f"- emails sent meanwhile: {emailed}; due -> email sent: {figures(email_latency)}")
    report(
        f"- healthz said texts were failing after {healthz_after and round(healthz_after)} s; "
        f"coordinators emailed after {told_after and round(told_after)} s"
    )
    sms.failing = False
    recovered = time.time()
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline and any(row[1] != "sent" for row in texts()):
        time.sleep(1)
    after = texts()
    recovery = [row[3].timestamp() - recovered for row in after if row[3] is not None]
    # Escalation goes on queueing texts: compare the provider's record with the outbox at a
    # moment they agree (a text sent twice keeps the provider one ahead for good).
    received: list = []
    for _ in range(15):
        after = texts()
        received = [text for text in sms.accepted if text[1] in phones]
        if len(received) == sum(1 for row in after if row[1] == "sent"):
            break
        time.sleep(1)
    report(
        f"- after recovery: {sum(1 for r in after if r[1] == 'sent')}/{len(after)} texts sent; "
        f"recovery -> sent: {figures(recovery)}; the provider accepted {len(received)} "
        f"texts for this scheme's {len(phones)} phones\n"
    )
    assert len(during) >= TEXTED and not any(r[1] == "sent" for r in during)
    assert len(attempts) >= TEXTED and min(attempts) >= 3  # backed off, but never gave up
    assert max(attempts) <= 3 + SMS_OUTAGE / 60 + 2  # and never hammered the provider
    assert len(email_latency) >= TEXTED and max(email_latency) <= 60
    assert healthz_after is not None and told_after is not None
    assert all(row[1] == "sent" for row in after)
    assert max(recovery) <= 60 + 10
    assert len(received) == len(after)  # each text arrived exactly once


def test_7_session_expired_mid_meeting(harness):
    """A buddy checks in, leaves the phone for longer than the idle limit (the session is
    gone), then presses "I've left safely": it counts, once, without a login."""
    report("## 7. The session expires mid-meeting; the buddy checks out\n")
    ((meeting, session),) = json.loads(harness.ops("phones", 1))
    phone = Phone(f"http://127.0.0.1:{harness.web_port}", session)
    deadline = time.monotonic() + 60
    check_in = f"/meetings/{meeting}/check-in/"
    check_out = f"/meetings/{meeting}/check-out/"
    phone.press(check_in, phone.forms(phone.today(deadline))[check_in], "check-in", deadline)
    form = phone.forms(phone.today(deadline))[check_out]
    # Gone as when it expires: from the database and from the cache (Redis) in front of it.
    harness.ops("session-expire", session)
    assert not harness.query("SELECT 1 FROM django_session WHERE session_key = %s", (session,))
    status, page, url = phone.request(check_out, form)
    again_status, again_page, _ = phone.request(check_out, form)  # pressed twice
    signed_in_only = phone.request("/today/")
    events = harness.query(
        "SELECT kind, count(*) FROM meetings_safetyevent WHERE meeting_id = %s GROUP BY kind",
        (meeting,),
    )
    state = harness.query("SELECT state FROM meetings_meeting WHERE id = %s", (meeting,))[0][0]
    report(
        f"- check-out with the session gone: {status} at {url.removeprefix(phone.base)}; "
        f"pressed again: {again_status}; events {sorted(events)}; meeting {state}; "
        f"Today without a session goes to {signed_in_only[2].removeprefix(phone.base)}\n"
    )
    assert status == 200 and "/accounts/login" not in url
    assert "checked out" in page.lower()
    assert again_status == 200
    assert sorted(events) == [("check_in", 1), ("check_out", 1)]
    assert state == "checked_out"
    assert "/accounts/login" in signed_in_only[2]


def test_6_only_web_left(harness):
    """Everything but the web process stopped: within ~2.5 min /healthz says the sweep has not
    run and the coordinators were sent the direct safety_net_down message. (Last: it leaves
    only the web process running.)"""
    report("## 6. Everything but the web process stopped\n")
    before = settle(harness, 0)
    pings_before = len(harness.sms.pings)
    for name in ("worker", "beat", "sweeper"):
        harness.stop(name)
    stopped_at = time.time()
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
    late_pings = [ping for ping in harness.sms.pings if ping[0] > stopped_at + 1]
    report(
        f"- dead-man pings before the stop: {pings_before}; after it: {len(late_pings)} in "
        f"{time.time() - stopped_at:.0f} s (the outside monitor hears silence)"
    )
    report(
        f"- emails written {after[0] - before[0]}, email notifications sent "
        f"{after[1] - before[1]}: {doubled} sent twice\n"
    )
    assert pings_before > 0 and not late_pings
    assert stale_after is not None and stale_after <= 150
    assert any("sweep has not run" in p for p in body["problems"])
    assert told_after is not None and told_after <= 150
    assert told[0] >= 1
    assert doubled <= 0
