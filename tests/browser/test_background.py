"""The journeys' real worker and beat (tests/browser/background.py): libfaketime moves a child
Python's clock from the offset file, and beat's sweep runs at the test's moved time."""

import datetime as dt
import subprocess
import sys
from datetime import timedelta

import pytest

from .background import LIBFAKETIME, Background

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

CHILD = """
import datetime, sys, time
clock_file = sys.argv[1]
before = (time.time(), datetime.datetime.now(datetime.UTC).timestamp())
time.sleep(0.05)  # libfaketime 0.9.10 with an unfaked monotonic clock fails here (EINVAL)
with open(clock_file + ".new", "w") as f:
    f.write("+172800s\\n")
import os; os.replace(clock_file + ".new", clock_file)
after = (time.time(), datetime.datetime.now(datetime.UTC).timestamp())
print(*before, *after)
"""


def test_libfaketime_moves_time_and_datetime_in_a_child_python_as_the_file_says(tmp_path):
    background = Background(tmp_path)
    background._offset(3600)
    environment = background.environment(
        {"USER": "postgres", "PASSWORD": "", "HOST": "", "PORT": "", "NAME": "unused"}, ""
    )
    real = dt.datetime.now(dt.UTC).timestamp()
    output = subprocess.run(
        [sys.executable, "-c", CHILD, str(background.clock_file)],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    time_before, now_before, time_after, now_after = map(float, output.split())
    assert LIBFAKETIME
    # An hour ahead, then (the file rewritten while it runs) two days ahead, at once.
    for value in (time_before, now_before):
        assert abs(value - real - 3600) < 30
    for value in (time_after, now_after):
        assert abs(value - real - 172800) < 30


def test_beat_sweeps_at_the_tests_time_after_the_clock_moves(worker_and_beat):
    from django.utils import timezone

    from buddyscheme.models import Heartbeat

    with worker_and_beat.travel(dt.datetime(2027, 3, 10, 10, 0, tzinfo=dt.UTC)) as clock:
        worker_and_beat.wait_for_sweep()
        clock.shift(timedelta(days=3))
        worker_and_beat.wait_for_sweep()
        beat_at = Heartbeat.objects.get(name="sweep").beat_at
        # The worker's clock reads the test's (to within the sweep's interval and a poll).
        assert timedelta(0) <= beat_at - dt.datetime(2027, 3, 13, 10, 0, tzinfo=dt.UTC)
        assert beat_at <= timezone.now() + timedelta(seconds=2)
