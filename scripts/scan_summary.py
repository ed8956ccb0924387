"""Summarise a wapiti JSON report for benchmarks/scan.md; exit 1 on anything above "low".

Above "low": a vulnerability of level medium, high or critical, any anomaly (wapiti's
"Internal Server Error" and "Resource consumption"), or any server error in the server's log.
Usage: scan_summary.py REPORT.json SERVER.log --seconds N --signed-in-status CODE --output MD
"""

import argparse
import datetime as dt
import json
import re
import sys
from collections import Counter
from pathlib import Path

LEVELS = {0: "info", 1: "low", 2: "medium", 3: "high", 4: "critical"}


def _level(finding: dict) -> int:
    try:
        return int(finding.get("level", 0))
    except (TypeError, ValueError):
        return 0


def summarise(report: dict, server_log: str, seconds: int, signed_in_status: str):
    rows, failures = [], []
    for section in ("vulnerabilities", "anomalies", "additionals"):
        for category, findings in sorted(report.get(section, {}).items()):
            if not findings:
                continue
            levels = Counter(LEVELS.get(_level(f), str(_level(f))) for f in findings)
            paths = sorted({f"{f.get('method', '')} {f.get('path', '')}" for f in findings})
            rows.append((section, category, len(findings), levels, paths))
            for finding in findings:
                above_low = _level(finding) >= 2 or section == "anomalies"
                if above_low:
                    failures.append(
                        f"{category}: {finding.get('method')} {finding.get('path')} "
                        f"({finding.get('parameter') or '-'}) {finding.get('info', '')[:120]}"
                    )
    server_errors = re.findall(r"Internal Server Error: (\S+)", server_log)
    failures += [f"server error logged: {path}" for path in server_errors]
    if signed_in_status not in ("200", ""):
        failures.append(f"the scanner's session ended (coordinator page: {signed_in_status})")
    infos = report.get("infos", {})
    lines = [
        "# Security scan (make scan)",
        "",
        f"wapiti {infos.get('version', '')}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
        f"{seconds} s, signed in as the demo coordinator against `{infos.get('target', '')}` "
        f"(scope {infos.get('scope', '')}; crawled: {infos.get('crawled_pages_nbr', 'n/a')}).",
        f"Coordinator page after the scan: HTTP {signed_in_status or 'not checked'}.",
        "",
        "| Kind | Category | Findings | Levels | Where (first 5) |",
        "|---|---|---|---|---|",
    ]
    for section, category, count, levels, paths in rows:
        level_text = ", ".join(f"{name} {n}" for name, n in sorted(levels.items()))
        where = "<br>".join(paths[:5]).replace("|", "\\|")
        lines.append(f"| {section} | {category} | {count} | {level_text} | {where} |")
    if not rows:
        lines.append("| — | nothing found | 0 | — | — |")
    lines += ["", f"Server errors in the server's log: {len(server_errors)}.", ""]
    if failures:
        lines += ["**Above low (make scan fails):**", ""] + [f"- {f}" for f in failures]
    else:
        lines.append("**Nothing above low.**")
    return "\n".join(lines) + "\n", failures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("server_log")
    parser.add_argument("--seconds", type=int, default=0)
    parser.add_argument("--signed-in-status", default="")
    parser.add_argument("--output", required=True)
    arguments = parser.parse_args()
    report_path = Path(arguments.report)
    if not report_path.exists():
        print("wapiti wrote no report", file=sys.stderr)
        return 1
    log_path = Path(arguments.server_log)
    text, failures = summarise(
        json.loads(report_path.read_text()),
        log_path.read_text(errors="replace") if log_path.exists() else "",
        arguments.seconds,
        arguments.signed_in_status,
    )
    Path(arguments.output).write_text(text)
    print(text)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
