"""Run by the fault harness as a subprocess with the harness env (its own database).

ops.py make N FIRST_DUE_IN SPREAD [phones]   checked-in meetings falling due; prints the scheme id
                                              ("phones": every buddy has a phone and agreed to texts)
ops.py phones N                               N buddies, each signed in (a session) with a meeting
                                              open for check-in; prints JSON [[meeting, session]]
ops.py session-expire KEY                     the session ends as when it expires: gone from the
                                              database and from the cache in front of it
"""

import json
import os
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "buddyscheme.settings")


def make(count, first_in, spread, phones=False):
    import bench_latency
    from django.utils import timezone

    from buddyscheme.models import Membership, Profile

    bench_latency.SPREAD_SECONDS = spread
    first_due = timezone.now() + timedelta(seconds=first_in)
    scheme = bench_latency.make_meetings(count, first_due)
    if phones:
        for number, membership in enumerate(
            Membership.objects.filter(scheme=scheme).select_related("user")
        ):
            # Staff and buddies are texted unless they opted out (buddyscheme.consent). Numbers
            # of their own (07700 8…): the demo data's people are 07700 900…, and the provider
            # stand-in counts texts by number.
            Profile.objects.update_or_create(
                user=membership.user, defaults={"phone": f"07700 8{number:05d}"}
            )
    return scheme.pk


def phones(count):
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from buddyscheme.middleware import SESSION_MEMBERSHIP_KEY, SESSION_STARTED_KEY
    from buddyscheme.models import Role, Scheme
    from meetings.models import Meeting, MeetingState
    from tests.factories import MembershipFactory, cleared_buddy, venue

    now = timezone.now()
    stamp = f"{now:%H%M%S%f}"
    scheme = Scheme.objects.create(name=f"Phones {stamp[:6]}", sender_name="Appointments")
    MembershipFactory(
        scheme=scheme,
        role=Role.COORDINATOR,
        is_on_call=True,
        user__email=f"phones-{stamp}-coordinator@example.org",
    )
    place = venue(scheme)
    out = []
    for number in range(count):
        membership = cleared_buddy(scheme, email=f"phones-{stamp}-{number}@example.org")
        start = now + timedelta(minutes=5)
        meeting = Meeting.objects.create(
            scheme=scheme,
            buddy=membership,
            venue=place,
            purpose="Fault test",
            planned_start=start,
            planned_end=start + timedelta(hours=1),
            expected_end=start + timedelta(hours=1),
            state=MeetingState.PLANNED,
        )
        session = SessionStore()
        user = membership.user
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[SESSION_MEMBERSHIP_KEY] = membership.pk
        session[SESSION_STARTED_KEY] = now.timestamp()
        session.create()
        out.append([meeting.pk, session.session_key])
    return json.dumps(out)


def session_expire(key):
    from importlib import import_module

    from django.conf import settings

    import_module(settings.SESSION_ENGINE).SessionStore(session_key=key).delete()


def main():
    import django

    django.setup()
    command, args = sys.argv[1], sys.argv[2:]
    if command == "make":
        print(make(int(args[0]), float(args[1]), float(args[2]), phones="phones" in args))
    elif command == "phones":
        print(phones(int(args[0])))
    elif command == "session-expire":
        session_expire(args[0])
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
