"""Issue 15 on a phone: someone refers themselves through the scheme's public form, without an
account: one question first, then the form; a missing answer is explained and what was typed
stays; the coordinator then finds the referral waiting."""

from playwright.sync_api import expect

from buddyscheme.models import Referral, ReferralSource, Role

from ..factories import MembershipFactory, SchemeFactory, menu
from .conftest import screenshot, serious_accessibility_problems


def test_a_self_referral_on_a_phone(open_phone):
    scheme = SchemeFactory(name="Positive Steps", sender_name="PS Appointments")
    MembershipFactory(scheme=scheme, role=Role.COORDINATOR, user__email="coord@example.org")
    menu(scheme, "Company", "Shopping")

    page = open_phone()
    page.goto(f"/s/{scheme.slug}/refer/")
    expect(page.get_by_role("heading", name="Ask for a buddy")).to_be_visible()
    expect(page.get_by_role("link", name="Leave quickly")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "referral-who-375")
    page.get_by_label("I am referring myself").check()
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_label("Your name")).to_be_visible()
    expect(page.get_by_text("Your organisation")).to_have_count(0)
    page.get_by_label("Your name").fill("Alex Morgan")
    page.get_by_label("Your phone").fill("07700 900789")
    page.get_by_label("Text message").check()
    page.get_by_label("Company").check()
    page.get_by_label("Soon (within two weeks)").check()
    page.get_by_label("I agree to the scheme contacting me about this").check()
    # "Is it safe to leave you a message?" left unanswered.
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".error-summary")).to_contain_text("Say whether we may leave a message.")
    expect(page.get_by_label("Your name")).to_have_value("Alex Morgan")
    assert serious_accessibility_problems(page) == []
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the form is {width}px wide on a 375px phone"
    screenshot(page, "referral-form-375")

    page.locator("input[name=safe_to_leave_messages][value=no]").check()
    page.get_by_label("I agree to the scheme contacting me about this").check()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    screenshot(page, "referral-thanks-375")

    referral = Referral.objects.get()
    assert referral.source == ReferralSource.SELF
    assert referral.person_name == "Alex Morgan"
    assert referral.needs == ["Company"]
    assert referral.safe_to_leave_messages is False
