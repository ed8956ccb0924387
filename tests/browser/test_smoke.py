"""Smoke test in headless Chromium at phone size: each role logs in through the real forms, and
axe-core finds no serious or critical accessibility problem on the pages they land on.

Screenshots go to var/screenshots/phone-*.png for a human to look at.
"""

import re
import time
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect, sync_playwright

from buddyscheme.models import Role

from ..factories import PASSWORD, MembershipFactory, SchemeFactory, enrol_totp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {
    "viewport": {"width": 375, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
SCREENSHOTS = Path(__file__).resolve().parents[1] / "var" / "screenshots"


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium (never a downloaded one), started once for this module."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def phone(chromium, live_server, settings):
    """A fresh phone-sized page on the live server, with no cookies from other tests."""
    # The live server speaks plain HTTP; the production cookies are HTTPS-only.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    context = chromium.new_context(base_url=live_server.url, **PHONE)
    page = context.new_page()
    # Script errors, and anything the Content-Security-Policy blocked, fail the axe check too.
    page.problems = []

    def on_console(message):
        if "Content Security Policy" in message.text:
            page.problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: page.problems.append(f"script error: {error}"))
    yield page
    context.close()


def assert_no_serious_axe_violations(page):
    assert page.problems == [], f"on {page.url}"
    violations = [
        v for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")
    ]
    assert violations == [], f"axe on {page.url}:\n" + "\n".join(
        f"  {v['id']} ({v['impact']}): {v['help']} {v['helpUrl']}\n"
        f"    on {[node['target'] for node in v['nodes']][:5]}"
        for v in violations
    )


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"phone-{name}.png"), full_page=True)


def submit_login(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()


def current_totp_code(secret):
    # Don't compute a code a moment before it expires: it could be stale when it arrives.
    if 30 - time.time() % 30 < 2:
        time.sleep(2)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_buddy_logs_in_and_today_and_my_details_pass_axe(phone):
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    MembershipFactory(scheme=scheme, role=Role.BUDDY, user__email="buddy@example.org")

    phone.goto("/accounts/login/")
    assert_no_serious_axe_violations(phone)
    screenshot(phone, "login")

    submit_login(phone, "buddy@example.org")
    phone.wait_for_url("**/today/")
    expect(phone.get_by_role("heading", level=1, name="Today")).to_be_visible()
    assert_no_serious_axe_violations(phone)
    screenshot(phone, "buddy-today")

    phone.goto("/profile/")
    expect(phone.get_by_role("heading", level=1, name="My details")).to_be_visible()
    assert_no_serious_axe_violations(phone)
    screenshot(phone, "buddy-my-details")


def test_participant_logs_in_to_their_home(phone):
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    MembershipFactory(
        scheme=scheme,
        role=Role.PARTICIPANT,
        user__email="participant@example.org",
        user__first_name="Pat",
    )

    submit_login(phone, "participant@example.org")
    phone.wait_for_url("**/me/")
    expect(phone.get_by_role("heading", level=1, name="Hello Pat")).to_be_visible()
    assert_no_serious_axe_violations(phone)
    screenshot(phone, "participant-home")


def test_coordinator_enters_authenticator_code_and_reaches_dashboard(phone, settings):
    settings.COORDINATOR_MFA_REQUIRED = True
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    coordinator = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__email="coordinator@example.org"
    )
    secret = enrol_totp(coordinator.user)

    submit_login(phone, "coordinator@example.org")
    phone.wait_for_url("**/2fa/authenticate/")
    assert_no_serious_axe_violations(phone)
    screenshot(phone, "mfa-authenticate")
    phone.locator("input[name=code]").fill(current_totp_code(secret))
    phone.get_by_role("button", name="Sign In").click()

    phone.wait_for_url("**/coordinator/")
    expect(phone.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()
    assert_no_serious_axe_violations(phone)
    screenshot(phone, "coordinator-dashboard")


def test_menu_collapses_behind_a_toggler_on_a_phone(phone):
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    MembershipFactory(scheme=scheme, role=Role.BUDDY, user__email="buddy@example.org")
    submit_login(phone, "buddy@example.org")
    phone.wait_for_url("**/today/")

    nav = phone.get_by_role("navigation", name="Main")
    toggler = nav.get_by_role("button", name="Menu")
    link = nav.get_by_role("link", name="My details")
    expect(toggler).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "false")
    expect(link).to_be_hidden()

    toggler.click()
    expect(link).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    # Bootstrap adds .show once the opening animation has finished.
    expect(phone.locator("#main-nav")).to_have_class(re.compile(r"\bshow\b"))
    screenshot(phone, "menu-open")
    link.click()
    phone.wait_for_url("**/profile/")
