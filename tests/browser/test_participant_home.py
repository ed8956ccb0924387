"""Issue 14 point 8 (and 9's "Leave quickly"): a participant on a 375 px phone sees their
buddy and next meeting on Home, asks to rearrange it, says they want to stop, and can leave
the site in one tap."""

from datetime import datetime, time, timedelta

from django.utils import timezone
from playwright.sync_api import expect

from buddyscheme.models import Notification, Role
from matching import services as matching_services
from matching.models import MatchState, StopRequest
from meetings.models import RearrangeRequest

from ..factories import (
    MembershipFactory,
    SchemeFactory,
    book_meeting,
    cleared_buddy,
    sign_all,
    venue,
    waiting_participant,
)
from .conftest import log_in, screenshot, serious_accessibility_problems

WEATHER = "https://www.bbc.co.uk/weather"


def _next_weekday_at_ten(scheme):
    day = timezone.localdate(timezone.now(), scheme.zone) + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(10, 0), tzinfo=scheme.zone)


def _participant_with_a_buddy_and_a_meeting():
    scheme = SchemeFactory(name="Positive Living HIV Buddies", sender_name="Appointments")
    coordinator = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__first_name="Ruth", user__last_name="Morgan"
    )
    coordinator.user.profile.phone = "020 7946 0101"
    coordinator.user.profile.save()
    participant = waiting_participant(scheme, email="grace@example.org")
    buddy = cleared_buddy(scheme)
    buddy.user.first_name = "Amara"
    buddy.user.save()
    match = matching_services.match_create(
        participant=participant, buddy=buddy, by=coordinator.user, state=MatchState.PROPOSED
    )
    matching_services.match_accept(match=match, by_membership=participant)
    matching_services.match_accept(match=match, by_membership=buddy)
    matching_services.match_introduce(
        match=match, intro_at=timezone.now() - timedelta(days=7), by=None
    )
    sign_all(match)
    match = matching_services.match_activate(match=match, by=coordinator.user)
    start = _next_weekday_at_ten(scheme)
    meeting = book_meeting(
        buddy,
        start,
        place=venue(scheme, name="Café on the corner", area="Hackney"),
        match=match,
        now=timezone.now(),
    )
    return participant, meeting


def test_home_rearrange_and_stop_on_a_phone(open_phone):
    participant, meeting = _participant_with_a_buddy_and_a_meeting()
    page = open_phone()
    log_in(page, "grace@example.org")
    page.goto("/me/")
    expect(page.get_by_role("heading", name="My buddy")).to_be_visible()
    expect(page.get_by_text("Amara", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="My next meeting")).to_be_visible()
    local = timezone.localtime(meeting.planned_start, meeting.scheme.zone)
    expect(page.get_by_text(f"{local:%A} {local.day} {local:%B}, 10:00 to 11:00")).to_be_visible()
    expect(page.get_by_text("Café on the corner, Hackney")).to_be_visible()
    expect(page.get_by_role("heading", name="My coordinator")).to_be_visible()
    expect(page.get_by_role("link", name="Call 020 7946 0101")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "phone-participant-home")

    page.get_by_role("link", name="Ask to rearrange").click()
    expect(page.get_by_role("heading", name="Ask to rearrange")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    page.get_by_role("button", name="Yes, ask to rearrange").click()
    expect(page.get_by_text("We have told your coordinator.")).to_be_visible()
    expect(page.get_by_text("You asked to change this on")).to_be_visible()
    assert RearrangeRequest.objects.filter(meeting=meeting).count() == 1
    assert Notification.objects.filter(template="meeting_rearrange").exists()

    page.get_by_role("link", name="I want to stop").click()
    expect(page.get_by_text("You do not need to give a reason.")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "phone-participant-stop")
    page.get_by_role("button", name="Yes, I want to stop").click()
    expect(page.get_by_text("Thank you for telling us.")).to_be_visible()
    expect(page.get_by_text("that you want to stop")).to_be_visible()
    assert StopRequest.objects.filter(participant=participant).count() == 1
    assert Notification.objects.filter(template="participant_stop").exists()


def test_leave_quickly_replaces_the_page_by_tap_or_by_escape_twice(open_phone):
    participant, _ = _participant_with_a_buddy_and_a_meeting()
    page = open_phone()
    # The neutral site is never really fetched in a test.
    page.route(
        f"{WEATHER}**",
        lambda route: route.fulfill(body="<title>Weather</title><h1>Weather</h1>"),
    )
    log_in(page, "grace@example.org")
    page.goto("/me/")
    page.goto("/consents/")
    leave = page.get_by_role("link", name="Leave quickly")
    expect(leave).to_be_visible()
    # In the top bar, at a size a thumb can hit, covering nothing of the page.
    button, main = leave.bounding_box(), page.locator("main").bounding_box()
    assert button["height"] >= 44 and button["y"] + button["height"] <= main["y"]
    assert button["x"] + button["width"] <= 375
    history = page.evaluate("history.length")
    leave.click()
    page.wait_for_url(f"{WEATHER}**")
    # The page was replaced, not added to: Back goes to Home, never to the consents page.
    assert page.evaluate("history.length") == history
    page.go_back()
    page.wait_for_url("**/me/")

    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_url(f"{WEATHER}**")
