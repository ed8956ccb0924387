"""Issue 12: on a phone, a duress check-out looks exactly like an ordinary one; the phone sends
its position with help or a duress check-out when the buddy allowed it, and help never waits
for it."""

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from buddyscheme.models import Role
from meetings import services
from meetings.models import Alert, AlertLocation, MeetingState, OnCallShift

from ..factories import MembershipFactory, SchemeFactory, book_meeting, cleared_buddy, venue
from .conftest import PHONE, log_in, screenshot, serious_accessibility_problems

CHECK_OUT_PIN_FIELD = re.compile(r"Your check-out PIN\W*$")
DURESS_PIN_FIELD = re.compile(r"Your danger PIN\W*$")
HERE = {"latitude": 51.507351, "longitude": -0.127758, "accuracy": 12}


def scheme_on_call():
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    on_call = MembershipFactory(scheme=scheme, role=Role.COORDINATOR, is_on_call=True)
    now = timezone.now()
    OnCallShift.objects.create(
        scheme=scheme,
        responder=on_call,
        starts_at=now - timedelta(hours=2),
        ends_at=now + timedelta(hours=4),
    )
    return scheme


def buddy_in_a_meeting(scheme, email, place, share_location=False):
    """A buddy with PINs, checked in to a meeting that started ten minutes ago."""
    buddy = cleared_buddy(scheme, email=email)
    buddy.user.first_name = "Sam"
    buddy.user.save()
    services.buddy_pins_set(membership=buddy, check_out_pin="2468", duress_pin="1357")
    services.location_sharing_set(membership=buddy, allowed=share_location)
    now = timezone.now().replace(second=0, microsecond=0)
    start = now - timedelta(minutes=10)
    meeting = book_meeting(buddy, start, place=place, now=start - timedelta(minutes=5))
    services.meeting_check_in(meeting=meeting, key=f"in-{email}", by=None, now=start)
    return meeting


def check_out(page, pin):
    page.goto("/today/")
    page.get_by_label("Your PIN").fill(pin)
    page.get_by_role("button", name="I've left safely").click()
    expect(page.get_by_text("You have checked out safely")).to_be_visible(timeout=15_000)


def test_a_duress_check_out_looks_like_an_ordinary_one(open_phone):
    scheme = scheme_on_call()
    place = venue(scheme)
    ordinary = buddy_in_a_meeting(scheme, "ordinary@example.org", place, share_location=True)
    duress = buddy_in_a_meeting(scheme, "watched@example.org", place, share_location=True)
    phone_settings = {**PHONE, "geolocation": HERE, "permissions": ["geolocation"]}

    seen = {}
    for email, pin in (("ordinary@example.org", "2468"), ("watched@example.org", "1357")):
        page = open_phone(phone_settings)
        log_in(page, email)
        page.goto("/today/")
        if pin == "2468":
            assert serious_accessibility_problems(page) == []
            screenshot(page, "today-check-out-with-pin")
        check_out(page, pin)
        assert serious_accessibility_problems(page) == []
        screenshot(page, f"checked-out-{email.split('@')[0]}")
        # The settled screen: a transition caught half-way under load is not a difference.
        seen[pin] = (
            page.inner_text("main"),
            page.screenshot(full_page=True, animations="disabled"),
        )

    # Word for word and pixel for pixel the same screen.
    assert seen["1357"][0] == seen["2468"][0]
    assert seen["1357"][1] == seen["2468"][1]
    for meeting in (ordinary, duress):
        meeting.refresh_from_db()
        assert meeting.state == MeetingState.CHECKED_OUT
    assert not ordinary.alerts.exists()
    alert = Alert.objects.get(meeting=duress)
    assert (alert.level, alert.reason, alert.resolved_at) == (3, "duress", None)
    # The phone sent its position with both check-outs; only the duress one kept it.
    location = AlertLocation.objects.get()
    assert location.alert == alert
    assert (float(location.latitude), float(location.longitude)) == (51.507351, -0.127758)


def test_a_wrong_pin_says_so_on_the_phone(open_phone):
    scheme = scheme_on_call()
    meeting = buddy_in_a_meeting(scheme, "walker@example.org", venue(scheme))
    page = open_phone()
    log_in(page, "walker@example.org")
    page.goto("/today/")
    page.get_by_label("Your PIN").fill("9999")
    page.get_by_role("button", name="I've left safely").click()
    expect(page.get_by_role("alert")).to_contain_text("That PIN is not right")
    assert serious_accessibility_problems(page) == []
    screenshot(page, "today-wrong-pin")
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.CHECKED_IN


def test_help_sends_the_position_when_allowed(open_phone):
    scheme = scheme_on_call()
    meeting = buddy_in_a_meeting(scheme, "walker@example.org", venue(scheme), share_location=True)
    page = open_phone({**PHONE, "geolocation": HERE, "permissions": ["geolocation"]})
    log_in(page, "walker@example.org")
    page.goto(f"/meetings/{meeting.pk}/help/")
    expect(page.get_by_text("Your phone will also send where it is.")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "help-confirm-with-location")
    page.get_by_role("button", name="Yes, send for help").click()
    expect(page.get_by_text("We have told the on-call team")).to_be_visible(timeout=15_000)
    location = AlertLocation.objects.get()
    assert location.alert.reason == "help"
    assert location.accuracy_metres == 12


def test_help_goes_without_a_position_when_the_phone_gives_none(open_phone):
    """No permission for location: help is sent all the same, within seconds."""
    scheme = scheme_on_call()
    meeting = buddy_in_a_meeting(scheme, "walker@example.org", venue(scheme), share_location=True)
    page = open_phone()
    log_in(page, "walker@example.org")
    page.goto(f"/meetings/{meeting.pk}/help/")
    page.get_by_role("button", name="Yes, send for help").click()
    expect(page.get_by_text("We have told the on-call team")).to_be_visible(timeout=10_000)
    assert meeting.alerts.get().reason == "help"
    assert not AlertLocation.objects.exists()


def test_the_safety_page_on_a_phone(open_phone):
    scheme = scheme_on_call()
    cleared_buddy(scheme, email="walker@example.org")
    # No colour transitions: axe must not catch the button half-way to its hover colours.
    page = open_phone(
        {**PHONE, "geolocation": HERE, "permissions": ["geolocation"], "reduced_motion": "reduce"}
    )
    log_in(page, "walker@example.org")
    page.goto("/profile/")
    page.get_by_role("link", name="My check-out PIN and sharing where I am").click()
    page.get_by_label(CHECK_OUT_PIN_FIELD).fill("2468")
    page.get_by_label("Type your check-out PIN again").fill("2468")
    page.get_by_label(DURESS_PIN_FIELD).fill("2468")
    page.get_by_label("Type your danger PIN again").fill("2468")
    page.get_by_role("button", name="Save my PINs").click()
    summary = page.locator(".error-summary")
    expect(summary.get_by_text("must be different from your check-out PIN")).to_be_visible()
    assert page.get_by_label(CHECK_OUT_PIN_FIELD).input_value() == ""
    assert serious_accessibility_problems(page) == []
    screenshot(page, "safety-pin-error")
    page.get_by_label(CHECK_OUT_PIN_FIELD).fill("2468")
    page.get_by_label("Type your check-out PIN again").fill("2468")
    page.get_by_label(DURESS_PIN_FIELD).fill("1357")
    page.get_by_label("Type your danger PIN again").fill("1357")
    page.get_by_role("button", name="Save my PINs").click()
    expect(page.get_by_text("Your PINs are saved.")).to_be_visible()
    page.get_by_label("Send where my phone is").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Your phone will send where it is")).to_be_visible()
    page.get_by_role("button", name="Check my phone allows it").click()
    expect(page.get_by_text("Yes: your phone allows it.")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "safety-page")
    assert not AlertLocation.objects.exists()  # the check sends nothing
