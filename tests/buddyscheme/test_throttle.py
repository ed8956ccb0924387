"""Sign-in throttling that cannot be turned against a person (issue 21), through the login view
with the configured cache (the file cache here; Redis under `make test`). Time is moved with
time_machine; the throttle reads the clock, not the cache's expiry, so both behave alike."""

from datetime import timedelta

import time_machine
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail
from django.test import Client
from django.utils import timezone

from buddyscheme import throttle
from buddyscheme.models import Role

from ..base import PersonaTestCase
from ..factories import PASSWORD, MembershipFactory, enrol_totp

LOGIN = "/accounts/login/"
OWNER_ADDRESS = "198.51.100.7"
ATTACKER_ADDRESS = "203.0.113.9"
EVENT_ADDRESS = "192.0.2.50"
TOO_MANY = "Too many failed login attempts"


def attempt(client, email, password, address):
    return client.post(LOGIN, {"login": email, "password": password}, REMOTE_ADDR=address)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def known_device(email, address=OWNER_ADDRESS) -> Client:
    """A browser on which the person has signed in before (and then signed out)."""
    client = Client()
    attempt(client, email, PASSWORD, address)
    assert signed_in(client), "the first sign-in should succeed"
    client.post("/accounts/logout/")
    assert throttle.DEVICE_COOKIE in client.cookies
    return client


def attack_from_many_addresses(email, count):
    """`count` wrong guesses, each from a new address and a new browser."""
    for number in range(count):
        attempt(Client(), email, f"guess {number}", f"10.0.{number // 250}.{number % 250 + 1}")


class GroupEventTest(PersonaTestCase):
    def test_fifty_buddies_behind_one_router_all_sign_in_within_a_minute(self):
        buddies = [MembershipFactory(scheme=self.scheme, role=Role.BUDDY).user for _ in range(50)]
        with time_machine.travel(timezone.now(), tick=False) as traveller:
            for number, buddy in enumerate(buddies):
                client = Client()
                if number % 5 == 0:
                    # One in five mistypes first: still nobody is refused.
                    attempt(client, buddy.email, "mistyped", EVENT_ADDRESS)
                attempt(client, buddy.email, PASSWORD, EVENT_ADDRESS)
                self.assertTrue(signed_in(client), f"buddy {number} was refused")
                traveller.shift(timedelta(seconds=1))


class PerAddressTest(PersonaTestCase):
    def test_five_wrong_guesses_stop_the_attackers_address_not_the_owner(self):
        attacker = Client()
        for _ in range(5):
            response = attempt(attacker, self.buddy.email, "wrong guess", ATTACKER_ADDRESS)
            self.assertContains(response, "password you specified are not correct")
        # The attacker's address is now stopped for this account, even with the right password.
        response = attempt(attacker, self.buddy.email, PASSWORD, ATTACKER_ADDRESS)
        self.assertContains(response, TOO_MANY)
        self.assertFalse(signed_in(attacker))

        owner = Client()
        attempt(owner, self.buddy.email, PASSWORD, OWNER_ADDRESS)
        self.assertTrue(signed_in(owner))

    def test_a_known_device_gets_in_even_from_the_attackers_address(self):
        device = known_device(self.buddy.email)
        for _ in range(6):
            attempt(Client(), self.buddy.email, "wrong guess", ATTACKER_ADDRESS)
        # Same network (a café, a hostel) as the attacker, but a browser the owner has used.
        attempt(device, self.buddy.email, PASSWORD, ATTACKER_ADDRESS)
        self.assertTrue(signed_in(device))

    def test_the_stop_on_an_address_and_account_lifts_after_five_minutes(self):
        with time_machine.travel(timezone.now(), tick=False) as traveller:
            for _ in range(5):
                attempt(Client(), self.buddy.email, "wrong guess", ATTACKER_ADDRESS)
            self.assertContains(
                attempt(Client(), self.buddy.email, PASSWORD, ATTACKER_ADDRESS), TOO_MANY
            )
            traveller.shift(timedelta(minutes=5, seconds=1))
            client = Client()
            attempt(client, self.buddy.email, PASSWORD, ATTACKER_ADDRESS)
            self.assertTrue(signed_in(client))

    def test_failures_on_one_account_do_not_block_other_accounts_on_the_address(self):
        for _ in range(5):
            attempt(Client(), self.buddy.email, "wrong guess", EVENT_ADDRESS)
        client = Client()
        attempt(client, self.participant.email, PASSWORD, EVENT_ADDRESS)
        self.assertTrue(signed_in(client))

    def test_one_address_cannot_spray_guesses_across_many_accounts(self):
        for number in range(60):
            attempt(Client(), f"someone{number}@example.org", "Summer2026!", ATTACKER_ADDRESS)
        response = attempt(Client(), self.buddy.email, "Summer2026!", ATTACKER_ADDRESS)
        self.assertContains(response, TOO_MANY)


class ManyAddressesTest(PersonaTestCase):
    def test_an_attack_from_many_addresses_is_slowed_not_locked(self):
        with time_machine.travel(timezone.now(), tick=False) as traveller:
            attack_from_many_addresses(self.buddy.email, throttle.SLOW_AFTER)
            self.assertEqual(throttle.account_delay(self.buddy.email), 1)
            # The next guess in the same second from yet another address passes the gate, the
            # one after it does not (without its password even being checked).
            attempt(Client(), self.buddy.email, "guess a", "10.9.0.1")
            self.assertEqual(throttle.account_delay(self.buddy.email), 2)
            traveller.shift(timedelta(seconds=2))
            attempt(Client(), self.buddy.email, "guess b", "10.9.0.2")
            response = attempt(Client(), self.buddy.email, PASSWORD, "10.9.0.3")
            self.assertContains(response, TOO_MANY)
            # The delay grows with each guess, up to a cap; then one guess per delay gets in.
            for number in range(20):
                traveller.shift(timedelta(seconds=throttle.MAX_DELAY))
                attempt(Client(), self.buddy.email, f"guess {number}", f"10.8.0.{number + 1}")
            self.assertEqual(throttle.account_delay(self.buddy.email), throttle.MAX_DELAY)
            # Never locked: once the delay has passed, the owner on a new device gets in.
            traveller.shift(timedelta(seconds=throttle.MAX_DELAY))
            owner = Client()
            attempt(owner, self.buddy.email, PASSWORD, OWNER_ADDRESS)
            self.assertTrue(signed_in(owner))

    def test_the_owner_on_a_known_device_is_not_slowed(self):
        device = known_device(self.buddy.email)
        with time_machine.travel(timezone.now(), tick=False):
            attack_from_many_addresses(self.buddy.email, throttle.SLOW_AFTER + 5)
            self.assertContains(
                attempt(Client(), self.buddy.email, PASSWORD, OWNER_ADDRESS), TOO_MANY
            )
            attempt(device, self.buddy.email, PASSWORD, OWNER_ADDRESS)
            self.assertTrue(signed_in(device))

    def test_a_device_known_to_another_account_does_not_help(self):
        device = known_device(self.participant.email)
        attack_from_many_addresses(self.buddy.email, throttle.SLOW_AFTER + 5)
        response = attempt(device, self.buddy.email, PASSWORD, OWNER_ADDRESS)
        self.assertContains(response, TOO_MANY)

    def test_a_forged_device_cookie_does_not_help(self):
        attack_from_many_addresses(self.buddy.email, throttle.SLOW_AFTER + 5)
        client = Client()
        client.cookies[throttle.DEVICE_COOKIE] = "eyJkZXZpY2UiOiJ4In0:forged:signature"
        response = attempt(client, self.buddy.email, PASSWORD, OWNER_ADDRESS)
        self.assertContains(response, TOO_MANY)

    def test_a_known_device_has_its_own_budget_of_guesses(self):
        device = known_device(self.buddy.email)
        for _ in range(10):
            attempt(device, self.buddy.email, "wrong guess", OWNER_ADDRESS)
        self.assertContains(attempt(device, self.buddy.email, PASSWORD, OWNER_ADDRESS), TOO_MANY)

    def test_a_password_reset_by_email_ends_the_slow_down(self):
        attack_from_many_addresses(self.buddy.email, throttle.SLOW_AFTER + 5)
        self.client.post("/accounts/password/reset/", {"email": self.buddy.email})
        link = next(line for line in mail.outbox[-1].body.splitlines() if "/key/" in line)
        path = link.strip().split("://", 1)[1].split("/", 1)[1]
        response = self.client.get("/" + path, follow=True)
        new_password = "a-new-long-passphrase-2026"
        self.client.post(
            response.redirect_chain[-1][0],
            {"password1": new_password, "password2": new_password},
        )
        self.assertEqual(throttle.account_delay(self.buddy.email), 0)
        owner = Client()
        attempt(owner, self.buddy.email, new_password, OWNER_ADDRESS)
        self.assertTrue(signed_in(owner))


class CoordinatorUnderAttackTest(PersonaTestCase):
    def test_a_coordinator_signs_in_with_their_authenticator_while_under_attack(self):
        coordinator = MembershipFactory(scheme=self.scheme, role=Role.COORDINATOR).user
        secret = enrol_totp(coordinator)

        def authenticator_code():
            return format_hotp_value(hotp_value(secret, int(timezone.now().timestamp()) // 30))

        with time_machine.travel(timezone.now(), tick=False) as traveller:
            device = Client()
            attempt(device, coordinator.email, PASSWORD, OWNER_ADDRESS)
            device.post("/accounts/2fa/authenticate/", {"code": authenticator_code()})
            self.assertTrue(signed_in(device))
            device.post("/accounts/logout/")

            traveller.shift(timedelta(minutes=1))
            attack_from_many_addresses(coordinator.email, throttle.SLOW_AFTER + 10)
            for _ in range(5):
                attempt(Client(), coordinator.email, "wrong guess", OWNER_ADDRESS)

            response = attempt(device, coordinator.email, PASSWORD, OWNER_ADDRESS)
            self.assertRedirects(
                response, "/accounts/2fa/authenticate/", fetch_redirect_response=False
            )
            device.post("/accounts/2fa/authenticate/", {"code": authenticator_code()})
            self.assertTrue(signed_in(device))
            self.assertEqual(self.client.get("/admin/login/").status_code, 302)


class OwnerToldTest(PersonaTestCase):
    def test_the_owner_gets_one_discreet_email_per_hour_of_attack(self):
        with time_machine.travel(
            timezone.now().replace(minute=0, second=0), tick=False
        ) as traveller:
            attack_from_many_addresses(self.buddy.email, throttle.SLOW_AFTER - 1)
            self.assertEqual(mail.outbox, [])
            for number in range(15):
                traveller.shift(timedelta(seconds=throttle.MAX_DELAY))
                attempt(Client(), self.buddy.email, "guess", f"10.7.0.{number + 1}")
            self.assertEqual(len(mail.outbox), 1)
            notice = mail.outbox[0]
            self.assertEqual(notice.to, [self.buddy.email])
            self.assertEqual(notice.subject, "Sign-in attempts on your account")
            self.assertIn("A Appointments", notice.from_email)
            self.assertIn("device you have used before", notice.body)
            self.assertIn("http://127.0.0.1:8000/accounts/password/reset/", notice.body)
            self.assertNotIn("10.7.0", notice.body)
            html = notice.alternatives[0].content
            self.assertIn('href="http://127.0.0.1:8000/accounts/password/reset/"', html)

            traveller.shift(timedelta(hours=1))
            attack_from_many_addresses(self.buddy.email, throttle.SLOW_AFTER + 1)
            self.assertEqual(len(mail.outbox), 2)

    def test_an_attack_on_an_unknown_address_sends_nothing_and_looks_the_same(self):
        unknown = "nobody-here@example.org"
        attack_from_many_addresses(unknown, throttle.SLOW_AFTER + 5)
        self.assertEqual(mail.outbox, [])
        self.assertContains(attempt(Client(), unknown, PASSWORD, OWNER_ADDRESS), TOO_MANY)


class AdminLoginTest(PersonaTestCase):
    def test_the_admin_login_is_allauths_throttled_login(self):
        response = self.client.get("/admin/login/?next=/admin/")
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith(LOGIN))
        for _ in range(5):
            attempt(self.client, self.coordinator.email, "wrong guess", ATTACKER_ADDRESS)
        self.assertContains(
            attempt(self.client, self.coordinator.email, PASSWORD, ATTACKER_ADDRESS), TOO_MANY
        )
