"""The user and their memberships kept in the cache (buddyscheme/access_cache.py, issue 20):
a logged-in request asks the database nothing for them, and any change to the user, a
membership or a scheme is seen on the very next request."""

from unittest import mock

from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import include, path

from buddyscheme.access_cache import access_load
from buddyscheme.models import Membership, Role

from ..base import PersonaTestCase
from ..factories import MembershipFactory


def who(request):
    """Who the request is, as the middleware found them: no query of its own."""
    membership = request.membership
    if membership is None:
        return HttpResponse(b"nobody", content_type="text/plain")
    text = f"{request.user.email} {membership.role} {membership.scheme.name} {len(request.all_memberships)}"
    return HttpResponse(text.encode(), content_type="text/plain")


urlpatterns = [path("who/", who), path("", include("buddyscheme.urls"))]


def user_or_membership_reads(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if q["sql"].startswith("SELECT")
        and ('FROM "buddyscheme_user"' in q["sql"] or 'FROM "buddyscheme_membership"' in q["sql"])
    ]


@override_settings(ROOT_URLCONF=__name__)
class AccessCacheTest(PersonaTestCase):
    def who(self):
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get("/who/")
        self.assertEqual(response.status_code, 200)
        return response.content.decode(), user_or_membership_reads(queries)

    def test_no_request_after_login_reads_user_or_membership(self):
        self.login_as("buddy")  # cached at login
        first, reads = self.who()
        self.assertEqual(first, "buddy@a.example buddy Scheme A 1")
        self.assertEqual(reads, [])
        cache.clear()  # emptied (a restart): the next request loads and caches them again
        self.assertEqual(len(self.who()[1]), 2)
        again, reads = self.who()
        self.assertEqual(again, first)
        self.assertEqual(reads, [])
        self.assertIsNotNone(access_load(self.buddy.pk))

    def test_a_deactivated_membership_is_gone_on_the_next_request(self):
        self.login_as("buddy")
        self.who()
        self.buddy_membership.is_active = False
        self.buddy_membership.save()
        self.assertEqual(self.who()[0], "nobody")

    def test_a_new_membership_and_a_renamed_scheme_show_on_the_next_request(self):
        self.login_as("buddy")
        self.who()
        MembershipFactory(user=self.buddy, scheme=self.other_scheme, role=Role.PARTICIPANT)
        self.assertEqual(self.who()[0], "buddy@a.example buddy Scheme A 2")
        self.scheme.name = "Scheme A renamed"
        self.scheme.save()
        self.assertEqual(self.who()[0], "buddy@a.example buddy Scheme A renamed 2")
        Membership.objects.filter(pk=self.buddy_membership.pk).first().delete()
        self.assertEqual(self.who()[0], "buddy@a.example participant Scheme B 1")

    def test_a_password_change_or_a_deactivated_account_signs_the_session_out(self):
        self.login_as("buddy")
        self.who()
        self.buddy.set_password("a brand new password 2026")
        self.buddy.save()
        self.assertEqual(self.who()[0], "nobody")
        self.login_as("participant")
        self.who()
        self.participant.is_active = False
        self.participant.save()
        self.assertEqual(self.who()[0], "nobody")

    def test_a_cached_user_still_needs_the_session_hash_to_match(self):
        """An entry that somehow kept an old password (changed behind the ORM) is refused:
        the session's hash is checked against the cached user, and Django's own check then
        flushes the session."""
        self.login_as("buddy")
        self.who()
        user, memberships = access_load(self.buddy.pk)
        user.password = "md5$other$0123"
        from buddyscheme.access_cache import access_store

        access_store(user, memberships)
        type(self.buddy).objects.filter(pk=self.buddy.pk).update(password="md5$other$0123")
        self.assertEqual(self.who()[0], "nobody")

    def test_a_cache_that_does_not_answer_costs_the_queries_not_the_page(self):
        self.login_as("buddy")
        self.who()
        with (
            mock.patch("buddyscheme.access_cache.cache.get", side_effect=ConnectionError),
            mock.patch("buddyscheme.access_cache.cache.set", side_effect=ConnectionError),
        ):
            text, reads = self.who()
        self.assertEqual(text, "buddy@a.example buddy Scheme A 1")
        self.assertEqual(len(reads), 2)
