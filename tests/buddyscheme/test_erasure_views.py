"""The coordinator's erasure and retention pages: dry run, re-authentication, confirm, keep."""

import time
from datetime import UTC, datetime, timedelta

import time_machine
from allauth.account.internal.flows.login import (
    _AUTHENTICATION_METHODS_USER_SESSION_KEY,
    AUTHENTICATION_METHODS_SESSION_KEY,
)

from buddyscheme.consent import consent_give, consent_withdraw
from buddyscheme.models import (
    AuditEvent,
    CaseNote,
    ConsentKind,
    ErasureRequest,
    ErasureStatus,
    RetentionReview,
    RetentionStatus,
    User,
)
from buddyscheme.retention import retention_review_prepare
from matching.models import Match

from ..base import PersonaTestCase
from ..factories import cleared_buddy


def reauthenticate(client, user):
    """As if `user` had just typed their password again (allauth's record in the session)."""
    session = client.session
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": time.time(), "reauthenticated": True}
    ]
    session.save()


class ErasureViewTests(PersonaTestCase):
    def reauthenticated(self):
        self.login_as("coordinator")
        reauthenticate(self.client, self.coordinator)

    def setUp(self):
        User.objects.filter(pk=self.participant.pk).update(
            first_name="Ambrosine", last_name="Velloworth"
        )
        CaseNote.objects.create(membership=self.participant_membership, text="Ambrosine rang")

    def test_the_dry_run_lists_what_goes_and_changes_nothing(self):
        self.login_as("coordinator")
        page = self.client.get(f"/coordinator/people/{self.participant_membership.pk}/erase/")

        self.assertContains(page, "Case notes")
        self.assertContains(page, "Deleted")
        self.assertContains(page, "I understand this cannot be undone")
        self.assertTrue(CaseNote.objects.exists())

    def test_erasing_asks_for_the_password_again_first(self):
        self.login_as("coordinator")
        response = self.client.post(
            f"/coordinator/people/{self.participant_membership.pk}/erase/confirm/",
            {"understood": "on"},
        )

        self.assertEqual(response.status_code, 302)
        self.assertIn("reauthenticate", response["Location"])
        self.assertTrue(CaseNote.objects.exists())

    def test_a_reauthenticated_coordinator_erases_and_it_is_logged_without_the_name(self):
        self.reauthenticated()
        response = self.client.post(
            f"/coordinator/people/{self.participant_membership.pk}/erase/confirm/",
            {"understood": "on"},
        )

        self.assertRedirects(response, "/coordinator/people/")
        self.assertFalse(CaseNote.objects.exists())
        self.assertEqual(User.objects.get(pk=self.participant.pk).first_name, "")
        row = AuditEvent.objects.get(verb="person_erase")
        self.assertEqual(row.actor_id, self.coordinator.pk)
        self.assertEqual(ErasureRequest.objects.get().status, ErasureStatus.ERASED)

    def test_not_ticking_that_it_cannot_be_undone_erases_nothing(self):
        self.reauthenticated()
        response = self.client.post(
            f"/coordinator/people/{self.participant_membership.pk}/erase/confirm/", {}
        )

        self.assertEqual(response.status_code, 400)
        self.assertTrue(CaseNote.objects.exists())

    def test_a_hold_without_a_reason_is_refused_and_the_ticks_are_kept(self):
        match = Match.objects.create(
            scheme=self.scheme,
            buddy=cleared_buddy(self.scheme),
            participant=self.participant_membership,
            state="active",
        )
        from ..factories import sign_all

        sign_all(match)
        self.reauthenticated()
        response = self.client.post(
            f"/coordinator/people/{self.participant_membership.pk}/erase/confirm/",
            {"understood": "on", "hold": ["agreements"]},
        )

        self.assertContains(response, "Say why the scheme must keep", status_code=400)
        self.assertRegex(response.content.decode(), r'value="agreements"\s+id="id_hold_0" checked')
        self.assertTrue(CaseNote.objects.exists())

    def test_a_coordinator_cannot_be_erased(self):
        self.login_as("coordinator")
        page = self.client.get(f"/coordinator/people/{self.coordinator_membership.pk}/erase/")

        self.assertContains(page, "Coordinators and staff cannot be erased here")
        self.assertNotContains(page, "Erase this person</button>")

    def test_withdrawn_consent_shows_on_the_dashboard_and_can_be_kept_with_a_reason(self):
        consent_give(membership=self.participant_membership, kind=ConsentKind.HOLD_DATA, by=None)
        consent_withdraw(
            membership=self.participant_membership, kind=ConsentKind.HOLD_DATA, by=None
        )
        self.login_as("coordinator")

        dashboard = self.client.get("/coordinator/")
        self.assertContains(dashboard, "Records to review")
        self.assertContains(
            dashboard, f"/coordinator/people/{self.participant_membership.pk}/erase/"
        )
        request = ErasureRequest.objects.get()
        empty = self.client.post(f"/coordinator/erasure-requests/{request.pk}/keep/", {})
        self.assertEqual(empty.status_code, 400)

        response = self.client.post(
            f"/coordinator/erasure-requests/{request.pk}/keep/",
            {"reason": "Safeguarding case open until 2027"},
        )

        self.assertRedirects(response, "/coordinator/")
        request.refresh_from_db()
        self.assertEqual(request.status, ErasureStatus.KEPT)
        self.assertNotContains(self.client.get("/coordinator/"), "Records to review")

    def test_the_other_schemes_coordinator_cannot_keep_our_request(self):
        request = ErasureRequest.objects.create(
            scheme=self.scheme, person=self.participant, source="coordinator"
        )
        self.login_as("other_coordinator")
        response = self.client.post(
            f"/coordinator/erasure-requests/{request.pk}/keep/", {"reason": "Because"}
        )
        self.assertEqual(response.status_code, 404)
        request.refresh_from_db()
        self.assertEqual(request.status, ErasureStatus.OPEN)


class RetentionViewTests(PersonaTestCase):
    CLOSED = datetime(2019, 5, 1, tzinfo=UTC)

    def setUp(self):
        self.match = Match.objects.create(
            scheme=self.scheme,
            buddy=self.buddy_membership,
            participant=self.participant_membership,
            state="ended",
            ended_at=self.CLOSED,
        )

    def test_the_report_waits_for_a_reauthenticated_coordinator(self):
        review = retention_review_prepare(scheme=self.scheme)
        self.login_as("coordinator")
        self.assertContains(self.client.get("/coordinator/"), "1 old match to anonymise")
        page = self.client.get("/coordinator/retention/")
        self.assertContains(page, "1 match past the retention period")
        self.assertContains(page, "People whose names become initials")

        response = self.client.post(
            f"/coordinator/retention/{review.pk}/confirm/", {"understood": "on"}
        )
        self.assertIn("reauthenticate", response["Location"])
        review.refresh_from_db()
        self.assertEqual(review.status, RetentionStatus.PROPOSED)

        reauthenticate(self.client, self.coordinator)
        response = self.client.post(
            f"/coordinator/retention/{review.pk}/confirm/", {"understood": "on"}
        )

        self.assertRedirects(response, "/coordinator/retention/")
        review.refresh_from_db()
        self.assertEqual(review.status, RetentionStatus.DONE)
        self.assertEqual(User.objects.get(pk=self.participant.pk).last_name[-1:], ".")

    def test_nothing_waiting_says_so(self):
        with time_machine.travel(self.CLOSED + timedelta(days=30), tick=False):
            self.login_as("coordinator")
            self.assertContains(self.client.get("/coordinator/retention/"), "Nothing is waiting")
        self.assertFalse(RetentionReview.objects.exists())
