"""Log in at phone size as each role; every page axe checks has no serious problem."""

from buddyscheme.models import Role

from ..factories import MembershipFactory, SchemeFactory, enrol_totp
from .conftest import log_in, screenshot, serious_accessibility_problems


def test_a_buddy_logs_in_on_a_phone(open_phone):
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    MembershipFactory(scheme=scheme, role=Role.BUDDY, user__email="buddy@example.org")
    page = open_phone()
    page.goto("/accounts/login/")
    assert serious_accessibility_problems(page) == []
    screenshot(page, "login")
    log_in(page, "buddy@example.org")
    assert page.url.endswith("/today/")
    assert page.get_by_role("heading", name="Today").is_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "buddy-today")
    # The menu folds away on a phone and opens with its button.
    nav_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="My details")
    assert not nav_link.is_visible()
    page.get_by_role("button", name="Menu").click()
    nav_link.click()
    page.wait_for_url("**/profile/")
    assert serious_accessibility_problems(page) == []
    screenshot(page, "buddy-profile")


def test_a_participant_sees_their_home(open_phone):
    scheme = SchemeFactory(name="Scheme A")
    MembershipFactory(scheme=scheme, role=Role.PARTICIPANT, user__email="participant@example.org")
    page = open_phone()
    log_in(page, "participant@example.org")
    assert page.url.endswith("/me/")
    assert serious_accessibility_problems(page) == []
    screenshot(page, "participant-home")


def test_a_coordinator_signs_in_with_an_authenticator_code(open_phone):
    scheme = SchemeFactory(name="Scheme A")
    coordinator = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__email="coord@example.org"
    )
    secret = enrol_totp(coordinator.user)
    page = open_phone({"viewport": {"width": 1280, "height": 900}})
    log_in(page, "coord@example.org", totp_secret=secret)
    assert page.url.endswith("/coordinator/")
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "coordinator-dashboard")
