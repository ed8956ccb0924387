"""The soak (scripts/soak.py): its plan, its alert figures and verdict, and its tables.

The plan is replayed through the real services (check-in, check-out, the sweeper's sweep and
send every 5 s) on real rows, with the clock moved by time_machine: every late and forgotten
check-out it plans must raise and deliver its alerts, level by level, and a buddy who remembers
too soon must fail the verdict. The soak itself runs in `BENCH_QUICK=1 make bench` (CI)."""

import math
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from buddyscheme.models import Role
from buddyscheme.notifications import notifications_deliver
from meetings import services
from meetings.models import Meeting

from .factories import MembershipFactory, SchemeFactory, cleared_buddy, venue

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import soak  # noqa: E402 - scripts/ is not a package

ORIGIN = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday morning, the load's start
SWEEPER_EVERY = 5  # seconds, as run_sweeper's default interval
TIMINGS = {"quick": (soak.QUICK_TIMING, 150, 10, 2), "full": (soak.FULL, 600, 50, 5)}


# --- The plan ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", TIMINGS)
def test_the_plan_has_late_and_forgotten_check_outs_that_fit_in_the_run(mode):
    timing, seconds, buddies, forgetful = TIMINGS[mode]

    slots = soak.plan(timing, buddies, seconds, forgetful)

    kinds = [slot.kind for slot in slots]
    assert kinds.count(soak.FORGOTTEN) == forgetful
    assert kinds.count(soak.LATE) >= 2
    assert len(slots) >= buddies + forgetful  # every buddy meets at least once
    assert {slot.buddy for slot in slots} == set(range(buddies))
    for slot in slots:
        assert slot.check_in + timing.early[0] <= slot.start  # checked in ahead of the start
        assert slot.check_out + soak.END_MARGIN <= seconds  # over before the load ends
        if slot.kind == soak.ON_TIME:
            assert slot.check_in < slot.check_out < slot.end
        else:  # after the last level it must raise fell due, with time for the sweeper
            assert slot.check_out >= slot.level_due(slot.levels(timing)) + SWEEPER_EVERY * 2
    forgotten = [slot for slot in slots if slot.kind == soak.FORGOTTEN]
    assert all(slot.levels(timing) == timing.forget_levels for slot in forgotten)
    # The forgetful buddies are the first ones, and check in before anyone else's first meeting.
    assert {slot.buddy for slot in forgotten} == set(range(forgetful))
    assert max(slot.check_in for slot in forgotten) < timing.lead


@pytest.mark.parametrize("mode", TIMINGS)
def test_a_buddy_is_never_in_two_meetings_at_once(mode):
    timing, seconds, buddies, forgetful = TIMINGS[mode]
    by_buddy: dict[int, list] = {}
    for slot in soak.plan(timing, buddies, seconds, forgetful):
        by_buddy.setdefault(slot.buddy, []).append(slot)

    for slots in by_buddy.values():
        for before, after in zip(slots, slots[1:], strict=False):
            assert after.check_in >= before.check_out + 10


@pytest.mark.parametrize("mode", TIMINGS)
def test_logins_go_one_at_a_time_forgetful_buddies_first_others_ahead_of_their_check_in(mode):
    timing, seconds, buddies, forgetful = TIMINGS[mode]
    slots = soak.plan(timing, buddies, seconds, forgetful)
    first = [min(s.check_in for s in slots if s.buddy == n) for n in range(buddies)]

    logins, coordinators = soak.login_moments(first, 5, forgetful)

    moments = sorted(logins + coordinators)
    assert all(b - a >= soak.LOGIN_GAP for a, b in zip(moments, moments[1:], strict=False))
    assert max(logins[:forgetful]) < min(coordinators) < max(coordinators) < min(logins[forgetful:])
    assert all(login <= check_in - 10 for login, check_in in zip(logins, first, strict=True))
    if mode == "full":  # not all at the start: 30 s before their first meeting, as phones do
        assert all(
            login == pytest.approx(check_in - soak.LOGIN_AHEAD)
            for login, check_in in list(zip(logins, first, strict=True))[forgetful:]
        )
        assert max(logins) - min(logins) > 120


def test_a_buddy_with_no_meeting_still_logs_in():
    logins, _ = soak.login_moments([12.0, math.inf], 1, 1)

    assert logins == [0.0, 3.0]


def test_the_full_run_escalates_to_everyone_on_call_and_the_quick_one_to_the_coordinators():
    assert soak.FULL.forget_levels == 3  # meetings.models.TOP_LEVEL
    assert soak.QUICK_TIMING.forget_levels == 2


# --- The plan replayed through the services -----------------------------------------------


def replay(timing, seconds, buddies, forgetful, remember_after_level_1=False):
    """The soak's scheme and people, its meetings as rows, and every tap at its moment, with
    the sweeper's round (sweep, then send the outbox) every 5 s. Returns (pk, slot) pairs."""
    scheme = SchemeFactory(name="Soak Replay Buddies")
    soak.lone_working_for_soak(scheme, timing)
    for number in range(2):
        MembershipFactory(
            scheme=scheme,
            role=Role.COORDINATOR,
            is_on_call=True,
            user__email=f"replay-coordinator{number}@example.org",
        )
    people = [
        cleared_buddy(scheme, email=f"replay-buddy{number}@example.org")
        for number in range(buddies)
    ]
    slots = soak.plan(timing, buddies, seconds, forgetful)
    created = soak.meetings_create(
        scheme, people, venue(scheme, name="Replay café"), slots, timing, ORIGIN
    )
    events = [(t, 2, "sweeper", None) for t in range(0, seconds + 1, SWEEPER_EVERY)]
    for pk, slot in created:
        check_out = slot.check_out
        if remember_after_level_1 and slot.kind == soak.FORGOTTEN:
            check_out = slot.due + SWEEPER_EVERY * 2  # level 1 is out; level 2 is not yet due
        events += [(slot.check_in, 0, "check_in", pk), (check_out, 1, "check_out", pk)]
    for moment, _, what, pk in sorted(events, key=lambda event: event[:2]):
        with time_machine.travel(ORIGIN + timedelta(seconds=moment), tick=False):
            if what == "sweeper":
                services.sweep()
                notifications_deliver()
                continue
            meeting = Meeting.objects.select_related("buddy__user").get(pk=pk)
            button = services.meeting_check_in if what == "check_in" else services.meeting_check_out
            button(meeting=meeting, key=f"{what}-{pk}", by=meeting.buddy.user)
    return created


@pytest.mark.django_db
@pytest.mark.parametrize("mode", TIMINGS)
def test_every_late_and_forgotten_check_out_raises_and_delivers_its_alerts(mode):
    timing, seconds, buddies, forgetful = TIMINGS[mode]
    created = replay(timing, seconds, buddies, forgetful)

    alerts = soak.alert_figures(created, timing)

    rows = {(row["kind"], row["level"]): row for row in alerts["rows"]}
    late = sum(1 for _, slot in created if slot.kind == soak.LATE)
    assert set(rows) == {(soak.LATE, 1)} | {
        (soak.FORGOTTEN, level) for level in range(1, timing.forget_levels + 1)
    }
    assert rows[(soak.LATE, 1)]["expected"] == late
    for row in rows.values():
        assert row["raised"] == row["delivered"] == row["expected"] > 0
        # The sweeper's round raises and sends together, within its 5 s of the due instant.
        assert all(0 <= s <= SWEEPER_EVERY for s in row["raised_latency"])
        assert all(0 <= s <= SWEEPER_EVERY for s in row["delivered_latency"])
    assert alerts["all_clear"] == {"expected": forgetful, "delivered": forgetful}
    assert (alerts["other"], alerts["open"]) == (0, 0)
    assert soak.alerts_outstanding(alerts) == 0
    assert soak.verdict(0, [], [], alerts) == []


@pytest.mark.django_db
def test_a_forgetful_buddy_who_checks_out_before_the_escalation_fails_the_soak():
    timing, seconds, buddies, forgetful = TIMINGS["quick"]
    created = replay(timing, seconds, buddies, forgetful, remember_after_level_1=True)

    alerts = soak.alert_figures(created, timing)
    problems = soak.verdict(0, [], [], alerts)

    assert f"{soak.FORGOTTEN}, level 2: 0 of {forgetful} raised" in problems
    assert f"{soak.FORGOTTEN}, level 2: 0 of {forgetful} delivered" in problems
    # Level 1 went to the buddy alone: nobody else was told, so no all-clear is owed.
    assert alerts["all_clear"]["expected"] == forgetful
    assert not any(problem.startswith(f"{soak.LATE},") for problem in problems)


def test_the_verdict_fails_on_errors_a_dead_process_or_a_plan_without_alerts():
    empty = {"rows": [], "other": 0, "open": 0, "all_clear": {"expected": 0, "delivered": 0}}

    problems = soak.verdict(2, ["check-in (POST): 500"], ["worker exited with -9"], empty)

    assert problems == [
        "2 error response(s) or failed request(s)",
        "failed: check-in (POST): 500",
        "process: worker exited with -9",
        f"the plan has no {soak.LATE}",
        f"the plan has no {soak.FORGOTTEN}",
    ]


def test_the_alert_table_shows_each_level_with_its_latencies():
    alerts = {
        "rows": [
            {
                "kind": soak.FORGOTTEN,
                "level": 2,
                "expected": 2,
                "raised": 2,
                "delivered": 1,
                "raised_latency": [1.0, 3.0],
                "delivered_latency": [4.0],
            }
        ],
        "other": 3,
        "open": 1,
        "all_clear": {"expected": 2, "delivered": 0},
    }

    table = soak.alert_table(alerts)

    assert (
        f"| {soak.FORGOTTEN} | 2 (coordinators) | 2 | 2 | 1 | 2.0 / 2.9 / 3.0 | 4.0 / 4.0 / 4.0 |"
        in table
    )
    assert "all-clear once checked out | those told | 2 | – | 0 |" in table
    assert "check-out moment on a slow page): 3; alerts still open at the end: 1." in table


# --- Figures and the form reader ---------------------------------------------------------


def test_percentile_interpolates_between_ranks():
    values = [40, 10, 30, 20]  # unsorted on purpose
    assert soak.percentile(values, 0.0) == 10
    assert soak.percentile(values, 0.5) == 25
    assert soak.percentile(values, 1.0) == 40
    assert soak.percentile(values, 0.95) == pytest.approx(38.5)
    assert soak.percentile(list(range(1, 101)), 0.95) == pytest.approx(95.05)


def test_percentile_of_one_value_and_of_none():
    assert soak.percentile([7.5], 0.95) == 7.5
    assert soak.percentile([], 0.5) is None


def test_timings_summarise_each_endpoint_with_its_errors():
    timings = soak.Timings()
    for ms in (10, 20, 30, 40, 50):
        timings.add("Today", ms)
    timings.add("check-in (POST)", 100)
    timings.add("check-in (POST)", 300, "500 on POST /meetings/1/check-in/")

    rows = timings.summary()

    assert [row["endpoint"] for row in rows] == ["Today", "check-in (POST)"]
    today, check_in = rows
    assert (today["requests"], today["errors"], today["p50"], today["max"]) == (5, 0, 30, 50)
    assert today["p95"] == pytest.approx(48)
    assert (check_in["requests"], check_in["errors"], check_in["p50"]) == (2, 1, 200)
    assert timings.error_count() == 1
    assert timings.errors["check-in (POST)"] == ["500 on POST /meetings/1/check-in/"]


def test_endpoint_table_totals_requests_and_errors():
    timings = soak.Timings()
    timings.add("Today", 12.4)
    timings.add("live board poll", 80, "503 on GET /coordinator/board/live/")

    table = soak.endpoint_table(timings.summary())

    assert "| Today | 1 | 0 | 12 | 12 | 12 |" in table
    assert "| live board poll | 1 | 1 | 80 | 80 | 80 |" in table
    assert "| **all** | **2** | **1** |" in table


def test_memory_table_shows_change_and_processes_only_in_one_reading():
    table = soak.memory_table(
        {"web (pid 1)": 60.0, "web child 1 (pid 2)": 80.0},
        {"web (pid 1)": 61.5, "web child 3 (pid 9)": 90.0},
    )

    assert "| web (pid 1) | 60.0 | 61.5 | +1.5 |" in table
    assert "| web child 1 (pid 2) | 80.0 | – | – |" in table
    assert "| web child 3 (pid 9) | – | 90.0 | – |" in table


def test_forms_reads_what_a_browser_would_post():
    page = b"""
    <form method="post" action="/meetings/7/check-out/">
      <input type="hidden" name="csrfmiddlewaretoken" value="tok">
      <input type="hidden" name="key" value="k-1">
      <input type="password" name="pin">
      <input type="checkbox" name="share" value="1">
      <button type="submit">I've left safely</button>
    </form>
    <form method="post" action="/meetings/7/extend/"><input name="minutes" value="15"></form>
    """

    found = soak.forms(page)

    assert found["/meetings/7/check-out/"] == {
        "csrfmiddlewaretoken": "tok",
        "key": "k-1",
        "pin": "",
    }
    assert found["/meetings/7/extend/"] == {"minutes": "15"}
