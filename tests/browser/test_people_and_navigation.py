"""Issue 14 points 2, 11 and 12 in a real browser: the coordinator's navigation on a laptop,
the people list and the person page on a laptop and a phone."""

from playwright.sync_api import expect

from buddyscheme.models import Role
from buddyscheme.vetting import participant_enrol

from ..factories import MembershipFactory, SchemeFactory, enrol_totp, waiting_participant
from .conftest import log_in, screenshot, serious_accessibility_problems

LAPTOP = {"viewport": {"width": 1280, "height": 800}}


def _scheme():
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    coordinator = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__email="coordinator@example.org"
    )
    secret = enrol_totp(coordinator.user)
    for number in (10, 2, 1):
        member = waiting_participant(scheme, email=f"participant{number}@example.org")
        member.user.first_name = f"Member{number}"
        member.user.save(update_fields=["first_name"])
    return scheme, coordinator, secret


def test_the_navigation_fits_one_line_and_opens_by_keyboard(open_phone):
    _scheme_row, _coordinator, secret = _scheme()
    laptop = open_phone(LAPTOP)
    missing = []
    laptop.on("response", lambda response: response.status == 404 and missing.append(response.url))
    log_in(laptop, "coordinator@example.org", totp_secret=secret)
    laptop.goto("/coordinator/")
    tops = laptop.eval_on_selector_all(
        "#main-nav > ul > li", "items => items.map(item => item.getBoundingClientRect().top)"
    )
    assert len(tops) == 7 and len(set(tops)) == 1, tops  # six groups and the account menu
    people = laptop.get_by_role("button", name="People")
    people.focus()
    laptop.keyboard.press("Enter")
    expect(laptop.get_by_role("link", name="Invitations", exact=True)).to_be_visible()
    laptop.keyboard.press("ArrowDown")
    laptop.keyboard.press("ArrowDown")
    laptop.keyboard.press("Enter")
    laptop.wait_for_url("**/coordinator/invitations/")
    assert missing == []  # the favicon is found: no page asks for a missing file
    assert serious_accessibility_problems(laptop) == []


def test_the_people_list_and_a_record(open_phone):
    scheme, coordinator, secret = _scheme()
    grace = MembershipFactory(scheme=scheme, role=Role.PARTICIPANT, user__first_name="Grace")
    participant_enrol(
        membership=grace,
        by=coordinator.user,
        referral_source="clinic",
        answers={},
        consent_to_hold_data=True,
    )
    laptop = open_phone({"viewport": {"width": 1366, "height": 900}})
    log_in(laptop, "coordinator@example.org", totp_secret=secret)
    laptop.goto("/coordinator/people/?min_days=99999999999999999999")
    expect(laptop.get_by_text("Give a number of days from 0 to 3650.")).to_be_visible()
    laptop.get_by_label("Days waiting").fill("")
    laptop.get_by_label("Name or email").fill("member")
    laptop.get_by_role("button", name="Show").click()
    rows = laptop.locator("tbody tr td:first-child a")
    expect(rows).to_have_count(3)
    assert rows.all_inner_texts() == ["Member1", "Member2", "Member10"]
    assert serious_accessibility_problems(laptop) == []
    screenshot(laptop, "laptop-people-list")

    laptop.goto(f"/coordinator/people/{grace.pk}/")
    expect(laptop.get_by_label("They agree to us holding their information")).to_be_checked()
    expect(laptop.get_by_role("link", name="Find a buddy")).to_be_visible()
    laptop.get_by_label("New note").fill("Grace rang about Tuesday")
    laptop.get_by_role("button", name="Save note").click()
    # The initials-only guard shows the name highlighted and keeps the note to correct.
    expect(laptop.locator("mark", has_text="Grace")).to_be_visible()
    expect(laptop.get_by_text("Check before you send: this may identify someone")).to_be_visible()
    expect(laptop.get_by_label("New note")).to_be_focused()
    laptop.get_by_label("New note").fill("G. rang about the Tuesday group")
    laptop.get_by_role("button", name="Save note").click()
    expect(laptop.get_by_text("Note saved.")).to_be_visible()
    expect(laptop.get_by_text("G. rang about the Tuesday group")).to_be_visible()
    assert serious_accessibility_problems(laptop) == []
    screenshot(laptop, "laptop-person-record")

    # The same session at phone width (a second sign-in would reuse the one-time code).
    phone = laptop
    phone.set_viewport_size({"width": 375, "height": 740})
    phone.goto(f"/coordinator/people/{grace.pk}/")
    expect(phone.get_by_role("heading", name="Matches")).to_be_visible()
    assert serious_accessibility_problems(phone) == []
    screenshot(phone, "phone-person-record")
    phone.goto("/coordinator/people/")
    assert serious_accessibility_problems(phone) == []
    screenshot(phone, "phone-people-list")
