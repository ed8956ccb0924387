"""Issue 22: a form with errors starts with "There is a problem", focused, each problem a link
that takes the keyboard to its field; what was typed is kept (templates/bootstrap5/errors.html).
Checked on a buddy's page (an expense claim) and a coordinator's (an invitation)."""

from buddyscheme.models import Role

from ..factories import PASSWORD, MembershipFactory, SchemeFactory, enrol_totp
from .conftest import log_in, screenshot, serious_accessibility_problems

LAPTOP = {"viewport": {"width": 1366, "height": 900}}


def focused(page):
    return page.evaluate("() => document.activeElement.id || document.activeElement.className")


def follow_summary_link(page, href):
    """Tab from the focused summary to its link for `href` and press Enter; the field's id."""
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.getAttribute('href')") == href:
            page.keyboard.press("Enter")
            page.wait_for_timeout(100)
            return focused(page)
    raise AssertionError(f"no link to {href} in the summary")


def test_a_buddy_s_expense_claim_with_errors(open_phone):
    scheme = SchemeFactory()
    buddy = MembershipFactory(scheme=scheme, role=Role.BUDDY)
    page = open_phone()
    log_in(page, buddy.user.email)
    page.goto("/expenses/new/")
    page.fill("input[name=amount]", "0")
    page.check("input[name=category][value=travel]")
    page.fill("[name=description]", "Bus fares, return")
    page.get_by_role("button", name="Send the claim").click()
    page.wait_for_load_state()

    summary = page.locator(".error-summary")
    assert summary.get_attribute("role") == "alert"
    assert summary.locator("h2").inner_text() == "There is a problem"
    assert focused(page) == summary.get_attribute("class")
    hrefs = summary.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert "#id_amount" in hrefs, hrefs
    # Kept: what was typed and chosen.
    assert page.input_value("[name=description]") == "Bus fares, return"
    assert page.input_value("input[name=amount]") == "0"
    assert page.is_checked("input[name=category][value=travel]")
    screenshot(page, "a11y-error-summary-buddy-375")
    assert serious_accessibility_problems(page) == []

    assert follow_summary_link(page, "#id_amount") == "id_amount"


def test_a_coordinator_s_invitation_with_errors(open_phone):
    scheme = SchemeFactory()
    coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR)
    secret = enrol_totp(coordinator.user)
    page = open_phone(LAPTOP)
    log_in(page, coordinator.user.email, totp_secret=secret)
    page.goto("/coordinator/invitations/")
    # Passes the browser's own check for an email address, not the server's (no dot).
    page.fill("input[name=email]", "ann@example")
    page.check("input[name=role][value=participant]")
    page.get_by_role("button", name="Send invitation").click()
    # An invitation grants a role: the password first, then the kept post is carried out.
    page.wait_for_url("**/reauthenticate/**")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state()

    summary = page.locator(".error-summary")
    assert "There is a problem" in summary.inner_text()
    assert focused(page) == summary.get_attribute("class")
    assert page.input_value("input[name=email]") == "ann@example"
    assert page.is_checked("input[name=role][value=participant]")
    assert serious_accessibility_problems(page) == []
    assert follow_summary_link(page, "#id_email") == "id_email"
