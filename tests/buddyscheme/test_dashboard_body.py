"""The coordinator dashboard's body kept per scheme (buddyscheme/dashboard.py): shared by the
scheme's coordinators but never their CSRF tokens or names, never another scheme's, forgotten at
once when someone acts or an alert or message arrives, and worked around when the cache is down."""

import re
from datetime import UTC, datetime, timedelta
from unittest import mock

import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from buddyscheme.audit import audit_record
from buddyscheme.concerns import concern_raise
from buddyscheme.dashboard import CSRF_PLACEHOLDER
from buddyscheme.models import ConcernKind, Role
from buddyscheme.selectors import scheme_counts
from matching.models import Match
from meetings.models import Alert, AlertReason, Meeting
from messaging.models import Conversation, ConversationKind, Message, Side
from tests.base import PersonaTestCase
from tests.factories import MembershipFactory, enrol_totp, venue

NOW = datetime(2026, 3, 18, 10, 0, tzinfo=UTC)
# With the body kept, a coordinator's page costs two queries: their second factor (MFA is required
# in tests) and the safety net's heartbeat (the banner on every coordinator page).
KEPT_QUERIES = 2
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class DashboardBodyTest(PersonaTestCase):
    def setUp(self):
        self.travel = time_machine.travel(NOW, tick=False)
        self.travel.start()
        self.addCleanup(self.travel.stop)
        self.login_as("coordinator")

    def _get(self, client=None):
        with CaptureQueriesContext(connection) as queries:
            response = (client or self.client).get("/coordinator/")
        self.assertEqual(response.status_code, 200)
        return len(queries), response.content.decode()

    def _concern(self, text="Marigold worry"):
        return concern_raise(
            buddy=self.buddy_membership, kind=ConcernKind.MYSELF, text=text, now=NOW
        )

    def test_coordinators_share_the_body_but_each_gets_their_own_csrf_token(self):
        self._concern()
        second = MembershipFactory(
            scheme=self.scheme,
            role=Role.COORDINATOR,
            user__email="second@a.example",
        )
        enrol_totp(second.user)
        first_count, first = self._get()
        other_client = Client(enforce_csrf_checks=True)
        other_client.force_login(second.user)
        kept_count, kept = self._get(other_client)
        self.assertEqual(kept_count, KEPT_QUERIES)  # the first coordinator's body, kept
        self.assertGreater(first_count, kept_count)
        self.assertIn("Take it", kept)
        self.assertNotIn(CSRF_PLACEHOLDER, first + kept)
        # The token in the kept body is the second coordinator's: taking the concern works.
        token = TOKEN.search(kept)[1]
        concern_url = re.search(r'action="(/[^"]*concerns?/[^"]*take[^"]*)"', kept)[1]
        response = other_client.post(concern_url, {"csrfmiddlewaretoken": token})
        self.assertIn(response.status_code, (200, 302))
        self.assertNotEqual(response.status_code, 403)

    def test_another_scheme_never_sees_this_schemes_body(self):
        self._concern()
        self.assertIn("Take it", self._get()[1])
        self.login_as("other_coordinator")
        count, page = self._get()
        self.assertNotIn("Take it", page)
        self.assertGreater(count, KEPT_QUERIES)  # worked out for scheme B, not taken from A

    def test_an_audited_action_shows_at_once_and_a_look_does_not_forget(self):
        self._get()
        audit_record(
            actor=self.coordinator,
            verb="participant_record_view",
            obj=self.participant_membership,
            scheme=self.scheme,
        )
        self.assertEqual(self._get()[0], KEPT_QUERIES)
        with self.captureOnCommitCallbacks(execute=True):
            self._concern()  # audited: concern_raise
        count, page = self._get()
        self.assertGreater(count, KEPT_QUERIES)
        self.assertIn("Take it", page)

    def test_an_alert_raised_shows_at_once(self):
        match = Match.objects.create(
            scheme=self.scheme,
            buddy=self.buddy_membership,
            participant=self.participant_membership,
            state="active",
            activated_at=NOW - timedelta(days=10),
        )
        meeting = Meeting.objects.create(
            scheme=self.scheme,
            match=match,
            buddy=self.buddy_membership,
            venue=venue(self.scheme, name="Lindenhall"),
            purpose="Coffee",
            planned_start=NOW - timedelta(hours=2),
            planned_end=NOW - timedelta(hours=1),
            expected_end=NOW - timedelta(hours=1),
            state="checked_in",
            checked_in_at=NOW - timedelta(hours=2),
        )
        self.assertNotIn("open alert", self._get()[1])
        Alert.objects.create(
            meeting=Meeting.objects.get(pk=meeting.pk),  # its meeting not at hand: one query
            level=0,
            reason=AlertReason.OVERDUE,
            due_at=NOW - timedelta(minutes=30),
        )
        self.assertIn("1 open alert</a>", self._get()[1])

    def test_a_message_arriving_shows_at_once(self):
        self.assertIn("No unread messages", self._get()[1])
        conversation = Conversation.objects.create(
            scheme=self.scheme, kind=ConversationKind.COORDINATORS, member=self.buddy_membership
        )
        Message.objects.create(
            conversation=conversation,
            sender=self.buddy_membership,
            side=Side.MEMBER,
            text="Hello from the buddy",
        )
        self.assertIn("1 unread message</a>", self._get()[1])

    def test_a_cache_that_does_not_answer_never_fails_the_page(self):
        self._concern()
        broken = mock.patch(
            "buddyscheme.cache.cache.get_many", side_effect=ConnectionError("cache down")
        )
        unsettable = mock.patch("buddyscheme.cache.cache.set", side_effect=ConnectionError("down"))
        with broken, unsettable, self.assertLogs("buddyscheme.cache", "WARNING"):
            count, page = self._get()
        self.assertIn("Take it", page)
        self.assertGreater(count, KEPT_QUERIES)
        self.assertNotIn(CSRF_PLACEHOLDER, page)

    def test_the_four_figures_are_the_schemes_and_each_opens_its_list(self):
        for _ in range(2):
            MembershipFactory(scheme=self.scheme, role=Role.BUDDY)
        MembershipFactory(scheme=self.scheme, role=Role.PARTICIPANT, is_active=False)
        counts = scheme_counts(self.scheme)
        page = self._get()[1]
        cards = re.findall(
            r'<p class="display-6 mb-0">(\d+)</p>\s*<p class="mb-0">\s*<a href="([^"]+)">([^<]+)</a>',
            page,
        )
        self.assertEqual(
            cards,
            [
                (str(counts["buddies"]), "/coordinator/people/?role=buddy", "Buddies"),
                (
                    str(counts["participants"]),
                    "/coordinator/people/?role=participant",
                    "Participants",
                ),
                (
                    str(counts["coordinators"]),
                    "/coordinator/people/?role=coordinator",
                    "Coordinators",
                ),
                (str(counts["open_invitations"]), "/coordinator/invitations/", "Open invitations"),
            ],
        )
        self.assertGreaterEqual(counts["buddies"], 3)  # the persona and the two made here


def test_one_request_works_a_stale_value_out_while_the_others_get_the_kept_one():
    """Just after the lifetime, one request works the value out again; one that comes while
    it does is given the kept value (with its own time), not a second piece of work."""
    from django.core.cache import cache

    from buddyscheme.cache import cache_kept

    cache.clear()
    made = []

    def make(label):
        def work():
            made.append(label)
            return label

        return work

    assert cache_kept("test-kept", make("first"), seconds=20, now=NOW).value == "first"
    later = NOW + timedelta(seconds=21)
    cache.add("test-kept:working", 1, 20)  # another request is working it out now
    stale = cache_kept("test-kept", make("second"), seconds=20, now=later)
    assert (stale.value, stale.as_of, made) == ("first", NOW, ["first"])
    cache.delete("test-kept:working")
    fresh = cache_kept("test-kept", make("third"), seconds=20, now=later)
    assert (fresh.value, fresh.as_of, made) == ("third", later, ["first", "third"])
    # Twice the lifetime on, nobody is given the old value.
    cache.add("test-kept:working", 1, 20)
    assert (
        cache_kept("test-kept", make("fourth"), seconds=20, now=later + timedelta(seconds=40)).value
        == "fourth"
    )
