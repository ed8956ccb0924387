"""Issue 22, phone realism: the buddy's safety buttons with no signal.

Playwright's offline mode cuts the page's network as a phone losing signal does. The presses
are kept by the page's own script (static/js/offline-queue.js), so what is tested here is what
the buddy's phone does. The server's clock moves with time-machine in this process (the live
server runs here); the browser's clock is the real one, so the phone's time is real time.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from buddyscheme.models import Role
from meetings import services
from meetings.models import Alert, MeetingState, OnCallShift, SafetyEvent

from ..factories import MembershipFactory, SchemeFactory, book_meeting, cleared_buddy, enrol_totp
from .conftest import log_in, screenshot, serious_accessibility_problems

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

PHONE_390 = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
SMALL_PHONE = {**PHONE_390, "viewport": {"width": 375, "height": 740}}


def _scheme_with_cover():
    scheme = SchemeFactory(
        name="Scheme A", sender_name="Appointments", emergency_phone="020 7946 0000"
    )
    coordinator = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, is_on_call=True, user__email="c@example.org"
    )
    now = timezone.now()
    OnCallShift.objects.create(
        scheme=scheme,
        responder=coordinator,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=6),
    )
    return scheme, coordinator


def _buddy_at_a_meeting():
    """A buddy (walker@example.org) whose 45-minute meeting began five minutes ago, with the
    team on call: (buddy, meeting, now)."""
    scheme, _coordinator = _scheme_with_cover()
    buddy = cleared_buddy(scheme, email="walker@example.org")
    now = timezone.now()
    meeting = book_meeting(
        buddy, now - timedelta(minutes=5), minutes=45, now=now - timedelta(hours=1)
    )
    return buddy, meeting, now


def _kept_urls(page):
    return page.evaluate(
        """async () => {
            const urls = [];
            for (const name of await caches.keys()) {
                const cache = await caches.open(name);
                for (const request of await cache.keys()) urls.push(new URL(request.url).pathname);
            }
            return urls;
        }"""
    )


def _wait_until_today_is_kept(page):
    for _ in range(50):
        if page.evaluate("""async () => Boolean(await caches.match("/today/"))"""):
            return
        page.wait_for_timeout(200)
    raise AssertionError("Today was not kept for reading offline")


def test_check_out_with_no_signal_is_kept_and_sent_when_the_signal_returns(open_phone):
    buddy, meeting, now = _buddy_at_a_meeting()

    phone = open_phone(PHONE_390)
    log_in(phone, "walker@example.org")
    phone.get_by_role("button", name="I've arrived").click()
    expect(phone.get_by_text("Remember to tap")).to_be_visible()

    phone.context.set_offline(True)
    pressed = datetime.now(UTC)
    phone.get_by_role("button", name="I've left safely").click()
    expect(
        phone.get_by_text("Saved on your phone — will send when you have signal")
    ).to_be_visible()
    expect(phone.locator("#press-queue")).to_contain_text("Your check-out, pressed at")
    assert serious_accessibility_problems(phone) == []
    screenshot(phone, "offline-saved-on-your-phone")
    assert not SafetyEvent.objects.filter(meeting=meeting, kind="check_out").exists()

    # An hour with no signal: the meeting's end and its grace pass; the sweep raises the alert.
    later = now + timedelta(minutes=60)
    with time_machine.travel(later, tick=True):
        services.sweep()
        assert Alert.objects.filter(meeting=meeting, resolved_at__isnull=True).exists()
        phone.context.set_offline(False)  # the "online" event sends the queue
        expect(phone.locator("#press-queue")).to_be_hidden(timeout=40_000)
        phone.wait_for_load_state()
        events = list(SafetyEvent.objects.filter(meeting=meeting, kind="check_out"))
        assert len(events) == 1
        event = events[0]
        assert abs(event.device_at - pressed) < timedelta(seconds=5)
        assert event.at >= later
        assert event.sent_late
        meeting.refresh_from_db()
        assert meeting.state == MeetingState.CHECKED_OUT
        assert meeting.checked_out_at == event.device_at
        assert not Alert.objects.filter(meeting=meeting, resolved_at__isnull=True).exists()
    assert phone.problems == []


def test_help_with_no_signal_says_to_call_999_or_the_team_and_sends_later(open_phone):
    buddy, meeting, now = _buddy_at_a_meeting()
    services.meeting_check_in(meeting=meeting, key="in", by=buddy.user, now=now)

    phone = open_phone(SMALL_PHONE)
    log_in(phone, "walker@example.org")
    phone.goto("/today/")
    phone.context.set_offline(True)
    phone.get_by_role("link", name="I need help").click()
    panel = phone.locator("#no-signal-help")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("link", name="Call 999")).to_have_attribute("href", "tel:999")
    expect(panel.get_by_role("link", name="Call the team on 020 7946 0000")).to_have_attribute(
        "href", "tel:02079460000"
    )
    box = panel.get_by_role("link", name="Call 999").bounding_box()
    assert box and box["height"] >= 44
    assert serious_accessibility_problems(phone) == []
    screenshot(phone, "offline-help-no-signal")
    assert not Alert.objects.filter(meeting=meeting, reason="help").exists()

    phone.context.set_offline(False)
    expect(phone.locator("#press-queue")).to_be_hidden(timeout=40_000)
    phone.wait_for_load_state()
    alert = Alert.objects.get(meeting=meeting, reason="help")
    assert alert.level == 3
    assert SafetyEvent.objects.get(meeting=meeting, kind="help").device_at is not None


def test_today_can_be_read_with_no_signal_and_signing_out_forgets_it(open_phone):
    scheme, coordinator = _scheme_with_cover()
    secret = enrol_totp(coordinator.user)
    buddy = cleared_buddy(scheme, email="walker@example.org")
    now = timezone.now()
    book_meeting(buddy, now + timedelta(minutes=5), minutes=45, now=now - timedelta(hours=1))

    phone = open_phone(SMALL_PHONE)
    log_in(phone, "walker@example.org")
    phone.goto("/today/")
    _wait_until_today_is_kept(phone)
    phone.context.set_offline(True)
    phone.goto("/today/")
    expect(
        phone.get_by_text("You are offline — this is your last saved Today page")
    ).to_be_visible()
    expect(phone.get_by_role("heading", name="Today")).to_be_visible()
    screenshot(phone, "offline-today")
    phone.context.set_offline(False)

    # Signing out on this phone forgets the kept page; a coordinator's pages are never kept.
    phone.goto("/today/")
    phone.get_by_role("button", name="Menu").click()
    phone.get_by_role("button", name="Log out").click()
    phone.wait_for_load_state()
    assert [url for url in _kept_urls(phone) if not url.startswith("/static/")] == []
    log_in(phone, "c@example.org", totp_secret=secret)
    for url in ("/coordinator/board/", "/today/", "/coordinator/"):
        phone.goto(url)
    phone.wait_for_timeout(500)
    assert [url for url in _kept_urls(phone) if not url.startswith("/static/")] == []
