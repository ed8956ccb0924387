"""The soak's figures (scripts/soak.py): percentiles, the per-endpoint summary, the tables and
the form reader its phones use. The soak itself runs in `BENCH_QUICK=1 make bench` (CI)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import soak  # noqa: E402 - scripts/ is not a package


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
