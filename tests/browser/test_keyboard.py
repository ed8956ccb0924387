"""Issue 22: check-in and check-out on Today, and signing an agreement (participant and
buddy), done with the keyboard alone (Tab, Shift-Tab, Enter, Space; no clicks, no mouse).
Every control the Tab key lands on must show where the focus is: a computed outline or box
shadow. (Signing in is done as in the other browser tests; the keyboard-only part starts on
the page the person lands on.)"""

from datetime import timedelta

from django.utils import timezone

from buddyscheme.models import Role
from contracts import services as contract_services
from contracts.models import Signature
from matching.models import Match, MatchState

from ..factories import (
    MembershipFactory,
    SchemeFactory,
    book_meeting,
    cleared_buddy,
    waiting_participant,
)
from .conftest import log_in, screenshot, serious_accessibility_problems
from .test_accessibility import PHONE_390
from .test_buddy_day import scheme_with_cover

FOCUSED = """
() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow && style.boxShadow !== 'none';
  const name = (el.innerText || el.value || el.getAttribute('aria-label') || el.name || '').trim();
  return {
    tag: el.tagName.toLowerCase(), type: el.getAttribute('type') || '', name: name.slice(0, 40),
    indicator: Boolean(outline || shadow),
  };
}
"""


class Keyboard:
    """Tabs through a page, noting every focused control that shows no focus indicator."""

    def __init__(self, page):
        self.page = page
        self.unmarked = []
        self.visited = 0

    def tab_to(self, matches, backwards=False, most=120):
        for _ in range(most):
            self.page.keyboard.press("Shift+Tab" if backwards else "Tab")
            self.page.wait_for_timeout(30)  # Bootstrap's 0.15 s shadow transition has started
            focused = self.page.evaluate(FOCUSED)
            if focused["tag"] == "body":
                continue
            self.visited += 1
            if not focused["indicator"]:
                self.unmarked.append(f"{self.page.url}: {focused}")
            if matches(focused):
                return focused
        raise AssertionError(f"Tab never reached the control on {self.page.url}")

    def submit(self, key):
        """Press Enter or Space on the focused button and wait for the page it posts to."""
        with self.page.expect_navigation():
            self.page.keyboard.press(key)


def named(text):
    return lambda focused: text in focused["name"]


def test_check_in_and_check_out_with_the_keyboard_alone(open_phone):
    scheme, _ = scheme_with_cover()
    buddy = cleared_buddy(scheme, email="walker@example.org")
    now = timezone.now()
    meeting = book_meeting(buddy, now + timedelta(minutes=5), now=now)
    page = open_phone(PHONE_390)
    log_in(page, "walker@example.org")
    page.goto("/today/")
    keyboard = Keyboard(page)

    keyboard.tab_to(named("I've arrived"))
    keyboard.submit("Enter")
    meeting.refresh_from_db()
    assert meeting.state == "checked_in"
    assert serious_accessibility_problems(page) == []
    screenshot(page, "a11y-keyboard-checked-in-390")

    keyboard.tab_to(named("I've left safely"))
    keyboard.submit("Space")
    meeting.refresh_from_db()
    assert meeting.state == "checked_out"
    assert keyboard.visited > 5
    assert keyboard.unmarked == [], "\n".join(keyboard.unmarked)


def _agreement(scheme=None):
    scheme = scheme or SchemeFactory(name="Scheme A", sender_name="Appointments")
    MembershipFactory(scheme=scheme, role=Role.COORDINATOR)
    participant = waiting_participant(scheme, email="signer@example.org")
    participant.user.first_name, participant.user.last_name = "Grace", "Obi"
    participant.user.save()
    buddy = cleared_buddy(scheme, email="amara@example.org")
    buddy.user.first_name, buddy.user.last_name = "Amara", "Nwosu"
    buddy.user.save()
    match = Match.objects.create(
        scheme=scheme, participant=participant, buddy=buddy, state=MatchState.ACCEPTED
    )
    return contract_services.contract_generate(match=match, by=None)


def _sign_with_the_keyboard(page, name):
    keyboard = Keyboard(page)
    # The form's order: "I have read the whole agreement", "I agree", then the name.
    keyboard.tab_to(lambda focused: focused["type"] == "checkbox")
    page.keyboard.press("Space")
    keyboard.tab_to(lambda focused: focused["type"] == "checkbox")
    page.keyboard.press("Space")
    # Back up one and forward again: Shift-Tab works and the ticks stay.
    keyboard.tab_to(lambda focused: focused["type"] == "checkbox", backwards=True)
    keyboard.tab_to(lambda focused: focused["type"] == "checkbox")
    keyboard.tab_to(lambda focused: focused["tag"] == "input" and focused["type"] == "text")
    page.keyboard.type(name)
    assert page.locator("input[type=checkbox]:checked").count() == 2
    keyboard.tab_to(named("Sign the agreement"))
    keyboard.submit("Enter")
    return keyboard


def test_participant_and_buddy_sign_with_the_keyboard_alone(open_phone):
    contract = _agreement()
    for email, name, party in (
        ("signer@example.org", "Grace O", "participant"),
        ("amara@example.org", "Amara N", "buddy"),
    ):
        page = open_phone(PHONE_390)
        log_in(page, email)
        page.goto(f"/contracts/{contract.pk}/")
        if party == "participant":
            screenshot(page, "a11y-agreement-signing-390")
        keyboard = _sign_with_the_keyboard(page, name)
        assert page.get_by_text("you have signed the agreement").is_visible()
        assert Signature.objects.filter(contract=contract, party=party, typed_name=name).exists()
        assert keyboard.unmarked == [], "\n".join(keyboard.unmarked)
        assert serious_accessibility_problems(page) == []


SIZES = {
    "320": {"viewport": {"width": 320, "height": 640}, "is_mobile": True, "has_touch": True},
    "375": {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True},
    "zoom200": {"viewport": {"width": 640, "height": 400}, "device_scale_factor": 2},
}


def test_today_signing_and_a_form_with_errors_at_320_375_and_200_percent(open_phone):
    """The states the URL-matrix walk does not reach (a meeting to check in to, one checked in,
    an agreement to sign, a form with errors): no sideways scrolling, no small targets, axe
    clean, and a screenshot of each under var/screenshots/a11y-*."""
    from .test_accessibility import sideways_scrolling, small_targets

    scheme, _ = scheme_with_cover()
    buddy = cleared_buddy(scheme, email="walker@example.org")
    now = timezone.now()
    book_meeting(buddy, now + timedelta(minutes=5), now=now)
    checked_in = book_meeting(buddy, now - timedelta(minutes=30), now=now - timedelta(hours=1))
    Meeting = type(checked_in)
    Meeting.objects.filter(pk=checked_in.pk).update(state="checked_in", checked_in_at=now)
    contract = _agreement(scheme)
    problems = []
    for size_name, size in SIZES.items():
        page = open_phone(size)
        log_in(page, "walker@example.org")
        page.goto("/today/")
        screenshot(page, f"a11y-today-{size_name}")
        problems += [f"today {size_name}: {p}" for p in sideways_scrolling(page)]
        page.goto("/expenses/new/")
        page.fill("input[name=amount]", "0")
        page.get_by_role("button", name="Send the claim").click()
        page.wait_for_load_state()
        screenshot(page, f"a11y-form-errors-{size_name}")
        problems += [f"form {size_name}: {p}" for p in sideways_scrolling(page)]
        signer = open_phone(size)
        log_in(signer, "signer@example.org")
        signer.goto(f"/contracts/{contract.pk}/")
        screenshot(signer, f"a11y-agreement-{size_name}")
        problems += [f"agreement {size_name}: {p}" for p in sideways_scrolling(signer)]
        if size_name == "375":
            for name, checked in (("today", page), ("agreement", signer)):
                problems += [f"{name}: {p}" for p in serious_accessibility_problems(checked)]
            page.goto("/today/")
            problems += [
                f"today: {p}" for p in small_targets(page) + serious_accessibility_problems(page)
            ]
            problems += [f"agreement: {p}" for p in small_targets(signer)]
    assert problems == [], "\n".join(problems)
