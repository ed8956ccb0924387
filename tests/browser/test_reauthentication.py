"""A coordinator proves it is still them with their authenticator app before a sensitive step.

allauth asks again when the last sign-in is older than its re-authentication window (5 min):
the clock is moved past it (time-machine moves the live server's clock too, same process).
"""

import datetime as dt
import time

import time_machine
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from playwright.sync_api import expect

from buddyscheme.models import Role

from ..factories import MembershipFactory, SchemeFactory, enrol_totp
from .conftest import log_in, screenshot, serious_accessibility_problems

LAPTOP = {"viewport": {"width": 1366, "height": 900}}


def _code(secret):
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_coordinator_reauthenticates_with_an_authenticator_code(open_phone, settings):
    settings.COORDINATOR_MFA_REQUIRED = True
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    coordinator = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__email="coordinator@example.org"
    )
    secret = enrol_totp(coordinator.user)
    laptop = open_phone(LAPTOP)
    with time_machine.travel(dt.datetime.now(dt.UTC), tick=True) as clock:
        log_in(laptop, "coordinator@example.org", totp_secret=secret)
        laptop.wait_for_url("**/coordinator/")
        clock.shift(dt.timedelta(minutes=10))

        laptop.goto("/accounts/2fa/recovery-codes/generate/")
        laptop.wait_for_url("**/reauthenticate/**")
        # Password or the authenticator app; a code sent by email is not offered.
        expect(laptop.get_by_text("email", exact=False)).to_have_count(0)
        screenshot(laptop, "laptop-coordinator-reauthenticate-password")
        laptop.get_by_role("link", name="Use authenticator app or code").click()
        laptop.wait_for_url("**/2fa/reauthenticate/**")
        assert serious_accessibility_problems(laptop) == []
        screenshot(laptop, "laptop-coordinator-reauthenticate-totp")

        laptop.fill("input[name=code]", "000000" if _code(secret) != "000000" else "111111")
        laptop.get_by_role("button", name="Confirm").click()
        expect(laptop.locator(".error-summary").get_by_text("Incorrect code")).to_be_visible()

        clock.shift(dt.timedelta(seconds=30))  # a fresh code, never the one used to sign in
        laptop.fill("input[name=code]", _code(secret))
        laptop.get_by_role("button", name="Confirm").click()
        laptop.wait_for_url("**/2fa/recovery-codes/generate/")
        expect(laptop.get_by_role("button", name="Generate")).to_be_visible()
        screenshot(laptop, "laptop-coordinator-after-reauthenticate")
