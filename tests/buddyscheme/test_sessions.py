"""Cheap logged-in requests (issue 20): sessions read from the cache with the database behind
them, the 30-minute idle expiry pushed on at most once a minute, the membership loaded once."""

import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.db import connection
from django.http import HttpResponse
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django.utils import timezone

from ..base import PersonaTestCase


def bare(request):
    """Django's floor, as `make bench`'s bare view: middleware only, no query of its own."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bare/", bare), path("", include("buddyscheme.urls"))]

SESSION_WRITES = ('UPDATE "django_session"', 'INSERT INTO "django_session"')


def session_writes(queries) -> int:
    return sum(1 for query in queries if query["sql"].startswith(SESSION_WRITES))


class BrokenCache(BaseCache):
    """A cache that does not answer, as Redis does while it is down."""

    def __init__(self, location, params):
        super().__init__(params)

    def _fail(self, *args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    get = set = add = delete = has_key = touch = clear = incr = _fail


@override_settings(ROOT_URLCONF=__name__)
class LoggedInRequestCostTest(PersonaTestCase):
    def _queries(self, url="/bare/"):
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(self.client.get(url).status_code, 200)
        return queries

    def test_a_logged_in_bare_page_costs_no_query_once_the_user_is_cached(self):
        anonymous = self._queries()
        self.assertEqual(len(anonymous), 0)
        with time_machine.travel(timezone.now(), tick=False):
            self.login_as("buddy")
            queries = self._queries()
            again = self._queries()
        # Before (sessions in the database, saved on every request): the session row, the
        # user, the membership, and the save (savepoint, update, release): 6 queries. Now the
        # session comes from the cache and is not written within the minute, and the user and
        # their memberships with their schemes were cached at login
        # (buddyscheme/access_cache.py): the database is asked nothing.
        self.assertEqual(len(queries), 0, [q["sql"] for q in queries])
        self.assertEqual(len(again), 0, [q["sql"] for q in again])

    def test_a_page_with_the_navigation_loads_the_membership_once(self):
        self.login_as("buddy")
        cache.clear()  # as after a restart of the cache: loaded from the database
        queries = self._queries("/today/")
        memberships = [q for q in queries if 'FROM "buddyscheme_membership"' in q["sql"]]
        scheme_joined = [q for q in memberships if 'INNER JOIN "buddyscheme_scheme"' in q["sql"]]
        # Only the middleware's read of the person's own memberships joins their schemes.
        self.assertEqual(len(scheme_joined), 1)
        self.assertEqual(session_writes(queries), 0)


@override_settings(ROOT_URLCONF=__name__)
class IdleRefreshTest(PersonaTestCase):
    def test_active_every_50_seconds_for_two_hours_stays_signed_in_with_a_write_a_minute(self):
        with time_machine.travel(timezone.now(), tick=False) as clock:
            self.login_as("buddy")
            writes = 0
            for _ in range(2 * 60 * 60 // 50):  # 144 requests, one every 50 s
                clock.shift(timedelta(seconds=50))
                with CaptureQueriesContext(connection) as queries:
                    response = self.client.get("/today/")
                self.assertEqual(response.status_code, 200)
                writes += session_writes(queries)
        # The expiry is pushed on when more than a minute has passed since the last time:
        # every other request here, so 72 writes where saving every request made 144.
        self.assertEqual(writes, 72)

    def test_idle_for_31_minutes_is_signed_out(self):
        with time_machine.travel(timezone.now(), tick=False) as clock:
            self.login_as("buddy")
            clock.shift(timedelta(minutes=10))
            self.assertEqual(self.client.get("/today/").status_code, 200)
            clock.shift(timedelta(minutes=31))
            response = self.client.get("/today/")
        self.assertEqual(response.status_code, 302)
        self.assertIn("/accounts/login/", response["Location"])

    def test_the_timeout_is_right_to_within_the_minute_between_refreshes(self):
        with time_machine.travel(timezone.now(), tick=False) as clock:
            self.login_as("buddy")  # the expiry is set 30 minutes from now
            clock.shift(timedelta(seconds=59))
            self.assertEqual(self.client.get("/bare/").status_code, 200)  # not written
            clock.shift(timedelta(minutes=28, seconds=59))  # 29:58 after the login
            self.assertIn("_auth_user_id", self.client.session)
            self.assertEqual(self.client.get("/today/").status_code, 200)  # refreshed
            clock.shift(timedelta(minutes=29, seconds=59))
            self.assertEqual(self.client.get("/today/").status_code, 200)
            clock.shift(timedelta(minutes=30, seconds=1))
            self.assertEqual(self.client.get("/today/").status_code, 302)

    def test_the_database_keeps_sessions_when_the_cache_is_emptied(self):
        with time_machine.travel(timezone.now(), tick=False) as clock:
            self.login_as("buddy")
            clock.shift(timedelta(minutes=5))
            self.assertEqual(self.client.get("/today/").status_code, 200)
            cache.clear()  # a Redis restart without persistence
            clock.shift(timedelta(minutes=20))
            self.assertEqual(self.client.get("/today/").status_code, 200)
            # The database row carries the same idle expiry as the cache did.
            session = Session.objects.get(session_key=self.client.session.session_key)
            self.assertEqual(session.expire_date, timezone.now() + timedelta(minutes=30))
            cache.clear()
            clock.shift(timedelta(minutes=31))
            self.assertEqual(self.client.get("/today/").status_code, 302)

    def test_an_expired_or_unknown_cookie_does_not_make_a_session(self):
        self.client.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32
        with CaptureQueriesContext(connection) as queries:
            self.client.get("/bare/")
        self.assertEqual(session_writes(queries), 0)
        self.assertFalse(Session.objects.exists())

    def test_logging_out_forgets_the_session_in_the_cache_too(self):
        self.login_as("buddy")
        key = self.client.session.session_key
        self.assertEqual(self.client.get("/today/").status_code, 200)
        self.client.post("/accounts/logout/")
        self.assertIsNone(cache.get(f"django.contrib.sessions.cached_db{key}"))
        self.client.cookies[settings.SESSION_COOKIE_NAME] = key  # a copied cookie
        self.assertEqual(self.client.get("/today/").status_code, 302)


@override_settings(
    ROOT_URLCONF=__name__,
    CACHES={
        **settings.CACHES,
        "sessions_down": {"BACKEND": f"{__name__}.BrokenCache"},
    },
    SESSION_CACHE_ALIAS="sessions_down",
)
class CacheDownTest(PersonaTestCase):
    def test_pages_still_work_from_the_database_while_the_cache_does_not_answer(self):
        with (
            self.assertLogs("buddyscheme.sessions", "WARNING"),
            time_machine.travel(timezone.now(), tick=False) as clock,
        ):
            self.login_as("buddy")
            self.assertEqual(self.client.get("/today/").status_code, 200)
            clock.shift(timedelta(minutes=2))  # a refresh is due: saved to the database
            self.assertEqual(self.client.get("/today/").status_code, 200)
            self.client.post("/accounts/logout/")
            self.assertEqual(self.client.get("/today/").status_code, 302)
        self.assertFalse(Session.objects.exists())


def test_the_embedded_cache_is_one_directory_every_process_shares(tmp_path):
    """make run: web (two gunicorn workers), worker and beat read sessions (and allauth's rate
    limits) from the file cache under var/, so what one process writes another reads. Two
    processes with the embedded defaults (no CACHE_URL), whatever this test run uses."""
    key, value = f"shared-{uuid.uuid4().hex}", uuid.uuid4().hex
    setup = "import django; django.setup(); from django.conf import settings; "
    setup += "from django.core.cache import cache; "
    setup += "assert settings.CACHES['default']['BACKEND'].endswith('FileBasedCache'); "

    def run(code):
        return subprocess.run(
            [sys.executable, "-c", setup + code],
            cwd=Path(settings.BASE_DIR),
            env={
                "DJANGO_SETTINGS_MODULE": "buddyscheme.settings",
                "BUDDY_VAR_DIR": str(tmp_path),
                "PATH": "/usr/bin:/bin",
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    written = run(f"cache.set({key!r}, {value!r}, 60)")
    assert written.returncode == 0, written.stderr
    read = run(f"print(cache.get({key!r}))")
    assert read.returncode == 0, read.stderr
    assert read.stdout.strip() == value
