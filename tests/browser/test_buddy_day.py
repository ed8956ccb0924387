"""Issue 12 on a phone: Today and Coming up, the help banner updating by itself, "I'm safe
now", and a buddy changing a meeting's time."""

from datetime import datetime, time, timedelta

from django.utils import timezone
from playwright.sync_api import expect

from buddyscheme.models import Role
from meetings import services
from meetings.models import Alert, Meeting, OnCallShift, SafetyEvent

from ..factories import MembershipFactory, SchemeFactory, book_meeting, cleared_buddy, venue
from .conftest import log_in, screenshot, serious_accessibility_problems


def scheme_with_cover():
    """A scheme whose on-call rota covers the next ten days, so any hour can be booked."""
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    on_call = MembershipFactory(
        scheme=scheme,
        role=Role.COORDINATOR,
        is_on_call=True,
        user__first_name="Ruth",
        user__last_name="Okafor",
        user__email="ruth@example.org",
    )
    now = timezone.now()
    OnCallShift.objects.create(
        scheme=scheme,
        responder=on_call,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=10),
    )
    return scheme, on_call


def in_two_days_at(hour, scheme):
    day = timezone.localtime(timezone.now(), scheme.zone).date() + timedelta(days=2)
    return timezone.make_aware(datetime.combine(day, time(hour)), scheme.zone)


def test_help_banner_updates_by_itself_then_i_am_safe_now(open_phone):
    scheme, on_call = scheme_with_cover()
    buddy = cleared_buddy(scheme, email="walker@example.org")
    now = timezone.now()
    meeting = book_meeting(buddy, now + timedelta(minutes=5), now=now)
    room = venue(scheme, name="Room 2", kind="in_house", key_holder=on_call.user)
    book_meeting(buddy, in_two_days_at(14, scheme), now=now, place=room)

    page = open_phone()
    log_in(page, "walker@example.org")
    expect(page.get_by_role("heading", name="Coming up")).to_be_visible()
    expect(page.locator("#coming-up").locator("..")).to_contain_text("Keys: Ruth")
    assert serious_accessibility_problems(page) == []
    screenshot(page, "today-and-coming-up")

    page.get_by_role("link", name="I need help").click()
    page.get_by_role("button", name="Yes, send for help").click()
    # The request sent the messages itself, so the page names who has them.
    expect(page.get_by_text("Sent to Ruth at")).to_be_visible()
    expect(page.get_by_text("someone will call you")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "help-banner-sent")

    page.get_by_role("link", name="Back to today").click()
    banner = page.locator("#help-status")
    expect(banner).to_contain_text("Sent to Ruth at")
    # A responder acknowledges on the board: the open page shows it without a reload.
    alert = Alert.objects.get(meeting=meeting, reason="help")
    services.alert_acknowledge(alert=alert, by=on_call.user)
    seen_at = timezone.localtime(Alert.objects.get(pk=alert.pk).acknowledged_at, scheme.zone)
    expect(banner).to_contain_text(f"Ruth has seen it {seen_at:%H:%M}", timeout=12_000)
    expect(banner).not_to_contain_text("Okafor")
    assert serious_accessibility_problems(page) == []
    screenshot(page, "help-banner-seen")

    page.get_by_role("button", name="I'm safe now").click()
    expect(page.get_by_text("We have told the team you are safe")).to_be_visible()
    expect(page.locator("#help-status")).to_contain_text("You told us you are safe at")
    expect(page.get_by_role("button", name="I'm safe now")).to_have_count(0)
    assert serious_accessibility_problems(page) == []
    screenshot(page, "help-banner-safe")
    assert SafetyEvent.objects.filter(meeting=meeting, kind="safe").count() == 1
    assert Alert.objects.get(pk=alert.pk).resolved_at is None  # a responder closes it


def test_a_buddy_changes_a_meeting_time_on_the_phone(open_phone):
    scheme, _ = scheme_with_cover()
    buddy = cleared_buddy(scheme, email="mover@example.org")
    start = in_two_days_at(14, scheme)
    meeting = book_meeting(buddy, start, now=timezone.now())

    page = open_phone()
    log_in(page, "mover@example.org")
    page.get_by_role("link", name="Change or cancel").click()
    expect(page.get_by_role("heading", name="Change this meeting")).to_be_visible()
    expect(page.get_by_label("From")).to_have_value("14:00")
    page.get_by_label("From").fill("15:30")
    page.get_by_label("Until").fill("16:30")
    assert serious_accessibility_problems(page) == []
    screenshot(page, "change-meeting")
    page.get_by_role("button", name="Save the change").click()
    expect(page.get_by_text("Meeting changed")).to_be_visible()
    expect(page.locator("#coming-up").locator("..")).to_contain_text("15:30–16:30")
    moved = Meeting.objects.get(pk=meeting.pk)
    assert moved.planned_start == start + timedelta(minutes=90)
    assert (moved.sequence, moved.cycle) == (1, meeting.cycle + 1)
