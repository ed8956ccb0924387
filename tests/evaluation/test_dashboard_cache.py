"""The coordinator dashboard's figures kept in the cache (evaluation.dashboard), the whole
dashboard body kept per scheme (buddyscheme.dashboard), and the funder report's buddy minutes
summed in the database (buddyscheme.support.time_given_total)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from buddyscheme.dashboard import DASHBOARD_SECONDS, dashboard_forget
from buddyscheme.models import Role, SupervisionMode, SupervisionState
from buddyscheme.models import Supervision as SupervisionModel
from buddyscheme.support import time_given_by, time_given_total, whole_minutes
from evaluation.dashboard import FIGURES_SECONDS, forget_figures
from evaluation.figures import funder_figures
from matching.models import Match
from meetings.models import Meeting
from tests.base import PersonaTestCase
from tests.factories import MembershipFactory, SchemeFactory, venue

NOW = datetime(2026, 3, 18, 10, 0, tzinfo=UTC)
MEETINGS = "buddy meetings"
# With the body kept, a coordinator's page costs two queries, never the dashboard's: their second
# factor (MFA is required in tests) and the safety net's heartbeat (the banner on every page).
KEPT_QUERIES = 2


def _meetings_shown(page: str) -> str:
    """The number in the "buddy meetings" card of the figures section."""
    before = page.split(f'<p class="small mb-0">{MEETINGS}')[0]
    return before.rsplit('<p class="fs-4 mb-0">', 1)[1].split("</p>")[0].strip()


def _checked_out(scheme, match, begin, minutes=60, seconds=0):
    return Meeting.objects.create(
        scheme=scheme,
        match=match,
        buddy=match.buddy,
        venue=venue(scheme, name=f"Room {begin:%d%H%M%S}"),
        purpose="Coffee",
        planned_start=begin,
        planned_end=begin + timedelta(hours=1),
        expected_end=begin + timedelta(hours=1),
        state="checked_out",
        checked_in_at=begin,
        checked_out_at=begin + timedelta(minutes=minutes, seconds=seconds),
    )


def _match(scheme):
    return Match.objects.create(
        scheme=scheme,
        buddy=MembershipFactory(scheme=scheme, role=Role.BUDDY),
        participant=MembershipFactory(scheme=scheme, role=Role.PARTICIPANT),
        state="active",
        activated_at=NOW - timedelta(days=40),
    )


class DashboardFiguresCacheTest(PersonaTestCase):
    def setUp(self):
        self.travel = time_machine.travel(NOW, tick=False)
        self.clock = self.travel.start()
        self.addCleanup(self.travel.stop)
        self.login_as("coordinator")
        match = _match(self.scheme)
        for day in range(6):
            _checked_out(self.scheme, match, NOW - timedelta(days=day + 1))

    def _get(self):
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get("/coordinator/")
        self.assertEqual(response.status_code, 200)
        return len(queries), response.content.decode()

    def _quietly_add_meetings(self, count):
        """Meetings added without a save signal (as a bulk import would), so only the clock
        can make the cached figures go."""
        match = Match.objects.filter(scheme=self.scheme).first()
        Meeting.objects.bulk_create(
            Meeting(
                scheme=self.scheme,
                match=match,
                buddy=match.buddy,
                venue=venue(self.scheme, name=f"Bulk {n}"),
                purpose="Walk",
                planned_start=NOW - timedelta(hours=5),
                planned_end=NOW - timedelta(hours=4),
                expected_end=NOW - timedelta(hours=4),
                state="checked_out",
                checked_in_at=NOW - timedelta(hours=5),
                checked_out_at=NOW - timedelta(hours=4),
            )
            for n in range(count)
        )

    def test_a_second_request_serves_the_same_figures_from_the_cache(self):
        computed, page = self._get()
        self.assertEqual(_meetings_shown(page), "6")
        self.assertIn("Figures as of 10:00", page)
        self._quietly_add_meetings(3)
        dashboard_forget(self.scheme.pk)  # the body is worked out again, the figures are not
        body_only, page = self._get()
        # The five queries of the figures (the waiting list's length, matches by state, this
        # month's meetings, alerts and endings) and the ten of the pattern flags (kept for a
        # minute too) are not run again: the numbers are the same.
        self.assertEqual(computed - body_only, 5 + 10)
        self.assertEqual(_meetings_shown(page), "6")
        # The charts come from the cache too (drawn once): the same SVG, byte for byte.
        svg = lambda text: text[text.index("<svg") : text.rindex("</svg>")]  # noqa: E731
        kept, again = self._get()
        self.assertEqual(kept, KEPT_QUERIES)
        self.assertEqual(svg(page), svg(again))

    def test_expired_figures_are_worked_out_again(self):
        self._get()
        self._quietly_add_meetings(3)
        self.clock.shift(timedelta(seconds=FIGURES_SECONDS - 1))
        self.assertEqual(_meetings_shown(self._get()[1]), "6")
        # The body worked out just now keeps those figures for its own DASHBOARD_SECONDS.
        self.clock.shift(timedelta(seconds=DASHBOARD_SECONDS + 1))
        page = self._get()[1]
        self.assertEqual(_meetings_shown(page), "9")
        self.assertIn("Figures as of 10:01", page)

    def test_a_new_match_forgets_the_figures_at_once_and_a_check_out_does_not(self):
        self._get()
        match = Match.objects.filter(scheme=self.scheme).first()
        # Meetings are saved on every check-in and check-out: they do not empty the cache.
        _checked_out(self.scheme, match, NOW - timedelta(hours=2))
        self.assertEqual(_meetings_shown(self._get()[1]), "6")
        # A coordinator's change to what is counted (a match made) shows at once.
        _match(self.scheme)
        self.assertEqual(_meetings_shown(self._get()[1]), "7")

    def test_needs_me_today_is_kept_seconds_and_the_page_says_as_of_when(self):
        self.assertIn("As of 10:00:00", self._get()[1])
        Match.objects.filter(scheme=self.scheme).update(state="proposed")  # no signal
        self.clock.shift(timedelta(seconds=DASHBOARD_SECONDS - 1))
        page = self._get()[1]
        self.assertNotIn("1 proposal</a> not answered yet", page)
        self.assertIn("As of 10:00:00", page)
        self.clock.shift(timedelta(seconds=1))
        page = self._get()[1]
        self.assertIn("1 proposal</a> not answered yet", page)
        self.assertIn(f"As of 10:00:{DASHBOARD_SECONDS:02d}", page)

    def test_the_refresh_link_works_the_body_out_at_once(self):
        self._get()
        Match.objects.filter(scheme=self.scheme).update(state="proposed")  # no signal
        self.assertNotIn("1 proposal</a> not answered yet", self._get()[1])
        response = self.client.get("/coordinator/?refresh=1")
        self.assertRedirects(response, "/coordinator/", fetch_redirect_response=False)
        self.assertIn("1 proposal</a> not answered yet", self._get()[1])

    def test_each_scheme_has_its_own_figures(self):
        self._get()
        self.login_as("other_coordinator")
        other = self._get()[1]
        self.assertNotEqual(_meetings_shown(other), "6")

    def _three_counts(self):
        """Queries with nothing kept, with the figures and flags kept, with the body kept."""
        forget_figures(self.scheme)
        cold = self._get()[0]
        dashboard_forget(self.scheme.pk)
        return [cold, self._get()[0], self._get()[0]]

    def test_the_query_count_is_flat_every_way_as_the_data_grows(self):
        small = self._three_counts()
        for _ in range(5):
            match = _match(self.scheme)
            for day in range(4):
                _checked_out(self.scheme, match, NOW - timedelta(days=day + 1, hours=1))
        large = self._three_counts()
        self.assertEqual(small, large)
        self.assertEqual(small[0] - small[1], 5 + 10)  # the figures and the pattern flags
        self.assertEqual(small[2], KEPT_QUERIES)


def _time_given_data(scheme):
    """Known lengths: 60 min, 2 min 30 s (half a minute rounds up: 3), 89 s (1), 90 s (2), a
    check-out before the check-in (0), and a 50-minute phone one-to-one."""
    match = _match(scheme)
    begin = NOW - timedelta(days=3)
    for n, (minutes, seconds) in enumerate([(60, 0), (2, 30), (1, 29), (1, 30), (-5, 0)]):
        _checked_out(scheme, match, begin + timedelta(hours=n), minutes, seconds)
    coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR)
    SupervisionModel.objects.create(
        scheme=scheme,
        buddy=match.buddy,
        support_person=coordinator,
        mode=SupervisionMode.PHONE,
        state=SupervisionState.HELD,
        held_at=begin + timedelta(minutes=50),
        starts_at=begin,
        ends_at=begin + timedelta(minutes=50),
    )
    # Another scheme's meeting is not counted.
    _checked_out(SchemeFactory(), _match(SchemeFactory()), begin)
    return NOW - timedelta(days=10), NOW


def _check_time_given_total():
    scheme = SchemeFactory()
    since, until = _time_given_data(scheme)
    listed = time_given_by(scheme, since, until)
    assert sorted(item.minutes for item in listed) == [0, 1, 2, 3, 50, 60]
    with CaptureQueriesContext(connection) as queries:
        assert time_given_total(scheme, since, until) == (116, 6)
    assert len(queries) == 2
    assert sum(item.minutes for item in listed) == 116
    figures = funder_figures(scheme, since.date(), until.date())
    assert (figures.buddy_hours, figures.buddy_time_items) == (round(116 / 60, 1), 6)


def test_whole_minutes_rounds_half_a_minute_up_and_never_below_nought():
    lengths = (0, 29, 30, 89, 90, 150, -10, -90)
    minutes = [whole_minutes(timedelta(seconds=seconds)) for seconds in lengths]
    assert minutes == [0, 0, 1, 1, 2, 3, 0, 0]
    assert whole_minutes(timedelta(seconds=29, microseconds=999_999)) == 0


@pytest.mark.django_db
def test_time_given_is_summed_in_the_database_as_python_sums_it():
    _check_time_given_total()


@pytest.mark.postgres
@pytest.mark.django_db
def test_time_given_is_summed_the_same_on_postgresql():
    _check_time_given_total()


class DashboardFlagsCacheTest(PersonaTestCase):
    """The "Matches to look at" list is kept a minute per scheme; a dismissal shows at once."""

    def setUp(self):
        self.travel = time_machine.travel(NOW, tick=False)
        self.clock = self.travel.start()
        self.addCleanup(self.travel.stop)
        self.login_as("coordinator")
        self.quiet = _match(self.scheme)  # started 40 days ago, never met: flagged

    def _page(self):
        response = self.client.get("/coordinator/")
        self.assertEqual(response.status_code, 200)
        return response.content.decode()

    def test_a_flag_is_kept_a_minute_and_a_dismissal_shows_at_once(self):
        self.assertIn("No meeting since the match started", self._page())
        # A meeting held clears the pattern (a meeting's save does not empty the cache: it
        # happens on every check-in), seen within a minute.
        _checked_out(self.scheme, self.quiet, NOW - timedelta(hours=3))
        self.assertIn("No meeting since the match started", self._page())
        self.clock.shift(timedelta(seconds=61))
        self.assertNotIn("No meeting since the match started", self._page())

    def test_a_dismissal_takes_the_flag_off_the_dashboard_at_once(self):
        from meetings.models import PatternKind
        from meetings.patterns import pattern_dismiss

        self.assertIn("No meeting since the match started", self._page())
        with self.captureOnCommitCallbacks(execute=True):
            pattern_dismiss(
                match=self.quiet,
                kind=PatternKind.NO_MEETING,
                note="Spoke to both: on holiday",
                by=self.persona_user("coordinator"),
            )
        self.assertNotIn("No meeting since the match started", self._page())


@pytest.mark.redis
def test_forgetting_every_schemes_figures_works_on_redis():
    """Forgetting works on Redis whatever an earlier release stored as the generation (its
    INCRBY refused a float stamp, which made every save of an enrolment fail: found by the
    quick bench's seeding); the generation is a fresh token with no expiry."""
    from django.conf import settings
    from django.core.cache import caches
    from django.test import override_settings

    from evaluation import dashboard

    url = settings.CELERY_BROKER_URL.rsplit("/", 1)[0] + "/14"
    redis_cache = {"default": {"BACKEND": "buddyscheme.cache.RedisCache", "LOCATION": url}}
    with override_settings(CACHES=redis_cache):
        caches["default"].clear()
        from django.core.cache import cache

        cache.set(dashboard._GENERATION, 1.5, None)  # what an earlier release stored
        dashboard.forget_figures()  # a fresh token replaces it
        first = cache.get(dashboard._GENERATION)
        assert first != 1.5
        dashboard.forget_figures()
        assert cache.get(dashboard._GENERATION) not in (first, None)
        raw = cache._cache.get_client(write=False)  # kept with no expiry (-1), never lapsing
        assert raw.ttl(cache.make_and_validate_key(dashboard._GENERATION)) == -1
        cache.clear()
