"""The Lighthouse rows of `make bench` (scripts/bench_lighthouse.py): what each row reports.

Lighthouse itself runs in `BENCH_QUICK=1 make bench` (CI) against a live server; these pin how
its reports become rows: the lowest accessibility and best-practices score of a page's runs
(with the audits that cost points), the median run's performance, and unmeasured rows (which
fail the quick mode) when a page could not be measured."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import bench_lighthouse  # noqa: E402 - scripts/ is not a package
import bench_rows  # noqa: E402


def report(accessibility, best_practices, performance, failing=()):
    """A Lighthouse result with the shape of its JSON report (categories and audits)."""
    audits = {
        "color-contrast": {"score": 0 if "color-contrast" in failing else 1},
        "label": {"score": 1},
        "aria-allowed-role": {"score": None},  # not applicable
        "errors-in-console": {"score": 0 if "errors-in-console" in failing else 1},
        "first-contentful-paint": {"score": 0.9, "displayValue": "1.5 s"},
        "total-blocking-time": {"score": 1, "displayValue": "0 ms"},
    }
    return {
        "categories": {
            "accessibility": {
                "score": accessibility,
                "auditRefs": [
                    {"id": "color-contrast", "weight": 7},
                    {"id": "label", "weight": 7},
                    {"id": "aria-allowed-role", "weight": 1},
                ],
            },
            "best-practices": {
                "score": best_practices,
                "auditRefs": [{"id": "errors-in-console", "weight": 1}],
            },
            "performance": {
                "score": performance,
                "auditRefs": [
                    {"id": "first-contentful-paint", "weight": 10},
                    {"id": "total-blocking-time", "weight": 30},
                ],
            },
        },
        "audits": audits,
    }


def rows(tmp_path, monkeypatch, results):
    monkeypatch.setenv("BENCH_ROWS", str(tmp_path / "rows.jsonl"))
    bench_lighthouse.record("Today", results)
    return {row["name"]: row for row in bench_rows.read_rows()}


def test_a_page_scores_its_lowest_run_with_the_audits_that_cost_it(tmp_path, monkeypatch):
    results = [
        report(1.0, 1.0, 0.99),
        report(0.93, 0.92, 0.71, failing=("color-contrast", "errors-in-console")),
        report(1.0, 1.0, 0.88),
    ]

    found = rows(tmp_path, monkeypatch, results)

    accessibility = found["Lighthouse accessibility (Today, mobile)"]
    assert (accessibility["measured"], accessibility["pass"]) == (93, False)
    assert "color-contrast (0)" in accessibility["note"] and "label" not in accessibility["note"]
    practices = found["Lighthouse best practices (Today, mobile)"]
    assert (practices["measured"], practices["pass"]) == (92, False)
    assert "errors-in-console" in practices["note"]
    performance = found["Lighthouse performance (Today, mobile)"]
    assert (performance["measured"], performance["pass"]) == (88, None)  # the median, no target
    assert "median of 3 runs" in performance["note"] and "FCP 1.5 s" in performance["note"]


def test_full_marks_pass_and_best_practices_pass_from_95(tmp_path, monkeypatch):
    found = rows(tmp_path, monkeypatch, [report(1.0, 0.95, 0.5)])

    assert found["Lighthouse accessibility (Today, mobile)"]["pass"] is True
    assert found["Lighthouse best practices (Today, mobile)"]["pass"] is True


def test_a_page_that_could_not_be_measured_leaves_rows_that_fail_the_quick_mode(
    tmp_path, monkeypatch, capsys
):
    found = rows(tmp_path, monkeypatch, [])

    assert len(found) == 3 and all(row["measured"] is None for row in found.values())
    assert bench_rows.summary(None) == 1
    assert "could not be measured" in capsys.readouterr().err
