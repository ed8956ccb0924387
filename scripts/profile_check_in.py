"""One check-in POST, end to end, in-process: where its time goes, against the bench's floors.

    DATABASE_URL=postgres://…/THROWAWAY CACHE_URL=redis://…/N BENCH_BARE_VIEW=true \\
        .venv/bin/python scripts/profile_check_in.py

Adds the bench's lone-working rows (scripts/bench.py) to the database it is given, so give it a
throwaway one with seed_demo loaded. Through Django's test client with the real middleware and
CSRF: the bare view (signed in), the write floor (/bench/write) and check-in POSTs, each N times
(PROFILE_N, 200), then prints the time per request (wall and CPU; on a shared machine compare
the CPU ratios), the SQL queries and Redis commands of one request of each, Python calls per
request (a figure that does not move with the machine's load) and a cProfile of N check-ins.
"""

import cProfile
import os
import pstats
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "buddyscheme.settings")

import django  # noqa: E402

django.setup()

import bench  # noqa: E402
import redis  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

N = int(os.environ.get("PROFILE_N", 200))
commands: Counter = Counter()
_execute = redis.Redis.execute_command


def _counted(self, *args, **options):
    commands[str(args[0])] += 1
    return _execute(self, *args, **options)


def main():
    redis.Redis.execute_command = _counted
    ids = iter(bench.lone_working_data(in_progress=200, planned=3 * N + 50))
    floor_meeting = next(ids)
    headers = bench.buddy_session()
    client = Client(
        HTTP_HOST=bench.HOST,
        enforce_csrf_checks=True,
        HTTP_X_CSRFTOKEN=headers["X-CSRFToken"],
        HTTP_REFERER=headers["Referer"],
    )
    for part in headers["Cookie"].split("; "):
        name, value = part.split("=", 1)
        client.cookies[name] = value
    count = iter(range(10**9))

    def check_in():
        client.cookies.pop("messages", None)  # as wrk: the confirmation is never sent back
        response = client.post(f"/meetings/{next(ids)}/check-in/", {"key": f"p-{next(count)}"})
        assert response.status_code == 302 and response["Location"].endswith("/today/")

    def floor():
        response = client.post(f"/bench/write?meeting={floor_meeting}", {"key": "floor"})
        assert response.status_code == 302

    def bare():
        assert client.get("/bench/bare").status_code == 200

    rows = {"bare": bare, "floor": floor, "check-in": check_in}
    for request in rows.values():
        request()  # warm
    took = {}
    for name, request in rows.items():
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(N // 2):
            request()
        took[name] = (
            (time.perf_counter() - wall) / (N // 2) * 1000,
            (time.process_time() - cpu) / (N // 2) * 1000,
        )
        print(f"{name:9s} {took[name][0]:6.2f} ms wall, {took[name][1]:5.2f} ms CPU per request")
    for kind, index in (("wall", 0), ("CPU", 1)):
        bare_ms, floor_ms, check_in_ms = (took[name][index] for name in rows)
        print(
            f"ratios ({kind}): check-in/bare {bare_ms / check_in_ms:.2f}x, check-in/floor "
            f"{floor_ms / check_in_ms:.2f}x, floor/bare {bare_ms / floor_ms:.2f}x"
        )
    for name, request in rows.items():
        commands.clear()
        statements = []

        def counted(execute, sql, params, many, context, statements=statements):
            statements.append(sql)
            return execute(sql, params, many, context)

        profile = cProfile.Profile()
        with connection.execute_wrapper(counted):
            profile.enable()
            request()
            profile.disable()
        # BEGIN and COMMIT are not statements Django executes: add them for a transaction.
        print(
            f"{name}: {len(statements)} SQL statements (+ BEGIN/COMMIT when it writes), "
            f"Redis {dict(commands)}, {pstats.Stats(profile).total_calls} Python calls"
        )
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(N):
        check_in()
    profile.disable()
    pstats.Stats(profile).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
