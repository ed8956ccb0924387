"""Issue: check in, extend and check out on a phone; the coordinator's board shows an alert
appear without reloading and acknowledges it."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from buddyscheme.models import Role
from meetings import services
from meetings.models import Alert, MeetingState, OnCallShift

from ..factories import MembershipFactory, SchemeFactory, book_meeting, cleared_buddy, enrol_totp
from .conftest import log_in, screenshot, serious_accessibility_problems


def test_check_in_extend_and_check_out_on_a_phone(open_phone):
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    on_call = MembershipFactory(scheme=scheme, role=Role.COORDINATOR, is_on_call=True)
    now = timezone.now()
    # Whatever the hour the tests run at, someone is on call, so the booking is allowed.
    OnCallShift.objects.create(
        scheme=scheme,
        responder=on_call,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=4),
    )
    buddy = cleared_buddy(scheme, email="walker@example.org")
    meeting = book_meeting(buddy, now + timedelta(minutes=2), now=now)

    page = open_phone()
    log_in(page, "walker@example.org")
    page.get_by_role("button", name="I've arrived").click()
    expect(page.get_by_text("Remember to tap")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "today-checked-in")
    page.get_by_role("button", name="+15 min").click()
    expect(page.get_by_text("We now expect you to finish by")).to_be_visible()
    page.get_by_role("button", name="I've left safely").click()
    expect(page.get_by_text("You have checked out safely")).to_be_visible()
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.CHECKED_OUT
    assert meeting.extended_minutes == 15
    assert list(meeting.safety_events.values_list("kind", flat=True)) == [
        "check_in",
        "extend",
        "check_out",
    ]


def test_the_board_shows_a_new_alert_without_reloading_and_it_can_be_acknowledged(open_phone):
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    coordinator = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, is_on_call=True, user__email="c@example.org"
    )
    secret = enrol_totp(coordinator.user)
    now = timezone.now()
    # Out of office hours the booking needs cover until the last alert could escalate (the end,
    # the longest extension, grace and two rounds: 2h30 after the end, 2h from now).
    OnCallShift.objects.create(
        scheme=scheme,
        responder=coordinator,
        starts_at=now - timedelta(hours=3),
        # Until the last alert could escalate (the meeting's end, two hours of extension, grace
        # and two rounds): otherwise the booking is refused when the tests run out of hours.
        ends_at=now + timedelta(hours=3),
    )
    buddy = cleared_buddy(scheme)
    start = now - timedelta(minutes=90)
    meeting = book_meeting(buddy, start, minutes=60, now=start - timedelta(minutes=1))
    services.meeting_check_in(meeting=meeting, key="in", by=None, now=start)

    page = open_phone({"viewport": {"width": 1280, "height": 900}})
    log_in(page, "c@example.org", totp_secret=secret)
    page.goto("/coordinator/board/")
    expect(page.get_by_text("No open alerts.")).to_be_visible()
    services.sweep()  # what beat does every 30 s: the meeting is 30 minutes overdue
    # htmx refreshes the board every 10 s: the alert appears on the open page.
    expect(page.get_by_text("Level 1: Overdue check-out")).to_be_visible(timeout=15_000)
    assert serious_accessibility_problems(page) == []
    screenshot(page, "board-alert")
    page.get_by_role("button", name="Acknowledge").first.click()
    expect(page.get_by_text("escalation has stopped")).to_be_visible()
    assert Alert.objects.filter(acknowledged_by=coordinator.user).exists()


def test_a_buddy_booking_on_the_night_the_clocks_go_back_is_asked_which_time(open_phone):
    from datetime import UTC, datetime

    from meetings.models import Meeting

    from ..factories import venue

    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    on_call = MembershipFactory(scheme=scheme, role=Role.COORDINATOR, is_on_call=True)
    OnCallShift.objects.create(
        scheme=scheme,
        responder=on_call,
        starts_at=datetime(2027, 10, 30, 20, 0, tzinfo=UTC),
        ends_at=datetime(2027, 10, 31, 8, 0, tzinfo=UTC),
    )
    cleared_buddy(scheme, email="night@example.org")
    venue(scheme, name="Station café")
    page = open_phone()
    log_in(page, "night@example.org")
    page.goto("/meetings/new/")
    page.get_by_label("Where").select_option(label="Station café")
    page.get_by_label("Date").fill("2027-10-31")
    page.get_by_label("From").fill("01:30")
    page.get_by_label("Until").fill("02:30")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".error-summary")).to_contain_text(
        "happens twice because the clocks go back"
    )
    assert serious_accessibility_problems(page) == []
    screenshot(page, "phone-meeting-clock-question")
    # What was typed is kept; only the question is new.
    expect(page.get_by_label("From")).to_have_value("01:30")
    page.get_by_label("The second one (after the clocks go back)").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Meeting logged")).to_be_visible()
    meeting = Meeting.objects.get()
    assert meeting.planned_start == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)


def test_a_buddy_gets_a_calendar_address_on_a_phone(open_phone):
    from meetings.models import CalendarFeed

    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    buddy = cleared_buddy(scheme, email="walker@example.org")
    page = open_phone()
    log_in(page, "walker@example.org")
    page.get_by_text("Add my meetings to my phone's calendar").click()
    assert not CalendarFeed.objects.exists()  # looking at Today made nothing
    screenshot(page, "today-calendar-ask")
    page.get_by_role("button", name="Get my calendar address").click()
    expect(page.get_by_text("Your calendar address is ready")).to_be_visible()
    feed = CalendarFeed.objects.get(membership=buddy)
    # Back on Today with the calendar part open, showing the new address.
    expect(page.get_by_label("Calendar address")).to_be_visible()
    expect(page.get_by_label("Calendar address")).to_have_value(
        page.url.split("/today/")[0] + f"/calendar/{feed.token}.ics"
    )
    assert serious_accessibility_problems(page) == []
    screenshot(page, "today-calendar-address")
    page.get_by_role("button", name="Make a new address").click()
    expect(page.get_by_text("The old one no longer works")).to_be_visible()
    assert CalendarFeed.objects.get().token != feed.token
