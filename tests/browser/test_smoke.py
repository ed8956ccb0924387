"""Each role logs in through the real forms at phone size; axe-core finds no serious or critical
accessibility problem (nor a script or CSP error) on the pages they land on."""

import re

from playwright.sync_api import expect

from buddyscheme.models import Role

from ..factories import MembershipFactory, SchemeFactory, enrol_totp
from .conftest import log_in, screenshot, serious_accessibility_problems


def test_buddy_logs_in_and_today_and_my_details_pass_axe(open_phone):
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    MembershipFactory(scheme=scheme, role=Role.BUDDY, user__email="buddy@example.org")
    phone = open_phone()
    phone.goto("/accounts/login/")
    assert serious_accessibility_problems(phone) == []
    screenshot(phone, "phone-login")
    log_in(phone, "buddy@example.org")
    phone.wait_for_url("**/today/")
    expect(phone.get_by_role("heading", level=1, name="Today")).to_be_visible()
    assert serious_accessibility_problems(phone) == []
    screenshot(phone, "phone-buddy-today")
    phone.goto("/profile/")
    expect(phone.get_by_role("heading", level=1, name="My details")).to_be_visible()
    assert serious_accessibility_problems(phone) == []
    screenshot(phone, "phone-buddy-my-details")


def test_participant_logs_in_to_their_home(open_phone):
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    MembershipFactory(
        scheme=scheme,
        role=Role.PARTICIPANT,
        user__email="participant@example.org",
        user__first_name="Pat",
    )
    phone = open_phone()
    log_in(phone, "participant@example.org")
    phone.wait_for_url("**/me/")
    expect(phone.get_by_role("heading", level=1, name="Hello Pat")).to_be_visible()
    assert serious_accessibility_problems(phone) == []
    screenshot(phone, "phone-participant-home")


def test_coordinator_enters_authenticator_code_and_reaches_dashboard(open_phone, settings):
    settings.COORDINATOR_MFA_REQUIRED = True
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    coordinator = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__email="coordinator@example.org"
    )
    secret = enrol_totp(coordinator.user)
    phone = open_phone()
    log_in(phone, "coordinator@example.org", totp_secret=secret)
    phone.wait_for_url("**/coordinator/")
    expect(phone.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()
    assert serious_accessibility_problems(phone) == []
    screenshot(phone, "phone-coordinator-dashboard")


def test_menu_collapses_behind_a_toggler_on_a_phone(open_phone):
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    MembershipFactory(scheme=scheme, role=Role.BUDDY, user__email="buddy@example.org")
    phone = open_phone()
    log_in(phone, "buddy@example.org")
    phone.wait_for_url("**/today/")
    nav = phone.get_by_role("navigation", name="Main")
    toggler = nav.get_by_role("button", name="Menu")
    link = nav.get_by_role("link", name="My details")
    expect(toggler).to_have_attribute("aria-expanded", "false")
    expect(link).to_be_hidden()
    toggler.click()
    expect(link).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    # Bootstrap adds .show once the opening animation has finished.
    expect(phone.locator("#main-nav")).to_have_class(re.compile(r"\bshow\b"))
    link.click()
    phone.wait_for_url("**/profile/")
