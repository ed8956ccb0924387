"""Issue 13 item 6 on a phone: the database does not answer for a moment as the buddy checks
out; the page says the press did not count and presses again by itself, once it can."""

from datetime import timedelta

from django.db import OperationalError
from django.utils import timezone
from playwright.sync_api import expect

from meetings import views
from meetings.models import Meeting, MeetingState, SafetyEvent

from ..factories import book_meeting, cleared_buddy
from .conftest import log_in, screenshot, serious_accessibility_problems
from .test_buddy_day import scheme_with_cover


def test_a_check_out_that_met_a_database_blip_is_pressed_again_by_itself(open_phone, monkeypatch):
    scheme, _ = scheme_with_cover()
    buddy = cleared_buddy(scheme, email="walker@example.org")
    now = timezone.now()
    meeting = book_meeting(buddy, now + timedelta(minutes=5), now=now)
    real_service, done = views.ACTIONS["check-out"]
    calls = []

    def blip_twice(**kwargs):
        calls.append(1)
        if len(calls) <= 2:
            raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")
        return real_service(**kwargs)

    monkeypatch.setitem(views.ACTIONS, "check-out", (blip_twice, done))

    page = open_phone()
    log_in(page, "walker@example.org")
    page.get_by_role("button", name="I've arrived").click()
    page.get_by_role("button", name="I've left safely").click()
    expect(
        page.get_by_role("heading", name="We could not save that — please press again")
    ).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Trying again by itself in")
    assert serious_accessibility_problems(page) == []
    screenshot(page, "press-again")
    # The first automatic press meets the blip again; the second counts.
    expect(page.get_by_text("Thank you. You have checked out safely.")).to_be_visible(
        timeout=20_000
    )
    assert len(calls) == 3
    assert Meeting.objects.get(pk=meeting.pk).state == MeetingState.CHECKED_OUT
    assert SafetyEvent.objects.filter(meeting=meeting, kind="check_out").count() == 1
