"""Funder-report PDF time for `make bench`: a year of a large scheme's data (5,000 matches and
100,000 meetings; BENCH_QUICK=1: 200 and 2,000), the first (cold) render and the warm median.

Builds its own scheme in the bench database (bulk inserts), so the demo data is left alone.
"""

import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "buddyscheme.settings")

import django  # noqa: E402

django.setup()

QUICK = os.environ.get("BENCH_QUICK") == "1"
MATCHES = 200 if QUICK else 5_000
MEETINGS = 2_000 if QUICK else 100_000
TARGET_SECONDS = 3.0
UTC = ZoneInfo("UTC")


def year_of_data(starts_on: date, scheme=None, matches_wanted=MATCHES, meetings_wanted=MEETINGS):
    """A year of data from `starts_on`: matches (a third ended) and checked-out meetings, in
    `scheme` or in a new one (scripts/bench_dashboard.py puts it in the demo coordinator's)."""
    from buddyscheme.models import Membership, ParticipantEnrolment, Role, Scheme, User
    from matching.models import EndingType, Match
    from meetings.models import Meeting, Venue

    if scheme is None:
        scheme = Scheme.objects.create(name="Bench funder scheme", sender_name="Appointments")
    stamp = time.time_ns()
    buddy_count = max(matches_wanted // 5, 10)

    def people(role, count):
        users = User.objects.bulk_create(
            User(email=f"bench-{role}-{stamp}-{n}@example.org", first_name="B", last_name=str(n))
            for n in range(count)
        )
        return Membership.objects.bulk_create(
            Membership(
                user=user,
                scheme=scheme,
                role=role,
                joined_at=datetime(starts_on.year - 1, 6, 1, tzinfo=UTC),
            )
            for user in users
        )

    buddies = people(Role.BUDDY, buddy_count)
    participants = people(Role.PARTICIPANT, matches_wanted)
    ParticipantEnrolment.objects.bulk_create(
        ParticipantEnrolment(membership=person, eligible=True, waiting_since=starts_on)
        for person in participants
    )
    start = datetime(starts_on.year, starts_on.month, starts_on.day, 12, tzinfo=UTC)
    endings = [value for value, _ in EndingType.choices]
    matches = Match.objects.bulk_create(
        Match(
            scheme=scheme,
            buddy=buddies[n % buddy_count],
            participant=participants[n],
            state="ended" if n % 3 == 0 else "active",
            proposed_at=start + timedelta(days=n % 200),
            activated_at=start + timedelta(days=n % 200 + 14),
            ended_at=start + timedelta(days=n % 200 + 120) if n % 3 == 0 else None,
            ending_type=endings[n % len(endings)] if n % 3 == 0 else "",
        )
        for n in range(matches_wanted)
    )
    venue = Venue.objects.create(
        scheme=scheme, name="Bench café", kind="community", risk_review_due=starts_on
    )

    def meeting(n):
        match = matches[n % matches_wanted]
        begin = start + timedelta(days=n % 360, hours=n % 8)
        return Meeting(
            scheme=scheme,
            match=match,
            buddy=match.buddy,
            venue=venue,
            purpose="Coffee",
            planned_start=begin,
            planned_end=begin + timedelta(hours=1),
            expected_end=begin + timedelta(hours=1),
            state="checked_out",
            checked_in_at=begin,
            checked_out_at=begin + timedelta(minutes=75),
        )

    for first in range(0, meetings_wanted, 5_000):
        Meeting.objects.bulk_create(
            meeting(n) for n in range(first, min(first + 5_000, meetings_wanted))
        )
    from django.db import connection

    if connection.vendor == "postgresql":
        # What autovacuum does within a minute of a bulk load: without fresh statistics the
        # planner believes the new rows are not there and joins 100,000 meetings row by row.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE meetings_meeting, matching_match, buddyscheme_membership")
    return scheme


def main(out=None):
    from evaluation.report_models import FunderReport
    from evaluation.report_pdf import funder_report_pdf

    starts_on = date(2025, 1, 1)
    scheme = year_of_data(starts_on)
    report = FunderReport.objects.create(
        scheme=scheme, starts_on=starts_on, ends_on=date(2025, 12, 31)
    )
    started = time.perf_counter()
    pdf = funder_report_pdf(report)
    cold = time.perf_counter() - started
    warm = []
    for _ in range(3):
        started = time.perf_counter()
        funder_report_pdf(report)
        warm.append(time.perf_counter() - started)
    median = statistics.median(warm)
    print(
        f"funder-report PDF, a year of {MATCHES:,} matches and {MEETINGS:,} meetings "
        f"({len(pdf) // 1024} KB): first render {cold:.2f} s, warm {median:.2f} s "
        f"(median of 3; target <= {TARGET_SECONDS:.0f} s)"
    )
    from bench_rows import limit_row

    limit_row(
        f"funder-report PDF, a year of {MATCHES:,} matches / {MEETINGS:,} meetings, warm",
        median,
        "s",
        maximum=TARGET_SECONDS,
    )
    if out:
        Path(out).write_bytes(pdf)


if __name__ == "__main__":
    main(*sys.argv[1:])
