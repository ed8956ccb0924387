"""The password-reset email in the scheme's discreet words, and no user enumeration on the
login, password-reset and invitation pages (issue 21, Accounts)."""

import re
from unittest import mock

from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.test import Client, override_settings

from buddyscheme.models import Role

from ..base import PersonaTestCase
from ..factories import PASSWORD, MembershipFactory, SchemeFactory

RESET = "/accounts/password/reset/"
UNKNOWN = "nobody-here@example.org"


def without_csrf(content: bytes) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", content.decode())


class PasswordResetEmailTest(PersonaTestCase):
    def test_the_reset_email_is_discreet_with_the_schemes_name_and_the_public_address(self):
        self.client.post(RESET, {"email": self.buddy.email})
        self.assertEqual(len(mail.outbox), 1)
        message = mail.outbox[0]
        self.assertEqual(message.to, [self.buddy.email])
        self.assertEqual(message.subject, "Resetting your password")
        self.assertEqual(message.from_email, "A Appointments <appointments@localhost>")
        self.assertTrue(message.body.startswith("Hello,\n"))
        self.assertTrue(message.body.rstrip().endswith("A Appointments"))
        link = re.search(r"http://127\.0\.0\.1:8000/accounts/password/reset/key/\S+/", message.body)
        self.assertIsNotNone(link)
        for library_words in ("testserver", "Hello from", "Thank you for using", "username"):
            self.assertNotIn(library_words, message.body)
        html, mimetype = message.alternatives[0]
        self.assertEqual(mimetype, "text/html")
        self.assertIn(f'href="{link.group(0)}"', html)
        self.assertIn("<p>A Appointments</p>", html)
        # The link works.
        response = self.client.get(link.group(0).removeprefix("http://127.0.0.1:8000"))
        self.assertEqual(response.status_code, 302)

    @override_settings(SITE_URL="https://appointments.example.org")
    def test_the_link_uses_site_url_not_the_requests_host(self):
        self.client.post(RESET, {"email": self.buddy.email}, HTTP_HOST="127.0.0.1")
        self.assertIn(
            "https://appointments.example.org/accounts/password/reset/key/", mail.outbox[0].body
        )

    def test_each_scheme_signs_with_its_own_sender_name(self):
        self.client.post(RESET, {"email": self.other_coordinator.email})
        self.assertEqual(mail.outbox[0].from_email, "B Appointments <appointments@localhost>")

    def test_an_unknown_address_gets_a_discreet_note_with_no_sign_up_link(self):
        self.client.post(RESET, {"email": UNKNOWN})
        self.assertEqual(len(mail.outbox), 1)
        message = mail.outbox[0]
        self.assertEqual(message.subject, "Resetting your password")
        self.assertEqual(message.from_email, "Appointments <appointments@localhost>")
        self.assertIn("no account with this address", message.body)
        self.assertNotIn("signup", message.body)
        self.assertNotIn("testserver", message.body)
        self.assertEqual(message.alternatives[0][1], "text/html")


class NoEnumerationTest(PersonaTestCase):
    def test_login_answers_the_same_for_known_and_unknown_addresses(self):
        known = Client().post("/accounts/login/", {"login": self.buddy.email, "password": "wrong1"})
        unknown = Client().post("/accounts/login/", {"login": UNKNOWN, "password": "wrong1"})
        self.assertEqual(known.status_code, unknown.status_code)
        self.assertEqual(
            without_csrf(known.content).replace(self.buddy.email, "X"),
            without_csrf(unknown.content).replace(UNKNOWN, "X"),
        )

    def test_the_unknown_address_does_the_same_password_hashing_work(self):
        # Each authentication backend hashes once, found or not (Django's ModelBackend and
        # allauth's both run the hasher on a made-up user when the address is unknown).
        original = MD5PasswordHasher.encode
        hashes = []
        for email in (self.buddy.email, UNKNOWN):
            with mock.patch.object(
                MD5PasswordHasher, "encode", autospec=True, side_effect=original
            ) as encode:
                Client().post("/accounts/login/", {"login": email, "password": "wrong1"})
            hashes.append(encode.call_count)
        self.assertEqual(hashes, [2, 2])

    def test_password_reset_answers_the_same_for_known_and_unknown_addresses(self):
        known = Client().post(RESET, {"email": self.buddy.email})
        unknown = Client().post(RESET, {"email": UNKNOWN})
        self.assertEqual(known.status_code, 302)
        self.assertEqual(known["Location"], unknown["Location"])
        # Both mailboxes get an email with the same subject and sender name shape.
        self.assertEqual(len(mail.outbox), 2)
        self.assertEqual(mail.outbox[0].subject, mail.outbox[1].subject)

    def test_throttled_answers_are_the_same_for_known_and_unknown_addresses(self):
        answers = []
        for email in (self.buddy.email, UNKNOWN):
            client = Client()
            for _ in range(5):
                client.post("/accounts/login/", {"login": email, "password": "wrong1"})
            response = client.post("/accounts/login/", {"login": email, "password": PASSWORD})
            answers.append(without_csrf(response.content).replace(email, "X"))
        self.assertEqual(answers[0], answers[1])

    def test_invitation_pages_say_nothing_about_whether_an_address_has_an_account(self):
        from buddyscheme import services

        scheme = SchemeFactory()
        coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR).user
        pages = []
        for email in (self.buddy.email, UNKNOWN):
            invitation = services.invitation_create(
                scheme=scheme, email=email, role=Role.BUDDY, invited_by=coordinator
            )
            response = Client().get(f"/invite/{invitation.token}/")
            self.assertEqual(response.status_code, 200)
            pages.append(without_csrf(response.content).replace(email, "X"))
        self.assertEqual(pages[0], pages[1])
        self.assertEqual(Client().get("/invite/not-a-token/").status_code, 404)
