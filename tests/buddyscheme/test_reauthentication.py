"""Proving it is still you before data leaves the app or a role changes, and sign-in pages that
do not tell a stranger which addresses have an account."""

import datetime as dt
import re
from unittest import mock

import time_machine
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail

from buddyscheme.models import Membership, Role
from evaluation import report

from ..base import PersonaTestCase
from ..factories import PASSWORD, MembershipFactory, enrol_totp

NOW = dt.datetime(2026, 11, 3, 10, 0, tzinfo=dt.UTC)


def _code(secret, at):
    return format_hotp_value(hotp_value(secret, int(at.timestamp()) // 30))


class ExportsAskAgainTest(PersonaTestCase):
    def setUp(self):
        self.report = report.funder_report_create(
            scheme=self.scheme,
            starts_on=dt.date(2025, 4, 1),
            ends_on=dt.date(2026, 3, 31),
            by=self.coordinator,
        )
        base = f"/coordinator/reports/funder/{self.report.pk}/"
        self.downloads = [
            base + "pdf/",
            base + "endings.csv",
            base + "groups.xlsx",
            "/coordinator/expenses/export.csv",
        ]

    def test_every_download_asks_for_the_password_first_then_goes_through(self):
        for url in self.downloads:
            self.login_as("coordinator")
            response = self.client.get(url)
            self.assertEqual(response.status_code, 302, url)
            self.assertTrue(response["Location"].startswith("/accounts/reauthenticate/"), url)
            self.assertIn("next=", response["Location"])
            response = self.client.post(response["Location"], {"password": PASSWORD})
            self.assertEqual(response.status_code, 302, url)
            self.assertEqual(response["Location"], url)
            response = self.client.get(url)
            self.assertEqual(response.status_code, 200, url)
            self.assertIn("attachment", response["Content-Disposition"], url)

    def test_a_wrong_password_gets_nothing(self):
        self.login_as("coordinator")
        response = self.client.post(
            "/accounts/reauthenticate/?next=/coordinator/expenses/export.csv",
            {"password": "not my password"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.client.get("/coordinator/expenses/export.csv").status_code, 302)

    def test_the_evidence_pack_post_is_kept_and_carried_out_after_the_password(self):
        self.login_as("coordinator")
        response = self.client.post("/coordinator/evidence/download/")
        self.assertTrue(response["Location"].startswith("/accounts/reauthenticate/"))
        response = self.client.post(response["Location"], {"password": PASSWORD})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/zip")

    def test_other_roles_are_still_refused_not_asked(self):
        self.login_as("buddy")
        self.assertEqual(self.client.get("/coordinator/expenses/export.csv").status_code, 403)
        self.reauthenticate("other_coordinator")
        self.assertEqual(self.client.get(self.downloads[0]).status_code, 404)

    def test_the_proof_lasts_five_minutes(self):
        with time_machine.travel(NOW, tick=False) as clock:
            self.reauthenticate("coordinator")
            self.assertEqual(self.client.get(self.downloads[-1]).status_code, 200)
            clock.shift(dt.timedelta(minutes=6))
            self.assertEqual(self.client.get(self.downloads[-1]).status_code, 302)


class RoleChangesAskAgainTest(PersonaTestCase):
    def test_changing_a_role_in_the_admin_asks_again_then_saves(self):
        member = self.buddy_membership
        url = f"/admin/buddyscheme/membership/{member.pk}/change/"
        self.login_as("coordinator")
        self.assertEqual(self.client.get(url).status_code, 200, "looking needs no password")
        form = {
            "user": member.user_id,
            "scheme": self.scheme.pk,
            "role": Role.PARTICIPANT,
            "is_active": "on",
            "joined_at_0": "2026-01-05",
            "joined_at_1": "10:00:00",
        }
        response = self.client.post(url, form)
        self.assertTrue(response["Location"].startswith("/accounts/reauthenticate/"))
        member.refresh_from_db()
        self.assertEqual(member.role, Role.BUDDY)
        # The change posted is kept and made once the password is given.
        self.client.post(response["Location"], {"password": PASSWORD})
        member.refresh_from_db()
        self.assertEqual(member.role, Role.PARTICIPANT)

    def test_deactivating_from_the_list_asks_again(self):
        self.login_as("coordinator")
        response = self.client.post(
            "/admin/buddyscheme/membership/",
            {"action": "deactivate", "_selected_action": [self.buddy_membership.pk]},
        )
        self.assertTrue(response["Location"].startswith("/accounts/reauthenticate/"))
        self.assertTrue(Membership.objects.get(pk=self.buddy_membership.pk).is_active)


class AuthenticatorCodeTest(PersonaTestCase):
    """Staff with an authenticator app may use it instead of the password; a code already used
    (to sign in) cannot be used again, even inside its 30 seconds."""

    def test_a_reused_code_is_refused_and_a_fresh_one_accepted(self):
        coordinator = MembershipFactory(
            scheme=self.scheme, role=Role.COORDINATOR, user__email="zorander.quill@a.example"
        ).user
        secret = enrol_totp(coordinator)
        with time_machine.travel(NOW, tick=False) as clock:
            self.client.post("/accounts/login/", {"login": coordinator.email, "password": PASSWORD})
            used = _code(secret, NOW)
            response = self.client.post("/accounts/2fa/authenticate/", {"code": used})
            self.assertEqual(response.status_code, 302)
            self.assertEqual(self.client.get("/coordinator/").status_code, 200)

            response = self.client.get("/coordinator/expenses/export.csv")
            self.assertTrue(response["Location"].startswith("/accounts/reauthenticate/"))
            password_page = self.client.get(response["Location"])
            self.assertContains(password_page, "/accounts/2fa/reauthenticate/")
            self.assertNotContains(password_page, "/accounts/reauthenticate/code/")
            totp_url = "/accounts/2fa/reauthenticate/?next=/coordinator/expenses/export.csv"

            refused = self.client.post(totp_url, {"code": used})
            self.assertEqual(refused.status_code, 200)
            self.assertContains(refused, "Incorrect code")
            self.assertEqual(self.client.get("/coordinator/expenses/export.csv").status_code, 302)

            clock.shift(dt.timedelta(seconds=30))
            accepted = self.client.post(
                totp_url, {"code": _code(secret, NOW + dt.timedelta(seconds=30))}
            )
            self.assertEqual(accepted["Location"], "/coordinator/expenses/export.csv")
            self.assertEqual(self.client.get("/coordinator/expenses/export.csv").status_code, 200)


def _without_token(body: bytes) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body.decode())


class NoEnumerationTest(PersonaTestCase):
    """A stranger learns nothing about which addresses have an account: the same page, the
    same status, and the same work (a password hash) for a known and an unknown address."""

    UNKNOWN = "nobody.xylophone@example.org"

    def test_login_answers_the_same_for_a_known_and_an_unknown_address(self):
        known = self.client.post(
            "/accounts/login/", {"login": self.buddy.email, "password": "wrong-guess-1"}
        )
        unknown = self.client.post(
            "/accounts/login/", {"login": self.UNKNOWN, "password": "wrong-guess-1"}
        )
        self.assertEqual(known.status_code, unknown.status_code)
        self.assertEqual(
            _without_token(known.content).replace(self.buddy.email, self.UNKNOWN),
            _without_token(unknown.content),
        )

    def test_an_unknown_address_still_costs_a_password_hash(self):
        with mock.patch(
            "django.contrib.auth.base_user.make_password", return_value="!hashed"
        ) as hashed:
            self.client.post("/accounts/login/", {"login": self.UNKNOWN, "password": "guess-2"})
        # allauth's backend and Django's each hash it, as each checks a known address's password.
        self.assertGreaterEqual(hashed.call_count, 1)
        self.assertEqual({call.args for call in hashed.call_args_list}, {("guess-2",)})
        with mock.patch(
            "django.contrib.auth.base_user.check_password", return_value=False
        ) as known:
            self.client.post("/accounts/login/", {"login": self.buddy.email, "password": "guess-3"})
        self.assertGreaterEqual(known.call_count, 1)

    def test_password_reset_answers_the_same_and_both_send_an_email(self):
        known = self.client.post("/accounts/password/reset/", {"email": self.buddy.email})
        unknown = self.client.post("/accounts/password/reset/", {"email": self.UNKNOWN})
        self.assertEqual(known.status_code, unknown.status_code)
        self.assertEqual(known["Location"], unknown["Location"])
        # Both addresses get an email: the owner a link, the unknown one a note that no account
        # uses it, so sending takes the same time either way.
        self.assertEqual(sorted(m.to[0] for m in mail.outbox), [self.buddy.email, self.UNKNOWN])
        self.assertEqual(
            self.client.get(known["Location"]).content, self.client.get(unknown["Location"]).content
        )

    def test_an_invitation_link_says_nothing_about_other_accounts(self):
        """The invitation page takes no address: an unknown token and a withdrawn one read
        alike, and neither names the address or the scheme."""
        from buddyscheme import services

        invitation = services.invitation_create(
            scheme=self.scheme,
            email="ysolde.marchbank@example.org",
            role=Role.BUDDY,
            invited_by=self.coordinator,
        )
        services.invitation_revoke(invitation=invitation, by=self.coordinator)
        withdrawn = self.client.get(f"/invite/{invitation.token}/")
        unknown = self.client.get("/invite/not-a-real-token-at-all/")
        for response in (withdrawn, unknown):
            self.assertNotContains(response, "ysolde", status_code=response.status_code)
            self.assertNotContains(response, self.scheme.name, status_code=response.status_code)


class InvitationsAndAgreementsAskAgainTest(PersonaTestCase):
    """Sending an invitation grants a role, and a coordinator downloading someone's signed
    agreement takes it out of the app: both ask for the password again. A participant or buddy
    downloading their own agreement is not asked (it is theirs, they have just read it)."""

    FORM = {"email": "new.volunteer@example.org", "role": Role.BUDDY}

    def _agreement(self):
        from matching import services as matching_services
        from matching.models import MatchState

        from ..factories import cleared_buddy, sign_all, waiting_participant

        match = matching_services.match_create(
            participant=waiting_participant(self.scheme, email="quill.participant@example.org"),
            buddy=cleared_buddy(self.scheme, email="quill.buddy@example.org"),
            by=self.coordinator,
            state=MatchState.PROPOSED,
        )
        matching_services.match_accept(match=match, by_membership=match.participant)
        matching_services.match_accept(match=match, by_membership=match.buddy)
        return match, sign_all(match)

    def test_sending_an_invitation_asks_again_keeps_the_post_then_sends_it(self):
        from buddyscheme.models import Invitation

        self.login_as("coordinator")
        self.assertEqual(self.client.get("/coordinator/invitations/").status_code, 200)
        response = self.client.post("/coordinator/invitations/", self.FORM)
        self.assertTrue(response["Location"].startswith("/accounts/reauthenticate/"))
        self.assertFalse(Invitation.objects.filter(email=self.FORM["email"]).exists())
        response = self.client.post(response["Location"], {"password": PASSWORD}, follow=True)
        self.assertContains(response, "Invitation sent.")
        invitation = Invitation.objects.get(email=self.FORM["email"])
        self.assertEqual((invitation.scheme, invitation.role), (self.scheme, Role.BUDDY))

    def test_a_wrong_password_sends_no_invitation(self):
        from buddyscheme.models import Invitation

        self.login_as("coordinator")
        response = self.client.post("/coordinator/invitations/", self.FORM)
        self.client.post(response["Location"], {"password": "not my password"})
        self.assertFalse(Invitation.objects.filter(email=self.FORM["email"]).exists())

    def test_inviting_from_the_admin_asks_again_then_sends(self):
        from buddyscheme.models import Invitation

        self.login_as("coordinator")
        url = "/admin/buddyscheme/invitation/add/"
        self.assertEqual(self.client.get(url).status_code, 200, "looking needs no password")
        form = {"scheme": self.scheme.pk, **self.FORM}
        response = self.client.post(url, form)
        self.assertTrue(response["Location"].startswith("/accounts/reauthenticate/"))
        self.assertFalse(Invitation.objects.filter(email=self.FORM["email"]).exists())
        self.client.post(response["Location"], {"password": PASSWORD})
        self.assertEqual(Invitation.objects.filter(email=self.FORM["email"]).count(), 1)

    def test_a_coordinator_downloading_an_agreement_asks_again_then_gets_the_pdf(self):
        _match, contract = self._agreement()
        url = f"/contracts/{contract.pk}/pdf/"
        self.login_as("coordinator")
        response = self.client.get(url)
        self.assertTrue(response["Location"].startswith("/accounts/reauthenticate/"))
        response = self.client.post(response["Location"], {"password": PASSWORD})
        self.assertEqual(response["Location"], url)
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/pdf")

    def test_a_participant_and_a_buddy_download_their_own_agreement_without_a_password(self):
        match, contract = self._agreement()
        for member in (match.participant, match.buddy):
            self.client.force_login(member.user)
            response = self.client.get(f"/contracts/{contract.pk}/pdf/")
            self.assertEqual(response.status_code, 200, member.role)
            self.assertEqual(response["Content-Type"], "application/pdf")
        # Someone else's agreement is still not theirs to take, password or not.
        self.reauthenticate("participant")
        self.assertIn(self.client.get(f"/contracts/{contract.pk}/pdf/").status_code, (403, 404))
