from datetime import timedelta

import time_machine
from django.conf import settings
from django.utils import timezone

from ..base import PersonaTestCase
from ..factories import PASSWORD


class SessionTimeoutTest(PersonaTestCase):
    def test_idle_for_thirty_minutes_logs_out(self):
        with time_machine.travel(timezone.now(), tick=False) as traveller:
            self.login_as("buddy")
            self.assertEqual(self.client.get("/today/").status_code, 200)
            traveller.shift(timedelta(minutes=29))
            self.assertEqual(
                self.client.get("/today/").status_code, 200
            )  # activity refreshes the session
            traveller.shift(timedelta(minutes=29))
            self.assertEqual(self.client.get("/today/").status_code, 200)
            traveller.shift(timedelta(minutes=31))
            response = self.client.get("/today/")
            self.assertEqual(response.status_code, 302)
            self.assertIn("/accounts/login/", response["Location"])

    def test_twelve_hours_is_the_most_however_active(self):
        with time_machine.travel(timezone.now(), tick=False) as traveller:
            self.login_as("buddy")
            for _ in range(12 * 4):  # a request every 15 minutes for 12 hours
                self.assertEqual(self.client.get("/today/").status_code, 200)
                traveller.shift(timedelta(minutes=15))
            traveller.shift(timedelta(minutes=1))
            response = self.client.get("/today/")
            self.assertEqual(response.status_code, 302)
            self.assertIn("expired=1", response["Location"])
            self.assertNotIn("_auth_user_id", self.client.session)


class HeadersTest(PersonaTestCase):
    def test_logged_in_pages_are_never_cached(self):
        self.login_as("participant")
        cache_control = self.client.get("/me/")["Cache-Control"]
        self.assertIn("no-store", cache_control)
        self.assertIn("private", cache_control)
        self.client.logout()
        self.assertNotIn("no-store", self.client.get("/").get("Cache-Control", ""))

    def test_content_security_policy_allows_only_our_own_scripts(self):
        response = self.client.get("/accounts/login/")
        policy = response["Content-Security-Policy"]
        self.assertIn("default-src 'self'", policy)
        self.assertIn("script-src 'self'", policy)
        self.assertIn("frame-ancestors 'none'", policy)
        self.assertNotIn("unsafe-inline", policy)
        self.assertNotIn("cdn", response.content.decode().lower())

    def test_hsts_and_framing(self):
        response = self.client.get("/accounts/login/", secure=True)
        self.assertEqual(
            response["Strict-Transport-Security"], "max-age=31536000; includeSubDomains; preload"
        )
        self.assertEqual(response["X-Frame-Options"], "DENY")

    def test_cookies_are_secure_and_short_lived(self):
        self.assertTrue(settings.SESSION_COOKIE_SECURE)
        self.assertTrue(settings.CSRF_COOKIE_SECURE)
        self.assertTrue(settings.SESSION_COOKIE_HTTPONLY)
        self.assertEqual(settings.SESSION_COOKIE_AGE, 30 * 60)
        # Idle expiry refreshed at most once a minute by a middleware, not on every request.
        self.assertFalse(settings.SESSION_SAVE_EVERY_REQUEST)
        self.assertEqual(settings.SESSION_IDLE_REFRESH_SECONDS, 60)
        self.assertEqual(settings.SESSION_ENGINE, "buddyscheme.sessions")


class LoginTest(PersonaTestCase):
    def test_login_by_email_lands_on_the_role_home(self):
        response = self.client.post(
            "/accounts/login/", {"login": "BUDDY@a.example", "password": PASSWORD}
        )
        self.assertEqual(response.status_code, 302)
        self.assertRedirects(self.client.get("/"), "/today/")

    def test_coordinator_login_asks_for_the_authenticator_code(self):
        response = self.client.post(
            "/accounts/login/", {"login": self.coordinator.email, "password": PASSWORD}
        )
        self.assertRedirects(response, "/accounts/2fa/authenticate/", fetch_redirect_response=False)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_repeated_failures_stop_that_address_for_that_account(self):
        # Only the guessing address is stopped; the owner elsewhere is not (test_throttle.py).
        for _ in range(5):
            response = self.client.post(
                "/accounts/login/", {"login": self.buddy.email, "password": "wrong guess"}
            )
            self.assertEqual(response.status_code, 200)
        response = self.client.post(
            "/accounts/login/", {"login": self.buddy.email, "password": PASSWORD}
        )
        self.assertNotIn("_auth_user_id", self.client.session)
        self.assertContains(response, "Too many failed login attempts")

    def test_public_signup_is_closed(self):
        response = self.client.post(
            "/accounts/signup/",
            {"email": "walkin@example.org", "password1": "x" * 12, "password2": "x" * 12},
        )
        self.assertContains(response, "closed")
        from buddyscheme.models import User

        self.assertFalse(User.objects.filter(email="walkin@example.org").exists())

    def test_password_reset_sends_an_email(self):
        from django.core import mail

        self.client.post("/accounts/password/reset/", {"email": self.buddy.email})
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, [self.buddy.email])
