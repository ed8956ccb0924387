"""Issue 16 on a phone: a buddy writes to the coordinators through the scheme; a coordinator
replies (on a phone too); the buddy sees the reply, and that their message was read."""

from playwright.sync_api import expect

from buddyscheme.models import Role
from messaging.models import Message

from ..factories import MembershipFactory, SchemeFactory, enrol_totp
from .conftest import log_in, screenshot, serious_accessibility_problems


def test_buddy_sends_coordinator_replies_buddy_sees_the_reply(open_phone):
    scheme = SchemeFactory(sender_name="Appointments")
    MembershipFactory(
        scheme=scheme, role=Role.BUDDY, user__email="sam@example.org", user__first_name="Sam"
    )
    coordinator = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__email="ruth@example.org"
    )
    secret = enrol_totp(coordinator.user)

    buddy_page = open_phone()
    log_in(buddy_page, "sam@example.org")
    buddy_page.goto("/messages/")
    buddy_page.get_by_role("link", name="Your coordinators").click()
    buddy_page.get_by_label("Your message").fill("Can we move Thursday's visit to Friday?")
    buddy_page.get_by_role("button", name="Send").click()
    expect(buddy_page.get_by_text("Sent. You will see the reply here.")).to_be_visible()
    expect(buddy_page.get_by_text("Not read yet")).to_be_visible()
    assert Message.objects.count() == 1
    assert serious_accessibility_problems(buddy_page) == []

    coordinator_page = open_phone()
    log_in(coordinator_page, "ruth@example.org", totp_secret=secret)
    coordinator_page.goto("/coordinator/")
    coordinator_page.get_by_role("link", name="1 unread message").click()
    coordinator_page.get_by_role("link", name="Sam").click()
    expect(coordinator_page.get_by_text("Can we move Thursday's visit to Friday?")).to_be_visible()
    coordinator_page.get_by_label("Your reply").fill("Friday is fine, same time.")
    coordinator_page.get_by_role("button", name="Send reply").click()
    expect(coordinator_page.get_by_text("Friday is fine, same time.")).to_be_visible()
    screenshot(coordinator_page, "messages-coordinator-375")

    buddy_page.goto("/today/")
    expect(buddy_page.get_by_text("1 new message")).to_be_visible()
    buddy_page.get_by_role("link", name="Read your messages").click()
    buddy_page.get_by_role("link", name="Your coordinators").click()
    expect(buddy_page.get_by_text("Friday is fine, same time.")).to_be_visible()
    expect(buddy_page.get_by_text("Read ", exact=False).first).to_be_visible()
    width = buddy_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways at 375 px ({width} px wide)"
    assert serious_accessibility_problems(buddy_page) == []
    screenshot(buddy_page, "messages-buddy-375")
