"""Issue 15 on a phone: someone finds the scheme's public page, applies to be a buddy (a
mistake is shown with what they typed kept), and a referee answers from the link in their
email. No account at any point."""

import re

from django.core import mail
from playwright.sync_api import expect

from buddyscheme.models import BuddyStage, Role
from buddyscheme.notifications import notifications_deliver
from recruitment import services
from recruitment.models import Application, Reference

from ..factories import MembershipFactory, SchemeFactory
from ..recruitment.helpers import publish_front_door
from .conftest import screenshot, serious_accessibility_problems


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_apply_on_a_phone_then_a_referee_answers(open_phone):
    scheme = SchemeFactory(name="North Buddies", sender_name="North")
    MembershipFactory(scheme=scheme, role=Role.COORDINATOR, user__email="lead@example.org")
    publish_front_door(scheme)

    page = open_phone()
    page.goto(f"/s/{scheme.slug}/")
    expect(page.get_by_role("heading", name="North Buddies", level=1)).to_be_visible()
    assert serious_accessibility_problems(page) == []
    assert fits_the_screen(page)
    screenshot(page, "front-door-375")

    page.get_by_role("link", name="Apply to be a buddy").click()
    expect(page.get_by_role("heading", name="Apply to be a buddy")).to_be_visible()
    page.get_by_label("First name").fill("Sam")
    page.get_by_label("Last name").fill("Okafor")
    page.locator("#id_email").fill("sam@example.org")
    page.get_by_label("Phone number").fill("07700 900123")
    page.get_by_label("What attracts you to being a buddy?").fill("I like listening.")
    page.get_by_label("When are you usually free?").fill("Tuesday evenings")
    page.get_by_label("How did you hear about us?").select_option("event")
    for number, (name, email) in enumerate(
        [("Ruth Mensah", "ruth@example.org"), ("Tom Reyes", "tom@example.org")], start=1
    ):
        page.locator(f"#id_referee{number}_name").fill(name)
        page.locator(f"#id_referee{number}_email").fill(email)
        page.locator(f"#id_referee{number}_relationship").fill("Manager")
        page.locator(f"#id_referee{number}_known_for").fill("3 years")
    assert serious_accessibility_problems(page) == []
    assert fits_the_screen(page)
    screenshot(page, "application-form-375")

    # Forgot to agree to the checks: told so, and nothing typed is lost.
    page.get_by_role("button", name="Send my application").click()
    expect(page.locator(".error-summary")).to_contain_text("Please agree to the checks")
    expect(page.get_by_label("What attracts you to being a buddy?")).to_have_value(
        "I like listening."
    )
    assert not Application.objects.exists()
    page.get_by_label(re.compile("I agree to the checks")).check()
    page.get_by_role("button", name="Send my application").click()
    expect(
        page.get_by_role("heading", name=re.compile("your application is with us"))
    ).to_be_visible()
    screenshot(page, "application-sent-375")

    application = Application.objects.get()
    assert application.membership.vetting.stage == BuddyStage.APPLIED
    services.references_request(membership=application.membership, by=None)
    notifications_deliver()
    to_ruth = next(message for message in mail.outbox if message.to == ["ruth@example.org"])
    link = re.search(r"https?://\S+(/reference/\S+/)", to_ruth.body).group(1)

    referee = open_phone()
    referee.goto(link)
    expect(referee.get_by_role("heading", name="A reference for Sam Okafor")).to_be_visible()
    referee.get_by_label("How do you know the applicant").fill("I managed Sam for 3 years.")
    referee.get_by_label("Yes", exact=True).check()
    referee.get_by_label("Why do you say so?").fill("Kind and steady.")
    referee.get_by_label("How reliable are they").fill("Very.")
    assert serious_accessibility_problems(referee) == []
    assert fits_the_screen(referee)
    screenshot(referee, "reference-form-375")
    referee.get_by_role("button", name="Send the reference").click()
    expect(
        referee.get_by_role("heading", name=re.compile("your reference has been sent"))
    ).to_be_visible()
    assert Reference.objects.get(referee_email="ruth@example.org").returned_at is not None
    # The same link again: a clear page, not a second reference.
    referee.goto(link)
    expect(referee.get_by_role("heading", name="This link cannot be used")).to_be_visible()
