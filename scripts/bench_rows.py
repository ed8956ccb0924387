"""One table for `make bench`: every bench script records its rows here, bench.sh prints them.

Each row is a measured figure with, where the target is a ratio, the reference measured in the
same run: name, measured, unit, reference, reference name, ratio, target, pass. Rows go to a
JSON-lines file in the bench directory as they are measured (so a crash keeps what was
measured); `bench_rows.py summary` prints them as one table and, in a full run, writes
benchmarks/results.md and benchmarks/results.csv (committed: a regression shows in a diff).

In quick mode (BENCH_QUICK=1, CI) `summary` fails when a row could not be measured; its figures
say nothing about speed, so a missed target does not fail it. A full run never fails on a
missed target either: it prints FAIL in the row, for a person to read.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
from pathlib import Path

QUICK = os.environ.get("BENCH_QUICK") == "1"


def rows_file() -> Path:
    default = Path(os.environ.get("BUDDY_VAR_DIR", "var")) / "bench-rows.jsonl"
    return Path(os.environ.get("BENCH_ROWS", default))


def _write(row: dict) -> None:
    path = rows_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(row) + "\n")


def _measured(value) -> bool:
    return value is not None and isinstance(value, int | float) and math.isfinite(value)


def ratio_row(
    name: str,
    measured: float | None,
    unit: str,
    reference: float | None,
    reference_name: str,
    minimum: float | None = None,
    note: str = "",
) -> None:
    """A throughput against a reference measured in the same run; passes at `minimum`× or more."""
    ok = _measured(measured) and _measured(reference) and reference > 0
    ratio = measured / reference if ok else None
    _write(
        {
            "name": name,
            "measured": measured,
            "unit": unit,
            "reference": reference,
            "reference_name": reference_name,
            "ratio": ratio,
            "target": f">= {minimum:g}x" if minimum is not None else "",
            "pass": (ratio >= minimum) if (ratio is not None and minimum is not None) else None,
            "note": note,
        }
    )


def limit_row(
    name: str,
    measured: float | None,
    unit: str,
    maximum: float | None = None,
    minimum: float | None = None,
    reference: float | None = None,
    reference_name: str = "",
    note: str = "",
) -> None:
    """An absolute figure (seconds, ms, KB, queries) against a ceiling or floor, if there is one.
    A reference (another solver's time, say) is printed beside it when given."""
    passed = None
    if _measured(measured):
        if maximum is not None:
            passed = measured <= maximum
        if minimum is not None:
            passed = (passed is not False) and measured >= minimum
    target = " and ".join(
        part
        for part in (
            f"<= {maximum:g} {unit}" if maximum is not None else "",
            f">= {minimum:g} {unit}" if minimum is not None else "",
        )
        if part
    )
    ratio = (
        measured / reference if _measured(measured) and _measured(reference) and reference else None
    )
    _write(
        {
            "name": name,
            "measured": measured,
            "unit": unit,
            "reference": reference,
            "reference_name": reference_name,
            "ratio": ratio,
            "target": target,
            "pass": passed,
            "note": note,
        }
    )


def read_rows() -> list[dict]:
    path = rows_file()
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _figure(value, unit="") -> str:
    if not _measured(value):
        return "not measured"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip()


def _cells(row: dict) -> list[str]:
    verdict = {True: "pass", False: "FAIL", None: ""}[row["pass"]]
    reference = (
        f"{_figure(row['reference'], row['unit'])} ({row['reference_name']})"
        if row.get("reference_name")
        else ""
    )
    ratio = f"{row['ratio']:.2f}x" if _measured(row.get("ratio")) else ""
    return [
        row["name"],
        _figure(row["measured"], row["unit"]),
        reference,
        ratio,
        row["target"],
        verdict,
        row.get("note", ""),
    ]


HEADER = ["row", "measured", "reference (same run)", "ratio", "target", "pass / fail", "note"]


def markdown(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for row in rows:
        lines.append("| " + " | ".join(c.replace("|", "/") for c in _cells(row)) + " |")
    return "\n".join(lines) + "\n"


def summary(write_to: Path | None) -> int:
    rows = read_rows()
    if not rows:
        print("make bench: no rows were recorded", file=sys.stderr)
        return 1
    print(markdown(rows))
    unmeasured = [row["name"] for row in rows if not _measured(row["measured"])]
    missed = [row["name"] for row in rows if row["pass"] is False]
    print(
        f"{len(rows)} rows, {len(rows) - len(unmeasured)} measured, {len(missed)} missed their target"
    )
    if write_to is not None:
        write_to.mkdir(parents=True, exist_ok=True)
        header = os.environ.get("BENCH_HEADER", "")
        (write_to / "results.md").write_text(
            f"# make bench: last full run\n\n{header}\n\n{markdown(rows)}", encoding="utf-8"
        )
        with (write_to / "results.csv").open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(
                [
                    "row",
                    "measured",
                    "unit",
                    "reference",
                    "reference_name",
                    "ratio",
                    "target",
                    "pass",
                    "note",
                ]
            )
            for row in rows:
                writer.writerow(
                    [
                        row["name"],
                        row["measured"],
                        row["unit"],
                        row["reference"],
                        row["reference_name"],
                        row["ratio"],
                        row["target"],
                        {True: "pass", False: "fail", None: ""}[row["pass"]],
                        row.get("note", ""),
                    ]
                )
    if unmeasured:
        print(
            "make bench: rows that could not be measured: " + ", ".join(unmeasured), file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["summary"]:
        target = None if QUICK else Path(sys.argv[2] if len(sys.argv) > 2 else "benchmarks")
        sys.exit(summary(target))
    sys.exit("usage: bench_rows.py summary [DIR]")
