"""Issue 13 item 4 on a phone: the session has gone, and the safety buttons still work."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from meetings.models import Meeting, MeetingState, SafetyEvent

from ..factories import book_meeting, cleared_buddy
from .conftest import log_in, screenshot, serious_accessibility_problems
from .test_buddy_day import scheme_with_cover


def test_left_safely_after_the_session_has_gone(open_phone):
    scheme, _ = scheme_with_cover()
    buddy = cleared_buddy(scheme, email="walker@example.org")
    now = timezone.now()
    meeting = book_meeting(buddy, now + timedelta(minutes=5), now=now)

    page = open_phone()
    log_in(page, "walker@example.org")
    page.get_by_role("button", name="I've arrived").click()
    expect(page.get_by_role("button", name="I've left safely")).to_be_visible()

    # Idle too long (or signed out): the session is gone, the page is still on the phone.
    page.context.clear_cookies(name="sessionid")
    page.get_by_role("button", name="+15 min").click()
    expect(page.get_by_role("heading", name="You are still checked in")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "no-session-extended")

    page.get_by_role("button", name="I've left safely").click()
    expect(page.get_by_role("heading", name="You have checked out safely")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "no-session-checked-out")
    assert Meeting.objects.get(pk=meeting.pk).state == MeetingState.CHECKED_OUT
    assert SafetyEvent.objects.filter(meeting=meeting, kind="check_out").count() == 1
    assert SafetyEvent.objects.filter(meeting=meeting, kind="extend").count() == 1

    # Everything else still asks for a login.
    page.goto("/today/")
    expect(page).to_have_url(f"{page.url.split('/accounts/')[0]}/accounts/login/?next=/today/")
