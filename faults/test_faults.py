"""Fault tests against the harness's own processes (faults/conftest.py). Run by
`make test-faults`; `make test` never collects them (pytest's testpaths is tests/)."""

import signal
import time
from datetime import timedelta

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
