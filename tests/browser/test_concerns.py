"""Issue 16 on a phone (375 px): a buddy raises "I'm worried about someone" from Today (a name in
the words is caught and changed), and a coordinator takes it from the top of the dashboard.
Then the coordinator's support pages at 1,366 px and the buddy's diary and support pages."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from buddyscheme.models import Concern, ConcernStatus, Notification, Role
from buddyscheme.vetting import buddy_support_person_set
from matching.models import Match
from meetings import services as meeting_services
from meetings.models import OnCallShift

from ..factories import MembershipFactory, SchemeFactory, cleared_buddy, enrol_totp, venue
from .conftest import log_in, screenshot, serious_accessibility_problems

LAPTOP = {"viewport": {"width": 1366, "height": 900}}


def scheme_with_people():
    scheme = SchemeFactory(
        name="Scheme A", sender_name="Appointments", emergency_phone="020 7946 0000"
    )
    coordinator = MembershipFactory(
        scheme=scheme,
        role=Role.COORDINATOR,
        user__email="cora@example.org",
        user__first_name="Cora",
    )
    secret = enrol_totp(coordinator.user)
    buddy = cleared_buddy(scheme, email="sam@example.org")
    buddy.user.first_name = "Sam"
    buddy.user.save(update_fields=["first_name"])
    buddy_support_person_set(buddy=buddy, support_person=coordinator, by=None)
    participant = MembershipFactory(
        scheme=scheme, role=Role.PARTICIPANT, user__first_name="Grace", user__last_name="Obi"
    )
    Match.objects.create(scheme=scheme, buddy=buddy, participant=participant, state="active")
    return coordinator, secret, buddy


def test_a_concern_raised_from_today_is_taken_from_the_dashboard(open_phone):
    coordinator, secret, buddy = scheme_with_people()

    phone = open_phone()
    log_in(phone, "sam@example.org")
    expect(phone.get_by_role("heading", name="Today")).to_be_visible()
    screenshot(phone, "concern-1-today")
    phone.get_by_role("link", name="I'm worried about someone").click()
    expect(phone.get_by_role("heading", name="I'm worried about someone")).to_be_visible()
    phone.get_by_label("Grace").check()
    phone.get_by_label("What is worrying you?").fill("Grace said someone at home takes her money.")
    phone.get_by_label("I would like a one-to-one").check()
    phone.get_by_role("button", name="Tell the team now").click()
    # The name is caught: nothing is sent, the words are kept to correct.
    expect(phone.locator("mark", has_text="Grace").first).to_be_visible()
    expect(phone.get_by_label("What is worrying you?")).to_have_value(
        "Grace said someone at home takes her money."
    )
    assert not Concern.objects.exists()
    assert serious_accessibility_problems(phone) == []
    screenshot(phone, "concern-2-name-caught")
    phone.get_by_label("What is worrying you?").fill("G. said someone at home takes her money.")
    phone.get_by_role("button", name="Tell the team now").click()
    expect(phone.get_by_text("The team has been told now.")).to_be_visible()
    expect(phone.get_by_role("heading", name="What happens next")).to_be_visible()
    assert serious_accessibility_problems(phone) == []
    screenshot(phone, "concern-3-told")
    concern = Concern.objects.get()
    assert Notification.objects.filter(template="concern_raised").exists()

    staff = open_phone()
    log_in(staff, "cora@example.org", totp_secret=secret)
    expect(
        staff.get_by_role("heading", name="1 concern waiting for someone to take it")
    ).to_be_visible()
    expect(staff.get_by_text("asks for a one-to-one")).to_be_visible()
    assert serious_accessibility_problems(staff) == []
    screenshot(staff, "concern-4-dashboard-phone")
    staff.get_by_role("button", name="Take it").click()
    expect(staff.get_by_text("It is yours")).to_be_visible()
    expect(staff.get_by_text("G. said someone at home takes her money.")).to_be_visible()
    assert serious_accessibility_problems(staff) == []
    screenshot(staff, "concern-5-taken-phone")
    concern.refresh_from_db()
    assert (concern.status, concern.owner) == (ConcernStatus.TAKEN, coordinator)

    phone.reload()
    expect(phone.get_by_text("Cora is looking after this")).to_be_visible()

    # The same pages on a laptop (the same sign-in: a TOTP code works once), with a referral.
    laptop = staff
    laptop.set_viewport_size(LAPTOP["viewport"])
    laptop.goto(f"/coordinator/concerns/{concern.pk}/")
    laptop.get_by_label("Agency referred to").fill("Adult safeguarding team")
    laptop.get_by_role("button", name="Record referral").click()
    expect(laptop.get_by_text("Referral recorded.")).to_be_visible()
    assert serious_accessibility_problems(laptop) == []
    screenshot(laptop, "concern-6-laptop")
    laptop.get_by_role("link", name="Book a one-to-one").click()
    expect(laptop.get_by_role("heading", name="Book a one-to-one with Sam")).to_be_visible()
    assert serious_accessibility_problems(laptop) == []
    screenshot(laptop, "supervision-book-laptop")
    laptop.goto(f"/coordinator/people/{buddy.pk}/support/")
    assert serious_accessibility_problems(laptop) == []
    screenshot(laptop, "buddy-support-laptop")


def test_the_buddys_diary_and_support_pages_on_a_phone(open_phone):
    coordinator, secret, buddy = scheme_with_people()
    now = timezone.now()
    OnCallShift.objects.create(
        scheme=buddy.scheme, responder=coordinator, starts_at=now, ends_at=now + timedelta(days=5)
    )
    start = now.replace(microsecond=0) + timedelta(days=2)
    meeting_services.supervision_arrange(
        buddy=buddy,
        mode="in_person",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        venue=venue(buddy.scheme, name="Our office"),
        by=coordinator.user,
    )
    phone = open_phone()
    log_in(phone, "sam@example.org")
    # A face-to-face one-to-one is on Today like any meeting, but only staff move it.
    coming = phone.locator(".coming-up-card")
    expect(coming).to_contain_text("One-to-one with your support person")
    expect(coming).to_contain_text("Our office")
    expect(coming.get_by_role("link", name="Change or cancel")).to_have_count(0)
    screenshot(phone, "today-with-a-one-to-one")
    phone.goto("/support/")
    expect(phone.get_by_role("heading", name="My support", exact=True)).to_be_visible()
    assert serious_accessibility_problems(phone) == []
    screenshot(phone, "my-support-phone")
    phone.get_by_role("link", name="My reflective diary").click()
    phone.get_by_role("link", name="Write an entry").click()
    phone.get_by_label("Today's entry").fill("Felt out of my depth when money came up.")
    phone.get_by_role("button", name="Save (only I can read it)").click()
    expect(phone.get_by_text("Private: only you can read it.")).to_be_visible()
    phone.get_by_role("button", name="Share with Cora").click()
    expect(phone.get_by_text("Shared with Cora, and nobody else.")).to_be_visible()
    assert serious_accessibility_problems(phone) == []
    screenshot(phone, "diary-entry-phone")
